// The resolver's pacing, kept apart from its query bookkeeping: each server's round-trip
// estimate and retransmission timeout (RFC 6298: smoothed RTT and variance, a floor of a few
// milliseconds, --timeout as the cap, doubling after losses), and the congestion window that
// holds the number of queries in flight below what the servers can take.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>

#include "common/duration.h"

namespace netres::resolve {

using SteadyTime = std::chrono::steady_clock::time_point;

// The retransmission timeout never goes below this: on loopback the RTT is tens of microseconds,
// but a busy server's queue or a loaded machine's scheduler adds milliseconds of jitter, and a
// resend that beats the answer only doubles the load.
inline constexpr Nanos kMinRto = std::chrono::milliseconds(10);
// Before the first answer from a server we know nothing of its RTT: RFC 6298's 1 s, or less when
// --timeout is lower.
inline constexpr Nanos kInitialRto = std::chrono::seconds(1);
inline constexpr Nanos kClockGranularity = std::chrono::milliseconds(1);
// The window is never cut below this (or below --concurrency when that is smaller).
inline constexpr size_t kMinWindow = 8;

// One server's RTT estimate (RFC 6298 state, in seconds) and the back-off of its timeout.
struct RttEstimate {
  bool have_rtt = false;
  double srtt = 0;
  double rttvar = 0;
  int backoff = 0;  // doublings of the RTO since the last fresh sample
  SteadyTime last_backoff{};

  // The retransmission timeout, at most `cap` (--timeout).
  Nanos rto(Nanos cap) const {
    Nanos base;
    if (!have_rtt) {
      base = std::min(cap, kInitialRto);
    } else {
      // RFC 6298's srtt + 4 x rttvar, but at least 1.5 x srtt: a server whose answers queue up
      // behind a thousand others has a steady RTT (small variance) that still jumps when it
      // stalls for a moment, and every spurious resend adds to its queue.
      double seconds = std::max(
          srtt + std::max(4 * rttvar, std::chrono::duration<double>(kClockGranularity).count()),
          1.5 * srtt);
      base = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(seconds));
      base = std::clamp(base, std::min(kMinRto, cap), cap);
    }
    for (int i = 0; i < backoff && base < cap; ++i) base *= 2;
    return std::min(base, cap);
  }

  // A measured round trip: the estimate moves towards it and the back-off is forgotten.
  void sample(Nanos rtt) {
    double r = std::chrono::duration<double>(rtt).count();
    if (!have_rtt) {
      srtt = r;
      rttvar = r / 2;
      have_rtt = true;
    } else {
      rttvar = 0.75 * rttvar + 0.25 * std::abs(srtt - r);
      srtt = 0.875 * srtt + 0.125 * r;
    }
    backoff = 0;
  }

  // A timeout at `now` with `current_rto` in force. One back-off per RTO period: the losses of
  // one overflowed burst all expire together.
  void back_off(SteadyTime now, Nanos current_rto) {
    if (now - last_backoff >= current_rto) {
      last_backoff = now;
      if (backoff < 16) ++backoff;
    }
  }
};

// One send's wait: the server's RTO, doubled for each earlier round over the `servers`, at most
// `cap`. With one try there is no resend to make early, so the one send waits the whole `cap`.
// `sends` counts this send (1 for the first).
inline Nanos attempt_timeout(const RttEstimate& rtt, Nanos cap, int tries, int sends,
                             size_t servers) {
  if (tries == 1) return cap;
  Nanos t = rtt.rto(cap);
  int rounds = (sends - 1) / static_cast<int>(std::max<size_t>(servers, 1));
  for (int i = 0; i < rounds && t < cap; ++i) t *= 2;
  return std::min(t, cap);
}

// Congestion control, shared by all servers (in practice one server takes the load): slow start
// from initial_window() doubling per round trip up to the threshold, then one more per window of
// answers; on a loss event both halve. A loss only counts as congestion while the server still
// answers: against a dead server every query times out and shrinking the window would only
// stretch the run.
class CongestionWindow {
 public:
  // A fresh run with at most `limit` (--concurrency) in flight.
  void reset(size_t limit) {
    limit_ = limit;
    cwnd_ = static_cast<double>(initial_window());
    ssthresh_ = static_cast<double>(limit);
    answers_since_cut_ = 0;
    can_undo_ = false;
    last_cut_ = SteadyTime{};
  }
  size_t initial_window() const { return std::min(limit_, std::max<size_t>(64, limit_ / 4)); }
  // How many queries may be in flight now.
  size_t window() const {
    return std::min(limit_, std::max<size_t>(1, static_cast<size_t>(cwnd_)));
  }

  void on_answer() {
    ++answers_since_cut_;
    if (cwnd_ < ssthresh_)
      cwnd_ += 1;
    else
      cwnd_ += 1 / cwnd_;
    cwnd_ = std::min(cwnd_, static_cast<double>(limit_));
  }

  // A timeout at `now`. At most one cut per `rto`, and only after an answer since the last one.
  // Returns whether the window was cut.
  bool on_loss(SteadyTime now, Nanos rto) {
    if (answers_since_cut_ == 0 || now - last_cut_ < rto) return false;
    last_cut_ = now;
    answers_since_cut_ = 0;
    can_undo_ = true;
    undo_cwnd_ = cwnd_;
    undo_ssthresh_ = ssthresh_;
    ssthresh_ = std::max<double>(std::min(kMinWindow, limit_), cwnd_ / 2);
    cwnd_ = ssthresh_;
    return true;
  }

  // The last cut proved spurious (the "lost" query's answer turned up after all, just late: a
  // stalled server, not an overflowing one): the window before it comes back.
  void undo_cut() {
    if (!can_undo_) return;
    can_undo_ = false;
    cwnd_ = std::max(cwnd_, undo_cwnd_);
    ssthresh_ = std::max(ssthresh_, undo_ssthresh_);
  }

 private:
  size_t limit_ = 1;
  double cwnd_ = 1;
  double ssthresh_ = 1;
  size_t answers_since_cut_ = 0;
  bool can_undo_ = false;
  double undo_cwnd_ = 0;
  double undo_ssthresh_ = 0;
  SteadyTime last_cut_{};
};

}  // namespace netres::resolve
