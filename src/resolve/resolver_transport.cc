// The resolver's transport: each server's connected UDP socket (buffers sized for a window of
// answers, ICMP port unreachable reported as ECONNREFUSED), batched reads with recvmmsg, pausing
// sends while a socket buffer is full, and the TCP fallback for truncated answers.
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "resolve/resolver_internal.h"

namespace netres::resolve {

void Resolver::Impl::close_tcp(Pending& p) {
  if (p.tcp_fd < 0) return;
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, p.tcp_fd, nullptr);
  close(p.tcp_fd);
  tcp.erase(p.tcp_fd);
  p.tcp_fd = -1;
}

void Resolver::Impl::close_tcp_all() {
  for (auto& [fd, conn] : tcp) {
    close(fd);
    if (conn.index < pending.size()) pending[conn.index].tcp_fd = -1;
  }
  tcp.clear();
}

void Resolver::Impl::block(Server& s) {
  if (s.blocked) return;
  s.blocked = true;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = kTagUdp | static_cast<uint64_t>(&s - servers.data());
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s.fd, &ev);
}

void Resolver::Impl::unblock(Server& s) {
  if (!s.blocked) return;
  s.blocked = false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTagUdp | static_cast<uint64_t>(&s - servers.data());
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s.fd, &ev);
}

void Resolver::Impl::read_udp(size_t si) {
  Server& s = servers[si];
  // A bounded number of batches per wake-up, so timers and other sockets get their turn.
  for (int round = 0; round < 16; ++round) {
    int n = udp_batch.read(s.fd);
    if (n < 0) {
      if (errno == ECONNREFUSED) {
        refused(si);
        continue;
      }
      return;  // EAGAIN, or an error that a later send will report
    }
    for (int i = 0; i < n; ++i) handle_udp_reply(si, udp_batch.datagram(i));
    feed();
    if (n < udp_batch.size()) return;
  }
}

void Resolver::Impl::start_tcp(uint32_t index, size_t si) {
  Pending& p = pending[index];
  const Server& s = servers[si];
  if (p.state == State::kQueued) fly(index);  // answered while waiting to be resent
  p.state = State::kTcp;
  ++stats.tcp_fallbacks;
  ++p.sends;
  auto fail = [&](int err) {
    finish_status(index, err == ECONNREFUSED ? "connrefused" : "error",
                  fmt::format("TCP: {}", std::strerror(err)));
  };
  int fd = socket(s.address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(errno);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&s.sa), s.sa_len) < 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    return fail(err);
  }
  TcpConn conn{index, {}, 0, {}};
  std::vector<uint8_t> packet =
      build_dns_query((*queries)[index].name, (*queries)[index].type, p.id);
  conn.out = {static_cast<uint8_t>(packet.size() >> 8), static_cast<uint8_t>(packet.size())};
  conn.out.insert(conn.out.end(), packet.begin(), packet.end());
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.u64 = kTagTcp | static_cast<uint32_t>(fd);
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int err = errno;
    close(fd);
    return fail(err);
  }
  tcp.emplace(fd, std::move(conn));
  p.tcp_fd = fd;
  arm(index, Clock::now() + cap);
}

void Resolver::Impl::tcp_event(int fd, uint32_t events) {
  auto it = tcp.find(fd);
  if (it == tcp.end()) return;
  TcpConn& c = it->second;
  auto index = static_cast<uint32_t>(c.index);
  auto fail = [&](std::string detail, int err = 0) {
    finish_status(index, err == ECONNREFUSED ? "connrefused" : "error",
                  err ? fmt::format("TCP: {}", std::strerror(err)) : "TCP: " + detail);
  };
  if (c.out_done < c.out.size() && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail("", err);
    ssize_t n = send(fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) return;
      return fail("", errno);
    }
    c.out_done += static_cast<size_t>(n);
    if (c.out_done == c.out.size()) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kTagTcp | static_cast<uint32_t>(fd);
      epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }
  }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
  uint8_t buf[16384];
  for (int round = 0; round < 8; ++round) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN) return;
      return fail("", errno);
    }
    if (n == 0) return fail("connection closed before the answer was complete");
    c.in.insert(c.in.end(), buf, buf + n);
    if (c.in.size() >= 2) {
      size_t want = static_cast<size_t>(c.in[0] << 8 | c.in[1]);
      if (c.in.size() >= 2 + want) {
        std::vector<uint8_t> reply(c.in.begin() + 2, c.in.begin() + 2 + static_cast<long>(want));
        if (want < 2 || reply[0] != c.out[2] || reply[1] != c.out[3])
          return fail("answer with the wrong id");
        return finish_reply(index, reply);
      }
    }
  }
}

void Resolver::Impl::open_socket(Server& s, size_t index) {
  s.fd = socket(s.address.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0)
    throw RuntimeError(fmt::format("cannot open a UDP socket: {}", std::strerror(errno)));
  // Room for a whole window of answers between two reads (about 1 kB each on the kernel's
  // books), and for the queries the server has not read yet (charged to our send buffer until
  // it does). Root may exceed net.core.rmem_max; others get what the sysctl allows.
  int bytes = static_cast<int>(std::clamp<size_t>(concurrency * 1024, 1 << 20, 64 << 20));
  for (auto [force, plain] :
       {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, std::pair{SO_SNDBUFFORCE, SO_SNDBUF}})
    if (setsockopt(s.fd, SOL_SOCKET, force, &bytes, sizeof bytes) < 0)
      setsockopt(s.fd, SOL_SOCKET, plain, &bytes, sizeof bytes);
  // Connected: the kernel drops datagrams from anyone else, and an ICMP port unreachable
  // comes back to us as ECONNREFUSED.
  if (connect(s.fd, reinterpret_cast<const sockaddr*>(&s.sa), s.sa_len) < 0)
    throw RuntimeError(
        fmt::format("cannot reach DNS server {}: {}", s.address.text, std::strerror(errno)));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTagUdp | index;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, s.fd, &ev) < 0)
    throw RuntimeError(fmt::format("cannot watch a socket: {}", std::strerror(errno)));
}

}  // namespace netres::resolve
