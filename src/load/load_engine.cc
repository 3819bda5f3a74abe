// LoadEngine: per-thread Workers, each an io_context with its Connections (C++20 coroutines),
// a one-second tick that hands the interval to the reporting thread, and the deadline/drain.
#include "load/load_engine.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "common/error.h"
#include "load/http_response_parser.h"

namespace netres::load {
namespace {

using Clock = std::chrono::steady_clock;
using asio::awaitable;
using asio::ip::tcp;
constexpr auto kOneSecond = std::chrono::seconds(1);

uint64_t to_us(Clock::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<uint64_t>(us);
}

// Where a worker leaves its last second for the reporting thread: the only lock, once a second.
struct Mailbox {
  std::mutex mutex;
  IntervalStats interval;
  unsigned users = 0;  // the worker's live virtual users at its last tick
};

std::string reason_of(const std::error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    return "connection reset";
  if (ec == asio::error::eof) return "connection closed before response";
  if (ec == asio::error::host_unreachable || ec == asio::error::network_unreachable)
    return "unreachable";
  if (ec.category() == asio::error::get_ssl_category()) return "tls: " + ec.message();
  if (ec == asio::ssl::error::stream_truncated) return "connection reset";
  return ec.message();
}

// Each connection is a file descriptor: ask for the hard limit when the soft one is short,
// so -c 10000 works without the user tuning ulimit (what cannot be had shows as failures).
void raise_open_file_limit(unsigned connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  rlim_t want = static_cast<rlim_t>(connections) + 64;
  if (lim.rlim_cur >= want) return;
  lim.rlim_cur = std::min(want, lim.rlim_max);
  setrlimit(RLIMIT_NOFILE, &lim);
}

class Worker;

class Connection {
 public:
  Connection(Worker& worker, unsigned index, std::unique_ptr<VirtualUser> user);
  awaitable<void> run();
  void on_deadline();   // stop waiting; abandon a connect; keep requests in flight
  void on_drain_end();  // the drain bound ran out: abort requests still in flight

 private:
  enum class Phase { kIdle, kConnecting, kInFlight };

  awaitable<std::string> open();
  void close();
  awaitable<void> sleep_until(Clock::time_point t);
  void arm_watchdog(Clock::time_point t);
  void disarm_watchdog();
  awaitable<size_t> read_some(std::error_code& ec);
  awaitable<void> write_all(const std::string& bytes, std::error_code& ec);
  // One round trip: writes `n` requests and reads their responses. False when the connection
  // must be reopened.
  awaitable<bool> round_trip(Clock::time_point due);
  void fail(const RequestTemplate& r, const std::string& reason);
  void cancel(size_t n);

  Worker& w_;
  unsigned index_;
  std::unique_ptr<VirtualUser> user_;
  std::optional<tcp::socket> plain_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;
  bool open_ = false;
  Phase phase_ = Phase::kIdle;
  asio::steady_timer pause_;
  asio::steady_timer watchdog_;
  uint64_t watchdog_generation_ = 0;
  bool timed_out_ = false;
  std::array<char, 16384> rbuf_{};
  size_t rbegin_ = 0, rend_ = 0;
  HttpResponseParser parser_;
  std::vector<const RequestTemplate*> batch_;
  std::string batch_wire_;
  const RequestTemplate* batch_of_ = nullptr;  // the wire cache holds copies of this request
  size_t last_answered_ = 0;
};

class Worker {
 public:
  Worker(const LoadOptions& options, const tcp::resolver::results_type& endpoints,
         Clock::time_point start, Clock::time_point deadline, unsigned first, unsigned count,
         Mailbox& mailbox)
      : options(options),
        endpoints(endpoints),
        start(start),
        deadline(deadline),
        tick_(io),
        deadline_timer_(io),
        drain_timer_(io),
        mailbox_(mailbox) {
    stats.requests.resize(options.requests.size());
    for (const auto& r : options.requests) {
      stats.requests[r.id].method = r.method;
      stats.requests[r.id].name = r.name;
    }
    if (options.url.tls) {
      ssl.emplace(asio::ssl::context::tls_client);
      if (options.insecure) {
        ssl->set_verify_mode(asio::ssl::verify_none);
      } else {
        ssl->set_default_verify_paths();
        ssl->set_verify_mode(asio::ssl::verify_peer);
      }
    }
    for (unsigned i = 0; i < count; ++i)
      connections_.push_back(std::make_unique<Connection>(
          *this, first + i, options.make_user(first + i, options.requests)));
  }

  void run() {
    active_ = connections_.size();
    for (auto& c : connections_)
      asio::co_spawn(
          io, [c = c.get()] { return c->run(); }, asio::detached);
    asio::co_spawn(io, ticks(), asio::detached);
    deadline_timer_.expires_at(deadline);
    deadline_timer_.async_wait([this](std::error_code ec) {
      if (!ec) end_of_sending();
    });
    io.run();
    flush_interval();
  }

  // Thread-safe: ends the sending early (an interrupt), with the usual drain.
  void stop_now() {
    asio::post(io, [this] {
      if (!issuing) return;
      deadline = Clock::now();
      deadline_timer_.cancel();
      end_of_sending();
    });
  }

  void connection_done() {
    if (--active_ == 0) {
      done_ = true;
      tick_.cancel();
      deadline_timer_.cancel();
      drain_timer_.cancel();
    }
  }

  void record(const RequestTemplate& r, int status, uint64_t body_bytes, Clock::time_point due,
              Clock::time_point sent, Clock::time_point done) {
    RequestStats& s = stats.requests[r.id];
    uint64_t latency = to_us(done - due);
    ++s.requests;
    s.body_bytes += body_bytes;
    s.latency.record(latency);
    s.service.record(to_us(done - sent));
    ++s.status_codes[status];
    ++interval_.requests;
    interval_.body_bytes += body_bytes;
    interval_.latency.record(latency);
    if (status >= 400) {
      ++s.failures;
      ++interval_.failures;
      ++stats.failures[FailureKey{r.method, r.name, fmt::format("HTTP {}", status)}];
    }
  }

  void record_failure(const RequestTemplate& r, const std::string& reason) {
    RequestStats& s = stats.requests[r.id];
    ++s.requests;
    ++s.failures;
    ++interval_.requests;
    ++interval_.failures;
    ++stats.failures[FailureKey{r.method, r.name, reason}];
  }

  const LoadOptions& options;
  const tcp::resolver::results_type& endpoints;
  const Clock::time_point start;
  Clock::time_point deadline;  // moves earlier on stop_now()
  asio::io_context io{1};
  std::optional<asio::ssl::context> ssl;
  LoadStats stats;
  bool issuing = true;         // before the deadline
  bool draining_over = false;  // after deadline + drain

 private:
  void end_of_sending() {
    issuing = false;
    for (auto& c : connections_) c->on_deadline();
    drain_timer_.expires_at(deadline + options.drain);
    drain_timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      draining_over = true;
      for (auto& c : connections_) c->on_drain_end();
    });
  }

  awaitable<void> ticks() {
    for (int k = 1; !done_; ++k) {
      tick_.expires_at(start + k * kOneSecond);
      std::error_code ec;
      co_await tick_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      flush_interval();
    }
  }

  void flush_interval() {
    {
      std::lock_guard lock(mailbox_.mutex);
      mailbox_.interval.merge(interval_);
      mailbox_.users = static_cast<unsigned>(active_);
    }
    interval_.reset();
  }

  asio::steady_timer tick_, deadline_timer_, drain_timer_;
  Mailbox& mailbox_;
  IntervalStats interval_;
  std::vector<std::unique_ptr<Connection>> connections_;
  size_t active_ = 0;
  bool done_ = false;
};

Connection::Connection(Worker& worker, unsigned index, std::unique_ptr<VirtualUser> user)
    : w_(worker), index_(index), user_(std::move(user)), pause_(worker.io), watchdog_(worker.io) {}

void Connection::on_deadline() {
  pause_.cancel();
  if (phase_ == Phase::kConnecting) close();
}

void Connection::on_drain_end() {
  if (phase_ == Phase::kInFlight) close();
}

void Connection::close() {
  std::error_code ignored;
  if (tls_) tls_->next_layer().close(ignored);
  if (plain_) plain_->close(ignored);
  open_ = false;
}

void Connection::arm_watchdog(Clock::time_point t) {
  timed_out_ = false;
  uint64_t generation = ++watchdog_generation_;
  watchdog_.expires_at(t);
  watchdog_.async_wait([this, generation](std::error_code ec) {
    if (ec || generation != watchdog_generation_) return;
    timed_out_ = true;
    close();
  });
}

void Connection::disarm_watchdog() {
  ++watchdog_generation_;
  watchdog_.cancel();
}

awaitable<void> Connection::sleep_until(Clock::time_point t) {
  if (Clock::now() >= t) co_return;
  pause_.expires_at(t);
  std::error_code ec;
  co_await pause_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

awaitable<std::string> Connection::open() {
  auto& io = w_.io;
  tls_.reset();
  plain_.reset();
  rbegin_ = rend_ = 0;
  std::error_code ec;
  phase_ = Phase::kConnecting;
  arm_watchdog(Clock::now() + w_.options.connect_timeout);
  tcp::socket* socket;
  if (w_.ssl) {
    tls_.emplace(io, *w_.ssl);
    socket = &tls_->next_layer();
  } else {
    plain_.emplace(io);
    socket = &*plain_;
  }
  co_await asio::async_connect(*socket, w_.endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) socket->set_option(tcp::no_delay(true), ec);
  if (!ec && tls_) {
    const std::string& host = w_.options.url.host;
    SSL* ssl = tls_->native_handle();
    std::error_code addr_ec;
    asio::ip::make_address(host, addr_ec);
    bool is_ip = !addr_ec;
    if (!is_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
    if (!w_.options.insecure) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      if (is_ip)
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
      else
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
    co_await tls_->async_handshake(asio::ssl::stream_base::client,
                                   asio::redirect_error(asio::use_awaitable, ec));
  }
  bool timed_out = timed_out_;
  disarm_watchdog();
  phase_ = Phase::kIdle;
  if (ec) {
    close();
    co_return timed_out ? std::string("connect timeout") : reason_of(ec);
  }
  open_ = true;
  ++w_.stats.connects;
  co_return std::string();
}

awaitable<size_t> Connection::read_some(std::error_code& ec) {
  auto buffer = asio::buffer(rbuf_);
  if (tls_)
    co_return co_await tls_->async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
  co_return co_await plain_->async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
}

awaitable<void> Connection::write_all(const std::string& bytes, std::error_code& ec) {
  if (tls_)
    co_await asio::async_write(*tls_, asio::buffer(bytes),
                               asio::redirect_error(asio::use_awaitable, ec));
  else
    co_await asio::async_write(*plain_, asio::buffer(bytes),
                               asio::redirect_error(asio::use_awaitable, ec));
}

void Connection::fail(const RequestTemplate& r, const std::string& reason) {
  w_.record_failure(r, reason);
}

void Connection::cancel(size_t n) { w_.stats.cancelled += n; }

awaitable<bool> Connection::round_trip(Clock::time_point due) {
  const unsigned n = std::max(1u, w_.options.pipeline);
  batch_.clear();
  bool same = true;
  for (unsigned i = 0; i < n; ++i) {
    batch_.push_back(&user_->next_request());
    same = same && batch_.back() == batch_.front();
  }
  // Quick mode asks for the same request every time: build the pipelined bytes once.
  if (!same || batch_of_ != batch_.front()) {
    batch_wire_.clear();
    for (const auto* r : batch_) batch_wire_ += r->wire;
    batch_of_ = same ? batch_.front() : nullptr;
  }
  phase_ = Phase::kInFlight;
  Clock::time_point sent = Clock::now();
  arm_watchdog(sent + w_.options.timeout);
  std::error_code ec;
  co_await write_all(batch_wire_, ec);
  size_t answered = 0;
  bool reopen = false;
  std::string reason;
  if (ec) {
    reason = reason_of(ec);
    reopen = true;
  }
  while (!reopen && answered < batch_.size()) {
    const RequestTemplate& r = *batch_[answered];
    parser_.reset(r.head);
    HttpResponseParser::Status status = HttpResponseParser::Status::kNeedMore;
    while (status == HttpResponseParser::Status::kNeedMore) {
      if (rbegin_ == rend_) {
        rbegin_ = rend_ = 0;
        size_t got = co_await read_some(ec);
        if (ec) {
          if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
            status = parser_.finish_eof();
            if (status == HttpResponseParser::Status::kComplete) break;
            reason = parser_.error();
          } else {
            reason = reason_of(ec);
          }
          status = HttpResponseParser::Status::kError;
          ec = {};
          reopen = true;
          break;
        }
        rend_ = got;
      }
      size_t used = 0;
      status = parser_.feed(std::string_view(rbuf_.data() + rbegin_, rend_ - rbegin_), used);
      rbegin_ += used;
      if (status == HttpResponseParser::Status::kError) {
        reason = "malformed response: " + parser_.error();
        reopen = true;
      }
    }
    if (status != HttpResponseParser::Status::kComplete) break;
    w_.record(r, parser_.status_code(), parser_.body_bytes(), due, sent, Clock::now());
    ++answered;
    if (!parser_.keep_alive()) {
      reopen = true;
      reason = "connection closed before response";  // for the rest of the batch, if any
    }
  }
  bool timed_out = timed_out_;
  disarm_watchdog();
  phase_ = Phase::kIdle;
  last_answered_ = answered;
  size_t unanswered = batch_.size() - answered;
  if (unanswered > 0) {
    if (w_.draining_over) {
      cancel(unanswered);
    } else {
      if (timed_out) reason = "timeout";
      for (size_t i = answered; i < batch_.size(); ++i) fail(*batch_[i], reason);
    }
  }
  if (reopen) close();
  co_return !reopen;
}

awaitable<void> Connection::run() {
  const auto& o = w_.options;
  const bool open_model = o.rate > 0;
  // Open model: each connection sends every connections/rate seconds, staggered so the
  // connections together send at an even pace.
  const auto period = open_model ? std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(o.connections / o.rate))
                                 : Clock::duration{};
  Clock::time_point next_due =
      w_.start + std::chrono::duration_cast<Clock::duration>(
                     std::chrono::duration<double>(open_model ? index_ / o.rate : 0.0));
  std::chrono::milliseconds backoff{0};
  while (w_.issuing) {
    if (open_model) {
      if (next_due >= w_.deadline) break;
      co_await sleep_until(next_due);
      if (!w_.issuing) break;
    }
    if (!open_) {
      if (backoff.count() > 0) {
        co_await sleep_until(Clock::now() + backoff);
        if (!w_.issuing) break;
      }
      std::string reason = co_await open();
      if (!reason.empty()) {
        if (!w_.issuing) break;  // connect abandoned at the deadline: nothing was sent
        // A request was due and could not go out: it counts as failed.
        fail(user_->next_request(), reason);
        if (open_model) next_due += period;
        backoff = std::min(std::chrono::milliseconds(500),
                           std::max(std::chrono::milliseconds(10), backoff * 2));
        continue;
      }
    }
    Clock::time_point due = open_model ? next_due : Clock::now();
    bool kept = co_await round_trip(due);
    if (open_model) next_due += period;
    // A connection that fails without answering anything backs off; a server that closes
    // keep-alive connections politely does not.
    if (!kept && last_answered_ == 0)
      backoff = std::min(std::chrono::milliseconds(500),
                         std::max(std::chrono::milliseconds(10), backoff * 2));
    else
      backoff = std::chrono::milliseconds(0);
  }
  close();
  w_.connection_done();
}

}  // namespace

LoadEngine::LoadEngine(LoadOptions options) : options_(std::move(options)) {}
LoadEngine::~LoadEngine() = default;

LoadResult LoadEngine::run(const std::function<void(const SecondSample&)>& on_second) {
  LoadOptions& o = options_;
  o.connections = std::max(1u, o.connections);
  o.threads = std::clamp(o.threads, 1u, o.connections);

  raise_open_file_limit(o.connections);
  asio::io_context resolver_io;
  tcp::resolver resolver(resolver_io);
  std::error_code ec;
  auto endpoints = resolver.resolve(o.url.host, std::to_string(o.url.port), ec);
  if (ec || endpoints.empty())
    throw RuntimeError(fmt::format("cannot resolve '{}': {}", o.url.host, ec.message()));

  std::vector<Mailbox> mailboxes(o.threads);
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  const auto started_at = std::chrono::system_clock::now() + std::chrono::milliseconds(20);
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(o.duration);
  std::vector<std::unique_ptr<Worker>> workers;
  unsigned first = 0;
  for (unsigned t = 0; t < o.threads; ++t) {
    unsigned count = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    workers.push_back(
        std::make_unique<Worker>(o, endpoints, start, deadline, first, count, mailboxes[t]));
    first += count;
  }
  std::atomic<unsigned> finished{0};
  std::vector<std::thread> threads;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  for (auto& w : workers) {
    threads.emplace_back([&, w = w.get()] {
      try {
        w->run();
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        failure = std::current_exception();
      }
      ++finished;
    });
  }

  LoadResult result;
  IntervalStats interval;
  // The last kWindowSeconds intervals (for locust's "current" percentiles) and the run so far.
  std::vector<HdrHistogram> recent(kWindowSeconds, HdrHistogram(kMaxLatencyUs));
  size_t recent_next = 0;
  HdrHistogram window(kMaxLatencyUs);
  IntervalStats cumulative;
  auto collect = [&](double t) {
    interval.reset();
    SecondSample s;
    for (auto& m : mailboxes) {
      std::lock_guard lock(m.mutex);
      interval.merge(m.interval);
      m.interval.reset();
      s.users += m.users;
    }
    s.t = t;
    s.requests = interval.requests;
    s.failures = interval.failures;
    s.body_bytes = interval.body_bytes;
    s.p50_ms = interval.latency.value_at_percentile(50) / 1000.0;
    s.p99_ms = interval.latency.value_at_percentile(99) / 1000.0;
    recent[recent_next] = interval.latency;
    recent_next = (recent_next + 1) % recent.size();
    window.reset();
    for (const auto& h : recent) window.merge(h);
    for (size_t i = 0; i < kLocustPercentiles.size(); ++i)
      s.window_ms[i] = window.value_at_percentile(kLocustPercentiles[i]) / 1000.0;
    cumulative.merge(interval);
    s.total_requests = cumulative.requests;
    s.total_failures = cumulative.failures;
    s.total_body_bytes = cumulative.body_bytes;
    s.total_p50_ms = cumulative.latency.value_at_percentile(50) / 1000.0;
    s.total_avg_ms = cumulative.latency.mean() / 1000.0;
    s.total_min_ms = cumulative.latency.min() / 1000.0;
    s.total_max_ms = cumulative.latency.max() / 1000.0;
    return s;
  };
  // Sample a little after each worker's tick so their seconds have landed in the mailboxes.
  Clock::time_point stopped_at = deadline;
  bool stop_sent = false;
  for (int k = 1; finished.load() < workers.size(); ++k) {
    auto at = start + k * kOneSecond + std::chrono::milliseconds(50);
    while (Clock::now() < at && finished.load() < workers.size()) {
      if (!stop_sent && o.stop_requested && o.stop_requested->load()) {
        stop_sent = true;
        stopped_at = std::min(deadline, Clock::now());
        for (auto& w : workers) w->stop_now();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (finished.load() == workers.size()) break;
    SecondSample s = collect(static_cast<double>(k));
    result.history.push_back(s);
    if (on_second) on_second(s);
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  SecondSample last = collect(std::chrono::duration<double>(Clock::now() - start).count());
  if (last.requests > 0) result.history.push_back(last);
  for (auto& w : workers) result.stats.merge(w->stats);
  result.elapsed = std::chrono::duration_cast<Nanos>(std::max(stopped_at, start) - start);
  result.interrupted = stop_sent;
  result.started_at = started_at;
  return result;
}

}  // namespace netres::load
