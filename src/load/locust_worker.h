// netres load as a locust worker: joins a running `locust --master` over ZeroMQ (a DEALER with
// the node id as identity), runs the scenario's users as the master's spawn messages ask (absolute
// users per class), and reports locust-shaped stats every 3 s, so the master's web UI, its
// start/stop/ramp controls, its tables and its CSV drive and show netres users.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "load/load_engine.h"

namespace netres::load {

struct LocustWorkerOptions {
  std::string master_host = "127.0.0.1";
  uint16_t master_port = 5557;
  // The run's template: url, scenario (required), threads, timeouts, insecure; duration, control,
  // observer and stop_requested are set per run by the worker.
  LoadOptions load;
  // How long the master may be away (no answer to client_ready; disconnected; or silent after it
  // has sent heartbeats, as masters from locust 2.15 do) before the worker stops its users and
  // ends, as locust's own workers give up after 60 s.
  Nanos master_timeout = std::chrono::seconds(60);
  Nanos heartbeat_interval = std::chrono::seconds(1);  // locust's HEARTBEAT_INTERVAL
  Nanos report_interval = std::chrono::seconds(3);     // locust's WORKER_REPORT_INTERVAL
  std::string node_id;  // default: HOSTNAME_ and 32 random hex digits, as locust's workers
  // Polled: once true (Ctrl-C, SIGTERM), users stop, final stats go out and the worker says quit.
  const std::atomic<bool>* interrupted = nullptr;
  // --results FILE: after each run, the run's exact results (load_results.h's "data"; the job
  // is the scenario's with "mode": "locust-worker" and this worker's node id, so that netres
  // merge, which joins shards of one job, refuses to mix workers). Needs the scenario's path and
  // bytes.
  std::string results_path;
  std::string scenario_path, scenario_bytes;
  // One line for the operator (stderr): connection, spawn, stop, what was ignored.
  std::function<void(std::string_view)> log;
};

struct LocustWorkerRun {
  LoadResult result;
  std::map<std::string, unsigned> peak_users;  // per class: the most the master asked for
};

struct LocustWorkerOutcome {
  std::vector<LocustWorkerRun> runs;  // one per spawn..stop (or quit) of the master
  enum class End { kQuit, kInterrupted, kMasterLost } end = End::kQuit;
  std::string detail;  // why, for kMasterLost
};

// Runs until the master says quit, `interrupted`, or the master is lost. Throws RuntimeError when
// the master never answers client_ready within master_timeout.
LocustWorkerOutcome run_locust_worker(LocustWorkerOptions options);

// The worker's results on `out`: per run of the master, the tables (or with `json` one object a
// line, as a scenario run's with "mode": "locust-worker", "users" and "user_classes" the peak
// the master asked for).
void print_locust_worker_runs(std::FILE* out, const LocustWorkerOutcome& outcome, bool json);

// "HOST[:PORT]" (PORT default 5557; "[v6]:port" for IPv6). Throws UsageError.
void parse_locust_master(const std::string& text, LocustWorkerOptions& o);

}  // namespace netres::load
