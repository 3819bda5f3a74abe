// Shards: "K/N" picks the K-th of N disjoint shares of a job so N machines can split it.
#pragma once

#include <cstdint>
#include <string_view>

namespace netres {

struct Shard {
  uint64_t index = 1;  // K, 1-based as users write it
  uint64_t count = 1;  // N

  // Whether position `i` of a sequence belongs to this shard (positions i with i mod N == K-1).
  bool owns(uint64_t i) const { return i % count == index - 1; }
  // The first position this shard owns, and the stride between its positions.
  uint64_t first() const { return index - 1; }
  uint64_t stride() const { return count; }
  // How many of the positions [0, total) this shard owns.
  uint64_t share_of(uint64_t total) const {
    return total > first() ? (total - first() + count - 1) / count : 0;
  }
  // This shard's part of a quantity split into N contiguous parts that sum to `total` and differ
  // by at most one (users, connections, names in input order): [begin_of(total), begin_of(total)
  // + portion(total)). Shard K starts at floor(total*(K-1)/N).
  uint64_t begin_of(uint64_t total) const { return scaled(total, index - 1); }
  uint64_t portion(uint64_t total) const { return scaled(total, index) - scaled(total, index - 1); }

 private:
  uint64_t scaled(uint64_t total, uint64_t k) const {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(total) * k / count);
  }
};

// Parses "K/N" with 1 <= K <= N <= 2^32. Throws UsageError naming `what` (e.g. "--shard").
Shard parse_shard(std::string_view text, std::string_view what = "shard");

}  // namespace netres
