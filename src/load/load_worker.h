// The engine's insides, shared by its three files (not an interface: only load_engine.cc,
// quick_connection.cc and scenario_user.cc include it): the per-thread Worker, an io_context
// with its Connections (quick mode) or ScenarioUsers and their scheduler, the one-second tick
// that hands the interval to the reporting thread, and the deadline/drain.
#pragma once

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
#include "load/load_engine.h"
#include "load/scenario_runtime.h"

namespace netres::load::engine_internal {

using Clock = std::chrono::steady_clock;
using asio::awaitable;
using asio::ip::tcp;
inline constexpr auto kOneSecond = std::chrono::seconds(1);

inline uint64_t to_us(Clock::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<uint64_t>(us);
}

// Where a worker leaves its last second for the reporting thread: the only lock, once a second.
struct Mailbox {
  std::mutex mutex;
  IntervalStats interval;
  unsigned users = 0;  // the worker's live virtual users at its last tick
};

inline std::chrono::milliseconds next_backoff(std::chrono::milliseconds b) {
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
  // Writes the request and reads its response on the open connection; `answered` says whether
  // any byte of a response arrived (a request that got none may be sent again).
  awaitable<bool> exchange(const ScenarioRequest& r, const std::string& wire,
                           Clock::time_point deadline, std::string& reason, bool& answered);

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
         unsigned thread_index, const std::vector<int>& user_threads,
         const std::vector<unsigned>& user_classes, Mailbox& mailbox)
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
        user_threads_(user_threads),
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
    if (options.observer)
      options.observer->on_request(
          thread_index_, RequestEvent{id, s.method, s.name, true, latency, body_bytes, failure});
  }

  void record_failure(size_t id, const std::string& reason) {
    RequestStats& s = stats.requests[id];
    ++s.requests;
    ++s.failures;
    ++interval_.requests;
    ++interval_.failures;
    ++stats.failures[FailureKey{s.method, s.name, reason}];
    if (options.observer)
      options.observer->on_request(thread_index_,
                                   RequestEvent{id, s.method, s.name, false, 0, 0, reason});
  }

  // Thread-safe, for a UserControl run: starts user `index` of class `cls` on this worker's
  // thread, or stops it (after the request in flight).
  void post_start_user(unsigned index, unsigned cls) {
    asio::post(io, [this, index, cls] {
      if (issuing) start_user(index, cls);
    });
  }
  void post_stop_user(unsigned index) {
    asio::post(io, [this, index] { stop_user(index); });
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

  // Whether scenario user `index` is this thread's (and this shard's) to run.
  bool mine(unsigned index) const {
    return index < user_threads_.size() && user_threads_[index] == static_cast<int>(thread_index_);
  }

  void start_user(unsigned index) { start_user(index, user_classes_[index]); }

  void start_user(unsigned index, unsigned class_index) {
    // Sweep finished users only when there are some: scanning every started user on every start
    // made spawning n users O(n^2).
    if (finished_users_ > 0) {
      std::erase_if(users_, [](const auto& u) { return u->finished(); });
      finished_users_ = 0;
    }
    const UserClass& cls = scenario->classes[class_index];
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

  // Starts and stops this thread's users (mine()) as the job's live count changes; users stop
  // newest first.
  awaitable<void> schedule() {
    if (options.control) {  // the engine's thread starts and stops users (post_start_user)
      schedule_timer_.expires_at(deadline);
      std::error_code ec;
      co_await schedule_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      coroutine_done();
      co_return;
    }
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

  const unsigned thread_index_;
  const std::vector<int>& user_threads_;       // thread of each scenario user, -1: another shard's
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

}  // namespace netres::load::engine_internal
