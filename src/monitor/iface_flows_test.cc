// The iface check's top flows: the busiest N and one "other" that keeps the sum.
#include "monitor/iface_flows.h"

#include <gtest/gtest.h>

namespace netres::monitor {
namespace {

TEST(TopAndOther, BusiestFirstThenTheRestSummed) {
  std::vector<FlowShare> rows{{"c", 10}, {"a", 500}, {"b", 200}, {"d", 1}};
  auto out = top_and_other(rows, 2, 1000);  // 289 bytes in no row (non-IP, evicted flows)
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].flow, "a");
  EXPECT_EQ(out[0].bytes, 500u);
  EXPECT_EQ(out[1].flow, "b");
  EXPECT_EQ(out[2].flow, "other");
  EXPECT_EQ(out[2].bytes, 300u);
}

TEST(TopAndOther, TiesByNameAndFewerRowsThanTop) {
  auto out = top_and_other({{"y", 5}, {"x", 5}}, 5, 10);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].flow, "x");
  EXPECT_EQ(out[1].flow, "y");
  EXPECT_EQ(out[2].bytes, 0u);
}

TEST(TopAndOther, NothingCapturedStillHasOther) {
  auto out = top_and_other({}, 3, 0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].flow, "other");
  EXPECT_EQ(out[0].bytes, 0u);
  // A total below the rows (cannot happen, but never wraps around).
  out = top_and_other({{"a", 10}}, 1, 5);
  EXPECT_EQ(out.back().bytes, 0u);
}

TEST(CaptureTopFlows, AMissingDeviceIsAnErrorNotAThrow) {
  auto out = capture_top_flows({"nrnosuchdev0"}, std::chrono::milliseconds(10), 3);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].device, "nrnosuchdev0");
  EXPECT_FALSE(out[0].error.empty());
  EXPECT_TRUE(out[0].flows.empty());
}

}  // namespace
}  // namespace netres::monitor
