// FlowTable internals: intrusive hash chains and LRU list over one preallocated entry array.
#include "capture/flow_table.h"

#include <algorithm>
#include <cstring>

namespace netres::capture {
namespace {

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Orders endpoints (address, then port) so both directions agree on which one is `lo`.
bool endpoint_less(const IpAddress& a, uint16_t a_port, const IpAddress& b, uint16_t b_port) {
  int c = std::memcmp(a.bytes.data(), b.bytes.data(), 16);
  if (c != 0) return c < 0;
  return a_port <= b_port;
}

}  // namespace

size_t hash_flow_key(const FlowKey& k) {
  uint64_t h = 0xcbf29ce484222325ull;
  h = mix(h, load64(k.lo_addr.data()));
  h = mix(h, load64(k.lo_addr.data() + 8));
  h = mix(h, load64(k.hi_addr.data()));
  h = mix(h, load64(k.hi_addr.data() + 8));
  h = mix(h, (uint64_t{k.lo_port} << 32) | (uint64_t{k.hi_port} << 16) |
                 (uint64_t{k.version} << 8) | k.proto);
  // Final avalanche (splitmix64) so the low bits used for the bucket depend on every field.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<size_t>(h);
}

bool make_flow_key(const PacketView& view, FlowKey& key, bool& src_is_lo) {
  if (!view.is_ip()) return false;
  key = FlowKey{};
  key.version = view.src.version;
  key.proto = view.ip_protocol;
  uint16_t sport = 0, dport = 0;
  if (view.has_ports()) {
    sport = view.src_port();
    dport = view.dst_port();
  }
  src_is_lo = endpoint_less(view.src, sport, view.dst, dport);
  const IpAddress& lo = src_is_lo ? view.src : view.dst;
  const IpAddress& hi = src_is_lo ? view.dst : view.src;
  key.lo_addr = lo.bytes;
  key.hi_addr = hi.bytes;
  key.lo_port = src_is_lo ? sport : dport;
  key.hi_port = src_is_lo ? dport : sport;
  return true;
}

void RateHistory::add(int64_t second, uint64_t bytes) {
  if (second > last_second_) {
    // Seconds skipped since the last packet had no traffic: zero their slots.
    int64_t gap = last_second_ == INT64_MIN ? kSeconds : second - last_second_;
    for (int64_t i = 0; i < std::min<int64_t>(gap, kSeconds); ++i) {
      bytes_[static_cast<size_t>(((second - i) % kSeconds + kSeconds) % kSeconds)] = 0;
    }
    last_second_ = second;
  } else if (second <= last_second_ - kSeconds) {
    return;  // older than the ring remembers
  }
  auto& slot = bytes_[static_cast<size_t>((second % kSeconds + kSeconds) % kSeconds)];
  uint64_t sum = uint64_t{slot} + bytes;
  slot = sum > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(sum);
}

uint64_t RateHistory::sum(int64_t now, int window) const {
  if (last_second_ == INT64_MIN) return 0;
  uint64_t total = 0;
  for (int64_t s = now - window; s < now; ++s) {
    if (s > last_second_ || s <= last_second_ - kSeconds) continue;
    total += bytes_[static_cast<size_t>((s % kSeconds + kSeconds) % kSeconds)];
  }
  return total;
}

void FlowEntry::count(int direction, int64_t second, uint64_t bytes) {
  auto& c = counters[static_cast<size_t>(direction)];
  ++c.packets;
  c.bytes += bytes;
  last_second = std::max(last_second, second);
  if (second != current_second) {
    current_second = second;
    current_bytes = 0;
  }
  current_bytes += bytes;
  if (current_bytes > peak_bytes) {
    peak_bytes = current_bytes;
    peak_second = second;
  }
}

FlowTable::FlowTable(size_t capacity, bool keep_history)
    : capacity_(std::max<size_t>(capacity, 1)), keep_history_(keep_history) {
  entries_.reserve(capacity_);
  if (keep_history_) histories_.reserve(capacity_);
  size_t buckets = 16;
  while (buckets < capacity_ * 2) buckets <<= 1;
  buckets_.assign(buckets, FlowEntry::kNone);
  bucket_mask_ = static_cast<uint32_t>(buckets - 1);
}

uint32_t FlowTable::bucket_of(const FlowKey& key) const {
  return static_cast<uint32_t>(hash_flow_key(key)) & bucket_mask_;
}

void FlowTable::unlink_lru(uint32_t i) {
  FlowEntry& e = entries_[i];
  if (e.lru_prev_ != FlowEntry::kNone)
    entries_[e.lru_prev_].lru_next_ = e.lru_next_;
  else
    lru_head_ = e.lru_next_;
  if (e.lru_next_ != FlowEntry::kNone)
    entries_[e.lru_next_].lru_prev_ = e.lru_prev_;
  else
    lru_tail_ = e.lru_prev_;
  e.lru_prev_ = e.lru_next_ = FlowEntry::kNone;
}

void FlowTable::push_front_lru(uint32_t i) {
  FlowEntry& e = entries_[i];
  e.lru_prev_ = FlowEntry::kNone;
  e.lru_next_ = lru_head_;
  if (lru_head_ != FlowEntry::kNone) entries_[lru_head_].lru_prev_ = i;
  lru_head_ = i;
  if (lru_tail_ == FlowEntry::kNone) lru_tail_ = i;
}

void FlowTable::unlink_bucket(uint32_t i) {
  // Chains are short (load factor <= 1/2), so walking one is O(1) on average.
  uint32_t* link = &buckets_[bucket_of(entries_[i].key)];
  while (*link != i) link = &entries_[*link].bucket_next_;
  *link = entries_[i].bucket_next_;
}

const FlowEntry* FlowTable::find(const FlowKey& key) const {
  for (uint32_t i = buckets_[bucket_of(key)]; i != FlowEntry::kNone; i = entries_[i].bucket_next_)
    if (entries_[i].key == key) return &entries_[i];
  return nullptr;
}

const FlowTable::History* FlowTable::history(const FlowEntry& entry) const {
  if (!keep_history_) return nullptr;
  return &histories_[static_cast<size_t>(&entry - entries_.data())];
}

void FlowTable::count(FlowEntry& entry, int direction, int64_t second, uint64_t bytes) {
  entry.count(direction, second, bytes);
  if (keep_history_) {
    histories_[static_cast<size_t>(&entry - entries_.data())][static_cast<size_t>(direction)].add(
        second, bytes);
  }
}

const FlowEntry* FlowTable::least_recent() const {
  return lru_tail_ == FlowEntry::kNone ? nullptr : &entries_[lru_tail_];
}

FlowEntry& FlowTable::touch(const FlowKey& key, bool& created) {
  uint32_t bucket = bucket_of(key);
  for (uint32_t i = buckets_[bucket]; i != FlowEntry::kNone; i = entries_[i].bucket_next_) {
    if (entries_[i].key == key) {
      if (i != lru_head_) {
        unlink_lru(i);
        push_front_lru(i);
      }
      created = false;
      return entries_[i];
    }
  }
  uint32_t index;
  if (entries_.size() < capacity_) {
    index = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
    if (keep_history_) histories_.emplace_back();
    ++size_;
  } else {
    index = lru_tail_;
    unlink_lru(index);
    unlink_bucket(index);
    entries_[index] = FlowEntry{};
    if (keep_history_) histories_[index] = History{};
    ++evictions_;
  }
  FlowEntry& e = entries_[index];
  e.key = key;
  e.bucket_next_ = buckets_[bucket];
  buckets_[bucket] = index;
  push_front_lru(index);
  created = true;
  return e;
}

}  // namespace netres::capture
