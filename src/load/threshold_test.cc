// Threshold parsing and evaluation.
#include "load/threshold.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace netres::load {
namespace {

TEST(Threshold, LatencyInSeconds) {
  Threshold t = parse_threshold("p99>200ms");
  EXPECT_EQ(t.metric, Threshold::Metric::kP99);
  EXPECT_EQ(t.op, Threshold::Op::kGreater);
  EXPECT_DOUBLE_EQ(t.limit, 0.2);
  EXPECT_TRUE(t.triggered(0.201));
  EXPECT_FALSE(t.triggered(0.2));
  EXPECT_EQ(parse_threshold("p99.9 >= 1s").metric, Threshold::Metric::kP999);
  EXPECT_EQ(parse_threshold("p99.9 >= 1s").op, Threshold::Op::kGreaterEqual);
  EXPECT_EQ(parse_threshold("avg>5ms").metric, Threshold::Metric::kAvg);
  EXPECT_EQ(parse_threshold("max>5ms").metric, Threshold::Metric::kMax);
  EXPECT_EQ(parse_threshold("p50>5ms").metric, Threshold::Metric::kP50);
  EXPECT_EQ(parse_threshold("p90>5ms").metric, Threshold::Metric::kP90);
  EXPECT_EQ(parse_threshold("p95>5ms").metric, Threshold::Metric::kP95);
}

TEST(Threshold, RatesAndRatios) {
  Threshold rps = parse_threshold("rps<1000");
  EXPECT_EQ(rps.metric, Threshold::Metric::kRps);
  EXPECT_TRUE(rps.triggered(999));
  EXPECT_FALSE(rps.triggered(1000));
  Threshold f = parse_threshold("fail_ratio>0.01");
  EXPECT_TRUE(f.triggered(0.02));
  EXPECT_FALSE(f.triggered(0.01));
  EXPECT_TRUE(parse_threshold("fail_ratio<=0").triggered(0));
}

TEST(Threshold, Rejects) {
  for (const char* bad : {"p99", "p98>1ms", "p99>", "p99>200", "p99>fast", "rps<abc",
                          "fail_ratio>2", "rps<-1", ">5", "p99=>1s", "rps<10/s"}) {
    EXPECT_THROW(parse_threshold(bad), UsageError) << bad;
  }
}

}  // namespace
}  // namespace netres::load
