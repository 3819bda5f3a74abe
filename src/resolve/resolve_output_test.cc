// resolve's table cell, NDJSON line and stderr lines, byte for byte.
#include "resolve/resolve_output.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/test_util.h"

namespace netres::resolve {
namespace {

ResolveRow row_with(std::vector<std::string> data, std::vector<std::string> chain = {}) {
  ResolveRow r;
  r.name = "www.test";
  r.qname = "www.test";
  r.type = 1;
  r.status = "ok";
  r.rcode = 0;
  r.cname_chain = std::move(chain);
  for (auto& d : data) {
    DnsRecord rec;
    rec.type = 1;
    rec.ttl = 300;
    rec.data = d;
    r.answers.push_back(rec);
  }
  r.ttl = 300;
  r.duration = std::chrono::microseconds(1500);
  r.server = "127.0.0.1:53";
  return r;
}

std::string printed(bool json, const std::vector<ResolveRow>& rows) {
  return test_util::printed([&](std::FILE* f) {
    RowPrinter p(f, json);
    p.add(rows);
    p.finish();
  });
}

TEST(AnswersCell, DataCommaSeparatedOrDash) {
  EXPECT_EQ(answers_cell(row_with({"10.0.0.1", "10.0.0.2"})), "10.0.0.1, 10.0.0.2");
  EXPECT_EQ(answers_cell(row_with({})), "-");
}

TEST(AnswersCell, ChainFromTheQueriedName) {
  EXPECT_EQ(answers_cell(row_with({"10.0.0.1"}, {"a.test", "b.test"})),
            "www.test -> a.test -> b.test -> 10.0.0.1");
  EXPECT_EQ(answers_cell(row_with({}, {"a.test"})), "www.test -> a.test");
}

TEST(RowJson, FieldsInAlphabeticalOrder) {
  std::string line;
  append_row_json(line, row_with({"10.0.0.1"}, {"a.test"}));
  EXPECT_EQ(line,
            "{\"answers\":[{\"data\":\"10.0.0.1\",\"ttl\":300,\"type\":\"A\"}],\"cname_chain\":[\""
            "a.test\"],\"duration_ms\":1.5,\"name\":\"www.test\",\"qname\":\"www.test\",\"rcode\":"
            "0,\"server\":\"127.0.0.1:53\",\"status\":\"ok\",\"ttl\":300,\"type\":\"A\"}\n");
}

TEST(RowJson, NullsAndEscapes) {
  ResolveRow r = row_with({"\"quoted\\\" \x01"});
  r.rcode = -1;
  r.ttl.reset();
  std::string line;
  append_row_json(line, r);
  auto j = nlohmann::json::parse(line);
  EXPECT_TRUE(j["rcode"].is_null());
  EXPECT_TRUE(j["ttl"].is_null());
  EXPECT_EQ(j["answers"][0]["data"], "\"quoted\\\" \x01");
  EXPECT_NE(line.find("\\u0001"), std::string::npos);
}

TEST(RowJson, NonAsciiIsValidJson) {
  ResolveRow r = row_with({"caf\xc3\xa9 \xff"});
  std::string line;
  append_row_json(line, r);
  auto j = nlohmann::json::parse(line);  // bad UTF-8 replaced, not passed through
  EXPECT_EQ(j["answers"][0]["data"].get<std::string>().substr(0, 5), "caf\xc3\xa9");
}

TEST(RowPrinter, TableAtTheEnd) {
  ResolveRow missing = row_with({});
  missing.name = "gone.test";
  missing.status = "nxdomain";
  missing.ttl.reset();
  EXPECT_EQ(printed(false, {row_with({"10.0.0.1"}), missing}),
            "NAME       TYPE  STATUS    TTL  ANSWERS\n"
            "www.test   A     ok        300  10.0.0.1\n"
            "gone.test  A     nxdomain    -  -\n");
}

TEST(RowPrinter, NdjsonLinePerRow) {
  std::string out = printed(true, {row_with({"10.0.0.1"}), row_with({})});
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
  EXPECT_EQ(out.rfind("{\"answers\":[{", 0), 0u);
  EXPECT_NE(out.find("\n{\"answers\":[],"), std::string::npos);
}

TEST(StderrLines, ProgressSummaryAndStats) {
  ResolveProgress p{50, 100, 20, 1, std::chrono::seconds(2)};
  EXPECT_EQ(progress_text(p), "50/100 queries, 20 names done, 1 failed, 25 q/s");
  EXPECT_EQ(progress_text(ResolveProgress{}), "0/0 queries, 0 names done, 0 failed, 0 q/s");
  ResolveSummary s;
  s.names = 3;
  s.ok = 2;
  s.failed = 1;
  s.queries = 6;
  s.elapsed = std::chrono::seconds(2);
  EXPECT_EQ(summary_text(s), "3 names, 2 ok, 1 failed, 6 queries in 2.00s (3 queries/s)");
  ResolverStats e;
  e.sent = 7;
  e.retransmitted = 1;
  e.srtt = std::chrono::microseconds(1250);
  e.rto = std::chrono::milliseconds(200);
  EXPECT_EQ(
      engine_stats_text(e),
      "engine: 7 sent, 1 retransmitted, 0 late or duplicate replies, 0 mismatched, 0 over "
      "TCP, 0 window cuts, 0 spurious timeouts, 0 sends deferred, srtt 1.25 ms, rto 200.0 ms");
}

}  // namespace
}  // namespace netres::resolve
