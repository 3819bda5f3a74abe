// Locust-compatible CSV files (--csv PREFIX). They follow locust 2.x's StatsCSV (columns, row
// order, "N/A" percentiles, ints where locust writes ints) so that scripts and dashboards made for
// locust's --csv read ours.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "load/load_export.h"

namespace netres::load {
namespace {

using Row = std::vector<std::string>;

// RFC 4180 (and Python's csv.writer with QUOTE_MINIMAL, which locust uses): quote a field only
// when it holds a comma, a quote or a line break; double the quotes inside.
void append_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_row(std::string& out, const Row& row) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) out += ',';
    append_field(out, row[i]);
  }
  out += "\r\n";  // csv.writer's line terminator
}

// A float as Python's str() writes it (shortest round trip, always with a dot or exponent),
// so that readers that tell locust's ints from its floats see the same types.
std::string py_float(double v) {
  if (!std::isfinite(v)) v = 0;
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

// Locust keeps response times in whole milliseconds for its percentiles and median.
std::string ms_int(double ms) { return std::to_string(std::llround(ms)); }
double us_to_ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

Row percentile_headers() {
  Row r;
  for (double p : kLocustPercentiles) r.push_back(fmt::format("{:g}%", p));
  return r;
}

Row concat(Row a, const Row& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Row& stats_header() {
  static const Row header =
      concat({"Type", "Name", "Request Count", "Failure Count", "Median Response Time",
              "Average Response Time", "Min Response Time", "Max Response Time",
              "Average Content Size", "Requests/s", "Failures/s"},
             percentile_headers());
  return header;
}

const Row& history_header() {
  static const Row header =
      concat(concat({"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"},
                    percentile_headers()),
             {"Total Request Count", "Total Failure Count", "Total Median Response Time",
              "Total Average Response Time", "Total Min Response Time", "Total Max Response Time",
              "Total Average Content Size"});
  return header;
}

const Row& failures_header() {
  static const Row header = {"Method", "Name", "Error", "Occurrences"};
  return header;
}

Row not_available() { return Row(kLocustPercentiles.size(), "N/A"); }

// One _stats.csv row. Where locust has nothing to report (no response time measured) it writes
// int 0 for min/max/median/size, 0.0 for the average and "N/A" for the percentiles.
Row stats_row(const std::string& type, const RequestStats& s, double seconds) {
  const HdrHistogram& h = s.latency;
  const bool timed = h.count() > 0;
  Row r = {type,
           s.name,
           std::to_string(s.requests),
           std::to_string(s.failures),
           timed ? ms_int(us_to_ms(h.value_at_percentile(50))) : "0",
           py_float(h.mean() / 1000.0),
           timed ? py_float(us_to_ms(h.min())) : "0",
           timed ? py_float(us_to_ms(h.max())) : "0",
           s.requests ? py_float(static_cast<double>(s.body_bytes) / s.requests) : "0",
           py_float(static_cast<double>(s.requests) / seconds),
           py_float(static_cast<double>(s.failures) / seconds)};
  if (!timed) return concat(r, not_available());
  for (double p : kLocustPercentiles) r.push_back(ms_int(us_to_ms(h.value_at_percentile(p))));
  return r;
}

// Locust keys its rows by (name, method) and writes them sorted by that key; templates that
// share a method and name (scenario tasks) are one row, as in locust.
std::string stats_csv(const LoadResult& result, double seconds) {
  std::map<std::pair<std::string, std::string>, RequestStats> rows;
  for (const auto& s : result.stats.requests) {
    auto [it, fresh] = rows.try_emplace({s.name, s.method});
    if (fresh) {
      it->second.method = s.method;
      it->second.name = s.name;
    }
    it->second.merge(s);
  }
  std::string out;
  append_row(out, stats_header());
  for (const auto& [key, s] : rows) append_row(out, stats_row(s.method, s, seconds));
  append_row(out, stats_row("", result.stats.total(), seconds));
  return out;
}

// One Aggregated row per second of history, as locust writes without --csv-full-history.
std::string history_csv(const LoadResult& result) {
  const double start_s =
      std::chrono::duration<double>(result.started_at.time_since_epoch()).count();
  std::string out;
  append_row(out, history_header());
  double previous_t = 0;
  for (const auto& s : result.history) {
    const double dt = s.t - previous_t;
    previous_t = s.t;
    auto per_second = [&](uint64_t n) {
      return fmt::format("{:2f}", dt > 0 ? static_cast<double>(n) / dt : 0.0);
    };
    Row r = {std::to_string(static_cast<int64_t>(std::floor(start_s + s.t))),
             std::to_string(s.users),
             "",
             "Aggregated",
             per_second(s.requests),
             per_second(s.failures)};
    // Locust's "N/A": no response in the window to take percentiles of (failures before a
    // response, such as refused connections, have no latency).
    const bool any = s.total_responses > 0;
    if (s.window_responses > 0) {
      for (double ms : s.window_ms) r.push_back(ms_int(ms));
    } else {
      r = concat(r, not_available());
    }
    r = concat(
        r, {std::to_string(s.total_requests), std::to_string(s.total_failures),
            ms_int(s.total_p50_ms), py_float(s.total_avg_ms), any ? py_float(s.total_min_ms) : "0",
            any ? py_float(s.total_max_ms) : "0",
            s.total_requests ? py_float(static_cast<double>(s.total_body_bytes) / s.total_requests)
                             : "0"});
    append_row(out, r);
  }
  return out;
}

std::string failures_csv(const LoadResult& result) {
  std::string out;
  append_row(out, failures_header());
  for (const auto& [key, n] : result.stats.failures)
    append_row(out, {key.method, key.name, key.reason, std::to_string(n)});
  return out;
}

}  // namespace

void write_csv_files(const std::string& prefix, const RunDescription&, const LoadResult& result) {
  double seconds = to_seconds(result.elapsed);
  if (seconds <= 0) seconds = 1;  // as the tables: rates over the measured window
  write_export_file("--csv", prefix + "_stats.csv", stats_csv(result, seconds));
  write_export_file("--csv", prefix + "_stats_history.csv", history_csv(result));
  write_export_file("--csv", prefix + "_failures.csv", failures_csv(result));
}

}  // namespace netres::load
