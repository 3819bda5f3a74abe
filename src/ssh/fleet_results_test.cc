// ssh run results files: host shares, round trips (output bytes kept exactly), inventory order.
#include "ssh/fleet_results.h"

#include <gtest/gtest.h>

#include "common/error.h"

using namespace netres;
using namespace netres::ssh;

namespace {

HostResult result(const std::string& host, HostStatus status, std::optional<int> code) {
  HostResult r;
  r.host = host;
  r.status = status;
  r.exit_code = code;
  r.duration = std::chrono::milliseconds(12);
  r.stdout_text = "out-" + host + "\n";
  return r;
}

}  // namespace

TEST(FleetResults, SharesAreContiguousAndCoverEveryHost) {
  Inventory all = Inventory::from_specs("a,b,c,d,e");
  std::vector<std::string> joined;
  uint64_t next = 0;
  for (uint64_t k = 1; k <= 3; ++k) {
    HostShare s = share_of(all, Shard{k, 3});
    EXPECT_EQ(s.first, next);
    next += s.hosts.hosts().size();
    for (const auto& h : s.hosts.hosts()) joined.push_back(h.name);
  }
  EXPECT_EQ(joined, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

TEST(FleetResults, JobNamesCommandAndHosts) {
  Inventory all = Inventory::from_specs("a,b");
  auto job = run_job_json(all, "uname -a", false);
  EXPECT_EQ(job, run_job_json(Inventory::from_specs("a,b"), "uname -a", false));
  EXPECT_NE(job, run_job_json(Inventory::from_specs("a,c"), "uname -a", false));
  EXPECT_NE(job, run_job_json(Inventory::from_specs("a,b:2222"), "uname -a", false));
  EXPECT_NE(job, run_job_json(all, "uptime", false));
  EXPECT_NE(job, run_job_json(all, "uname -a", true));
}

TEST(FleetResults, RoundTripAndInventoryOrder) {
  std::vector<HostResult> second = {result("c", HostStatus::kFailed, 3),
                                    result("d", HostStatus::kUnreachable, std::nullopt)};
  second[1].error = "connection refused";
  second[0].stderr_text = std::string("\xff\x00 bytes", 8);
  std::vector<HostResult> first = {result("a", HostStatus::kOk, 0),
                                   result("b", HostStatus::kOk, 0)};
  auto a =
      fleet_results_from_json(nlohmann::json::parse(fleet_data_json(second, 2).dump()), "2.json");
  auto b = fleet_results_from_json(fleet_data_json(first, 0), "1.json");
  auto merged = merge_fleet_results({a, b});
  ASSERT_EQ(merged.size(), 4u);
  EXPECT_EQ(merged[0].host, "a");
  EXPECT_EQ(merged[3].host, "d");
  EXPECT_EQ(merged[2].status, HostStatus::kFailed);
  EXPECT_EQ(merged[2].exit_code, 3);
  EXPECT_EQ(merged[2].stderr_text, second[0].stderr_text);
  EXPECT_FALSE(merged[3].exit_code.has_value());
  EXPECT_EQ(merged[3].error, "connection refused");
  EXPECT_EQ(merged[3].duration, std::chrono::milliseconds(12));
}

TEST(FleetResults, BadDataIsAOneLineUsageError) {
  auto data = fleet_data_json({result("a", HostStatus::kOk, 0)}, 0);
  auto broken = data;
  broken["results"][0]["status"] = "fine";
  try {
    fleet_results_from_json(broken, "x.json");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("x.json: bad ssh results", 0), 0u) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  broken = data;
  broken["results"][0].erase("stdout");
  EXPECT_THROW(fleet_results_from_json(broken, "x"), UsageError);
  EXPECT_THROW(fleet_results_from_json(nlohmann::json::array(), "x"), UsageError);
}
