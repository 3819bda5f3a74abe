// Scenario mode's virtual user: its class's on_start, then weighted tasks with wait times, over
// its own keep-alive connection, until the deadline or until a stage stops it.
#include "load/load_worker.h"

namespace netres::load::engine_internal {

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

awaitable<bool> ScenarioUser::exchange(const ScenarioRequest& r, const std::string& wire,
                                       Clock::time_point deadline, std::string& reason,
                                       bool& answered) {
  client_.begin(deadline);
  std::error_code ec;
  co_await client_.write(wire, ec);
  if (ec) {
    reason = reason_of(ec);
    answered = false;
    co_return false;
  }
  const bool ok = co_await client_.read_response(r.head, r.capture, reason);
  answered = client_.response_started();
  co_return ok;
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
  const bool reused = client_.is_open();
  if (!reused) {
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
  const Clock::time_point deadline =
      sent + std::chrono::duration_cast<Clock::duration>(r.timeout.value_or(w_.options.timeout));
  std::string reason;
  bool answered = false;
  bool ok = co_await exchange(r, *wire, deadline, reason, answered);
  bool timed_out = client_.end();
  // A server may close a kept-alive connection just as a request goes out on it (its keep-alive
  // timeout or request limit, a load balancer's idle timeout): an idempotent request that got no
  // byte of response is sent again, once, on a new connection (RFC 9110 9.2.2), as browsers and
  // locust's HTTP clients do. The latency still counts from the first send. A request sent before
  // the deadline is still in flight during the drain after it, so it may be sent again then.
  if (!ok && reused && !answered && !timed_out && r.idempotent && !w_.draining_over) {
    client_.close();
    ++w_.stats.retried;
    reason = co_await client_.open();
    if (reason.empty()) {
      ok = co_await exchange(r, *wire, deadline, reason, answered);
      timed_out = client_.end();
    } else if (!w_.issuing) {
      ++w_.stats.cancelled;  // the deadline abandoned the new connection: nothing was resent
      co_return false;
    }
  }
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

}  // namespace netres::load::engine_internal
