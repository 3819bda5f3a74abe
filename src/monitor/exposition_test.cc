// Exposition: escaping, counters' names per format, histogram buckets, OpenMetrics EOF,
// Accept negotiation, and the store's families (removed targets' series disappear).
#include "monitor/exposition.h"

#include <gtest/gtest.h>

#include "monitor/config.h"
#include "monitor/probe_store.h"

namespace netres::monitor {
namespace {

TEST(Exposition, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  Family f{"probe_success", "Displays whether", MetricType::kGauge, {}};
  f.add({{"target", "x\"y\\z\nw"}}, 1);
  std::string text = render({f}, ExpositionFormat::kText004);
  EXPECT_EQ(text,
            "# HELP probe_success Displays whether\n"
            "# TYPE probe_success gauge\n"
            "probe_success{target=\"x\\\"y\\\\z\\nw\"} 1\n");
}

TEST(Exposition, ValuesAreShortestRoundTrip) {
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1700000000), "1700000000");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
}

TEST(Exposition, CounterNamesDifferByFormat) {
  Family f{"netres_probe_failures", "Probes that failed", MetricType::kCounter, {}};
  f.add({{"reason", "refused"}}, 3);
  EXPECT_EQ(render({f}, ExpositionFormat::kText004),
            "# HELP netres_probe_failures_total Probes that failed\n"
            "# TYPE netres_probe_failures_total counter\n"
            "netres_probe_failures_total{reason=\"refused\"} 3\n");
  EXPECT_EQ(render({f}, ExpositionFormat::kOpenMetrics),
            "# HELP netres_probe_failures Probes that failed\n"
            "# TYPE netres_probe_failures counter\n"
            "netres_probe_failures_total{reason=\"refused\"} 3\n"
            "# EOF\n");
}

TEST(Exposition, HistogramBucketsAreCumulativeWithInf) {
  Family f{"d", "h", MetricType::kHistogram, {}};
  f.add_histogram({{"t", "a"}}, {0.1, 1}, {2, 3, 1}, 4.5);
  EXPECT_EQ(render({f}, ExpositionFormat::kText004),
            "# HELP d h\n# TYPE d histogram\n"
            "d_bucket{t=\"a\",le=\"0.1\"} 2\n"
            "d_bucket{t=\"a\",le=\"1\"} 5\n"
            "d_bucket{t=\"a\",le=\"+Inf\"} 6\n"
            "d_sum{t=\"a\"} 4.5\n"
            "d_count{t=\"a\"} 6\n");
}

TEST(Exposition, EmptyFamiliesAreLeftOutAndOpenMetricsEndsWithEof) {
  Family empty{"nothing", "h", MetricType::kGauge, {}};
  EXPECT_EQ(render({empty}, ExpositionFormat::kText004), "");
  EXPECT_EQ(render({empty}, ExpositionFormat::kOpenMetrics), "# EOF\n");
}

TEST(Exposition, HelpEscaping) {
  Family f{"g", "a \\ b\nc \"q\"", MetricType::kGauge, {}};
  f.add({}, 0);
  EXPECT_EQ(render({f}, ExpositionFormat::kText004),
            "# HELP g a \\\\ b\\nc \"q\"\n# TYPE g gauge\ng 0\n");
  EXPECT_EQ(render({f}, ExpositionFormat::kOpenMetrics),
            "# HELP g a \\\\ b\\nc \\\"q\\\"\n# TYPE g gauge\ng 0\n# EOF\n");
}

TEST(Negotiation, OpenMetricsOnlyWhenAsked) {
  EXPECT_EQ(negotiate_format(""), ExpositionFormat::kText004);
  EXPECT_EQ(negotiate_format("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            ExpositionFormat::kText004);
  // What Prometheus 2.42 sends.
  EXPECT_EQ(negotiate_format("application/openmetrics-text;version=1.0.0,application/"
                             "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                             "q=0.5,*/*;q=0.1"),
            ExpositionFormat::kOpenMetrics);
  EXPECT_EQ(negotiate_format("application/openmetrics-text; q=0"), ExpositionFormat::kText004);
  EXPECT_EQ(std::string(content_type(ExpositionFormat::kOpenMetrics)),
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

MonitorConfig two_targets(bool with_b) {
  std::string text =
      "checks:\n  t:\n    kind: tcp\n"
      "targets:\n  - {name: a, address: '127.0.0.1:1', checks: [t], labels: {env: prod}}\n";
  if (with_b) text += "  - {name: b, address: '127.0.0.1:2', checks: [t]}\n";
  return parse_monitor_config(text, "m.yaml");
}

TEST(Store, SeriesCarryLabelsAndRemovedTargetsDisappear) {
  ProbeStore store;
  store.configure(two_targets(true));
  ProbeResult ok;
  ok.success = true;
  ok.duration = 0.003;
  ok.set("netres_probe_tcp_connect_seconds", 0.001);
  ProbeResult bad;
  bad.fail("refused", "connection refused");
  bad.duration = 0.2;
  store.record("a", "t", ok);
  store.record("b", "t", bad);
  store.record("b", "t", bad);
  std::string text = render(store.families(), ExpositionFormat::kText004);
  EXPECT_NE(text.find("probe_success{target=\"a\",check=\"t\",env=\"prod\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("probe_success{target=\"b\",check=\"t\"} 0\n"), std::string::npos);
  EXPECT_NE(
      text.find("netres_probe_failures_total{target=\"b\",check=\"t\",reason=\"refused\"} 2\n"),
      std::string::npos);
  EXPECT_NE(text.find("netres_probe_failure_info{target=\"b\",check=\"t\",reason=\"refused\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("netres_probe_duration_seconds_bucket{target=\"b\",check=\"t\",le=\"0.25\"} 2\n"),
      std::string::npos);
  EXPECT_NE(text.find("netres_probe_duration_seconds_bucket{target=\"a\",check=\"t\",env=\"prod\","
                      "le=\"0.005\"} 1\n"),
            std::string::npos);
  // Every family's TYPE line appears once.
  EXPECT_EQ(text.find("# TYPE probe_success gauge"), text.rfind("# TYPE probe_success gauge"));

  store.configure(two_targets(false));
  text = render(store.families(), ExpositionFormat::kText004);
  EXPECT_EQ(text.find("target=\"b\""), std::string::npos) << text;
  EXPECT_NE(text.find("target=\"a\""), std::string::npos);
  // a's counters survive the reload.
  EXPECT_NE(text.find("netres_probes_total{target=\"a\",check=\"t\",env=\"prod\"} 1\n"),
            std::string::npos);
  // A result of a pair removed while its probe ran is dropped.
  store.record("b", "t", bad);
  text = render(store.families(), ExpositionFormat::kText004);
  EXPECT_EQ(text.find("target=\"b\""), std::string::npos);
}

TEST(Store, SchedulerPunctualityIsMonitorWide) {
  ProbeStore store;
  store.configure(two_targets(true));
  std::string text = render(store.families(), ExpositionFormat::kText004);
  // Present from the start (zero), so a rate() over them never lacks a first sample.
  EXPECT_NE(text.find("netres_monitor_probe_start_delay_seconds_count 0\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("netres_monitor_skipped_rounds_total 0\n"), std::string::npos);
  store.record_start_delay(0.0004);
  store.record_start_delay(0.3);
  store.record_start_delay(-0.001);  // a timer that fired a hair early counts as on time
  store.count_skipped_rounds(2);
  store.count_skipped_rounds(1);
  text = render(store.families(), ExpositionFormat::kText004);
  EXPECT_NE(text.find("netres_monitor_probe_start_delay_seconds_bucket{le=\"0.0001\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("netres_monitor_probe_start_delay_seconds_bucket{le=\"0.0005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("netres_monitor_probe_start_delay_seconds_bucket{le=\"0.25\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("netres_monitor_probe_start_delay_seconds_bucket{le=\"0.5\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("netres_monitor_probe_start_delay_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("netres_monitor_skipped_rounds_total 3\n"), std::string::npos);
  // No target labels: one series whatever the number of targets.
  EXPECT_EQ(text.find("netres_monitor_skipped_rounds_total{"), std::string::npos);
}

TEST(Store, ProbeFamiliesHaveNoTargetLabels) {
  ProbeResult r;
  r.success = true;
  r.duration = 0.5;
  r.set("probe_http_status_code", 200);
  std::string text = render(probe_families(r), ExpositionFormat::kText004);
  EXPECT_NE(text.find("\nprobe_success 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nprobe_http_status_code 200\n"), std::string::npos);
  EXPECT_NE(text.find("\nprobe_duration_seconds 0.5\n"), std::string::npos);
}

}  // namespace
}  // namespace netres::monitor
