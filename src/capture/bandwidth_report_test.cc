// What bandwidth prints: row keys per view, the NDJSON objects, the windowed
// rates and the tables (read back from a temporary file).
#include "capture/bandwidth_report.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "capture/packet_builder_test.h"
#include "common/test_util.h"

namespace netres::capture {
namespace {

using namespace testing;  // NOLINT: packet builders

// Feeds packets into `stats` at `second`; the packets outlive their decoded views.
void feed(FlowStats& stats, const Packet& p, int64_t second, int times = 1) {
  PacketView v;
  decode_packet(linktype::kEthernet, p, 0, v);
  for (int i = 0; i < times; ++i) stats.add(v, second);
}

const Packet kUdp4 =  // 10.0.0.9:40000 -> 10.0.0.2:53, 43 bytes on the wire
    ethernet(0x0800, ipv4({10, 0, 0, 9}, {10, 0, 0, 2}, 17, udp(40000, 53, text("x"))));
// A SYN from 10.0.0.9:40000 to 10.0.0.2:80, 54 bytes: its sender is endpoint A.
const Packet kSyn =
    ethernet(0x0800, ipv4({10, 0, 0, 9}, {10, 0, 0, 2}, 6, tcp(40000, 80, 1, 0, 0x02, 1000)));

// Every row's key as text, sorted.
std::vector<std::string> keys(const FlowStats& stats) {
  std::vector<std::string> out;
  for (const FlowEntry* e : stats.top(0)) out.push_back(key_text(stats.by(), *e));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(BandwidthReportTest, UtcSecond) {
  EXPECT_EQ(format_utc_second(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc_second(1'700'000'000), "2023-11-14T22:13:20Z");
}

TEST(BandwidthReportTest, KeyTextPerView) {
  using V = std::vector<std::string>;
  FlowStats flows({Aggregation::kFlow, 10, false}), hosts({Aggregation::kHost, 10, false}),
      ports({Aggregation::kPort, 10, false}), protos({Aggregation::kProto, 10, false});
  for (FlowStats* s : {&flows, &hosts, &ports, &protos}) feed(*s, kSyn, 1);
  EXPECT_EQ(keys(flows), V{"tcp 10.0.0.9:40000 <=> 10.0.0.2:80"});
  EXPECT_EQ(keys(hosts), (V{"10.0.0.2", "10.0.0.9"}));
  EXPECT_EQ(keys(ports), (V{"tcp/40000", "tcp/80"}));
  EXPECT_EQ(keys(protos), V{"tcp"});
}

TEST(BandwidthReportTest, Ipv6PortsAreBracketedAndIcmpHasNone) {
  FlowStats v6({Aggregation::kFlow, 10, false});
  feed(v6, ethernet(0x86dd, ipv6(1, 2, 17, udp(5353, 53, text("q")))), 1);
  EXPECT_EQ(key_text(Aggregation::kFlow, *v6.top(0).front()),
            "udp [2001:db8::1]:5353 <=> [2001:db8::2]:53");
  FlowStats icmp({Aggregation::kFlow, 10, false});
  feed(icmp, ethernet(0x0800, ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 1, {8, 0, 0, 0, 0, 1, 0, 1})), 1);
  const FlowEntry& e = *icmp.top(0).front();
  EXPECT_EQ(key_text(Aggregation::kFlow, e), "icmp 10.0.0.1 <=> 10.0.0.2");
  nlohmann::json j;
  add_key_json(j, Aggregation::kFlow, e);
  EXPECT_EQ(j, (nlohmann::json{{"proto", "icmp"}, {"a", "10.0.0.1"}, {"b", "10.0.0.2"}}));
}

TEST(BandwidthReportTest, FlowTotalsJsonFollowsDirectionAToB) {
  FlowStats stats({Aggregation::kFlow, 10, false});
  feed(stats, kSyn, 7, 3);
  nlohmann::json j = totals_json(Aggregation::kFlow, *stats.top(0).front());
  EXPECT_EQ(j["type"], "flow");
  EXPECT_EQ(j["a"], "10.0.0.9");  // the SYN sender is A, though it sorts after B
  EXPECT_EQ(j["a_port"], 40000);
  EXPECT_EQ(j["b"], "10.0.0.2");
  EXPECT_EQ(j["b_port"], 80);
  EXPECT_EQ(j["packets_a_to_b"], 3);
  EXPECT_EQ(j["bytes_a_to_b"], 162);
  EXPECT_EQ(j["packets_b_to_a"], 0);
  EXPECT_EQ(j["bytes"], 162);
  EXPECT_EQ(j["peak_second"], 7);
  EXPECT_EQ(j["peak_bytes"], 162);
}

TEST(BandwidthReportTest, ProtoTotalsJsonHasNoDirections) {
  FlowStats stats({Aggregation::kProto, 10, false});
  feed(stats, kUdp4, 7);
  nlohmann::json j = totals_json(Aggregation::kProto, *stats.top(0).front());
  EXPECT_EQ(j["type"], "proto");
  EXPECT_EQ(j["proto"], "udp");
  EXPECT_FALSE(j.contains("packets_sent"));
  EXPECT_EQ(j["packets"], 1);
}

TEST(BandwidthReportTest, RateOfAYoungRunDividesByItsAge) {
  RateHistory h;
  h.add(100, 1000);
  h.add(101, 1000);
  // 40 s window, run started at 100: two whole seconds elapsed before 102.
  EXPECT_DOUBLE_EQ(rate_bits(h, 102, 40, 100), 2000.0 * 8 / 2);
  // An old run divides by the whole window.
  EXPECT_DOUBLE_EQ(rate_bits(h, 102, 40, 0), 2000.0 * 8 / 40);
  // The run's first second counts as one.
  EXPECT_DOUBLE_EQ(rate_bits(h, 100, 2, 100), 0.0);
}

TEST(BandwidthReportTest, EvictionWarningNamesTheViewAndTheBound) {
  FlowStats stats({Aggregation::kHost, 1, false});
  feed(stats, kUdp4, 1'700'000'000, 2);
  EXPECT_EQ(eviction_text(stats, 1),
            "3 hosts evicted from the full table (--max-flows 1); their packets are in the "
            "'other / evicted' row");
}

TEST(BandwidthReportTest, TotalsTableEndsWithEvictedRowAndSummary) {
  // One row: each packet's two hosts take turns in it, so three of the four are evicted.
  FlowStats stats({Aggregation::kHost, 1, false});
  feed(stats, kUdp4, 1'700'000'000, 2);
  std::string text = test_util::printed([&](std::FILE* f) { print_totals(f, stats, false, 0); });
  EXPECT_NE(text.find("other / evicted (3 hosts)         2         86        1        43        3  "
                      "  129       -  -\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n2 packets, 86 bytes (86B), 1 hosts, 3 evicted (--max-flows 1)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("busiest second: 2023-11-14T22:13:20Z with 86 bytes (688b/s)\n"),
            std::string::npos)
      << text;
}

TEST(BandwidthReportTest, TotalsNdjsonIsRowsOtherAndSummary) {
  FlowStats stats({Aggregation::kProto, 10, false});
  feed(stats, kUdp4, 5);
  std::string text = test_util::printed([&](std::FILE* f) { print_totals(f, stats, true, 0); });
  std::vector<nlohmann::json> lines;
  size_t at = 0;
  for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(nlohmann::json::parse(text.substr(at, nl - at)));
  ASSERT_EQ(lines.size(), 2u) << text;
  EXPECT_EQ(lines[0]["type"], "proto");
  EXPECT_EQ(lines[0]["proto"], "udp");
  EXPECT_EQ(lines[1]["type"], "summary");
  EXPECT_EQ(lines[1]["rows"], 1);
  EXPECT_EQ(lines[1]["evicted"], 0);
  EXPECT_EQ(lines[1]["bytes"], 43);
}

TEST(BandwidthReportTest, LiveSnapshotHasRatesPerWindowAndDirection) {
  FlowStats stats({Aggregation::kFlow, 10, true});
  feed(stats, kSyn, 100, 10);  // 540 bytes from A in second 100, a run started then
  std::string text =
      test_util::printed([&](std::FILE* f) { print_live(f, stats, 10, 101, 100, true, false); });
  nlohmann::json snap = nlohmann::json::parse(text);
  EXPECT_EQ(snap["type"], "snapshot");
  EXPECT_EQ(snap["time"], 101);
  ASSERT_EQ(snap["rows"].size(), 1u);
  const auto& r = snap["rows"][0];
  EXPECT_EQ(r["a"], "10.0.0.9");
  // One second old: every window divides by one second.
  EXPECT_DOUBLE_EQ(r["bps_2s_a_to_b"].get<double>(), 540.0 * 8);
  EXPECT_DOUBLE_EQ(r["bps_40s_a_to_b"].get<double>(), 540.0 * 8);
  EXPECT_DOUBLE_EQ(r["bps_10s_b_to_a"].get<double>(), 0.0);
  EXPECT_EQ(r["bytes"], 540);
}

TEST(BandwidthReportTest, LiveTableOffATerminalIsHeadedByItsTime) {
  FlowStats stats({Aggregation::kProto, 10, true});
  feed(stats, kUdp4, 1'700'000'000, 10);
  std::string text = test_util::printed(
      [&](std::FILE* f) { print_live(f, stats, 10, 1'700'000'001, 0, false, false); });
  EXPECT_EQ(text.rfind("2023-11-14T22:13:21Z\n", 0), 0u) << text;  // headed by `now`
  // 430 B * 8 over 2, 10 and 40 s (a run older than every window).
  EXPECT_NE(text.find("\nudp    1.72Kb  344b  86b   430B\n"), std::string::npos) << text;
  EXPECT_NE(text.find("total: 10 packets, 430B, 1 protos\n\n"), std::string::npos) << text;
  std::string term = test_util::printed(
      [&](std::FILE* f) { print_live(f, stats, 10, 1'700'000'001, 0, false, true); });
  EXPECT_EQ(term.rfind("\033[H\033[2J", 0), 0u);  // redraws in place
}

}  // namespace
}  // namespace netres::capture
