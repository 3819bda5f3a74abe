// resolve results files: name shares, rows round-trip, shards merge in input order.
#include "resolve/resolve_results.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "resolve/dns_message.h"

using namespace netres;
using namespace netres::resolve;

namespace {

ResolveRow row(const std::string& name, uint16_t type, const std::string& data) {
  ResolveRow r;
  r.name = r.qname = name;
  r.type = type;
  r.status = data.empty() ? "NXDOMAIN" : "NOERROR";
  r.rcode = data.empty() ? 3 : 0;
  if (!data.empty()) {
    r.answers.push_back({name, type, 1, 300, data});
    r.ttl = 300;
  }
  r.duration = std::chrono::microseconds(1500);
  r.server = "127.0.0.1:53";
  r.name_ok = !data.empty();
  return r;
}

}  // namespace

TEST(ResolveResults, SharesAreContiguousAndCoverEveryName) {
  std::vector<std::string> names = {"a", "b", "c", "d", "e", "f", "g"};
  std::vector<std::string> joined;
  uint64_t expected_first = 0;
  for (uint64_t k = 1; k <= 3; ++k) {
    NameShare s = share_of(names, Shard{k, 3});
    EXPECT_EQ(s.first, expected_first);
    expected_first += s.names.size();
    joined.insert(joined.end(), s.names.begin(), s.names.end());
  }
  EXPECT_EQ(joined, names);
  EXPECT_TRUE(share_of({"a"}, Shard{1, 2}).names.empty());
  EXPECT_EQ(share_of({"a"}, Shard{2, 2}).names.size(), 1u);
}

TEST(ResolveResults, JobNamesTheWholeList) {
  auto a = resolve_job_json({"a", "b"}, {}, "");
  EXPECT_EQ(a, resolve_job_json({"a", "b"}, {}, ""));
  EXPECT_NE(a, resolve_job_json({"a", "c"}, {}, ""));
  EXPECT_NE(a, resolve_job_json({"ab"}, {}, ""));
  EXPECT_NE(a, resolve_job_json({"a", "b"}, {kTypeMx}, ""));
  EXPECT_EQ(a["types"], nlohmann::json({"A", "AAAA"}));
}

TEST(ResolveResults, RowsRoundTripAndMergeInInputOrder) {
  ResolveRun a, b;
  a.rows = {{2, row("c.example", kTypeA, "192.0.2.3")}, {3, row("d.example", kTypeA, "")}};
  a.summary = {2, 1, 1, 2, std::chrono::milliseconds(30), "127.0.0.1:53", {}};
  b.rows = {{0, row("a.example", kTypeA, "192.0.2.1")},
            {0, row("a.example", kTypeAaaa, "")},
            {1, row("b.example", kTypeA, "192.0.2.2")}};
  b.rows[1].row.cname_chain = {"x.example", "y.example"};
  b.summary = {2, 2, 0, 4, std::chrono::milliseconds(50), "127.0.0.1:53", {}};
  auto back_a = resolve_run_from_json(nlohmann::json::parse(resolve_data_json(a).dump()), "a");
  auto back_b = resolve_run_from_json(resolve_data_json(b), "b");
  ResolveRun m = merge_resolve_runs({back_a, back_b});
  ASSERT_EQ(m.rows.size(), 5u);
  EXPECT_EQ(m.rows[0].row.name, "a.example");
  EXPECT_EQ(m.rows[0].row.type, kTypeA);
  EXPECT_EQ(m.rows[1].row.type, kTypeAaaa);
  EXPECT_EQ(m.rows[1].row.cname_chain, b.rows[1].row.cname_chain);
  EXPECT_FALSE(m.rows[1].row.ttl.has_value());
  EXPECT_EQ(m.rows[3].row.answers.at(0).data, "192.0.2.3");
  EXPECT_EQ(m.rows[3].row.ttl, 300u);
  EXPECT_EQ(m.rows[3].row.duration, std::chrono::microseconds(1500));
  EXPECT_EQ(m.rows[4].row.name, "d.example");
  EXPECT_EQ(m.summary.names, 4u);
  EXPECT_EQ(m.summary.ok, 3u);
  EXPECT_EQ(m.summary.failed, 1u);
  EXPECT_EQ(m.summary.queries, 6u);
  EXPECT_EQ(m.summary.elapsed, std::chrono::milliseconds(50));
}

TEST(ResolveResults, BadDataIsAOneLineUsageError) {
  ResolveRun a;
  a.rows = {{0, row("a.example", kTypeA, "192.0.2.1")}};
  auto data = resolve_data_json(a);
  auto broken = data;
  broken["rows"][0].erase("qname");
  EXPECT_THROW(resolve_run_from_json(broken, "f"), UsageError);
  broken = data;
  broken["rows"][0]["type"] = "A";
  try {
    resolve_run_from_json(broken, "f.json");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("f.json: bad resolve results", 0), 0u) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  EXPECT_THROW(resolve_run_from_json(nlohmann::json(3), "f"), UsageError);
}
