// Scheduling logic without I/O: where in the interval each probe runs (spread by a stable hash,
// so thousands of targets never fire at once and keep their slot across reloads), per-round
// jitter, and the concurrency gate (a global cap and a per-target cap, FIFO waiters).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "common/duration.h"

namespace netres::monitor {

// The probe's phase in [0, interval): a 64-bit mix of `key` (target and check names), so the
// offsets of many keys are spread uniformly and one key keeps its offset across reloads.
Nanos spread_offset(std::string_view key, Nanos interval);

// The first time >= `now` (both since the steady clock's epoch) that is `offset` past a multiple
// of `interval`: the probe's next slot. Rounds missed while a probe ran long are skipped.
Nanos next_slot(Nanos now, Nanos interval, Nanos offset);

// A jitter in [0, jitter) for one round, from a caller-owned xorshift state (never zero).
Nanos round_jitter(uint64_t& state, Nanos jitter);

// At most `global` probes in flight, at most `per_target` against one target. A probe that
// cannot start waits in FIFO order; release() hands the freed slot to the first waiter that
// fits (a waiter blocked only by its own target's cap does not hold up the others).
class ConcurrencyGate {
 public:
  ConcurrencyGate(size_t global, size_t per_target) : global_(global), per_target_(per_target) {}

  // Takes a slot for `target` if one is free, and there is no earlier waiter it would overtake
  // for the global cap.
  bool try_acquire(size_t target);
  // Queues waiter `id` for `target` (after try_acquire failed).
  void wait(uint64_t id, size_t target);
  // Drops a queued waiter (its probe was cancelled); false if it was not queued.
  bool forget(uint64_t id);
  // Frees a slot of `target`; returns the waiters granted a slot (already counted in flight).
  std::vector<uint64_t> release(size_t target);

  size_t in_flight() const { return in_flight_; }
  size_t in_flight(size_t target) const {
    return target < per_target_count_.size() ? per_target_count_[target] : 0;
  }
  size_t waiting() const { return waiters_.size(); }

 private:
  bool fits(size_t target) const { return in_flight_ < global_ && in_flight(target) < per_target_; }
  void take(size_t target);

  struct Waiter {
    uint64_t id;
    size_t target;
  };
  size_t global_, per_target_;
  size_t in_flight_ = 0;
  std::vector<size_t> per_target_count_;
  std::deque<Waiter> waiters_;
};

}  // namespace netres::monitor
