// Targets, excludes, hostnames (through a fake resolver) and -iL files into an indexed space.
#include "scan/target_space.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "common/error.h"

using netres::IpAddress;
using netres::PortSet;
using netres::UsageError;
using namespace netres::scan;

namespace {

std::vector<ResolvedName> fake_dns(const std::vector<std::string>& names) {
  std::vector<ResolvedName> out;
  for (const auto& n : names) {
    ResolvedName r{n, {}, {}};
    if (n == "dual.test") {
      r.addresses = {*netres::parse_ip("198.18.10.2"), *netres::parse_ip("fd00:6e72:10::2")};
    } else if (n == "gw.test") {
      r.addresses = {*netres::parse_ip("198.18.10.1")};
    } else {
      r.error = "NXDOMAIN";
    }
    out.push_back(r);
  }
  return out;
}

TargetSpaceBuild build(const std::string& targets, const std::string& excludes = "",
                       PortSet ports = PortSet({22, 80})) {
  return build_target_space(split_target_list(targets), split_target_list(excludes), ports,
                            fake_dns);
}

std::string error_of(const std::string& targets, const std::string& excludes = "") {
  try {
    build(targets, excludes);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(TargetSpace, IndexesHostsInOrderAcrossRanges) {
  auto b = build("10.0.0.5,10.0.0.1-3,fd00::1/127,10.0.0.2");
  const auto& s = b.space;
  ASSERT_EQ(s.host_count(), 6u);  // 10.0.0.2 deduplicated
  std::vector<std::string> hosts;
  for (uint64_t i = 0; i < s.host_count(); ++i) hosts.push_back(s.host(i).to_string());
  EXPECT_EQ(hosts, (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5",
                                             "fd00::", "fd00::1"}));
  EXPECT_EQ(s.pair_count(), 12u);
  std::set<std::pair<uint64_t, uint16_t>> pairs;
  for (uint64_t p = 0; p < s.pair_count(); ++p) pairs.insert({s.host_of(p), s.port_of(p)});
  EXPECT_EQ(pairs.size(), 12u);
}

TEST(TargetSpace, Excludes) {
  auto b = build("10.0.0.0/24", "10.0.0.0,10.0.0.128/25");
  EXPECT_EQ(b.space.host_count(), 127u);
  EXPECT_EQ(b.excluded_hosts, 129u);
  EXPECT_EQ(b.space.host(0).to_string(), "10.0.0.1");
  EXPECT_EQ(error_of("10.0.0.0/24", "10.0.0.0/16"), "no targets left after --exclude");
  // Excluding by name excludes its addresses.
  EXPECT_EQ(build("198.18.10.0/30", "gw.test").space.host_count(), 3u);
}

TEST(TargetSpace, Hostnames) {
  auto b = build("dual.test,missing.test,10.0.0.1");
  EXPECT_EQ(b.space.host_count(), 3u);
  ASSERT_EQ(b.unresolved.size(), 1u);
  EXPECT_EQ(b.unresolved[0].name, "missing.test");
  EXPECT_EQ(b.unresolved[0].error, "NXDOMAIN");
  EXPECT_EQ(b.space.name_of(*netres::parse_ip("fd00:6e72:10::2")), "dual.test");
  EXPECT_EQ(b.space.name_of(*netres::parse_ip("10.0.0.1")), "");
  // Only failed names: an empty space, no usage error (the caller exits 1).
  EXPECT_EQ(build("missing.test").space.host_count(), 0u);
}

TEST(TargetSpace, BadInput) {
  EXPECT_EQ(error_of("10.0.0.0/33"), "bad CIDR prefix in '10.0.0.0/33': IPv4 prefixes are 0-32");
  EXPECT_EQ(error_of("10.0.0.9-1"), "bad range '10.0.0.9-1': start is above end");
  EXPECT_EQ(error_of("what?"), "bad target 'what?': not an address, CIDR block, range or hostname");
  EXPECT_NE(error_of("fd00::/64").find("too large"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.0/7").find("too large"), std::string::npos);
  EXPECT_EQ(error_of("10.0.0.0/8"), "(no error)");
  EXPECT_NE(error_of("10.0.0.0/8,11.0.0.0/24").find("the target space is too large"),
            std::string::npos);
  EXPECT_NE(error_of("").find("no targets"), std::string::npos);
  EXPECT_THROW(build("10.0.0.1", "", PortSet()), UsageError);
}

TEST(TargetSpace, TargetFile) {
  std::string path = ::testing::TempDir() + "netres_targets.txt";
  {
    std::ofstream f(path);
    f << "# lab hosts\n10.0.0.1 10.0.0.2\n\n10.0.0.8/30, gw.test # gateway\r\n";
  }
  auto items = read_target_file(path);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[2].text, "10.0.0.8/30");
  EXPECT_EQ(items[2].origin, path + ":4");
  EXPECT_EQ(build_target_space(items, {}, PortSet({1}), fake_dns).space.host_count(), 7u);

  {
    std::ofstream f(path);
    f << "10.0.0.1\n10.0.0.0/99\n";
  }
  try {
    build_target_space(read_target_file(path), {}, PortSet({1}), fake_dns);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ":2: bad CIDR prefix in '10.0.0.0/99': IPv4 prefixes are 0-32");
  }
  std::remove(path.c_str());
  try {
    read_target_file("/nonexistent/targets.txt");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot read target list '/nonexistent/targets.txt': No such file or directory");
  }
}
