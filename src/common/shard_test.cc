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
