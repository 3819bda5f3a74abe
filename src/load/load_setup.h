// What the load verb decides before any traffic, kept out of the CLI so it is unit-tested: which
// mode a target means, the checks on -m and -H, and how a scenario run is described (its stages
// and each user class's share of the peak users, the same shares the engine assigns).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "load/load_engine.h"
#include "load/load_report.h"
#include "load/locust_worker.h"
#include "load/scenario.h"
#include "load/threshold.h"

namespace netres::load {

// A scenario: anything not http(s):// that names a .yaml/.yml or an existing regular file.
bool is_scenario_argument(const std::string& target);

// -m: upper-case letters only (an empty method passes, as before). Throws UsageError.
void check_method(const std::string& method);

// -H 'Name: value' -> {name, value without leading blanks}. Throws UsageError on a missing or
// leading colon, a line break anywhere, or a blank in the name.
std::pair<std::string, std::string> parse_header(const std::string& text);

// --body: TEXT as given, or @FILE's bytes. Throws UsageError when the file cannot be read.
std::string read_body(const std::string& flag);

// Quick mode's one request (`method` to o.url with `headers` and `body`), repeated by every
// connection: sets o.requests and o.make_user.
void set_quick_request(LoadOptions& o, const std::string& method,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& body);

// Scenario flags given on the command line (unset: not given), over the file's values.
struct ScenarioOverrides {
  std::optional<std::string> host{};  // --host: scheme, host and port only
  std::optional<unsigned> users{};
  std::optional<std::string> spawn_rate{};
  std::optional<std::string> run_time{};
  std::optional<uint64_t> seed{};
};

// Checks and applies `ov` to `s` (users and spawn rate not with stages), then prepare_scenario().
// Throws UsageError with the flag's name.
void apply_overrides(Scenario& s, const ScenarioOverrides& ov);

// How many of `users` each class of `s` gets, in class order: the counts of
// assign_user_classes(), so the report shows what the engine runs.
std::vector<RunDescription::UserClassShare> user_class_shares(const Scenario& s, unsigned users);

// The run description of a prepared scenario `s` run with options `o` (connections = peak users,
// threads and duration as the engine will use them); `path` is the scenario file as given.
RunDescription describe_scenario_run(const Scenario& s, const LoadOptions& o,
                                     const std::string& path);

// The load flags as given on the command line.
struct LoadFlags {
  std::string url;  // a URL (quick mode) or a scenario file
  unsigned connections = 10;
  unsigned threads = 0;
  std::string duration = "10s";
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string body;
  std::string timeout = "5s";
  std::string connect_timeout = "2s";
  unsigned pipeline = 1;
  std::string rate;
  bool insecure = false;
  bool json = false;
  std::string csv;   // PREFIX for locust-style CSV files
  std::string html;  // FILE for the HTML report
  std::vector<std::string> fail_if;
  std::string shard;     // K/N: this run's share of a job
  std::string start_at;  // wall-clock start, so the shards begin together
  std::string
      results;  // FILE for the results file `netres merge` reads (a locust worker: each run's)
  // Scenario mode.
  unsigned users = 0;
  std::string spawn_rate;
  std::string run_time;
  std::string host;
  uint64_t seed = 0;
  // A scenario run as a locust worker (--locust-master), or the master's locustfile written.
  std::string locust_master;
  std::string locust_timeout = "60s";
  std::string emit_locustfile;
  // Flags given on the command line that belong to one mode only, by name ("--users").
  std::vector<std::string> quick_given, scenario_given;
};

// A run as the flags describe it, checked before any traffic.
struct LoadPlan {
  LoadOptions options;
  RunDescription run;
  std::vector<Threshold> thresholds;  // --fail-if
  nlohmann::json job;  // what every shard of this job shares (load_results.h), for --results
};

// Quick mode for a URL, scenario mode for a scenario file (is_scenario_argument): a flag of the
// other mode, -m, -H, -c and --pipeline (at least 1), --pipeline with --rate, timeouts and the
// duration above zero and --fail-if are UsageErrors; the scenario file is read and the scenario
// flags applied over it. Threads default to `hardware_threads`; the drain time is the request
// timeout, at most 2 s.
LoadPlan plan_for(const LoadFlags& f, unsigned hardware_threads);

// --locust-master or --emit-locustfile given: the run is one of the two below.
bool is_locust_run(const LoadFlags& f);
// A worker of the master at --locust-master: the scenario with --host/--seed over it, threads
// (not capped by the file's users: the master decides those), timeouts, --locust-timeout. The
// master's flags (--users, --spawn-rate, --run-time, --fail-if, --csv, --html), quick mode's
// and a URL are UsageErrors. Leaves `interrupted` and `log` to the caller.
LocustWorkerOptions locust_worker_plan(const LoadFlags& f, unsigned hardware_threads);
// The text of --emit-locustfile for the scenario (same checks).
std::string locustfile_for(const LoadFlags& f);

// --start-at TIME: RFC 3339 (2026-12-06T09:00:00Z, fractions and +HH:MM offsets allowed) or
// Unix seconds (1796547600, fractions allowed), as a wall-clock time for the shards of a job to
// start together. Refused (UsageError) when unreadable, more than kStartAtPast before `now`
// (a shard started late would run out of step) or more than kStartAtAhead after it.
inline constexpr auto kStartAtPast = std::chrono::seconds(5);
inline constexpr auto kStartAtAhead = std::chrono::hours(24);
std::chrono::system_clock::time_point parse_start_at(const std::string& text,
                                                     std::chrono::system_clock::time_point now);

// What shard o.shard runs of the job `whole` describes, as its own reports say it: its
// connections and its part of the rate (rate x its connections / the job's: the shards' rates
// sum to the job's), or its users of each class (shard_users). `o` as for the engine: the whole
// job's connections (peak users) and, in a scenario, o.scenario set.
RunDescription describe_share(const RunDescription& whole, const LoadOptions& o);

// One line per thing the shard leaves to others ("shard 1/4 runs none of the scenario's 1
// users: nothing to send", "shard 2/3 runs no users of class idler (its 1 user is another
// shard's)"), for stderr. Empty for a shard with some of everything, or an unsharded run.
std::vector<std::string> share_warnings(const RunDescription& whole, const RunDescription& share,
                                        const Shard& shard);

}  // namespace netres::load
