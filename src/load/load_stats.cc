// Merging of per-thread stats.
#include "load/load_stats.h"

namespace netres::load {

void RequestStats::merge(const RequestStats& other) {
  requests += other.requests;
  failures += other.failures;
  body_bytes += other.body_bytes;
  latency.merge(other.latency);
  service.merge(other.service);
  for (const auto& [code, n] : other.status_codes) status_codes[code] += n;
}

void LoadStats::merge(const LoadStats& other) {
  if (requests.size() < other.requests.size()) requests.resize(other.requests.size());
  for (size_t i = 0; i < other.requests.size(); ++i) {
    if (requests[i].name.empty()) {
      requests[i].method = other.requests[i].method;
      requests[i].name = other.requests[i].name;
    }
    requests[i].merge(other.requests[i]);
  }
  for (const auto& [key, n] : other.failures) failures[key] += n;
  cancelled += other.cancelled;
  connects += other.connects;
  retried += other.retried;
}

RequestStats LoadStats::total() const {
  RequestStats t;
  t.name = "Aggregated";
  for (const auto& r : requests) t.merge(r);
  return t;
}

void IntervalStats::merge(const IntervalStats& other) {
  requests += other.requests;
  failures += other.failures;
  body_bytes += other.body_bytes;
  latency.merge(other.latency);
}

void IntervalStats::reset() {
  requests = failures = body_bytes = 0;
  latency.reset();
}

HistoryBuilder::HistoryBuilder() : recent_(kWindowSeconds, HdrHistogram(kMaxLatencyUs)) {}

SecondSample HistoryBuilder::add(double t, unsigned users, const IntervalStats& interval) {
  SecondSample s;
  s.t = t;
  s.users = users;
  s.requests = interval.requests;
  s.failures = interval.failures;
  s.body_bytes = interval.body_bytes;
  s.responses = interval.latency.count();
  s.p50_ms = interval.latency.value_at_percentile(50) / 1000.0;
  s.p95_ms = interval.latency.value_at_percentile(95) / 1000.0;
  s.p99_ms = interval.latency.value_at_percentile(99) / 1000.0;
  recent_[recent_next_] = interval.latency;
  recent_next_ = (recent_next_ + 1) % recent_.size();
  window_.reset();
  for (const auto& h : recent_) window_.merge(h);
  s.window_responses = window_.count();
  for (size_t i = 0; i < kLocustPercentiles.size(); ++i)
    s.window_ms[i] = window_.value_at_percentile(kLocustPercentiles[i]) / 1000.0;
  cumulative_.merge(interval);
  s.total_requests = cumulative_.requests;
  s.total_failures = cumulative_.failures;
  s.total_body_bytes = cumulative_.body_bytes;
  s.total_responses = cumulative_.latency.count();
  s.total_p50_ms = cumulative_.latency.value_at_percentile(50) / 1000.0;
  s.total_avg_ms = cumulative_.latency.mean() / 1000.0;
  s.total_min_ms = cumulative_.latency.min() / 1000.0;
  s.total_max_ms = cumulative_.latency.max() / 1000.0;
  return s;
}

}  // namespace netres::load
