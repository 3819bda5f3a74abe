// Scan results files: the data round-trips, and shards merge to one run's results.
#include "scan/scan_results.h"

#include <gtest/gtest.h>

#include "common/error.h"

using namespace netres;
using namespace netres::scan;

namespace {

PortResult result(const char* address, uint16_t port, PortState s, Reason r) {
  PortResult p;
  p.address = *parse_ip(address);
  p.port = port;
  p.state = s;
  p.reason = r;
  p.attempts = 1;
  return p;
}

ScanRun shard_run(std::vector<PortResult> results) {
  ScanRun run;
  run.results = std::move(results);
  run.hosts = 2;
  run.ports = 3;
  run.pairs = run.results.size();
  run.attempts = run.results.size();
  run.elapsed = std::chrono::milliseconds(100);
  run.timeout = std::chrono::milliseconds(50);
  return run;
}

}  // namespace

TEST(ScanResults, DataRoundTrips) {
  ScanRun run = shard_run({result("10.0.0.2", 22, PortState::kOpen, Reason::kSynAck),
                           result("fd00::1", 80, PortState::kFiltered, Reason::kNoResponse),
                           result("10.0.0.1", 443, PortState::kClosed, Reason::kConnRefused)});
  run.results[0].rtt = Nanos(1234567);
  run.results[0].has_banner = true;
  run.results[0].banner = "SSH-2.0-x\r\n\x01\xff\xc3";
  run.names[*parse_ip("10.0.0.2")] = "gw.example";
  run.unresolved = {"cannot resolve 'x.example': NXDOMAIN"};
  run.seed = 42;
  run.interrupted = true;
  ScanRun back = scan_run_from_json(scan_data_json(run), "f");
  ASSERT_EQ(back.results.size(), 3u);
  // Grouped by address in the file: 10.0.0.1, 10.0.0.2, fd00::1.
  EXPECT_EQ(back.results[0].port, 443);
  EXPECT_EQ(back.results[0].reason, Reason::kConnRefused);
  EXPECT_EQ(back.results[1].rtt, Nanos(1234567));
  EXPECT_TRUE(back.results[1].has_banner);
  EXPECT_EQ(back.results[1].banner, run.results[0].banner);
  EXPECT_FALSE(back.results[2].has_banner);
  EXPECT_LT(back.results[2].rtt.count(), 0);
  EXPECT_EQ(back.names.at(*parse_ip("10.0.0.2")), "gw.example");
  EXPECT_EQ(back.unresolved, run.unresolved);
  EXPECT_EQ(back.seed, 42u);
  EXPECT_TRUE(back.interrupted);
  EXPECT_EQ(back.elapsed, run.elapsed);
}

TEST(ScanResults, BadDataIsAOneLineUsageError) {
  auto data = scan_data_json(shard_run({result("10.0.0.1", 1, PortState::kOpen, Reason::kSynAck)}));
  auto broken = data;
  broken["results"][0]["ports"][0][1] = "half-open";
  EXPECT_THROW(scan_run_from_json(broken, "f"), UsageError);
  broken = data;
  broken.erase("hosts");
  try {
    scan_run_from_json(broken, "f.json");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("f.json"), std::string::npos);
  }
  broken = data;
  broken["results"][0]["ports"][0][0] = 70000;
  EXPECT_THROW(scan_run_from_json(broken, "f"), UsageError);
  EXPECT_THROW(scan_run_from_json(nlohmann::json::array(), "f"), UsageError);
}

TEST(ScanResults, ShardsMergeInAddressAndPortOrder) {
  auto a = shard_run({result("10.0.0.2", 80, PortState::kOpen, Reason::kSynAck),
                      result("10.0.0.1", 22, PortState::kClosed, Reason::kConnRefused)});
  auto b = shard_run({result("10.0.0.1", 80, PortState::kFiltered, Reason::kNoResponse),
                      result("10.0.0.2", 22, PortState::kOpen, Reason::kSynAck)});
  b.elapsed = std::chrono::milliseconds(300);
  ScanMerge m = merge_scan_runs({a, b});
  EXPECT_EQ(m.duplicates, 0u);
  ASSERT_EQ(m.run.results.size(), 4u);
  EXPECT_EQ(m.run.results[0].address.to_string(), "10.0.0.1");
  EXPECT_EQ(m.run.results[0].port, 22);
  EXPECT_EQ(m.run.results[1].port, 80);
  EXPECT_EQ(m.run.results[2].host_index, 1u);
  EXPECT_EQ(m.run.results[0].host_index, 0u);
  EXPECT_EQ(m.run.pairs, 4u);
  EXPECT_EQ(m.run.attempts, 4u);
  EXPECT_EQ(m.run.elapsed, std::chrono::milliseconds(300));
  ScanCounts c = count_states(m.run.results);
  EXPECT_EQ(c.open, 2u);
  EXPECT_EQ(c.closed, 1u);
  EXPECT_EQ(c.filtered, 1u);
}

TEST(ScanResults, DuplicateKeepsTheMostInformativeState) {
  auto a = shard_run({result("10.0.0.1", 22, PortState::kFiltered, Reason::kNoResponse),
                      result("10.0.0.1", 23, PortState::kOpen, Reason::kSynAck)});
  auto b = shard_run({result("10.0.0.1", 22, PortState::kClosed, Reason::kConnRefused),
                      result("10.0.0.1", 23, PortState::kClosed, Reason::kConnRefused)});
  auto c = shard_run({result("10.0.0.1", 22, PortState::kOpen, Reason::kSynAck)});
  ScanMerge m = merge_scan_runs({a, b, c});
  ASSERT_EQ(m.run.results.size(), 2u);
  EXPECT_EQ(m.run.results[0].state, PortState::kOpen);
  EXPECT_EQ(m.run.results[0].reason, Reason::kSynAck);
  EXPECT_EQ(m.run.results[1].state, PortState::kOpen);
  EXPECT_EQ(m.duplicates, 3u);
  ASSERT_FALSE(m.duplicate_examples.empty());
  EXPECT_EQ(m.duplicate_examples[0], "10.0.0.1:22 filtered and closed");
}

TEST(ScanResults, MergingFilesNamesInterruptedShardsAndDuplicates) {
  auto a = shard_run({result("10.0.0.1", 22, PortState::kFiltered, Reason::kNoResponse)});
  auto b = shard_run({result("10.0.0.1", 22, PortState::kOpen, Reason::kSynAck),
                      result("10.0.0.1", 23, PortState::kClosed, Reason::kConnRefused)});
  b.interrupted = true;
  std::vector<ResultsFile> files = {{"scan", Shard{1, 2}, {}, scan_data_json(a), "s1.json"},
                                    {"scan", Shard{2, 2}, {}, scan_data_json(b), "s2.json"}};
  ScanMerge m = merge_scan_files(files);
  ASSERT_EQ(m.run.results.size(), 2u);
  EXPECT_EQ(m.run.results[0].state, PortState::kOpen);
  ASSERT_EQ(m.warnings.size(), 2u);
  EXPECT_EQ(m.warnings[0], "s2.json (shard 2/2) was interrupted: it holds 2 of its pairs");
  EXPECT_EQ(m.warnings[1],
            "1 (address, port) pair seen more than once, the most informative state kept: "
            "10.0.0.1:22 filtered and open");
  files[1].data = scan_data_json(shard_run({}));
  EXPECT_TRUE(merge_scan_files(files).warnings.empty());
}
