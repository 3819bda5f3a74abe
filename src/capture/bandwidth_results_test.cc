// bandwidth results files: shards' data merged print exactly what one run over all packets prints.
#include "capture/bandwidth_results.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "capture/bandwidth_report.h"
#include "capture/packet_builder_test.h"
#include "common/error.h"
#include "common/test_util.h"

namespace netres::capture {
namespace {

using namespace testing;  // NOLINT: packet builders

struct Timed {
  Packet packet;
  int64_t second;
};

void feed(FlowStats& stats, const std::vector<Timed>& packets, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    PacketView v;
    decode_packet(linktype::kEthernet, packets[i].packet, 0, v);
    stats.add(v, packets[i].second);
  }
}

// A conversation whose SYN is in the first part and whose replies run on into the next parts
// (one second shared across a part boundary), a UDP exchange, ARP, and an ICMP pair.
std::vector<Timed> traffic() {
  auto tcp4 = [](uint8_t a, uint8_t b, uint16_t sp, uint16_t dp, uint8_t flags, size_t len) {
    return ethernet(0x0800, ipv4({10, 0, 0, a}, {10, 0, 0, b}, 6,
                                 tcp(sp, dp, 1, 0, flags, 1000, {}, text(std::string(len, 'x')))));
  };
  std::vector<Timed> out;
  out.push_back({tcp4(9, 2, 40000, 80, 0x02, 0), 100});
  out.push_back({tcp4(2, 9, 80, 40000, 0x12, 0), 100});
  for (int i = 0; i < 6; ++i) out.push_back({tcp4(2, 9, 80, 40000, 0x10, 200 + i), 101 + i / 3});
  out.push_back(
      {ethernet(0x0800, ipv4({10, 0, 0, 5}, {10, 0, 0, 6}, 17, udp(5000, 53, text("q")))), 102});
  out.push_back({ethernet(0x0806, Packet(28, 0)), 102});
  for (int i = 0; i < 4; ++i) out.push_back({tcp4(9, 2, 40000, 80, 0x10, 10 * i), 102});
  out.push_back({tcp4(3, 4, 1000, 2000, 0x10, 700), 103});
  return out;
}

class BandwidthResultsTest : public ::testing::TestWithParam<Aggregation> {};

TEST_P(BandwidthResultsTest, ShardsMergeToOneRun) {
  const Aggregation by = GetParam();
  auto packets = traffic();
  FlowStats one({by, FlowTable::kUnbounded, false});
  feed(one, packets, 0, packets.size());

  // Three parts as three shards' files; each shard's data goes through JSON text.
  const size_t cuts[] = {0, 4, 11, packets.size()};
  std::vector<nlohmann::json> data;
  for (int k = 0; k < 3; ++k) {
    FlowStats part({by, FlowTable::kUnbounded, false, true});
    feed(part, packets, cuts[k], cuts[k + 1]);
    data.push_back(nlohmann::json::parse(bandwidth_data_json(part, {"f"}, false).dump()));
  }
  auto job = bandwidth_job_json(by, {"a", "b", "c"}, "", 0, 0, 0);
  auto merged = merge_bandwidth({&data[0], &data[1], &data[2]}, {"1", "2", "3"}, job);
  for (bool json : {false, true}) {
    EXPECT_EQ(test_util::printed([&](std::FILE* f) { print_totals(f, *merged, json, 0); }),
              test_util::printed([&](std::FILE* f) { print_totals(f, one, json, 0); }))
        << aggregation_name(by) << (json ? " json" : " table");
  }
  // The merged data is a results file of its own: merging it alone changes nothing.
  auto again_data = bandwidth_data_json(*merged, {"f"}, false);
  auto again = merge_bandwidth({&again_data}, {"m"}, job);
  EXPECT_EQ(test_util::printed([&](std::FILE* f) { print_totals(f, *again, false, 0); }),
            test_util::printed([&](std::FILE* f) { print_totals(f, one, false, 0); }));
}

TEST(BandwidthResults, FilesMergeInShardOrderAndNameStoppedShards) {
  auto packets = traffic();
  FlowStats one({Aggregation::kFlow, FlowTable::kUnbounded, false});
  feed(one, packets, 0, packets.size());
  auto job = bandwidth_job_json(Aggregation::kFlow, {"a", "b"}, "", 0, 3, 0);
  std::vector<ResultsFile> files;
  const size_t cuts[] = {0, 7, packets.size()};
  for (uint64_t k = 1; k <= 2; ++k) {
    FlowStats part({Aggregation::kFlow, FlowTable::kUnbounded, false, true});
    feed(part, packets, cuts[k - 1], cuts[k]);
    std::string name = k == 1 ? "a" : "b";
    files.push_back(
        {"bandwidth", Shard{k, 2}, job, bandwidth_data_json(part, {name}, k == 2), name + ".json"});
  }
  std::swap(files[0], files[1]);  // given out of order: merged in shard order all the same
  BandwidthMerge m = merge_bandwidth_files(files);
  EXPECT_EQ(test_util::printed([&](std::FILE* f) { print_totals(f, *m.stats, false, 0); }),
            test_util::printed([&](std::FILE* f) { print_totals(f, one, false, 0); }));
  EXPECT_EQ(m.files, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.top, 3u);
  EXPECT_TRUE(m.interrupted);
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_EQ(m.warnings[0],
            "b.json (shard 2/2) was stopped before the end of its files: its counts are partial");
}

INSTANTIATE_TEST_SUITE_P(Views, BandwidthResultsTest,
                         ::testing::Values(Aggregation::kFlow, Aggregation::kHost,
                                           Aggregation::kPort, Aggregation::kProto));

TEST(BandwidthResults, EvictedRowsAddUp) {
  auto packets = traffic();
  FlowStats part({Aggregation::kFlow, 1, false, true});
  feed(part, packets, 0, packets.size());
  ASSERT_GT(part.table().evictions(), 0u);
  auto data = bandwidth_data_json(part, {"f"}, false);
  auto merged =
      merge_bandwidth({&data}, {"f"}, bandwidth_job_json(Aggregation::kFlow, {}, "", 0, 0, 1));
  EXPECT_EQ(merged->table().evictions(), part.table().evictions());
  EXPECT_EQ(merged->table().evicted()[0].bytes + merged->table().evicted()[1].bytes,
            part.table().evicted()[0].bytes + part.table().evicted()[1].bytes);
  EXPECT_EQ(merged->totals().bytes, part.totals().bytes);
}

TEST(BandwidthResults, BadDataIsAOneLineUsageError) {
  FlowStats part({Aggregation::kHost, FlowTable::kUnbounded, false, true});
  auto packets = traffic();
  feed(part, packets, 0, packets.size());
  auto data = bandwidth_data_json(part, {"f"}, false);
  auto host_job = bandwidth_job_json(Aggregation::kHost, {}, "", 0, 0, 0);
  auto check = [&](nlohmann::json broken, const nlohmann::json& job) {
    try {
      merge_bandwidth({&broken}, {"x.json"}, job);
      ADD_FAILURE() << "accepted " << broken.dump().substr(0, 200);
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      EXPECT_EQ(std::string(e.what()).rfind("x.json", 0), 0u) << e.what();
    }
  };
  auto broken = data;
  broken["rows"][0][1] = "zz";
  check(broken, host_job);
  broken = data;
  broken.erase("packets");
  check(broken, host_job);
  broken = data;
  broken["rows"][0][14].push_back(1);  // an odd bins array
  check(broken, host_job);
  broken = data;
  broken["rows"][0].erase(3);
  check(broken, host_job);
  broken = data;
  broken["bin_seconds"] = 10;
  check(broken, host_job);
  check(data, bandwidth_job_json(Aggregation::kFlow, {}, "", 0, 0, 0));  // rows per host
}

}  // namespace
}  // namespace netres::capture
