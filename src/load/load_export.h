// Files a load run leaves behind for other tools: locust-compatible CSV files (--csv PREFIX) and
// a self-contained HTML report with charts (--html FILE). Both are written atomically.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "load/load_engine.h"
#include "load/load_report.h"

namespace netres::load {

// PREFIX_stats.csv, PREFIX_stats_history.csv and PREFIX_failures.csv with locust's columns.
// Throws RuntimeError when a file cannot be written.
void write_csv_files(const std::string& prefix, const RunDescription& run,
                     const LoadResult& result);

// Writes `data` to `path` atomically; a failure throws RuntimeError prefixed with `flag`.
void write_export_file(const std::string& flag, const std::string& path, std::string_view data);

// One HTML page that opens with no network: `results` (what --json prints) embedded as data,
// with charts of requests per second, latency percentiles and users over time.
void write_html_report(const std::string& path, const nlohmann::json& results);

struct LoadOutputs {
  bool json = false;  // one JSON object instead of the tables
  std::string csv;    // PREFIX for the CSV files, empty: none
  std::string html;   // the HTML report's path, empty: none
};

// Everything a load run (or `netres merge` of its shards) reports: the tables and verdicts, or
// the JSON object, on stdout; then `write_results` (the results file, may be empty), the CSV
// files and the HTML page, so a file that cannot be written loses nothing printed (exit 3).
// Returns the exit code: 1 when a threshold failed or, without thresholds, a request failed.
int report_load(const LoadOutputs& out, const RunDescription& run, const LoadResult& result,
                const std::vector<Threshold>& thresholds,
                const std::function<void()>& write_results);

}  // namespace netres::load
