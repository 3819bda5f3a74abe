// ConnectScanner: per-thread event loops (wrk style: each Worker owns its io_context, sockets and
// timers, so there are no locks on the hot path), fed from one shared permutation of the space.
#include "scan/connect_scanner.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "common/error.h"
#include "scan/permutation.h"
#include "scan/rtt_estimator.h"

namespace netres::scan {

const char* to_string(PortState s) {
  switch (s) {
    case PortState::kOpen:
      return "open";
    case PortState::kClosed:
      return "closed";
    case PortState::kFiltered:
      return "filtered";
  }
  return "?";
}

const char* to_string(Reason r) {
  switch (r) {
    case Reason::kSynAck:
      return "syn-ack";
    case Reason::kConnRefused:
      return "conn-refused";
    case Reason::kNoResponse:
      return "no-response";
    case Reason::kHostUnreach:
      return "host-unreach";
    case Reason::kNetUnreach:
      return "net-unreach";
    case Reason::kLocalDenied:
      return "local-denied";
    case Reason::kError:
      return "error";
  }
  return "?";
}

unsigned socket_budget() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) throw RuntimeError("cannot read the open file limit");
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit want = lim;
    // An unlimited hard limit still cannot exceed fs.nr_open; ask for a large finite value.
    want.rlim_cur = lim.rlim_max == RLIM_INFINITY ? (rlim_t{1} << 20) : lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) lim = want;
  }
  // Headroom for stdio, the epoll and timer fds, and whatever the C library opens meanwhile.
  constexpr rlim_t kHeadroom = 64;
  if (lim.rlim_cur < kHeadroom + 16) {
    throw RuntimeError(
        fmt::format("the open file limit is {} (ulimit -n); a scan needs at least {}", lim.rlim_cur,
                    kHeadroom + 16));
  }
  return static_cast<unsigned>(std::min<rlim_t>(lim.rlim_cur - kHeadroom, 1u << 20));
}

unsigned default_concurrency() {
  return std::min(socket_budget(), kDefaultWindow);
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kBannerBytes = 512;
constexpr std::string_view kHttpProbe = "HEAD / HTTP/1.0\r\n\r\n";
constexpr size_t kClaimBatch = 64;
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

bool speaks_http_first(uint16_t port) {
  switch (port) {
    case 80:
    case 81:
    case 591:
    case 3000:
    case 5000:
    case 8000:
    case 8008:
    case 8080:
    case 8081:
    case 8088:
    case 8888:
    case 9000:
    case 9090:
      return true;
    default:
      return false;
  }
}

// What all workers share: the work sequence, the counters and the result sink.
struct SharedState {
  SharedState(const TargetSpace& s, const ScanOptions& o, const ConnectScanner::ResultSink& r)
      : space(s),
        options(o),
        permutation(s.pair_count(), o.seed),
        share(o.shard.share_of(s.pair_count())),
        sink(r) {}

  // Claims up to kClaimBatch consecutive shard positions; returns [begin, end).
  std::pair<uint64_t, uint64_t> claim() {
    uint64_t begin = next.fetch_add(kClaimBatch, std::memory_order_relaxed);
    if (begin >= share) return {share, share};
    return {begin, std::min(share, begin + kClaimBatch)};
  }
  // The pair index at the j-th position of this shard.
  uint64_t pair_at(uint64_t j) const {
    return permutation.at(options.shard.first() + j * options.shard.stride());
  }
  void emit(const PortResult& r) {
    switch (r.state) {
      case PortState::kOpen:
        open.fetch_add(1, std::memory_order_relaxed);
        break;
      case PortState::kClosed:
        closed.fetch_add(1, std::memory_order_relaxed);
        break;
      case PortState::kFiltered:
        filtered.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    std::lock_guard lock(sink_mutex);
    sink(r);
    done.fetch_add(1, std::memory_order_relaxed);
  }
  void fail(std::exception_ptr e) {
    std::lock_guard lock(error_mutex);
    if (!error) error = e;
    abort.store(true);
  }

  const TargetSpace& space;
  const ScanOptions& options;
  Permutation permutation;
  // The local address the routing table picks for each host (when there are few hosts), so
  // sockets can be bound to it up front; 0 (the wildcard) leaves the choice to connect().
  std::vector<uint128> sources;
  uint128 source_of(uint64_t host) const { return host < sources.size() ? sources[host] : 0; }
  uint64_t share;
  const ConnectScanner::ResultSink& sink;
  std::atomic<uint64_t> next{0};
  std::mutex sink_mutex;
  std::atomic<uint64_t> done{0}, open{0}, closed{0}, filtered{0}, attempts{0};
  std::atomic<int64_t> timeout_ns{0};
  std::atomic<bool> abort{false};
  std::mutex error_mutex;
  std::exception_ptr error;
};

class Worker {
 public:
  Worker(SharedState& shared, unsigned window, double rate, bool reports_timeout)
      : shared_(shared),
        options_(shared.options),
        io_(1),
        tick_(io_),
        rtt_(options_.fixed_timeout.value_or(options_.initial_timeout),
             options_.fixed_timeout.value_or(options_.min_timeout),
             options_.fixed_timeout.value_or(options_.max_timeout)),
        rate_(rate),
        reports_timeout_(reports_timeout) {
    // Each worker starts at its own random point of the local port range.
    next_local_port_ = static_cast<uint32_t>(std::random_device{}());
    for (unsigned i = 0; i < window; ++i) {
      slots_.emplace_back(io_);
      idle_.push_back(window - 1 - i);
    }
  }

  ~Worker() {
    for (auto& s : slots_)
      for (int fd : {s.fd, s.spare_fd})
        if (fd >= 0) ::close(fd);
  }

  void run() {
    last_refill_ = Clock::now();
    tokens_ = 1;
    fill();
    arm_tick();
    io_.run();
  }

 private:
  enum class Phase : uint8_t { kIdle, kConnecting, kBanner };
  struct Slot {
    explicit Slot(asio::io_context& io) : socket(io) {}
    // A socket whose connect failed at once (RST already processed) is disconnected by the
    // kernel and can connect again: kept here between attempts, it saves socket() + close().
    int fd = -1;
    Family fd_family = Family::kV4;
    int spare_fd = -1;                        // a reusable socket of the other family
    uint128 fd_source = 0, spare_source = 0;  // the local address each is bound to
    // Attempts still waiting for an answer are handed to Asio's reactor (epoll) through this.
    asio::ip::tcp::socket socket;
    uint64_t pair = 0;
    Clock::time_point start;
    Nanos rtt{-1};
    uint32_t generation = 0;  // bumped when an attempt ends, so late handlers are ignored
    uint8_t attempts = 0;
    Phase phase = Phase::kIdle;
    bool probe_sent = false;
    std::unique_ptr<char[]> buffer;
  };
  struct Deadline {
    uint32_t slot;
    uint32_t generation;
    Clock::time_point at;
  };
  struct Work {
    uint64_t pair;
    uint8_t attempts;  // made so far
  };

  Nanos timeout() const { return rtt_.timeout(); }

  bool next_work(Work* w) {
    if (!retries_.empty()) {
      *w = retries_.front();
      retries_.pop_front();
      return true;
    }
    if (claim_begin_ == claim_end_) {
      if (exhausted_) return false;
      std::tie(claim_begin_, claim_end_) = shared_.claim();
      if (claim_begin_ == claim_end_) {
        exhausted_ = true;
        return false;
      }
    }
    *w = {shared_.pair_at(claim_begin_++), 0};
    return true;
  }

  bool finished() const {
    return in_flight_ == 0 && retries_.empty() && exhausted_ && claim_begin_ == claim_end_;
  }

  // Starts attempts in idle slots while there is work, budget and rate allowance. Many attempts
  // complete inside connect() itself (a local RST), so a batch limit keeps this loop from
  // starving the reactor and the deadline sweep; the rest continues in a posted call.
  void fill() {
    constexpr int kBatch = 256;
    int launched = 0;
    while (!idle_.empty() && !stalled_ && (rate_ <= 0 || tokens_ >= 1)) {
      if (launched == kBatch) {
        // A long run of instant answers must not hold back the expiry of silent ports.
        sweep_deadlines(Clock::now(), timeout());
        if (!fill_posted_) {
          fill_posted_ = true;
          asio::post(io_, [this] {
            fill_posted_ = false;
            fill();
          });
        }
        return;
      }
      Work w;
      if (!next_work(&w)) break;
      uint32_t idx = idle_.back();
      idle_.pop_back();
      if (!start_attempt(idx, w)) break;
      ++launched;
      if (rate_ > 0) tokens_ -= 1;
    }
    if (finished()) tick_.cancel();
  }

  struct SocketAddress {
    sockaddr_storage storage;
    socklen_t length;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  };

  static SocketAddress socket_address(const IpAddress& a, uint16_t port) {
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

  static asio::ip::tcp protocol(Family f) {
    return f == Family::kV4 ? asio::ip::tcp::v4() : asio::ip::tcp::v6();
  }

  bool start_attempt(uint32_t idx, Work w) {
    Slot& s = slots_[idx];
    uint64_t host = shared_.space.host_of(w.pair);
    IpAddress address = shared_.space.host(host);
    SocketAddress sa = socket_address(address, shared_.space.port_of(w.pair));
    if (s.fd_family != address.family) {
      // Mixed IPv4/IPv6 scans alternate families at random: keep one socket of each.
      std::swap(s.fd, s.spare_fd);
      std::swap(s.fd_source, s.spare_source);
      s.fd_family = address.family;
    }
    uint128 source = shared_.source_of(host);
    if (s.fd >= 0 && s.fd_source != source) {
      ::close(s.fd);
      s.fd = -1;
    }
    if (s.fd < 0) {
      s.fd = ::socket(address.is_v4() ? AF_INET : AF_INET6,
                      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (s.fd < 0) {
        int err = errno;
        retries_.push_front(w);  // not an attempt: nothing was sent
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          // Someone else holds descriptors too: give this slot up for good and go on with a
          // smaller window. With nothing in flight there is no way forward.
          if (in_flight_ == 0) {
            throw RuntimeError(
                fmt::format("cannot open sockets: {} (raise ulimit -n or lower --concurrency)",
                            std::strerror(err)));
          }
          return false;
        }
        idle_.push_back(idx);
        throw RuntimeError(fmt::format("cannot open a socket: {}", std::strerror(err)));
      }
      s.fd_family = address.family;
      s.fd_source = source;
      bind_local_port(s.fd, address.family, source);
      // Queue ICMP errors on the socket: an unreachable that arrives while connect() still
      // holds the socket lock (always so on a local path) is otherwise only a "soft" error
      // that SO_ERROR never shows, and the port would look silent.
      int on = 1;
      if (address.is_v4()) {
        ::setsockopt(s.fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
      } else {
        ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
      }
    }
    s.pair = w.pair;
    s.attempts = static_cast<uint8_t>(w.attempts + 1);
    s.phase = Phase::kConnecting;
    s.rtt = Nanos(-1);
    s.start = Clock::now();
    ++in_flight_;
    shared_.attempts.fetch_add(1, std::memory_order_relaxed);

    int err = ::connect(s.fd, sa.get(), sa.length) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      // On a local path the SYN-ACK or RST has usually been processed before connect()
      // returns; a second connect() reports it (EISCONN / ECONNREFUSED) without epoll, and
      // after a refusal leaves the socket disconnected and ready for the next attempt.
      err = ::connect(s.fd, sa.get(), sa.length) == 0 ? 0 : errno;
      if (err == EISCONN) err = 0;
    }
    if (err == EALREADY || err == EINPROGRESS) {
      wait_for_answer(idx);
    } else if (err == 0) {
      on_connected(idx);
    } else {
      on_error(idx, err, /*socket_reusable=*/true);
    }
    return true;
  }

  // Hands the socket to the reactor until it becomes writable (answered) or the deadline passes.
  void wait_for_answer(uint32_t idx) {
    Slot& s = slots_[idx];
    asio::error_code ec;
    s.socket.assign(protocol(s.fd_family), s.fd, ec);
    if (ec) throw RuntimeError(fmt::format("cannot watch a socket: {}", ec.message()));
    s.fd = -1;
    uint32_t gen = s.generation;
    deadlines_.push_back({idx, gen, s.start});
    s.socket.async_wait(asio::socket_base::wait_write, [this, idx, gen](const asio::error_code& e) {
      on_writable(idx, gen, e);
      fill();
    });
  }

  void on_writable(uint32_t idx, uint32_t gen, const asio::error_code& ec) {
    Slot& s = slots_[idx];
    if (ec || s.generation != gen || s.phase != Phase::kConnecting) return;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(s.socket.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0) err = queued_icmp_error(s.socket.native_handle());
    if (err == 0) {
      on_connected(idx);
    } else {
      on_error(idx, err, /*socket_reusable=*/false);
    }
  }

  // Binds a fresh socket to a local port of our choosing. The socket keeps it across reuse, so
  // connect() skips the kernel's ephemeral port search and bind-bucket churn on every attempt.
  // Binding the source address too spares connect() rehashing the socket under the address it
  // picks. Any failure just leaves the socket to the kernel's own choice at connect().
  void bind_local_port(int fd, Family family, uint128 source) {
    for (int tries = 0; tries < 4; ++tries) {
      const LocalPortRange& range = local_port_range();
      uint16_t port = static_cast<uint16_t>(range.first + next_local_port_++ % range.count);
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
  static int queued_icmp_error(int fd) {
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

  void on_connected(uint32_t idx) {
    Slot& s = slots_[idx];
    Nanos rtt = Clock::now() - s.start;
    rtt_.add_sample(rtt);
    s.rtt = rtt;
    if (options_.banner) {
      start_banner(idx);
    } else {
      finish(idx, PortState::kOpen, Reason::kSynAck, rtt);
    }
  }

  void on_error(uint32_t idx, int err, bool socket_reusable) {
    Slot& s = slots_[idx];
    Nanos rtt = Clock::now() - s.start;
    // Only a plain refusal is known to leave the socket cleanly disconnected for reuse.
    if (!(socket_reusable && err == ECONNREFUSED)) drop_socket(s);
    switch (err) {
      case ECONNREFUSED:
        rtt_.add_sample(rtt);
        finish(idx, PortState::kClosed, Reason::kConnRefused, rtt);
        break;
      case EHOSTUNREACH:
        finish(idx, PortState::kFiltered, Reason::kHostUnreach, rtt);
        break;
      case ENETUNREACH:
      case ENETDOWN:
        finish(idx, PortState::kFiltered, Reason::kNetUnreach, rtt);
        break;
      case EACCES:
      case EPERM:
        finish(idx, PortState::kFiltered, Reason::kLocalDenied, rtt);
        break;
      case ETIMEDOUT:
        silent(idx);
        break;
      case EADDRNOTAVAIL:
      case EAGAIN:
        // Out of local ports for now: requeue without counting, pause launches until the next
        // tick so closing sockets can free some.
        retries_.push_front({s.pair, static_cast<uint8_t>(s.attempts - 1)});
        shared_.attempts.fetch_sub(1, std::memory_order_relaxed);
        release(idx);
        stalled_ = true;
        break;
      default:
        finish(idx, PortState::kFiltered, Reason::kError, rtt);
        break;
    }
  }

  // Closes whatever socket the slot holds (the raw one or the reactor's).
  static void drop_socket(Slot& s, bool reset = false) {
    int fd = s.fd >= 0 ? s.fd : (s.socket.is_open() ? s.socket.native_handle() : -1);
    if (fd >= 0 && reset) {
      // Abort with RST: no FIN handshake, no TIME_WAIT socket left behind for each open port.
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    if (s.fd >= 0) {
      ::close(s.fd);
      s.fd = -1;
    }
    if (s.socket.is_open()) {
      asio::error_code ignored;
      s.socket.close(ignored);
    }
  }

  // No answer within the timeout: try again, or call the port filtered.
  void silent(uint32_t idx) {
    Slot& s = slots_[idx];
    drop_socket(s);
    if (s.attempts <= options_.retries) {
      retries_.push_back({s.pair, s.attempts});
      release(idx);
    } else {
      finish(idx, PortState::kFiltered, Reason::kNoResponse, Nanos(-1));
    }
  }

  void start_banner(uint32_t idx) {
    Slot& s = slots_[idx];
    if (s.fd >= 0) {
      asio::error_code ec;
      s.socket.assign(protocol(s.fd_family), s.fd, ec);
      if (ec) throw RuntimeError(fmt::format("cannot watch a socket: {}", ec.message()));
      s.fd = -1;
    }
    s.phase = Phase::kBanner;
    s.probe_sent = false;
    if (!s.buffer) s.buffer = std::make_unique<char[]>(kBannerBytes);
    uint16_t port = shared_.space.port_of(s.pair);
    // SSH, SMTP, FTP and friends speak first; web servers wait for a request.
    if (speaks_http_first(port)) send_probe(s);
    uint32_t gen = s.generation;
    s.socket.async_read_some(asio::buffer(s.buffer.get(), kBannerBytes),
                             [this, idx, gen](const asio::error_code& e, size_t n) {
                               on_banner(idx, gen, e, n);
                               fill();
                             });
    Nanos wait = s.probe_sent ? options_.banner_timeout : options_.banner_timeout / 2;
    banner_deadlines_.push_back({idx, gen, Clock::now() + wait});
  }

  void send_probe(Slot& s) {
    // Tiny, on a fresh connection: the send buffer always has room, so this never blocks.
    // MSG_NOSIGNAL: a peer that already reset must not raise SIGPIPE.
    ::send(s.socket.native_handle(), kHttpProbe.data(), kHttpProbe.size(), MSG_NOSIGNAL);
    s.probe_sent = true;
  }

  void on_banner(uint32_t idx, uint32_t gen, const asio::error_code& ec, size_t n) {
    Slot& s = slots_[idx];
    if (s.generation != gen || s.phase != Phase::kBanner) return;
    if (ec == asio::error::operation_aborted) return;
    std::string banner = ec ? std::string() : std::string(s.buffer.get(), n);
    finish(idx, PortState::kOpen, Reason::kSynAck, s.rtt, std::move(banner));
  }

  void finish(uint32_t idx, PortState state, Reason reason, Nanos rtt, std::string banner = {}) {
    Slot& s = slots_[idx];
    PortResult r;
    r.host_index = shared_.space.host_of(s.pair);
    r.address = shared_.space.host(r.host_index);
    r.port = shared_.space.port_of(s.pair);
    r.state = state;
    r.reason = reason;
    r.attempts = s.attempts;
    r.rtt = rtt;
    r.has_banner = options_.banner && state == PortState::kOpen;
    r.banner = std::move(banner);
    if (state == PortState::kOpen) drop_socket(s, /*reset=*/true);
    release(idx);
    shared_.emit(r);
  }

  // Ends the slot's attempt and makes it free for the next one. A refused socket stays open in
  // s.fd for reuse; one the reactor watched is closed.
  void release(uint32_t idx) {
    Slot& s = slots_[idx];
    if (s.socket.is_open()) {
      asio::error_code ignored;
      s.socket.close(ignored);
    }
    ++s.generation;
    s.phase = Phase::kIdle;
    --in_flight_;
    idle_.push_back(idx);
  }

  // True when the socket already has its answer queued, though our loop has not run its handler
  // yet (a busy loop must not turn a late-read SYN-ACK into a timeout).
  static bool answer_pending(asio::ip::tcp::socket& socket) {
    pollfd p{socket.native_handle(), POLLOUT, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  Nanos tick_period() const {
    return std::clamp<Nanos>(timeout() / 8, std::chrono::milliseconds(1),
                             std::chrono::milliseconds(10));
  }

  void arm_tick() {
    tick_.expires_after(tick_period());
    tick_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;
      on_tick();
    });
  }

  // Expires attempts whose deadline passed: start + the current timeout.
  void sweep_deadlines(Clock::time_point now, Nanos limit) {
    while (!deadlines_.empty()) {
      const Deadline d = deadlines_.front();
      Slot& s = slots_[d.slot];
      if (s.generation != d.generation || s.phase != Phase::kConnecting) {
        deadlines_.pop_front();
        continue;
      }
      if (d.at + limit > now) break;
      deadlines_.pop_front();
      if (answer_pending(s.socket)) continue;  // its handler is on the way
      silent(d.slot);
    }
  }

  // One periodic sweep instead of a timer per attempt. Every attempt waits the same current
  // timeout, so deadlines expire in start order and a FIFO is enough; as the RTT estimate falls,
  // attempts started under the initial timeout expire early too.
  void on_tick() {
    if (shared_.abort.load(std::memory_order_relaxed)) {
      io_.stop();
      return;
    }
    auto now = Clock::now();
    Nanos limit = timeout();
    sweep_deadlines(now, limit);
    for (size_t i = 0; i < banner_deadlines_.size();) {
      Deadline d = banner_deadlines_[i];
      Slot& s = slots_[d.slot];
      bool live = s.generation == d.generation && s.phase == Phase::kBanner;
      if (live && d.at > now) {
        ++i;
        continue;
      }
      banner_deadlines_[i] = banner_deadlines_.back();
      banner_deadlines_.pop_back();
      if (!live) continue;
      if (!s.probe_sent) {
        // Silent so far: maybe it is a web server on an unusual port.
        send_probe(s);
        banner_deadlines_.push_back({d.slot, d.generation, now + options_.banner_timeout / 2});
      } else {
        finish(d.slot, PortState::kOpen, Reason::kSynAck, s.rtt);
      }
    }
    if (rate_ > 0) {
      double dt = std::chrono::duration<double>(now - last_refill_).count();
      tokens_ = std::min(tokens_ + dt * rate_, std::max(1.0, rate_ * 0.02));
    }
    last_refill_ = now;
    stalled_ = false;
    if (reports_timeout_) shared_.timeout_ns.store(limit.count(), std::memory_order_relaxed);
    fill();
    if (!finished()) arm_tick();
  }

  SharedState& shared_;
  const ScanOptions& options_;
  asio::io_context io_;
  asio::steady_timer tick_;
  std::deque<Slot> slots_;  // a deque: sockets never move once created
  std::vector<uint32_t> idle_;
  std::deque<Deadline> deadlines_;
  std::vector<Deadline> banner_deadlines_;
  std::deque<Work> retries_;
  RttEstimator rtt_;
  double rate_;
  double tokens_ = 0;
  Clock::time_point last_refill_;
  bool reports_timeout_;
  bool stalled_ = false;
  bool exhausted_ = false;
  bool fill_posted_ = false;
  uint64_t claim_begin_ = 0, claim_end_ = 0;
  uint32_t next_local_port_;
  unsigned in_flight_ = 0;
};

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

ConnectScanner::ConnectScanner(const TargetSpace& space, ScanOptions options)
    : space_(space), options_(std::move(options)) {}

ScanCounts ConnectScanner::run(const ResultSink& results, const ProgressSink& progress) {
  // A peer that resets between connect and our banner probe must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  auto started = Clock::now();
  unsigned budget = socket_budget();
  unsigned window = options_.concurrency ? options_.concurrency : default_concurrency();
  window = std::min(window, budget);
  unsigned threads = std::max(1u, std::min(options_.threads, window));
  SharedState shared(space_, options_, results);
  // Few hosts: look up each one's source address once. Many: not worth a lookup per host.
  constexpr uint64_t kMaxSourceLookups = 4096;
  if (space_.host_count() <= kMaxSourceLookups) {
    shared.sources.resize(space_.host_count());
    for (uint64_t h = 0; h < space_.host_count(); ++h)
      shared.sources[h] = route_source(space_.host(h));
    // Sockets are reused across hosts, so binding pays only when a family has one source;
    // with several, a bound socket would have to be replaced whenever the source changes.
    for (Family f : {Family::kV4, Family::kV6}) {
      std::optional<uint128> common;
      bool uniform = true;
      for (uint64_t h = 0; h < space_.host_count(); ++h) {
        if (space_.host(h).family != f) continue;
        if (!common) common = shared.sources[h];
        uniform = uniform && *common == shared.sources[h];
      }
      if (!uniform)
        for (uint64_t h = 0; h < space_.host_count(); ++h)
          if (space_.host(h).family == f) shared.sources[h] = 0;
    }
  }
  shared.timeout_ns = options_.fixed_timeout.value_or(options_.initial_timeout).count();
  // Small jobs need no big window: it would only cost socket setup.
  uint64_t per_thread_work = shared.share / threads + 1;
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < threads; ++t) {
    unsigned w = window / threads + (t < window % threads ? 1 : 0);
    w = static_cast<unsigned>(std::min<uint64_t>(w, per_thread_work));
    workers.push_back(
        std::make_unique<Worker>(shared, std::max(1u, w), options_.rate / threads, t == 0));
  }

  std::mutex done_mutex;
  std::condition_variable done_cv;
  unsigned running = threads;
  std::vector<std::thread> pool;
  for (auto& worker : workers) {
    pool.emplace_back([&, w = worker.get()] {
      try {
        w->run();
      } catch (...) {
        shared.fail(std::current_exception());
      }
      std::lock_guard lock(done_mutex);
      --running;
      done_cv.notify_all();
    });
  }

  auto snapshot = [&] {
    ScanCounts c;
    c.pairs_total = shared.share;
    c.pairs_done = shared.done.load();
    c.open = shared.open.load();
    c.closed = shared.closed.load();
    c.filtered = shared.filtered.load();
    c.attempts = shared.attempts.load();
    c.elapsed = Clock::now() - started;
    c.timeout = Nanos(shared.timeout_ns.load());
    c.concurrency = window;
    return c;
  };
  {
    std::unique_lock lock(done_mutex);
    while (running > 0) {
      done_cv.wait_for(lock, std::chrono::milliseconds(100));
      if (progress && running > 0) {
        lock.unlock();
        progress(snapshot());
        lock.lock();
      }
    }
  }
  for (auto& t : pool) t.join();
  if (shared.error) std::rethrow_exception(shared.error);
  return snapshot();
}

}  // namespace netres::scan
