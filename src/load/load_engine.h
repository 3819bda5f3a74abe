// LoadEngine: drives HTTP/1.1 connections from one event loop per thread (wrk style: each thread
// owns its loop, connections, timers and LoadStats, so the request path takes no locks), either
// quick mode's fixed request per connection or a scenario's users started and stopped over time.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/shard.h"
#include "load/load_stats.h"
#include "load/scenario.h"
#include "load/url.h"
#include "load/virtual_user.h"

namespace netres::load {

// Users per class of a running scenario, changed from another thread while the engine runs (a
// locust worker follows its master's spawn messages with it). The engine starts users of a
// class that is short and stops the newest of one that is over, within ~50 ms of a change;
// users that keep running are left alone.
class UserControl {
 public:
  explicit UserControl(size_t classes) : counts_(classes, 0) {}
  void set(std::vector<unsigned> per_class);  // one count per scenario class, in its order
  std::vector<unsigned> get() const;
  uint64_t generation() const;  // bumped by every set()

 private:
  mutable std::mutex mutex_;
  std::vector<unsigned> counts_;
  uint64_t generation_ = 0;
};

struct LoadOptions {
  Url url;  // where connections go (host, port, TLS); requests carry their own targets
  // Scenario mode when set: users, tasks and wait times come from it (`requests` and
  // `make_user` are unused), `connections` is its peak user count and `duration` its run time.
  std::shared_ptr<const Scenario> scenario;
  std::vector<RequestTemplate> requests;  // ids are indexes into this vector
  // One user per connection; `index` is the connection's number across all threads, and
  // `requests` the engine's own copy of the templates, which users may point into.
  std::function<std::unique_ptr<VirtualUser>(unsigned index,
                                             const std::vector<RequestTemplate>& requests)>
      make_user;
  unsigned connections = 10;
  unsigned threads = 1;
  Nanos duration = std::chrono::seconds(10);
  Nanos timeout = std::chrono::seconds(5);          // per request (unless a scenario request says)
  Nanos connect_timeout = std::chrono::seconds(2);  // TCP connect plus TLS handshake
  Nanos drain = std::chrono::seconds(2);  // how long requests in flight may finish after the end
  unsigned pipeline = 1;                  // requests written back to back per round trip
  double rate = 0;        // open model: requests per second over all connections; 0 = closed model
  bool insecure = false;  // skip TLS certificate verification
  // Polled by run(): once true, sending stops as at the deadline (then the usual drain).
  const std::atomic<bool>* stop_requested = nullptr;
  // The share of the job this run does. `connections` and `rate` stay the whole job's: quick mode
  // runs connections [begin_of, +portion) of them, each keeping its place in the open model's
  // schedule, so the shards' requests together are the unsharded run's; a scenario runs the users
  // shard_users() gives it, each at the time and with the class and seed it has in the whole job.
  Shard shard{};
  // When to start (wall clock), so the shards of a job begin together; unset: at once.
  std::optional<std::chrono::system_clock::time_point> start_at{};
  // Keep each second's latency histogram (LoadResult::second_latencies) for a results file.
  bool keep_seconds = false;
  // Scenario mode only: users follow this instead of the scenario's users/stages, until
  // stop_requested or `duration`; `connections` is then unused (threads are not capped by it).
  std::shared_ptr<UserControl> control;
  // Sees every finished request (not owned; must outlive run()).
  RequestObserver* observer = nullptr;
};

struct LoadResult {
  LoadStats stats;
  std::vector<SecondSample> history;
  Nanos elapsed{};  // the measured window: start to deadline (or to the interrupt)
  std::chrono::system_clock::time_point started_at;  // wall clock at the start, for timestamps
  bool interrupted = false;
  // With LoadOptions::keep_seconds: each history row's latency histogram, as the text of
  // HdrHistogram::to_json() (a second fills a few hundred of a histogram's ~20,000 buckets: the
  // text is a few KB where the histogram is 160 KB).
  std::vector<std::string> second_latencies;
};

// How many connections (quick mode) or users (the peak, in a scenario) `o`'s shard runs.
unsigned shard_share(const LoadOptions& o);

class LoadEngine {
 public:
  explicit LoadEngine(LoadOptions options);
  ~LoadEngine();
  // Runs to the deadline plus the drain, calling `on_second` from this thread about once per
  // second with the interval just finished. Throws RuntimeError if the host does not resolve.
  LoadResult run(const std::function<void(const SecondSample&)>& on_second);

 private:
  LoadOptions options_;
};

}  // namespace netres::load
