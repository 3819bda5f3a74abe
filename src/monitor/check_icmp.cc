// The icmp check: a smokeping-style burst of echo requests per probe, replies matched by id and
// sequence. An unprivileged ping socket (SOCK_DGRAM/IPPROTO_ICMP, allowed by
// net.ipv4.ping_group_range) when the kernel allows it, a raw socket (root or CAP_NET_RAW)
// otherwise. One socket per probe, waited on by the event loop; its datagrams are read with
// recvmsg for the kernel's receive timestamp and the reply's TTL / hop limit.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/redirect_error.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include "monitor/checks.h"
#include "monitor/icmp_packet.h"

namespace netres::monitor {

namespace {

double realtime_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Raw sockets see every ICMP message of the host: each probe needs an id of its own. Ping
// sockets get theirs from the kernel.
uint16_t next_raw_id() {
  static std::atomic<uint32_t> next{std::random_device{}()};
  return static_cast<uint16_t>(next.fetch_add(1));
}

std::string icmp_error_text(bool v6, uint8_t type, uint8_t code) {
  std::string_view what = "error";
  if (v6) {
    if (type == 1) what = "destination unreachable";
    if (type == 2) what = "packet too big";
    if (type == 3) what = "time exceeded";
    if (type == 4) what = "parameter problem";
  } else {
    if (type == 3) what = "destination unreachable";
    if (type == 11) what = "time exceeded";
    if (type == 12) what = "parameter problem";
  }
  return fmt::format("ICMP{} {} (type {}, code {})", v6 ? "v6" : "", what, type, code);
}

// One burst's socket and bookkeeping; plain functions, the coroutine below only waits.
class Burst {
 public:
  Burst(const CheckSpec& c, const asio::ip::address& target)
      : c_(c),
        v6_(target.is_v6()),
        sent_at_(c.icmp_count),
        steady_at_(c.icmp_count),
        state_(c.icmp_count, kPending),
        buf_(65536 + 512) {
    std::memset(&to_, 0, sizeof to_);
    if (v6_) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&to_);
      a->sin6_family = AF_INET6;
      auto b = target.to_v6().to_bytes();
      std::memcpy(&a->sin6_addr, b.data(), b.size());
      a->sin6_scope_id = target.to_v6().scope_id();
      to_len_ = sizeof(sockaddr_in6);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&to_);
      a->sin_family = AF_INET;
      auto b = target.to_v4().to_bytes();
      std::memcpy(&a->sin_addr, b.data(), b.size());
      to_len_ = sizeof(sockaddr_in);
    }
  }

  // A ping socket, or a raw one where those are not allowed; -1 and `error` when neither opens.
  int open(std::string& error) {
    const int family = v6_ ? int{AF_INET6} : int{AF_INET};
    const int proto = v6_ ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
    int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    ping_ = fd >= 0;
    int ping_errno = errno;
    if (fd < 0) fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (fd < 0) {
      int raw_errno = errno;
      error = fmt::format(
          "no ICMP socket: ping socket: {} (net.ipv4.ping_group_range), raw socket: {} (needs "
          "root or CAP_NET_RAW)",
          std::strerror(ping_errno), std::strerror(raw_errno));
      return -1;
    }
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    if (v6_) {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
    } else {
      ::setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
    }
    // A raw ICMPv6 socket would also wake for neighbour discovery and router adverts: let the
    // kernel pass only echo replies and the errors that can quote a request.
    if (v6_ && !ping_) {
      icmp6_filter filter;
      ICMP6_FILTER_SETBLOCKALL(&filter);
      for (int type : {ICMP6_ECHO_REPLY, ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG,
                       ICMP6_TIME_EXCEEDED, ICMP6_PARAM_PROB})
        ICMP6_FILTER_SETPASS(type, &filter);
      ::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
    }
    // A ping socket hears of ICMP errors only through its error queue; a raw socket receives the
    // error messages themselves.
    if (ping_) {
      if (v6_)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
      else
        ::setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
    }
    fd_ = fd;
    id_ = next_raw_id();
    return fd;
  }

  bool ping_socket() const { return ping_; }
  int sent() const { return sent_; }
  bool all_answered() const { return sent_ == c_.icmp_count && answered_ == sent_; }

  // Sends request number sent_; a local failure (no route) counts as an error for it.
  void send_next() {
    const int seq = sent_++;
    auto packet =
        build_echo_request(v6_, id_, static_cast<uint16_t>(seq), static_cast<size_t>(c_.icmp_size));
    steady_at_[seq] = Clock::now();
    sent_at_[seq] = realtime_now();
    ssize_t n = ::sendto(fd_, packet.data(), packet.size(), 0,
                         reinterpret_cast<const sockaddr*>(&to_), to_len_);
    if (n < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) return;  // lost, as on the wire
      mark(seq, kError);
      if (error_.empty()) {
        unreachable_ = e == EHOSTUNREACH || e == ENETUNREACH || e == EACCES;
        error_ = fmt::format("send: {}", std::strerror(e));
      }
    }
  }

  // Reads every datagram the socket has now (and, for ping sockets, its error queue).
  void drain() {
    if (ping_) {
      for (int i = 0; i < 1024 && read_one(true); ++i) {
      }
    }
    for (int i = 0; i < 1024 && read_one(false); ++i) {
    }
  }

  void fill(ProbeResult& r) const {
    BurstStats s = burst_stats(static_cast<size_t>(sent_), rtts_);
    r.set("netres_icmp_packets_sent", static_cast<double>(s.sent));
    r.set("netres_icmp_packets_received", static_cast<double>(s.received));
    r.set("netres_icmp_loss_ratio", s.loss_ratio);
    if (s.received > 0) {
      r.set("probe_icmp_duration_seconds", s.median, {{"phase", "rtt"}});
      r.set("netres_icmp_rtt_min_seconds", s.min);
      r.set("netres_icmp_rtt_median_seconds", s.median);
      r.set("netres_icmp_rtt_max_seconds", s.max);
      if (hop_limit_ >= 0) r.set("probe_icmp_reply_hop_limit", hop_limit_);
    }
    r.rtts = rtts_;
    std::string how = ping_ ? "ping socket" : "raw socket";
    if (s.received > 0) {
      r.detail = fmt::format("{}/{} replies, rtt min/median/max {:.3f}/{:.3f}/{:.3f} ms ({})",
                             s.received, s.sent, s.min * 1e3, s.median * 1e3, s.max * 1e3, how);
      if (c_.max_loss && s.loss_ratio > *c_.max_loss + 1e-9) {
        std::string d = r.detail;
        r.fail("loss", fmt::format("loss {:.0f}% above max_loss {:.0f}%: {}", s.loss_ratio * 100,
                                   *c_.max_loss * 100, d));
      } else {
        r.success = true;
      }
    } else if (!error_.empty()) {
      r.fail(unreachable_ ? "unreachable" : "error",
             fmt::format("0/{} replies: {} ({})", s.sent, error_, how));
    } else {
      r.fail("timeout", fmt::format("0/{} replies ({})", s.sent, how));
    }
  }

  ~Burst() = default;

 private:
  enum State : char { kPending, kReplied, kError };

  void mark(int seq, State st) {
    if (state_[seq] != kPending) return;
    state_[seq] = st;
    ++answered_;
  }

  // One datagram; false when there is none (or the socket is gone).
  bool read_one(bool errqueue) {
    sockaddr_storage from{};
    iovec iov{buf_.data(), buf_.size()};
    alignas(cmsghdr) char control[512];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT | (errqueue ? MSG_ERRQUEUE : 0));
    if (n < 0) return false;
    const auto now_steady = Clock::now();
    double kernel_ts = 0;
    int hop = -1;
    const sock_extended_err* ee = nullptr;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
          cm->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        kernel_ts = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
      } else if (((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
                  (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) &&
                 cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
        std::memcpy(&hop, CMSG_DATA(cm), sizeof hop);
      } else if (((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
                  (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR)) &&
                 cm->cmsg_len >= CMSG_LEN(sizeof(sock_extended_err))) {
        ee = reinterpret_cast<const sock_extended_err*>(CMSG_DATA(cm));
      }
    }
    std::span<const uint8_t> data(buf_.data(), static_cast<size_t>(n));
    if (errqueue) {
      if (ee) on_queued_error(*ee, data);
      return true;
    }
    auto m = parse_icmp(data, v6_, !ping_ && !v6_);
    if (!m) return true;
    // A ping socket only gets its own id's replies; the kernel rewrote ours.
    if (!ping_ && m->id != id_) return true;
    const int seq = m->seq;
    if (seq >= sent_) return true;
    if (m->kind == IcmpMessage::Kind::kError) {
      if (state_[seq] != kPending) return true;
      mark(seq, kError);
      unreachable_ = true;
      if (error_.empty()) error_ = icmp_error_text(v6_, m->type, m->code);
      return true;
    }
    if (!from_target(from) || state_[seq] != kPending) return true;  // a stranger, or a duplicate
    double rtt = kernel_ts > 0 ? kernel_ts - sent_at_[seq] : -1;
    // The kernel's receive time is best (the loop may be busy); the steady clock when it is
    // missing or the wall clock stepped.
    if (rtt < 0 || rtt > 3600)
      rtt = std::chrono::duration<double>(now_steady - steady_at_[seq]).count();
    mark(seq, kReplied);
    rtts_.push_back(rtt);
    hop_limit_ = hop >= 0 ? hop : m->ttl;
    return true;
  }

  void on_queued_error(const sock_extended_err& ee, std::span<const uint8_t> data) {
    // The queue returns our request as sent: its header carries the sequence.
    int seq = -1;
    if (data.size() >= 8 && data[0] == (v6_ ? 128 : 8)) seq = (data[6] << 8) | data[7];
    if (ee.ee_origin == SO_EE_ORIGIN_ICMP || ee.ee_origin == SO_EE_ORIGIN_ICMP6) {
      unreachable_ = true;
      if (error_.empty()) error_ = icmp_error_text(v6_, ee.ee_type, ee.ee_code);
    } else {
      unreachable_ = unreachable_ || ee.ee_errno == EHOSTUNREACH || ee.ee_errno == ENETUNREACH;
      if (error_.empty()) error_ = std::strerror(static_cast<int>(ee.ee_errno));
    }
    if (seq >= 0 && seq < sent_) mark(seq, kError);
  }

  bool from_target(const sockaddr_storage& from) const {
    if (v6_) {
      if (from.ss_family != AF_INET6) return false;
      return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&from)->sin6_addr,
                         &reinterpret_cast<const sockaddr_in6*>(&to_)->sin6_addr,
                         sizeof(in6_addr)) == 0;
    }
    if (from.ss_family != AF_INET) return false;
    return reinterpret_cast<const sockaddr_in*>(&from)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&to_)->sin_addr.s_addr;
  }

  const CheckSpec& c_;
  bool v6_;
  bool ping_ = false;
  int fd_ = -1;  // owned by the coroutine's stream_descriptor
  uint16_t id_ = 0;
  sockaddr_storage to_;
  socklen_t to_len_ = 0;
  int sent_ = 0, answered_ = 0;
  std::vector<double> sent_at_;  // CLOCK_REALTIME, to compare with the kernel's timestamps
  std::vector<Clock::time_point> steady_at_;
  std::vector<State> state_;
  std::vector<double> rtts_;
  std::vector<uint8_t> buf_;
  int hop_limit_ = -1;
  bool unreachable_ = false;
  std::string error_;
};

// The endpoint of the preferred family, else (with fallback) of the other; nullopt for none.
std::optional<asio::ip::address> pick(const std::vector<asio::ip::tcp::endpoint>& eps,
                                      const CheckSpec& c) {
  for (const auto& e : eps)
    if (e.address().is_v6() == c.prefer_ip6) return e.address();
  if (c.ip_protocol_fallback && !eps.empty()) return eps.front().address();
  return std::nullopt;
}

}  // namespace

asio::awaitable<ProbeResult> probe_icmp(ProbeContext& ctx, const CheckSpec& c,
                                        const std::string& address, Clock::time_point deadline_at) {
  ProbeResult r;
  HostPort hp = split_address(address, 0);
  if (hp.host.empty() || hp.port != 0) {  // only through /probe: the loader checks its targets
    r.fail("error", "address must be a host without a port, got '" + address + "'");
    co_return r;
  }
  auto resolved = co_await resolve_host(
      ctx, hp.host, 0, std::chrono::duration_cast<Nanos>(deadline_at - Clock::now()));
  r.set("probe_dns_lookup_time_seconds", resolved.seconds);
  r.set("probe_icmp_duration_seconds", resolved.seconds, {{"phase", "resolve"}});
  if (!resolved.error.empty()) {
    r.fail(Clock::now() >= deadline_at ? "timeout" : "dns",
           "resolve " + hp.host + ": " + resolved.error);
    co_return r;
  }
  auto target = pick(resolved.endpoints, c);
  if (!target) {
    r.fail("dns", fmt::format("{} has no {} address", hp.host, c.prefer_ip6 ? "IPv6" : "IPv4"));
    co_return r;
  }
  r.set("probe_ip_protocol", target->is_v6() ? 6 : 4);

  auto setup_start = Clock::now();
  Burst burst(c, *target);
  std::string error;
  int fd = burst.open(error);
  if (fd < 0) {
    r.fail("error", error);
    co_return r;
  }
  asio::posix::stream_descriptor sock(ctx.io(), fd);
  r.set("probe_icmp_duration_seconds", seconds_since(setup_start), {{"phase", "setup"}});
  Deadline deadline(ctx.io(), deadline_at, [&sock] {
    std::error_code ignored;
    sock.cancel(ignored);
  });
  auto next_send = Clock::now();
  // Bounded: count sends, and every wait ends at the next send or the deadline.
  for (int rounds = 0; rounds < 100000 && !deadline.fired(); ++rounds) {
    while (burst.sent() < c.icmp_count && Clock::now() >= next_send) {
      burst.send_next();
      next_send += c.icmp_interval;
    }
    if (burst.all_answered()) break;
    // Wake for the next send: cancelling the wait, as the deadline does at its end.
    std::unique_ptr<Deadline> tick;
    if (burst.sent() < c.icmp_count)
      tick = std::make_unique<Deadline>(ctx.io(), next_send, [&sock] {
        std::error_code ignored;
        sock.cancel(ignored);
      });
    std::error_code ec;
    co_await sock.async_wait(asio::posix::stream_descriptor::wait_read,
                             asio::redirect_error(asio::use_awaitable, ec));
    tick.reset();
    if (ec && ec != asio::error::operation_aborted) {
      r.fail("error", "wait: " + ec.message());
      co_return r;
    }
    burst.drain();
  }
  burst.fill(r);
  co_return r;
}

}  // namespace netres::monitor
