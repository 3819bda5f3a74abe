// The DNS servers a resolver asks: parsed from a --server list or from resolv.conf's
// "nameserver" lines, and turned into socket addresses.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netres::resolve {

// One server from a --server list.
struct ServerAddress {
  int family = 0;  // AF_INET or AF_INET6
  uint8_t address[16] = {};
  uint16_t port = 53;
  uint32_t scope_id = 0;  // for link-local IPv6 servers from resolv.conf ("fe80::1%eth0")
  std::string text;       // "127.0.0.1:5353", "[::1]:53"
};

// Parses "IP[:port]" / "[IPv6]:port" / bare IPv6, comma separated. Throws UsageError.
std::vector<ServerAddress> parse_servers(std::string_view text);

// The "nameserver" lines of a resolv.conf text, in order (port 53; IPv6 may carry "%iface").
// Lines that do not parse are skipped, as the C library does.
std::vector<ServerAddress> parse_resolv_conf(std::string_view text);

// The servers of `list` (--server), or, when it is empty, of /etc/resolv.conf, falling back to
// 127.0.0.1 as the C library does. Throws UsageError for a bad list.
std::vector<ServerAddress> configured_servers(const std::string& list);

// `s` as a sockaddr_in or sockaddr_in6 in `sa`; returns its length.
socklen_t to_sockaddr(const ServerAddress& s, sockaddr_storage& sa);

}  // namespace netres::resolve
