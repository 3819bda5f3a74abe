// Results files: what one run, or one shard of a job, writes so that `netres merge` can join the
// shards of a job exactly. One JSON document:
//   {"netres_results": 1, "verb": "scan", "shard": "2/3", "job": {...}, "data": {...}}
// "job" is what every shard of one job shares (the scenario's digest, the seed, the targets and
// ports, ...): merge refuses files whose jobs differ. "data" belongs to the verb; each verb's
// library writes and merges its own (scan/, load/, capture/, resolve/, ssh/).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/shard.h"

namespace netres {

inline constexpr int kResultsFormat = 1;

struct ResultsFile {
  std::string verb;
  Shard shard;          // 1/1 for an unsharded run
  nlohmann::json job;   // equal across the shards of one job
  nlohmann::json data;  // the verb's results
  std::string path;     // where it was read from, for messages; not written
};

// Writes the file atomically (whole old file or whole new one). Throws RuntimeError.
void write_results_file(const std::string& path, const ResultsFile& results);

// Reads and checks the envelope. Throws UsageError "PATH: ..." (one line) for a missing file,
// bad JSON, another format version, or a missing field.
ResultsFile read_results_file(const std::string& path);

// Whether `files` are shards of one job: at least one file, one verb, equal jobs (the message
// names the first differing key), one N, no share given twice. Shares missing from 1..N are an
// error unless `allow_partial`; then they are returned as warnings ("shard 2/3 missing"). Throws
// UsageError.
std::vector<std::string> check_mergeable(const std::vector<ResultsFile>& files, bool allow_partial);

}  // namespace netres
