// ICMP echo for the icmp check, free of sockets: building echo requests, parsing what an ICMP
// socket returns (untrusted bytes: anyone on the path can send them) and the burst statistics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace netres::monitor {

// The Internet checksum (RFC 1071) of `data`, ready to store in network byte order.
uint16_t internet_checksum(std::span<const uint8_t> data);

// An echo request: type 8 (IPv4) or 128 (IPv6), code 0, `id`, `seq`, then `payload` bytes of a
// fixed pattern. The IPv4 checksum is filled in; IPv6's is the kernel's (it needs the addresses).
// On a ping socket the kernel replaces `id` with the socket's own.
std::vector<uint8_t> build_echo_request(bool v6, uint16_t id, uint16_t seq, size_t payload);

struct IcmpMessage {
  enum class Kind { kEchoReply, kError };
  Kind kind = Kind::kEchoReply;
  uint16_t id = 0, seq = 0;    // the reply's, or those of our request quoted in the error
  uint8_t type = 0, code = 0;  // the ICMP type and code of this message (errors: unreachable...)
  int ttl = -1;                // IPv4 with the IP header (raw sockets): the reply's TTL
};

// One datagram from an ICMP socket: an echo reply, or an error (destination unreachable, time
// exceeded, parameter problem; IPv6 also packet too big) quoting one of our echo requests.
// `ip_header`: the datagram starts with the IPv4 header (raw IPv4 sockets); ping sockets and
// IPv6 sockets start at the ICMP header. nullopt for anything else: our own requests seen on
// loopback, other ICMP types, truncated or malformed bytes, a bad IPv4 checksum.
std::optional<IcmpMessage> parse_icmp(std::span<const uint8_t> data, bool v6, bool ip_header);

// What one burst found.
struct BurstStats {
  size_t sent = 0, received = 0;
  double loss_ratio = 0;                // 1 - received/sent (0 when nothing was sent)
  double min = 0, median = 0, max = 0;  // seconds over the replies; 0 without replies
};
// The statistics of the replies' round-trip times (`rtts`, seconds, any order). The median of an
// even count is the mean of the middle two.
BurstStats burst_stats(size_t sent, std::vector<double> rtts);

}  // namespace netres::monitor
