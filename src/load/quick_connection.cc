// Quick mode's connection: one keep-alive connection repeating its user's request, pipelined or
// on the open model's schedule, reconnecting with backoff.
#include "load/load_worker.h"

namespace netres::load::engine_internal {

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

}  // namespace netres::load::engine_internal
