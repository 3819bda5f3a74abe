// Shard specs: parsing and the guarantee that N shards are disjoint and cover everything.
#include "common/shard.h"

#include <gtest/gtest.h>

#include "common/error.h"

using netres::parse_shard;

TEST(Shard, Parse) {
  auto s = parse_shard("3/4");
  EXPECT_EQ(s.index, 3u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(parse_shard("1/1").count, 1u);
  for (const char* bad : {"0/4", "5/4", "x/y", "1/0", "0/0", "/4", "1/", "1", "-1/4", "1/4/2",
                          "1.5/4", "1/99999999999", " 1/4", ""}) {
    EXPECT_THROW(parse_shard(bad, "--shard"), netres::UsageError) << bad;
  }
}

TEST(Shard, SharesAreDisjointAndCover) {
  for (uint64_t n : {1, 2, 3, 4, 7}) {
    for (uint64_t total : {0, 1, 2, 5, 100, 1001}) {
      std::vector<int> owners(total, 0);
      uint64_t sum = 0;
      for (uint64_t k = 1; k <= n; ++k) {
        netres::Shard s{k, n};
        uint64_t mine = 0;
        for (uint64_t i = s.first(); i < total; i += s.stride()) {
          EXPECT_TRUE(s.owns(i));
          ++owners[i];
          ++mine;
        }
        EXPECT_EQ(mine, s.share_of(total)) << k << "/" << n << " of " << total;
        sum += mine;
      }
      EXPECT_EQ(sum, total);
      for (int o : owners) EXPECT_EQ(o, 1);
    }
  }
}

TEST(Shard, ContiguousPortionsSumToTotal) {
  for (uint64_t n : {1, 2, 3, 4, 7, 10}) {
    for (uint64_t total : {0, 1, 2, 5, 10, 11, 100, 1001}) {
      uint64_t next = 0, sum = 0;
      for (uint64_t k = 1; k <= n; ++k) {
        netres::Shard s{k, n};
        EXPECT_EQ(s.begin_of(total), next) << k << "/" << n << " of " << total;
        uint64_t p = s.portion(total);
        EXPECT_LE(p, total / n + 1);
        EXPECT_GE(p, total / n);
        next += p;
        sum += p;
      }
      EXPECT_EQ(sum, total);
    }
  }
  // No overflow for large totals and N up to 2^32.
  netres::Shard last{uint64_t{1} << 32, uint64_t{1} << 32};
  EXPECT_EQ(last.begin_of(UINT64_MAX) + last.portion(UINT64_MAX), UINT64_MAX);
}
