// netres scan: flags -> ScanOptions and targets -> ConnectScanner -> nmap-style table or NDJSON.
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "common/error.h"
#include "common/results_file.h"
#include "common/terminal.h"
#include "scan/connect_scanner.h"
#include "scan/resolve_targets.h"
#include "scan/scan_output.h"
#include "scan/scan_plan.h"
#include "scan/scan_report.h"
#include "scan/scan_results.h"

namespace netres::cli {
namespace {

// With --results, Ctrl-C (or SIGTERM) stops claiming new pairs so the file holds what was done;
// a second one kills.
std::atomic<bool> g_interrupted{false};
extern "C" void on_scan_interrupt(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

int run_scan(const scan::ScanFlags& f) {
  scan::ScanPlan plan =
      scan::plan_for(f, scan::socket_budget(), std::thread::hardware_concurrency());
  if (!f.results.empty()) plan.options.stop = &g_interrupted;
  const scan::ScanOptions& options = plan.options;
  if (plan.concurrency_capped)
    warn("scan", fmt::format("--concurrency {} exceeds the open file limit; using {}",
                             f.concurrency, options.concurrency));

  auto texts = scan::gather_targets(f.targets, f.input_list, f.excludes);
  resolve::ResolverConfig dns;
  dns.servers = f.dns_servers;
  auto build = scan::build_target_space(texts.targets, texts.excludes, std::move(plan.ports),
                                        scan::dns_name_resolver(dns));
  scan::ScanRun kept;  // for --results: every result, and what the summary needs
  for (const auto& u : build.unresolved) {
    kept.unresolved.push_back(fmt::format("cannot resolve '{}': {}", u.name, u.error));
    warn("scan", kept.unresolved.back());
  }
  const scan::TargetSpace& space = build.space;
  auto write_results = [&](const scan::ScanCounts& counts) {
    if (f.results.empty()) return;
    kept.hosts = space.host_count();
    kept.ports = space.ports().size();
    kept.pairs = counts.pairs_done;
    kept.attempts = counts.attempts;
    kept.elapsed = counts.elapsed;
    kept.timeout = counts.timeout;
    kept.seed = options.seed;
    kept.banner = f.banner;
    kept.open_only = f.open_only;
    for (const auto& r : kept.results)
      if (const auto& name = space.name_of(r.address); !name.empty()) kept.names[r.address] = name;
    ResultsFile file;
    file.verb = "scan";
    file.shard = options.shard;
    file.job = scan::scan_job_json(texts.targets, texts.excludes, space.ports(), options, f.timeout,
                                   f.open_only);
    file.data = scan::scan_data_json(kept);
    write_results_file(f.results, file);
  };
  if (space.host_count() == 0) {
    warn("scan", "no target could be resolved; nothing scanned");
    write_results({});
    return kExitFailed;
  }

  fmt::memory_buffer json_line;
  scan::ScanReport report(!f.json);
  Progress progress;
  auto on_result = [&](const scan::PortResult& r) {
    report.add(r);
    if (!f.results.empty()) kept.results.push_back(r);
    if (f.json && (!f.open_only || r.state == scan::PortState::kOpen)) {
      json_line.clear();
      scan::append_json_line(json_line, space, r);
      std::fwrite(json_line.data(), 1, json_line.size(), stdout);
    }
  };
  if (options.stop) {
    std::signal(SIGINT, on_scan_interrupt);
    std::signal(SIGTERM, on_scan_interrupt);
  }
  auto counts = scan::ConnectScanner(space, options).run(on_result, [&](const scan::ScanCounts& c) {
    progress.update("scan: " + scan::progress_text(c));
  });
  if (options.stop) {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
  kept.interrupted = g_interrupted.load();
  progress.clear();
  if (!f.json) scan::print_table(stdout, space, report, f.open_only, f.banner);
  std::fflush(stdout);

  warn("scan", scan::summary_text(space.host_count(), space.ports().size(), options.shard, counts,
                                  options.seed));
  write_results(counts);
  uint64_t unreachable = report.unreachable_hosts();
  if (unreachable > 0) warn("scan", scan::unreachable_text(unreachable));
  if (kept.interrupted) {
    warn("scan", fmt::format("interrupted: {} of {} pairs scanned, written to {}",
                             counts.pairs_done, counts.pairs_total, f.results));
    return kExitFailed;
  }
  return build.unresolved.empty() && unreachable == 0 ? kExitOk : kExitFailed;
}

}  // namespace

void add_scan_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<scan::ScanFlags>();
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
  sub->add_option("--results", flags->results,
                  "Also write every result to FILE for netres merge (see docs/distributed.md)");
  sub->add_option("--threads", flags->threads, "Event loop threads (default: up to 2)")
      ->check(CLI::Range(1, 64));
  sub->add_option("--dns-server", flags->dns_servers,
                  "DNS servers for hostname targets, IP[:port] comma list (default: "
                  "/etc/resolv.conf)");
  sub->final_callback([flags, &action] { action = [flags] { return run_scan(*flags); }; });
}

}  // namespace netres::cli
