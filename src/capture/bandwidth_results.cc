// bandwidth results files: writing, strict reading, merging by absorbing rows into one FlowStats.
#include "capture/bandwidth_results.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "capture/bandwidth_report.h"
#include "common/error.h"

namespace netres::capture {
namespace {

std::string hex(const std::array<uint8_t, 16>& bytes) {
  std::string out;
  for (uint8_t b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

bool unhex(const std::string& text, std::array<uint8_t, 16>& out) {
  if (text.size() != 32) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 16; ++i) {
    int hi = digit(text[2 * i]), lo = digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

// The fields of a row, in order (written to the file too, so it explains itself).
const char* const kRowFields[] = {"key",       "lo",      "hi",      "lo_port",   "hi_port",
                                  "version",   "proto",   "a_is_lo", "packets_0", "bytes_0",
                                  "packets_1", "bytes_1", "first",   "last",      "bins"};

nlohmann::json bins_json(const SecondBins& bins) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [second, bytes] : bins) out.push_back({second, bytes});
  return out;
}

SecondBins bins_from(const nlohmann::json& j) {
  SecondBins out;
  for (const auto& bin : j) out.emplace_back(bin.at(0).get<int64_t>(), bin.at(1).get<uint64_t>());
  return out;
}

nlohmann::json counters_json(const std::array<DirectionCounters, 2>& c) {
  return {{c[0].packets, c[0].bytes}, {c[1].packets, c[1].bytes}};
}

std::array<DirectionCounters, 2> counters_from(const nlohmann::json& j) {
  std::array<DirectionCounters, 2> c{};
  for (size_t d = 0; d < 2; ++d) {
    c[d].packets = j.at(d).at(0).get<uint64_t>();
    c[d].bytes = j.at(d).at(1).get<uint64_t>();
  }
  return c;
}

Aggregation aggregation_from(const std::string& name) {
  for (auto by : {Aggregation::kFlow, Aggregation::kHost, Aggregation::kPort, Aggregation::kProto})
    if (name == aggregation_name(by)) return by;
  throw std::invalid_argument(fmt::format("unknown view '{}'", name));
}

}  // namespace

nlohmann::json bandwidth_job_json(Aggregation by, const std::vector<std::string>& files,
                                  const std::string& filter, uint64_t count, size_t top,
                                  size_t max_flows) {
  return {{"by", aggregation_name(by)},
          {"files", files},
          {"filter", filter},
          {"count", count},
          {"top", top},
          {"max_flows", max_flows},
          {"bin_seconds", kBinSeconds}};
}

nlohmann::json bandwidth_data_json(const FlowStats& stats, const std::vector<std::string>& files,
                                   bool interrupted) {
  const Aggregation by = stats.by();
  std::vector<const FlowEntry*> entries;
  stats.table().for_each([&](const FlowEntry& e) { entries.push_back(&e); });
  // A bounded table visits most recent first: write least recent first, so a merge that has to
  // evict again evicts what this run would have.
  if (stats.table().bounded()) std::reverse(entries.begin(), entries.end());
  // One flat array per row (no object, no nested arrays): a std::map per row made the file
  // several times slower to write and read at 100,000 rows. The order is kRowFields'.
  nlohmann::json rows = nlohmann::json::array();
  for (const FlowEntry* e : entries) {
    const FlowKey& k = e->key;
    nlohmann::json bins = nlohmann::json::array();
    for (const auto& [second, bytes] : stats.bins_of(*e)) {
      bins.push_back(second);
      bins.push_back(bytes);
    }
    rows.push_back({key_text(by, *e), hex(k.lo_addr), hex(k.hi_addr), k.lo_port, k.hi_port,
                    k.version, k.proto, e->a_is_lo, e->counters[0].packets, e->counters[0].bytes,
                    e->counters[1].packets, e->counters[1].bytes, e->first_second, e->last_second,
                    std::move(bins)});
  }
  const FlowTotals& t = stats.totals();
  return {{"by", aggregation_name(by)},
          {"bin_seconds", kBinSeconds},
          {"row_fields", kRowFields},
          {"files", files},
          {"interrupted", interrupted},
          {"packets", t.packets},
          {"bytes", t.bytes},
          {"non_ip_packets", t.non_ip_packets},
          {"non_ip_bytes", t.non_ip_bytes},
          {"first", t.first_second},
          {"last", t.last_second},
          {"bins", bins_json(stats.total_bins())},
          {"evicted",
           {{"entries", stats.table().evictions()},
            {"counters", counters_json(stats.table().evicted())}}},
          {"rows", std::move(rows)}};
}

void absorb_bandwidth_data(FlowStats& into, const nlohmann::json& data, const std::string& path) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("{}: bad bandwidth results: {}", path, why));
  };
  try {
    if (!data.is_object()) throw bad("\"data\" is not an object");
    if (data.at("bin_seconds").get<int>() != kBinSeconds)
      throw bad(fmt::format("bins of {} s, not {} s", data["bin_seconds"].dump(), kBinSeconds));
    if (aggregation_from(data.at("by").get<std::string>()) != into.by())
      throw bad(fmt::format("rows per {}, not per {}", data["by"].get<std::string>(),
                            aggregation_name(into.by())));
    for (const auto& row : data.at("rows")) {
      if (!row.is_array() || row.size() != std::size(kRowFields))
        throw bad(fmt::format("a row is not an array of {} fields", std::size(kRowFields)));
      AbsorbedRow r;
      if (!unhex(row[1].get<std::string>(), r.key.lo_addr) ||
          !unhex(row[2].get<std::string>(), r.key.hi_addr))
        throw bad("a row's address is not 32 hex digits");
      r.key.lo_port = row[3].get<uint16_t>();
      r.key.hi_port = row[4].get<uint16_t>();
      r.key.version = row[5].get<uint8_t>();
      r.key.proto = row[6].get<uint8_t>();
      r.a_is_lo = row[7].get<bool>();
      r.counters[0] = {row[8].get<uint64_t>(), row[9].get<uint64_t>()};
      r.counters[1] = {row[10].get<uint64_t>(), row[11].get<uint64_t>()};
      r.first_second = row[12].get<int64_t>();
      r.last_second = row[13].get<int64_t>();
      const auto& bins = row[14];
      if (!bins.is_array() || bins.size() % 2 != 0)
        throw bad("a row's bins are not [second, bytes, second, bytes, ...]");
      for (size_t i = 0; i < bins.size(); i += 2)
        r.bins.emplace_back(bins[i].get<int64_t>(), bins[i + 1].get<uint64_t>());
      into.absorb(r);
    }
    FlowTotals t;
    t.packets = data.at("packets").get<uint64_t>();
    t.bytes = data.at("bytes").get<uint64_t>();
    t.non_ip_packets = data.at("non_ip_packets").get<uint64_t>();
    t.non_ip_bytes = data.at("non_ip_bytes").get<uint64_t>();
    t.first_second = data.at("first").get<int64_t>();
    t.last_second = data.at("last").get<int64_t>();
    into.absorb_totals(t, bins_from(data.at("bins")));
    const auto& ev = data.at("evicted");
    into.absorb_evicted(counters_from(ev.at("counters")), ev.at("entries").get<uint64_t>());
  } catch (const nlohmann::json::exception& e) {
    std::string why = e.what();
    std::replace(why.begin(), why.end(), '\n', ' ');
    throw bad(why);
  } catch (const std::invalid_argument& e) {
    throw bad(e.what());
  }
}

std::unique_ptr<FlowStats> merge_bandwidth(const std::vector<const nlohmann::json*>& data,
                                           const std::vector<std::string>& paths,
                                           const nlohmann::json& job) {
  FlowStatsOptions o;
  try {
    o.by = aggregation_from(job.at("by").get<std::string>());
    o.max_entries = job.at("max_flows").get<size_t>();
  } catch (const std::exception& e) {
    std::string why = e.what();
    std::replace(why.begin(), why.end(), '\n', ' ');
    throw UsageError(fmt::format("{}: bad bandwidth job: {}", paths.front(), why));
  }
  o.keep_bins = true;
  auto stats = std::make_unique<FlowStats>(o);
  for (size_t i = 0; i < data.size(); ++i) absorb_bandwidth_data(*stats, *data[i], paths[i]);
  return stats;
}

BandwidthMerge merge_bandwidth_files(const std::vector<ResultsFile>& files) {
  // Shard order, so rows are created (and equal rows ordered) as one run over the files would.
  std::vector<const ResultsFile*> sorted;
  for (const auto& file : files) sorted.push_back(&file);
  std::stable_sort(sorted.begin(), sorted.end(), [](const ResultsFile* a, const ResultsFile* b) {
    return a->shard.index < b->shard.index;
  });
  BandwidthMerge m;
  std::vector<const nlohmann::json*> data;
  std::vector<std::string> paths;
  for (const ResultsFile* file : sorted) {
    data.push_back(&file->data);
    paths.push_back(file->path);
    if (file->data.value("interrupted", false)) {
      m.interrupted = true;
      m.warnings.push_back(fmt::format(
          "{} (shard {}/{}) was stopped before the end of its files: its counts are partial",
          file->path, file->shard.index, file->shard.count));
    }
  }
  const nlohmann::json& job = files.front().job;
  m.stats = merge_bandwidth(data, paths, job);
  m.top = job.value("top", size_t{0});
  m.max_flows = job.value("max_flows", size_t{0});
  for (const auto* d : data)
    for (const auto& name : d->value("files", nlohmann::json::array())) m.files.push_back(name);
  return m;
}

}  // namespace netres::capture
