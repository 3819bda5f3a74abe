// LoadStats: what one engine thread counts (per request name: latencies, statuses, failures by
// reason), owned by that thread alone and merged across threads for reports.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/hdr_histogram.h"

namespace netres::load {

// Latencies are recorded in microseconds, up to 10 minutes.
constexpr uint64_t kMaxLatencyUs = 600'000'000;

struct RequestStats {
  std::string method;
  std::string name;
  uint64_t requests = 0;  // completed or failed; cancelled ones are counted apart
  uint64_t failures = 0;
  uint64_t body_bytes = 0;
  // From when the request was due (open model) or sent (closed model) to its last byte.
  HdrHistogram latency{kMaxLatencyUs};
  // From when it was written to its last byte: the uncorrected "service time".
  HdrHistogram service{kMaxLatencyUs};
  std::map<int, uint64_t> status_codes;

  void merge(const RequestStats& other);
};

struct FailureKey {
  std::string method;
  std::string name;
  std::string reason;
  bool operator<(const FailureKey& o) const {
    return std::tie(method, name, reason) < std::tie(o.method, o.name, o.reason);
  }
};

struct LoadStats {
  std::vector<RequestStats> requests;  // indexed by RequestTemplate::id
  std::map<FailureKey, uint64_t> failures;
  uint64_t cancelled = 0;  // in flight when the drain bound after the deadline ran out
  uint64_t connects = 0;   // TCP (and TLS) connections established

  void merge(const LoadStats& other);
  RequestStats total() const;  // all names together ("Aggregated")
};

// What one second of the run looked like, for the live line and the JSON history.
struct IntervalStats {
  uint64_t requests = 0;
  uint64_t failures = 0;
  HdrHistogram latency{kMaxLatencyUs};

  void merge(const IntervalStats& other);
  void reset();
};

struct SecondSample {
  double t = 0;  // seconds since the start, at the end of the interval
  uint64_t requests = 0;
  uint64_t failures = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

}  // namespace netres::load
