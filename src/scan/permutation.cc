// Feistel permutation with cycle walking.
#include "scan/permutation.h"

namespace netres::scan {
namespace {

// splitmix64's finalizer: a cheap, well-mixed round function and key schedule.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

Permutation::Permutation(uint64_t size, uint64_t seed) : size_(size), half_bits_(1) {
  // Balanced halves keep each round's mixing strong; a power of four costs at most a factor of
  // four in cycle-walking steps on average, which is cheap next to a connect().
  while (half_bits_ < 32 && (uint64_t{1} << (2 * half_bits_)) < size) ++half_bits_;
  half_mask_ = (uint64_t{1} << half_bits_) - 1;
  uint64_t k = seed;
  for (auto& key : keys_) {
    k += 0x9e3779b97f4a7c15ULL;
    key = mix(k);
  }
}

uint64_t Permutation::encrypt(uint64_t x) const {
  uint64_t left = x >> half_bits_, right = x & half_mask_;
  for (uint64_t key : keys_) {
    uint64_t next = left ^ (mix(right ^ key) & half_mask_);
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

uint64_t Permutation::at(uint64_t i) const {
  // Cycle walking: a bijection on the larger domain, re-applied until it lands in [0, size),
  // is a bijection on [0, size). Ends because i itself is in range and the cycle through it is
  // finite.
  uint64_t x = encrypt(i);
  while (x >= size_) x = encrypt(x);
  return x;
}

}  // namespace netres::scan
