// Thresholds: `--fail-if 'p99>200ms'` style conditions that turn a run into exit code 1.
#pragma once

#include <string>
#include <string_view>

namespace netres::load {

struct Threshold {
  enum class Metric { kP50, kP90, kP95, kP99, kP999, kAvg, kMax, kRps, kFailRatio };
  enum class Op { kGreater, kGreaterEqual, kLess, kLessEqual };
  std::string text;  // as the user wrote it, for reports
  Metric metric;
  Op op;
  double limit;  // seconds for latency metrics, plain number otherwise
  bool is_latency() const { return metric != Metric::kRps && metric != Metric::kFailRatio; }
  // True when `value` meets the condition, i.e. the run fails.
  bool triggered(double value) const;
};

// "p99>200ms", "avg >= 1s", "rps<1000", "fail_ratio>0.01". Throws UsageError.
Threshold parse_threshold(std::string_view text);
const char* metric_name(Threshold::Metric m);

}  // namespace netres::load
