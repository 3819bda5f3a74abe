// The engine's query bookkeeping: ids, timers, retries over the servers, outcomes and the run
// loop (the sockets are in resolver_transport.cc, the pacing in rtt_window.h).
//
// Our own transport rather than c-ares: c-ares 1.18 gives every attempt the same
// fixed timeout, resends all timed-out queries at once and cannot cancel one query, so a single
// lost datagram cost a whole --timeout. Here every query has its own timer on a heap, the
// timeout follows each server's measured RTT, and the only waiting is one epoll_wait until the
// next reply or the earliest timer (never a zero-timeout poll loop).
#include "resolve/resolver.h"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "resolve/dns_name.h"
#include "resolve/resolver_internal.h"

namespace netres::resolve {

namespace {

constexpr size_t kMaxServers = 64;  // one bit each in a query's "refused" mask

}  // namespace

bool reply_answers(const DnsMessage& m, const Query& q) {
  return m.response && (m.questions.empty() ||
                        (m.questions[0].type == q.type && same_name(m.questions[0].name, q.name)));
}

QueryOutcome outcome_of_reply(std::optional<DnsMessage> m, std::string detail) {
  QueryOutcome o;
  if (m) {
    o.rcode = m->rcode;
    o.status = rcode_name(o.rcode);
    o.reply = std::move(m);
  } else {
    o.status = "badreply";
    o.detail = std::move(detail);
  }
  return o;
}

Resolver::Impl::~Impl() {
  close_tcp_all();
  for (Server& s : servers)
    if (s.fd >= 0) close(s.fd);
  if (epoll_fd >= 0) close(epoll_fd);
}

void Resolver::Impl::rearm_flying(size_t si) {
  for (uint32_t index : flying) {
    Pending& p = pending[index];
    if (p.state != State::kUdp || p.server != si) continue;
    arm(index, std::min(p.sent + attempt_timeout(p), p.give_up));
  }
}

void Resolver::Impl::finish(uint32_t index, QueryOutcome&& o) {
  Pending& p = pending[index];
  if (p.state == State::kDone) return;
  if (p.state == State::kUdp || p.state == State::kTcp) land(index);
  close_tcp(p);
  p.state = State::kDone;
  ++p.timer_seq;  // any timer left for it is stale now
  if (p.sends > 0) id_owner[p.id] = -1;
  if (p.sends > 1) id_owner[p.prev_id] = -1;
  --remaining;
  o.duration = Clock::now() - p.start;
  o.sends = p.sends;
  if (on_outcome == nullptr || callback_error) return;
  try {
    (*on_outcome)(index, std::move(o));
  } catch (...) {
    callback_error = std::current_exception();
  }
}

void Resolver::Impl::finish_status(uint32_t index, std::string status, std::string detail) {
  QueryOutcome o;
  o.status = std::move(status);
  o.detail = std::move(detail);
  finish(index, std::move(o));
}

void Resolver::Impl::finish_reply(uint32_t index, std::span<const uint8_t> bytes) {
  std::string detail;
  std::optional<DnsMessage> m = parse_dns_message(bytes, &detail);
  finish(index, outcome_of_reply(std::move(m), std::move(detail)));
}

bool Resolver::Impl::send_udp(uint32_t index) {
  Pending& p = pending[index];
  Server& s = servers[p.server];
  const Query& q = (*queries)[index];
  auto now = Clock::now();
  if (p.sends == 0) {
    p.start = now;
    p.give_up = now + cap * tries * static_cast<int>(servers.size());
  }
  uint16_t id = take_id(index);
  std::vector<uint8_t> packet = build_dns_query(q.name, q.type, id);
  if (packet.empty()) {
    id_owner[id] = -1;
    finish_status(index, "error", "invalid name");
    return true;
  }
  ssize_t n = send(s.fd, packet.data(), packet.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
    ++stats.send_blocked;
    id_owner[id] = -1;  // not sent; a fresh id on the real send
    p.state = State::kQueued;
    retry_queue.push_front(index);
    block(s);
    return false;
  }
  if (p.sends > 0) {
    ++stats.retransmitted;
    if (p.sends > 1) id_owner[p.prev_id] = -1;  // answers to older sends count as late now
    p.prev_id = p.id;
    p.prev_sent = p.sent;
    p.prev_server = p.server;
  }
  p.id = id;
  ++p.sends;
  ++stats.sent;
  p.sent = now;
  p.state = State::kUdp;
  fly(index);
  arm(index, std::min(now + attempt_timeout(p), p.give_up));
  if (n < 0 && errno == ECONNREFUSED) {
    // An ICMP port unreachable from an earlier datagram, reported on this send (which did not
    // go out): the port is closed, and every query waiting on it is answered now.
    refused(static_cast<size_t>(&s - servers.data()));
  }
  // Other errors (a route went away, ...) behave as a lost datagram: the timer resends it.
  return true;
}

void Resolver::Impl::feed() {
  while (flying.size() < cwnd.window() && !callback_error) {
    uint32_t index;
    if (!retry_queue.empty()) {
      index = retry_queue.front();
      Pending& p = pending[index];
      if (p.state != State::kQueued) {  // answered late while it waited here
        retry_queue.pop_front();
        continue;
      }
      if (servers[p.server].blocked) return;
      retry_queue.pop_front();
      if (p.sends > 0 && Clock::now() >= p.give_up) {
        finish_status(index, "timeout");
        continue;
      }
    } else if (next < queries->size()) {
      if (servers[0].blocked) return;
      index = static_cast<uint32_t>(next++);
    } else {
      return;
    }
    if (!send_udp(index)) return;
  }
}

int Resolver::Impl::next_server(const Pending& p) const {
  size_t n = servers.size();
  for (size_t k = 1; k <= n; ++k) {
    size_t candidate = (p.server + k) % n;
    if (!(p.refused >> candidate & 1)) return static_cast<int>(candidate);
  }
  return -1;
}

void Resolver::Impl::refused(size_t si) {
  std::vector<uint32_t> victims;
  for (uint32_t index : flying)
    if (pending[index].state == State::kUdp && pending[index].server == si)
      victims.push_back(index);
  for (uint32_t index : victims) {
    Pending& p = pending[index];
    p.refused |= 1ull << si;
    int other = next_server(p);
    if (other < 0) {
      finish_status(index, "connrefused");
      continue;
    }
    land(index);
    ++p.timer_seq;
    p.state = State::kQueued;
    p.server = static_cast<uint8_t>(other);
    retry_queue.push_front(index);
  }
}

void Resolver::Impl::expire(uint32_t index, Clock::time_point now) {
  Pending& p = pending[index];
  if (p.state == State::kTcp) {
    finish_status(index, "timeout", "no answer over TCP");
    return;
  }
  if (p.state != State::kUdp) return;
  land(index);
  Server& s = servers[p.server];
  Nanos current_rto = rto(s);
  s.rtt.back_off(now, current_rto);
  if (cwnd.on_loss(now, current_rto)) ++stats.window_cuts;
  if (now >= p.give_up) {
    p.state = State::kQueued;  // so finish() does not land it twice
    finish_status(index, "timeout");
    return;
  }
  int other = next_server(p);
  if (other >= 0) p.server = static_cast<uint8_t>(other);
  p.state = State::kQueued;
  retry_queue.push_back(index);
}

void Resolver::Impl::handle_udp_reply(size_t si, std::span<const uint8_t> bytes) {
  if (bytes.size() < 12) return;
  uint16_t id = static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
  int32_t owner = id_owner[id];
  if (owner < 0) {
    ++stats.late_replies;
    return;
  }
  auto index = static_cast<uint32_t>(owner);
  Pending& p = pending[index];
  if (p.state != State::kUdp && p.state != State::kQueued) {
    ++stats.late_replies;  // already over to TCP
    return;
  }
  // The question must be ours: ids are reused once a query is done, so a late reply to an
  // earlier query can carry the id of a new one.
  std::string detail;
  std::optional<DnsMessage> m = parse_dns_message(bytes, &detail);
  if (m && !reply_answers(*m, (*queries)[index])) {
    ++stats.mismatched;
    return;
  }
  auto now = Clock::now();
  Server& server = servers[si];
  bool latest = id == p.id;
  if (latest ? p.server == si : p.prev_server == si) {
    bool first = !server.rtt.have_rtt;
    server.rtt.sample(now - (latest ? p.sent : p.prev_sent));
    if (first) rearm_flying(si);
  }
  // The answer to a send we gave up on (it came while the query waited to be resent, or it
  // answers the send before the resend): that timeout was spurious, the server stalled or our
  // RTO was too tight. The sample above has taught the RTO; undo the window cut too.
  if (!latest || p.state == State::kQueued) {
    ++stats.spurious;
    cwnd.undo_cut();
  }
  cwnd.on_answer();
  if (m && m->truncated) {
    start_tcp(index, si);
    return;
  }
  finish(index, outcome_of_reply(std::move(m), std::move(detail)));
}

void Resolver::Impl::maybe_tick() {
  if (on_tick == nullptr || !*on_tick) return;
  auto now = Clock::now();
  if (now - last_tick < std::chrono::milliseconds(100)) return;
  last_tick = now;
  (*on_tick)();
}

Resolver::Resolver(const ResolverConfig& config) : impl_(std::make_unique<Impl>()) {
  if (config.timeout <= Nanos::zero()) throw UsageError("the timeout must be positive");
  if (config.tries < 1) throw UsageError("tries must be at least 1");
  if (config.concurrency < 1) throw UsageError("concurrency must be at least 1");
  std::vector<ServerAddress> servers = configured_servers(config.servers);
  if (servers.size() > kMaxServers)
    throw UsageError(fmt::format("too many DNS servers: at most {}", kMaxServers));
  Impl& s = *impl_;
  // Ids are 16 bits and each query in flight needs its own; stay well clear of running out.
  s.concurrency = std::min<size_t>(static_cast<size_t>(config.concurrency), 30000);
  s.tries = config.tries;
  s.cap = std::max<Nanos>(config.timeout, std::chrono::milliseconds(1));
  s.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (s.epoll_fd < 0)
    throw RuntimeError(fmt::format("cannot create an epoll set: {}", std::strerror(errno)));
  s.servers.resize(servers.size());
  for (size_t i = 0; i < servers.size(); ++i) {
    Impl::Server& server = s.servers[i];
    server.address = servers[i];
    server.sa_len = to_sockaddr(servers[i], server.sa);
    s.open_socket(server, i);
    s.servers_text += (i ? "," : "") + servers[i].text;
  }
}

Resolver::~Resolver() = default;

const std::string& Resolver::servers() const { return impl_->servers_text; }

const ResolverStats& Resolver::stats() const { return impl_->stats; }

void Resolver::run(const std::vector<Query>& queries, const OnOutcome& on_outcome,
                   const std::function<void()>& on_tick) {
  using Impl = Resolver::Impl;
  using Clock = Impl::Clock;
  Impl& s = *impl_;
  s.queries = &queries;
  s.on_outcome = &on_outcome;
  s.on_tick = &on_tick;
  s.pending.assign(queries.size(), Impl::Pending{});
  s.flying.clear();
  s.retry_queue.clear();
  s.timers = {};
  s.next = 0;
  s.remaining = queries.size();
  s.callback_error = nullptr;
  s.stats = {};
  s.cwnd.reset(s.concurrency);
  s.last_tick = Clock::now();
  std::fill(s.id_owner.begin(), s.id_owner.end(), -1);
  struct Reset {
    Impl& s;
    ~Reset() {
      s.on_outcome = nullptr;
      s.on_tick = nullptr;
      s.close_tcp_all();
      const Impl::Server& first = s.servers.front();
      if (first.rtt.have_rtt)
        s.stats.srtt =
            std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(first.rtt.srtt));
      s.stats.rto = s.rto(first);
    }
  } reset{s};

  epoll_event events[64];
  s.feed();
  while (s.remaining > 0) {
    if (s.callback_error) std::rethrow_exception(s.callback_error);
    auto now = Clock::now();
    while (!s.timers.empty() && s.timers.top().when <= now) {
      Impl::Timer t = s.timers.top();
      s.timers.pop();
      if (s.pending[t.index].timer_seq == t.seq) s.expire(t.index, now);
    }
    // Stale entries (queries answered since) need not wake us: drop them from the top.
    while (!s.timers.empty() && s.pending[s.timers.top().index].timer_seq != s.timers.top().seq)
      s.timers.pop();
    s.feed();
    if (s.remaining == 0) break;
    if (s.callback_error) std::rethrow_exception(s.callback_error);
    // Sleep until the next answer or the earliest timer, rounded up to whole milliseconds so a
    // timer a few microseconds away is not polled for in a loop.
    Nanos wait = s.timers.empty() ? Nanos(std::chrono::seconds(1)) : s.timers.top().when - now;
    if (on_tick) wait = std::min<Nanos>(wait, std::chrono::milliseconds(100));
    int wait_ms = static_cast<int>(
        std::max<long long>(1, std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
    int n = epoll_wait(s.epoll_fd, events, static_cast<int>(std::size(events)), wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw RuntimeError(fmt::format("epoll_wait failed: {}", std::strerror(errno)));
    }
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64 & ~0xffffffffull;
      auto value = static_cast<uint32_t>(events[i].data.u64);
      if (tag == Impl::kTagUdp) {
        Impl::Server& server = s.servers[value];
        if (events[i].events & EPOLLOUT) s.unblock(server);
        if (events[i].events & (EPOLLIN | EPOLLERR)) s.read_udp(value);
      } else {
        s.tcp_event(static_cast<int>(value), events[i].events);
      }
    }
    s.feed();
    s.maybe_tick();
  }
  if (s.callback_error) std::rethrow_exception(s.callback_error);
}

}  // namespace netres::resolve
