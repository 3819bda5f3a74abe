// resolve's results file (`--results FILE`, read by `netres merge`): every row (name, type,
// status, chain, answers) with the input position of its name, and the run's counts; and the
// merge, which puts the shards' rows back in input order under one summary.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/shard.h"
#include "resolve/bulk_resolve.h"

namespace netres::resolve {

// The K-th of N contiguous shares of `names` (input order kept) and the input position of its
// first name.
struct NameShare {
  std::vector<std::string> names;
  uint64_t first = 0;
};
NameShare share_of(std::vector<std::string> names, const Shard& shard);

// What every shard of one resolve job shares: the record types, the servers as given, and the
// whole name list (its length and a digest, so shards given different lists are refused).
nlohmann::json resolve_job_json(const std::vector<std::string>& all_names,
                                const std::vector<uint16_t>& types, const std::string& servers);

// A row with the input position of its name.
struct PositionedRow {
  uint64_t position = 0;
  ResolveRow row;
};

// One run's rows and summary (one shard, or the merge of several).
struct ResolveRun {
  std::vector<PositionedRow> rows;
  ResolveSummary summary;  // engine counters are not kept
};

nlohmann::json resolve_data_json(const ResolveRun& run);
// Throws UsageError "PATH: bad resolve results: ..." (one line).
ResolveRun resolve_run_from_json(const nlohmann::json& data, const std::string& path);

// The shards' rows in input order (stable: a name's rows keep their order) and one summary:
// counts added, the elapsed time of the longest shard.
ResolveRun merge_resolve_runs(const std::vector<ResolveRun>& runs);

}  // namespace netres::resolve
