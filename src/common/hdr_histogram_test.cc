#include "common/hdr_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

using netres::HdrHistogram;

TEST(HdrHistogram, EmptyIsZero) {
  HdrHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.value_at_percentile(99), 0u);
  EXPECT_TRUE(h.buckets().empty());
}

TEST(HdrHistogram, SmallValuesAreExact) {
  HdrHistogram h(100000);
  for (uint64_t v = 1; v <= 1000; ++v) h.record(v);
  EXPECT_EQ(h.value_at_percentile(50), 500u);
  EXPECT_EQ(h.value_at_percentile(99), 990u);
  EXPECT_EQ(h.value_at_percentile(100), 1000u);
  EXPECT_EQ(h.value_at_percentile(0), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 500.5);
}

// Against the exact order statistic of random data over six decades: within 1/1024.
TEST(HdrHistogram, PercentilesKeepThreeSignificantDigits) {
  HdrHistogram h(60'000'000);
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values;
  for (int i = 0; i < 200000; ++i) {
    double e = std::uniform_real_distribution<double>(0, 7.5)(rng);
    values.push_back(static_cast<uint64_t>(std::pow(10.0, e)));
  }
  for (uint64_t v : values) h.record(v);
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    uint64_t exact = values[static_cast<size_t>(std::ceil(p / 100 * values.size())) - 1];
    uint64_t got = h.value_at_percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(static_cast<double>(got), exact * (1 + 1.0 / 1024) + 1) << p;
  }
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
}

TEST(HdrHistogram, MergeEqualsRecordingEverythingInOne) {
  HdrHistogram a, b, all;
  for (uint64_t v = 0; v < 50000; v += 7) {
    (v % 2 ? a : b).record(v * 13);
    all.record(v * 13);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double p : {50.0, 90.0, 99.0, 99.9})
    EXPECT_EQ(a.value_at_percentile(p), all.value_at_percentile(p));
  EXPECT_EQ(a.buckets().size(), all.buckets().size());
}

TEST(HdrHistogram, MergeRejectsDifferentRanges) {
  HdrHistogram a(1000), b(2000);
  EXPECT_THROW(a.merge(b), std::invalid_argument);
}

TEST(HdrHistogram, ValuesAboveMaxAreClampedAndCounted) {
  HdrHistogram h(1'000'000);
  h.record(5);
  h.record(5'000'000'000ull, 3);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.clamped(), 3u);
  EXPECT_EQ(h.max(), 1'000'000u);
  EXPECT_EQ(h.value_at_percentile(99), 1'000'000u);
}

TEST(HdrHistogram, BucketUppersAscendAndCountsAddUp) {
  HdrHistogram h;
  for (uint64_t v = 1; v < 10'000'000; v = v * 3 + 1) h.record(v, 2);
  uint64_t total = 0, last = 0;
  for (auto b : h.buckets()) {
    EXPECT_GT(b.upper, last);
    last = b.upper;
    total += b.count;
  }
  EXPECT_EQ(total, h.count());
}

namespace {
HdrHistogram random_histogram(std::mt19937_64& rng, size_t n, uint64_t max_value) {
  HdrHistogram h(max_value);
  std::lognormal_distribution<double> dist(7.0, 2.5);  // long tail, some values clamped
  for (size_t i = 0; i < n; ++i) h.record(static_cast<uint64_t>(dist(rng)), 1 + rng() % 3);
  return h;
}
}  // namespace

TEST(HdrHistogram, JsonRoundTripIsExact) {
  std::mt19937_64 rng(11);
  for (uint64_t max_value : {uint64_t{1000}, uint64_t{60'000'000}, uint64_t{600'000'000}}) {
    HdrHistogram h = random_histogram(rng, 5000, max_value);
    h.record(max_value * 3);  // clamped
    ASSERT_GT(h.clamped(), 0u);
    // Through text, as a results file carries it.
    HdrHistogram back = HdrHistogram::from_json(nlohmann::json::parse(h.to_json().dump()));
    EXPECT_TRUE(back == h);
    EXPECT_EQ(back.sum(), h.sum());
    EXPECT_EQ(back.value_at_percentile(99.9), h.value_at_percentile(99.9));
  }
  HdrHistogram empty(5000);
  EXPECT_TRUE(HdrHistogram::from_json(empty.to_json()) == empty);
}

TEST(HdrHistogram, MergedShardsEqualOneHistogram) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(6.0, 2.0);
  std::vector<uint64_t> values(20000);
  for (auto& v : values) v = static_cast<uint64_t>(dist(rng));
  HdrHistogram whole(60'000'000);
  for (uint64_t v : values) whole.record(v);
  // Three shards of unequal sizes, each through JSON, merged in another order.
  std::vector<HdrHistogram> shards(3, HdrHistogram(60'000'000));
  for (uint64_t v : values) shards[rng() % 3].record(v);
  HdrHistogram merged(60'000'000);
  for (int k : {2, 0, 1})
    merged.merge(HdrHistogram::from_json(nlohmann::json::parse(shards[k].to_json().dump())));
  EXPECT_TRUE(merged == whole);
  EXPECT_EQ(merged.mean(), whole.mean());
}

TEST(HdrHistogram, FromJsonRefusesInconsistentInput) {
  HdrHistogram h(100000);
  h.record(5);
  h.record(3000, 2);
  const nlohmann::json good = h.to_json();
  auto refused = [](nlohmann::json j) {
    EXPECT_THROW(HdrHistogram::from_json(j), std::invalid_argument) << j.dump();
  };
  refused(nlohmann::json::array());
  for (const char* key : {"max_value", "count", "min", "max", "sum", "clamped", "buckets"}) {
    auto j = good;
    j.erase(key);
    refused(j);
  }
  auto j = good;
  j["count"] = 4;  // buckets hold 3
  refused(j);
  j = good;
  j["buckets"][1][0] = 3000;  // not a bucket's highest value (3001 is)
  refused(j);
  j = good;
  std::swap(j["buckets"][0], j["buckets"][1]);
  refused(j);
  j = good;
  j["buckets"][1][1] = 0;
  refused(j);
  j = good;
  j["min"] = 4;  // another bucket than the first
  refused(j);
  j = good;
  j["sum"] = 1;
  refused(j);
  j = good;
  j["clamped"] = 1;  // max is not max_value
  refused(j);
  j = good;
  j["buckets"].push_back({uint64_t{1} << 40, 1});
  refused(j);
  j = good;
  j["count"] = -3;
  refused(j);
}
