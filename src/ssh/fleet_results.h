// `netres ssh run`'s results file (`--results FILE`, read by `netres merge`): every host's
// status, exit code, duration, error and output with its position in the inventory; the shares
// of an inventory a shard runs on; and the merged printing, in inventory order.
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/shard.h"
#include "ssh/fan_out_runner.h"
#include "ssh/inventory.h"

namespace netres::ssh {

// The K-th of N contiguous shares of the selected hosts (inventory order kept), and the
// inventory position of its first host.
struct HostShare {
  Inventory hosts;
  uint64_t first = 0;
};
HostShare share_of(const Inventory& all, const Shard& shard);

// What every shard of one `ssh run` shares: the command (and --shell), and the selected hosts
// (after targets and --limit): their count and an FNV-1a digest of name, address, port and user.
nlohmann::json run_job_json(const Inventory& all, const std::string& command, bool shell);

struct PositionedResult {
  uint64_t position = 0;
  HostResult result;
};

// `results` in inventory order, the first at position `first`.
nlohmann::json fleet_data_json(const std::vector<HostResult>& results, uint64_t first);
// Throws UsageError "PATH: bad ssh results: ..." (one line).
std::vector<PositionedResult> fleet_results_from_json(const nlohmann::json& data,
                                                      const std::string& path);

// The shards' results in inventory order.
std::vector<HostResult> merge_fleet_results(std::vector<std::vector<PositionedResult>> shards);

// What one `ssh run` of the whole inventory prints, from its results: each host's output as
// "host | line" (stdout lines on `out`, stderr lines on `err`, host after host in inventory
// order) then the table, or with `json` one NDJSON object per host; then the summary on `err`.
// Returns the exit code (0, or 1 if a host was not ok).
int print_merged_run(std::FILE* out, std::FILE* err, const std::vector<HostResult>& results,
                     bool json);

}  // namespace netres::ssh
