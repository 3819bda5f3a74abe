// Report formatting: milliseconds as locust prints them, rates over the measured window.
#include "load/load_report.h"

#include <fmt/format.h>

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

nlohmann::json latency_json(const HdrHistogram& h) {
  return {{"min", ms(h.min())},
          {"avg", h.mean() / 1000.0},
          {"max", ms(h.max())},
          {"p50", ms(h.value_at_percentile(50))},
          {"p90", ms(h.value_at_percentile(90))},
          {"p95", ms(h.value_at_percentile(95))},
          {"p99", ms(h.value_at_percentile(99))},
          {"p99.9", ms(h.value_at_percentile(99.9))}};
}

nlohmann::json history_json(const SecondSample& s) {
  nlohmann::json window = nlohmann::json::object();
  for (size_t i = 0; i < kLocustPercentiles.size(); ++i)
    window[fmt::format("{:g}", kLocustPercentiles[i])] = s.window_ms[i];
  return {{"t", s.t},
          {"users", s.users},
          {"requests", s.requests},
          {"failures", s.failures},
          {"body_bytes", s.body_bytes},
          {"p50_ms", s.p50_ms},
          {"p99_ms", s.p99_ms},
          {"window_ms", window},
          {"total",
           {{"requests", s.total_requests},
            {"failures", s.total_failures},
            {"body_bytes", s.total_body_bytes},
            {"p50_ms", s.total_p50_ms},
            {"avg_ms", s.total_avg_ms},
            {"min_ms", s.total_min_ms},
            {"max_ms", s.total_max_ms}}}};
}

void add_row(Table& t, const RequestStats& s, const std::string& type, double seconds) {
  const HdrHistogram& h = s.latency;
  t.add_row({type, s.name, std::to_string(s.requests), std::to_string(s.failures),
             ms_text(h.mean() / 1000.0), ms_text(ms(h.min())), ms_text(ms(h.max())),
             ms_text(ms(h.value_at_percentile(50))), ms_text(ms(h.value_at_percentile(90))),
             ms_text(ms(h.value_at_percentile(95))), ms_text(ms(h.value_at_percentile(99))),
             ms_text(ms(h.value_at_percentile(99.9))),
             fmt::format("{:.1f}", static_cast<double>(s.requests) / seconds),
             fmt::format("{:.1f}", static_cast<double>(s.failures) / seconds)});
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
    verdicts.push_back({t, v, t.triggered(v)});
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
           {"failures/s", true}});
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
    std::string value = v.threshold.is_latency()
                            ? format_duration(Nanos(static_cast<int64_t>(v.value * 1e9)))
                            : fmt::format("{:.4g}", v.value);
    fmt::print(out, "  {}  {} (is {})\n", v.failed ? "FAILED" : "ok    ", v.threshold.text, value);
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
                          {"latency_ms", latency_json(s.latency)},
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
  j["url"] = run.url;
  j["method"] = run.method;
  j["connections"] = run.connections;
  j["threads"] = run.threads;
  j["duration_s"] = run.duration_s;
  j["model"] = run.rate > 0 ? "open" : "closed";
  j["rate"] = run.rate;
  j["pipeline"] = run.pipeline;
  j["elapsed_s"] = seconds;
  j["totals"] = stats_json(total);
  j["totals"]["fail_ratio"] =
      total.requests ? static_cast<double>(total.failures) / total.requests : 0.0;
  j["totals"]["cancelled_at_deadline"] = result.stats.cancelled;
  j["totals"]["connections_opened"] = result.stats.connects;
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
    j["thresholds"].push_back({{"expression", v.threshold.text},
                               {"value", v.threshold.is_latency() ? v.value * 1000.0 : v.value},
                               {"unit", v.threshold.is_latency() ? "ms" : ""},
                               {"failed", v.failed}});
  return j;
}

std::string live_line(const SecondSample& s) {
  return fmt::format("{:5.0f}s  {} req/s  {} fails  p50 {}ms  p99 {}ms", s.t, s.requests,
                     s.failures, ms_text(s.p50_ms), ms_text(s.p99_ms));
}

}  // namespace netres::load
