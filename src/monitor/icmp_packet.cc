// Echo requests out, replies and errors in: bounds-checked at every step, because the bytes come
// from the network.
#include "monitor/icmp_packet.h"

#include <algorithm>

namespace netres::monitor {

namespace {

constexpr uint8_t kEchoReply4 = 0, kEchoRequest4 = 8;
constexpr uint8_t kEchoReply6 = 129, kEchoRequest6 = 128;
constexpr size_t kIcmpHeader = 8;  // type, code, checksum, id, seq
constexpr size_t kIp6Header = 40;
constexpr uint8_t kProtoIcmp = 1, kProtoIcmp6 = 58;

uint16_t be16(std::span<const uint8_t> d, size_t at) {
  return static_cast<uint16_t>((d[at] << 8) | d[at + 1]);
}

bool is_error_type(bool v6, uint8_t type) {
  if (v6) return type >= 1 && type <= 4;  // unreachable, too big, time exceeded, parameter
  return type == 3 || type == 11 || type == 12;
}

// Length of an IPv4 header at the start of `d` with protocol `proto`, or 0 when it is not one.
size_t ip4_header_length(std::span<const uint8_t> d, uint8_t proto) {
  if (d.size() < 20 || (d[0] >> 4) != 4) return 0;
  size_t ihl = static_cast<size_t>(d[0] & 0x0f) * 4;
  if (ihl < 20 || d.size() < ihl || d[9] != proto) return 0;
  return ihl;
}

}  // namespace

uint16_t internet_checksum(std::span<const uint8_t> data) {
  uint32_t sum = 0;
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += static_cast<uint32_t>((data[i] << 8) | data[i + 1]);
  if (i < data.size()) sum += static_cast<uint32_t>(data[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

std::vector<uint8_t> build_echo_request(bool v6, uint16_t id, uint16_t seq, size_t payload) {
  std::vector<uint8_t> p(kIcmpHeader + payload);
  p[0] = v6 ? kEchoRequest6 : kEchoRequest4;
  p[4] = static_cast<uint8_t>(id >> 8);
  p[5] = static_cast<uint8_t>(id);
  p[6] = static_cast<uint8_t>(seq >> 8);
  p[7] = static_cast<uint8_t>(seq);
  for (size_t i = 0; i < payload; ++i) p[kIcmpHeader + i] = static_cast<uint8_t>(0x20 + i % 64);
  if (!v6) {
    uint16_t c = internet_checksum(p);
    p[2] = static_cast<uint8_t>(c >> 8);
    p[3] = static_cast<uint8_t>(c);
  }
  return p;
}

std::optional<IcmpMessage> parse_icmp(std::span<const uint8_t> data, bool v6, bool ip_header) {
  IcmpMessage m;
  if (ip_header && !v6) {
    size_t ihl = ip4_header_length(data, kProtoIcmp);
    if (ihl == 0) return std::nullopt;
    m.ttl = data[8];
    data = data.subspan(ihl);
  }
  if (data.size() < kIcmpHeader) return std::nullopt;
  m.type = data[0];
  m.code = data[1];
  if (m.type == (v6 ? kEchoReply6 : kEchoReply4)) {
    // IPv6 checksums cover the addresses (the kernel checks them); IPv4's is ours to check.
    if (!v6 && internet_checksum(data) != 0) return std::nullopt;
    m.kind = IcmpMessage::Kind::kEchoReply;
    m.id = be16(data, 4);
    m.seq = be16(data, 6);
    return m;
  }
  if (!is_error_type(v6, m.type)) return std::nullopt;
  // An error quotes the start of the datagram that caused it: its IP header, then at least 8
  // bytes, which for ours are the echo request's header.
  std::span<const uint8_t> quoted = data.subspan(kIcmpHeader);
  if (v6) {
    if (quoted.size() < kIp6Header || (quoted[0] >> 4) != 6 || quoted[6] != kProtoIcmp6)
      return std::nullopt;
    quoted = quoted.subspan(kIp6Header);
  } else {
    size_t ihl = ip4_header_length(quoted, kProtoIcmp);
    if (ihl == 0) return std::nullopt;
    quoted = quoted.subspan(ihl);
  }
  if (quoted.size() < kIcmpHeader || quoted[0] != (v6 ? kEchoRequest6 : kEchoRequest4))
    return std::nullopt;
  m.kind = IcmpMessage::Kind::kError;
  m.id = be16(quoted, 4);
  m.seq = be16(quoted, 6);
  return m;
}

BurstStats burst_stats(size_t sent, std::vector<double> rtts) {
  BurstStats s;
  s.sent = sent;
  s.received = rtts.size();
  s.loss_ratio =
      sent == 0 ? 0
                : 1.0 - static_cast<double>(std::min(s.received, sent)) / static_cast<double>(sent);
  if (rtts.empty()) return s;
  std::sort(rtts.begin(), rtts.end());
  s.min = rtts.front();
  s.max = rtts.back();
  size_t n = rtts.size();
  s.median = n % 2 ? rtts[n / 2] : (rtts[n / 2 - 1] + rtts[n / 2]) / 2;
  return s;
}

}  // namespace netres::monitor
