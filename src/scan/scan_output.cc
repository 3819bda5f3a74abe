#include "scan/scan_output.h"

#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/output.h"
#include "common/services.h"

namespace netres::scan {
namespace {

std::string service_of(uint16_t port) {
  auto name = ServiceTable::system().name(port);
  return name.empty() ? std::string() : std::string(name);
}

std::string host_label(const TargetSpace& space, const IpAddress& a) {
  const std::string& name = space.name_of(a);
  return name.empty() ? a.to_string() : fmt::format("{} ({})", name, a.to_string());
}

std::string not_shown(const HostTally& h, size_t limit, bool open_only) {
  std::vector<std::string> parts;
  for (auto state : {PortState::kClosed, PortState::kFiltered}) {
    uint64_t n = h.of(state);
    if (n > 0 && (open_only || n > limit))
      parts.push_back(fmt::format("{} {}", n, to_string(state)));
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

// Formatted directly rather than through a JSON object: at 100k results a second the generic
// object would cost more CPU than the scan's own user-space work. Only the free-text fields
// (hostname, banner) go through the JSON library for escaping.
void append_json_line(fmt::memory_buffer& out, const TargetSpace& space, const PortResult& r) {
  auto quoted = [](const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  auto put = std::back_inserter(out);
  fmt::format_to(put, R"({{"host":"{}")", r.address.to_string());
  if (const auto& name = space.name_of(r.address); !name.empty())
    fmt::format_to(put, R"(,"hostname":{})", quoted(name));
  fmt::format_to(put, R"(,"port":{},"state":"{}","service":)", r.port, to_string(r.state));
  auto service = ServiceTable::system().name(r.port);
  if (service.empty()) {
    fmt::format_to(put, "null");
  } else {
    // Names in /etc/services are plain tokens: no quotes or control characters to escape.
    fmt::format_to(put, R"("{}")", service);
  }
  fmt::format_to(put, R"(,"reason":"{}","rtt_ms":)", to_string(r.reason));
  if (r.rtt.count() < 0) {
    fmt::format_to(put, "null");
  } else {
    fmt::format_to(put, "{:.3f}", static_cast<double>(r.rtt.count()) / 1e6);
  }
  fmt::format_to(put, R"(,"attempts":{})", r.attempts);
  if (r.has_banner) fmt::format_to(put, R"(,"banner":{})", quoted(r.banner));
  fmt::format_to(put, "}}\n");
}

void print_table(std::FILE* out, const TargetSpace& space, const ScanReport& report, bool open_only,
                 bool banner) {
  uint64_t all_filtered = 0;
  std::vector<std::string> all_filtered_labels;
  bool first = true;
  for (const auto& h : report.hosts()) {
    if (open_only && h.of(PortState::kOpen) == 0) continue;
    if (h.of(PortState::kFiltered) == h.total()) {
      ++all_filtered;
      if (all_filtered_labels.size() < 10)
        all_filtered_labels.push_back(host_label(space, h.address));
      continue;
    }
    if (!first) fmt::print(out, "\n");
    first = false;
    fmt::print(out, "netres scan report for {}\n", host_label(space, h.address));
    if (auto hidden = not_shown(h, report.list_limit(), open_only); !hidden.empty())
      fmt::print(out, "Not shown: {}\n", hidden);
    std::vector<Table::Column> columns = {{"PORT"}, {"STATE"}, {"SERVICE"}};
    if (banner) columns.push_back({"BANNER"});
    Table table(columns);
    for (const auto& r : h.listed) {
      if (open_only && r.state != PortState::kOpen) continue;
      std::vector<std::string> row = {fmt::format("{}/tcp", r.port), to_string(r.state),
                                      service_of(r.port)};
      if (row[2].empty()) row[2] = "unknown";
      if (banner) row.push_back(sanitize_banner(r.banner));
      table.add_row(std::move(row));
    }
    if (table.rows() > 0) table.print(out);
  }
  if (all_filtered > 0) {
    if (!first) fmt::print(out, "\n");
    if (all_filtered <= all_filtered_labels.size()) {
      for (const auto& label : all_filtered_labels)
        fmt::print(out, "netres scan report for {}: all scanned ports filtered\n", label);
    } else {
      fmt::print(out, "{} hosts not shown: all their scanned ports filtered\n", all_filtered);
    }
  }
}

std::string progress_text(const ScanCounts& c) {
  double pct = c.pairs_total ? 100.0 * c.pairs_done / c.pairs_total : 100.0;
  double secs = to_seconds(c.elapsed);
  return fmt::format("{:.1f}% ({}/{})  {} open  {:.0f} attempts/s  timeout {}", pct, c.pairs_done,
                     c.pairs_total, c.open, secs > 0 ? c.attempts / secs : 0.0,
                     format_duration(c.timeout));
}

std::string summary_text(uint64_t hosts, uint64_t ports, const Shard& shard,
                         const ScanCounts& counts, uint64_t seed) {
  double secs = to_seconds(counts.elapsed);
  return fmt::format(
      "{} host{}, {} port{}{}: {} open, {} closed, {} filtered in {} ({:.0f} attempts/s, timeout "
      "{}, seed {})",
      hosts, hosts == 1 ? "" : "s", ports, ports == 1 ? "" : "s",
      shard.count > 1
          ? fmt::format(" (shard {}/{}: {} pairs)", shard.index, shard.count, counts.pairs_total)
          : "",
      counts.open, counts.closed, counts.filtered, format_duration(counts.elapsed),
      secs > 0 ? counts.attempts / secs : 0.0, format_duration(counts.timeout), seed);
}

std::string unreachable_text(uint64_t hosts) {
  return fmt::format("{} host{} unreachable (ICMP unreachable or no route on every port)", hosts,
                     hosts == 1 ? "" : "s");
}

}  // namespace netres::scan
