// The resolver's pacing: RFC 6298 estimates, the RTO's floor, cap and back-off, and the window's
// slow start, cuts (one per RTO, only while answers come) and undo.
#include "resolve/rtt_window.h"

#include <gtest/gtest.h>

namespace netres::resolve {
namespace {

using namespace std::chrono_literals;

TEST(RttEstimate, InitialRtoIsOneSecondOrTheCap) {
  RttEstimate e;
  EXPECT_EQ(e.rto(2s), 1s);
  EXPECT_EQ(e.rto(300ms), 300ms);
}

TEST(RttEstimate, FirstSampleThenSmoothing) {
  RttEstimate e;
  e.sample(100ms);
  EXPECT_TRUE(e.have_rtt);
  EXPECT_DOUBLE_EQ(e.srtt, 0.1);
  EXPECT_DOUBLE_EQ(e.rttvar, 0.05);
  EXPECT_EQ(e.rto(2s), 300ms);  // srtt + 4 x rttvar
  e.sample(100ms);
  EXPECT_DOUBLE_EQ(e.srtt, 0.1);
  EXPECT_DOUBLE_EQ(e.rttvar, 0.0375);
}

TEST(RttEstimate, FloorAndOneAndAHalfSrtt) {
  RttEstimate fast;
  fast.sample(20us);  // loopback: the floor decides
  EXPECT_EQ(fast.rto(2s), kMinRto);
  EXPECT_EQ(fast.rto(5ms), 5ms);  // never above the cap, even the floor
  RttEstimate steady;
  steady.have_rtt = true;
  steady.srtt = 0.1;
  steady.rttvar = 0.0001;  // a steady queue: 1.5 x srtt wins over srtt + 4 x rttvar
  EXPECT_EQ(steady.rto(2s), 150ms);
}

TEST(RttEstimate, BackOffOncePerRtoAndForgottenOnASample) {
  RttEstimate e;
  e.sample(100ms);
  SteadyTime t0 = SteadyTime{} + 10s;
  e.back_off(t0, e.rto(2s));
  EXPECT_EQ(e.backoff, 1);
  EXPECT_EQ(e.rto(2s), 600ms);
  e.back_off(t0 + 100ms, e.rto(2s));  // the same burst's losses
  EXPECT_EQ(e.backoff, 1);
  e.back_off(t0 + 700ms, e.rto(2s));
  EXPECT_EQ(e.backoff, 2);
  EXPECT_EQ(e.rto(1s), 1s);  // doubling stops at the cap
  e.sample(100ms);
  EXPECT_EQ(e.backoff, 0);
}

TEST(CongestionWindow, SlowStartThenLinearUpToTheLimit) {
  CongestionWindow w;
  w.reset(1000);
  EXPECT_EQ(w.initial_window(), 250u);  // a quarter, at least 64
  EXPECT_EQ(w.window(), 250u);
  w.on_answer();
  EXPECT_EQ(w.window(), 251u);
  CongestionWindow small;
  small.reset(10);
  EXPECT_EQ(small.window(), 10u);  // never above --concurrency
  for (int i = 0; i < 100; ++i) small.on_answer();
  EXPECT_EQ(small.window(), 10u);
}

TEST(CongestionWindow, CutsHalveOncePerRtoAndOnlyAfterAnAnswer) {
  CongestionWindow w;
  w.reset(1000);
  SteadyTime t0 = SteadyTime{} + 10s;
  EXPECT_FALSE(w.on_loss(t0, 100ms));  // no answer yet: a dead server, not congestion
  w.on_answer();
  EXPECT_TRUE(w.on_loss(t0, 100ms));
  EXPECT_EQ(w.window(), 125u);
  w.on_answer();
  EXPECT_FALSE(w.on_loss(t0 + 50ms, 100ms));  // the same loss event
  EXPECT_TRUE(w.on_loss(t0 + 150ms, 100ms));
  EXPECT_EQ(w.window(), 62u);
  // Past slow start's threshold the window grows by about one per window of answers.
  for (int i = 0; i < 63; ++i) w.on_answer();
  EXPECT_EQ(w.window(), 63u);
}

TEST(CongestionWindow, NeverCutBelowTheMinimumAndSpuriousCutsUndone) {
  CongestionWindow w;
  w.reset(64);
  SteadyTime t = SteadyTime{} + 10s;
  for (int i = 0; i < 10; ++i) {
    w.on_answer();
    w.on_loss(t, 1ms);
    t += 1s;
  }
  EXPECT_EQ(w.window(), kMinWindow);
  w.undo_cut();
  EXPECT_EQ(w.window(), kMinWindow);  // the window before the last cut was the minimum too
  CongestionWindow u;
  u.reset(1000);
  u.on_answer();
  u.on_loss(t, 100ms);
  EXPECT_EQ(u.window(), 125u);
  u.undo_cut();
  EXPECT_EQ(u.window(), 251u);
  u.undo_cut();  // once only
  EXPECT_EQ(u.window(), 251u);
}

}  // namespace
}  // namespace netres::resolve
