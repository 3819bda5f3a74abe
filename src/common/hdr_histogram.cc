// HDR histogram. Values below 2048 get a bucket each; above, each power of two [2^k, 2^(k+1))
// is split into 1024 equal buckets, so a bucket is never wider than 1/1024 of its values.
#include "common/hdr_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace netres {
namespace {
constexpr uint64_t kLinear = 2048;  // exact below this
constexpr int kSubBits = 10;        // 1024 buckets per power of two above it
}  // namespace

size_t HdrHistogram::index_of(uint64_t value) {
  if (value < kLinear) return static_cast<size_t>(value);
  int shift = std::bit_width(value) - 1 - kSubBits;  // value >> shift is in [1024, 2047]
  return static_cast<size_t>(1024) * static_cast<size_t>(shift + 1) +
         static_cast<size_t>((value >> shift) - 1024);
}

uint64_t HdrHistogram::upper_of(size_t index) {
  if (index < kLinear) return index;
  size_t shift = index / 1024 - 1;
  uint64_t mantissa = 1024 + index % 1024;
  return ((mantissa + 1) << shift) - 1;
}

HdrHistogram::HdrHistogram(uint64_t max_value)
    : max_value_(max_value), counts_(index_of(max_value) + 1, 0) {}

void HdrHistogram::record(uint64_t value, uint64_t count) {
  if (count == 0) return;
  if (value > max_value_) {
    value = max_value_;
    clamped_ += count;
  }
  counts_[index_of(value)] += count;
  total_ += count;
  sum_ += static_cast<double>(value) * static_cast<double>(count);
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void HdrHistogram::merge(const HdrHistogram& other) {
  if (other.max_value_ != max_value_)
    throw std::invalid_argument("HdrHistogram::merge: different ranges");
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  clamped_ += other.clamped_;
  sum_ += other.sum_;
  if (other.total_) {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
}

void HdrHistogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = clamped_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

uint64_t HdrHistogram::value_at_percentile(double percentile) const {
  if (total_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  auto rank = static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(total_)));
  rank = std::clamp<uint64_t>(rank, 1, total_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(upper_of(i), min(), max_);
  }
  return max_;
}

std::vector<HdrHistogram::Bucket> HdrHistogram::buckets() const {
  std::vector<Bucket> out;
  for (size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) out.push_back({upper_of(i), counts_[i]});
  return out;
}

}  // namespace netres
