// LoadEngine::run: resolves the host, splits the connections (or users) over per-thread Workers
// (load_worker.h; quick_connection.cc and scenario_user.cc hold what they run), and merges
// their one-second intervals into the history (each handed to on_second) until deadline and drain.
#include "load/load_engine.h"

#include <nlohmann/json.hpp>

#include "load/load_worker.h"

namespace netres::load {

using namespace engine_internal;

void UserControl::set(std::vector<unsigned> per_class) {
  std::lock_guard lock(mutex_);
  per_class.resize(counts_.size(), 0);
  counts_ = std::move(per_class);
  ++generation_;
}

std::vector<unsigned> UserControl::get() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

uint64_t UserControl::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

LoadEngine::LoadEngine(LoadOptions options) : options_(std::move(options)) {}
LoadEngine::~LoadEngine() = default;

namespace {

// The request rows a run reports, named, before anything is counted.
LoadStats named_rows(const LoadOptions& o) {
  LoadStats stats;
  if (o.scenario) {
    for (const auto& row : o.scenario->rows) {
      stats.requests.emplace_back();
      stats.requests.back().method = row.method;
      stats.requests.back().name = row.name;
    }
  } else {
    stats.requests.resize(o.requests.size());
    for (const auto& r : o.requests) {
      stats.requests[r.id].method = r.method;
      stats.requests[r.id].name = r.name;
    }
  }
  return stats;
}

}  // namespace

unsigned shard_share(const LoadOptions& o) {
  const unsigned job = std::max(1u, o.connections);
  if (!o.scenario) return static_cast<unsigned>(o.shard.portion(job));
  auto mine =
      shard_users(assign_user_classes(*o.scenario, job), o.scenario->classes.size(), o.shard);
  return static_cast<unsigned>(std::count(mine.begin(), mine.end(), true));
}

LoadResult LoadEngine::run(const std::function<void(const SecondSample&)>& on_second) {
  LoadOptions& o = options_;
  o.connections = std::max(1u, o.connections);  // the whole job's (see LoadOptions::shard)
  // Under a UserControl the users come and go as it says (apply_control below), not by index.
  const bool controlled = o.scenario && o.control;

  // Scenario users get their class by index, for the most users the run ever has; this shard
  // runs some of them, spread over the threads round robin (thread of each user, -1: another
  // shard's).
  std::vector<unsigned> user_classes;
  std::vector<int> user_threads;
  unsigned share = 0;
  if (controlled) {
    o.threads = std::max(1u, o.threads);
    share = 1;  // users are started later; not another shard's work
  } else if (o.scenario) {
    user_classes = assign_user_classes(*o.scenario, o.connections);
    auto mine = shard_users(user_classes, o.scenario->classes.size(), o.shard);
    share = static_cast<unsigned>(std::count(mine.begin(), mine.end(), true));
    o.threads = std::clamp(o.threads, 1u, std::max(1u, share));
    user_threads.assign(mine.size(), -1);
    unsigned rank = 0;
    for (size_t i = 0; i < mine.size(); ++i)
      if (mine[i]) user_threads[i] = static_cast<int>(rank++ % o.threads);
  } else {
    share = static_cast<unsigned>(o.shard.portion(o.connections));
    o.threads = std::clamp(o.threads, 1u, std::max(1u, share));
  }
  LoadResult result;
  result.stats = named_rows(o);
  result.started_at = o.start_at.value_or(std::chrono::system_clock::now());
  if (share == 0) return result;  // another shard's work (the caller says so)

  // Each connection is a file descriptor: raise the soft limit when it is short, so -c 10000
  // works without the user tuning ulimit (what cannot be had shows as failures). Under a
  // UserControl the count is not known in advance: as many as the scenario loader allows.
  raise_open_file_limit((controlled ? uint64_t{100000} : uint64_t{share}) + 64);
  if (o.observer) o.observer->prepare(o.threads);
  asio::io_context resolver_io;
  tcp::resolver resolver(resolver_io);
  std::error_code ec;
  auto endpoints = resolver.resolve(o.url.host, std::to_string(o.url.port), ec);
  if (ec || endpoints.empty())
    throw RuntimeError(fmt::format("cannot resolve '{}': {}", o.url.host, ec.message()));

  // --start-at: wait (Ctrl-C still ends it) until shortly before the agreed wall-clock time, then
  // put the start on the steady clock at that time.
  auto lead = std::chrono::milliseconds(20);
  if (o.start_at) {
    while (std::chrono::system_clock::now() + lead < *o.start_at) {
      if (o.stop_requested && o.stop_requested->load()) {
        result.interrupted = true;
        return result;
      }
      std::this_thread::sleep_for(std::min<std::chrono::system_clock::duration>(
          std::chrono::milliseconds(50), *o.start_at - lead - std::chrono::system_clock::now()));
    }
  }
  const auto wall_now = std::chrono::system_clock::now();
  const auto started_at = o.start_at ? *o.start_at : wall_now + lead;
  const auto start =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(started_at - wall_now);
  std::vector<Mailbox> mailboxes(o.threads);
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(o.duration);
  std::vector<std::unique_ptr<Worker>> workers;
  // Quick mode: this shard's connections are numbers [first, first + share) of the job's.
  unsigned first = o.scenario ? 0 : static_cast<unsigned>(o.shard.begin_of(o.connections));
  for (unsigned t = 0; t < o.threads; ++t) {
    unsigned count = controlled ? 0 : share / o.threads + (t < share % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, endpoints, start, deadline, first, count, t,
                                               user_threads, user_classes, mailboxes[t]));
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

  IntervalStats interval;
  HistoryBuilder history;
  auto collect = [&](double t) {
    interval.reset();
    unsigned users = 0;
    for (auto& m : mailboxes) {
      std::lock_guard lock(m.mutex);
      interval.merge(m.interval);
      m.interval.reset();
      users += m.users;
    }
    if (o.keep_seconds) result.second_latencies.push_back(interval.latency.to_json().dump());
    return history.add(t, users, interval);
  };
  // One history row per second of the run: each whole second before the end is sampled a
  // little after the workers' tick (so their seconds have landed in the mailboxes); the last
  // one, whole or cut short by Ctrl-C, after the workers have ended, so it also holds what the
  // drain brought in. A row is never dropped for being empty (0 users at the end is data).
  Clock::time_point stopped_at = deadline;
  bool stop_sent = false;
  auto all_finished = [&] { return finished.load() == workers.size(); };
  // Under a UserControl: the live users of each class by index (newest last), and the next
  // index (a user's number: its ${user_id} and its random stream); user i runs on thread
  // i % threads, as in a scheduled run.
  std::vector<std::vector<unsigned>> live_by_class(o.scenario ? o.scenario->classes.size() : 0);
  unsigned next_index = 0;
  uint64_t applied_generation = 0;
  auto apply_control = [&] {
    if (!controlled || stop_sent || o.control->generation() == applied_generation) return;
    applied_generation = o.control->generation();
    const std::vector<unsigned> want = o.control->get();
    for (size_t c = 0; c < live_by_class.size(); ++c) {
      auto& live = live_by_class[c];
      while (live.size() > want[c]) {
        workers[live.back() % o.threads]->post_stop_user(live.back());
        live.pop_back();
      }
      while (live.size() < want[c]) {
        const unsigned index = next_index++;
        workers[index % o.threads]->post_start_user(index, static_cast<unsigned>(c));
        live.push_back(index);
      }
    }
  };
  auto poll_stop = [&] {
    apply_control();
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
  if (result.history.empty() || end_t > result.history.back().t)
    result.history.push_back(last);
  else if (o.keep_seconds)
    result.second_latencies.pop_back();  // one entry per history row
  result.stats = LoadStats{};
  for (auto& w : workers) result.stats.merge(w->stats);
  result.elapsed = std::chrono::duration_cast<Nanos>(std::max(stopped_at, start) - start);
  result.interrupted = stop_sent;
  result.started_at = started_at;
  return result;
}

}  // namespace netres::load
