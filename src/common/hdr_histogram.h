// A high-dynamic-range histogram: log-linear buckets that keep 3 significant digits from 1 up to
// a chosen maximum, in constant memory, mergeable across threads (load latencies, scan RTTs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace netres {

class HdrHistogram {
 public:
  // Tracks integer values in [0, max_value] (any unit: microseconds for latencies). Larger
  // values are recorded as max_value and counted in clamped(). Relative error <= 1/1024.
  explicit HdrHistogram(uint64_t max_value = 60'000'000);

  void record(uint64_t value, uint64_t count = 1);
  // Adds another histogram's counts; both must have the same max_value.
  void merge(const HdrHistogram& other);
  void reset();

  uint64_t count() const { return total_; }
  uint64_t clamped() const { return clamped_; }
  uint64_t min() const { return total_ ? min_ : 0; }  // exact
  uint64_t max() const { return max_; }               // exact (after clamping)
  double mean() const {
    return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0;
  }
  uint64_t sum() const { return sum_; }  // exact: values are integers
  uint64_t max_value() const { return max_value_; }

  // The smallest recorded-value bound v such that at least `percentile`% of values are <= v
  // (within the bucket's resolution; never above max() nor below min()). 0 when empty.
  uint64_t value_at_percentile(double percentile) const;

  // Non-empty buckets as (highest value the bucket holds, count), ascending: for export.
  struct Bucket {
    uint64_t upper;
    uint64_t count;
  };
  std::vector<Bucket> buckets() const;

  // Lossless form for results files (the shards of a job are merged from it):
  //   {"max_value": M, "count": N, "min": A, "max": B, "sum": S, "clamped": C,
  //    "buckets": [[upper, count], ...]}
  // with every non-empty bucket, ascending by its highest value. from_json() rebuilds the same
  // histogram bit for bit, and refuses (std::invalid_argument, one line) anything that no
  // histogram could have written: unknown bucket bounds, unsorted buckets, counts that do not add
  // up, a min, max or sum outside the buckets.
  nlohmann::json to_json() const;
  static HdrHistogram from_json(const nlohmann::json& j);

  bool operator==(const HdrHistogram& other) const = default;

 private:
  static size_t index_of(uint64_t value);
  static uint64_t upper_of(size_t index);

  uint64_t max_value_;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t clamped_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;  // an integer, so merging in any order gives the same bits
};

}  // namespace netres
