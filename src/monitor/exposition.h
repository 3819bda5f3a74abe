// Metric families and their exposition: Prometheus text format 0.0.4 and OpenMetrics 1.0.0
// (chosen from the scraper's Accept header). Written here rather than with prometheus-cpp 1.0.1,
// which has no OpenMetrics output (docs/monitor.md says more).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netres::monitor {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kGauge, kCounter, kHistogram };

struct Sample {
  std::string suffix;  // "" for gauges, "_total" for counters, "_bucket"/"_sum"/"_count"
  Labels labels;
  double value = 0;
  // Labels written before `labels`, shared by all samples of one series: a scrape of 1000
  // targets has ~30,000 samples, and a copy of the series' labels in each was most of a
  // scrape's memory and time (docs/benchmarks.md, monitor).
  std::shared_ptr<const Labels> base;
};

struct Family {
  std::string name;  // without "_total" for counters
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;

  void add(Labels labels, double value);
  // A sample labelled `*base` (may be null) and then `extra`.
  void add(std::shared_ptr<const Labels> base, Labels extra, double value);
  // A histogram's samples from per-bucket (not cumulative) counts; `bounds` are the upper bounds
  // of all but the last (+Inf) bucket, so counts.size() == bounds.size() + 1.
  void add_histogram(const Labels& labels, const std::vector<double>& bounds,
                     const std::vector<uint64_t>& counts, double sum);
  void add_histogram_shared(std::shared_ptr<const Labels> base, const std::vector<double>& bounds,
                            const std::vector<uint64_t>& counts, double sum);
};

enum class ExpositionFormat { kText004, kOpenMetrics };

// The format a scraper asked for: OpenMetrics when its Accept header lists
// application/openmetrics-text (with q > 0), the 0.0.4 text format otherwise.
ExpositionFormat negotiate_format(std::string_view accept);
std::string_view content_type(ExpositionFormat f);

// The families in order; empty families are left out (their HELP/TYPE too). OpenMetrics output
// ends with "# EOF".
std::string render(const std::vector<Family>& families, ExpositionFormat f);

// Label value escaping: backslash, double quote and line feed.
std::string escape_label_value(std::string_view v);
// A sample value: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string format_value(double v);

}  // namespace netres::monitor
