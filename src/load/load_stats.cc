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

}  // namespace netres::load
