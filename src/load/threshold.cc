// Threshold parsing: metric, comparison, value (a duration for latencies).
#include "load/threshold.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <utility>

#include "common/duration.h"
#include "common/error.h"
#include "common/text.h"

namespace netres::load {
namespace {

constexpr std::array<std::pair<const char*, Threshold::Metric>, 10> kMetrics{{
    {"p50", Threshold::Metric::kP50},
    {"median", Threshold::Metric::kP50},
    {"p90", Threshold::Metric::kP90},
    {"p95", Threshold::Metric::kP95},
    {"p99", Threshold::Metric::kP99},
    {"p99.9", Threshold::Metric::kP999},
    {"avg", Threshold::Metric::kAvg},
    {"max", Threshold::Metric::kMax},
    {"rps", Threshold::Metric::kRps},
    {"fail_ratio", Threshold::Metric::kFailRatio},
}};

}  // namespace

const char* metric_name(Threshold::Metric m) {
  for (const auto& [name, metric] : kMetrics)
    if (metric == m && std::string_view(name) != "median") return name;
  return "?";
}

bool Threshold::triggered(double value) const {
  switch (op) {
    case Op::kGreater:
      return value > limit;
    case Op::kGreaterEqual:
      return value >= limit;
    case Op::kLess:
      return value < limit;
    case Op::kLessEqual:
      return value <= limit;
  }
  return false;
}

Threshold parse_threshold(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("--fail-if: bad threshold '{}': {}", text, why));
  };
  size_t op_pos = text.find_first_of("<>");
  if (op_pos == std::string_view::npos) throw bad("expected METRIC>VALUE or METRIC<VALUE");
  Threshold t;
  t.text = std::string(text);
  std::string_view name = trim(text.substr(0, op_pos), " ");
  bool found = false;
  for (const auto& [n, metric] : kMetrics) {
    if (name == n) {
      t.metric = metric;
      found = true;
    }
  }
  if (!found) throw bad("metric must be p50, p90, p95, p99, p99.9, avg, max, rps or fail_ratio");
  bool greater = text[op_pos] == '>';
  size_t value_pos = op_pos + 1;
  bool equal = value_pos < text.size() && text[value_pos] == '=';
  if (equal) ++value_pos;
  t.op = greater ? (equal ? Threshold::Op::kGreaterEqual : Threshold::Op::kGreater)
                 : (equal ? Threshold::Op::kLessEqual : Threshold::Op::kLess);
  std::string_view value = trim(text.substr(value_pos), " ");
  if (value.empty()) throw bad("missing value");
  if (t.is_latency()) {
    if (value.find_first_not_of("0123456789.") == std::string_view::npos)
      throw bad("latency needs a unit, e.g. 200ms");
    try {
      t.limit = to_seconds(parse_duration(value, "--fail-if"));
    } catch (const UsageError&) {
      throw bad("bad duration");
    }
  } else {
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, t.limit);
    if (ec != std::errc() || ptr != end || t.limit < 0) throw bad("bad number");
    if (t.metric == Threshold::Metric::kFailRatio && t.limit > 1)
      throw bad("fail_ratio is between 0 and 1");
  }
  return t;
}

}  // namespace netres::load
