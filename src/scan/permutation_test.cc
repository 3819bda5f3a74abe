// The scan order: a bijection for every size, seeded, spread out, and shardable.
#include "scan/permutation.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/shard.h"

using netres::scan::Permutation;

namespace {

void expect_bijection(uint64_t size, uint64_t seed) {
  Permutation p(size, seed);
  std::vector<bool> seen(size, false);
  for (uint64_t i = 0; i < size; ++i) {
    uint64_t x = p.at(i);
    ASSERT_LT(x, size) << "size " << size;
    ASSERT_FALSE(seen[x]) << "size " << size << " repeats " << x;
    seen[x] = true;
  }
}

}  // namespace

TEST(Permutation, VisitsEveryElementOnceForOddSizes) {
  for (uint64_t size : {1, 2, 3, 4, 5, 7, 15, 16, 17, 255, 1000, 65535, 1000003})
    for (uint64_t seed : {0, 1, 42}) expect_bijection(size, seed);
}

TEST(Permutation, SeedChangesOrderAndIsDeterministic) {
  Permutation a(1000, 1), b(1000, 1), c(1000, 2);
  int same = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(a.at(i), b.at(i));
    same += a.at(i) == c.at(i);
  }
  EXPECT_LT(same, 50);
}

TEST(Permutation, SpreadsNeighbours) {
  // Consecutive positions should not map to consecutive elements (no bursts on one host).
  Permutation p(65535 * 4, 7);
  int adjacent = 0;
  for (uint64_t i = 0; i + 1 < 10000; ++i) {
    uint64_t a = p.at(i), b = p.at(i + 1);
    adjacent += (a > b ? a - b : b - a) < 4;
  }
  EXPECT_LT(adjacent, 10);
}

TEST(Permutation, LargeDomainsStayInRange) {
  for (uint64_t size : {uint64_t{1} << 40, (uint64_t{1} << 40) + 12345, ~uint64_t{0} >> 1}) {
    Permutation p(size, 3);
    for (uint64_t i = 0; i < 1000; ++i) EXPECT_LT(p.at(size - 1 - i), size);
  }
}

TEST(Permutation, ShardsTogetherCoverEveryPairOnce) {
  for (uint64_t size : {1, 2, 3, 7, 1000, 4099})
    for (uint64_t n : {1, 2, 3, 4, 5}) {
      Permutation p(size, 9);
      std::vector<int> hits(size, 0);
      for (uint64_t k = 1; k <= n; ++k) {
        netres::Shard s{k, n};
        for (uint64_t j = 0; j < s.share_of(size); ++j) ++hits[p.at(s.first() + j * s.stride())];
      }
      for (uint64_t x = 0; x < size; ++x) ASSERT_EQ(hits[x], 1) << size << " " << n << " " << x;
    }
}
