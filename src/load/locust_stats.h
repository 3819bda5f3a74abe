// locust-shaped statistics for a worker's reports to its master: per (name, method) the fields of
// locust's StatsEntry (stats.py) as delta reports, the Aggregated entry and the errors map keyed
// as locust keys it, so the master's tables, charts and CSV come out as with locust's workers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "load/load_stats.h"
#include "load/locust_protocol.h"

namespace netres::load::locust {

// One locust StatsEntry's counters since the last report.
struct Entry {
  uint64_t num_requests = 0;       // failures included, as locust counts them
  uint64_t num_none_requests = 0;  // requests without a response time (no response)
  uint64_t num_failures = 0;
  double total_response_time = 0;  // ms
  std::optional<double> min_response_time;
  double max_response_time = 0;
  uint64_t total_content_length = 0;
  std::map<int64_t, uint64_t> response_times;    // rounded ms (round_response_time) -> count
  std::map<int64_t, uint64_t> num_reqs_per_sec;  // whole Unix second -> requests
  std::map<int64_t, uint64_t> num_fail_per_sec;
  std::optional<double> last_request_timestamp;

  // A request at Unix time `now` with its response time in ms (none: no response).
  void log(std::optional<double> response_time_ms, uint64_t content_length, bool failed,
           double now);
  void extend(const Entry& other);
  bool empty() const { return num_requests == 0 && num_failures == 0; }
  Value to_value(const std::string& name, const std::string& method, double start_time) const;
};

// locust's key of the response_times dict: whole ms below 100, then 10s below 1000, 100s below
// 10000, then 1000s, each rounded half to even as Python's round().
int64_t round_response_time(double ms);

// Python's repr() of a str (quotes and escapes as CPython chooses them), for the errors map.
std::string python_repr(const std::string& s);
// locust's StatsError.create_key(method, name, reason) for a failure given as a string: the
// SHA-256 hex of "METHOD.NAME.repr(repr(reason))".
std::string error_key(const std::string& method, const std::string& name,
                      const std::string& reason);

// Collects requests from the engine's threads (one locked shard each: the lock is only ever
// contended by take_report, every few seconds) and hands out delta reports.
class StatsCollector : public RequestObserver {
 public:
  void prepare(unsigned threads) override;
  void on_request(unsigned thread, const RequestEvent& e) override;
  // As on_request, at a given Unix time (tests).
  void record(unsigned thread, const RequestEvent& e, double now);
  // {"stats": [...], "stats_total": {...}, "errors": {...}} with what came in since the last
  // call (`since`: the Unix time of that call, locust's start_time), then forgets it.
  Value take_report(double since);

 private:
  struct Row {
    std::string name, method;
    Entry entry;
  };
  struct Shard {
    std::mutex mutex;
    std::vector<Row> rows;                                      // by RequestEvent::id
    std::map<std::pair<size_t, std::string>, uint64_t> errors;  // (row, reason) -> count
  };
  std::mutex shards_mutex_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace netres::load::locust

namespace netres::load::locust {
// The custom message a netres worker sends after each run ("netres_histograms"): per name and
// method the exact HDR histogram of response times (microseconds: count, min, max, sum and the
// non-empty buckets as [upper, count]), which the locustfile from --emit-locustfile merges.
inline constexpr std::string_view kHistogramsMessage = "netres_histograms";
Value histograms_report(const LoadStats& stats, unsigned run);
}  // namespace netres::load::locust
