// The engine. Our own transport rather than c-ares: c-ares 1.18 gives every attempt the same
// fixed timeout, resends all timed-out queries at once and cannot cancel one query, so a single
// lost datagram cost a whole --timeout. Here every query has its own timer on a heap, the
// timeout follows each server's measured RTT, and the only waiting is one epoll_wait until the
// next reply or the earliest timer (never a zero-timeout poll loop).
#include "resolve/resolver.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <queue>
#include <random>
#include <sstream>
#include <unordered_map>

#include "common/error.h"
#include "common/text.h"
#include "resolve/dns_name.h"

namespace netres::resolve {

namespace {

using Clock = std::chrono::steady_clock;

ServerAddress parse_server(std::string_view item) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("bad DNS server '{}': {}", item, why));
  };
  constexpr std::string_view kShape = "expected IP[:port] or [IPv6]:port";
  if (item.empty()) throw bad("empty entry in the server list");
  Endpoint e = split_endpoint(item);
  if (e.error == Endpoint::Error::kUnclosedBracket || e.error == Endpoint::Error::kJunkAfterBracket)
    throw bad(kShape);
  if (e.error == Endpoint::Error::kEmptyPort) throw bad("missing port after ':'");
  std::string_view host = e.host;
  bool bracketed = e.bracketed;
  ServerAddress s;
  if (!e.port.empty()) {
    std::optional<uint16_t> port = parse_port_number(e.port);
    if (!port) throw bad("port must be a number 1-65535");
    s.port = *port;
  }
  std::string host_text(host);
  if (!bracketed && inet_pton(AF_INET, host_text.c_str(), s.address) == 1) {
    s.family = AF_INET;
  } else if (inet_pton(AF_INET6, host_text.c_str(), s.address) == 1) {
    s.family = AF_INET6;
  } else {
    throw bad(host.empty() ? std::string(kShape) : fmt::format("'{}' is not an IP address", host));
  }
  char text[INET6_ADDRSTRLEN];
  inet_ntop(s.family, s.address, text, sizeof text);
  s.text = s.family == AF_INET ? fmt::format("{}:{}", text, s.port)
                               : fmt::format("[{}]:{}", text, s.port);
  return s;
}

}  // namespace

std::vector<ServerAddress> parse_servers(std::string_view text) {
  std::vector<ServerAddress> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    out.push_back(parse_server(trim(text.substr(start, comma - start), " \t")));
    start = comma + 1;
  }
  return out;
}

std::vector<ServerAddress> parse_resolv_conf(std::string_view text) {
  std::vector<ServerAddress> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    std::string scope;
    if (size_t pct = value.find('%'); pct != std::string::npos) {
      scope = value.substr(pct + 1);
      value.resize(pct);
    }
    try {
      ServerAddress s =
          parse_server(value.find(':') != std::string::npos ? "[" + value + "]" : value);
      if (!scope.empty()) {
        s.scope_id = if_nametoindex(scope.c_str());
        if (s.scope_id == 0) continue;  // an interface that is not here: unusable
        s.text = fmt::format("[{}%{}]:{}", value, scope, s.port);
      }
      out.push_back(std::move(s));
    } catch (const UsageError&) {
      // glibc skips a nameserver line it cannot parse; so do we.
    }
  }
  return out;
}

namespace {

// The retransmission timeout never goes below this: on loopback the RTT is tens of microseconds,
// but a busy server's queue or a loaded machine's scheduler adds milliseconds of jitter, and a
// resend that beats the answer only doubles the load.
constexpr Nanos kMinRto = std::chrono::milliseconds(10);
// Before the first answer from a server we know nothing of its RTT: RFC 6298's 1 s, or less when
// --timeout is lower.
constexpr Nanos kInitialRto = std::chrono::seconds(1);
constexpr Nanos kClockGranularity = std::chrono::milliseconds(1);
constexpr size_t kMinWindow = 8;
constexpr size_t kMaxServers = 64;  // one bit each in a query's "refused" mask
constexpr int kRecvBatch = 64;

// epoll data: which kind of socket, and its index (a server) or file descriptor (a TCP query).
constexpr uint64_t kTagUdp = 1ull << 32;
constexpr uint64_t kTagTcp = 2ull << 32;

}  // namespace

struct Resolver::Impl {
  enum class State : uint8_t { kWaiting, kUdp, kQueued, kTcp, kDone };

  struct Server {
    ServerAddress address;
    sockaddr_storage sa{};
    socklen_t sa_len = 0;
    int fd = -1;
    bool blocked = false;  // the socket buffer was full; waiting for EPOLLOUT
    // RFC 6298 state, in seconds.
    bool have_rtt = false;
    double srtt = 0;
    double rttvar = 0;
    int backoff = 0;  // doublings of the RTO since the last fresh sample
    Clock::time_point last_backoff{};
  };

  struct Pending {
    Clock::time_point start;      // first send
    Clock::time_point sent;       // latest send
    Clock::time_point prev_sent;  // the send before it
    Clock::time_point give_up;    // start + tries x servers x timeout
    uint64_t refused = 0;         // servers that answered with ICMP port unreachable
    uint32_t timer_seq = 0;       // to recognize stale heap entries
    uint32_t fly_pos = 0;         // index in `flying` while in kUdp/kTcp
    uint16_t id = 0;              // of the latest send
    uint16_t prev_id = 0;         // of the send before it, while sends > 1
    uint16_t sends = 0;
    uint8_t server = 0;  // of the latest send
    uint8_t prev_server = 0;
    State state = State::kWaiting;
    int tcp_fd = -1;
  };

  struct TcpConn {
    size_t index;
    std::vector<uint8_t> out;  // length-prefixed query
    size_t out_done = 0;
    std::vector<uint8_t> in;
  };

  struct Timer {
    Clock::time_point when;
    uint32_t index;
    uint32_t seq;
    bool operator>(const Timer& o) const { return when > o.when; }
  };

  std::vector<Server> servers;
  std::string servers_text;
  size_t concurrency = 1;
  int tries = 1;
  Nanos cap{0};  // --timeout
  int epoll_fd = -1;

  // Congestion control, shared by all servers (in practice one server takes the load): slow
  // start from `initial_window()` doubling per round trip up to `ssthresh`, then one more per
  // window of answers; on a loss event both halve. A loss only counts as congestion while the
  // server still answers: against a dead server every query times out and shrinking the window
  // would only stretch the run.
  double cwnd = 1;
  double ssthresh = 1;
  size_t answers_since_cut = 0;
  // The window before the last cut, restored if that cut proves spurious (the "lost" query's
  // answer turns up after all, just late: a stalled server, not an overflowing one).
  bool can_undo = false;
  double undo_cwnd = 0;
  double undo_ssthresh = 0;
  Clock::time_point last_cut{};

  // State of the current run().
  const std::vector<Query>* queries = nullptr;
  const OnOutcome* on_outcome = nullptr;
  const std::function<void()>* on_tick = nullptr;
  std::vector<Pending> pending;
  std::vector<uint32_t> flying;  // queries in kUdp or kTcp
  std::deque<uint32_t> retry_queue;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::unordered_map<int, TcpConn> tcp;
  size_t next = 0;
  size_t remaining = 0;
  std::exception_ptr callback_error;
  Clock::time_point last_tick;
  ResolverStats stats;

  // Each send gets its own id, chosen at random (harder to spoof) and probed if taken, and a
  // query holds the ids of its latest two sends. So an answer says which send it answers: every
  // answer is an exact RTT sample (no Karn ambiguity), an answer to the send before a resend
  // proves that timeout spurious, and a late answer to the previous send still completes the
  // query. At most 2 x 30,000 ids are held, within the 65,536.
  std::vector<int32_t> id_owner = std::vector<int32_t>(65536, -1);
  std::mt19937 rng{std::random_device{}()};

  std::vector<uint8_t> recv_buffers = std::vector<uint8_t>(kRecvBatch * 4096);

  ~Impl() {
    close_tcp_all();
    for (Server& s : servers)
      if (s.fd >= 0) close(s.fd);
    if (epoll_fd >= 0) close(epoll_fd);
  }

  size_t initial_window() const {
    return std::min(concurrency, std::max<size_t>(64, concurrency / 4));
  }
  size_t window() const {
    return std::min(concurrency, std::max<size_t>(1, static_cast<size_t>(cwnd)));
  }

  Nanos rto(const Server& s) const {
    Nanos base;
    if (!s.have_rtt) {
      base = std::min(cap, kInitialRto);
    } else {
      // RFC 6298's srtt + 4 x rttvar, but at least 1.5 x srtt: a server whose answers queue up
      // behind a thousand others has a steady RTT (small variance) that still jumps when it
      // stalls for a moment, and every spurious resend adds to its queue.
      double seconds = std::max(
          s.srtt + std::max(4 * s.rttvar, std::chrono::duration<double>(kClockGranularity).count()),
          1.5 * s.srtt);
      base = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(seconds));
      base = std::clamp(base, std::min(kMinRto, cap), cap);
    }
    for (int i = 0; i < s.backoff && base < cap; ++i) base *= 2;
    return std::min(base, cap);
  }

  // This send's wait: the server's RTO, doubled for each earlier round over the servers. With
  // --retries 0 there is no resend to make early, so the one send waits the whole --timeout.
  Nanos attempt_timeout(const Pending& p) const {
    if (tries == 1) return cap;
    Nanos t = rto(servers[p.server]);
    int rounds = (p.sends - 1) / static_cast<int>(servers.size());
    for (int i = 0; i < rounds && t < cap; ++i) t *= 2;
    return std::min(t, cap);
  }

  void rtt_sample(Server& s, Nanos sample) {
    double r = std::chrono::duration<double>(sample).count();
    if (!s.have_rtt) {
      s.srtt = r;
      s.rttvar = r / 2;
      s.have_rtt = true;
    } else {
      s.rttvar = 0.75 * s.rttvar + 0.25 * std::abs(s.srtt - r);
      s.srtt = 0.875 * s.srtt + 0.125 * r;
    }
    s.backoff = 0;
  }

  // The first RTT sample replaces the 1 s initial RTO with milliseconds: the queries already in
  // flight to that server get the shorter wait too. Otherwise those lost in the very first burst
  // (a burst that overflows the server is most likely then) hold the run for a whole second.
  void rearm_flying(size_t si) {
    for (uint32_t index : flying) {
      Pending& p = pending[index];
      if (p.state != State::kUdp || p.server != si) continue;
      arm(index, std::min(p.sent + attempt_timeout(p), p.give_up));
    }
  }

  void arm(uint32_t index, Clock::time_point when) {
    Pending& p = pending[index];
    timers.push({when, index, ++p.timer_seq});
  }

  void fly(uint32_t index) {
    pending[index].fly_pos = static_cast<uint32_t>(flying.size());
    flying.push_back(index);
  }
  void land(uint32_t index) {
    uint32_t pos = pending[index].fly_pos;
    uint32_t last = flying.back();
    flying[pos] = last;
    pending[last].fly_pos = pos;
    flying.pop_back();
  }

  uint16_t take_id(uint32_t index) {
    auto id = static_cast<uint16_t>(rng());
    while (id_owner[id] >= 0) ++id;  // wraps at 65536; concurrency is capped far below that
    id_owner[id] = static_cast<int32_t>(index);
    return id;
  }

  void close_tcp(Pending& p) {
    if (p.tcp_fd < 0) return;
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, p.tcp_fd, nullptr);
    close(p.tcp_fd);
    tcp.erase(p.tcp_fd);
    p.tcp_fd = -1;
  }
  void close_tcp_all() {
    for (auto& [fd, conn] : tcp) {
      close(fd);
      if (conn.index < pending.size()) pending[conn.index].tcp_fd = -1;
    }
    tcp.clear();
  }

  void finish(uint32_t index, QueryOutcome&& o) {
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

  void finish_status(uint32_t index, std::string status, std::string detail = {}) {
    QueryOutcome o;
    o.status = std::move(status);
    o.detail = std::move(detail);
    finish(index, std::move(o));
  }

  void finish_reply(uint32_t index, std::span<const uint8_t> bytes) {
    QueryOutcome o;
    o.reply = parse_dns_message(bytes, &o.detail);
    if (o.reply) {
      o.rcode = o.reply->rcode;
      o.status = rcode_name(o.rcode);
    } else {
      o.status = "badreply";
    }
    finish(index, std::move(o));
  }

  // Sends one datagram for queries[index] to its current server. Returns false when the socket
  // buffer is full: the query goes back to the head of the retry queue and sending pauses.
  bool send_udp(uint32_t index) {
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

  void block(Server& s) {
    if (s.blocked) return;
    s.blocked = true;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = kTagUdp | static_cast<uint64_t>(&s - servers.data());
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s.fd, &ev);
  }
  void unblock(Server& s) {
    if (!s.blocked) return;
    s.blocked = false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kTagUdp | static_cast<uint64_t>(&s - servers.data());
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s.fd, &ev);
  }

  // Fills the window: retries first, then new queries.
  void feed() {
    while (flying.size() < window() && !callback_error) {
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

  // The next server for a query after `current`, skipping those that refused it; -1 if none.
  int next_server(const Pending& p) const {
    size_t n = servers.size();
    for (size_t k = 1; k <= n; ++k) {
      size_t candidate = (p.server + k) % n;
      if (!(p.refused >> candidate & 1)) return static_cast<int>(candidate);
    }
    return -1;
  }

  // ICMP port unreachable from server `si`: nothing listens there. Every query waiting on it
  // moves to its next server at once, or fails with "connrefused" if none is left.
  void refused(size_t si) {
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

  // A timer fired for queries[index].
  void expire(uint32_t index, Clock::time_point now) {
    Pending& p = pending[index];
    if (p.state == State::kTcp) {
      finish_status(index, "timeout", "no answer over TCP");
      return;
    }
    if (p.state != State::kUdp) return;
    land(index);
    Server& s = servers[p.server];
    Nanos current_rto = rto(s);
    // One loss event per RTO period: the losses of one overflowed burst all expire together.
    if (now - s.last_backoff >= current_rto) {
      s.last_backoff = now;
      if (s.backoff < 16) ++s.backoff;
    }
    if (answers_since_cut > 0 && now - last_cut >= current_rto) {
      last_cut = now;
      answers_since_cut = 0;
      can_undo = true;
      undo_cwnd = cwnd;
      undo_ssthresh = ssthresh;
      ssthresh = std::max<double>(std::min(kMinWindow, concurrency), cwnd / 2);
      cwnd = ssthresh;
      ++stats.window_cuts;
    }
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

  void on_answer() {
    ++answers_since_cut;
    if (cwnd < ssthresh)
      cwnd += 1;
    else
      cwnd += 1 / cwnd;
    cwnd = std::min(cwnd, static_cast<double>(concurrency));
  }

  void handle_udp_reply(size_t si, std::span<const uint8_t> bytes) {
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
    if (m && (!m->response || (!m->questions.empty() &&
                               (m->questions[0].type != (*queries)[index].type ||
                                !same_name(m->questions[0].name, (*queries)[index].name))))) {
      ++stats.mismatched;
      return;
    }
    auto now = Clock::now();
    Server& server = servers[si];
    bool latest = id == p.id;
    if (latest ? p.server == si : p.prev_server == si) {
      bool first = !server.have_rtt;
      rtt_sample(server, now - (latest ? p.sent : p.prev_sent));
      if (first) rearm_flying(si);
    }
    // The answer to a send we gave up on (it came while the query waited to be resent, or it
    // answers the send before the resend): that timeout was spurious, the server stalled or our
    // RTO was too tight. The sample above has taught the RTO; undo the window cut too.
    if (!latest || p.state == State::kQueued) {
      ++stats.spurious;
      if (can_undo) {
        can_undo = false;
        cwnd = std::max(cwnd, undo_cwnd);
        ssthresh = std::max(ssthresh, undo_ssthresh);
      }
    }
    on_answer();
    if (m && m->truncated) {
      start_tcp(index, si);
      return;
    }
    QueryOutcome o;
    if (m) {
      o.rcode = m->rcode;
      o.status = rcode_name(o.rcode);
      o.reply = std::move(m);
    } else {
      o.status = "badreply";
      o.detail = std::move(detail);
    }
    finish(index, std::move(o));
  }

  void read_udp(size_t si) {
    Server& s = servers[si];
    mmsghdr msgs[kRecvBatch];
    iovec iov[kRecvBatch];
    // A bounded number of batches per wake-up, so timers and other sockets get their turn.
    for (int round = 0; round < 16; ++round) {
      for (int i = 0; i < kRecvBatch; ++i) {
        iov[i] = {recv_buffers.data() + i * 4096, 4096};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(s.fd, msgs, kRecvBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == ECONNREFUSED) {
          refused(si);
          continue;
        }
        return;  // EAGAIN, or an error that a later send will report
      }
      for (int i = 0; i < n; ++i) {
        // A datagram over 4096 bytes was cut (MSG_TRUNC): treat it as truncated, which it is;
        // its TC bit may not be set, so the parser will usually call it a bad reply.
        handle_udp_reply(si,
                         {recv_buffers.data() + i * 4096, std::min<size_t>(msgs[i].msg_len, 4096)});
      }
      feed();
      if (n < kRecvBatch) return;
    }
  }

  // A truncated UDP answer: ask the same server again over TCP (RFC 7766), same id.
  void start_tcp(uint32_t index, size_t si) {
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
    if (connect(fd, reinterpret_cast<const sockaddr*>(&s.sa), s.sa_len) < 0 &&
        errno != EINPROGRESS) {
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

  void tcp_event(int fd, uint32_t events) {
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

  void open_socket(Server& s, size_t index) {
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

  void maybe_tick() {
    if (on_tick == nullptr || !*on_tick) return;
    auto now = Clock::now();
    if (now - last_tick < std::chrono::milliseconds(100)) return;
    last_tick = now;
    (*on_tick)();
  }
};

Resolver::Resolver(const ResolverConfig& config) : impl_(std::make_unique<Impl>()) {
  if (config.timeout <= Nanos::zero()) throw UsageError("the timeout must be positive");
  if (config.tries < 1) throw UsageError("tries must be at least 1");
  if (config.concurrency < 1) throw UsageError("concurrency must be at least 1");
  std::vector<ServerAddress> servers;
  if (!config.servers.empty()) {
    servers = parse_servers(config.servers);
  } else {
    std::ifstream in("/etc/resolv.conf");
    std::stringstream text;
    text << in.rdbuf();
    servers = parse_resolv_conf(text.str());
    if (servers.empty()) servers = parse_servers("127.0.0.1");  // the C library's default
  }
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
    if (servers[i].family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&server.sa);
      a->sin_family = AF_INET;
      a->sin_port = htons(servers[i].port);
      std::memcpy(&a->sin_addr, servers[i].address, 4);
      server.sa_len = sizeof(sockaddr_in);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&server.sa);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(servers[i].port);
      std::memcpy(&a->sin6_addr, servers[i].address, 16);
      a->sin6_scope_id = servers[i].scope_id;
      server.sa_len = sizeof(sockaddr_in6);
    }
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
  s.cwnd = static_cast<double>(s.initial_window());
  s.ssthresh = static_cast<double>(s.concurrency);
  s.answers_since_cut = 0;
  s.can_undo = false;
  s.last_cut = Clock::time_point{};
  s.last_tick = Clock::now();
  std::fill(s.id_owner.begin(), s.id_owner.end(), -1);
  struct Reset {
    Impl& s;
    ~Reset() {
      s.on_outcome = nullptr;
      s.on_tick = nullptr;
      s.close_tcp_all();
      const Impl::Server& first = s.servers.front();
      if (first.have_rtt)
        s.stats.srtt = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(first.srtt));
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
      if (tag == kTagUdp) {
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
