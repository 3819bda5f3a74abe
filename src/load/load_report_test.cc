// Stats merging, threshold verdicts and the JSON report on a hand-made result.
#include "load/load_report.h"

#include <gtest/gtest.h>

namespace netres::load {
namespace {

LoadResult sample_result() {
  LoadStats a, b;
  a.requests.resize(2);
  b.requests.resize(2);
  a.requests[0].method = b.requests[0].method = "GET";
  a.requests[0].name = b.requests[0].name = "/a";
  a.requests[1].method = b.requests[1].method = "GET";
  a.requests[1].name = b.requests[1].name = "/b";
  // 100 requests of 1..100 ms on /a split over two "threads"; 10 failures on /b.
  for (uint64_t ms = 1; ms <= 100; ++ms) {
    LoadStats& s = ms % 2 ? a : b;
    ++s.requests[0].requests;
    s.requests[0].latency.record(ms * 1000);
    s.requests[0].service.record(ms * 1000);
    ++s.requests[0].status_codes[200];
  }
  b.requests[1].requests = b.requests[1].failures = 10;
  b.failures[FailureKey{"GET", "/b", "connection refused"}] = 10;
  a.cancelled = 1;
  LoadResult r;
  r.stats.merge(a);
  r.stats.merge(b);
  r.elapsed = std::chrono::seconds(10);
  return r;
}

TEST(LoadStats, MergeAddsEverything) {
  LoadResult r = sample_result();
  EXPECT_EQ(r.stats.requests[0].requests, 100u);
  EXPECT_EQ(r.stats.requests[0].status_codes.at(200), 100u);
  EXPECT_EQ(r.stats.requests[0].latency.count(), 100u);
  EXPECT_EQ(r.stats.requests[1].failures, 10u);
  EXPECT_EQ(r.stats.cancelled, 1u);
  RequestStats total = r.stats.total();
  EXPECT_EQ(total.requests, 110u);
  EXPECT_EQ(total.failures, 10u);
}

TEST(LoadReport, Verdicts) {
  LoadResult r = sample_result();
  auto v =
      judge({parse_threshold("p99>98ms"), parse_threshold("p50>60ms"), parse_threshold("rps<11"),
             parse_threshold("fail_ratio>0.05"), parse_threshold("max>=100ms")},
            r);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_TRUE(v[0].failed);   // p99 is 99-100 ms
  EXPECT_FALSE(v[1].failed);  // median 50 ms
  EXPECT_FALSE(v[2].failed);  // 110 requests in 10 s
  EXPECT_DOUBLE_EQ(v[2].value, 11.0);
  EXPECT_TRUE(v[3].failed);  // 10/110
  EXPECT_TRUE(v[4].failed);
}

TEST(LoadReport, Json) {
  LoadResult r = sample_result();
  SecondSample second;
  second.t = 1.0;
  second.users = 4;
  second.requests = 110;
  second.failures = 10;
  second.p50_ms = 50.0;
  second.p99_ms = 99.0;
  second.window_ms.back() = 100.0;
  second.responses = second.window_responses = second.total_responses = 100;
  second.total_requests = 110;
  r.history.push_back(second);
  SecondSample silent;  // a second in which every request failed before a response
  silent.t = 2.0;
  silent.requests = silent.failures = 5;
  silent.total_requests = 115;
  silent.total_responses = 100;
  r.history.push_back(silent);
  RunDescription run{"http://127.0.0.1:1/a", "GET", 4, 2, 10.0, 0, 1};
  auto j = to_json(run, r, judge({parse_threshold("p99>1s")}, r));
  EXPECT_EQ(j["model"], "closed");
  EXPECT_EQ(j["totals"]["requests"], 110);
  EXPECT_EQ(j["totals"]["cancelled_at_deadline"], 1);
  EXPECT_NEAR(j["totals"]["fail_ratio"].get<double>(), 10.0 / 110, 1e-9);
  EXPECT_EQ(j["stats"][0]["status_codes"]["200"], 100);
  EXPECT_NEAR(j["stats"][0]["latency_ms"]["p50"].get<double>(), 50, 0.1);
  EXPECT_EQ(j["failures"][0]["reason"], "connection refused");
  EXPECT_EQ(j["failures"][0]["count"], 10);
  EXPECT_EQ(j["history"][0]["requests"], 110);
  EXPECT_EQ(j["history"][0]["users"], 4);
  EXPECT_EQ(j["history"][0]["window_ms"]["100"], 100.0);
  EXPECT_EQ(j["history"][0]["window_ms"]["99.99"], 0.0);
  EXPECT_EQ(j["history"][0]["total"]["requests"], 110);
  EXPECT_EQ(j["thresholds"][0]["failed"], false);
  EXPECT_EQ(j["thresholds"][0]["unit"], "ms");
  EXPECT_EQ(j["thresholds"][0]["limit"], 1000.0);
  EXPECT_EQ(j["thresholds"][0]["samples"], 100);
  // No response in a second: its latencies are null (a gap in the charts), not 0.
  EXPECT_TRUE(j["history"][1]["p50_ms"].is_null());
  EXPECT_TRUE(j["history"][1]["p99_ms"].is_null());
  EXPECT_TRUE(j["history"][1]["window_ms"]["99"].is_null());
  EXPECT_EQ(j["history"][1]["total"]["p50_ms"], 0.0);
  // /b never got a response: null latencies, and percentiles per name for the others.
  EXPECT_TRUE(j["stats"][1]["latency_ms"]["p99"].is_null());
  EXPECT_EQ(j["stats"][1]["responses"], 0);
  EXPECT_NEAR(j["stats"][0]["percentiles_ms"]["66"].get<double>(), 66, 0.1);
  EXPECT_NEAR(j["stats"][0]["percentiles_ms"]["100"].get<double>(), 100, 0.1);
  EXPECT_TRUE(j["started_at"].get<std::string>().ends_with("Z"));
}

// A gate must not pass a service that never answered: latency thresholds without a single
// response fail, and say why; rps still has a value (0).
TEST(LoadReport, RunFailedByThresholdsOrElseByFailures) {
  LoadResult r = sample_result();  // 10 failed requests
  EXPECT_TRUE(run_failed({}, {}, r));
  LoadResult clean;
  EXPECT_FALSE(run_failed({}, {}, clean));
  // With thresholds only their verdicts count, failed requests or not.
  std::vector<Threshold> t = {parse_threshold("p50>60ms")};
  EXPECT_FALSE(run_failed(t, judge(t, r), r));
  t.push_back(parse_threshold("p99>98ms"));
  EXPECT_TRUE(run_failed(t, judge(t, r), r));
}

TEST(LoadReport, ThresholdsWithoutResponsesFail) {
  LoadResult r;
  r.stats.requests.resize(1);
  r.stats.requests[0].method = "GET";
  r.stats.requests[0].name = "/";
  r.stats.requests[0].requests = r.stats.requests[0].failures = 36;
  r.elapsed = std::chrono::seconds(2);
  auto v = judge({parse_threshold("p99>200ms"), parse_threshold("avg<1s"),
                  parse_threshold("rps<10"), parse_threshold("fail_ratio>0.5")},
                 r);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_TRUE(v[0].failed);
  EXPECT_FALSE(v[0].measured);
  EXPECT_NE(v[0].why.find("none of the 36 requests got a response"), std::string::npos);
  EXPECT_TRUE(v[1].failed);   // whichever way the comparison points
  EXPECT_FALSE(v[2].failed);  // 18 req/s
  EXPECT_DOUBLE_EQ(v[2].value, 18.0);
  EXPECT_TRUE(v[3].failed);
  // Nothing at all: fail_ratio has no data either.
  LoadResult empty;
  auto e = judge({parse_threshold("fail_ratio>0.01"), parse_threshold("p50>1ms")}, empty);
  EXPECT_TRUE(e[0].failed);
  EXPECT_FALSE(e[0].measured);
  EXPECT_TRUE(e[1].failed);
  auto j = to_json(RunDescription{}, r, v);
  EXPECT_TRUE(j["thresholds"][0]["value"].is_null());
  EXPECT_EQ(j["thresholds"][0]["failed"], true);
  EXPECT_EQ(j["thresholds"][2]["unit"], "req/s");
  EXPECT_EQ(j["thresholds"][3]["unit"], "ratio");
  char buf[4096] = {};
  std::FILE* out = fmemopen(buf, sizeof buf - 1, "w");
  print_verdicts(out, v);
  print_tables(out, r, false);
  std::fclose(out);
  std::string text = buf;
  EXPECT_NE(text.find("FAILED  p99>200ms  (no data: none of the 36"), std::string::npos) << text;
  EXPECT_NE(text.find("rps is 18.0 req/s"), std::string::npos) << text;
  EXPECT_EQ(text.find(" 0.00"), std::string::npos) << text;  // dashes, not zeros
}

TEST(LoadReport, LiveLine) {
  SecondSample s;
  s.t = 12;
  s.users = 40;
  s.requests = 20345;
  s.responses = 20345;
  s.p50_ms = 1.2;
  s.p99_ms = 5.31;
  EXPECT_EQ(live_line(s, 60, true),
            "12s/60s  20345 req/s  0 fails  p50 1.20ms  p99 5.31ms  40 users");
  EXPECT_EQ(live_line(s, 60, false), "12s/60s  20345 req/s  0 fails  p50 1.20ms  p99 5.31ms");
  EXPECT_EQ(live_line(s, 60, true, 20), "12s/60s  20345 req/");
  EXPECT_EQ(live_line(s, 60, true, 20).size(), 19u);
  s.responses = 0;
  EXPECT_EQ(live_line(s, 60, false), "12s/60s  20345 req/s  0 fails  p50 -  p99 -");
}

}  // namespace
}  // namespace netres::load
