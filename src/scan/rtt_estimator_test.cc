// RFC 6298 smoothing and the clamp.
#include "scan/rtt_estimator.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using netres::Nanos;
using netres::scan::RttEstimator;

TEST(RttEstimator, InitialUntilFirstSample) {
  RttEstimator e(1s, 100ms, 2s);
  EXPECT_EQ(e.timeout(), Nanos(1s));
  EXPECT_FALSE(e.has_samples());
}

TEST(RttEstimator, Rfc6298Smoothing) {
  RttEstimator e(1s, 1ms, 10s);
  e.add_sample(100ms);  // srtt 100, rttvar 50 -> 300
  EXPECT_EQ(e.timeout(), Nanos(300ms));
  e.add_sample(100ms);  // rttvar 37.5, srtt 100 -> 250
  EXPECT_EQ(e.timeout(), Nanos(250ms));
  e.add_sample(200ms);  // err 100: rttvar 53.125, srtt 112.5 -> 325
  EXPECT_EQ(e.srtt(), Nanos(112500us));
  EXPECT_EQ(e.timeout(), Nanos(325ms));
}

TEST(RttEstimator, Clamped) {
  RttEstimator e(1s, 100ms, 2s);
  for (int i = 0; i < 50; ++i) e.add_sample(50us);
  EXPECT_EQ(e.timeout(), Nanos(100ms));
  RttEstimator slow(1s, 100ms, 2s);
  slow.add_sample(5s);
  EXPECT_EQ(slow.timeout(), Nanos(2s));
  RttEstimator fixed(3s, 3s, 3s);
  fixed.add_sample(1ms);
  EXPECT_EQ(fixed.timeout(), Nanos(3s));
}
