// ssh run results files: host shares, writing, strict reading, merging and printing.
#include "ssh/fleet_results.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "common/output.h"
#include "common/text.h"
#include "ssh/fleet_report.h"

namespace netres::ssh {
namespace {

const HostStatus kStatuses[] = {HostStatus::kOk,          HostStatus::kFailed,
                                HostStatus::kUnreachable, HostStatus::kAuthFailed,
                                HostStatus::kTimeout,     HostStatus::kHostKey};

// FNV-1a: stable across builds and machines, so shards anywhere agree on the digest.
void fnv1a(uint64_t& h, std::string_view text) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
}

}  // namespace

HostShare share_of(const Inventory& all, const Shard& shard) {
  HostShare s;
  const auto& hosts = all.hosts();
  s.first = shard.begin_of(hosts.size());
  uint64_t end = s.first + shard.portion(hosts.size());
  for (uint64_t i = s.first; i < end; ++i) s.hosts.add(hosts[i]);
  return s;
}

nlohmann::json run_job_json(const Inventory& all, const std::string& command, bool shell) {
  uint64_t h = 14695981039346656037ull;
  for (const Host& host : all.hosts())
    fnv1a(h, fmt::format("{}\t{}\t{}\t{}\n", host.name, host.address, host.port, host.user));
  return {{"verb", "run"},
          {"command", command},
          {"shell", shell},
          {"hosts", all.hosts().size()},
          {"hosts_fnv1a64", fmt::format("{:016x}", h)}};
}

nlohmann::json fleet_data_json(const std::vector<HostResult>& results, uint64_t first) {
  nlohmann::json hosts = nlohmann::json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    const HostResult& r = results[i];
    hosts.push_back({{"position", first + i},
                     {"host", r.host},
                     {"status", std::string(to_string(r.status))},
                     {"exit_code", r.exit_code ? nlohmann::json(*r.exit_code) : nullptr},
                     {"duration_ns", r.duration.count()},
                     {"error", r.error},
                     // Output is bytes, not always UTF-8: kept byte for byte.
                     {"stdout", bytes_to_utf8(r.stdout_text)},
                     {"stderr", bytes_to_utf8(r.stderr_text)}});
  }
  return {{"results", std::move(hosts)}};
}

std::vector<PositionedResult> fleet_results_from_json(const nlohmann::json& data,
                                                      const std::string& path) {
  std::vector<PositionedResult> out;
  try {
    for (const auto& j : data.at("results")) {
      PositionedResult p;
      p.position = j.at("position").get<uint64_t>();
      HostResult& r = p.result;
      r.host = j.at("host").get<std::string>();
      auto status = j.at("status").get<std::string>();
      auto it = std::find_if(std::begin(kStatuses), std::end(kStatuses),
                             [&](HostStatus s) { return to_string(s) == status; });
      if (it == std::end(kStatuses))
        throw std::invalid_argument(fmt::format("unknown status '{}'", status));
      r.status = *it;
      if (!j.at("exit_code").is_null()) r.exit_code = j["exit_code"].get<int>();
      r.duration = Nanos(j.at("duration_ns").get<int64_t>());
      r.error = j.at("error").get<std::string>();
      auto out_bytes = utf8_to_bytes(j.at("stdout").get<std::string>());
      auto err_bytes = utf8_to_bytes(j.at("stderr").get<std::string>());
      if (!out_bytes || !err_bytes)
        throw std::invalid_argument("output is not bytes as U+0000-U+00FF");
      r.stdout_text = std::move(*out_bytes);
      r.stderr_text = std::move(*err_bytes);
      out.push_back(std::move(p));
    }
  } catch (const std::exception& e) {  // nlohmann's errors name the key or the wrong type
    std::string why = e.what();
    std::replace(why.begin(), why.end(), '\n', ' ');
    throw UsageError(fmt::format("{}: bad ssh results: {}", path, why));
  }
  return out;
}

std::vector<HostResult> merge_fleet_results(std::vector<std::vector<PositionedResult>> shards) {
  std::vector<PositionedResult> all;
  for (auto& shard : shards)
    all.insert(all.end(), std::make_move_iterator(shard.begin()),
               std::make_move_iterator(shard.end()));
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.position < b.position; });
  std::vector<HostResult> out;
  out.reserve(all.size());
  for (auto& p : all) out.push_back(std::move(p.result));
  return out;
}

int print_merged_run(std::FILE* out, std::FILE* err, const std::vector<HostResult>& results,
                     bool json) {
  if (json) {
    NdjsonWriter ndjson(out);
    for (const auto& r : results) ndjson.write(run_json(r));
    ndjson.flush();
  } else {
    LivePrefixWriter live(out, err);
    for (const auto& r : results) {
      live.write(r.host, Stream::kStdout, r.stdout_text);
      live.write(r.host, Stream::kStderr, r.stderr_text);
      live.finish(r.host);
    }
  }
  std::fflush(out);
  return print_run_results(out, err, results, json);
}

}  // namespace netres::ssh
