// Summary lines, JSON objects and hex dumps of crafted packets, checked character for character.
#include "capture/packet_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "capture/packet_builder_test.h"

namespace netres::capture {
namespace {

using namespace testing;  // NOLINT: the builders

std::string summary(const Packet& p, int lt = linktype::kEthernet) {
  PacketView v;
  decode_packet(lt, p, 0, v);
  TextBuffer out;
  append_time(out, {1700000401, 123456});
  out.push_back(' ');
  append_summary(out, v);
  return fmt::to_string(out);
}

nlohmann::json json(const Packet& p, int lt = linktype::kEthernet) {
  PacketView v;
  decode_packet(lt, p, 0, v);
  TextBuffer out;
  append_json(out, v, {1700000401, 5});
  return nlohmann::json::parse(std::string_view(out.data(), out.size()));
}

TEST(PacketText, TcpSyn) {
  Packet p =
      ethernet(0x0800, ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 6, tcp(51234, 80, 1, 0, 0x02, 64240)));
  EXPECT_EQ(summary(p),
            "22:20:01.123456 IP 10.0.0.1:51234 > 10.0.0.2:80 TCP [S] seq 1 win 64240 len 0");
}

TEST(PacketText, TcpOptionsAckAndHttp) {
  Packet opts = {2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 0, 0};
  Packet p = ethernet(
      0x0800, ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 6,
                   tcp(51234, 8080, 5, 9, 0x18, 100, opts, text("GET /a?b=1 HTTP/1.0\r\n\r\n"))));
  EXPECT_EQ(summary(p),
            "22:20:01.123456 IP 10.0.0.1:51234 > 10.0.0.2:8080 TCP [P.] seq 5 ack 9 win 100 "
            "options [mss 1460,wscale 7,sackOK] len 23 HTTP GET /a?b=1 HTTP/1.0");
}

TEST(PacketText, Ipv6UdpDns) {
  Packet p = ethernet(0x86dd, ipv6(1, 2, 17, udp(40000, 53, dns(7, "example.org", 28, false))));
  EXPECT_EQ(summary(p),
            "22:20:01.123456 IP6 [2001:db8::1]:40000 > [2001:db8::2]:53 UDP len 29 DNS query id 7 "
            "AAAA example.org");
  Packet r = ethernet(0x0800, ipv4({9, 9, 9, 9}, {10, 0, 0, 1}, 17,
                                   udp(53, 40000, dns(7, "example.org", 1, true, 3))));
  EXPECT_EQ(summary(r),
            "22:20:01.123456 IP 9.9.9.9:53 > 10.0.0.1:40000 UDP len 77 DNS response id 7 A "
            "example.org ans 3");
}

TEST(PacketText, ArpIcmpVlanAndFragments) {
  Packet arp = {0,   1,   0x08, 0x00, 6, 4, 0, 2, 2, 0, 0,   0,   0, 9,
                192, 168, 1,    1,    2, 0, 0, 0, 0, 1, 192, 168, 1, 2};
  EXPECT_EQ(summary(ethernet(0x0806, arp)),
            "22:20:01.123456 ARP reply 192.168.1.1 is-at 02:00:00:00:00:09");
  Packet echo = {0, 0, 0, 0, 0, 7, 0, 3};
  EXPECT_EQ(summary(ethernet(0x0800, ipv4({1, 2, 3, 4}, {5, 6, 7, 8}, 1, echo), {10})),
            "22:20:01.123456 vlan 10 IP 1.2.3.4 > 5.6.7.8 ICMP echo-reply id 7 seq 3");
  Packet frag = ethernet(0x0800, ipv4({1, 2, 3, 4}, {5, 6, 7, 8}, 17, Packet(24, 0), {}, 185, 99));
  EXPECT_EQ(summary(frag), "22:20:01.123456 IP 1.2.3.4 > 5.6.7.8 UDP len 24 frag id 99 off 1480");
}

TEST(PacketText, FlagsTruncationAndMalformation) {
  Packet p = ethernet(0x0800, ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 6, tcp(1, 2, 3, 4, 0x10, 5)));
  Packet cut(p.begin(), p.begin() + 40);
  // 6 bytes of TCP: both ports, no sequence number yet.
  EXPECT_EQ(summary(cut), "22:20:01.123456 IP 10.0.0.1:1 > 10.0.0.2:2 TCP [truncated]");
  nlohmann::json j = json(cut);
  EXPECT_EQ(j["tcp"], (nlohmann::json{{"sport", 1}, {"dport", 2}}));
  EXPECT_EQ(j["truncated"], true);
  p[14 + 20 + 12] = 0x10;
  EXPECT_EQ(summary(p),
            "22:20:01.123456 IP 10.0.0.1:1 > 10.0.0.2:2 TCP [.] seq 3 ack 4 win 5 len 0 "
            "[malformed tcp header length]");
}

TEST(PacketText, JsonHasLayersAndFields) {
  Packet p = ethernet(
      0x0800,
      ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 6, tcp(51234, 80, 1, 0, 0x02, 64240, {2, 4, 0x05, 0xb4})),
      {42});
  nlohmann::json j = json(p);
  EXPECT_EQ(j["ts"].get<double>(), 1700000401.000005);
  EXPECT_EQ(j["eth"]["src"], "02:00:00:00:00:01");
  EXPECT_EQ(j["vlan"][0]["id"], 42);
  EXPECT_EQ(j["ip"]["src"], "10.0.0.1");
  EXPECT_EQ(j["ip"]["proto"], 6);
  EXPECT_EQ(j["tcp"]["dport"], 80);
  EXPECT_EQ(j["tcp"]["flags"], "S");
  EXPECT_EQ(j["tcp"]["options"]["mss"], 1460);
  EXPECT_EQ(j["tcp"]["len"], 0);
  EXPECT_FALSE(j.contains("truncated"));
  EXPECT_EQ(j["summary"],
            "vlan 42 IP 10.0.0.1:51234 > 10.0.0.2:80 TCP [S] seq 1 win 64240 "
            "options [mss 1460] len 0");
}

TEST(PacketText, JsonEscapesHostileText) {
  Packet p =
      ethernet(0x0800, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 6,
                            tcp(1, 80, 1, 1, 0x18, 1, {}, text("GET /\"\\\x01\xff HTTP/1.1\r\n"))));
  nlohmann::json j = json(p);
  EXPECT_EQ(j["http"]["path"], "/\"\\\x01\xc3\xbf");  // \u00ff is ÿ once parsed
  EXPECT_NE(j["summary"].get<std::string>().find("/\"\\x5c\\x01\\xff"), std::string::npos);
}

TEST(PacketText, HexDump) {
  Packet p(18);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>('A' + i);
  p[1] = 0;
  TextBuffer out;
  append_hex_dump(out, p);
  EXPECT_EQ(fmt::to_string(out),
            "\t0x0000:  4100 4344 4546 4748 494a 4b4c 4d4e 4f50  A.CDEFGHIJKLMNOP\n"
            "\t0x0010:  5152                                     QR\n");
}

TEST(PacketText, TimeOfDayInUtc) {
  TextBuffer out;
  append_time(out, {86399, 999999});
  EXPECT_EQ(fmt::to_string(out), "23:59:59.999999");
}

}  // namespace
}  // namespace netres::capture
