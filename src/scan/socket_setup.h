// Socket setup for the connect scanner's workers (internal to src/scan): addresses, local ports
// and source addresses chosen up front, and the ICMP errors the kernel queues on a socket.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "common/address.h"
#include "scan/target_space.h"

namespace netres::scan {

struct SocketAddress {
  sockaddr_storage storage;
  socklen_t length;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

SocketAddress socket_address(const IpAddress& a, uint16_t port);

// Binds a fresh socket to `source` and a local port from the system's ephemeral range, taken
// round-robin from `next_port` (each worker keeps its own counter).
void bind_local_port(int fd, Family family, uint128 source, uint32_t& next_port);

// The errno of an ICMP error queued by IP_RECVERR / IPV6_RECVERR, or 0.
int queued_icmp_error(int fd);

// The local address each host's sockets should be bound to, by host index: the routing table's
// choice when every host of a family shares one source, else 0 (the wildcard: connect() picks).
// Empty for large spaces, where a lookup per host does not pay.
std::vector<uint128> bind_sources(const TargetSpace& space);

}  // namespace netres::scan
