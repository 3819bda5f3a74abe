// netres load: flags (a URL for quick mode, or a scenario file) -> LoadOptions -> LoadEngine ->
// locust-style tables or one JSON object, and the exit code from --fail-if thresholds (or,
// without any, from failed requests).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/output.h"
#include "common/results_file.h"
#include "common/shard.h"
#include "common/terminal.h"
#include "load/load_engine.h"
#include "load/load_export.h"
#include "load/load_report.h"
#include "load/load_results.h"
#include "load/load_setup.h"

namespace netres::cli {
namespace {

// Ctrl-C ends the sending early; the run still drains and reports (a second one kills).
std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);
}

// A locust worker: the master's spawn, stop and quit drive the users; Ctrl-C or SIGTERM leave.
int run_locust_worker(const load::LoadFlags& f) {
  load::LocustWorkerOptions w = load::locust_worker_plan(f, std::thread::hardware_concurrency());
  w.interrupted = &g_interrupted;
  w.log = [](std::string_view line) { warn("load", line); };
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  load::LocustWorkerOutcome out = load::run_locust_worker(std::move(w));
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  load::print_locust_worker_runs(stdout, out, f.json);
  if (out.end != load::LocustWorkerOutcome::End::kMasterLost) return kExitOk;
  warn("load", "locust: master lost: " + out.detail);
  return kExitFailed;
}

int run_load(const load::LoadFlags& f) {
  if (!f.emit_locustfile.empty() && f.locust_master.empty()) {
    write_file_atomically(f.emit_locustfile, load::locustfile_for(f));
    return kExitOk;
  }
  if (load::is_locust_run(f)) return run_locust_worker(f);
  load::LoadPlan plan = load::plan_for(f, std::thread::hardware_concurrency());
  // plan.run describes the whole job; this run's reports describe its share (--shard).
  const load::RunDescription run = load::describe_share(plan.run, plan.options);
  const Shard shard = plan.options.shard;
  for (const auto& line : load::share_warnings(plan.run, run, shard)) warn("load", line);
  plan.options.stop_requested = &g_interrupted;
  std::signal(SIGINT, on_interrupt);
  load::LoadEngine engine(std::move(plan.options));
  Progress progress;
  const bool scenario = run.mode == "scenario";
  load::LoadResult result = engine.run([&](const load::SecondSample& s) {
    if (!progress.enabled()) return;
    progress.update(load::live_line(s, run.duration_s, scenario, stderr_columns()), true);
  });
  progress.clear();
  std::signal(SIGINT, SIG_DFL);
  if (result.interrupted) warn("load", "interrupted: results cover the time until Ctrl-C");

  auto write_results = [&] {
    if (f.results.empty()) return;
    load::RunDescription whole = plan.run;
    whole.threads = run.threads;  // the merge adds the shards' threads
    write_results_file(f.results, ResultsFile{load::kLoadVerb, shard, plan.job,
                                              load::results_data(whole, result), ""});
  };
  return load::report_load({f.json, f.csv, f.html}, run, result, plan.thresholds, write_results);
}

}  // namespace

void add_load_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<load::LoadFlags>();
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
  sub->add_option("--shard", flags->shard,
                  "Run share K of N of the job (K/N): connections, rate, users of each class");
  sub->add_option("--start-at", flags->start_at,
                  "Start at this wall-clock time (RFC 3339 or Unix seconds), so shards begin "
                  "together");
  sub->add_option("--results", flags->results,
                  "Write the exact results (histograms) to FILE for netres merge");
  sub->add_option("--fail-if", flags->fail_if,
                  "Exit 1 if a condition holds: p50/p90/p95/p99/p99.9/avg/max>DURATION, "
                  "rps<N, fail_ratio>X (repeatable)");
  sub->add_option("--locust-master", flags->locust_master,
                  "Scenario: run as a worker of the locust master at HOST[:PORT] (default port "
                  "5557); the master's spawn, stop and quit drive the users");
  sub->add_option("--locust-timeout", flags->locust_timeout,
                  "How long the locust master may be unreachable before the worker stops its "
                  "users and exits (default 60s)");
  sub->add_option("--emit-locustfile", flags->emit_locustfile,
                  "Scenario: write FILE, a locustfile for the master (user classes and weights, "
                  "and the merge of netres's exact histograms), and exit");
  sub->final_callback([flags, quick_only, scenario_only, &action] {
    for (auto* o : quick_only)
      if (o->count() > 0) flags->quick_given.push_back(o->get_name());
    for (auto* o : scenario_only)
      if (o->count() > 0) flags->scenario_given.push_back(o->get_name());
    action = [flags] { return run_load(*flags); };
  });
}

}  // namespace netres::cli
