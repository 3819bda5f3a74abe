// FlowTable: a map from a normalised FlowKey (a flow, a host, a port or a protocol) to its
// counters, bounded (live captures: an LRU list evicts the least recently seen entry when full,
// and what evicted entries counted is kept in one "other" aggregate) or growing (files: every
// key keeps its row). Entries live in fixed-size chunks, so a reference to one stays valid while
// the table grows and growing never copies the rows already there.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "capture/packet_view.h"

namespace netres::capture {

// What one row of bandwidth stands for.
enum class Aggregation { kFlow, kHost, kPort, kProto };

// Endpoints are stored in a canonical order (`lo` sorts before `hi` by address, then port) so
// both directions of a conversation map to the same key. Host keys use `lo_addr` only, port
// keys `proto` and `lo_port`, protocol keys `proto` only; unused fields stay zero.
struct FlowKey {
  std::array<uint8_t, 16> lo_addr{};
  std::array<uint8_t, 16> hi_addr{};
  uint16_t lo_port = 0;
  uint16_t hi_port = 0;
  uint8_t version = 0;  // 4 or 6 for keys carrying addresses
  uint8_t proto = 0;    // IP protocol number
  bool operator==(const FlowKey&) const = default;
};

size_t hash_flow_key(const FlowKey& key);

// The flow key of an IP packet. `src_is_lo` tells whether the packet's source is the key's
// `lo` endpoint. Returns false for packets without an IP header.
bool make_flow_key(const PacketView& view, FlowKey& key, bool& src_is_lo);

// Bytes per whole second over the last kSeconds seconds, as a ring, so rates over 2, 10 and
// 40 s (iftop's windows) come from one fixed-size array per direction.
class RateHistory {
 public:
  static constexpr int kSeconds = 40;
  void add(int64_t second, uint64_t bytes);
  // Bytes in the `window` whole seconds before `now` (now-window .. now-1); the current
  // second is still filling, so it is left out.
  uint64_t sum(int64_t now, int window) const;

 private:
  std::array<uint32_t, kSeconds> bytes_{};
  int64_t last_second_ = INT64_MIN;
};

struct DirectionCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

class FlowTable;

struct FlowEntry {
  static constexpr uint32_t kNone = UINT32_MAX;

  FlowKey key;
  // Flow keys: [0] is A->B, [1] B->A. Host and port keys: [0] sent, [1] received.
  // Protocol keys: everything in [0].
  std::array<DirectionCounters, 2> counters{};
  bool a_is_lo = true;  // flow keys: whether endpoint A is the key's `lo`
  uint32_t hash_ = 0;   // low bits of hash_flow_key(key): rehashing and unlinking skip the hash
  int64_t first_second = 0, last_second = 0;
  // The busiest whole second so far, by bytes both ways.
  int64_t current_second = INT64_MIN;
  uint64_t current_bytes = 0;
  int64_t peak_second = 0;
  uint64_t peak_bytes = 0;

  uint64_t total_bytes() const { return counters[0].bytes + counters[1].bytes; }
  uint64_t total_packets() const { return counters[0].packets + counters[1].packets; }
  void count(int direction, int64_t second, uint64_t bytes);
  // Its slot in the table (stable while it lives; reused after an eviction), for side arrays.
  uint32_t slot() const { return index_; }

 private:
  friend class FlowTable;
  uint32_t lru_prev_ = kNone, lru_next_ = kNone, bucket_next_ = kNone;
  uint32_t index_ = kNone;  // its slot, for the parallel rate rings
};

class FlowTable {
 public:
  static constexpr size_t kUnbounded = 0;
  // At most `capacity` entries (kUnbounded: grows as keys arrive, nothing is evicted);
  // `keep_history` enables the per-second rate rings.
  FlowTable(size_t capacity, bool keep_history);

  // The entry for `key`, created (evicting the least recently used one when full) if needed,
  // and made the most recently used. `created` reports whether it is new (counters zero).
  FlowEntry& touch(const FlowKey& key, bool& created);
  const FlowEntry* find(const FlowKey& key) const;
  // The entry the next insertion into a full table would evict; null when empty or growing.
  const FlowEntry* least_recent() const;

  size_t size() const { return size_; }
  bool bounded() const { return capacity_ != kUnbounded; }
  size_t capacity() const { return capacity_; }  // kUnbounded when growing
  uint64_t evictions() const { return evictions_; }
  // The sum of the counters of every evicted entry ([0] and [1] as in FlowEntry), so the rows
  // plus this add up to everything the table counted.
  const std::array<DirectionCounters, 2>& evicted() const { return evicted_; }
  // Adds what another table evicted (a shard's results being merged into this one).
  void absorb_evicted(const std::array<DirectionCounters, 2>& counters, uint64_t entries);

  // Per-direction rate rings of an entry of this table; they live beside the entries, and only
  // when the table keeps history, so offline runs do not pay ~320 bytes per row for them.
  using History = std::array<RateHistory, 2>;
  const History* history(const FlowEntry& entry) const;
  // Counts `bytes` into the entry (and its rate ring when kept).
  void count(FlowEntry& entry, int direction, int64_t second, uint64_t bytes);

  // Visits entries: bounded, from the most to the least recently used; growing, in the order
  // they were created.
  template <typename F>
  void for_each(F&& f) const {
    if (!bounded()) {
      for (uint32_t i = 0; i < size_; ++i) f(at(i));
      return;
    }
    for (uint32_t i = lru_head_; i != FlowEntry::kNone; i = at(i).lru_next_) f(at(i));
  }

 private:
  static constexpr uint32_t kChunkBits = 12;  // 4096 entries (~600 KB) a chunk
  static constexpr uint32_t kChunk = 1u << kChunkBits;

  FlowEntry& at(uint32_t i) { return chunks_[i >> kChunkBits][i & (kChunk - 1)]; }
  const FlowEntry& at(uint32_t i) const { return chunks_[i >> kChunkBits][i & (kChunk - 1)]; }
  History& history_at(uint32_t i) { return histories_[i >> kChunkBits][i & (kChunk - 1)]; }
  uint32_t bucket_of(const FlowKey& key) const;
  uint32_t new_slot();
  void grow_buckets();
  void unlink_lru(uint32_t index);
  void push_front_lru(uint32_t index);
  void unlink_bucket(uint32_t index);

  size_t capacity_;
  bool keep_history_;
  std::vector<std::unique_ptr<FlowEntry[]>> chunks_;   // allocated as the table fills
  std::vector<std::unique_ptr<History[]>> histories_;  // parallel to chunks_ when keep_history_
  std::vector<uint32_t> buckets_;  // heads of per-bucket chains through bucket_next_
  uint32_t bucket_mask_ = 0;
  uint32_t lru_head_ = FlowEntry::kNone, lru_tail_ = FlowEntry::kNone;
  size_t size_ = 0;
  uint64_t evictions_ = 0;
  std::array<DirectionCounters, 2> evicted_{};
};

}  // namespace netres::capture
