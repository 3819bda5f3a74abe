// Shaper parameter checks (the netlink side is covered by tests/integration/test_shape.py,
// which needs a namespace and CAP_NET_ADMIN).
#include "capture/shaper.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace netres::capture {
namespace {

TEST(ShaperValidateTest, AcceptsTypicalTokenBuckets) {
  EXPECT_NO_THROW(validate(TokenBucketSpec{10'000'000, 0, 50000}));
  EXPECT_NO_THROW(validate(TokenBucketSpec{8'000'000, 32 * 1024, 100000}));
  EXPECT_NO_THROW(validate(TokenBucketSpec{1'000'000'000, 0, 1000}));
}

TEST(ShaperValidateTest, RejectsRatesBurstsAndLatenciesOutOfRange) {
  EXPECT_THROW(validate(TokenBucketSpec{0, 0, 50000}), UsageError);
  EXPECT_THROW(validate(TokenBucketSpec{100'000'000'000ull, 0, 50000}), UsageError);
  EXPECT_THROW(validate(TokenBucketSpec{1'000'000, 100, 50000}), UsageError);  // < one frame
  EXPECT_THROW(validate(TokenBucketSpec{1'000'000, 0, 10}), UsageError);
  EXPECT_THROW(validate(TokenBucketSpec{1'000'000, 0, 60'000'000}), UsageError);
}

TEST(ShaperValidateTest, PortShaping) {
  EXPECT_NO_THROW(validate(PortShapeSpec{{80}, 2'000'000, 0, 0}));
  EXPECT_NO_THROW(validate(PortShapeSpec{{80, 443}, 2'000'000, 50'000'000, 0}));
  EXPECT_THROW(validate(PortShapeSpec{{}, 2'000'000, 0, 0}), UsageError);
  EXPECT_THROW(validate(PortShapeSpec{{0}, 2'000'000, 0, 0}), UsageError);
  EXPECT_THROW(validate(PortShapeSpec{{80}, 0, 0, 0}), UsageError);
}

TEST(ShaperValidateTest, DefaultBurstIsTenMillisecondsAtLeastSixteenK) {
  EXPECT_EQ(default_burst(1'000'000), 16u * 1024);  // 1.25 KB in 10 ms: the floor
  EXPECT_EQ(default_burst(100'000'000), 125'000u);  // 12.5 MB/s x 10 ms
}

TEST(ShaperTest, MissingInterfaceIsARuntimeErrorNamingIt) {
  try {
    Shaper shaper("nrshape-nope9");
    FAIL() << "no exception";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "no such interface 'nrshape-nope9'");
  }
}

}  // namespace
}  // namespace netres::capture
