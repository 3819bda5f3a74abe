// The icmp check's pure parts: echo requests, parsing replies and errors (including truncated and
// foreign bytes), burst statistics, and the icmp settings of the configuration file.
#include "monitor/icmp_packet.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "monitor/config.h"
#include "monitor/config_test_util.h"
#include "monitor/exposition.h"
#include "monitor/probe_store.h"

namespace netres::monitor {
namespace {

std::vector<uint8_t> ip4_header(uint8_t proto, uint8_t ttl, size_t payload) {
  std::vector<uint8_t> h(20);
  h[0] = 0x45;
  size_t total = 20 + payload;
  h[2] = static_cast<uint8_t>(total >> 8);
  h[3] = static_cast<uint8_t>(total);
  h[8] = ttl;
  h[9] = proto;
  return h;
}

std::vector<uint8_t> echo_reply4(uint16_t id, uint16_t seq) {
  auto p = build_echo_request(false, id, seq, 16);
  p[0] = 0;  // reply: the checksum changes by the type's difference
  p[2] = p[3] = 0;
  uint16_t c = internet_checksum(p);
  p[2] = static_cast<uint8_t>(c >> 8);
  p[3] = static_cast<uint8_t>(c);
  return p;
}

TEST(IcmpPacket, ChecksumIsRfc1071s) {
  // RFC 1071's example words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
  const std::vector<uint8_t> d{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(internet_checksum(d), static_cast<uint16_t>(~0xddf2));
  const std::vector<uint8_t> odd{0x01};  // an odd byte is padded with zero
  EXPECT_EQ(internet_checksum(odd), static_cast<uint16_t>(~0x0100));
}

TEST(IcmpPacket, EchoRequestLayout) {
  auto p = build_echo_request(false, 0x1234, 7, 56);
  ASSERT_EQ(p.size(), 64u);
  EXPECT_EQ(p[0], 8);
  EXPECT_EQ(p[1], 0);
  EXPECT_EQ(p[4], 0x12);
  EXPECT_EQ(p[5], 0x34);
  EXPECT_EQ(p[7], 7);
  EXPECT_EQ(internet_checksum(p), 0);  // a filled-in checksum sums to zero
  auto q = build_echo_request(true, 1, 2, 0);
  ASSERT_EQ(q.size(), 8u);
  EXPECT_EQ(q[0], 128);
  EXPECT_EQ(q[2], 0);  // IPv6: the kernel's
}

TEST(IcmpPacket, ParsesEchoReplies) {
  auto p = echo_reply4(0xabcd, 3);
  auto m = parse_icmp(p, false, false);  // a ping socket: from the ICMP header
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::kEchoReply);
  EXPECT_EQ(m->id, 0xabcd);
  EXPECT_EQ(m->seq, 3);
  EXPECT_EQ(m->ttl, -1);

  auto raw = ip4_header(1, 61, p.size());  // a raw socket: with the IP header
  raw.insert(raw.end(), p.begin(), p.end());
  m = parse_icmp(raw, false, true);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->seq, 3);
  EXPECT_EQ(m->ttl, 61);

  std::vector<uint8_t> v6{129, 0, 0, 0, 0, 9, 0, 4};
  m = parse_icmp(v6, true, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::kEchoReply);
  EXPECT_EQ(m->id, 9);
  EXPECT_EQ(m->seq, 4);
}

TEST(IcmpPacket, ParsesErrorsQuotingOurRequest) {
  auto req = build_echo_request(false, 77, 5, 0);
  auto quoted = ip4_header(1, 64, req.size());
  quoted.insert(quoted.end(), req.begin(), req.end());
  std::vector<uint8_t> err{3, 1, 0, 0, 0, 0, 0, 0};  // host unreachable
  err.insert(err.end(), quoted.begin(), quoted.end());
  auto m = parse_icmp(err, false, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::kError);
  EXPECT_EQ(m->type, 3);
  EXPECT_EQ(m->code, 1);
  EXPECT_EQ(m->id, 77);
  EXPECT_EQ(m->seq, 5);

  std::vector<uint8_t> err6{1, 3, 0, 0, 0, 0, 0, 0};  // address unreachable
  std::vector<uint8_t> ip6(40);
  ip6[0] = 0x60;
  ip6[6] = 58;
  err6.insert(err6.end(), ip6.begin(), ip6.end());
  auto req6 = build_echo_request(true, 12, 9, 4);
  err6.insert(err6.end(), req6.begin(), req6.end());
  m = parse_icmp(err6, true, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, IcmpMessage::Kind::kError);
  EXPECT_EQ(m->seq, 9);
  EXPECT_EQ(m->id, 12);
}

TEST(IcmpPacket, RefusesForeignTruncatedAndCorruptBytes) {
  auto p = echo_reply4(1, 1);
  for (size_t n = 0; n < 8; ++n)
    EXPECT_FALSE(parse_icmp(std::span(p.data(), n), false, false)) << n;
  auto bad = p;
  bad[10] ^= 0xff;  // payload changed: checksum fails
  EXPECT_FALSE(parse_icmp(bad, false, false));
  EXPECT_FALSE(parse_icmp(build_echo_request(false, 1, 1, 8), false, false));  // our own request
  EXPECT_FALSE(parse_icmp(build_echo_request(true, 1, 1, 8), true, false));
  std::vector<uint8_t> ns{135, 0, 0, 0, 0, 0, 0, 0};  // neighbour solicitation
  EXPECT_FALSE(parse_icmp(ns, true, false));
  auto raw = ip4_header(6, 64, p.size());  // not ICMP
  raw.insert(raw.end(), p.begin(), p.end());
  EXPECT_FALSE(parse_icmp(raw, false, true));
  raw[9] = 1;
  raw[0] = 0x4f;  // header length 60 > what is there
  EXPECT_FALSE(parse_icmp(std::span(raw.data(), 40), false, true));
  // An error quoting someone else's datagram (TCP), or cut short in the quote.
  std::vector<uint8_t> err{3, 3, 0, 0, 0, 0, 0, 0};
  auto q = ip4_header(6, 64, 8);
  err.insert(err.end(), q.begin(), q.end());
  err.resize(err.size() + 8);
  EXPECT_FALSE(parse_icmp(err, false, false));
  std::vector<uint8_t> cut{3, 1, 0, 0, 0, 0, 0, 0};
  auto q1 = ip4_header(1, 64, 8);
  cut.insert(cut.end(), q1.begin(), q1.end());
  cut.push_back(8);
  EXPECT_FALSE(parse_icmp(cut, false, false));
}

TEST(IcmpPacket, BurstStatistics) {
  auto s = burst_stats(5, {0.004, 0.001, 0.003, 0.002});
  EXPECT_EQ(s.sent, 5u);
  EXPECT_EQ(s.received, 4u);
  EXPECT_DOUBLE_EQ(s.loss_ratio, 0.2);
  EXPECT_DOUBLE_EQ(s.min, 0.001);
  EXPECT_DOUBLE_EQ(s.median, 0.0025);  // even count: the middle two's mean
  EXPECT_DOUBLE_EQ(s.max, 0.004);
  EXPECT_DOUBLE_EQ(burst_stats(3, {0.3, 0.1, 0.2}).median, 0.2);
  auto lost = burst_stats(5, {});
  EXPECT_DOUBLE_EQ(lost.loss_ratio, 1.0);
  EXPECT_EQ(lost.median, 0);
  EXPECT_DOUBLE_EQ(burst_stats(0, {}).loss_ratio, 0);
}

TEST(IcmpConfig, SettingsAndDefaults) {
  MonitorConfig c = parse_monitor_config(
      "checks:\n"
      "  ping: {kind: icmp}\n"
      "  burst: {kind: icmp, count: 10, interval: 50ms, size: 1400, preferred_ip_protocol: ip6,"
      " ip_protocol_fallback: false, max_loss: 0.2}\n"
      "targets:\n"
      "  - {address: 127.0.0.1, checks: [ping, burst]}\n"
      "  - {address: '::1', checks: [ping]}\n"
      "  - {address: localhost, checks: [ping]}\n",
      "m.yaml");
  const CheckSpec& p = c.checks.at("ping");
  EXPECT_EQ(p.kind, CheckKind::kIcmp);
  EXPECT_EQ(kind_name(p.kind), "icmp");
  EXPECT_EQ(p.icmp_count, 5);
  EXPECT_EQ(p.icmp_interval, std::chrono::milliseconds(200));
  EXPECT_EQ(p.icmp_size, 56);
  EXPECT_FALSE(p.prefer_ip6);
  EXPECT_TRUE(p.ip_protocol_fallback);
  EXPECT_FALSE(p.max_loss);
  const CheckSpec& b = c.checks.at("burst");
  EXPECT_EQ(b.icmp_count, 10);
  EXPECT_EQ(b.icmp_interval, std::chrono::milliseconds(50));
  EXPECT_EQ(b.icmp_size, 1400);
  EXPECT_TRUE(b.prefer_ip6);
  EXPECT_FALSE(b.ip_protocol_fallback);
  EXPECT_DOUBLE_EQ(*b.max_loss, 0.2);
}

TEST(IcmpConfig, BadSettings) {
  const std::string t = "targets: [{address: 127.0.0.1, checks: [p]}]\n";
  EXPECT_EQ(config_error_of("checks:\n  p: {kind: icmp, count: 0}\n" + t).substr(0, 40),
            "bad.yaml:2:26: count must be a whole num");
  EXPECT_EQ(config_error_of("checks:\n  p: {kind: icmp, max_loss: 1}\n" + t),
            "bad.yaml:2:29: max_loss must be a ratio from 0 to below 1 (0.2: 20%)");
  EXPECT_EQ(config_error_of("checks:\n  p: {kind: icmp, preferred_ip_protocol: ip5}\n" + t),
            "bad.yaml:2:42: preferred_ip_protocol must be ip4 or ip6, got 'ip5'");
  EXPECT_EQ(config_error_of("checks:\n  p: {kind: icmp, interval: 0s}\n" + t),
            "bad.yaml:2:29: interval must be between 1ms and 10s");
  EXPECT_EQ(config_error_of("checks:\n  p: {kind: icmp, port: 1}\n" + t).substr(0, 37),
            "bad.yaml:2:19: unknown key 'port' in ");
  EXPECT_EQ(config_error_of(
                "checks:\n  p: {kind: icmp}\ntargets: [{address: '127.0.0.1:22', checks: [p]}]"),
            "bad.yaml:3:21: check 'p' is icmp: address is a host without a port, got "
            "'127.0.0.1:22'");
  EXPECT_EQ(
      config_error_of("checks:\n  p: {kind: icmp}\ntargets: [{address: 'http://x/', checks: [p]}]"),
      "bad.yaml:3:21: check 'p' is icmp: address is a host, got 'http://x/'");
  // 20 requests 300 ms apart take 5.7 s: longer than the default 5 s timeout.
  EXPECT_EQ(config_error_of("checks:\n  p: {kind: icmp, count: 20, interval: 300ms}\n" + t),
            "bad.yaml:3:11: target '127.0.0.1': check 'p' sends 20 requests 300.0ms apart, longer "
            "than the timeout 5.00s: lower count or interval, or raise the timeout");
}

TEST(IcmpStore, RoundTripsAccumulateIntoAHistogram) {
  ProbeStore store;
  store.configure(parse_monitor_config(
      "checks: {p: {kind: icmp}, t: {kind: tcp}}\n"
      "targets: [{name: gw, address: 127.0.0.1, checks: [p]}, {address: '127.0.0.1:1', checks: "
      "[t]}]\n",
      "m.yaml"));
  ProbeResult r;
  r.success = true;
  r.rtts = {0.0003, 0.0004, 0.002};
  store.record("gw", "p", r);
  r.rtts = {0.0003};
  store.record("gw", "p", r);
  ProbeResult tcp;
  tcp.success = true;
  store.record("127.0.0.1:1", "t", tcp);
  std::string text = render(store.families(), ExpositionFormat::kText004);
  EXPECT_NE(text.find("# TYPE netres_icmp_rtt_seconds histogram\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find("netres_icmp_rtt_seconds_bucket{target=\"gw\",check=\"p\",le=\"0.00025\"} 0\n"),
      std::string::npos);
  EXPECT_NE(
      text.find("netres_icmp_rtt_seconds_bucket{target=\"gw\",check=\"p\",le=\"0.0005\"} 3\n"),
      std::string::npos);
  EXPECT_NE(text.find("netres_icmp_rtt_seconds_bucket{target=\"gw\",check=\"p\",le=\"+Inf\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("netres_icmp_rtt_seconds_count{target=\"gw\",check=\"p\"} 4\n"),
            std::string::npos);
  // Only icmp series have one.
  EXPECT_EQ(text.find("netres_icmp_rtt_seconds_count{target=\"127.0.0.1:1\""), std::string::npos);

  // /probe: the one burst's.
  std::string one = render(probe_families(r), ExpositionFormat::kText004);
  EXPECT_NE(one.find("netres_icmp_rtt_seconds_count 1\n"), std::string::npos) << one;
}

}  // namespace
}  // namespace netres::monitor
