// Report formatting: milliseconds as locust prints them, rates over the measured window.
#include "load/load_report.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "common/duration.h"
#include "common/output.h"

namespace netres::load {
namespace {

double ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

std::string ms_text(double v) {
  if (v >= 100) return fmt::format("{:.0f}", v);
  if (v >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

// A name that never got a response has no latencies: null, not a 0 that reads as "fast".
nlohmann::json latency_json(const HdrHistogram& h) {
  if (h.count() == 0)
    return {{"min", nullptr}, {"avg", nullptr}, {"max", nullptr}, {"p50", nullptr},
            {"p90", nullptr}, {"p95", nullptr}, {"p99", nullptr}, {"p99.9", nullptr}};
  return {{"min", ms(h.min())},
          {"avg", h.mean() / 1000.0},
          {"max", ms(h.max())},
          {"p50", ms(h.value_at_percentile(50))},
          {"p90", ms(h.value_at_percentile(90))},
          {"p95", ms(h.value_at_percentile(95))},
          {"p99", ms(h.value_at_percentile(99))},
          {"p99.9", ms(h.value_at_percentile(99.9))}};
}

// Percentiles as locust's report table has them (kLocustPercentiles), keyed "50" ... "100".
nlohmann::json percentiles_json(const HdrHistogram& h) {
  nlohmann::json p = nlohmann::json::object();
  for (double q : kLocustPercentiles)
    p[fmt::format("{:g}", q)] = h.count() ? nlohmann::json(ms(h.value_at_percentile(q))) : nullptr;
  return p;
}

// Latency fields of a second with no response are null, so charts leave a gap there.
nlohmann::json or_null(bool any, double v) { return any ? nlohmann::json(v) : nullptr; }

nlohmann::json history_json(const SecondSample& s) {
  nlohmann::json window = nlohmann::json::object();
  for (size_t i = 0; i < kLocustPercentiles.size(); ++i)
    window[fmt::format("{:g}", kLocustPercentiles[i])] =
        or_null(s.window_responses > 0, s.window_ms[i]);
  const bool any = s.responses > 0, any_total = s.total_responses > 0;
  return {{"t", s.t},
          {"users", s.users},
          {"requests", s.requests},
          {"failures", s.failures},
          {"responses", s.responses},
          {"body_bytes", s.body_bytes},
          {"p50_ms", or_null(any, s.p50_ms)},
          {"p95_ms", or_null(any, s.p95_ms)},
          {"p99_ms", or_null(any, s.p99_ms)},
          {"window_ms", window},
          {"total",
           {{"requests", s.total_requests},
            {"failures", s.total_failures},
            {"responses", s.total_responses},
            {"body_bytes", s.total_body_bytes},
            {"p50_ms", or_null(any_total, s.total_p50_ms)},
            {"avg_ms", or_null(any_total, s.total_avg_ms)},
            {"min_ms", or_null(any_total, s.total_min_ms)},
            {"max_ms", or_null(any_total, s.total_max_ms)}}}};
}

// "200:9500 404:12", or "-" when nothing answered.
std::string status_text(const RequestStats& s) {
  std::string out;
  for (const auto& [code, n] : s.status_codes) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}:{}", code, n);
  }
  return out.empty() ? "-" : out;
}

void add_row(Table& t, const RequestStats& s, const std::string& type, double seconds) {
  const HdrHistogram& h = s.latency;
  // No response, no latency: a dash, as the CSV's N/A (a 0.00 would read as very fast).
  auto lat = [&](double v) { return h.count() ? ms_text(v) : std::string("-"); };
  t.add_row({type, s.name, std::to_string(s.requests), std::to_string(s.failures),
             lat(h.mean() / 1000.0), lat(ms(h.min())), lat(ms(h.max())),
             lat(ms(h.value_at_percentile(50))), lat(ms(h.value_at_percentile(90))),
             lat(ms(h.value_at_percentile(95))), lat(ms(h.value_at_percentile(99))),
             lat(ms(h.value_at_percentile(99.9))),
             fmt::format("{:.1f}", static_cast<double>(s.requests) / seconds),
             fmt::format("{:.1f}", static_cast<double>(s.failures) / seconds), status_text(s)});
}

std::string threshold_value_text(const ThresholdVerdict& v) {
  switch (v.threshold.metric) {
    case Threshold::Metric::kRps:
      return fmt::format("{:.1f} req/s", v.value);
    case Threshold::Metric::kFailRatio:
      return fmt::format("{:.4g} ({:.2f}% of {} requests)", v.value, v.value * 100, v.samples);
    default:
      return fmt::format("{} ms over {} responses", ms_text(v.value * 1000.0), v.samples);
  }
}

double seconds_of(const LoadResult& r) {
  double s = to_seconds(r.elapsed);
  return s > 0 ? s : 1;
}

}  // namespace

std::vector<ThresholdVerdict> judge(const std::vector<Threshold>& thresholds,
                                    const LoadResult& result) {
  RequestStats total = result.stats.total();
  const HdrHistogram& h = total.latency;
  std::vector<ThresholdVerdict> verdicts;
  for (const auto& t : thresholds) {
    if (t.is_latency() && h.count() == 0) {
      ThresholdVerdict no_data{t, 0, true, false, "", 0};
      no_data.why =
          total.requests == 0
              ? std::string("no request was made, so no latency was measured")
              : fmt::format("none of the {} requests got a response, so no latency was measured",
                            total.requests);
      verdicts.push_back(no_data);
      continue;
    }
    if (t.metric == Threshold::Metric::kFailRatio && total.requests == 0) {
      verdicts.push_back({t, 0, true, false, "no request was made, so there is no ratio", 0});
      continue;
    }
    double v = 0;
    auto pct = [&](double p) { return static_cast<double>(h.value_at_percentile(p)) / 1e6; };
    switch (t.metric) {
      case Threshold::Metric::kP50:
        v = pct(50);
        break;
      case Threshold::Metric::kP90:
        v = pct(90);
        break;
      case Threshold::Metric::kP95:
        v = pct(95);
        break;
      case Threshold::Metric::kP99:
        v = pct(99);
        break;
      case Threshold::Metric::kP999:
        v = pct(99.9);
        break;
      case Threshold::Metric::kAvg:
        v = h.mean() / 1e6;
        break;
      case Threshold::Metric::kMax:
        v = static_cast<double>(h.max()) / 1e6;
        break;
      case Threshold::Metric::kRps:
        v = static_cast<double>(total.requests) / seconds_of(result);
        break;
      case Threshold::Metric::kFailRatio:
        v = total.requests ? static_cast<double>(total.failures) / total.requests : 0;
        break;
    }
    verdicts.push_back(
        {t, v, t.triggered(v), true, "", t.is_latency() ? h.count() : total.requests});
  }
  return verdicts;
}

void print_tables(std::FILE* out, const LoadResult& result, bool open_model) {
  const double seconds = seconds_of(result);
  Table t({{"Type"},
           {"Name"},
           {"# reqs", true},
           {"# fails", true},
           {"Avg", true},
           {"Min", true},
           {"Max", true},
           {"Median", true},
           {"p90", true},
           {"p95", true},
           {"p99", true},
           {"p99.9", true},
           {"req/s", true},
           {"failures/s", true},
           {"Status codes"}});
  for (const auto& s : result.stats.requests) add_row(t, s, s.method, seconds);
  RequestStats total = result.stats.total();
  add_row(t, total, "", seconds);
  t.print(out);
  fmt::print(out, "Response times in milliseconds{}.\n",
             open_model ? ", measured from when each request was due (open model)" : "");
  if (open_model) {
    const HdrHistogram& h = total.service;
    fmt::print(out, "Service time (from send, uncorrected): median {} p99 {} max {}\n",
               ms_text(ms(h.value_at_percentile(50))), ms_text(ms(h.value_at_percentile(99))),
               ms_text(ms(h.max())));
  }
  if (result.stats.cancelled > 0)
    fmt::print(out,
               "{} requests were still in flight when the drain after the deadline ended "
               "(cancelled at deadline, not counted above).\n",
               result.stats.cancelled);
  if (result.stats.retried > 0)
    fmt::print(out,
               "{} requests were sent again on a new connection: the server closed a kept-alive "
               "one before answering (idempotent methods only, each counted once above).\n",
               result.stats.retried);
  if (!result.stats.failures.empty()) {
    fmt::print(out, "\nFailures\n");
    Table f({{"# occurrences", true}, {"Method"}, {"Name"}, {"Reason"}});
    for (const auto& [key, n] : result.stats.failures)
      f.add_row({std::to_string(n), key.method, key.name, key.reason});
    f.print(out);
  }
}

void print_verdicts(std::FILE* out, const std::vector<ThresholdVerdict>& verdicts) {
  if (verdicts.empty()) return;
  fmt::print(out, "\nThresholds\n");
  for (const auto& v : verdicts) {
    std::string detail = v.measured ? fmt::format("{} is {}", metric_name(v.threshold.metric),
                                                  threshold_value_text(v))
                                    : fmt::format("no data: {}", v.why);
    fmt::print(out, "  {}  {}  ({})\n", v.failed ? "FAILED" : "ok    ", v.threshold.text, detail);
  }
}

nlohmann::json to_json(const RunDescription& run, const LoadResult& result,
                       const std::vector<ThresholdVerdict>& verdicts) {
  const double seconds = seconds_of(result);
  RequestStats total = result.stats.total();
  auto stats_json = [&](const RequestStats& s) {
    nlohmann::json codes = nlohmann::json::object();
    for (const auto& [code, n] : s.status_codes) codes[std::to_string(code)] = n;
    return nlohmann::json{{"method", s.method},
                          {"name", s.name},
                          {"requests", s.requests},
                          {"failures", s.failures},
                          {"body_bytes", s.body_bytes},
                          {"rps", s.requests / seconds},
                          {"failures_per_s", s.failures / seconds},
                          {"responses", s.latency.count()},
                          {"latency_ms", latency_json(s.latency)},
                          {"percentiles_ms", percentiles_json(s.latency)},
                          {"service_time_ms", latency_json(s.service)},
                          {"status_codes", codes}};
  };
  nlohmann::json j;
  j["mode"] = run.mode;
  if (run.mode == "scenario") {
    j["scenario"] = run.scenario;
    j["host"] = run.host;
    j["users"] = run.users;
    j["spawn_rate"] = run.spawn_rate;
    j["user_classes"] = nlohmann::json::array();
    for (const auto& c : run.user_classes)
      j["user_classes"].push_back({{"name", c.name}, {"weight", c.weight}, {"users", c.users}});
  }
  if (!run.stages.empty()) {
    j["stages"] = nlohmann::json::array();
    for (const auto& st : run.stages)
      j["stages"].push_back(
          {{"end_s", st.end_s}, {"users", st.users}, {"spawn_rate", st.spawn_rate}});
  }
  j["url"] = run.url;
  j["method"] = run.method;
  j["connections"] = run.connections;
  j["threads"] = run.threads;
  j["duration_s"] = run.duration_s;
  j["model"] = run.rate > 0 ? "open" : "closed";
  j["rate"] = run.rate;
  j["pipeline"] = run.pipeline;
  j["elapsed_s"] = seconds;
  // Wall-clock start and end of the measured window (UTC, ISO 8601 with milliseconds).
  auto iso = [](std::chrono::system_clock::time_point t) {
    auto ms_since = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    std::time_t secs = static_cast<std::time_t>(ms_since.count() / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       ms_since.count() % 1000);
  };
  j["started_at"] = iso(result.started_at);
  j["ended_at"] =
      iso(result.started_at +
          std::chrono::duration_cast<std::chrono::system_clock::duration>(result.elapsed));
  j["totals"] = stats_json(total);
  j["totals"]["fail_ratio"] =
      total.requests ? static_cast<double>(total.failures) / total.requests : 0.0;
  j["totals"]["cancelled_at_deadline"] = result.stats.cancelled;
  j["totals"]["connections_opened"] = result.stats.connects;
  j["totals"]["retried_on_new_connection"] = result.stats.retried;
  j["stats"] = nlohmann::json::array();
  for (const auto& s : result.stats.requests) j["stats"].push_back(stats_json(s));
  j["failures"] = nlohmann::json::array();
  for (const auto& [key, n] : result.stats.failures)
    j["failures"].push_back(
        {{"method", key.method}, {"name", key.name}, {"reason", key.reason}, {"count", n}});
  j["history"] = nlohmann::json::array();
  for (const auto& s : result.history) j["history"].push_back(history_json(s));
  j["thresholds"] = nlohmann::json::array();
  for (const auto& v : verdicts)
    j["thresholds"].push_back(
        {{"expression", v.threshold.text},
         {"metric", metric_name(v.threshold.metric)},
         {"value", v.measured
                       ? nlohmann::json(v.threshold.is_latency() ? v.value * 1000.0 : v.value)
                       : nlohmann::json(nullptr)},
         {"unit", threshold_unit(v.threshold)},
         {"limit", v.threshold.is_latency() ? v.threshold.limit * 1000.0 : v.threshold.limit},
         {"samples", v.samples},
         {"failed", v.failed},
         {"reason", v.why}});
  return j;
}

const char* threshold_unit(const Threshold& t) {
  if (t.is_latency()) return "ms";
  return t.metric == Threshold::Metric::kRps ? "req/s" : "ratio";
}

std::string live_line(const SecondSample& s, double total_s, bool scenario, size_t width) {
  auto lat = [&](double v) { return s.responses ? ms_text(v) + "ms" : std::string("-"); };
  std::string line = fmt::format("{:.0f}s/{:.0f}s  {} req/s  {} fails  p50 {}  p99 {}", s.t,
                                 total_s, s.requests, s.failures, lat(s.p50_ms), lat(s.p99_ms));
  if (scenario) line += fmt::format("  {} users", s.users);
  // The last column stays free: writing into it makes some terminals wrap at once.
  if (width > 1 && line.size() > width - 1) line.resize(width - 1);
  return line;
}

bool run_failed(const std::vector<Threshold>& thresholds,
                const std::vector<ThresholdVerdict>& verdicts, const LoadResult& result) {
  if (thresholds.empty()) return result.stats.total().failures > 0;
  for (const auto& v : verdicts)
    if (v.failed) return true;
  return false;
}

}  // namespace netres::load
