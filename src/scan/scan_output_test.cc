// The NDJSON line and the nmap-style table grouping, byte for byte.
#include "scan/scan_output.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "common/services.h"
#include "common/test_util.h"

using netres::IpAddress;
using netres::PortSet;
using namespace netres::scan;

namespace {

// Service names come from this machine's /etc/services: expectations ask the same table.
std::string svc(uint16_t port, const std::string& none) {
  auto name = netres::ServiceTable::system().name(port);
  return name.empty() ? none : std::string(name);
}

TargetSpace space() {
  std::map<IpAddress, std::string> names = {{*netres::parse_ip("198.18.0.2"), "web.test"}};
  return TargetSpace({*netres::parse_address_range("198.18.0.1-198.18.0.4")}, PortSet({22, 80}),
                     names);
}

PortResult result(const TargetSpace& s, uint64_t host, uint16_t port, PortState state,
                  Reason reason) {
  PortResult r;
  r.host_index = host;
  r.address = s.host(host);
  r.port = port;
  r.state = state;
  r.reason = reason;
  r.attempts = 1;
  return r;
}

std::string table_of(const TargetSpace& s, const ScanReport& report, bool open_only, bool banner) {
  return netres::test_util::printed(
      [&](std::FILE* f) { print_table(f, s, report, open_only, banner); });
}

std::string json_of(const TargetSpace& s, const PortResult& r) {
  fmt::memory_buffer out;
  append_json_line(out, s, r);
  return fmt::to_string(out);
}

}  // namespace

TEST(ScanOutput, JsonLineFieldsInOrder) {
  TargetSpace s = space();
  PortResult r = result(s, 1, 80, PortState::kOpen, Reason::kSynAck);
  r.rtt = std::chrono::microseconds(1234);
  r.has_banner = true;
  r.banner = "HTTP/1.0 200 OK\r\n\"x\"";
  std::string service = svc(80, "") == "" ? "null" : "\"" + svc(80, "") + "\"";
  EXPECT_EQ(
      json_of(s, r),
      R"({"host":"198.18.0.2","hostname":"web.test","port":80,"state":"open","service":)" +
          service +
          R"(,"reason":"syn-ack","rtt_ms":1.234,"attempts":1,"banner":"HTTP/1.0 200 OK\r\n\"x\""})"
          "\n");
}

TEST(ScanOutput, JsonLineWithoutAnswerHasNullRtt) {
  TargetSpace s = space();
  PortResult r = result(s, 0, 22, PortState::kFiltered, Reason::kNoResponse);
  r.attempts = 2;
  std::string service = svc(22, "") == "" ? "null" : "\"" + svc(22, "") + "\"";
  EXPECT_EQ(json_of(s, r), R"({"host":"198.18.0.1","port":22,"state":"filtered","service":)" +
                               service +
                               R"(,"reason":"no-response","rtt_ms":null,"attempts":2})"
                               "\n");
}

TEST(ScanOutput, TableGroupsByHostAndCollapsesFilteredHosts) {
  TargetSpace s = space();
  ScanReport report(true);
  report.add(result(s, 0, 22, PortState::kOpen, Reason::kSynAck));
  report.add(result(s, 0, 80, PortState::kClosed, Reason::kConnRefused));
  report.add(result(s, 1, 22, PortState::kClosed, Reason::kConnRefused));
  report.add(result(s, 1, 80, PortState::kClosed, Reason::kConnRefused));
  for (uint64_t h : {2, 3})
    for (uint16_t p : {22, 80})
      report.add(result(s, h, p, PortState::kFiltered, Reason::kNoResponse));
  std::string s22 = svc(22, "unknown"), s80 = svc(80, "unknown");
  // Columns are as wide as their widest cell, two spaces apart: "closed" sets STATE's width.
  auto row = [](const std::string& port, const std::string& state, const std::string& service,
                int state_width = 8) {
    return fmt::format("{:<8}{:<{}}{}\n", port, state, state_width, service);
  };
  std::string expected = "netres scan report for 198.18.0.1\n" + row("PORT", "STATE", "SERVICE") +
                         row("22/tcp", "open", s22) + row("80/tcp", "closed", s80) + "\n" +
                         "netres scan report for web.test (198.18.0.2)\n" +
                         row("PORT", "STATE", "SERVICE") + row("22/tcp", "closed", s22) +
                         row("80/tcp", "closed", s80) + "\n" +
                         "netres scan report for 198.18.0.3: all scanned ports filtered\n"
                         "netres scan report for 198.18.0.4: all scanned ports filtered\n";
  EXPECT_EQ(table_of(s, report, false, false), expected);

  // --open: only hosts with an open port, only open rows, the rest summarized.
  EXPECT_EQ(table_of(s, report, true, false),
            "netres scan report for 198.18.0.1\n"
            "Not shown: 1 closed\n" +
                row("PORT", "STATE", "SERVICE", 7) + row("22/tcp", "open", s22, 7));
}

TEST(ScanOutput, ManyPortsSummarizedAndManyFilteredHostsCounted) {
  std::vector<uint16_t> ports;
  for (uint16_t p = 1000; p < 1020; ++p) ports.push_back(p);
  TargetSpace s({*netres::parse_address_spec("198.18.0.0/28")}, PortSet(ports));
  ScanReport report(true, 10);
  for (uint16_t p : ports) {
    report.add(
        result(s, 0, p, p == 1000 ? PortState::kOpen : PortState::kClosed, Reason::kConnRefused));
    for (uint64_t h = 1; h < 16; ++h)
      report.add(result(s, h, p, PortState::kFiltered, Reason::kNoResponse));
  }
  std::string out = table_of(s, report, false, false);
  EXPECT_NE(out.find("netres scan report for 198.18.0.0\nNot shown: 19 closed\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("1000/tcp"), std::string::npos);
  EXPECT_EQ(out.find("1001/tcp"), std::string::npos);
  // More than ten all-filtered hosts become one count line.
  EXPECT_TRUE(out.ends_with("\n\n15 hosts not shown: all their scanned ports filtered\n")) << out;
}

TEST(ScanOutput, BannerColumnIsSanitized) {
  TargetSpace s = space();
  ScanReport report(true);
  PortResult r = result(s, 0, 22, PortState::kOpen, Reason::kSynAck);
  r.has_banner = true;
  r.banner = "SSH-2.0-OpenSSH_9.2\r\n";
  report.add(r);
  report.add(result(s, 0, 80, PortState::kClosed, Reason::kConnRefused));
  std::string out = table_of(s, report, false, true);
  EXPECT_NE(out.find("BANNER"), std::string::npos);
  EXPECT_NE(out.find(sanitize_banner(r.banner)), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(ScanOutput, ProgressText) {
  ScanCounts c;
  c.pairs_total = 800;
  c.pairs_done = 100;
  c.open = 3;
  c.attempts = 1900;
  c.elapsed = std::chrono::seconds(2);
  c.timeout = std::chrono::milliseconds(50);
  EXPECT_EQ(progress_text(c), "12.5% (100/800)  3 open  950 attempts/s  timeout 50.0ms");
  EXPECT_EQ(progress_text(ScanCounts{}), "100.0% (0/0)  0 open  0 attempts/s  timeout 0ns");
}

TEST(ScanOutput, SummaryTextPluralsAndShard) {
  TargetSpace s = space();
  ScanCounts c;
  c.pairs_total = 8;
  c.open = 1;
  c.closed = 5;
  c.filtered = 2;
  c.attempts = 10;
  c.elapsed = std::chrono::seconds(2);
  c.timeout = std::chrono::milliseconds(50);
  ScanOptions o;
  o.seed = 7;
  EXPECT_EQ(summary_text(s.host_count(), s.ports().size(), o.shard, c, o.seed),
            "4 hosts, 2 ports: 1 open, 5 closed, 2 filtered in 2.00s (5 attempts/s, timeout "
            "50.0ms, seed 7)");
  o.shard = {2, 3};
  TargetSpace one({*netres::parse_address_range("198.18.0.1-198.18.0.1")}, PortSet({22}), {});
  EXPECT_EQ(summary_text(one.host_count(), one.ports().size(), o.shard, c, o.seed),
            "1 host, 1 port (shard 2/3: 8 pairs): 1 open, 5 closed, 2 filtered in 2.00s (5 "
            "attempts/s, timeout 50.0ms, seed 7)");
}

TEST(ScanOutput, UnreachableText) {
  EXPECT_EQ(unreachable_text(1), "1 host unreachable (ICMP unreachable or no route on every port)");
  EXPECT_EQ(unreachable_text(3),
            "3 hosts unreachable (ICMP unreachable or no route on every port)");
}
