// A seeded random permutation of [0, size): a keyed Feistel network over the next power of
// four, with cycle walking. O(1) memory, so it serves scans of billions of (host, port) pairs.
#pragma once

#include <array>
#include <cstdint>

namespace netres::scan {

class Permutation {
 public:
  Permutation(uint64_t size, uint64_t seed);

  uint64_t size() const { return size_; }
  // The element at position `i` (< size). Distinct positions give distinct elements.
  uint64_t at(uint64_t i) const;

 private:
  uint64_t encrypt(uint64_t x) const;

  static constexpr int kRounds = 4;
  uint64_t size_;
  int half_bits_;  // the Feistel domain is 2^(2 * half_bits_) >= size_
  uint64_t half_mask_;
  std::array<uint64_t, kRounds> keys_;
};

}  // namespace netres::scan
