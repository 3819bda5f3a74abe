// A scan's results file (`--results FILE`, read by `netres merge`): every (address, port) result
// with its state, reason, RTT, attempts and banner, the hostnames that labelled addresses, and
// the counts the summary line needs; and the merge of the shards of one scan.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/duration.h"
#include "common/port_set.h"
#include "common/results_file.h"
#include "scan/connect_scanner.h"
#include "scan/port_result.h"
#include "scan/target_space.h"

namespace netres::scan {

// What every shard of one scan must share, so merge refuses results of different scans: the
// targets and excludes as written, the ports, the seed (it decides which pairs a shard owns) and
// the flags that change results or their display (banner, retries, a fixed timeout, --open).
nlohmann::json scan_job_json(const std::vector<TargetText>& targets,
                             const std::vector<TargetText>& excludes, const PortSet& ports,
                             const ScanOptions& options, const std::string& fixed_timeout,
                             bool open_only);

// One run's results (one shard, or the merge of several).
struct ScanRun {
  std::vector<PortResult> results;
  std::map<IpAddress, std::string> names;  // addresses that came from hostnames
  uint64_t hosts = 0;                      // hosts of the whole target space
  uint64_t ports = 0;                      // ports per host
  uint64_t pairs = 0;                      // pairs this run covered (its shard's share)
  uint64_t attempts = 0;
  Nanos elapsed{0};
  Nanos timeout{0};  // the per-attempt timeout in force at the end
  uint64_t seed = 0;
  bool banner = false;
  bool open_only = false;
  std::vector<std::string> unresolved;  // "name: why" for hostnames that gave no address
  bool interrupted = false;             // stopped by Ctrl-C: `results` is a part of the pairs
};

// The "data" of the results file. Results are grouped per address, each port one compact row
// [port, state, reason, rtt_ms or null, attempts(, banner)]; docs/scan.md describes it.
nlohmann::json scan_data_json(const ScanRun& run);
// Reads it back; `path` names the file in errors. Throws UsageError (one line).
ScanRun scan_run_from_json(const nlohmann::json& data, const std::string& path);

struct ScanMerge {
  ScanRun run;  // results sorted by address then port, host_index numbered in that order
  uint64_t duplicates = 0;
  std::vector<std::string> duplicate_examples;  // "198.18.40.2:22 open and closed", a few
  std::vector<std::string> warnings;  // interrupted shards, duplicates: one line each, for stderr
};

// Joins the runs of one scan's shards. A pair seen twice keeps the most informative state (open
// over closed over filtered; the first seen among equals) and is counted as a duplicate. Counts
// add up; elapsed is the longest shard's (they run side by side), the timeout the largest.
ScanMerge merge_scan_runs(const std::vector<ScanRun>& runs);

// Reads the results files of one scan's shards (already checked by check_mergeable) and merges
// them; `warnings` names each interrupted shard and sums up the duplicates.
ScanMerge merge_scan_files(const std::vector<ResultsFile>& files);

// Prints a run as one scan of the whole job prints it: the table (or NDJSON, one line per result in
// address and port order) on `out`, then on stderr the summary line, the hostnames that did not
// resolve and the unreachable hosts. Returns the exit code that scan would have had (0 or 1).
int print_scan_run(std::FILE* out, const ScanRun& run, bool json);

// The open / closed / filtered counts of `results`.
ScanCounts count_states(const std::vector<PortResult>& results);

}  // namespace netres::scan
