// AsyncResolver: the batch engine's protocol on an Asio loop. Each query owns a timer; each
// server owns a connected UDP socket, its RTT estimate and its congestion window (rtt_window.h,
// shared with Resolver), its id table and a queue of queries waiting for the window. The socket is
// read with recvmmsg when the loop says it is readable, and that wait is armed only while
// queries are in flight, so an idle resolver leaves io_context::run() free to return.
#include "resolve/async_resolver.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <random>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "resolve/dns_name.h"
#include "resolve/rtt_window.h"
#include "resolve/server_address.h"
#include "resolve/udp_batch.h"

namespace netres::resolve {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRecvBatch = 32;
constexpr size_t kMaxServersPerQuery = 64;  // one bit each in a query's "refused" mask

asio::ip::tcp::endpoint tcp_endpoint(const ServerAddress& s) {
  if (s.family == AF_INET) {
    asio::ip::address_v4::bytes_type b;
    std::copy(s.address, s.address + 4, b.begin());
    return {asio::ip::address_v4(b), s.port};
  }
  asio::ip::address_v6::bytes_type b;
  std::copy(s.address, s.address + 16, b.begin());
  return {asio::ip::address_v6(b, s.scope_id), s.port};
}

}  // namespace

struct AsyncResolver::Impl : std::enable_shared_from_this<Impl> {
  enum class State : uint8_t { kQueued, kUdp, kTcp };

  struct Server {
    ServerAddress address;
    std::unique_ptr<asio::posix::stream_descriptor> socket;  // owns the fd
    RttEstimate rtt;
    CongestionWindow cwnd;
    size_t flying = 0;           // queries sent and not answered, given up or moved on
    std::deque<uint64_t> queue;  // serials waiting for the window (or the socket buffer)
    std::unordered_map<uint16_t, uint64_t> ids;  // id of a send -> its query's serial
    bool reading = false;                        // a wait for readability is armed
    bool blocked = false;                  // the socket buffer was full: a wait for writability
    uint64_t read_gen = 0, write_gen = 0;  // to ignore completions of superseded waits
  };

  struct Pending {
    explicit Pending(asio::io_context& io) : timer(io) {}
    Query q;
    std::vector<size_t> servers;  // indices into Impl::servers, in the order to try
    size_t pos = 0;               // the current one in `servers`
    uint64_t refused = 0;         // positions whose server answered ICMP port unreachable
    Nanos cap{0};
    int tries = 1;
    Clock::time_point start, sent, prev_sent, give_up;
    uint16_t id = 0, prev_id = 0;
    size_t server = 0, prev_server = 0;  // of the latest send and the one before
    int sends = 0;
    State state = State::kQueued;
    uint32_t timer_seq = 0;
    asio::steady_timer timer;
    std::unique_ptr<asio::ip::tcp::socket> tcp;
    std::vector<uint8_t> tcp_out, tcp_in;
    Done done;
  };

  Impl(asio::io_context& io, size_t limit) : io(io), limit(limit) {}

  asio::io_context& io;
  size_t limit;
  std::vector<std::unique_ptr<Server>> servers;
  std::unordered_map<std::string, size_t> server_by_text;
  std::unordered_map<std::string, std::vector<size_t>> server_lists;  // options.servers -> indices
  std::unordered_map<uint64_t, std::unique_ptr<Pending>> pending;
  uint64_t next_serial = 1;
  std::mt19937 rng{std::random_device{}()};
  ResolverStats stats;
  UdpBatch<kRecvBatch> udp_batch;

  void deliver(Done& done, QueryOutcome&& o) {
    asio::post(io, [done = std::move(done), o = std::move(o)]() mutable { done(std::move(o)); });
  }

  // The server indices for a --server style list, sockets opened on first use. Throws
  // UsageError / RuntimeError.
  const std::vector<size_t>& servers_for(const std::string& list) {
    auto it = server_lists.find(list);
    if (it != server_lists.end()) return it->second;
    std::vector<ServerAddress> addresses = configured_servers(list);
    if (addresses.size() > kMaxServersPerQuery)
      throw UsageError(fmt::format("too many DNS servers: at most {}", kMaxServersPerQuery));
    std::vector<size_t> indices;
    for (const ServerAddress& a : addresses) {
      auto known = server_by_text.find(a.text);
      if (known != server_by_text.end()) {
        indices.push_back(known->second);
        continue;
      }
      indices.push_back(open_server(a));
    }
    return server_lists.emplace(list, std::move(indices)).first->second;
  }

  size_t open_server(const ServerAddress& a) {
    int fd = socket(a.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
      throw RuntimeError(fmt::format("cannot open a UDP socket: {}", std::strerror(errno)));
    // Room for a window of answers between two reads (as the batch engine sizes it).
    int bytes = static_cast<int>(std::clamp<size_t>(limit * 1024, 256 << 10, 16 << 20));
    for (auto [force, plain] :
         {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, std::pair{SO_SNDBUFFORCE, SO_SNDBUF}})
      if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) < 0)
        setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof bytes);
    // Connected: the kernel drops datagrams from anyone else, and an ICMP port unreachable
    // comes back as ECONNREFUSED.
    sockaddr_storage sa{};
    socklen_t len = to_sockaddr(a, sa);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), len) < 0) {
      int err = errno;
      close(fd);
      throw RuntimeError(fmt::format("cannot reach DNS server {}: {}", a.text, std::strerror(err)));
    }
    auto s = std::make_unique<Server>();
    s->address = a;
    s->socket = std::make_unique<asio::posix::stream_descriptor>(io, fd);
    s->cwnd.reset(limit);
    servers.push_back(std::move(s));
    server_by_text.emplace(a.text, servers.size() - 1);
    return servers.size() - 1;
  }

  Pending* find(uint64_t serial) {
    auto it = pending.find(serial);
    return it == pending.end() ? nullptr : it->second.get();
  }

  uint16_t take_id(Server& s, uint64_t serial) {
    auto id = static_cast<uint16_t>(rng());
    while (s.ids.count(id)) ++id;  // wraps at 65536; the window keeps far fewer in flight
    s.ids.emplace(id, serial);
    return id;
  }
  void drop_id(size_t si, uint16_t id, uint64_t serial) {
    auto& ids = servers[si]->ids;
    auto it = ids.find(id);
    if (it != ids.end() && it->second == serial) ids.erase(it);
  }

  void arm(uint64_t serial, Pending& p, Clock::time_point when) {
    uint32_t seq = ++p.timer_seq;
    p.timer.expires_at(when);
    p.timer.async_wait([w = weak_from_this(), serial, seq](std::error_code ec) {
      if (ec) return;
      auto self = w.lock();
      if (!self) return;
      Pending* p = self->find(serial);
      if (p && p->timer_seq == seq) self->expire(serial, *p);
    });
  }

  // The query's outcome, once: its ids, timer and TCP socket go, and its server's window has
  // room again.
  void finish(uint64_t serial, QueryOutcome&& o) {
    auto it = pending.find(serial);
    if (it == pending.end()) return;
    std::unique_ptr<Pending> p = std::move(it->second);
    pending.erase(it);
    if (p->state != State::kQueued) --servers[p->server]->flying;
    if (p->sends > 0) drop_id(p->server, p->id, serial);
    if (p->sends > 1) drop_id(p->prev_server, p->prev_id, serial);
    o.duration = Clock::now() - p->start;
    o.sends = p->sends;
    deliver(p->done, std::move(o));
    size_t si = p->server;
    p.reset();  // closes the timer and a TCP socket (their handlers find no query)
    feed(si);
    idle_check(si);
  }
  void finish_status(uint64_t serial, std::string status, std::string detail = {}) {
    QueryOutcome o;
    o.status = std::move(status);
    o.detail = std::move(detail);
    finish(serial, std::move(o));
  }

  // Sends queued queries while the window has room.
  void feed(size_t si) {
    Server& s = *servers[si];
    while (!s.blocked && !s.queue.empty() && s.flying < s.cwnd.window()) {
      uint64_t serial = s.queue.front();
      s.queue.pop_front();
      Pending* p = find(serial);
      if (!p || p->state != State::kQueued || p->server != si) continue;  // answered, moved
      if (p->sends > 0 && Clock::now() >= p->give_up) {
        finish_status(serial, "timeout");
        continue;
      }
      send_udp(serial, *p);
    }
  }

  void send_udp(uint64_t serial, Pending& p) {
    size_t si = p.server;
    Server& s = *servers[si];
    auto now = Clock::now();
    uint16_t id = take_id(s, serial);
    std::vector<uint8_t> packet = build_dns_query(p.q.name, p.q.type, id);
    ssize_t n =
        send(s.socket->native_handle(), packet.data(), packet.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      ++stats.send_blocked;
      s.ids.erase(id);  // not sent; a fresh id on the real send
      s.queue.push_front(serial);
      block(si);
      return;
    }
    int err = n < 0 ? errno : 0;
    if (p.sends > 0) {
      ++stats.retransmitted;
      if (p.sends > 1) drop_id(p.prev_server, p.prev_id, serial);  // older answers are late now
      p.prev_id = p.id;
      p.prev_sent = p.sent;
      p.prev_server = p.server;
    }
    p.id = id;
    ++p.sends;
    ++stats.sent;
    p.sent = now;
    p.state = State::kUdp;
    ++s.flying;
    arm(serial, p,
        std::min(now + attempt_timeout(s.rtt, p.cap, p.tries, p.sends, p.servers.size()),
                 p.give_up));
    read(si);
    // An ICMP port unreachable from an earlier datagram, reported on this send (which did not
    // go out): nothing listens there. Other errors behave as a lost datagram.
    if (err == ECONNREFUSED) refused(si);
  }

  // Waits for answers while any query is in flight on the server.
  void read(size_t si) {
    Server& s = *servers[si];
    if (s.reading) return;
    s.reading = true;
    uint64_t gen = ++s.read_gen;
    s.socket->async_wait(asio::posix::descriptor_base::wait_read,
                         [w = weak_from_this(), si, gen](std::error_code ec) {
                           if (ec) return;
                           auto self = w.lock();
                           if (!self) return;
                           Server& s = *self->servers[si];
                           if (s.read_gen != gen) return;
                           s.reading = false;
                           self->read_udp(si);
                           if (s.flying > 0) self->read(si);
                         });
  }

  void block(size_t si) {
    Server& s = *servers[si];
    if (s.blocked) return;
    s.blocked = true;
    uint64_t gen = ++s.write_gen;
    s.socket->async_wait(asio::posix::descriptor_base::wait_write,
                         [w = weak_from_this(), si, gen](std::error_code ec) {
                           if (ec) return;
                           auto self = w.lock();
                           if (!self) return;
                           Server& s = *self->servers[si];
                           if (s.write_gen != gen) return;
                           s.blocked = false;
                           self->feed(si);
                         });
  }

  // Nothing left for the server: stop watching its socket, so the loop may run dry.
  void idle_check(size_t si) {
    Server& s = *servers[si];
    if (s.flying > 0 || !s.queue.empty() || (!s.reading && !s.blocked)) return;
    s.reading = s.blocked = false;
    ++s.read_gen;
    ++s.write_gen;
    std::error_code ec;
    s.socket->cancel(ec);
  }

  void read_udp(size_t si) {
    Server& s = *servers[si];
    // A bounded number of batches per wake-up, so timers and other sockets get their turn.
    for (int round = 0; round < 16; ++round) {
      int n = udp_batch.read(s.socket->native_handle());
      if (n < 0) {
        if (errno == ECONNREFUSED) {
          refused(si);
          continue;
        }
        break;  // EAGAIN, or an error a later send will report
      }
      for (int i = 0; i < n; ++i) handle_reply(si, udp_batch.datagram(i));
      if (n < udp_batch.size()) break;
    }
    feed(si);
    idle_check(si);
  }

  void handle_reply(size_t si, std::span<const uint8_t> bytes) {
    if (bytes.size() < 12) return;
    auto id = static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
    Server& server = *servers[si];
    auto owner = server.ids.find(id);
    if (owner == server.ids.end()) {
      ++stats.late_replies;
      return;
    }
    uint64_t serial = owner->second;
    Pending* pp = find(serial);
    if (!pp || pp->state == State::kTcp) {
      ++stats.late_replies;
      return;
    }
    Pending& p = *pp;
    std::string detail;
    std::optional<DnsMessage> m = parse_dns_message(bytes, &detail);
    if (m && !reply_answers(*m, p.q)) {
      ++stats.mismatched;
      return;
    }
    auto now = Clock::now();
    bool latest = id == p.id && p.server == si;
    if (latest || (id == p.prev_id && p.prev_server == si && p.sends > 1)) {
      bool first = !server.rtt.have_rtt;
      server.rtt.sample(now - (latest ? p.sent : p.prev_sent));
      if (first) rearm_flying(si);
    }
    // An answer to a send given up on: that timeout was spurious (see resolver.cc).
    if (!latest || p.state == State::kQueued) {
      ++stats.spurious;
      server.cwnd.undo_cut();
    }
    server.cwnd.on_answer();
    if (m && m->truncated) {
      start_tcp(serial, p, si, id);
      return;
    }
    finish(serial, outcome_of_reply(std::move(m), std::move(detail)));
  }

  // The first RTT sample replaces the initial 1 s RTO: queries in flight there wait less too.
  void rearm_flying(size_t si) {
    for (auto& [serial, p] : pending)
      if (p->state == State::kUdp && p->server == si)
        arm(serial, *p,
            std::min(p->sent + attempt_timeout(servers[si]->rtt, p->cap, p->tries, p->sends,
                                               p->servers.size()),
                     p->give_up));
  }

  // The next server position after the current one that has not refused; -1 if none.
  int next_position(const Pending& p) const {
    size_t n = p.servers.size();
    for (size_t k = 1; k <= n; ++k) {
      size_t candidate = (p.pos + k) % n;
      if (!(p.refused >> candidate & 1)) return static_cast<int>(candidate);
    }
    return -1;
  }

  void move_to(uint64_t serial, Pending& p, size_t pos, bool front) {
    p.pos = pos;
    p.server = p.servers[pos];
    p.state = State::kQueued;
    Server& s = *servers[p.server];
    if (front)
      s.queue.push_front(serial);
    else
      s.queue.push_back(serial);
  }

  // ICMP port unreachable from server `si`: its queries go to their next server at once, or
  // fail with "connrefused".
  void refused(size_t si) {
    std::vector<uint64_t> victims;
    for (auto& [serial, p] : pending)
      if (p->state == State::kUdp && p->server == si) victims.push_back(serial);
    std::vector<size_t> to_feed;
    for (uint64_t serial : victims) {
      Pending* pp = find(serial);
      if (!pp || pp->state != State::kUdp || pp->server != si) continue;  // settled meanwhile
      Pending& p = *pp;
      p.refused |= 1ull << p.pos;
      int other = next_position(p);
      if (other < 0) {
        finish_status(serial, "connrefused");
        continue;
      }
      --servers[si]->flying;
      ++p.timer_seq;
      move_to(serial, p, static_cast<size_t>(other), true);
      to_feed.push_back(p.server);
    }
    for (size_t other : to_feed) feed(other);
    feed(si);
    idle_check(si);
  }

  void expire(uint64_t serial, Pending& p) {
    if (p.state == State::kTcp) return finish_status(serial, "timeout", "no answer over TCP");
    if (p.state != State::kUdp) return;
    auto now = Clock::now();
    size_t si = p.server;
    Server& s = *servers[si];
    --s.flying;
    p.state = State::kQueued;
    Nanos current_rto = s.rtt.rto(p.cap);
    s.rtt.back_off(now, current_rto);
    if (s.cwnd.on_loss(now, current_rto)) ++stats.window_cuts;
    if (now >= p.give_up) return finish_status(serial, "timeout");
    int other = next_position(p);
    move_to(serial, p, other >= 0 ? static_cast<size_t>(other) : p.pos, false);
    feed(p.server);
    if (p.server != si) {
      feed(si);
      idle_check(si);
    }
  }

  // A truncated UDP answer from `si`: the same question over TCP to that server (RFC 7766).
  void start_tcp(uint64_t serial, Pending& p, size_t si, uint16_t id) {
    if (p.state != State::kQueued) --servers[p.server]->flying;
    ++servers[si]->flying;
    p.server = si;
    p.state = State::kTcp;
    ++stats.tcp_fallbacks;
    ++p.sends;
    std::vector<uint8_t> packet = build_dns_query(p.q.name, p.q.type, id);
    p.tcp_out = {static_cast<uint8_t>(packet.size() >> 8), static_cast<uint8_t>(packet.size())};
    p.tcp_out.insert(p.tcp_out.end(), packet.begin(), packet.end());
    p.tcp = std::make_unique<asio::ip::tcp::socket>(io);
    arm(serial, p, Clock::now() + p.cap);
    auto w = weak_from_this();
    p.tcp->async_connect(tcp_endpoint(servers[si]->address), [w, serial](std::error_code ec) {
      auto self = w.lock();
      Pending* p = self ? self->find(serial) : nullptr;
      if (!p || !p->tcp) return;
      if (ec) return self->tcp_failed(serial, ec);
      asio::async_write(*p->tcp, asio::buffer(p->tcp_out), [w, serial](std::error_code ec, size_t) {
        auto self = w.lock();
        Pending* p = self ? self->find(serial) : nullptr;
        if (!p || !p->tcp) return;
        if (ec) return self->tcp_failed(serial, ec);
        self->tcp_read(serial, *p, 2);
      });
    });
  }

  // Reads the 2-byte length (want == 2, tcp_in empty), then the message.
  void tcp_read(uint64_t serial, Pending& p, size_t want) {
    size_t have = p.tcp_in.size();
    p.tcp_in.resize(have + want);
    asio::async_read(
        *p.tcp, asio::buffer(p.tcp_in.data() + have, want),
        [w = weak_from_this(), serial](std::error_code ec, size_t) {
          auto self = w.lock();
          Pending* p = self ? self->find(serial) : nullptr;
          if (!p || !p->tcp) return;
          if (ec == asio::error::eof)
            return self->finish_status(serial, "error",
                                       "TCP: connection closed before the answer was complete");
          if (ec) return self->tcp_failed(serial, ec);
          if (p->tcp_in.size() == 2) {
            size_t len = static_cast<size_t>(p->tcp_in[0] << 8 | p->tcp_in[1]);
            if (len < 2)
              return self->finish_status(serial, "error", "TCP: answer with the wrong id");
            return self->tcp_read(serial, *p, len);
          }
          std::span<const uint8_t> reply(p->tcp_in.data() + 2, p->tcp_in.size() - 2);
          if (reply[0] != p->tcp_out[2] || reply[1] != p->tcp_out[3])
            return self->finish_status(serial, "error", "TCP: answer with the wrong id");
          std::string detail;
          std::optional<DnsMessage> m = parse_dns_message(reply, &detail);
          self->finish(serial, outcome_of_reply(std::move(m), std::move(detail)));
        });
  }

  void tcp_failed(uint64_t serial, const std::error_code& ec) {
    finish_status(serial, ec == asio::error::connection_refused ? "connrefused" : "error",
                  "TCP: " + ec.message());
  }
};

AsyncResolver::AsyncResolver(asio::io_context& io, size_t window_limit)
    : io_(io), impl_(std::make_shared<Impl>(io, std::clamp<size_t>(window_limit, 1, 30000))) {}

AsyncResolver::~AsyncResolver() = default;

void AsyncResolver::query(const Query& q, const AsyncQueryOptions& options, Done done) {
  Impl& s = *impl_;
  auto fail = [&](std::string detail) {
    QueryOutcome o;
    o.status = "error";
    o.detail = std::move(detail);
    s.deliver(done, std::move(o));
  };
  if (options.timeout <= Nanos::zero()) return fail("the timeout must be positive");
  if (options.tries < 1) return fail("tries must be at least 1");
  if (std::string problem = name_problem(q.name); !problem.empty())
    return fail("invalid name: " + problem);
  const std::vector<size_t>* list;
  try {
    list = &s.servers_for(options.servers);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  uint64_t serial = s.next_serial++;
  auto p = std::make_unique<Impl::Pending>(s.io);
  p->q = q;
  p->servers = *list;
  p->cap = std::max<Nanos>(options.timeout, std::chrono::milliseconds(1));
  p->tries = options.tries;
  p->start = Clock::now();
  p->give_up = p->start + p->cap * p->tries * static_cast<int>(p->servers.size());
  p->done = std::move(done);
  size_t si = p->servers.front();
  p->server = si;
  s.servers[si]->queue.push_back(serial);
  s.pending.emplace(serial, std::move(p));
  s.feed(si);
}

void AsyncResolver::lookup_host(const std::string& name, const AsyncQueryOptions& options,
                                HostDone done) {
  if (is_ip_literal(name) || !name_problem(name).empty()) {
    // An address is its own answer; a bad name is an error; nobody is asked either way.
    ResolverConfig config;
    config.servers = "127.0.0.1";
    HostAddresses h = lookup_hosts({name}, config).at(0);
    asio::post(io_, [done = std::move(done), h = std::move(h)]() mutable { done(std::move(h)); });
    return;
  }
  // Both queries at once; the second outcome completes the lookup.
  struct Both {
    HostAddresses host;
    QueryOutcome a, aaaa;
    int left = 2;
    HostDone done;
  };
  auto both = std::make_shared<Both>();
  both->host.name = name;
  both->done = std::move(done);
  for (uint16_t type : {kTypeA, kTypeAaaa}) {
    query({name, type}, options, [both, type](QueryOutcome&& o) {
      (type == kTypeA ? both->a : both->aaaa) = std::move(o);
      if (--both->left > 0) return;
      add_host_answers(both->host, both->host.name, both->a, both->aaaa);
      both->done(std::move(both->host));
    });
  }
}

ResolverStats AsyncResolver::stats() const {
  ResolverStats out = impl_->stats;
  if (!impl_->servers.empty()) {
    const RttEstimate& rtt = impl_->servers.front()->rtt;
    if (rtt.have_rtt)
      out.srtt = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(rtt.srtt));
    out.rto = rtt.rto(std::chrono::seconds(2));
  }
  return out;
}

size_t AsyncResolver::pending() const { return impl_->pending.size(); }

}  // namespace netres::resolve
