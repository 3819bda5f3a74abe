// netres scan: flags -> ScanOptions and targets -> ConnectScanner -> nmap-style table or NDJSON.
#include <fmt/format.h>

#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/output.h"
#include "common/port_set.h"
#include "common/services.h"
#include "common/shard.h"
#include "common/size.h"
#include "common/terminal.h"
#include "scan/connect_scanner.h"
#include "scan/resolve_targets.h"
#include "scan/scan_report.h"
#include "scan/top_ports.h"

namespace netres::cli {
namespace {

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
};

std::string service_of(uint16_t port) {
  auto name = ServiceTable::system().name(port);
  return name.empty() ? std::string() : std::string(name);
}

std::string host_label(const scan::TargetSpace& space, const IpAddress& a) {
  const std::string& name = space.name_of(a);
  return name.empty() ? a.to_string() : fmt::format("{} ({})", name, a.to_string());
}

// One NDJSON line per result, formatted directly: at 100k results a second the generic JSON
// object would cost more CPU than the scan's own user-space work. Only the free-text fields
// (hostname, banner) go through the JSON library for escaping.
void append_json_line(fmt::memory_buffer& out, const scan::TargetSpace& space,
                      const scan::PortResult& r) {
  auto quoted = [](const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  auto put = std::back_inserter(out);
  fmt::format_to(put, R"({{"host":"{}")", r.address.to_string());
  if (const auto& name = space.name_of(r.address); !name.empty())
    fmt::format_to(put, R"(,"hostname":{})", quoted(name));
  fmt::format_to(put, R"(,"port":{},"state":"{}","service":)", r.port, scan::to_string(r.state));
  auto service = ServiceTable::system().name(r.port);
  if (service.empty()) {
    fmt::format_to(put, "null");
  } else {
    // Names in /etc/services are plain tokens: no quotes or control characters to escape.
    fmt::format_to(put, R"("{}")", service);
  }
  fmt::format_to(put, R"(,"reason":"{}","rtt_ms":)", scan::to_string(r.reason));
  if (r.rtt.count() < 0) {
    fmt::format_to(put, "null");
  } else {
    fmt::format_to(put, "{:.3f}", static_cast<double>(r.rtt.count()) / 1e6);
  }
  fmt::format_to(put, R"(,"attempts":{})", r.attempts);
  if (r.has_banner) fmt::format_to(put, R"(,"banner":{})", quoted(r.banner));
  fmt::format_to(put, "}}\n");
}

std::string not_shown(const scan::HostTally& h, size_t limit, bool open_only) {
  std::vector<std::string> parts;
  for (auto state : {scan::PortState::kClosed, scan::PortState::kFiltered}) {
    uint64_t n = h.of(state);
    if (n > 0 && (open_only || n > limit))
      parts.push_back(fmt::format("{} {}", n, scan::to_string(state)));
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

void print_table(const scan::TargetSpace& space, const scan::ScanReport& report, bool open_only,
                 bool banner) {
  uint64_t all_filtered = 0;
  std::vector<std::string> all_filtered_labels;
  bool first = true;
  for (const auto& h : report.hosts()) {
    if (open_only && h.of(scan::PortState::kOpen) == 0) continue;
    if (h.of(scan::PortState::kFiltered) == h.total()) {
      ++all_filtered;
      if (all_filtered_labels.size() < 10)
        all_filtered_labels.push_back(host_label(space, h.address));
      continue;
    }
    if (!first) fmt::print("\n");
    first = false;
    fmt::print("netres scan report for {}\n", host_label(space, h.address));
    if (auto hidden = not_shown(h, report.list_limit(), open_only); !hidden.empty())
      fmt::print("Not shown: {}\n", hidden);
    std::vector<Table::Column> columns = {{"PORT"}, {"STATE"}, {"SERVICE"}};
    if (banner) columns.push_back({"BANNER"});
    Table table(columns);
    for (const auto& r : h.listed) {
      if (open_only && r.state != scan::PortState::kOpen) continue;
      std::vector<std::string> row = {fmt::format("{}/tcp", r.port), scan::to_string(r.state),
                                      service_of(r.port)};
      if (row[2].empty()) row[2] = "unknown";
      if (banner) row.push_back(scan::sanitize_banner(r.banner));
      table.add_row(std::move(row));
    }
    if (table.rows() > 0) table.print(stdout);
  }
  if (all_filtered > 0) {
    if (!first) fmt::print("\n");
    if (all_filtered <= all_filtered_labels.size()) {
      for (const auto& label : all_filtered_labels)
        fmt::print("netres scan report for {}: all scanned ports filtered\n", label);
    } else {
      fmt::print("{} hosts not shown: all their scanned ports filtered\n", all_filtered);
    }
  }
}

int run_scan(const ScanFlags& f) {
  scan::ScanOptions options;
  PortSet ports =
      f.ports.empty() ? scan::top_ports() : parse_port_set(f.ports, ServiceTable::system());
  if (!f.timeout.empty()) {
    Nanos t = parse_duration(f.timeout, "--timeout");
    if (t <= Nanos(0))
      throw UsageError(fmt::format("bad --timeout '{}': must be above zero", f.timeout));
    options.fixed_timeout = t;
  }
  options.banner = f.banner;
  options.banner_timeout = parse_duration(f.banner_timeout, "--banner-timeout");
  if (options.banner_timeout <= Nanos(0))
    throw UsageError(
        fmt::format("bad --banner-timeout '{}': must be above zero", f.banner_timeout));
  options.retries = f.retries;
  if (!f.rate.empty()) options.rate = parse_rate(f.rate, "--rate");
  if (!f.shard.empty()) options.shard = parse_shard(f.shard, "--shard");
  if (!f.seed.empty()) {
    try {
      size_t used = 0;
      options.seed = std::stoull(f.seed, &used, 0);
      if (used != f.seed.size() || f.seed[0] == '-') throw std::invalid_argument("seed");
    } catch (const std::exception&) {
      throw UsageError(fmt::format("bad --seed '{}': expected a whole number", f.seed));
    }
  } else if (f.shard.empty()) {
    options.seed = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  } else {
    options.seed = 0;  // shards of one scan must agree on the order, so no random default
  }
  options.threads =
      f.threads ? f.threads : std::min(2u, std::max(1u, std::thread::hardware_concurrency()));
  unsigned budget = scan::socket_budget();
  options.concurrency = f.concurrency ? f.concurrency : scan::default_concurrency();
  if (options.concurrency > budget) {
    warn("scan", fmt::format("--concurrency {} exceeds the open file limit; using {}",
                             options.concurrency, budget));
    options.concurrency = budget;
  }

  std::vector<scan::TargetText> targets, excludes;
  for (const auto& t : f.targets) {
    auto items = scan::split_target_list(t);
    targets.insert(targets.end(), items.begin(), items.end());
  }
  if (!f.input_list.empty()) {
    auto items = scan::read_target_file(f.input_list);
    targets.insert(targets.end(), items.begin(), items.end());
  }
  for (const auto& x : f.excludes) {
    auto items = scan::split_target_list(x, "--exclude");
    excludes.insert(excludes.end(), items.begin(), items.end());
  }
  resolve::ResolverConfig dns;
  dns.servers = f.dns_servers;
  auto build =
      scan::build_target_space(targets, excludes, std::move(ports), scan::dns_name_resolver(dns));
  for (const auto& u : build.unresolved)
    warn("scan", fmt::format("cannot resolve '{}': {}", u.name, u.error));
  const scan::TargetSpace& space = build.space;
  if (space.host_count() == 0) {
    warn("scan", "no target could be resolved; nothing scanned");
    return kExitFailed;
  }

  fmt::memory_buffer json_line;
  scan::ScanReport report(!f.json);
  Progress progress;
  auto counts = scan::ConnectScanner(space, options)
                    .run(
                        [&](const scan::PortResult& r) {
                          report.add(r);
                          if (f.json && (!f.open_only || r.state == scan::PortState::kOpen)) {
                            json_line.clear();
                            append_json_line(json_line, space, r);
                            std::fwrite(json_line.data(), 1, json_line.size(), stdout);
                          }
                        },
                        [&](const scan::ScanCounts& c) {
                          double pct = c.pairs_total ? 100.0 * c.pairs_done / c.pairs_total : 100.0;
                          double secs = to_seconds(c.elapsed);
                          progress.update(fmt::format(
                              "scan: {:.1f}% ({}/{})  {} open  {:.0f} attempts/s  timeout {}", pct,
                              c.pairs_done, c.pairs_total, c.open,
                              secs > 0 ? c.attempts / secs : 0.0, format_duration(c.timeout)));
                        });
  progress.clear();
  if (f.json) {
    std::fflush(stdout);
  } else {
    print_table(space, report, f.open_only, f.banner);
    std::fflush(stdout);
  }

  double secs = to_seconds(counts.elapsed);
  fmt::print(stderr,
             "netres: scan: {} host{}, {} port{}{}: {} open, {} closed, {} filtered in {} "
             "({:.0f} attempts/s, timeout {}, seed {})\n",
             space.host_count(), space.host_count() == 1 ? "" : "s", space.ports().size(),
             space.ports().size() == 1 ? "" : "s",
             options.shard.count > 1 ? fmt::format(" (shard {}/{}: {} pairs)", options.shard.index,
                                                   options.shard.count, counts.pairs_total)
                                     : "",
             counts.open, counts.closed, counts.filtered, format_duration(counts.elapsed),
             secs > 0 ? counts.attempts / secs : 0.0, format_duration(counts.timeout),
             options.seed);
  uint64_t unreachable = report.unreachable_hosts();
  if (unreachable > 0)
    warn("scan", fmt::format("{} host{} unreachable (ICMP unreachable or no route on every port)",
                             unreachable, unreachable == 1 ? "" : "s"));
  return build.unresolved.empty() && unreachable == 0 ? kExitOk : kExitFailed;
}

}  // namespace

void add_scan_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ScanFlags>();
  auto* sub = app.add_subcommand(
      "scan",
      "TCP connect scan: open / closed / filtered ports of addresses, CIDR blocks, ranges and "
      "hostnames, in random order, with banners.");
  sub->add_option("targets", flags->targets,
                  "Targets: 10.0.0.1, fd00::1, 10.0.0.0/24, 10.0.0.1-20, 10.0.0.1-10.0.1.5, "
                  "host.example (comma lists allowed)");
  sub->add_option("-p,--ports", flags->ports,
                  "Ports: 22,80,8000-8100, ssh,http, or - for all 65535 (default: the 1000 most "
                  "common)");
  sub->add_option("--input-list", flags->input_list,
                  "Read targets from FILE, one or more per line, # comments (-iL; - for stdin)");
  // One value per occurrence, so "--exclude X TARGET" does not swallow the target.
  sub->add_option("--exclude", flags->excludes, "Targets to skip, same syntax, comma list")
      ->allow_extra_args(false);
  sub->add_flag("--open", flags->open_only, "Show open ports only");
  sub->add_flag("--json", flags->json, "NDJSON: one object per port result");
  sub->add_flag("--banner", flags->banner, "Read a banner from open ports");
  sub->add_option("--banner-timeout", flags->banner_timeout, "How long to wait for a banner")
      ->capture_default_str();
  sub->add_option("--timeout", flags->timeout,
                  "Fixed per-attempt timeout (default: adaptive from measured round trips, "
                  "50ms to 2s)");
  sub->add_option("--retries", flags->retries, "Extra attempts for a silent port")
      ->capture_default_str()
      ->check(CLI::Range(0, 10));
  sub->add_option("--concurrency", flags->concurrency,
                  "Connects in flight (default: 4096, within the open file limit)")
      ->check(CLI::Range(1, 1 << 20));
  sub->add_option("--rate", flags->rate, "Cap on connect attempts per second, e.g. 500/s");
  sub->add_option("--seed", flags->seed,
                  "Seed of the random scan order (default: random; 0 "
                  "with --shard)");
  sub->add_option("--shard", flags->shard, "Scan the K-th of N disjoint shares, as K/N");
  sub->add_option("--threads", flags->threads, "Event loop threads (default: up to 2)")
      ->check(CLI::Range(1, 64));
  sub->add_option("--dns-server", flags->dns_servers,
                  "DNS servers for hostname targets, IP[:port] comma list (default: "
                  "/etc/resolv.conf)");
  sub->final_callback([flags, &action] { action = [flags] { return run_scan(*flags); }; });
}

}  // namespace netres::cli
