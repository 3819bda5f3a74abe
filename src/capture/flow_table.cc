// FlowTable internals: intrusive hash chains and LRU list over one preallocated entry array.
#include "capture/flow_table.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

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
  // An IP header cut before its addresses has no key (src.version stays 0 then).
  if (!view.is_ip() || view.src.version == 0 || view.dst.version == 0) return false;
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
    : capacity_(capacity), keep_history_(keep_history) {
  // A bounded table gets its buckets once (load factor <= 1/2 when full); a growing one starts
  // small and doubles them in grow_buckets().
  size_t buckets = 16;
  if (bounded())
    while (buckets < capacity_ * 2) buckets <<= 1;
  buckets_.assign(buckets, FlowEntry::kNone);
  bucket_mask_ = static_cast<uint32_t>(buckets - 1);
}

uint32_t FlowTable::bucket_of(const FlowKey& key) const {
  return static_cast<uint32_t>(hash_flow_key(key)) & bucket_mask_;
}

void FlowTable::unlink_lru(uint32_t i) {
  FlowEntry& e = at(i);
  if (e.lru_prev_ != FlowEntry::kNone)
    at(e.lru_prev_).lru_next_ = e.lru_next_;
  else
    lru_head_ = e.lru_next_;
  if (e.lru_next_ != FlowEntry::kNone)
    at(e.lru_next_).lru_prev_ = e.lru_prev_;
  else
    lru_tail_ = e.lru_prev_;
  e.lru_prev_ = e.lru_next_ = FlowEntry::kNone;
}

void FlowTable::push_front_lru(uint32_t i) {
  FlowEntry& e = at(i);
  e.lru_prev_ = FlowEntry::kNone;
  e.lru_next_ = lru_head_;
  if (lru_head_ != FlowEntry::kNone) at(lru_head_).lru_prev_ = i;
  lru_head_ = i;
  if (lru_tail_ == FlowEntry::kNone) lru_tail_ = i;
}

void FlowTable::unlink_bucket(uint32_t i) {
  // Chains are short (load factor <= 1/2), so walking one is O(1) on average.
  uint32_t* link = &buckets_[at(i).hash_ & bucket_mask_];
  while (*link != i) link = &at(*link).bucket_next_;
  *link = at(i).bucket_next_;
}

void FlowTable::grow_buckets() {
  size_t buckets = buckets_.size() * 2;
  buckets_.assign(buckets, FlowEntry::kNone);
  bucket_mask_ = static_cast<uint32_t>(buckets - 1);
  for (uint32_t i = 0; i < size_; ++i) {
    FlowEntry& e = at(i);
    uint32_t& head = buckets_[e.hash_ & bucket_mask_];
    e.bucket_next_ = head;
    head = i;
  }
}

const FlowEntry* FlowTable::find(const FlowKey& key) const {
  for (uint32_t i = buckets_[bucket_of(key)]; i != FlowEntry::kNone; i = at(i).bucket_next_)
    if (at(i).key == key) return &at(i);
  return nullptr;
}

const FlowTable::History* FlowTable::history(const FlowEntry& entry) const {
  if (!keep_history_) return nullptr;
  return &histories_[entry.index_ >> kChunkBits][entry.index_ & (kChunk - 1)];
}

void FlowTable::count(FlowEntry& entry, int direction, int64_t second, uint64_t bytes) {
  entry.count(direction, second, bytes);
  if (keep_history_) history_at(entry.index_)[static_cast<size_t>(direction)].add(second, bytes);
}

const FlowEntry* FlowTable::least_recent() const {
  return lru_tail_ == FlowEntry::kNone ? nullptr : &at(lru_tail_);
}

// A fresh slot: the next unused one (allocating a chunk when the last is full), or, in a full
// bounded table, the least recently used entry, whose counters go to the evicted aggregate.
uint32_t FlowTable::new_slot() {
  if (!bounded() || size_ < capacity_) {
    if (size_ >= FlowEntry::kNone - 1) throw std::length_error("flow table: too many entries");
    auto index = static_cast<uint32_t>(size_);
    if ((index & (kChunk - 1)) == 0) {
      // A small bounded table does not need a whole chunk.
      size_t n = bounded() ? std::min<size_t>(kChunk, capacity_ - size_) : kChunk;
      chunks_.emplace_back(new FlowEntry[n]);
      if (keep_history_) histories_.emplace_back(new History[n]);
    }
    ++size_;
    if (!bounded() && size_ * 2 > buckets_.size()) grow_buckets();
    return index;
  }
  uint32_t index = lru_tail_;
  FlowEntry& old = at(index);
  for (size_t d = 0; d < 2; ++d) {
    evicted_[d].packets += old.counters[d].packets;
    evicted_[d].bytes += old.counters[d].bytes;
  }
  unlink_lru(index);
  unlink_bucket(index);
  old = FlowEntry{};
  if (keep_history_) history_at(index) = History{};
  ++evictions_;
  return index;
}

FlowEntry& FlowTable::touch(const FlowKey& key, bool& created) {
  const auto hash = static_cast<uint32_t>(hash_flow_key(key));
  for (uint32_t i = buckets_[hash & bucket_mask_]; i != FlowEntry::kNone; i = at(i).bucket_next_) {
    if (at(i).key == key) {
      // A growing table never evicts, so it keeps no recency order (saves two cache misses).
      if (bounded() && i != lru_head_) {
        unlink_lru(i);
        push_front_lru(i);
      }
      created = false;
      return at(i);
    }
  }
  uint32_t index = new_slot();  // may grow the buckets: the chain head is looked up after
  FlowEntry& e = at(index);
  e.key = key;
  e.hash_ = hash;
  e.index_ = index;
  uint32_t& head = buckets_[hash & bucket_mask_];
  e.bucket_next_ = head;
  head = index;
  if (bounded()) push_front_lru(index);
  created = true;
  return e;
}

void FlowTable::absorb_evicted(const std::array<DirectionCounters, 2>& counters, uint64_t entries) {
  for (size_t d = 0; d < 2; ++d) {
    evicted_[d].packets += counters[d].packets;
    evicted_[d].bytes += counters[d].bytes;
  }
  evictions_ += entries;
}

}  // namespace netres::capture
