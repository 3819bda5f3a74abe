// The iface check's /sys parsing, glob matching and rate math, on fake /sys/class/net trees.
#include "monitor/iface_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace netres::monitor {
namespace {

namespace fs = std::filesystem;

class FakeSys : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("netres-iface-test-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void put(const std::string& rel, const std::string& text) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  // An interface as the kernel lays it out; counters start at `base`.
  void add(const std::string& name, uint64_t base, const std::string& oper = "up",
           const std::string& flags = "0x1003", const std::string& speed = "1000", int index = 7) {
    const char* files[] = {"rx_bytes",  "tx_bytes",  "rx_packets", "tx_packets",
                           "rx_errors", "tx_errors", "rx_dropped", "tx_dropped"};
    uint64_t v = base;
    for (const char* f : files) put(name + "/statistics/" + f, std::to_string(v++) + "\n");
    put(name + "/operstate", oper + "\n");
    put(name + "/flags", flags + "\n");
    put(name + "/ifindex", std::to_string(index) + "\n");
    if (!speed.empty()) put(name + "/speed", speed + "\n");
  }
  std::string root() const { return root_.string(); }

  fs::path root_;
};

TEST_F(FakeSys, ReadsCountersStateAndSpeed) {
  add("eth0", 100);
  auto s = read_interface(root(), "eth0");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->device, "eth0");
  EXPECT_EQ(s->counters.rx_bytes, 100u);
  EXPECT_EQ(s->counters.tx_bytes, 101u);
  EXPECT_EQ(s->counters.rx_packets, 102u);
  EXPECT_EQ(s->counters.tx_packets, 103u);
  EXPECT_EQ(s->counters.rx_errors, 104u);
  EXPECT_EQ(s->counters.tx_errors, 105u);
  EXPECT_EQ(s->counters.rx_dropped, 106u);
  EXPECT_EQ(s->counters.tx_dropped, 107u);
  EXPECT_EQ(s->ifindex, 7);
  EXPECT_TRUE(s->admin_up);
  EXPECT_TRUE(s->oper_up());
  EXPECT_FALSE(s->down());
  ASSERT_TRUE(s->speed_bytes);
  EXPECT_DOUBLE_EQ(*s->speed_bytes, 125e6);  // 1000 Mbit/s
  // Without the optional files, the other columns, carrier and mtu are absent, not zero.
  EXPECT_FALSE(s->counters.multicast);
  EXPECT_FALSE(s->counters.tx_compressed);
  EXPECT_FALSE(s->carrier);
  EXPECT_FALSE(s->mtu);
}

TEST_F(FakeSys, ReadsTheOtherColumnsCarrierAndMtu) {
  add("eth0", 0);
  const char* files[] = {"rx_fifo_errors", "rx_frame_errors",   "rx_compressed", "multicast",
                         "tx_fifo_errors", "tx_carrier_errors", "tx_compressed"};
  uint64_t v = 200;
  for (const char* f : files) put(std::string("eth0/statistics/") + f, std::to_string(v++) + "\n");
  put("eth0/statistics/collisions", "garbage\n");  // unreadable: absent, the sample stands
  put("eth0/carrier", "1\n");
  put("eth0/mtu", "1400\n");
  // /proc/net/dev's frame and carrier columns are sums of four kinds each.
  put("eth0/statistics/rx_crc_errors", "1000\n");
  put("eth0/statistics/tx_aborted_errors", "2000\n");
  auto s = read_interface(root(), "eth0");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->counters.rx_fifo_errors, 200u);
  EXPECT_EQ(s->counters.rx_frame_errors, 1201u);
  EXPECT_EQ(s->counters.rx_compressed, 202u);
  EXPECT_EQ(s->counters.multicast, 203u);
  EXPECT_EQ(s->counters.tx_fifo_errors, 204u);
  EXPECT_EQ(s->counters.tx_carrier_errors, 2205u);
  EXPECT_EQ(s->counters.tx_compressed, 206u);
  EXPECT_FALSE(s->counters.collisions);
  EXPECT_EQ(s->carrier, 1);
  EXPECT_EQ(s->mtu, 1400);
  // carrier while admin down: the kernel answers EINVAL, an empty read here.
  put("eth0/carrier", "");
  s = read_interface(root(), "eth0");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->carrier);
}

TEST_F(FakeSys, UnknownSpeedIsAbsent) {
  add("veth0", 0, "up", "0x1003", "-1");
  add("dummy0", 0, "unknown", "0x1003", "");  // no speed file at all
  add("eth1", 0, "down", "0x1002", "garbage");
  for (const char* n : {"veth0", "dummy0", "eth1"}) {
    auto s = read_interface(root(), n);
    ASSERT_TRUE(s) << n;
    EXPECT_FALSE(s->speed_bytes) << n;
  }
}

TEST_F(FakeSys, DownStates) {
  add("lo", 0, "unknown", "0x9");   // loopback: never "up", but not down
  add("admin", 0, "up", "0x1002");  // flags without IFF_UP
  add("nocarrier", 0, "lowerlayerdown", "0x1003");
  add("dormant", 0, "down", "0x1003");
  auto lo = read_interface(root(), "lo");
  EXPECT_FALSE(lo->down());
  EXPECT_FALSE(lo->oper_up());  // node_exporter's node_network_up is 0 for lo
  EXPECT_TRUE(read_interface(root(), "admin")->down());
  EXPECT_TRUE(read_interface(root(), "nocarrier")->down());
  EXPECT_TRUE(read_interface(root(), "dormant")->down());
}

TEST_F(FakeSys, MissingOrBrokenStatisticsMeanGone) {
  EXPECT_FALSE(read_interface(root(), "nope"));
  add("half", 0);
  fs::remove(root_ / "half/statistics/tx_dropped");
  EXPECT_FALSE(read_interface(root(), "half"));
  add("bad", 0);
  put("bad/statistics/rx_bytes", "12x\n");
  EXPECT_FALSE(read_interface(root(), "bad"));
  put("bad/statistics/rx_bytes", "-5\n");
  EXPECT_FALSE(read_interface(root(), "bad"));
}

TEST_F(FakeSys, GlobMatching) {
  for (const char* n : {"veth1", "veth0", "vethab", "eth0", "lo", "br-veth"}) add(n, 0);
  EXPECT_EQ(match_interfaces(root(), "veth*"),
            (std::vector<std::string>{"veth0", "veth1", "vethab"}));
  EXPECT_EQ(match_interfaces(root(), "veth?"), (std::vector<std::string>{"veth0", "veth1"}));
  EXPECT_EQ(match_interfaces(root(), "veth[1]"), (std::vector<std::string>{"veth1"}));
  EXPECT_EQ(match_interfaces(root(), "eth0"), (std::vector<std::string>{"eth0"}));
  EXPECT_TRUE(match_interfaces(root(), "wlan*").empty());
  EXPECT_TRUE(match_interfaces(root() + "/absent", "*").empty());
  EXPECT_EQ(match_interfaces(root(), "*").size(), 6u);
}

TEST(IfaceRates, BytesPerSecondBothWays) {
  IfaceSample a, b;
  a.ifindex = b.ifindex = 3;
  a.counters.rx_bytes = 1000;
  a.counters.tx_bytes = 50;
  b.counters.rx_bytes = 3000;
  b.counters.tx_bytes = 50;
  auto r = iface_rates(a, b, 2.0);
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->rx_bytes_per_s, 1000);
  EXPECT_DOUBLE_EQ(r->tx_bytes_per_s, 0);
}

TEST(IfaceRates, NoRateOnResetRecreationOrNoTime) {
  IfaceSample a, b;
  a.ifindex = b.ifindex = 3;
  a.counters.rx_bytes = 5000;
  b.counters.rx_bytes = 10;  // counters went back: the interface was reset
  EXPECT_FALSE(iface_rates(a, b, 1.0));
  b.counters.rx_bytes = 6000;
  b.ifindex = 4;  // created again: counting from zero even if above the old value
  EXPECT_FALSE(iface_rates(a, b, 1.0));
  b.ifindex = 3;
  EXPECT_FALSE(iface_rates(a, b, 0.0));
  EXPECT_FALSE(iface_rates(a, b, -1.0));
  b.counters.tx_packets = 0;
  a.counters.tx_packets = 1;
  EXPECT_FALSE(iface_rates(a, b, 1.0));
}

TEST(IfacePattern, Problems) {
  EXPECT_EQ(iface_pattern_problem("eth0"), "");
  EXPECT_EQ(iface_pattern_problem("veth*"), "");
  EXPECT_EQ(iface_pattern_problem("br-[ab]?"), "");
  EXPECT_NE(iface_pattern_problem(""), "");
  EXPECT_NE(iface_pattern_problem("../etc"), "");
  EXPECT_NE(iface_pattern_problem(".."), "");
  EXPECT_NE(iface_pattern_problem("eth 0"), "");
  EXPECT_NE(iface_pattern_problem(std::string(65, 'a')), "");
}

}  // namespace
}  // namespace netres::monitor
