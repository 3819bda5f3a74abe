// The c-ares engine. We build each query ourselves and hand it to ares_send, so every reply
// comes back raw (any rcode, thanks to ARES_FLAG_NOCHECKRESP) and goes through our own parser.
// c-ares tells us which sockets to watch through the socket-state callback; we keep them in an
// epoll set (no select(), so no FD_SETSIZE limit) and wait no longer than ares_timeout() says.
#include "resolve/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <unordered_map>

#include "common/error.h"

namespace netres::resolve {

namespace {

using Clock = std::chrono::steady_clock;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ServerAddress parse_server(std::string_view item) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("bad DNS server '{}': {}", item, why));
  };
  constexpr std::string_view kShape = "expected IP[:port] or [IPv6]:port";
  std::string_view host = item;
  std::string_view port;
  bool bracketed = false;
  if (item.empty()) throw bad("empty entry in the server list");
  if (item.front() == '[') {
    size_t close = item.find(']');
    if (close == std::string_view::npos) throw bad(kShape);
    host = item.substr(1, close - 1);
    std::string_view rest = item.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw bad(kShape);
      port = rest.substr(1);
      if (port.empty()) throw bad("missing port after ':'");
    }
    bracketed = true;
  } else if (size_t colon = item.find(':'); colon != std::string_view::npos &&
                                            item.find(':', colon + 1) == std::string_view::npos) {
    host = item.substr(0, colon);
    port = item.substr(colon + 1);
    if (port.empty()) throw bad("missing port after ':'");
  }
  ServerAddress s;
  if (!port.empty()) {
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) throw bad("port must be a number 1-65535");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value < 1 || value > 65535) throw bad("port must be a number 1-65535");
    s.port = static_cast<uint16_t>(value);
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

void init_library_once() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (status != ARES_SUCCESS)
    throw RuntimeError(fmt::format("cannot start c-ares: {}", ares_strerror(status)));
}

}  // namespace

std::vector<ServerAddress> parse_servers(std::string_view text) {
  std::vector<ServerAddress> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    out.push_back(parse_server(trim(text.substr(start, comma - start))));
    start = comma + 1;
  }
  return out;
}

struct Resolver::Impl {
  struct Pending {
    Impl* impl;
    size_t index;
    Clock::time_point start;  // of the first attempt
    uint16_t id;
    int attempts_left;  // after the current one
  };

  ares_channel channel = nullptr;
  int epoll_fd = -1;
  std::unordered_map<int, uint32_t> watched;  // socket -> epoll events registered
  std::string servers;
  size_t concurrency = 1;
  // Queries allowed in flight right now, up to `concurrency`. It starts at a quarter of it and
  // grows by one per answer (doubling per round trip), and halves when attempts time out: a
  // burst of a thousand queries overflows the receive buffer of a server that reads them one by
  // one, and sending as much again at once would lose as much again.
  size_t window = 1;

  // State of the current run().
  std::vector<Pending> pending;
  const std::vector<Query>* queries = nullptr;
  size_t next = 0;  // queries[next] is the next to send
  bool feeding = false;
  int tries = 1;
  // Queries whose attempt timed out, waiting for room in the window. We retry ourselves rather
  // than let c-ares do it: c-ares resends every timed-out query at the same instant, and when
  // the loss came from a burst that overflowed the server, that burst is lost again.
  std::deque<size_t> retry_queue;
  const std::function<void()>* on_tick = nullptr;
  Clock::time_point last_tick;
  unsigned replies_since_tick_check = 0;

  // Called from the reply path too: with the window refilled from callbacks, c-ares can keep
  // reading one busy socket for the whole run without returning to our loop.
  void maybe_tick() {
    if (on_tick == nullptr || !*on_tick) return;
    auto now = Clock::now();
    if (now - last_tick < std::chrono::milliseconds(100)) return;
    last_tick = now;
    (*on_tick)();
  }
  const OnOutcome* on_outcome = nullptr;
  size_t in_flight = 0;
  std::exception_ptr callback_error;

  // c-ares 1.18 sends our bytes as they are, id included, and looks replies up by id; equal ids
  // would pile every query into one hash bucket and make each reply cost O(in flight). So each
  // query in flight gets its own id, chosen at random (harder to spoof) and probed if taken.
  std::vector<bool> id_in_use = std::vector<bool>(65536);
  std::mt19937 rng{std::random_device{}()};

  uint16_t take_id() {
    auto id = static_cast<uint16_t>(rng());
    while (id_in_use[id]) ++id;  // wraps at 65536; concurrency is capped far below that
    id_in_use[id] = true;
    return id;
  }

  ~Impl() {
    on_outcome = nullptr;  // ares_destroy ends pending queries; nobody is listening any more
    if (channel != nullptr) ares_destroy(channel);
    if (epoll_fd >= 0) close(epoll_fd);
  }

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    uint32_t events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
    auto it = self->watched.find(fd);
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (events == 0) {
      if (it != self->watched.end()) {
        epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, fd, &ev);
        self->watched.erase(it);
      }
    } else if (it == self->watched.end()) {
      if (epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0) self->watched.emplace(fd, events);
    } else if (it->second != events) {
      epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
      it->second = events;
    }
  }

  // The window never drops below a quarter of --concurrency: against a server that is simply
  // dead, every attempt times out and no answer would ever grow it again.
  size_t min_window() const { return std::min(concurrency, std::max<size_t>(16, concurrency / 4)); }
  size_t initial_window() const {
    return std::min(concurrency, std::max<size_t>(64, concurrency / 4));
  }
  Nanos attempt_timeout{0};
  Clock::time_point last_window_cut{};

  static void on_reply(void* arg, int status, int timeouts, unsigned char* abuf, int alen) {
    auto* p = static_cast<Pending*>(arg);
    Impl* self = p->impl;
    --self->in_flight;
    if (timeouts > 0 || status == ARES_ETIMEOUT) {
      // One cut per timeout period: the timeouts of one lost burst are one congestion event.
      auto now = Clock::now();
      if (now - self->last_window_cut >= self->attempt_timeout) {
        self->last_window_cut = now;
        self->window = std::max(self->min_window(), self->window / 2);
      }
    } else if (self->window < self->concurrency) {
      ++self->window;
    }
    self->id_in_use[p->id] = false;
    if (self->on_outcome == nullptr) return;
    if (status == ARES_ETIMEOUT && p->attempts_left > 0) {
      --p->attempts_left;
      self->retry_queue.push_back(p->index);
      return;  // the run loop refills the window, retries first
    }
    QueryOutcome o;
    o.duration = Clock::now() - p->start;
    if (status == ARES_SUCCESS && abuf != nullptr && alen > 0) {
      o.reply = parse_dns_message({abuf, static_cast<size_t>(alen)}, &o.detail);
      if (o.reply) {
        o.rcode = o.reply->rcode;
        o.status = rcode_name(o.rcode);
      } else {
        o.status = "badreply";
      }
    } else if (status == ARES_ETIMEOUT) {
      o.status = "timeout";
    } else if (status == ARES_ECONNREFUSED) {
      o.status = "connrefused";
    } else if (status == ARES_EBADRESP) {
      o.status = "badreply";
      o.detail = ares_strerror(status);
    } else {
      o.status = "error";
      o.detail = ares_strerror(status);
    }
    try {
      (*self->on_outcome)(p->index, std::move(o));
      // Refill at once rather than after c-ares has drained the socket: otherwise the window
      // empties in batches and the server idles between them.
      self->feed();
      if (++self->replies_since_tick_check >= 64) {
        self->replies_since_tick_check = 0;
        self->maybe_tick();
      }
    } catch (...) {
      // Exceptions must not unwind through c-ares' C frames; run() rethrows this one.
      if (!self->callback_error) self->callback_error = std::current_exception();
    }
  }

  // Sends queries until the window is full. Not reentrant: a send that fails at once calls
  // on_reply from inside ares_send, and the outer loop here already carries on.
  void feed() {
    if (feeding) return;
    feeding = true;
    while (in_flight < std::min(window, concurrency) && !callback_error) {
      if (!retry_queue.empty()) {
        size_t index = retry_queue.front();
        retry_queue.pop_front();
        send_attempt(pending[index], (*queries)[index]);
      } else if (next < queries->size()) {
        size_t index = next++;
        send((*queries)[index], index);
      } else {
        break;
      }
    }
    feeding = false;
  }

  void send(const Query& q, size_t index) {
    Pending& p = pending[index];
    p = Pending{this, index, Clock::now(), 0, tries - 1};
    send_attempt(p, q);
  }

  void send_attempt(Pending& p, const Query& q) {
    std::vector<uint8_t> packet = build_dns_query(q.name, q.type, 0);
    if (packet.empty()) {
      QueryOutcome o;
      o.status = "error";
      o.detail = "invalid name";
      (*on_outcome)(p.index, std::move(o));
      return;
    }
    p.id = take_id();
    packet[0] = static_cast<uint8_t>(p.id >> 8);
    packet[1] = static_cast<uint8_t>(p.id);
    ++in_flight;
    ares_send(channel, packet.data(), static_cast<int>(packet.size()), &Impl::on_reply, &p);
  }
};

Resolver::Resolver(const ResolverConfig& config) : impl_(std::make_unique<Impl>()) {
  if (config.timeout <= Nanos::zero()) throw UsageError("the timeout must be positive");
  if (config.tries < 1) throw UsageError("tries must be at least 1");
  if (config.concurrency < 1) throw UsageError("concurrency must be at least 1");
  std::vector<ServerAddress> servers;
  if (!config.servers.empty()) servers = parse_servers(config.servers);
  // Ids are 16 bits and each query in flight needs its own; stay well clear of running out.
  impl_->concurrency = std::min<size_t>(static_cast<size_t>(config.concurrency), 30000);

  init_library_once();
  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (impl_->epoll_fd < 0)
    throw RuntimeError(fmt::format("cannot create an epoll set: {}", std::strerror(errno)));

  ares_options opts{};
  int mask = 0;
  // NOCHECKRESP: hand us SERVFAIL/REFUSED replies instead of retrying them. STAYOPEN: keep the
  // socket when the last query in flight ends, instead of a new socket for every lull.
  opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_STAYOPEN;
  mask |= ARES_OPT_FLAGS;
  auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout).count();
  opts.timeout = static_cast<int>(std::clamp<long long>(timeout_ms, 1, 24 * 3600 * 1000));
  mask |= ARES_OPT_TIMEOUTMS;
  opts.tries = 1;  // per server; further attempts are ours (see retry_queue)
  mask |= ARES_OPT_TRIES;
  impl_->tries = config.tries;
  impl_->attempt_timeout = std::chrono::milliseconds(opts.timeout);
  opts.sock_state_cb = &Impl::on_socket_state;
  opts.sock_state_cb_data = impl_.get();
  mask |= ARES_OPT_SOCK_STATE_CB;
  // Thousands of replies can land between two reads; the kernel caps this at rmem_max.
  opts.socket_receive_buffer_size = 4 << 20;
  mask |= ARES_OPT_SOCK_RCVBUF;
  int status = ares_init_options(&impl_->channel, &opts, mask);
  if (status != ARES_SUCCESS) {
    impl_->channel = nullptr;
    throw RuntimeError(fmt::format("cannot start the resolver: {}", ares_strerror(status)));
  }

  if (!servers.empty()) {
    std::vector<ares_addr_port_node> nodes(servers.size());
    for (size_t i = 0; i < servers.size(); ++i) {
      ares_addr_port_node& n = nodes[i];
      n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
      n.family = servers[i].family;
      std::memcpy(&n.addr, servers[i].address, servers[i].family == AF_INET ? 4 : 16);
      n.udp_port = servers[i].port;
      n.tcp_port = servers[i].port;
      impl_->servers += (i ? "," : "") + servers[i].text;
    }
    status = ares_set_servers_ports(impl_->channel, nodes.data());
    if (status != ARES_SUCCESS)
      throw RuntimeError(fmt::format("cannot set DNS servers: {}", ares_strerror(status)));
  } else {
    ares_addr_port_node* list = nullptr;
    if (ares_get_servers_ports(impl_->channel, &list) == ARES_SUCCESS) {
      for (ares_addr_port_node* n = list; n != nullptr; n = n->next) {
        char text[INET6_ADDRSTRLEN];
        ares_inet_ntop(n->family, &n->addr, text, sizeof text);
        int port = n->udp_port ? n->udp_port : 53;
        if (!impl_->servers.empty()) impl_->servers += ',';
        impl_->servers += n->family == AF_INET ? fmt::format("{}:{}", text, port)
                                               : fmt::format("[{}]:{}", text, port);
      }
      ares_free_data(list);
    }
  }
}

Resolver::~Resolver() = default;

const std::string& Resolver::servers() const { return impl_->servers; }

void Resolver::run(const std::vector<Query>& queries, const OnOutcome& on_outcome,
                   const std::function<void()>& on_tick) {
  Impl& s = *impl_;
  // Sized once: c-ares holds pointers into it until each query ends.
  s.pending.assign(queries.size(), Impl::Pending{});
  s.on_outcome = &on_outcome;
  s.in_flight = 0;
  s.window = s.initial_window();
  s.last_window_cut = Clock::time_point{};
  s.callback_error = nullptr;
  struct Reset {
    Impl& s;
    ~Reset() {
      s.on_outcome = nullptr;
      s.on_tick = nullptr;
      if (s.in_flight > 0) ares_cancel(s.channel);  // only after an exception
    }
  } reset{s};

  s.queries = &queries;
  s.next = 0;
  s.feeding = false;
  s.on_tick = &on_tick;
  s.last_tick = Clock::now();
  auto feed = [&] { s.feed(); };
  auto next_deadline = Clock::now();  // in the past: ask c-ares on the first turn
  epoll_event events[256];
  feed();
  s.retry_queue.clear();
  while (s.in_flight > 0 ||
         ((s.next < queries.size() || !s.retry_queue.empty()) && !s.callback_error)) {
    if (s.callback_error) std::rethrow_exception(s.callback_error);
    // ares_timeout() walks every query in flight, so ask it only once the earliest deadline it
    // last gave has passed. That deadline can only move later while queries are in flight (new
    // and retried queries get deadlines after it), so the cached one never makes us late.
    auto now = Clock::now();
    if (now >= next_deadline) {
      timeval max_wait{1, 0};
      timeval wait{};
      ares_timeout(s.channel, &max_wait, &wait);
      next_deadline =
          now + std::chrono::seconds(wait.tv_sec) + std::chrono::microseconds(wait.tv_usec);
    }
    int wait_ms =
        static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next_deadline - now).count());
    int n = epoll_wait(s.epoll_fd, events, static_cast<int>(std::size(events)), wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw RuntimeError(fmt::format("epoll_wait failed: {}", std::strerror(errno)));
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      bool readable = events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP);
      bool writable = events[i].events & EPOLLOUT;
      // A socket closed by an earlier call in this batch is no longer ours to process.
      if (s.watched.find(fd) == s.watched.end()) continue;
      ares_process_fd(s.channel, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
    }
    if (n == 0) ares_process_fd(s.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
    feed();
    s.maybe_tick();
  }
  if (s.callback_error) std::rethrow_exception(s.callback_error);
}

}  // namespace netres::resolve
