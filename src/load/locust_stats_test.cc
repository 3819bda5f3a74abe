// locust-shaped stats: the response-time rounding and error keys against values Python and
// locust's own code give (made once with /usr/bin/python3, shown beside each), and the delta
// reports' fields, sums and reset.
#include "load/locust_stats.h"

#include <gtest/gtest.h>

namespace netres::load::locust {
namespace {

TEST(LocustStats, RoundsResponseTimesAsLocust) {
  // stats.py _log_response_time: round(rt) below 100, round(rt, -1) below 1000, round(rt, -2)
  // below 10000, else round(rt, -3); Python rounds halves to even:
  //   [int(round(x) if x < 100 else round(x, -1) if x < 1000 else round(x, -2) if x < 10000
  //        else round(x, -3)) for x in XS]
  const std::vector<std::pair<double, int64_t>> cases = {
      {0.4, 0},       {0.5, 0},       {1.5, 2},        {2.5, 2},     {99.5, 100},
      {99.4, 99},     {104.9, 100},   {105, 100},      {115, 120},   {145.0, 140},
      {999.4, 1000},  {995.0, 1000},  {1049.99, 1000}, {1050, 1000}, {2250, 2200},
      {10500, 10000}, {11500, 12000}, {12345.6, 12000}};
  for (const auto& [ms, want] : cases) EXPECT_EQ(round_response_time(ms), want) << ms;
}

TEST(LocustStats, PythonRepr) {
  EXPECT_EQ(python_repr("HTTP 404"), "'HTTP 404'");
  EXPECT_EQ(python_repr("it's"), "\"it's\"");                   // repr("it's")
  EXPECT_EQ(python_repr("it's \"q\"\n"), "'it\\'s \"q\"\\n'");  // both quotes: single
  EXPECT_EQ(python_repr("a\\b\x01"), "'a\\\\b\\x01'");
  // repr(repr("it's \"q\"\n"))
  EXPECT_EQ(python_repr(python_repr("it's \"q\"\n")), R"('\'it\\\'s "q"\\n\'')");
}

TEST(LocustStats, ErrorKeysAsLocustMakesThem) {
  // hashlib.sha256(("GET./a." + repr(repr("HTTP 404"))).encode()).hexdigest(), which is
  // StatsError.create_key("GET", "/a", "HTTP 404")
  EXPECT_EQ(error_key("GET", "/a", "HTTP 404"),
            "c6a7a9750a6e9d0b7647d82114d24282a3cd30794728a155768d28f116d83b1a");
  EXPECT_EQ(error_key("POST", "/x y", "it's \"q\"\n"),
            "9f2561db64e6df9fc91b2fb37d727bb3824966ed87865bdde2516c565f679435");
}

TEST(LocustStats, EntryLogAndExtend) {
  Entry a;
  a.log(12.0, 100, false, 1000.2);
  a.log(150.4, 50, true, 1000.9);
  a.log(std::nullopt, 0, true, 1001.1);  // no response: counted, no response time
  EXPECT_EQ(a.num_requests, 3u);
  EXPECT_EQ(a.num_none_requests, 1u);
  EXPECT_EQ(a.num_failures, 2u);
  EXPECT_DOUBLE_EQ(a.total_response_time, 162.4);
  EXPECT_DOUBLE_EQ(*a.min_response_time, 12.0);
  EXPECT_DOUBLE_EQ(a.max_response_time, 150.4);
  EXPECT_EQ(a.total_content_length, 150u);
  EXPECT_EQ(a.response_times, (std::map<int64_t, uint64_t>{{12, 1}, {150, 1}}));
  EXPECT_EQ(a.num_reqs_per_sec, (std::map<int64_t, uint64_t>{{1000, 2}, {1001, 1}}));
  EXPECT_EQ(a.num_fail_per_sec, (std::map<int64_t, uint64_t>{{1000, 1}, {1001, 1}}));
  EXPECT_DOUBLE_EQ(*a.last_request_timestamp, 1001.1);
  Entry b;
  b.log(3.0, 1, false, 999.0);
  b.extend(a);
  EXPECT_EQ(b.num_requests, 4u);
  EXPECT_DOUBLE_EQ(*b.min_response_time, 3.0);
  EXPECT_DOUBLE_EQ(*b.last_request_timestamp, 1001.1);
  EXPECT_EQ(b.num_reqs_per_sec.at(999), 1u);
}

TEST(LocustStats, ReportsDeltasPerNameWithTotalAndErrors) {
  StatsCollector c;
  c.prepare(2);
  const std::string get = "GET", a = "/a", b = "/b", none, e404 = "HTTP 404";
  c.record(0, RequestEvent{0, get, a, true, 2000, 10, none}, 500.5);
  c.record(1, RequestEvent{0, get, a, true, 4000, 10, none}, 500.7);
  c.record(1, RequestEvent{1, get, b, true, 1000, 0, e404}, 501.0);
  Value r = c.take_report(499.0);
  const Array& stats = r.find("stats")->as_array();
  ASSERT_EQ(stats.size(), 2u);
  const Value& sa = stats[0];
  EXPECT_EQ(sa.find("name")->as_string(), "/a");
  EXPECT_EQ(sa.find("method")->as_string(), "GET");
  EXPECT_EQ(sa.find("num_requests")->as_int(), 2);
  EXPECT_EQ(sa.find("num_failures")->as_int(), 0);
  EXPECT_DOUBLE_EQ(sa.find("total_response_time")->as_number(), 6.0);
  EXPECT_DOUBLE_EQ(sa.find("min_response_time")->as_number(), 2.0);
  EXPECT_DOUBLE_EQ(sa.find("max_response_time")->as_number(), 4.0);
  EXPECT_EQ(sa.find("total_content_length")->as_int(), 20);
  EXPECT_DOUBLE_EQ(sa.find("start_time")->as_number(), 499.0);
  EXPECT_EQ(*sa.find("num_reqs_per_sec"), Value(Map{{Value(500), Value(2)}}));
  EXPECT_EQ(*sa.find("response_times"), Value(Map{{Value(2), Value(1)}, {Value(4), Value(1)}}));
  const Value& total = *r.find("stats_total");
  EXPECT_EQ(total.find("name")->as_string(), "Aggregated");
  EXPECT_EQ(total.find("method")->as_string(), "");
  EXPECT_EQ(total.find("num_requests")->as_int(), 3);
  EXPECT_EQ(total.find("num_failures")->as_int(), 1);
  const Map& errors = r.find("errors")->as_map();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].first.as_string(), error_key("GET", "/b", "HTTP 404"));
  EXPECT_EQ(errors[0].second.find("error")->as_string(), "'HTTP 404'");
  EXPECT_EQ(errors[0].second.find("occurrences")->as_int(), 1);
  // A delta: the next report holds only what came after.
  Value next = c.take_report(501.5);
  EXPECT_TRUE(next.find("stats")->as_array().empty());
  EXPECT_EQ(next.find("stats_total")->find("num_requests")->as_int(), 0);
  EXPECT_TRUE(next.find("stats_total")->find("min_response_time")->is_nil());
  EXPECT_TRUE(next.find("errors")->as_map().empty());
}

TEST(LocustStats, HistogramsReportCarriesTheExactBuckets) {
  LoadStats s;
  s.requests.resize(2);
  s.requests[0].method = "GET";
  s.requests[0].name = "/a";
  for (uint64_t us : {100, 200, 200, 5000}) {
    ++s.requests[0].requests;
    s.requests[0].latency.record(us);
  }
  Value r = histograms_report(s, 3);
  EXPECT_EQ(r.find("run")->as_int(), 3);
  const Array& names = r.find("names")->as_array();
  ASSERT_EQ(names.size(), 1u);  // the row without requests is left out
  EXPECT_EQ(names[0].find("count")->as_int(), 4);
  EXPECT_EQ(names[0].find("min")->as_int(), 100);
  EXPECT_EQ(names[0].find("max")->as_int(), 5000);
  EXPECT_DOUBLE_EQ(names[0].find("sum")->as_number(), 5500);
  uint64_t n = 0;
  for (const auto& b : names[0].find("buckets")->as_array()) n += b.as_array()[1].as_int();
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(r.find("total")->find("count")->as_int(), 4);
}

}  // namespace
}  // namespace netres::load::locust
