// Per-host tallies for the table, and banner sanitizing.
#include "scan/scan_report.h"

#include <gtest/gtest.h>

using namespace netres::scan;

namespace {

PortResult result(uint64_t host, uint16_t port, PortState s, Reason r = Reason::kNoResponse) {
  PortResult p;
  p.host_index = host;
  p.port = port;
  p.state = s;
  p.reason = r;
  return p;
}

}  // namespace

TEST(ScanReport, ListsFewSummarizesMany) {
  ScanReport report(true, 3);
  for (uint16_t p = 1; p <= 100; ++p) report.add(result(0, p, PortState::kClosed));
  report.add(result(0, 200, PortState::kFiltered));
  report.add(result(0, 22, PortState::kOpen));
  report.add(result(1, 80, PortState::kClosed));
  auto hosts = report.hosts();
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].of(PortState::kClosed), 100u);
  ASSERT_EQ(hosts[0].listed.size(), 2u);  // 22 open, 200 filtered; closed summarized
  EXPECT_EQ(hosts[0].listed[0].port, 22);
  EXPECT_EQ(hosts[0].listed[1].port, 200);
  EXPECT_EQ(hosts[1].listed.size(), 1u);
}

TEST(ScanReport, UnreachableHosts) {
  ScanReport report(false);
  report.add(result(0, 1, PortState::kFiltered, Reason::kHostUnreach));
  report.add(result(0, 2, PortState::kFiltered, Reason::kNetUnreach));
  report.add(result(1, 1, PortState::kFiltered, Reason::kHostUnreach));
  report.add(result(1, 2, PortState::kFiltered, Reason::kNoResponse));
  EXPECT_EQ(report.unreachable_hosts(), 1u);
  EXPECT_TRUE(report.hosts()[0].listed.empty());
}

TEST(SanitizeBanner, OnePrintableLine) {
  EXPECT_EQ(sanitize_banner("SSH-2.0-OpenSSH_9.2\r\n"), "SSH-2.0-OpenSSH_9.2");
  EXPECT_EQ(sanitize_banner("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n"), "HTTP/1.0 200 OK Server: x");
  EXPECT_EQ(sanitize_banner(std::string("a\0b\x1b[31m\xff", 9)), "a.b.[31m.");
  EXPECT_EQ(sanitize_banner(std::string(200, 'x'), 10), std::string(10, 'x'));
  EXPECT_EQ(sanitize_banner(""), "");
}
