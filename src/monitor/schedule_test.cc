// Spreading, slots, jitter and the concurrency gate.
#include "monitor/schedule.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

namespace netres::monitor {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Spread, ThousandsOfTargetsSpreadEvenlyOverTheInterval) {
  const Nanos interval = seconds(10);
  std::vector<int> per_second(10, 0);
  for (int i = 0; i < 5000; ++i) {
    Nanos o = spread_offset(fmt::format("web{}\nhttp_2xx", i), interval);
    ASSERT_GE(o, Nanos{0});
    ASSERT_LT(o, interval);
    ++per_second[static_cast<size_t>(o / seconds(1))];
  }
  // 500 expected per second; a uniform hash stays well within +-20%.
  for (int n : per_second) {
    EXPECT_GT(n, 400);
    EXPECT_LT(n, 600);
  }
}

TEST(Spread, SameKeySameOffsetAcrossCalls) {
  EXPECT_EQ(spread_offset("a\nb", seconds(30)), spread_offset("a\nb", seconds(30)));
  EXPECT_NE(spread_offset("web1\nx", seconds(30)), spread_offset("web2\nx", seconds(30)));
  EXPECT_EQ(spread_offset("x", Nanos{0}), Nanos{0});
}

TEST(Slot, NextSlotIsOffsetPastAMultipleOfTheInterval) {
  const Nanos i = seconds(10), off = seconds(3);
  EXPECT_EQ(next_slot(Nanos{0}, i, off), seconds(3));
  EXPECT_EQ(next_slot(seconds(3), i, off), seconds(3));
  EXPECT_EQ(next_slot(seconds(3) + Nanos{1}, i, off), seconds(13));
  EXPECT_EQ(next_slot(seconds(47), i, off), seconds(53));
  // A probe that overran two rounds skips them rather than firing three times at once.
  EXPECT_EQ(next_slot(seconds(35), i, off), seconds(43));
}

TEST(Jitter, StaysBelowTheJitterAndVaries) {
  uint64_t state = 42;
  std::set<int64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    Nanos j = round_jitter(state, milliseconds(500));
    ASSERT_GE(j, Nanos{0});
    ASSERT_LT(j, milliseconds(500));
    seen.insert(j.count());
  }
  EXPECT_GT(seen.size(), 900u);
  EXPECT_EQ(round_jitter(state, Nanos{0}), Nanos{0});
}

TEST(Gate, GlobalCapHoldsAndReleaseWakesInOrder) {
  ConcurrencyGate g(2, 10);
  EXPECT_TRUE(g.try_acquire(0));
  EXPECT_TRUE(g.try_acquire(1));
  EXPECT_FALSE(g.try_acquire(2));
  g.wait(100, 2);
  EXPECT_FALSE(g.try_acquire(3));
  g.wait(101, 3);
  EXPECT_EQ(g.in_flight(), 2u);
  auto woken = g.release(0);
  ASSERT_EQ(woken.size(), 1u);
  EXPECT_EQ(woken[0], 100u);
  EXPECT_EQ(g.in_flight(), 2u);
  woken = g.release(1);
  ASSERT_EQ(woken.size(), 1u);
  EXPECT_EQ(woken[0], 101u);
  EXPECT_EQ(g.waiting(), 0u);
}

TEST(Gate, PerTargetCapDoesNotBlockOtherTargets) {
  ConcurrencyGate g(10, 1);
  EXPECT_TRUE(g.try_acquire(7));
  EXPECT_FALSE(g.try_acquire(7));
  g.wait(1, 7);
  // Target 8 is free and the waiter is blocked only by its own target: 8 goes ahead.
  EXPECT_TRUE(g.try_acquire(8));
  EXPECT_EQ(g.in_flight(7), 1u);
  auto woken = g.release(8);
  EXPECT_TRUE(woken.empty());
  woken = g.release(7);
  ASSERT_EQ(woken.size(), 1u);
  EXPECT_EQ(woken[0], 1u);
  EXPECT_EQ(g.in_flight(7), 1u);
}

TEST(Gate, NewcomersDoNotOvertakeGlobalWaiters) {
  ConcurrencyGate g(1, 5);
  EXPECT_TRUE(g.try_acquire(0));
  g.wait(9, 1);
  g.release(0);  // hands the slot to waiter 9
  EXPECT_EQ(g.in_flight(1), 1u);
  EXPECT_FALSE(g.try_acquire(2));
  EXPECT_TRUE(g.forget(42) == false);
  g.wait(10, 2);
  EXPECT_TRUE(g.forget(10));
  EXPECT_EQ(g.waiting(), 0u);
}

TEST(Gate, ThousandsOfProbesNeverExceedTheCaps) {
  ConcurrencyGate g(50, 2);
  std::vector<std::pair<uint64_t, size_t>> running;
  uint64_t id = 0;
  size_t waiting_targets[3000];
  for (int i = 0; i < 3000; ++i) {
    size_t target = static_cast<size_t>(i % 700);
    if (g.try_acquire(target)) {
      running.push_back({id++, target});
    } else {
      waiting_targets[id] = target;
      g.wait(id++, target);
    }
    ASSERT_LE(g.in_flight(), 50u);
    ASSERT_LE(g.in_flight(target), 2u);
  }
  size_t done = 0;
  while (!running.empty()) {
    auto [rid, target] = running.back();
    running.pop_back();
    ++done;
    for (uint64_t w : g.release(target)) running.push_back({w, waiting_targets[w]});
    ASSERT_LE(g.in_flight(), 50u);
  }
  EXPECT_EQ(done, 3000u);
  EXPECT_EQ(g.waiting(), 0u);
}

}  // namespace
}  // namespace netres::monitor
