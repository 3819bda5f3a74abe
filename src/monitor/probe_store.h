// The results the exposition shows: per (target, check) the last probe's gauges, a failures
// counter by reason, a probe count and a duration histogram. Written by the event loop, read by
// the HTTP threads (one mutex; a scrape copies out under it). configure() after a reload keeps
// the series of pairs still configured and drops the rest, so removed targets' series vanish.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "monitor/config.h"
#include "monitor/exposition.h"
#include "monitor/probe_result.h"

namespace netres::monitor {

// Upper bounds of netres_probe_duration_seconds's buckets (seconds).
const std::vector<double>& duration_buckets();

// Upper bounds of netres_icmp_rtt_seconds's buckets (seconds): finer at the low end, where
// loopback and LAN round trips are.
const std::vector<double>& rtt_buckets();

// Upper bounds of netres_monitor_probe_start_delay_seconds's buckets (seconds): a healthy loop
// starts probes within a millisecond or two; 100 ms and more is a late round.
const std::vector<double>& start_delay_buckets();

// The help text of a probe metric ("" for an unknown name).
std::string_view metric_help(std::string_view name);

// A single probe's families with no target labels: what /probe returns, as blackbox_exporter.
std::vector<Family> probe_families(const ProbeResult& r);

class ProbeStore {
 public:
  void configure(const MonitorConfig& config);
  void record(const std::string& target, const std::string& check, ProbeResult r);
  // Every series as families, plus the monitor's own (targets, reload state, in flight).
  std::vector<Family> families() const;
  void set_reload_status(bool ok, double unix_time);
  void set_in_flight(size_t n);
  // The scheduler's punctuality: how long after its slot (plus jitter) a scheduled probe
  // started (timer wake-up and concurrency-gate wait), and rounds skipped because a probe of
  // the same target x check was still running at its next slot. Monitor-wide, not per target,
  // so they add three dozen series whatever the target count.
  void record_start_delay(double seconds);
  void count_skipped_rounds(uint64_t n);
  // The last result of every configured pair, in configuration order (for --once output and
  // the status page).
  struct Row {
    std::string target, check, kind;
    std::optional<ProbeResult> result;
    std::vector<float> history;  // recent durations in seconds, oldest first; < 0: failed
    std::string last_failure;    // the latest failure's reason and detail, if any
    double last_unix = 0;        // when the last probe ended
  };
  static constexpr size_t kHistory = 40;
  std::vector<Row> rows() const;

 private:
  struct Series {
    Labels labels;  // target, check, then the target's labels
    std::string kind;
    size_t order = 0;
    std::optional<ProbeResult> last;
    std::map<std::string, uint64_t> failures;
    std::vector<uint64_t> buckets;
    double sum = 0;
    uint64_t probes = 0;
    std::vector<uint64_t> rtt_buckets;  // icmp round trips, as buckets and sum (count: summed)
    double rtt_sum = 0;
    std::vector<float> history;
    std::string last_failure;
    double last_unix = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Series> series_;
  size_t targets_ = 0;
  bool reload_ok_ = true;
  double reload_time_ = 0;
  size_t in_flight_ = 0;
  std::vector<uint64_t> start_delay_buckets_;
  double start_delay_sum_ = 0;
  uint64_t skipped_rounds_ = 0;
};

}  // namespace netres::monitor
