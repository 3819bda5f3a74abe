// LoadEngine::run: resolves the host, splits the connections (or users) over per-thread Workers
// (load_worker.h; quick_connection.cc and scenario_user.cc hold what they run), and merges
// their one-second intervals into the history (each handed to on_second) until deadline and drain.
#include "load/load_engine.h"

#include "load/load_worker.h"

namespace netres::load {

using namespace engine_internal;

LoadEngine::LoadEngine(LoadOptions options) : options_(std::move(options)) {}
LoadEngine::~LoadEngine() = default;

LoadResult LoadEngine::run(const std::function<void(const SecondSample&)>& on_second) {
  LoadOptions& o = options_;
  o.connections = std::max(1u, o.connections);
  o.threads = std::clamp(o.threads, 1u, o.connections);

  // Each connection is a file descriptor: raise the soft limit when it is short, so -c 10000
  // works without the user tuning ulimit (what cannot be had shows as failures).
  raise_open_file_limit(uint64_t{o.connections} + 64);
  asio::io_context resolver_io;
  tcp::resolver resolver(resolver_io);
  std::error_code ec;
  auto endpoints = resolver.resolve(o.url.host, std::to_string(o.url.port), ec);
  if (ec || endpoints.empty())
    throw RuntimeError(fmt::format("cannot resolve '{}': {}", o.url.host, ec.message()));

  // Scenario users get their class by index, for the most users the run ever has.
  std::vector<unsigned> user_classes;
  if (o.scenario) user_classes = assign_user_classes(*o.scenario, o.connections);
  std::vector<Mailbox> mailboxes(o.threads);
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  const auto started_at = std::chrono::system_clock::now() + std::chrono::milliseconds(20);
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(o.duration);
  std::vector<std::unique_ptr<Worker>> workers;
  unsigned first = 0;
  for (unsigned t = 0; t < o.threads; ++t) {
    unsigned count = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, endpoints, start, deadline, first, count, t,
                                               o.threads, user_classes, mailboxes[t]));
    first += count;
  }
  std::atomic<unsigned> finished{0};
  std::vector<std::thread> threads;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  for (auto& w : workers) {
    threads.emplace_back([&, w = w.get()] {
      try {
        w->run();
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        failure = std::current_exception();
      }
      ++finished;
    });
  }

  LoadResult result;
  IntervalStats interval;
  // The last kWindowSeconds intervals (for locust's "current" percentiles) and the run so far.
  std::vector<HdrHistogram> recent(kWindowSeconds, HdrHistogram(kMaxLatencyUs));
  size_t recent_next = 0;
  HdrHistogram window(kMaxLatencyUs);
  IntervalStats cumulative;
  auto collect = [&](double t) {
    interval.reset();
    SecondSample s;
    for (auto& m : mailboxes) {
      std::lock_guard lock(m.mutex);
      interval.merge(m.interval);
      m.interval.reset();
      s.users += m.users;
    }
    s.t = t;
    s.requests = interval.requests;
    s.failures = interval.failures;
    s.body_bytes = interval.body_bytes;
    s.responses = interval.latency.count();
    s.p50_ms = interval.latency.value_at_percentile(50) / 1000.0;
    s.p95_ms = interval.latency.value_at_percentile(95) / 1000.0;
    s.p99_ms = interval.latency.value_at_percentile(99) / 1000.0;
    recent[recent_next] = interval.latency;
    recent_next = (recent_next + 1) % recent.size();
    window.reset();
    for (const auto& h : recent) window.merge(h);
    s.window_responses = window.count();
    for (size_t i = 0; i < kLocustPercentiles.size(); ++i)
      s.window_ms[i] = window.value_at_percentile(kLocustPercentiles[i]) / 1000.0;
    cumulative.merge(interval);
    s.total_requests = cumulative.requests;
    s.total_failures = cumulative.failures;
    s.total_body_bytes = cumulative.body_bytes;
    s.total_responses = cumulative.latency.count();
    s.total_p50_ms = cumulative.latency.value_at_percentile(50) / 1000.0;
    s.total_avg_ms = cumulative.latency.mean() / 1000.0;
    s.total_min_ms = cumulative.latency.min() / 1000.0;
    s.total_max_ms = cumulative.latency.max() / 1000.0;
    return s;
  };
  // One history row per second of the run: each whole second before the end is sampled a
  // little after the workers' tick (so their seconds have landed in the mailboxes); the last
  // one, whole or cut short by Ctrl-C, after the workers have ended, so it also holds what the
  // drain brought in. A row is never dropped for being empty (0 users at the end is data).
  Clock::time_point stopped_at = deadline;
  bool stop_sent = false;
  auto all_finished = [&] { return finished.load() == workers.size(); };
  auto poll_stop = [&] {
    if (!stop_sent && o.stop_requested && o.stop_requested->load()) {
      stop_sent = true;
      stopped_at = std::min(deadline, Clock::now());
      for (auto& w : workers) w->stop_now();
    }
  };
  for (int k = 1; start + k * kOneSecond < stopped_at && !all_finished(); ++k) {
    auto at = start + k * kOneSecond + std::chrono::milliseconds(50);
    while (Clock::now() < at && !all_finished()) {
      poll_stop();
      // Polls the interrupt flag (set by a signal handler) 20 times a second: often enough for
      // Ctrl-C, rarely enough not to add a wake-up per request at a thousand requests a second.
      std::this_thread::sleep_until(std::min(at, Clock::now() + std::chrono::milliseconds(50)));
    }
    if (start + k * kOneSecond >= stopped_at) break;  // interrupted within this second
    SecondSample s = collect(static_cast<double>(k));
    result.history.push_back(s);
    if (on_second) on_second(s);
  }
  while (!all_finished()) {  // the drain (Ctrl-C still shortens the sending part)
    poll_stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  const double end_t = std::chrono::duration<double>(std::max(stopped_at, start) - start).count();
  SecondSample last = collect(end_t);
  if (result.history.empty() || end_t > result.history.back().t) result.history.push_back(last);
  for (auto& w : workers) result.stats.merge(w->stats);
  result.elapsed = std::chrono::duration_cast<Nanos>(std::max(stopped_at, start) - start);
  result.interrupted = stop_sent;
  result.started_at = started_at;
  return result;
}

}  // namespace netres::load
