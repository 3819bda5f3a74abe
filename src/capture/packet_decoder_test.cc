// decode_packet on crafted frames of every supported layer, and on every truncation of them.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "capture/packet_builder_test.h"
#include "capture/packet_text.h"
#include "capture/packet_view.h"

namespace netres::capture {
namespace {

using namespace testing;  // NOLINT: the builders

PacketView decode(int lt, const Packet& p) {
  PacketView v;
  decode_packet(lt, p, 0, v);
  return v;
}

Packet syn_with_options() {
  Packet opts = {2, 4,  0x05, 0xb4,                    // mss 1460
                 4, 2,                                 // sack permitted
                 8, 10, 0,    0,    0, 1, 0, 0, 0, 0,  // timestamps 1 / 0
                 1,                                    // nop
                 3, 3,  7};                            // wscale 7
  return ethernet(0x0800,
                  ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 6, tcp(51234, 80, 1, 0, 0x02, 64240, opts)));
}

Packet http_get() {
  return ethernet(0x0800, ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 6,
                               tcp(51234, 80, 2, 7, 0x18, 502, {},
                                   text("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"))));
}

Packet dns_response() {
  return ethernet(0x0800, ipv4({10, 0, 0, 53}, {10, 0, 0, 1}, 17,
                               udp(53, 40000, dns(0x1234, "www.example.com", 1, true, 2))));
}

Packet ipv6_with_extensions() {
  // hop-by-hop (8 bytes) -> destination options (8) -> fragment (8, offset 0, more) -> UDP
  Packet hbh = {60, 0, 1, 4, 0, 0, 0, 0};
  Packet dst = {44, 0, 1, 4, 0, 0, 0, 0};
  Packet frag = {17, 0, 0x00, 0x01, 0, 0, 0x12, 0x34};
  Packet payload = cat(cat(cat(hbh, dst), frag), udp(5000, 6000, text("hello")));
  return ethernet(0x86dd, ipv6(1, 2, 0, payload));
}

Packet arp_request() {
  Packet a = {0, 1, 0x08, 0x00, 6, 4, 0,   1,           //
              2, 0, 0,    0,    0, 1, 192, 168, 1, 1,   // sender
              0, 0, 0,    0,    0, 0, 192, 168, 1, 2};  // target
  return ethernet(0x0806, a);
}

Packet icmp_echo() {
  Packet c = {8, 0, 0, 0, 0x00, 0x07, 0x00, 0x03, 'p', 'i', 'n', 'g'};
  return ethernet(0x0800, ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 1, c), {100, 200});
}

std::vector<std::pair<int, Packet>> all_samples() {
  Packet sll2 = {0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0};
  Packet sll1 = {0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xdd};
  Packet icmp6 = {128, 0, 0, 0, 0, 1, 0, 2};
  return {
      {linktype::kEthernet, syn_with_options()},
      {linktype::kEthernet, http_get()},
      {linktype::kEthernet, dns_response()},
      {linktype::kEthernet, ipv6_with_extensions()},
      {linktype::kEthernet, arp_request()},
      {linktype::kEthernet, icmp_echo()},
      {linktype::kLinuxSll2, cat(sll2, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, udp(1, 2, {})))},
      {linktype::kLinuxSll, cat(sll1, ipv6(1, 2, 58, icmp6))},
      {linktype::kNull,
       cat({2, 0, 0, 0}, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 6, tcp(1, 2, 3, 4, 0x10, 5)))},
      {linktype::kRaw, ipv6(1, 2, 17, udp(53, 53, dns(1, "a.b", 28, false)))},
  };
}

TEST(PacketDecoder, EthernetIpv4TcpOptions) {
  Packet v_bytes = syn_with_options();  // the view points into it
  PacketView v = decode(linktype::kEthernet, v_bytes);
  ASSERT_TRUE(v.has(kLayerEthernet) && v.has(kLayerIpv4) && v.has(kLayerTcp));
  EXPECT_FALSE(v.truncated);
  EXPECT_EQ(v.malformed, nullptr);
  EXPECT_EQ(v.link.ethertype, 0x0800);
  EXPECT_EQ(v.tcp.src_port, 51234);
  EXPECT_EQ(v.tcp.dst_port, 80);
  EXPECT_EQ(v.tcp.seq, 1u);
  EXPECT_EQ(v.tcp.flags, tcp_flag::kSyn);
  EXPECT_EQ(v.tcp.window, 64240);
  EXPECT_EQ(v.tcp.header_length, 40);
  EXPECT_TRUE(v.tcp.has_mss);
  EXPECT_EQ(v.tcp.mss, 1460);
  EXPECT_TRUE(v.tcp.sack_permitted);
  EXPECT_TRUE(v.tcp.has_timestamp);
  EXPECT_EQ(v.tcp.ts_value, 1u);
  EXPECT_TRUE(v.tcp.has_window_scale);
  EXPECT_EQ(v.tcp.window_scale, 7);
  EXPECT_EQ(v.tcp.payload_length, 0u);
}

TEST(PacketDecoder, EthernetPaddingIsNotPayload) {
  Packet p = ethernet(0x0800, ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 17, udp(1, 2, {})));
  p.resize(60, 0);  // Ethernet minimum frame
  PacketView v = decode(linktype::kEthernet, p);
  EXPECT_EQ(v.ip_payload.size(), 8u);
  EXPECT_EQ(v.payload.size(), 0u);
  EXPECT_FALSE(v.truncated);
}

TEST(PacketDecoder, HttpRequestLine) {
  Packet v_bytes = http_get();  // the view points into it
  PacketView v = decode(linktype::kEthernet, v_bytes);
  ASSERT_TRUE(v.has(kLayerHttp));
  EXPECT_EQ(v.http.method, "GET");
  EXPECT_EQ(v.http.path, "/index.html");
  EXPECT_EQ(v.http.version, "HTTP/1.1");
  EXPECT_EQ(v.tcp.payload_length, 37u);
}

TEST(PacketDecoder, HttpOnOtherPortsOnlyWithKnownMethods) {
  auto on_port = [](uint16_t port, std::string_view line) {
    return decode(linktype::kEthernet,
                  ethernet(0x0800, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 6,
                                        tcp(40000, port, 1, 1, 0x18, 1, {}, text(line)))));
  };
  EXPECT_TRUE(on_port(3000, "POST /api HTTP/1.0\r\n").has(kLayerHttp));
  EXPECT_FALSE(on_port(3000, "PROPFIND /dav HTTP/1.1\r\n").has(kLayerHttp));
  EXPECT_TRUE(on_port(8080, "PROPFIND /dav HTTP/1.1\r\n").has(kLayerHttp));
  EXPECT_FALSE(on_port(80, "HTTP/1.1 200 OK\r\n").has(kLayerHttp));
  EXPECT_FALSE(on_port(80, "GET /no-newline HTTP/1.1").has(kLayerHttp));
  EXPECT_FALSE(on_port(80, "get / HTTP/1.1\r\n").has(kLayerHttp));
}

TEST(PacketDecoder, DnsResponseWithCompression) {
  Packet v_bytes = dns_response();  // the view points into it
  PacketView v = decode(linktype::kEthernet, v_bytes);
  ASSERT_TRUE(v.has(kLayerDns));
  EXPECT_TRUE(v.dns.response);
  EXPECT_EQ(v.dns.id, 0x1234);
  EXPECT_EQ(v.dns.qname(), "www.example.com");
  EXPECT_EQ(v.dns.qtype, 1);
  EXPECT_EQ(v.dns.answer_count, 2);
  EXPECT_FALSE(v.truncated);
  EXPECT_EQ(v.malformed, nullptr);
}

TEST(PacketDecoder, DnsPointerLoopIsMalformed) {
  Packet m = dns(1, "", 1, false);
  m.resize(12);
  put16(m, 0xc00c);  // points at itself
  put32(m, 0x00010001);
  PacketView v = decode(linktype::kEthernet,
                        ethernet(0x0800, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, udp(1, 53, m))));
  ASSERT_NE(v.malformed, nullptr);
  EXPECT_STREQ(v.malformed, "dns name pointer");
}

TEST(PacketDecoder, Ipv6ExtensionHeadersAndFirstFragment) {
  Packet v_bytes = ipv6_with_extensions();  // the view points into it
  PacketView v = decode(linktype::kEthernet, v_bytes);
  ASSERT_TRUE(v.has(kLayerIpv6));
  EXPECT_EQ(v.ipv6.extension_count, 3);
  EXPECT_EQ(v.ipv6.extensions[0], 0);
  EXPECT_EQ(v.ipv6.extensions[1], 60);
  EXPECT_EQ(v.ipv6.extensions[2], 44);
  EXPECT_TRUE(v.ipv6.has_fragment_header);
  EXPECT_TRUE(v.ipv6.more_fragments);
  EXPECT_EQ(v.ipv6.fragment_id, 0x1234u);
  EXPECT_EQ(v.ip_protocol, 17);
  ASSERT_TRUE(v.has(kLayerUdp));
  EXPECT_EQ(v.udp.dst_port, 6000);
  EXPECT_FALSE(v.truncated);
}

TEST(PacketDecoder, Ipv4LaterFragmentHasNoTransportHeader) {
  Packet p = ethernet(0x0800, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, text("0123456789abcdef"), {},
                                   /*frag=*/185, /*id=*/77));
  PacketView v = decode(linktype::kEthernet, p);
  EXPECT_TRUE(v.later_fragment);
  EXPECT_FALSE(v.has(kLayerUdp));
  EXPECT_EQ(v.ipv4.fragment_offset, 1480);
  EXPECT_EQ(v.ip_payload_length, 16u);
}

TEST(PacketDecoder, Ipv4FirstFragmentUdpIsNotFlagged) {
  // A UDP header claiming 3000 bytes in a fragment holding 20: expected for a first fragment.
  Packet u = udp(1000, 2000, Packet(12, 'x'));
  u[4] = 0x0b;
  u[5] = 0xb8;
  PacketView v = decode(linktype::kEthernet,
                        ethernet(0x0800, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, u, {}, 0x2000)));
  ASSERT_TRUE(v.has(kLayerUdp));
  EXPECT_FALSE(v.truncated);
  EXPECT_EQ(v.malformed, nullptr);
  EXPECT_TRUE(v.ipv4.more_fragments);
}

TEST(PacketDecoder, Ipv4Options) {
  Packet opts = {0x94, 0x04, 0, 0};  // router alert
  PacketView v =
      decode(linktype::kEthernet,
             ethernet(0x0800, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, udp(1, 2, {}), opts)));
  EXPECT_EQ(v.ipv4.header_length, 24);
  ASSERT_TRUE(v.has(kLayerUdp));
  EXPECT_EQ(v.udp.src_port, 1);
}

TEST(PacketDecoder, ArpAndQinQ) {
  Packet a_bytes = arp_request();  // the view points into it
  PacketView a = decode(linktype::kEthernet, a_bytes);
  ASSERT_TRUE(a.has(kLayerArp));
  EXPECT_EQ(a.arp.operation, 1);
  EXPECT_EQ(a.arp.sender_ip.bytes[3], 1);
  EXPECT_EQ(a.arp.target_ip.bytes[3], 2);

  Packet q_bytes = icmp_echo();  // the view points into it
  PacketView q = decode(linktype::kEthernet, q_bytes);
  ASSERT_EQ(q.link.vlan_count, 2);
  EXPECT_EQ(q.link.vlans[0].tpid, 0x88a8);
  EXPECT_EQ(q.link.vlans[0].id, 100);
  EXPECT_EQ(q.link.vlans[1].id, 200);
  ASSERT_TRUE(q.has(kLayerIcmp));
  EXPECT_EQ(q.icmp.type, 8);
  EXPECT_EQ(q.icmp.echo_id, 7);
  EXPECT_EQ(q.icmp.echo_seq, 3);
}

TEST(PacketDecoder, CookedNullAndRawLinkTypes) {
  for (auto& [lt, p] : all_samples()) {
    PacketView v = decode(lt, p);
    EXPECT_TRUE(v.is_ip() || v.has(kLayerArp)) << lt;
    EXPECT_FALSE(v.truncated) << lt;
    EXPECT_EQ(v.malformed, nullptr) << lt;
  }
  auto samples = all_samples();
  PacketView sll2 = decode(samples[6].first, samples[6].second);
  EXPECT_EQ(sll2.link.sll_version, 2);
  EXPECT_EQ(sll2.link.sll_ifindex, 3u);
  EXPECT_EQ(sll2.link.sll_packet_type, 4);
  PacketView sll1 = decode(samples[7].first, samples[7].second);
  ASSERT_TRUE(sll1.has(kLayerIcmpv6));
  EXPECT_EQ(sll1.icmp.echo_seq, 2);
  PacketView raw = decode(samples[9].first, samples[9].second);
  ASSERT_TRUE(raw.has(kLayerDns));
  EXPECT_EQ(raw.dns.qtype, 28);
  // DLT_NULL written by a big-endian host.
  PacketView be = decode(linktype::kNull,
                         cat({0, 0, 0, 2}, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, udp(1, 2, {}))));
  EXPECT_TRUE(be.has(kLayerUdp));
}

TEST(PacketDecoder, MalformedHeaders) {
  Packet bad_ihl = ethernet(0x0800, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, udp(1, 2, {})));
  bad_ihl[14] = 0x43;
  EXPECT_STREQ(decode(linktype::kEthernet, bad_ihl).malformed, "ipv4 header length");

  Packet bad_doff = syn_with_options();
  bad_doff[14 + 20 + 12] = 0x30;
  EXPECT_STREQ(decode(linktype::kEthernet, bad_doff).malformed, "tcp header length");

  Packet bad_opt = syn_with_options();
  bad_opt[14 + 20 + 21] = 0;  // MSS option length 0
  EXPECT_STREQ(decode(linktype::kEthernet, bad_opt).malformed, "tcp option");

  Packet bad_udp = ethernet(0x0800, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, udp(1, 2, {})));
  bad_udp[14 + 20 + 5] = 4;
  EXPECT_STREQ(decode(linktype::kEthernet, bad_udp).malformed, "udp length");
}

// Every strict prefix of every sample is flagged (length fields reveal what is missing), and
// decoding never reads past the prefix: the copy is exactly that long, so ASan would catch it.
TEST(PacketDecoder, EveryTruncationIsFlagged) {
  for (auto& [lt, p] : all_samples()) {
    for (size_t n = 0; n < p.size(); ++n) {
      Packet prefix(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n));
      PacketView v;
      decode_packet(lt, prefix, static_cast<uint32_t>(p.size()), v);
      EXPECT_TRUE(v.truncated || v.malformed != nullptr) << "linktype " << lt << " len " << n;
      TextBuffer out;
      append_summary(out, v);
      append_json(out, v, {});
      std::string_view s(out.data(), out.size());
      EXPECT_NE(s.find(v.truncated ? "[truncated]" : "[malformed"), std::string_view::npos) << s;
    }
  }
}

// JSON members as "path" -> value; arrays stay whole values.
void flatten(const nlohmann::json& j, const std::string& path,
             std::map<std::string, nlohmann::json>& out) {
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) flatten(v, path + "/" + k, out);
  } else {
    out[path] = j;
  }
}

std::map<std::string, nlohmann::json> fields(int lt, const Packet& p, uint32_t wire_length) {
  PacketView v;
  decode_packet(lt, p, wire_length, v);
  TextBuffer out;
  append_json(out, v, {});
  std::map<std::string, nlohmann::json> f;
  flatten(nlohmann::json::parse(std::string_view(out.data(), out.size())), "", f);
  for (const char* k : {"/caplen", "/summary", "/truncated"}) f.erase(k);
  return f;
}

// A cut header shows what was captured and nothing else: every member in the JSON of a prefix
// is in the whole packet's JSON with the same value (arrays: a prefix of it), and a longer
// prefix never shows fewer members.
TEST(PacketDecoder, PrefixesShowOnlyCapturedFieldsAndNeverLoseOne) {
  for (auto& [lt, p] : all_samples()) {
    const auto wire = static_cast<uint32_t>(p.size());
    const auto whole = fields(lt, p, wire);
    size_t previous = 0;
    for (size_t n = 0; n <= p.size(); ++n) {
      Packet prefix(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n));
      auto got = fields(lt, prefix, wire);
      for (auto& [k, value] : got) {
        auto it = whole.find(k);
        ASSERT_NE(it, whole.end()) << "linktype " << lt << " len " << n << " " << k;
        if (value.is_array()) {
          ASSERT_LE(value.size(), it->second.size()) << k;
          for (size_t i = 0; i < value.size(); ++i) EXPECT_EQ(value[i], it->second[i]) << k;
        } else {
          EXPECT_EQ(value, it->second) << "linktype " << lt << " len " << n << " " << k;
        }
      }
      EXPECT_GE(got.size(), previous) << "linktype " << lt << " len " << n;
      previous = got.size();
    }
  }
}

// The case: Ethernet + IPv4 + the first 4 bytes of TCP (snap length 38) has both ports,
// as tcpdump and tshark show them.
TEST(PacketDecoder, TcpCutAfterItsPortsKeepsThem) {
  Packet p = syn_with_options();
  Packet cut(p.begin(), p.begin() + 38);
  PacketView v;
  decode_packet(linktype::kEthernet, cut, static_cast<uint32_t>(p.size()), v);
  ASSERT_TRUE(v.has(kLayerTcp));
  EXPECT_TRUE(v.partial & kLayerTcp);
  EXPECT_TRUE(v.truncated);
  EXPECT_EQ(v.malformed, nullptr);
  EXPECT_TRUE(v.has_ports());
  EXPECT_EQ(v.tcp.src_port, 51234);
  EXPECT_EQ(v.tcp.dst_port, 80);
  EXPECT_EQ(v.tcp.captured, 4);
  TextBuffer out;
  append_summary(out, v);
  EXPECT_EQ(fmt::to_string(out), "IP 10.0.0.1:51234 > 10.0.0.2:80 TCP [truncated]");
  // Options cut in the middle: the whole ones are decoded, the cut one is not malformed.
  Packet mid(p.begin(), p.begin() + 14 + 20 + 20 + 7);
  decode_packet(linktype::kEthernet, mid, static_cast<uint32_t>(p.size()), v);
  EXPECT_EQ(v.malformed, nullptr);
  EXPECT_TRUE(v.tcp.has_mss);
  EXPECT_TRUE(v.tcp.sack_permitted);
  EXPECT_FALSE(v.tcp.has_timestamp);
  EXPECT_EQ(v.tcp.seq, 1u);
}

TEST(PacketDecoder, CutUdpDnsIcmpAndIpv6ExtensionHeadersKeepTheirFields) {
  Packet d = dns_response();
  PacketView v;
  // UDP ports and length, then the DNS id and flags of a cut DNS header.
  Packet cut(d.begin(), d.begin() + 14 + 20 + 8 + 4);
  decode_packet(linktype::kEthernet, cut, static_cast<uint32_t>(d.size()), v);
  ASSERT_TRUE(v.has(kLayerUdp) && v.has(kLayerDns));
  EXPECT_EQ(v.udp.length, d.size() - 34);
  EXPECT_EQ(v.dns.id, 0x1234);
  EXPECT_TRUE(v.dns.response);
  EXPECT_EQ(v.dns.captured, 4);
  EXPECT_FALSE(v.dns.has_qname);
  TextBuffer out;
  append_summary(out, v);
  EXPECT_EQ(fmt::to_string(out), "IP 10.0.0.53:53 > 10.0.0.1:40000 UDP len " +
                                     std::to_string(d.size() - 42) +
                                     " DNS response id 4660 [truncated]");
  // The DNS name whole, its type cut.
  Packet name_only(d.begin(), d.begin() + 14 + 20 + 8 + 12 + 17);
  decode_packet(linktype::kEthernet, name_only, static_cast<uint32_t>(d.size()), v);
  EXPECT_TRUE(v.dns.has_qname);
  EXPECT_FALSE(v.dns.has_qtype);
  EXPECT_EQ(v.dns.qname(), "www.example.com");

  Packet e = icmp_echo();  // two VLAN tags: ICMP starts at 14 + 8 + 20
  Packet icmp_cut(e.begin(), e.begin() + 42 + 6);
  decode_packet(linktype::kEthernet, icmp_cut, static_cast<uint32_t>(e.size()), v);
  ASSERT_TRUE(v.has(kLayerIcmp));
  EXPECT_TRUE(v.icmp.has_echo);
  EXPECT_EQ(v.icmp.echo_id, 7);
  out.clear();
  append_summary(out, v);
  EXPECT_EQ(fmt::to_string(out),
            "vlan 100,200 IP 10.0.0.1 > 10.0.0.2 ICMP echo-request id 7 [truncated]");

  Packet x = ipv6_with_extensions();  // fragment header at 14 + 40 + 16
  Packet frag_cut(x.begin(), x.begin() + 70 + 4);
  decode_packet(linktype::kEthernet, frag_cut, static_cast<uint32_t>(x.size()), v);
  ASSERT_TRUE(v.has(kLayerIpv6));
  EXPECT_TRUE(v.partial & kLayerIpv6);
  EXPECT_EQ(v.ipv6.extension_count, 3);
  EXPECT_TRUE(v.ipv6.has_fragment_header);
  EXPECT_TRUE(v.ipv6.more_fragments);
  EXPECT_EQ(v.ipv6.fragment_captured, 4);
  out.clear();
  append_summary(out, v);
  EXPECT_EQ(fmt::to_string(out), "IP6 2001:db8::1 > 2001:db8::2 frag off 0+ [truncated]");

  // An IPv4 header cut after its source address.
  Packet s = syn_with_options();
  Packet ip_cut(s.begin(), s.begin() + 14 + 16);
  decode_packet(linktype::kEthernet, ip_cut, static_cast<uint32_t>(s.size()), v);
  ASSERT_TRUE(v.has(kLayerIpv4));
  EXPECT_EQ(v.ipv4.ttl, 64);
  EXPECT_EQ(v.ipv4.protocol, 6);
  out.clear();
  append_summary(out, v);
  EXPECT_EQ(fmt::to_string(out), "IP 10.0.0.1 > ? TCP [truncated]");
}

TEST(PacketDecoder, RandomCorruptionNeverCrashes) {
  std::mt19937 rng(42);
  for (auto& [lt, p] : all_samples()) {
    for (int round = 0; round < 2000; ++round) {
      Packet q = p;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) q[rng() % q.size()] = static_cast<uint8_t>(rng());
      q.resize(rng() % (q.size() + 1));
      PacketView v;
      decode_packet(lt, q, 0, v);
      TextBuffer out;
      append_summary(out, v);
      append_json(out, v, {1, 2});
      EXPECT_GT(out.size(), 0u);
    }
  }
}

}  // namespace
}  // namespace netres::capture
