// The connect scanner's workers (internal to src/scan). Each Worker is one event loop, wrk
// style: it owns its io_context, sockets and timers, so the hot path takes no locks; all of them
// draw pairs from one SharedState. Connect path and ticks: scan_worker.cc; banners:
// scan_banner.cc; socket helpers: socket_setup.cc.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "scan/connect_scanner.h"
#include "scan/permutation.h"
#include "scan/rtt_estimator.h"

namespace netres::scan {

using Clock = std::chrono::steady_clock;
inline constexpr size_t kClaimBatch = 64;

// What all workers share: the work sequence, the counters and the result sink.
struct SharedState {
  SharedState(const TargetSpace& s, const ScanOptions& o, const ConnectScanner::ResultSink& r)
      : space(s),
        options(o),
        permutation(s.pair_count(), o.seed),
        share(o.shard.share_of(s.pair_count())),
        sink(r) {}

  // Ctrl-C: start nothing more (see ScanOptions::stop).
  bool stopping() const { return options.stop && options.stop->load(std::memory_order_relaxed); }
  // Claims up to kClaimBatch consecutive shard positions; returns [begin, end).
  std::pair<uint64_t, uint64_t> claim() {
    if (stopping()) return {share, share};
    uint64_t begin = next.fetch_add(kClaimBatch, std::memory_order_relaxed);
    if (begin >= share) return {share, share};
    return {begin, std::min(share, begin + kClaimBatch)};
  }
  // The pair index at the j-th position of this shard.
  uint64_t pair_at(uint64_t j) const {
    return permutation.at(options.shard.first() + j * options.shard.stride());
  }
  void emit(const PortResult& r) {
    switch (r.state) {
      case PortState::kOpen:
        open.fetch_add(1, std::memory_order_relaxed);
        break;
      case PortState::kClosed:
        closed.fetch_add(1, std::memory_order_relaxed);
        break;
      case PortState::kFiltered:
        filtered.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    std::lock_guard lock(sink_mutex);
    sink(r);
    done.fetch_add(1, std::memory_order_relaxed);
  }
  void fail(std::exception_ptr e) {
    std::lock_guard lock(error_mutex);
    if (!error) error = e;
    abort.store(true);
  }

  const TargetSpace& space;
  const ScanOptions& options;
  Permutation permutation;
  // The local address the routing table picks for each host (when there are few hosts), so
  // sockets can be bound to it up front; 0 (the wildcard) leaves the choice to connect().
  std::vector<uint128> sources;
  uint128 source_of(uint64_t host) const { return host < sources.size() ? sources[host] : 0; }
  uint64_t share;
  const ConnectScanner::ResultSink& sink;
  std::atomic<uint64_t> next{0};
  std::mutex sink_mutex;
  std::atomic<uint64_t> done{0}, open{0}, closed{0}, filtered{0}, attempts{0};
  std::atomic<int64_t> timeout_ns{0};
  std::atomic<bool> abort{false};
  std::mutex error_mutex;
  std::exception_ptr error;
};

class Worker {
 public:
  Worker(SharedState& shared, unsigned window, double rate, bool reports_timeout);
  ~Worker();
  // Runs the event loop until this worker's share of the work is done (or the scan aborts).
  void run();

 private:
  enum class Phase : uint8_t { kIdle, kConnecting, kBanner };
  struct Slot {
    explicit Slot(asio::io_context& io) : socket(io) {}
    // A socket whose connect failed at once (RST already processed) is disconnected by the
    // kernel and can connect again: kept here between attempts, it saves socket() + close().
    int fd = -1;
    Family fd_family = Family::kV4;
    int spare_fd = -1;                        // a reusable socket of the other family
    uint128 fd_source = 0, spare_source = 0;  // the local address each is bound to
    // Attempts still waiting for an answer are handed to Asio's reactor (epoll) through this.
    asio::ip::tcp::socket socket;
    uint64_t pair = 0;
    Clock::time_point start;
    Nanos rtt{-1};
    uint32_t generation = 0;  // bumped when an attempt ends, so late handlers are ignored
    uint8_t attempts = 0;
    Phase phase = Phase::kIdle;
    bool probe_sent = false;
    std::unique_ptr<char[]> buffer;
  };
  struct Deadline {
    uint32_t slot;
    uint32_t generation;
    Clock::time_point at;
  };
  struct Work {
    uint64_t pair;
    uint8_t attempts;  // made so far
  };
  Nanos timeout() const { return rtt_.timeout(); }

  bool next_work(Work* w);
  bool finished() const;
  void fill();
  bool start_attempt(uint32_t idx, Work w);
  void wait_for_answer(uint32_t idx);
  void on_writable(uint32_t idx, uint32_t gen, const asio::error_code& ec);
  void on_connected(uint32_t idx);
  void on_error(uint32_t idx, int err, bool socket_reusable);
  static void drop_socket(Slot& s, bool reset = false);
  void silent(uint32_t idx);
  void finish(uint32_t idx, PortState state, Reason reason, Nanos rtt, std::string banner = {});
  void release(uint32_t idx);
  static bool answer_pending(asio::ip::tcp::socket& socket);
  Nanos tick_period() const;
  void arm_tick();
  void sweep_deadlines(Clock::time_point now, Nanos limit);
  void on_tick();

  // Banners (scan_banner.cc).
  void start_banner(uint32_t idx);
  void send_probe(Slot& s);
  void on_banner(uint32_t idx, uint32_t gen, const asio::error_code& ec, size_t n);
  // Probes banner slots that stayed silent and finishes those past their deadline.
  void expire_banners(Clock::time_point now);

  SharedState& shared_;
  const ScanOptions& options_;
  asio::io_context io_;
  asio::steady_timer tick_;
  std::deque<Slot> slots_;  // a deque: sockets never move once created
  std::vector<uint32_t> idle_;
  std::deque<Deadline> deadlines_;
  std::vector<Deadline> banner_deadlines_;
  std::deque<Work> retries_;
  RttEstimator rtt_;
  double rate_;
  double tokens_ = 0;
  Clock::time_point last_refill_;
  bool reports_timeout_;
  bool stalled_ = false;
  bool exhausted_ = false;
  bool fill_posted_ = false;
  uint64_t claim_begin_ = 0, claim_end_ = 0;
  uint32_t next_local_port_;
  unsigned in_flight_ = 0;
};

asio::ip::tcp socket_protocol(Family f);

}  // namespace netres::scan
