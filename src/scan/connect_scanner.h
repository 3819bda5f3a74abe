// The TCP connect scanner: thousands of non-blocking connects in flight on Asio's epoll reactor,
// visiting (host, port) pairs in a seeded random order, with adaptive timeouts, retries for
// silent ports, an optional rate cap and banner grabbing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include "common/duration.h"
#include "common/shard.h"
#include "scan/port_result.h"
#include "scan/target_space.h"

namespace netres::scan {

struct ScanOptions {
  unsigned concurrency = 0;            // connects in flight; 0 = default (see default_concurrency)
  std::optional<Nanos> fixed_timeout;  // --timeout: no adaptation
  Nanos initial_timeout = std::chrono::seconds(1);  // until the first round trip is measured
  // As nmap -T5: on a LAN the RTT estimate is far below this, so the floor decides how fast
  // silent ports are given up; the answer_pending check guards against a busy event loop.
  Nanos min_timeout = std::chrono::milliseconds(50);
  Nanos max_timeout = std::chrono::seconds(2);
  unsigned retries = 1;  // extra attempts for a port that stayed silent
  double rate = 0;       // attempts per second, 0 = unlimited
  bool banner = false;
  Nanos banner_timeout = std::chrono::seconds(1);
  uint64_t seed = 0;
  Shard shard;
  unsigned threads = 1;  // event loops, each on its own thread with its share of the window
  // When it turns true (Ctrl-C), no new pairs are claimed: attempts in flight and the pairs
  // already claimed (at most 64 per thread) finish, and run() returns what was scanned.
  const std::atomic<bool>* stop = nullptr;
};

struct ScanCounts {
  uint64_t pairs_total = 0;  // pairs in this shard
  uint64_t pairs_done = 0;
  uint64_t open = 0, closed = 0, filtered = 0;
  uint64_t attempts = 0;
  Nanos elapsed{0};
  Nanos timeout{0};  // the per-attempt timeout in force (now, or at the end)
  unsigned concurrency = 0;
};

// Raises the soft RLIMIT_NOFILE towards what a scan can use (common raise_open_file_limit) and
// returns how many sockets a scan may hold open at once, leaving headroom for stdio, the
// reactor and the resolver.
unsigned socket_budget();
// More in flight than this rarely helps: the kernel's per-connect cost is the bound long before
// the window is, and huge windows only lengthen the tail of slow filtered ports.
inline constexpr unsigned kDefaultWindow = 4096;
// The default window: the socket budget, capped at kDefaultWindow.
unsigned default_concurrency();

class ConnectScanner {
 public:
  using ResultSink = std::function<void(const PortResult&)>;
  using ProgressSink = std::function<void(const ScanCounts&)>;

  ConnectScanner(const TargetSpace& space, ScanOptions options);

  // Scans every pair of the shard. `results` is called once per pair, serialized, from the
  // scanning threads; `progress` about ten times a second from the calling thread. Throws
  // RuntimeError when the environment fails (out of file descriptors with nothing in flight).
  ScanCounts run(const ResultSink& results, const ProgressSink& progress = {});

 private:
  const TargetSpace& space_;
  ScanOptions options_;
};

}  // namespace netres::scan
