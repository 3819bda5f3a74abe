// ConnectScanner::run: sizes the window and threads, starts one Worker per thread on a shared
// permutation of the space, reports progress from the calling thread and collects the counts.
#include "scan/connect_scanner.h"

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "scan/scan_worker.h"
#include "scan/socket_setup.h"

namespace netres::scan {

ConnectScanner::ConnectScanner(const TargetSpace& space, ScanOptions options)
    : space_(space), options_(std::move(options)) {}

ScanCounts ConnectScanner::run(const ResultSink& results, const ProgressSink& progress) {
  // A peer that resets between connect and our banner probe must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  auto started = Clock::now();
  unsigned budget = socket_budget();
  unsigned window = options_.concurrency ? options_.concurrency : default_concurrency();
  window = std::min(window, budget);
  unsigned threads = std::max(1u, std::min(options_.threads, window));
  SharedState shared(space_, options_, results);
  // Few hosts: look up each one's source address once. Many: not worth a lookup per host.
  shared.sources = bind_sources(space_);
  shared.timeout_ns = options_.fixed_timeout.value_or(options_.initial_timeout).count();
  // Small jobs need no big window: it would only cost socket setup.
  uint64_t per_thread_work = shared.share / threads + 1;
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < threads; ++t) {
    unsigned w = window / threads + (t < window % threads ? 1 : 0);
    w = static_cast<unsigned>(std::min<uint64_t>(w, per_thread_work));
    workers.push_back(
        std::make_unique<Worker>(shared, std::max(1u, w), options_.rate / threads, t == 0));
  }

  std::mutex done_mutex;
  std::condition_variable done_cv;
  unsigned running = threads;
  std::vector<std::thread> pool;
  for (auto& worker : workers) {
    pool.emplace_back([&, w = worker.get()] {
      try {
        w->run();
      } catch (...) {
        shared.fail(std::current_exception());
      }
      std::lock_guard lock(done_mutex);
      --running;
      done_cv.notify_all();
    });
  }

  auto snapshot = [&] {
    ScanCounts c;
    c.pairs_total = shared.share;
    c.pairs_done = shared.done.load();
    c.open = shared.open.load();
    c.closed = shared.closed.load();
    c.filtered = shared.filtered.load();
    c.attempts = shared.attempts.load();
    c.elapsed = Clock::now() - started;
    c.timeout = Nanos(shared.timeout_ns.load());
    c.concurrency = window;
    return c;
  };
  {
    std::unique_lock lock(done_mutex);
    while (running > 0) {
      done_cv.wait_for(lock, std::chrono::milliseconds(100));
      if (progress && running > 0) {
        lock.unlock();
        progress(snapshot());
        lock.lock();
      }
    }
  }
  for (auto& t : pool) t.join();
  if (shared.error) std::rethrow_exception(shared.error);
  return snapshot();
}

}  // namespace netres::scan
