// Files a load run leaves behind for other tools: locust-compatible CSV files (--csv PREFIX) and
// a self-contained HTML report with charts (--html FILE). Both are written atomically.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

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

}  // namespace netres::load
