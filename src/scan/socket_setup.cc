// Socket setup for the scanner: the open file budget, local ports and source addresses chosen up
// front, socket addresses, and reading ICMP errors the kernel queued on a socket.
#include "scan/socket_setup.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

#include "common/error.h"
#include "common/open_files.h"
#include "scan/connect_scanner.h"

namespace netres::scan {

unsigned socket_budget() {
  // Headroom for stdio, the epoll and timer fds, and whatever the C library opens meanwhile.
  constexpr uint64_t kHeadroom = 64;
  // A scan never holds more than 2^20 sockets, so that plus the headroom is all it asks for.
  constexpr uint64_t kMaxSockets = uint64_t{1} << 20;
  uint64_t limit = raise_open_file_limit(kMaxSockets + kHeadroom);
  if (limit < kHeadroom + 16) {
    throw RuntimeError(fmt::format(
        "the open file limit is {} (ulimit -n); a scan needs at least {}", limit, kHeadroom + 16));
  }
  return static_cast<unsigned>(std::min(limit - kHeadroom, kMaxSockets));
}

unsigned default_concurrency() { return std::min(socket_budget(), kDefaultWindow); }

namespace {

// Local ports we bind to: the system's ephemeral range, where the kernel would pick them too.
struct LocalPortRange {
  uint32_t first = 32768, count = 61000 - 32768;  // Linux's default
};

const LocalPortRange& local_port_range() {
  static const LocalPortRange range = [] {
    LocalPortRange r;
    std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    unsigned lo = 0, hi = 0;
    if (f != nullptr) {
      if (std::fscanf(f, "%u %u", &lo, &hi) == 2 && lo >= 1024 && hi <= 65535 && lo < hi)
        r = {lo, hi - lo + 1};
      std::fclose(f);
    }
    return r;
  }();
  return range;
}

// The source address the kernel would use towards `target` (a UDP connect sends nothing), or 0.
uint128 route_source(const IpAddress& target) {
  int fd = ::socket(target.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_storage ss{};
  socklen_t len;
  if (target.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(9);
    target.to_bytes(reinterpret_cast<uint8_t*>(&sin->sin_addr));
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(9);
    target.to_bytes(sin6->sin6_addr.s6_addr);
    len = sizeof(sockaddr_in6);
  }
  uint128 source = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    if (target.is_v4()) {
      const auto* b =
          reinterpret_cast<const uint8_t*>(&reinterpret_cast<sockaddr_in*>(&ss)->sin_addr);
      for (int i = 0; i < 4; ++i) source = (source << 8) | b[i];
    } else {
      const auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      // A scoped (link-local) source needs its interface too: leave those to the kernel.
      if (sin6->sin6_scope_id == 0)
        for (int i = 0; i < 16; ++i) source = (source << 8) | sin6->sin6_addr.s6_addr[i];
    }
  }
  ::close(fd);
  return source;
}

}  // namespace

SocketAddress socket_address(const IpAddress& a, uint16_t port) {
  SocketAddress out{};
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    a.to_bytes(reinterpret_cast<uint8_t*>(&sin->sin_addr));
    out.length = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    a.to_bytes(sin6->sin6_addr.s6_addr);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

// Binds a fresh socket to a local port of our choosing. The socket keeps it across reuse, so
// connect() skips the kernel's ephemeral port search and bind-bucket churn on every attempt.
// Binding the source address too spares connect() rehashing the socket under the address it
// picks. Any failure just leaves the socket to the kernel's own choice at connect().
void bind_local_port(int fd, Family family, uint128 source, uint32_t& next_port) {
  for (int tries = 0; tries < 4; ++tries) {
    const LocalPortRange& range = local_port_range();
    uint16_t port = static_cast<uint16_t>(range.first + next_port++ % range.count);
    int rc;
    if (family == Family::kV4) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_port = htons(port);
      IpAddress{Family::kV4, source}.to_bytes(reinterpret_cast<uint8_t*>(&sin.sin_addr));
      rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    } else {
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_port = htons(port);
      IpAddress{Family::kV6, source}.to_bytes(sin6.sin6_addr.s6_addr);
      rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6);
    }
    if (rc == 0 || errno != EADDRINUSE) return;
  }
}

// The errno of an ICMP error queued by IP_RECVERR / IPV6_RECVERR, or 0.
int queued_icmp_error(int fd) {
  char control[512];
  char data[1];
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
        (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      sock_extended_err ee;
      std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
      if (ee.ee_origin == SO_EE_ORIGIN_ICMP || ee.ee_origin == SO_EE_ORIGIN_ICMP6)
        return static_cast<int>(ee.ee_errno);
    }
  }
  return 0;
}

std::vector<uint128> bind_sources(const TargetSpace& space) {
  std::vector<uint128> sources;
  constexpr uint64_t kMaxSourceLookups = 4096;
  if (space.host_count() <= kMaxSourceLookups) {
    sources.resize(space.host_count());
    for (uint64_t h = 0; h < space.host_count(); ++h) sources[h] = route_source(space.host(h));
    // Sockets are reused across hosts, so binding pays only when a family has one source;
    // with several, a bound socket would have to be replaced whenever the source changes.
    for (Family f : {Family::kV4, Family::kV6}) {
      std::optional<uint128> common;
      bool uniform = true;
      for (uint64_t h = 0; h < space.host_count(); ++h) {
        if (space.host(h).family != f) continue;
        if (!common) common = sources[h];
        uniform = uniform && *common == sources[h];
      }
      if (!uniform)
        for (uint64_t h = 0; h < space.host_count(); ++h)
          if (space.host(h).family == f) sources[h] = 0;
    }
  }
  return sources;
}

}  // namespace netres::scan
