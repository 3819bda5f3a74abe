// Results files of `netres load --results FILE` (the envelope of common/results_file.h) and
// their merge: N shards of one job merged give the tables, JSON, CSV and HTML one run of the
// whole job would have given, from exact histograms.
//
// The envelope's "data" (every latency histogram in HdrHistogram's lossless JSON form, H):
//   {"run": {...},                 the whole job as the reports describe it (RunDescription:
//                                  url, method, connections, threads, duration_s, rate,
//                                  pipeline, mode, scenario, host, users, spawn_rate,
//                                  user_classes [{name, weight, users}], stages
//                                  [{end_s, users, spawn_rate}]); threads are this run's own
//    "started_at_ns": N,           wall clock at the start, ns since the Unix epoch
//    "elapsed_ns": N,              the measured window
//    "interrupted": bool,          ended by Ctrl-C
//    "cancelled": N, "connects": N,
//    "stats": [{"method", "name", "requests", "failures", "body_bytes",
//               "latency": H, "service": H, "status_codes": {"200": n, ...}}],   per row
//    "failures": [{"method", "name", "reason", "count"}],
//    "history": [{"t", "users", "requests", "failures", "body_bytes", "latency": H}]}
// and its "job" (what the shards of one job share; merge refuses files that differ in it):
//   scenario: {"mode": "scenario", "scenario_sha256", "host", "users", "spawn_rate",
//              "run_time_ns", "seed", "stages", common}
//   quick:    {"mode": "quick", "url", "request_sha256" (method, headers, body: the request's
//              bytes), "connections", "duration_ns", "rate", "pipeline", common}
//   common:   "timeout_ns", "connect_timeout_ns", "insecure", "fail_if" [expressions]
// A locust worker's results (wt-locust) use the same "data".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/results_file.h"
#include "load/load_engine.h"
#include "load/load_report.h"

namespace netres::load {

inline constexpr const char* kLoadVerb = "load";

// Lowercase hex SHA-256 of `bytes` (the scenario file's digest in a job).
std::string sha256_hex(std::string_view bytes);

// The job of a prepared scenario run with `o` (connections = peak users) and `fail_if`;
// `file_bytes` are the scenario file's bytes.
nlohmann::json scenario_job(const Scenario& s, std::string_view file_bytes, const LoadOptions& o,
                            const std::vector<std::string>& fail_if);
// The job of a quick-mode run: `o` with its one request set (set_quick_request).
nlohmann::json quick_job(const LoadOptions& o, const std::string& url,
                         const std::vector<std::string>& fail_if);

nlohmann::json run_description_json(const RunDescription& run);
// Throws UsageError (one line) on a description no netres load wrote.
RunDescription run_description_from_json(const nlohmann::json& j);

// The "data" of a run: `whole` describes the job (with this run's threads), `result` must hold
// second_latencies (LoadOptions::keep_seconds).
nlohmann::json results_data(const RunDescription& whole, const LoadResult& result);

// A run read back from one results file's "data", history rows rebuilt through HistoryBuilder.
// Throws UsageError naming `where`.
struct LoadRun {
  RunDescription run;
  LoadResult result;
  std::vector<std::string> fail_if;
};

// Merges checked shards (check_mergeable) of one job: histograms, counts and failures summed
// exactly, history rows second by second (the shards started together, --start-at) and rebuilt
// as one run's, elapsed the longest, threads summed. Throws UsageError "FILE: ..." on data that
// no netres load wrote or rows that differ between shards.
LoadRun merge_load_results(const std::vector<ResultsFile>& files);

}  // namespace netres::load
