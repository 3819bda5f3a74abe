// netres load: flags (a URL for quick mode, or a scenario file) -> LoadOptions -> LoadEngine ->
// locust-style tables or one JSON object, and the exit code from --fail-if thresholds (or,
// without any, from failed requests).
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/option_check.h"
#include "common/output.h"
#include "common/size.h"
#include "common/terminal.h"
#include "load/load_engine.h"
#include "load/load_export.h"
#include "load/load_report.h"
#include "load/load_setup.h"
#include "load/scenario.h"
#include "load/threshold.h"
#include "load/url.h"

namespace netres::cli {
namespace {

// Ctrl-C ends the sending early; the run still drains and reports (a second one kills).
std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);
}

struct LoadFlags {
  std::string url;
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
  // Scenario mode.
  unsigned users = 0;
  std::string spawn_rate;
  std::string run_time;
  std::string host;
  uint64_t seed = 0;
  // Flags given on the command line that belong to one mode only.
  std::vector<std::string> quick_given, scenario_given;
};

// The terminal's width, read at every redraw (it can be resized); 0 when unknown.
size_t stderr_columns() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}

// Timeouts, threads and thresholds: the same in both modes.
void common_options(const LoadFlags& f, load::LoadOptions& o) {
  o.threads = f.threads ? f.threads : std::max(1u, std::thread::hardware_concurrency());
  o.timeout = parse_duration(f.timeout, "--timeout");
  o.connect_timeout = parse_duration(f.connect_timeout, "--connect-timeout");
  require_above_zero(o.timeout, "--timeout");
  require_above_zero(o.connect_timeout, "--connect-timeout");
  o.drain = std::min<Nanos>(o.timeout, std::chrono::seconds(2));
  o.insecure = f.insecure;
}

int run_and_report(const LoadFlags& f, load::LoadOptions o, const load::RunDescription& run) {
  std::vector<load::Threshold> thresholds;
  for (const auto& t : f.fail_if) thresholds.push_back(load::parse_threshold(t));
  o.stop_requested = &g_interrupted;
  std::signal(SIGINT, on_interrupt);
  load::LoadEngine engine(std::move(o));
  Progress progress;
  const bool scenario = run.mode == "scenario";
  load::LoadResult result = engine.run([&](const load::SecondSample& s) {
    if (!progress.enabled()) return;
    progress.update(load::live_line(s, run.duration_s, scenario, stderr_columns()), true);
  });
  progress.clear();
  std::signal(SIGINT, SIG_DFL);
  if (result.interrupted) warn("load", "interrupted: results cover the time until Ctrl-C");

  auto verdicts = load::judge(thresholds, result);
  nlohmann::json results = load::to_json(run, result, verdicts);
  if (f.json) {
    NdjsonWriter(stdout).write(results);
  } else {
    load::print_tables(stdout, result, run.rate > 0);
    load::print_verdicts(stdout, verdicts);
  }
  std::fflush(stdout);
  // After the results are out, so a file that cannot be written loses nothing (exit 3).
  if (!f.csv.empty()) load::write_csv_files(f.csv, run, result);
  if (!f.html.empty()) load::write_html_report(f.html, results);
  if (!thresholds.empty()) {
    for (const auto& v : verdicts)
      if (v.failed) return kExitFailed;
    return kExitOk;
  }
  return result.stats.total().failures > 0 ? kExitFailed : kExitOk;
}

int run_quick(const LoadFlags& f) {
  if (!f.scenario_given.empty())
    throw UsageError(
        fmt::format("{} needs a scenario file (quick mode takes a URL)", f.scenario_given.front()));
  load::LoadOptions o;
  o.url = load::parse_url(f.url);
  load::check_method(f.method);
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& h : f.headers) headers.push_back(load::parse_header(h));
  require_at_least(f.connections, "-c", 1);
  require_at_least(f.pipeline, "--pipeline", 1);
  o.connections = f.connections;
  common_options(f, o);
  o.duration = parse_duration(f.duration, "--duration");
  require_above_zero(o.duration, "--duration");
  o.pipeline = f.pipeline;
  if (!f.rate.empty()) {
    o.rate = parse_rate(f.rate, "--rate");
    if (o.pipeline > 1) throw UsageError("--pipeline cannot be combined with --rate");
  }
  for (const auto& t : f.fail_if) load::parse_threshold(t);  // bad usage before any traffic

  load::set_quick_request(o, f.method, headers, load::read_body(f.body));

  load::RunDescription run{
      f.url,  f.method,  o.connections, std::min(o.threads, o.connections), to_seconds(o.duration),
      o.rate, o.pipeline};
  return run_and_report(f, std::move(o), run);
}

int run_scenario(const LoadFlags& f) {
  if (!f.quick_given.empty())
    throw UsageError(
        fmt::format("{} is for quick mode (a URL), not with a scenario", f.quick_given.front()));
  load::Scenario s = load::load_scenario_file(f.url);
  auto given = [&](std::string_view flag) {
    return std::find(f.scenario_given.begin(), f.scenario_given.end(), flag) !=
           f.scenario_given.end();
  };
  load::ScenarioOverrides ov;
  if (given("--host")) ov.host = f.host;
  if (given("--users")) ov.users = f.users;
  if (given("--spawn-rate")) ov.spawn_rate = f.spawn_rate;
  if (given("--run-time")) ov.run_time = f.run_time;
  if (given("--seed")) ov.seed = f.seed;
  load::apply_overrides(s, ov);
  for (const auto& t : f.fail_if) load::parse_threshold(t);

  load::LoadOptions o;
  o.url = *s.host;
  o.connections = s.peak_users();
  common_options(f, o);
  o.duration = s.effective_run_time();

  load::RunDescription run = load::describe_scenario_run(s, o, f.url);
  o.scenario = std::make_shared<const load::Scenario>(std::move(s));
  return run_and_report(f, std::move(o), run);
}

int run_load(const LoadFlags& f) {
  return load::is_scenario_argument(f.url) ? run_scenario(f) : run_quick(f);
}

}  // namespace

void add_load_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<LoadFlags>();
  auto* sub = app.add_subcommand(
      "load",
      "HTTP load test: a scenario file (locust-style users, tasks, wait times) or a URL "
      "(wrk-style quick mode, closed or open (--rate) model)");
  sub->add_option("target", flags->url, "http:// or https:// URL, or a scenario .yaml file")
      ->required();
  std::vector<CLI::Option*> quick_only;
  std::vector<CLI::Option*> scenario_only;
  quick_only.push_back(sub->add_option("-c,--connections", flags->connections,
                                       "Concurrent connections (default 10)"));
  sub->add_option("-t,--threads", flags->threads, "Event-loop threads (default: cores)");
  quick_only.push_back(
      sub->add_option("-d,--duration", flags->duration, "How long to send (default 10s)"));
  quick_only.push_back(sub->add_option("-m,--method", flags->method, "HTTP method (default GET)"));
  quick_only.push_back(
      sub->add_option("-H,--header", flags->headers, "Extra header 'Name: value' (repeatable)"));
  quick_only.push_back(sub->add_option("--body", flags->body,
                                       "Request body: TEXT, or @FILE to read it from a file"));
  sub->add_option("--timeout", flags->timeout, "Per-request timeout (default 5s)");
  sub->add_option("--connect-timeout", flags->connect_timeout,
                  "TCP connect + TLS handshake timeout (default 2s)");
  quick_only.push_back(sub->add_option("--pipeline", flags->pipeline,
                                       "Requests pipelined per round trip (default 1)"));
  quick_only.push_back(
      sub->add_option("--rate", flags->rate,
                      "Open model: total requests per second (e.g. 1000/s); latency counts from "
                      "when each request was due"));
  scenario_only.push_back(sub->add_option("--users", flags->users,
                                          "Scenario: virtual users in total (overrides users:)"));
  scenario_only.push_back(sub->add_option("--spawn-rate", flags->spawn_rate,
                                          "Scenario: users started per second (overrides)"));
  scenario_only.push_back(
      sub->add_option("--run-time", flags->run_time, "Scenario: how long to run (overrides)"));
  scenario_only.push_back(
      sub->add_option("--host", flags->host, "Scenario: where requests go (overrides host:)"));
  scenario_only.push_back(
      sub->add_option("--seed", flags->seed, "Scenario: seed of the users' random choices"));
  sub->add_flag("--insecure", flags->insecure, "Do not verify TLS certificates");
  sub->add_flag("--json", flags->json, "Print one JSON object with everything");
  sub->add_option("--csv", flags->csv,
                  "Write PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv "
                  "(locust's columns)");
  sub->add_option("--html", flags->html, "Write a self-contained HTML report with charts");
  sub->add_option("--fail-if", flags->fail_if,
                  "Exit 1 if a condition holds: p50/p90/p95/p99/p99.9/avg/max>DURATION, "
                  "rps<N, fail_ratio>X (repeatable)");
  sub->final_callback([flags, quick_only, scenario_only, &action] {
    for (auto* o : quick_only)
      if (o->count() > 0) flags->quick_given.push_back(o->get_name());
    for (auto* o : scenario_only)
      if (o->count() > 0) flags->scenario_given.push_back(o->get_name());
    action = [flags] { return run_load(*flags); };
  });
}

}  // namespace netres::cli
