// bandwidth's results file (`--results FILE`, read by `netres merge`): every row's key, packet
// and byte counts per direction and bytes per whole second, the totals with their own per-second
// bytes, the evicted ("other") aggregate; and the merge, which adds the shards' rows into one
// FlowStats so the verb's own table or NDJSON prints the whole job.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capture/flow_stats.h"
#include "common/results_file.h"

namespace netres::capture {

// Every row's bytes per second are kept at this width: the busiest-second column's.
inline constexpr int kBinSeconds = 1;

// What every shard of one bandwidth job shares: the view (--by), every input file as given (a
// shard reads its contiguous share of them), the filter, -c, the rows shown (--top; 0: all) and
// the table bound (--max-flows; 0: none), and the bin width.
nlohmann::json bandwidth_job_json(Aggregation by, const std::vector<std::string>& files,
                                  const std::string& filter, uint64_t count, size_t top,
                                  size_t max_flows);

// The "data" of the results file; `stats` must keep bins. `files` are the ones this run read.
nlohmann::json bandwidth_data_json(const FlowStats& stats, const std::vector<std::string>& files,
                                   bool interrupted);

// Adds one results file's data into `into` (which must keep bins and have the same --by).
// Throws UsageError "PATH: bad bandwidth results: ..." (one line).
void absorb_bandwidth_data(FlowStats& into, const nlohmann::json& data, const std::string& path);

// The FlowStats of the whole job from its shards' data, in shard order (so rows keep one run's
// order among equals): a table as the job's (unbounded, or bounded by its --max-flows).
std::unique_ptr<FlowStats> merge_bandwidth(const std::vector<const nlohmann::json*>& data,
                                           const std::vector<std::string>& paths,
                                           const nlohmann::json& job);

// The merge of one bandwidth job's results files (already checked by check_mergeable), in shard
// order whatever order they are given in: the whole job's FlowStats, the files its shards read,
// whether any shard was stopped early (each such shard named in `warnings`), and the job's --top
// and --max-flows for printing.
struct BandwidthMerge {
  std::unique_ptr<FlowStats> stats;
  std::vector<std::string> files;
  bool interrupted = false;
  std::vector<std::string> warnings;
  size_t top = 0;
  size_t max_flows = 0;
};
BandwidthMerge merge_bandwidth_files(const std::vector<ResultsFile>& files);

}  // namespace netres::capture
