// FlowTable, flow keys and rate windows: direction independence, exact LRU eviction, the
// 2/10/40 s window sums, and the per-view counting of FlowStats.
#include "capture/flow_table.h"

#include <gtest/gtest.h>

#include "capture/flow_stats.h"
#include "capture/packet_builder_test.h"

namespace netres::capture {
namespace {

using namespace testing;  // NOLINT: packet builders

PacketView decode(const Packet& p) {
  PacketView v;
  decode_packet(linktype::kEthernet, p, 0, v);
  return v;
}

TEST(FlowKeyTest, BothDirectionsOfIpv4TcpShareOneKey) {
  auto ab = decode(
      ethernet(0x0800, ipv4({10, 0, 0, 9}, {10, 0, 0, 2}, 6, tcp(40000, 80, 1, 0, 0x02, 1000))));
  auto ba = decode(
      ethernet(0x0800, ipv4({10, 0, 0, 2}, {10, 0, 0, 9}, 6, tcp(80, 40000, 1, 2, 0x12, 1000))));
  FlowKey k1, k2;
  bool lo1 = false, lo2 = false;
  ASSERT_TRUE(make_flow_key(ab, k1, lo1));
  ASSERT_TRUE(make_flow_key(ba, k2, lo2));
  EXPECT_EQ(k1, k2);
  EXPECT_EQ(hash_flow_key(k1), hash_flow_key(k2));
  EXPECT_NE(lo1, lo2);
  EXPECT_FALSE(lo1);  // 10.0.0.9 sorts after 10.0.0.2
  EXPECT_EQ(k1.lo_port, 80);
  EXPECT_EQ(k1.hi_port, 40000);
  EXPECT_EQ(k1.proto, 6);
}

TEST(FlowKeyTest, BothDirectionsOfIpv6UdpShareOneKey) {
  auto ab = decode(ethernet(0x86dd, ipv6(1, 2, 17, udp(5353, 53, text("q")))));
  auto ba = decode(ethernet(0x86dd, ipv6(2, 1, 17, udp(53, 5353, text("a")))));
  FlowKey k1, k2;
  bool lo1 = false, lo2 = false;
  ASSERT_TRUE(make_flow_key(ab, k1, lo1));
  ASSERT_TRUE(make_flow_key(ba, k2, lo2));
  EXPECT_EQ(k1, k2);
  EXPECT_TRUE(lo1);
  EXPECT_FALSE(lo2);
  EXPECT_EQ(k1.version, 6);
}

TEST(FlowKeyTest, SameAddressesOrderByPort) {
  auto ab = decode(ethernet(0x0800, ipv4({127, 0, 0, 1}, {127, 0, 0, 1}, 17, udp(9000, 53, {}))));
  auto ba = decode(ethernet(0x0800, ipv4({127, 0, 0, 1}, {127, 0, 0, 1}, 17, udp(53, 9000, {}))));
  FlowKey k1, k2;
  bool lo1 = false, lo2 = false;
  ASSERT_TRUE(make_flow_key(ab, k1, lo1));
  ASSERT_TRUE(make_flow_key(ba, k2, lo2));
  EXPECT_EQ(k1, k2);
  EXPECT_NE(lo1, lo2);
}

TEST(FlowKeyTest, NonIpHasNoKey) {
  Packet arp(28, 0);
  FlowKey k;
  bool lo = false;
  EXPECT_FALSE(make_flow_key(decode(ethernet(0x0806, arp)), k, lo));
}

FlowKey key_n(uint16_t n) {
  FlowKey k;
  k.version = 4;
  k.proto = 17;
  k.lo_port = n;
  return k;
}

TEST(FlowTableTest, EvictsExactlyTheLeastRecentlyUsed) {
  FlowTable table(3, false);
  bool created = false;
  table.touch(key_n(1), created);
  table.touch(key_n(2), created);
  table.touch(key_n(3), created);
  EXPECT_EQ(table.size(), 3u);
  table.touch(key_n(1), created);  // 1 is now the most recent; 2 the least
  EXPECT_FALSE(created);
  EXPECT_EQ(table.least_recent()->key, key_n(2));
  table.touch(key_n(4), created);
  EXPECT_TRUE(created);
  EXPECT_EQ(table.evictions(), 1u);
  EXPECT_EQ(table.find(key_n(2)), nullptr);
  EXPECT_NE(table.find(key_n(1)), nullptr);
  EXPECT_NE(table.find(key_n(3)), nullptr);
  EXPECT_NE(table.find(key_n(4)), nullptr);
  table.touch(key_n(5), created);  // evicts 3
  EXPECT_EQ(table.find(key_n(3)), nullptr);
  EXPECT_EQ(table.evictions(), 2u);
  EXPECT_EQ(table.size(), 3u);
  std::vector<uint16_t> order;
  table.for_each([&](const FlowEntry& e) { order.push_back(e.key.lo_port); });
  EXPECT_EQ(order, (std::vector<uint16_t>{5, 4, 1}));
}

TEST(FlowTableTest, StaysBoundedUnderManyKeysAndKeepsCountersOfSurvivors) {
  FlowTable table(100, false);
  bool created = false;
  for (uint32_t i = 0; i < 50000; ++i) {
    FlowEntry& e = table.touch(key_n(static_cast<uint16_t>(i)), created);
    table.count(e, 0, i, 100);
  }
  EXPECT_EQ(table.size(), 100u);
  EXPECT_EQ(table.evictions(), 50000u - 100u);
  // The last 100 keys survive, each seen once (new entries start from zero).
  for (uint32_t i = 49900; i < 50000; ++i) {
    const FlowEntry* e = table.find(key_n(static_cast<uint16_t>(i)));
    ASSERT_NE(e, nullptr) << i;
    EXPECT_EQ(e->counters[0].packets, 1u);
  }
}

TEST(FlowTableTest, EvictedCountersAddUpWithTheRowsToEverythingCounted) {
  FlowTable table(7, false);
  bool created = false;
  uint64_t bytes = 0, packets = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    FlowEntry& e = table.touch(key_n(static_cast<uint16_t>(i % 50)), created);
    table.count(e, static_cast<int>(i % 2), i, i + 1);
    bytes += i + 1;
    ++packets;
  }
  uint64_t row_bytes = 0, row_packets = 0;
  table.for_each([&](const FlowEntry& e) {
    row_bytes += e.total_bytes();
    row_packets += e.total_packets();
  });
  const auto& ev = table.evicted();
  EXPECT_GT(table.evictions(), 0u);
  EXPECT_EQ(row_bytes + ev[0].bytes + ev[1].bytes, bytes);
  EXPECT_EQ(row_packets + ev[0].packets + ev[1].packets, packets);
}

TEST(FlowTableTest, UnboundedTableKeepsEveryKeyAcrossChunksAndRehashes) {
  FlowTable table(FlowTable::kUnbounded, false);
  EXPECT_FALSE(table.bounded());
  bool created = false;
  // Each key twice; 20000 keys span several 4096-entry chunks and bucket doublings.
  FlowEntry* first = nullptr;
  for (int round = 0; round < 2; ++round) {
    for (uint32_t i = 0; i < 20000; ++i) {
      FlowKey k = key_n(static_cast<uint16_t>(i));
      k.hi_port = static_cast<uint16_t>(i >> 16);
      FlowEntry& e = table.touch(k, created);
      EXPECT_EQ(created, round == 0);
      if (i == 0 && round == 0) first = &e;
      table.count(e, round, i, i);
    }
  }
  EXPECT_EQ(table.size(), 20000u);
  EXPECT_EQ(table.evictions(), 0u);
  EXPECT_EQ(table.least_recent(), nullptr);
  EXPECT_EQ(first, table.find(key_n(0)));  // growing moved no entry
  for (uint32_t i = 0; i < 20000; i += 997) {
    const FlowEntry* e = table.find(key_n(static_cast<uint16_t>(i)));
    ASSERT_NE(e, nullptr) << i;
    EXPECT_EQ(e->counters[0].bytes, i);
    EXPECT_EQ(e->counters[1].bytes, i);
  }
  size_t visited = 0;
  table.for_each([&](const FlowEntry&) { ++visited; });
  EXPECT_EQ(visited, 20000u);
}

TEST(FlowTableTest, RateRingsAreKeptOnlyWhenAskedAndResetOnEviction) {
  FlowTable plain(2, false);
  bool created = false;
  FlowEntry& p = plain.touch(key_n(1), created);
  plain.count(p, 0, 10, 100);
  EXPECT_EQ(plain.history(p), nullptr);
  EXPECT_EQ(p.counters[0].bytes, 100u);

  FlowTable live(2, true);
  FlowEntry& a = live.touch(key_n(1), created);
  live.count(a, 0, 10, 100);
  live.count(a, 1, 10, 7);
  ASSERT_NE(live.history(a), nullptr);
  EXPECT_EQ((*live.history(a))[0].sum(11, 2), 100u);
  EXPECT_EQ((*live.history(a))[1].sum(11, 2), 7u);
  live.touch(key_n(2), created);
  FlowEntry& c = live.touch(key_n(3), created);  // evicts key 1 and reuses its slot
  EXPECT_EQ(live.find(key_n(1)), nullptr);
  EXPECT_EQ((*live.history(c))[0].sum(11, 2), 0u);
}

TEST(RateHistoryTest, WindowsSumTheWholeSecondsBeforeNow) {
  RateHistory h;
  for (int64_t s = 1000; s < 1040; ++s) h.add(s, static_cast<uint64_t>(s - 999));  // 1..40
  h.add(1040, 1000);  // the current, partial second: not in any window
  EXPECT_EQ(h.sum(1040, 2), 39u + 40u);
  EXPECT_EQ(h.sum(1040, 10), 31u * 10 + 45);     // 31..40
  EXPECT_EQ(h.sum(1040, 40), 40u * 41 / 2 - 1);  // 2..40: second 1000 left the ring
}

TEST(RateHistoryTest, GapsReadAsZeroAndOldSecondsAreForgotten) {
  RateHistory h;
  h.add(100, 500);
  h.add(100, 500);
  EXPECT_EQ(h.sum(101, 2), 1000u);
  EXPECT_EQ(h.sum(105, 2), 0u);
  h.add(150, 7);  // more than 40 s later: the ring starts over
  EXPECT_EQ(h.sum(151, 40), 7u);
  h.add(90, 99);  // too old to count
  EXPECT_EQ(h.sum(151, 40), 7u);
  h.add(149, 3);  // late but in range
  EXPECT_EQ(h.sum(151, 2), 10u);
}

TEST(FlowStatsTest, FlowDirectionFollowsTheTcpInitiator) {
  FlowStats stats({Aggregation::kFlow, 10, false});
  auto syn = decode(
      ethernet(0x0800, ipv4({10, 0, 0, 9}, {10, 0, 0, 2}, 6, tcp(40000, 80, 1, 0, 0x02, 1000))));
  auto synack = decode(ethernet(0x0800, ipv4({10, 0, 0, 2}, {10, 0, 0, 9}, 6,
                                             tcp(80, 40000, 1, 2, 0x12, 1000, {}, text("hello")))));
  stats.add(syn, 10);
  stats.add(synack, 10);
  stats.add(synack, 11);
  ASSERT_EQ(stats.table().size(), 1u);
  const FlowEntry* e = stats.top(0).front();
  EXPECT_FALSE(e->a_is_lo);  // A is the SYN sender 10.0.0.9
  EXPECT_EQ(e->counters[0].packets, 1u);
  EXPECT_EQ(e->counters[0].bytes, syn.wire_length);
  EXPECT_EQ(e->counters[1].packets, 2u);
  EXPECT_EQ(e->counters[1].bytes, 2u * synack.wire_length);
  EXPECT_EQ(e->peak_second, 10);
  EXPECT_EQ(e->peak_bytes, syn.wire_length + synack.wire_length);
  EXPECT_EQ(stats.totals().bytes, syn.wire_length + 2u * synack.wire_length);
}

TEST(FlowStatsTest, HostViewCountsSentAndReceived) {
  FlowStats stats({Aggregation::kHost, 10, false});
  auto p = decode(ethernet(0x0800, ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 17, udp(1, 2, text("x")))));
  stats.add(p, 1);
  stats.add(p, 1);
  ASSERT_EQ(stats.table().size(), 2u);
  uint64_t sent = 0, received = 0;
  stats.table().for_each([&](const FlowEntry& e) {
    sent += e.counters[0].bytes;
    received += e.counters[1].bytes;
  });
  EXPECT_EQ(sent, 2u * p.wire_length);
  EXPECT_EQ(received, 2u * p.wire_length);
}

}  // namespace
}  // namespace netres::capture
