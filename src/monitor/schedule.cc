// Spreading, jitter and the concurrency gate.
#include "monitor/schedule.h"

#include <algorithm>

namespace netres::monitor {

namespace {

// FNV-1a over the bytes, then a SplitMix64 finaliser: FNV alone leaves similar names
// ("web1", "web2") in nearby slots.
uint64_t mix(std::string_view key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

}  // namespace

Nanos spread_offset(std::string_view key, Nanos interval) {
  if (interval <= Nanos{0}) return Nanos{0};
  return Nanos(static_cast<int64_t>(mix(key) % static_cast<uint64_t>(interval.count())));
}

Nanos next_slot(Nanos now, Nanos interval, Nanos offset) {
  if (interval <= Nanos{0}) return now;
  // The slot at or after now: offset + k * interval.
  if (now <= offset) return offset;
  auto k = (now - offset + interval - Nanos{1}) / interval;
  return offset + k * interval;
}

Nanos round_jitter(uint64_t& state, Nanos jitter) {
  if (state == 0) state = 0x2545f4914f6cdd1dull;
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  if (jitter <= Nanos{0}) return Nanos{0};
  return Nanos(static_cast<int64_t>(state % static_cast<uint64_t>(jitter.count())));
}

void ConcurrencyGate::take(size_t target) {
  if (target >= per_target_count_.size()) per_target_count_.resize(target + 1, 0);
  ++per_target_count_[target];
  ++in_flight_;
}

bool ConcurrencyGate::try_acquire(size_t target) {
  // Waiters queued for the global cap go first; a newcomer may not jump them.
  if (!fits(target)) return false;
  for (const auto& w : waiters_)
    if (in_flight(w.target) < per_target_) return false;
  take(target);
  return true;
}

void ConcurrencyGate::wait(uint64_t id, size_t target) { waiters_.push_back({id, target}); }

bool ConcurrencyGate::forget(uint64_t id) {
  auto it =
      std::find_if(waiters_.begin(), waiters_.end(), [id](const Waiter& w) { return w.id == id; });
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  return true;
}

std::vector<uint64_t> ConcurrencyGate::release(size_t target) {
  if (target < per_target_count_.size() && per_target_count_[target] > 0) {
    --per_target_count_[target];
    --in_flight_;
  }
  std::vector<uint64_t> granted;
  for (auto it = waiters_.begin(); it != waiters_.end() && in_flight_ < global_;) {
    if (in_flight(it->target) < per_target_) {
      take(it->target);
      granted.push_back(it->id);
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  return granted;
}

}  // namespace netres::monitor
