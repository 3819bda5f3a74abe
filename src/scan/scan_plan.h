// The scan's run policy, decided before any socket opens: which order (seed), how many connects
// in flight against the open file limit, how many event loops, and which target texts to build
// the space from. Kept out of the CLI so each rule has one home and a unit test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/port_set.h"
#include "scan/connect_scanner.h"
#include "scan/target_space.h"

namespace netres::scan {

// The scan flags as given on the command line.
struct ScanFlags {
  std::vector<std::string> targets;
  std::string ports;
  std::string input_list;
  std::vector<std::string> excludes;
  bool open_only = false;
  bool json = false;
  bool banner = false;
  std::string banner_timeout = "1s";
  std::string timeout;
  unsigned retries = 1;
  unsigned concurrency = 0;
  std::string rate;
  std::string seed;
  std::string shard;
  unsigned threads = 0;
  std::string dns_servers;
  std::string results;  // --results FILE for netres merge
};

// The seed of the scan order: `text` (--seed, any base std::stoull takes) when given; otherwise
// a random one, except 0 when `sharded`, because the shards of one scan must agree on the order.
// Throws UsageError "bad --seed '...': expected a whole number".
uint64_t choose_seed(const std::string& text, bool sharded);

// The connect window: `requested` (0 = the default, min(budget, kDefaultWindow)), cut to the
// socket budget. `capped` says it was cut, so the caller can warn.
struct Concurrency {
  unsigned value = 0;
  bool capped = false;
};
Concurrency fit_concurrency(unsigned requested, unsigned budget);

// Event loop threads: `requested`, or by default up to 2 (one per core on small machines).
unsigned choose_threads(unsigned requested, unsigned hardware_threads);

// Targets and excludes as written: positional arguments and --exclude values are comma lists,
// and an -iL file (`input_list`, "" for none, "-" for stdin) adds its targets after them.
struct TargetTexts {
  std::vector<TargetText> targets;
  std::vector<TargetText> excludes;
};
TargetTexts gather_targets(const std::vector<std::string>& args, const std::string& input_list,
                           const std::vector<std::string>& excludes);

// Everything the flags decide before the targets are resolved: the ports (-p, default the top
// 1000), the options (timeouts above zero, rate, shard, seed, threads, the window against
// `socket_budget`) and whether --concurrency was cut to fit, so the caller can warn.
struct ScanPlan {
  ScanOptions options;
  PortSet ports;
  bool concurrency_capped = false;
};
// Throws UsageError naming the flag.
ScanPlan plan_for(const ScanFlags& f, unsigned socket_budget, unsigned hardware_threads);

}  // namespace netres::scan
