// LoadEngine: per-thread Workers, each an io_context with its Connections (quick mode) or its
// ScenarioUsers and their scheduler (C++20 coroutines over HttpClient), a one-second tick that
// hands the interval to the reporting thread, and the deadline/drain.
#include "load/load_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/error.h"
#include "common/open_files.h"
#include "load/http_client.h"
#include "load/http_response_parser.h"
#include "load/scenario_runtime.h"

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

std::chrono::milliseconds next_backoff(std::chrono::milliseconds b) {
  return std::min(std::chrono::milliseconds(500), std::max(std::chrono::milliseconds(10), b * 2));
}

class Worker;

// Quick mode: one connection repeating its user's request (pipelined, or on the open model's
// schedule).
class Connection {
 public:
  Connection(Worker& worker, unsigned index, std::unique_ptr<VirtualUser> user);
  awaitable<void> run();
  void on_deadline();   // stop waiting; abandon a connect; keep requests in flight
  void on_drain_end();  // the drain bound ran out: abort requests still in flight

 private:
  awaitable<void> sleep_until(Clock::time_point t);
  // One round trip: writes `n` requests and reads their responses. False when the connection
  // must be reopened.
  awaitable<bool> round_trip(Clock::time_point due);

  Worker& w_;
  unsigned index_;
  std::unique_ptr<VirtualUser> user_;
  HttpClient client_;
  asio::steady_timer pause_;
  std::vector<const RequestTemplate*> batch_;
  std::string batch_wire_;
  const RequestTemplate* batch_of_ = nullptr;  // the wire cache holds copies of this request
  size_t last_answered_ = 0;
};

// Scenario mode: one virtual user running its class's on_start, then weighted tasks with wait
// times, over its own keep-alive connection, until the deadline or until a stage stops it.
class ScenarioUser {
 public:
  ScenarioUser(Worker& worker, unsigned index, const UserClass& cls);
  awaitable<void> run();
  void stop();  // at once when waiting, else after the request in flight
  void on_deadline();
  void on_drain_end();
  bool finished() const { return finished_; }
  unsigned index() const { return index_; }

 private:
  awaitable<void> sleep_for(Nanos d);
  // False when a request of the sequence failed (the rest is skipped).
  awaitable<bool> run_sequence(const std::vector<size_t>& requests);
  awaitable<bool> execute(const ScenarioRequest& r);

  Worker& w_;
  unsigned index_;
  const UserClass& cls_;
  const Scenario& s_;
  HttpClient client_;
  asio::steady_timer pause_;
  Prng rng_;
  Variables vars_;
  std::vector<double> task_weights_;
  std::string wire_;
  std::chrono::milliseconds backoff_{0};
  bool did_io_ = false;
  bool stopping_ = false;
  bool finished_ = false;
};

class Worker {
 public:
  Worker(const LoadOptions& options, const tcp::resolver::results_type& endpoints,
         Clock::time_point start, Clock::time_point deadline, unsigned first, unsigned count,
         unsigned thread_index, unsigned threads, const std::vector<unsigned>& user_classes,
         Mailbox& mailbox)
      : options(options),
        scenario(options.scenario.get()),
        start(start),
        deadline(deadline),
        client_setup{io,
                     nullptr,
                     endpoints,
                     options.url.host,
                     options.insecure,
                     options.connect_timeout,
                     &stats.connects},
        thread_index_(thread_index),
        threads_(threads),
        user_classes_(user_classes),
        tick_(io),
        deadline_timer_(io),
        drain_timer_(io),
        schedule_timer_(io),
        mailbox_(mailbox) {
    if (scenario) {
      stats.requests.resize(scenario->rows.size());
      for (size_t i = 0; i < scenario->rows.size(); ++i) {
        stats.requests[i].method = scenario->rows[i].method;
        stats.requests[i].name = scenario->rows[i].name;
      }
    } else {
      stats.requests.resize(options.requests.size());
      for (const auto& r : options.requests) {
        stats.requests[r.id].method = r.method;
        stats.requests[r.id].name = r.name;
      }
    }
    if (options.url.tls) {
      ssl.emplace(asio::ssl::context::tls_client);
      if (options.insecure) {
        ssl->set_verify_mode(asio::ssl::verify_none);
      } else {
        ssl->set_default_verify_paths();
        ssl->set_verify_mode(asio::ssl::verify_peer);
      }
      client_setup.ssl = &*ssl;
    }
    if (!scenario)
      for (unsigned i = 0; i < count; ++i)
        connections_.push_back(std::make_unique<Connection>(
            *this, first + i, options.make_user(first + i, options.requests)));
  }

  void run() {
    if (scenario) {
      active_ = 1;
      asio::co_spawn(io, schedule(), asio::detached);
    } else {
      active_ = connections_.size();
      for (auto& c : connections_)
        asio::co_spawn(
            io, [c = c.get()] { return c->run(); }, asio::detached);
    }
    asio::co_spawn(io, ticks(), asio::detached);
    deadline_timer_.expires_at(deadline);
    deadline_timer_.async_wait([this](std::error_code ec) {
      // The scheduler's last wait ends at the deadline too: when its completion ran first and
      // nothing is left (a last stage of 0 users), a drain would only keep the run 2 s longer.
      if (!ec && !done_) end_of_sending();
    });
    io.run();
    flush_interval();
  }

  // Thread-safe: ends the sending early (an interrupt), with the usual drain.
  void stop_now() {
    asio::post(io, [this] {
      if (!issuing || done_) return;
      deadline = Clock::now();
      deadline_timer_.cancel();
      end_of_sending();
    });
  }

  // A connection's or a user's coroutine (or the scheduler) has ended.
  void coroutine_done() {
    if (--active_ == 0) {
      done_ = true;
      tick_.cancel();
      deadline_timer_.cancel();
      drain_timer_.cancel();
    }
  }

  // A completed response; `failure` is empty when the request succeeded.
  void record(size_t id, int status, uint64_t body_bytes, Clock::time_point due,
              Clock::time_point sent, Clock::time_point done, const std::string& failure) {
    RequestStats& s = stats.requests[id];
    uint64_t latency = to_us(done - due);
    ++s.requests;
    s.body_bytes += body_bytes;
    s.latency.record(latency);
    s.service.record(to_us(done - sent));
    ++s.status_codes[status];
    ++interval_.requests;
    interval_.body_bytes += body_bytes;
    interval_.latency.record(latency);
    if (!failure.empty()) {
      ++s.failures;
      ++interval_.failures;
      ++stats.failures[FailureKey{s.method, s.name, failure}];
    }
  }

  void record_failure(size_t id, const std::string& reason) {
    RequestStats& s = stats.requests[id];
    ++s.requests;
    ++s.failures;
    ++interval_.requests;
    ++interval_.failures;
    ++stats.failures[FailureKey{s.method, s.name, reason}];
  }

  // A scenario user's coroutine ended (stopped by a stage, or at the end of the run).
  void user_done(ScenarioUser* u) {
    auto it = live_.find(u->index());
    if (it != live_.end() && it->second == u) live_.erase(it);
    ++finished_users_;
    coroutine_done();
  }

  const LoadOptions& options;
  const Scenario* scenario;  // null in quick mode
  const Clock::time_point start;
  Clock::time_point deadline;  // moves earlier on stop_now()
  asio::io_context io{1};
  std::optional<asio::ssl::context> ssl;
  LoadStats stats;
  ClientSetup client_setup;
  bool issuing = true;         // before the deadline
  bool draining_over = false;  // after deadline + drain

 private:
  void end_of_sending() {
    users_at_end_ = live_users();
    issuing = false;
    schedule_timer_.cancel();
    for (auto& c : connections_) c->on_deadline();
    for (auto& u : users_) u->on_deadline();
    drain_timer_.expires_at(deadline + options.drain);
    drain_timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      draining_over = true;
      for (auto& c : connections_) c->on_drain_end();
      for (auto& u : users_) u->on_drain_end();
    });
  }

  unsigned live_users() const { return static_cast<unsigned>(scenario ? live_.size() : active_); }

  bool mine(unsigned index) const { return index % threads_ == thread_index_; }

  void start_user(unsigned index) {
    // Sweep finished users only when there are some: scanning every started user on every start
    // made spawning n users O(n^2).
    if (finished_users_ > 0) {
      std::erase_if(users_, [](const auto& u) { return u->finished(); });
      finished_users_ = 0;
    }
    const UserClass& cls = scenario->classes[user_classes_[index]];
    users_.push_back(std::make_unique<ScenarioUser>(*this, index, cls));
    ScenarioUser* u = users_.back().get();
    live_[index] = u;
    ++active_;
    asio::co_spawn(
        io, [u] { return u->run(); }, asio::detached);
  }

  void stop_user(unsigned index) {
    auto it = live_.find(index);
    if (it == live_.end()) return;
    ScenarioUser* u = it->second;
    live_.erase(it);
    u->stop();
  }

  // Starts and stops this thread's users (index % threads) as the live count changes; users
  // stop newest first.
  awaitable<void> schedule() {
    UserSchedule plan(*scenario);
    unsigned live = 0;
    while (issuing) {
      auto step = plan.next();
      if (!step) break;
      unsigned before = live;
      live = step->users;
      unsigned lo = std::min(before, live), hi = std::max(before, live);
      bool any = false;
      for (unsigned i = lo; i < hi && !any; ++i) any = mine(i);
      if (!any) continue;
      auto at = start + std::chrono::duration_cast<Clock::duration>(step->at);
      if (at > Clock::now()) {
        schedule_timer_.expires_at(at);
        std::error_code ec;
        co_await schedule_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (!issuing) break;
      if (live > before) {
        for (unsigned i = before; i < live; ++i)
          if (mine(i)) start_user(i);
      } else {
        for (unsigned i = before; i-- > live;)
          if (mine(i)) stop_user(i);
      }
    }
    // Nothing more to change: stay until the deadline, so the worker does not end early.
    if (issuing) {
      schedule_timer_.expires_at(deadline);
      std::error_code ec;
      co_await schedule_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    coroutine_done();
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
      // After the deadline users wind down: the last interval reports those of the run.
      mailbox_.users = issuing ? live_users() : users_at_end_;
    }
    interval_.reset();
  }

  const unsigned thread_index_, threads_;
  const std::vector<unsigned>& user_classes_;  // class of each scenario user, by index
  asio::steady_timer tick_, deadline_timer_, drain_timer_, schedule_timer_;
  Mailbox& mailbox_;
  IntervalStats interval_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<ScenarioUser>> users_;  // started ones, until swept when finished
  size_t finished_users_ = 0;                         // finished since the last sweep
  std::map<unsigned, ScenarioUser*> live_;            // started and not asked to stop
  size_t active_ = 0;
  unsigned users_at_end_ = 0;
  bool done_ = false;
};

Connection::Connection(Worker& worker, unsigned index, std::unique_ptr<VirtualUser> user)
    : w_(worker),
      index_(index),
      user_(std::move(user)),
      client_(worker.client_setup),
      pause_(worker.io) {}

void Connection::on_deadline() {
  pause_.cancel();
  if (client_.connecting()) client_.close();
}

void Connection::on_drain_end() {
  if (client_.in_flight()) client_.close();
}

awaitable<void> Connection::sleep_until(Clock::time_point t) {
  if (Clock::now() >= t) co_return;
  pause_.expires_at(t);
  std::error_code ec;
  co_await pause_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

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
  Clock::time_point sent = Clock::now();
  client_.begin(sent + w_.options.timeout);
  std::error_code ec;
  co_await client_.write(batch_wire_, ec);
  size_t answered = 0;
  bool reopen = false;
  std::string reason;
  if (ec) {
    reason = reason_of(ec);
    reopen = true;
  }
  while (!reopen && answered < batch_.size()) {
    const RequestTemplate& r = *batch_[answered];
    client_.start_response(r.head, false);
    auto parsed = client_.parse_buffered(reason);
    while (parsed == HttpResponseParser::Status::kNeedMore)
      parsed = co_await client_.read_more(reason);
    if (parsed != HttpResponseParser::Status::kComplete) {
      reopen = true;
      break;
    }
    const HttpResponseParser& p = client_.parser();
    int status = p.status_code();
    w_.record(r.id, status, p.body_bytes(), due, sent, Clock::now(),
              status >= 400 ? fmt::format("HTTP {}", status) : std::string());
    ++answered;
    if (!p.keep_alive()) {
      reopen = true;
      reason = "connection closed before response";  // for the rest of the batch, if any
    }
  }
  bool timed_out = client_.end();
  last_answered_ = answered;
  size_t unanswered = batch_.size() - answered;
  if (unanswered > 0) {
    if (w_.draining_over) {
      w_.stats.cancelled += unanswered;
    } else {
      if (timed_out) reason = "timeout";
      for (size_t i = answered; i < batch_.size(); ++i) w_.record_failure(batch_[i]->id, reason);
    }
  }
  if (reopen) client_.close();
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
    if (!client_.is_open()) {
      if (backoff.count() > 0) {
        co_await sleep_until(Clock::now() + backoff);
        if (!w_.issuing) break;
      }
      std::string reason = co_await client_.open();
      if (!reason.empty()) {
        if (!w_.issuing) break;  // connect abandoned at the deadline: nothing was sent
        // A request was due and could not go out: it counts as failed.
        w_.record_failure(user_->next_request().id, reason);
        if (open_model) next_due += period;
        backoff = next_backoff(backoff);
        continue;
      }
    }
    Clock::time_point due = open_model ? next_due : Clock::now();
    bool kept = co_await round_trip(due);
    if (open_model) next_due += period;
    // A connection that fails without answering anything backs off; a server that closes
    // keep-alive connections politely does not.
    if (!kept && last_answered_ == 0)
      backoff = next_backoff(backoff);
    else
      backoff = std::chrono::milliseconds(0);
  }
  client_.close();
  w_.coroutine_done();
}

ScenarioUser::ScenarioUser(Worker& worker, unsigned index, const UserClass& cls)
    : w_(worker),
      index_(index),
      cls_(cls),
      s_(*worker.scenario),
      client_(worker.client_setup),
      pause_(worker.io),
      rng_(worker.scenario->seed, index) {
  for (const auto& t : cls.tasks) task_weights_.push_back(t.weight);
}

void ScenarioUser::stop() {
  stopping_ = true;
  pause_.cancel();
}

void ScenarioUser::on_deadline() {
  pause_.cancel();
  if (client_.connecting()) client_.close();
}

void ScenarioUser::on_drain_end() {
  if (client_.in_flight()) client_.close();
}

awaitable<void> ScenarioUser::sleep_for(Nanos d) {
  if (d.count() <= 0 || stopping_ || !w_.issuing) co_return;
  // The wake-up goes to the nearest slot (scenario_runtime.h): users due close together wake
  // together, one event-loop wake-up for all of them.
  const Nanos at = std::chrono::duration_cast<Nanos>((Clock::now() + d).time_since_epoch());
  pause_.expires_at(Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(Nanos(round_to_slot(at.count(), wake_slot(d))))));
  std::error_code ec;
  co_await pause_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

awaitable<bool> ScenarioUser::execute(const ScenarioRequest& r) {
  const std::string* wire = &r.wire;
  if (!r.constant) {
    wire_.clear();
    std::string reason = render_request(s_, r, vars_, wire_);
    if (!reason.empty()) {
      w_.record_failure(r.id, reason);
      co_return false;
    }
    wire = &wire_;
  }
  if (!client_.is_open()) {
    if (backoff_.count() > 0) {
      co_await sleep_for(backoff_);
      if (!w_.issuing || stopping_) co_return false;
    }
    did_io_ = true;
    std::string reason = co_await client_.open();
    if (!reason.empty()) {
      if (!w_.issuing) co_return false;  // abandoned at the deadline: nothing was sent
      w_.record_failure(r.id, reason);
      backoff_ = next_backoff(backoff_);
      co_return false;
    }
    if (!w_.issuing || stopping_) co_return false;  // stopped while connecting: nothing sent
  }
  did_io_ = true;
  Clock::time_point sent = Clock::now();
  client_.begin(
      sent + std::chrono::duration_cast<Clock::duration>(r.timeout.value_or(w_.options.timeout)));
  std::error_code ec;
  co_await client_.write(*wire, ec);
  std::string reason;
  bool ok = !ec;
  if (ec)
    reason = reason_of(ec);
  else
    ok = co_await client_.read_response(r.head, r.capture, reason);
  bool timed_out = client_.end();
  if (!ok) {
    if (w_.draining_over) {
      ++w_.stats.cancelled;
    } else {
      w_.record_failure(r.id, timed_out ? std::string("timeout") : reason);
    }
    client_.close();
    backoff_ = next_backoff(backoff_);
    co_return false;
  }
  backoff_ = std::chrono::milliseconds(0);
  const HttpResponseParser& p = client_.parser();
  reason = check_response(r, ResponseView{p.status_code(), p.body(), &p.headers()}, vars_);
  w_.record(r.id, p.status_code(), p.body_bytes(), sent, sent, Clock::now(), reason);
  if (!p.keep_alive()) client_.close();
  co_return reason.empty();
}

awaitable<bool> ScenarioUser::run_sequence(const std::vector<size_t>& requests) {
  for (size_t i : requests) {
    if (!w_.issuing || stopping_) co_return false;
    if (!co_await execute(s_.requests[i])) co_return false;
  }
  co_return true;
}

awaitable<void> ScenarioUser::run() {
  vars_.assign(s_.variables.size(), std::nullopt);
  vars_[0] = std::to_string(index_);
  bool started = cls_.on_start.empty();
  while (w_.issuing && !stopping_) {
    Clock::time_point t0 = Clock::now();
    did_io_ = false;
    bool ok;
    if (!started) {
      ok = started = co_await run_sequence(cls_.on_start);
      if (ok) continue;  // the first task runs right after on_start
    } else {
      ok = co_await run_sequence(cls_.tasks[pick_weighted(task_weights_, rng_)].requests);
    }
    if (!w_.issuing || stopping_) break;
    Nanos wait = wait_after(cls_.wait, rng_, Clock::now() - t0);
    // A task that failed before any I/O (a variable not set) must not spin: it backs off.
    if (!ok && !did_io_ && wait.count() == 0) {
      backoff_ = next_backoff(backoff_);
      wait = backoff_;
    }
    co_await sleep_for(wait);
  }
  client_.close();
  finished_ = true;
  w_.user_done(this);
}

}  // namespace

LoadEngine::LoadEngine(LoadOptions options) : options_(std::move(options)) {}
LoadEngine::~LoadEngine() = default;

LoadResult LoadEngine::run(const std::function<void(const SecondSample&)>& on_second) {
  LoadOptions& o = options_;
  o.connections = std::max(1u, o.connections);
  o.threads = std::clamp(o.threads, 1u, o.connections);

  // Each connection is a file descriptor: raise the soft limit when it is short, so -c 10000
  // works without the user tuning ulimit (what cannot be had shows as failures).
  raise_open_file_limit(uint64_t{o.connections} + 64);
  asio::io_context resolver_io;
  tcp::resolver resolver(resolver_io);
  std::error_code ec;
  auto endpoints = resolver.resolve(o.url.host, std::to_string(o.url.port), ec);
  if (ec || endpoints.empty())
    throw RuntimeError(fmt::format("cannot resolve '{}': {}", o.url.host, ec.message()));

  // Scenario users get their class by index, for the most users the run ever has.
  std::vector<unsigned> user_classes;
  if (o.scenario) user_classes = assign_user_classes(*o.scenario, o.connections);
  std::vector<Mailbox> mailboxes(o.threads);
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  const auto started_at = std::chrono::system_clock::now() + std::chrono::milliseconds(20);
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(o.duration);
  std::vector<std::unique_ptr<Worker>> workers;
  unsigned first = 0;
  for (unsigned t = 0; t < o.threads; ++t) {
    unsigned count = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, endpoints, start, deadline, first, count, t,
                                               o.threads, user_classes, mailboxes[t]));
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
    s.responses = interval.latency.count();
    s.p50_ms = interval.latency.value_at_percentile(50) / 1000.0;
    s.p95_ms = interval.latency.value_at_percentile(95) / 1000.0;
    s.p99_ms = interval.latency.value_at_percentile(99) / 1000.0;
    recent[recent_next] = interval.latency;
    recent_next = (recent_next + 1) % recent.size();
    window.reset();
    for (const auto& h : recent) window.merge(h);
    s.window_responses = window.count();
    for (size_t i = 0; i < kLocustPercentiles.size(); ++i)
      s.window_ms[i] = window.value_at_percentile(kLocustPercentiles[i]) / 1000.0;
    cumulative.merge(interval);
    s.total_requests = cumulative.requests;
    s.total_failures = cumulative.failures;
    s.total_body_bytes = cumulative.body_bytes;
    s.total_responses = cumulative.latency.count();
    s.total_p50_ms = cumulative.latency.value_at_percentile(50) / 1000.0;
    s.total_avg_ms = cumulative.latency.mean() / 1000.0;
    s.total_min_ms = cumulative.latency.min() / 1000.0;
    s.total_max_ms = cumulative.latency.max() / 1000.0;
    return s;
  };
  // One history row per second of the run: each whole second before the end is sampled a
  // little after the workers' tick (so their seconds have landed in the mailboxes); the last
  // one, whole or cut short by Ctrl-C, after the workers have ended, so it also holds what the
  // drain brought in. A row is never dropped for being empty (0 users at the end is data).
  Clock::time_point stopped_at = deadline;
  bool stop_sent = false;
  auto all_finished = [&] { return finished.load() == workers.size(); };
  auto poll_stop = [&] {
    if (!stop_sent && o.stop_requested && o.stop_requested->load()) {
      stop_sent = true;
      stopped_at = std::min(deadline, Clock::now());
      for (auto& w : workers) w->stop_now();
    }
  };
  for (int k = 1; start + k * kOneSecond < stopped_at && !all_finished(); ++k) {
    auto at = start + k * kOneSecond + std::chrono::milliseconds(50);
    while (Clock::now() < at && !all_finished()) {
      poll_stop();
      // Polls the interrupt flag (set by a signal handler) 20 times a second: often enough for
      // Ctrl-C, rarely enough not to add a wake-up per request at a thousand requests a second.
      std::this_thread::sleep_until(std::min(at, Clock::now() + std::chrono::milliseconds(50)));
    }
    if (start + k * kOneSecond >= stopped_at) break;  // interrupted within this second
    SecondSample s = collect(static_cast<double>(k));
    result.history.push_back(s);
    if (on_second) on_second(s);
  }
  while (!all_finished()) {  // the drain (Ctrl-C still shortens the sending part)
    poll_stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  const double end_t = std::chrono::duration<double>(std::max(stopped_at, start) - start).count();
  SecondSample last = collect(end_t);
  if (result.history.empty() || end_t > result.history.back().t) result.history.push_back(last);
  for (auto& w : workers) result.stats.merge(w->stats);
  result.elapsed = std::chrono::duration_cast<Nanos>(std::max(stopped_at, start) - start);
  result.interrupted = stop_sent;
  result.started_at = started_at;
  return result;
}

}  // namespace netres::load
