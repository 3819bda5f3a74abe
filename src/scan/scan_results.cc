// Scan results files: writing, reading back (strictly: these files cross machines) and merging.
#include "scan/scan_results.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/terminal.h"
#include "common/text.h"
#include "scan/scan_output.h"
#include "scan/scan_report.h"

namespace netres::scan {
namespace {

// open > closed > filtered: the most informative answer wins when a pair is seen twice.
int informativeness(PortState s) {
  switch (s) {
    case PortState::kOpen:
      return 2;
    case PortState::kClosed:
      return 1;
    case PortState::kFiltered:
      return 0;
  }
  return 0;
}

const PortState kStates[] = {PortState::kOpen, PortState::kClosed, PortState::kFiltered};
const Reason kReasons[] = {Reason::kSynAck,      Reason::kConnRefused, Reason::kNoResponse,
                           Reason::kHostUnreach, Reason::kNetUnreach,  Reason::kLocalDenied,
                           Reason::kError};

template <typename E, size_t N>
bool parse_enum(const nlohmann::json& j, const E (&values)[N], E& out) {
  if (!j.is_string()) return false;
  const auto& text = j.get_ref<const std::string&>();
  for (E v : values)
    if (text == to_string(v)) {
      out = v;
      return true;
    }
  return false;
}

uint64_t nanos_of_ms(double ms) { return static_cast<uint64_t>(std::llround(ms * 1e6)); }

}  // namespace

nlohmann::json scan_job_json(const std::vector<TargetText>& targets,
                             const std::vector<TargetText>& excludes, const PortSet& ports,
                             const ScanOptions& options, const std::string& fixed_timeout,
                             bool open_only) {
  nlohmann::json t = nlohmann::json::array(), x = nlohmann::json::array();
  for (const auto& target : targets) t.push_back(target.text);
  for (const auto& exclude : excludes) x.push_back(exclude.text);
  return {{"scan", "tcp-connect"},
          {"targets", t},
          {"excludes", x},
          {"ports", ports.to_string()},
          {"seed", options.seed},
          {"banner", options.banner},
          {"retries", options.retries},
          {"timeout", fixed_timeout.empty() ? "adaptive" : fixed_timeout},
          {"open_only", open_only}};
}

nlohmann::json scan_data_json(const ScanRun& run) {
  // Group per address (sorted), ports in the order they were seen.
  std::map<IpAddress, std::vector<const PortResult*>> by_host;
  for (const auto& r : run.results) by_host[r.address].push_back(&r);
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& [address, rows] : by_host) {
    nlohmann::json ports = nlohmann::json::array();
    for (const PortResult* r : rows) {
      nlohmann::json row = {r->port, to_string(r->state), to_string(r->reason), nullptr,
                            r->attempts};
      if (r->rtt.count() >= 0) row[3] = static_cast<double>(r->rtt.count()) / 1e6;
      if (r->has_banner) row.push_back(bytes_to_utf8(r->banner));
      ports.push_back(std::move(row));
    }
    nlohmann::json host = {{"address", address.to_string()}, {"ports", std::move(ports)}};
    if (auto it = run.names.find(address); it != run.names.end()) host["hostname"] = it->second;
    hosts.push_back(std::move(host));
  }
  ScanCounts c = count_states(run.results);
  return {{"hosts", run.hosts},
          {"ports", run.ports},
          {"pairs", run.pairs},
          {"open", c.open},
          {"closed", c.closed},
          {"filtered", c.filtered},
          {"attempts", run.attempts},
          {"elapsed_ms", static_cast<double>(run.elapsed.count()) / 1e6},
          {"timeout_ms", static_cast<double>(run.timeout.count()) / 1e6},
          {"seed", run.seed},
          {"banner", run.banner},
          {"open_only", run.open_only},
          {"unresolved", run.unresolved},
          {"interrupted", run.interrupted},
          {"results", std::move(hosts)}};
}

ScanRun scan_run_from_json(const nlohmann::json& data, const std::string& path) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("{}: bad scan results: {}", path, why));
  };
  if (!data.is_object()) throw bad("\"data\" is not an object");
  ScanRun run;
  try {
    run.hosts = data.at("hosts").get<uint64_t>();
    run.ports = data.at("ports").get<uint64_t>();
    run.pairs = data.at("pairs").get<uint64_t>();
    run.attempts = data.at("attempts").get<uint64_t>();
    run.elapsed = Nanos(nanos_of_ms(data.at("elapsed_ms").get<double>()));
    run.timeout = Nanos(nanos_of_ms(data.at("timeout_ms").get<double>()));
    run.seed = data.at("seed").get<uint64_t>();
    run.banner = data.at("banner").get<bool>();
    run.open_only = data.at("open_only").get<bool>();
    run.unresolved = data.at("unresolved").get<std::vector<std::string>>();
    run.interrupted = data.value("interrupted", false);
    for (const auto& host : data.at("results")) {
      auto address = parse_ip(host.at("address").get<std::string>());
      if (!address) throw bad(fmt::format("'{}' is not an address", host.at("address").dump()));
      if (host.contains("hostname")) run.names[*address] = host["hostname"].get<std::string>();
      for (const auto& row : host.at("ports")) {
        if (!row.is_array() || row.size() < 5 || row.size() > 6)
          throw bad(
              "a port row is not "
              "[port, state, reason, "
              "rtt_ms, attempts]");
        PortResult r;
        r.address = *address;
        uint64_t port = row[0].get<uint64_t>();
        if (port < 1 || port > 65535) throw bad(fmt::format("port {} is not 1-65535", port));
        r.port = static_cast<uint16_t>(port);
        if (!parse_enum(row[1], kStates, r.state)) throw bad("unknown state " + row[1].dump());
        if (!parse_enum(row[2], kReasons, r.reason)) throw bad("unknown reason " + row[2].dump());
        r.rtt = row[3].is_null() ? Nanos(-1) : Nanos(nanos_of_ms(row[3].get<double>()));
        r.attempts = static_cast<uint8_t>(std::min<uint64_t>(row[4].get<uint64_t>(), 255));
        if (row.size() == 6) {
          r.has_banner = true;
          auto banner = utf8_to_bytes(row[5].get<std::string>());
          if (!banner) throw bad("a banner is not bytes as U+0000-U+00FF");
          r.banner = std::move(*banner);
        }
        run.results.push_back(std::move(r));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    // at() and get<>() name the missing key or the wrong type in e.what(); keep one line.
    std::string why = e.what();
    std::replace(why.begin(), why.end(), '\n', ' ');
    throw bad(why);
  }
  return run;
}

ScanCounts count_states(const std::vector<PortResult>& results) {
  ScanCounts c;
  for (const auto& r : results) {
    switch (r.state) {
      case PortState::kOpen:
        ++c.open;
        break;
      case PortState::kClosed:
        ++c.closed;
        break;
      case PortState::kFiltered:
        ++c.filtered;
        break;
    }
  }
  return c;
}

ScanMerge merge_scan_runs(const std::vector<ScanRun>& runs) {
  ScanMerge m;
  ScanRun& out = m.run;
  size_t total = 0;
  for (const auto& run : runs) total += run.results.size();
  out.results.reserve(total);
  for (const auto& run : runs) {
    out.hosts = std::max(out.hosts, run.hosts);
    out.ports = std::max(out.ports, run.ports);
    out.pairs += run.pairs;
    out.attempts += run.attempts;
    out.elapsed = std::max(out.elapsed, run.elapsed);
    out.timeout = std::max(out.timeout, run.timeout);
    out.seed = run.seed;
    out.banner = out.banner || run.banner;
    out.open_only = out.open_only || run.open_only;
    out.interrupted = out.interrupted || run.interrupted;
    for (const auto& [address, name] : run.names) out.names.emplace(address, name);
    for (const auto& u : run.unresolved)
      if (std::find(out.unresolved.begin(), out.unresolved.end(), u) == out.unresolved.end())
        out.unresolved.push_back(u);
    out.results.insert(out.results.end(), run.results.begin(), run.results.end());
  }
  // Stable: among equal pairs the earlier shard's result comes first.
  std::stable_sort(out.results.begin(), out.results.end(),
                   [](const PortResult& a, const PortResult& b) {
                     if (a.address != b.address) return a.address < b.address;
                     return a.port < b.port;
                   });
  std::vector<PortResult> kept;
  kept.reserve(out.results.size());
  for (auto& r : out.results) {
    if (!kept.empty() && kept.back().address == r.address && kept.back().port == r.port) {
      PortResult& seen = kept.back();
      ++m.duplicates;
      if (m.duplicate_examples.size() < 5)
        m.duplicate_examples.push_back(fmt::format("{}:{} {} and {}", r.address.to_string(), r.port,
                                                   to_string(seen.state), to_string(r.state)));
      if (informativeness(r.state) > informativeness(seen.state)) seen = std::move(r);
      continue;
    }
    kept.push_back(std::move(r));
  }
  // Number hosts in address order, as the target space does (IPv4 before IPv6).
  uint64_t index = 0;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i > 0 && kept[i].address != kept[i - 1].address) ++index;
    kept[i].host_index = index;
  }
  out.results = std::move(kept);
  out.pairs -= std::min(out.pairs, m.duplicates);
  return m;
}

int print_scan_run(std::FILE* out, const ScanRun& run, bool json) {
  TargetSpace labels({}, PortSet(), run.names);
  ScanReport report(!json);
  fmt::memory_buffer line;
  for (const auto& r : run.results) {
    report.add(r);
    if (json && (!run.open_only || r.state == PortState::kOpen)) {
      line.clear();
      append_json_line(line, labels, r);
      std::fwrite(line.data(), 1, line.size(), out);
    }
  }
  if (!json) print_table(out, labels, report, run.open_only, run.banner);
  std::fflush(out);
  ScanCounts counts = count_states(run.results);
  counts.pairs_total = run.pairs;
  counts.attempts = run.attempts;
  counts.elapsed = run.elapsed;
  counts.timeout = run.timeout;
  for (const auto& u : run.unresolved) warn("scan", u);
  warn("scan", summary_text(run.hosts, run.ports, Shard{}, counts, run.seed));
  uint64_t unreachable = report.unreachable_hosts();
  if (unreachable > 0)
    warn("scan", fmt::format("{} host{} unreachable (ICMP unreachable or no route on every port)",
                             unreachable, unreachable == 1 ? "" : "s"));
  return run.unresolved.empty() && unreachable == 0 ? kExitOk : kExitFailed;
}

ScanMerge merge_scan_files(const std::vector<ResultsFile>& files) {
  std::vector<ScanRun> runs;
  for (const auto& file : files) runs.push_back(scan_run_from_json(file.data, file.path));
  ScanMerge merged = merge_scan_runs(runs);
  for (size_t i = 0; i < runs.size(); ++i)
    if (runs[i].interrupted)
      merged.warnings.push_back(
          fmt::format("{} (shard {}/{}) was interrupted: it holds {} of its pairs", files[i].path,
                      files[i].shard.index, files[i].shard.count, runs[i].results.size()));
  if (merged.duplicates > 0) {
    std::string examples;
    for (const auto& e : merged.duplicate_examples) examples += (examples.empty() ? "" : "; ") + e;
    merged.warnings.push_back(
        fmt::format("{} (address, port) pair{} seen more than once, the most informative state "
                    "kept: {}",
                    merged.duplicates, merged.duplicates == 1 ? "" : "s", examples));
  }
  return merged;
}

}  // namespace netres::scan
