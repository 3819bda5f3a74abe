// LoadStats: what one engine thread counts (per request name: latencies, statuses, failures by
// reason), owned by that thread alone and merged across threads for reports.
#pragma once

#include <array>
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

// A finished request as an observer sees it (a locust worker reports them to its master).
struct RequestEvent {
  size_t id = 0;  // the stats row (RequestTemplate::id, or the scenario's row)
  const std::string& method;
  const std::string& name;
  bool responded = false;  // false: no response, hence no response time (refused, reset...)
  uint64_t latency_us = 0;
  uint64_t body_bytes = 0;
  const std::string& failure;  // empty when the request succeeded
};

// Sees every finished request, called from the engine thread that made it (`thread` below the
// count given to prepare()); an implementation keeps one shard per thread so that the calls
// take no shared lock.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void prepare(unsigned threads) = 0;  // before the run's threads start
  virtual void on_request(unsigned thread, const RequestEvent& e) = 0;
};

struct LoadStats {
  std::vector<RequestStats> requests;  // indexed by RequestTemplate::id
  std::map<FailureKey, uint64_t> failures;
  uint64_t cancelled = 0;  // in flight when the drain bound after the deadline ran out
  uint64_t connects = 0;   // TCP (and TLS) connections established
  // Idempotent requests sent again on a new connection because the kept-alive one closed before
  // any byte of the response (scenario_user.cc); each is counted once in `requests`.
  uint64_t retried = 0;

  void merge(const LoadStats& other);
  RequestStats total() const;  // all names together ("Aggregated")
};

// What one second of the run looked like, for the live line and the JSON history.
struct IntervalStats {
  uint64_t requests = 0;
  uint64_t failures = 0;
  uint64_t body_bytes = 0;
  HdrHistogram latency{kMaxLatencyUs};

  void merge(const IntervalStats& other);
  void reset();
};

// The percentiles locust's CSV files carry, in its column order (50%, 66%, ... 100%).
constexpr std::array<double, 11> kLocustPercentiles = {50, 66, 75,   80,    90, 95,
                                                       98, 99, 99.9, 99.99, 100};
// How far back the "current" percentiles of a history row look (locust: 10 s).
constexpr int kWindowSeconds = 10;

struct SecondSample {
  double t = 0;        // seconds since the start, at the end of the interval
  unsigned users = 0;  // virtual users (connections in quick mode) at the end of the interval
  // This interval alone. The latency figures mean something only when `responses` > 0 (a
  // second in which every request failed before a response has none: reports show a gap).
  uint64_t requests = 0;
  uint64_t failures = 0;
  uint64_t body_bytes = 0;
  uint64_t responses = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  // Latency percentiles (kLocustPercentiles) over the last kWindowSeconds intervals, as
  // locust's "current response time percentiles" in _stats_history.csv.
  std::array<double, kLocustPercentiles.size()> window_ms{};
  uint64_t window_responses = 0;
  // Everything since the start (the "Total ..." columns of _stats_history.csv).
  uint64_t total_requests = 0;
  uint64_t total_failures = 0;
  uint64_t total_body_bytes = 0;
  uint64_t total_responses = 0;
  double total_p50_ms = 0;
  double total_avg_ms = 0;
  double total_min_ms = 0;
  double total_max_ms = 0;
};

// Turns each second's interval (all threads, or all shards, merged) into its history row: that
// second's percentiles, the window of the last kWindowSeconds and the totals so far. The engine
// and `netres merge` both build rows with it, so a merged history is computed as one run's.
class HistoryBuilder {
 public:
  HistoryBuilder();
  SecondSample add(double t, unsigned users, const IntervalStats& interval);

 private:
  std::vector<HdrHistogram> recent_;  // the last kWindowSeconds intervals' latencies
  size_t recent_next_ = 0;
  HdrHistogram window_{kMaxLatencyUs};
  IntervalStats cumulative_;
};

}  // namespace netres::load
