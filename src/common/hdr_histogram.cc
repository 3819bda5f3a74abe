// HDR histogram. Values below 2048 get a bucket each; above, each power of two [2^k, 2^(k+1))
// is split into 1024 equal buckets, so a bucket is never wider than 1/1024 of its values.
#include "common/hdr_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

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
  sum_ += value * count;
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

nlohmann::json HdrHistogram::to_json() const {
  nlohmann::json buckets = nlohmann::json::array();
  for (size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) buckets.push_back({upper_of(i), counts_[i]});
  return {{"max_value", max_value_},
          {"count", total_},
          {"min", min()},
          {"max", max_},
          {"sum", sum_},
          {"clamped", clamped_},
          {"buckets", std::move(buckets)}};
}

HdrHistogram HdrHistogram::from_json(const nlohmann::json& j) {
  auto bad = [](const std::string& why) { return std::invalid_argument("histogram: " + why); };
  auto number = [&](const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_unsigned())
      throw bad(std::string("\"") + key + "\" must be a whole number >= 0");
    return it->get<uint64_t>();
  };
  if (!j.is_object()) throw bad("not an object");
  const uint64_t max_value = number(j, "max_value");
  HdrHistogram h(max_value);
  const uint64_t count = number(j, "count"), min = number(j, "min"), max = number(j, "max"),
                 sum = number(j, "sum"), clamped = number(j, "clamped");
  auto it = j.find("buckets");
  if (it == j.end() || !it->is_array()) throw bad("\"buckets\" must be a list");
  size_t next = 0;  // the lowest index the next bucket may have (ascending, no repeats)
  unsigned __int128 total = 0;
  size_t lowest = 0, highest = 0;
  for (const auto& b : *it) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() || !b[1].is_number_unsigned())
      throw bad("a bucket must be [upper, count]");
    const uint64_t upper = b[0].get<uint64_t>(), n = b[1].get<uint64_t>();
    const size_t i = index_of(upper);
    if (i >= h.counts_.size() || n == 0) throw bad("bucket above max_value or empty");
    if (upper_of(i) != upper) throw bad("bucket bound is not a bucket's highest value");
    if (i < next) throw bad("buckets out of order");
    if (total == 0) lowest = i;
    highest = i;
    next = i + 1;
    h.counts_[i] = n;
    total += n;
  }
  if (total != count) throw bad("bucket counts do not add up to count");
  if (count == 0) {
    if (min || max || sum || clamped) throw bad("an empty histogram has min, max or sum");
    return h;
  }
  if (index_of(min) != lowest || index_of(max) != highest || min > max || max > max_value)
    throw bad("min or max outside the buckets");
  if (clamped > count || (clamped && max != max_value)) throw bad("bad clamped count");
  const unsigned __int128 c = count;
  if (sum < c * min || sum > c * max) throw bad("sum outside count times min..max");
  h.total_ = count;
  h.clamped_ = clamped;
  h.min_ = min;
  h.max_ = max;
  h.sum_ = sum;
  return h;
}

}  // namespace netres
