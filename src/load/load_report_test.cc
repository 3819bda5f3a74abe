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
  second.total_requests = 110;
  r.history.push_back(second);
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
}

}  // namespace
}  // namespace netres::load
