// The worker's connect path: claim pairs, start non-blocking connects, classify answers, expire
// silent attempts on a periodic tick, and apply the rate cap.
#include "scan/scan_worker.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <random>

#include "common/error.h"
#include "scan/socket_setup.h"

namespace netres::scan {

Worker::Worker(SharedState& shared, unsigned window, double rate, bool reports_timeout)
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

Worker::~Worker() {
  for (auto& s : slots_)
    for (int fd : {s.fd, s.spare_fd})
      if (fd >= 0) ::close(fd);
}

void Worker::run() {
  last_refill_ = Clock::now();
  tokens_ = 1;
  fill();
  arm_tick();
  io_.run();
}

asio::ip::tcp socket_protocol(Family f) {
  return f == Family::kV4 ? asio::ip::tcp::v4() : asio::ip::tcp::v6();
}

bool Worker::next_work(Work* w) {
  if (shared_.stopping()) {
    // Pairs not started (claimed ones, retries of silent ones) get no result: not scanned.
    retries_.clear();
    claim_begin_ = claim_end_;
    exhausted_ = true;
    return false;
  }
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

bool Worker::finished() const {
  return in_flight_ == 0 && retries_.empty() && exhausted_ && claim_begin_ == claim_end_;
}

// Starts attempts in idle slots while there is work, budget and rate allowance. Many attempts
// complete inside connect() itself (a local RST), so a batch limit keeps this loop from
// starving the reactor and the deadline sweep; the rest continues in a posted call.
void Worker::fill() {
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

bool Worker::start_attempt(uint32_t idx, Work w) {
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
    bind_local_port(s.fd, address.family, source, next_local_port_);
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
void Worker::wait_for_answer(uint32_t idx) {
  Slot& s = slots_[idx];
  asio::error_code ec;
  s.socket.assign(socket_protocol(s.fd_family), s.fd, ec);
  if (ec) throw RuntimeError(fmt::format("cannot watch a socket: {}", ec.message()));
  s.fd = -1;
  uint32_t gen = s.generation;
  deadlines_.push_back({idx, gen, s.start});
  s.socket.async_wait(asio::socket_base::wait_write, [this, idx, gen](const asio::error_code& e) {
    on_writable(idx, gen, e);
    fill();
  });
}

void Worker::on_writable(uint32_t idx, uint32_t gen, const asio::error_code& ec) {
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

void Worker::on_connected(uint32_t idx) {
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

void Worker::on_error(uint32_t idx, int err, bool socket_reusable) {
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
void Worker::drop_socket(Slot& s, bool reset) {
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
void Worker::silent(uint32_t idx) {
  Slot& s = slots_[idx];
  drop_socket(s);
  if (s.attempts <= options_.retries) {
    retries_.push_back({s.pair, s.attempts});
    release(idx);
  } else {
    finish(idx, PortState::kFiltered, Reason::kNoResponse, Nanos(-1));
  }
}

void Worker::finish(uint32_t idx, PortState state, Reason reason, Nanos rtt, std::string banner) {
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
void Worker::release(uint32_t idx) {
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
bool Worker::answer_pending(asio::ip::tcp::socket& socket) {
  pollfd p{socket.native_handle(), POLLOUT, 0};
  return ::poll(&p, 1, 0) > 0;
}

Nanos Worker::tick_period() const {
  return std::clamp<Nanos>(timeout() / 8, std::chrono::milliseconds(1),
                           std::chrono::milliseconds(10));
}

void Worker::arm_tick() {
  tick_.expires_after(tick_period());
  tick_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    on_tick();
  });
}

// Expires attempts whose deadline passed: start + the current timeout.
void Worker::sweep_deadlines(Clock::time_point now, Nanos limit) {
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
void Worker::on_tick() {
  if (shared_.abort.load(std::memory_order_relaxed)) {
    io_.stop();
    return;
  }
  auto now = Clock::now();
  Nanos limit = timeout();
  sweep_deadlines(now, limit);
  expire_banners(now);
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

}  // namespace netres::scan
