// netres bandwidth: flags -> CaptureOptions + FlowStatsOptions -> CaptureSession feeding
// FlowStats -> live top tables or snapshots while running, totals per key at the end.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "capture/bandwidth_report.h"
#include "capture/capture_session.h"
#include "capture/flow_stats.h"
#include "cli/commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/option_check.h"
#include "common/output.h"
#include "common/size.h"
#include "common/terminal.h"

namespace netres::cli {
namespace {

using capture::Aggregation;
using capture::FlowStats;

struct BandwidthFlags {
  std::string interface;
  std::string read_file;
  std::vector<std::string> filter_words;
  std::string by = "flow";
  size_t top = 10;
  bool top_given = false;  // offline runs show every row unless --top is given
  std::string interval = "1s";
  std::string duration;
  uint64_t count = 0;
  size_t max_flows = 100000;
  bool max_flows_given = false;  // files keep every row unless --max-flows is given
  bool no_promisc = false;
  std::string buffer_size;
  bool json = false;
};

Aggregation parse_by(const std::string& by) {
  if (by == "flow") return Aggregation::kFlow;
  if (by == "host") return Aggregation::kHost;
  if (by == "port") return Aggregation::kPort;
  if (by == "proto") return Aggregation::kProto;
  throw UsageError(fmt::format("--by: unknown view '{}': use flow, host, port or proto", by));
}

int run_bandwidth(const BandwidthFlags& f) {
  capture::CaptureOptions o;
  if (!f.read_file.empty() && !f.interface.empty())
    throw UsageError("-r and -i exclude each other: read a file or capture live");
  o.read_file = f.read_file;
  o.live.interface = f.interface;
  o.live.promiscuous = !f.no_promisc;
  // Only headers matter here; a short snaplen keeps the kernel buffer for more packets.
  o.live.snaplen = 256;
  if (!f.buffer_size.empty()) o.live.buffer_size = parse_size(f.buffer_size, "-B");
  for (const auto& word : f.filter_words) o.filter += (o.filter.empty() ? "" : " ") + word;
  o.count = f.count;
  if (!f.duration.empty()) o.duration = parse_duration(f.duration, "--duration");
  capture::FlowStatsOptions so;
  so.by = parse_by(f.by);
  require_in_range(f.max_flows, "--max-flows", 1, 100'000'000);
  require_at_least(f.top, "--top", 1);
  Nanos interval = parse_duration(f.interval, "--interval");
  if (interval < std::chrono::milliseconds(100))
    throw UsageError("--interval must be at least 100ms");
  const bool live = f.read_file.empty();
  so.keep_history = live;
  // A live capture is endless, so its table is bounded; a file is finite, and every flow in it
  // gets its row (about 150 bytes each) unless the user asks for a bound.
  so.max_entries = live || f.max_flows_given ? f.max_flows : capture::FlowTable::kUnbounded;

  capture::CaptureSession session(o);
  FlowStats stats(so);
  const auto& source = session.source();
  if (live) {
    fmt::print(stderr, "listening on {}, link-type {}\n", source.name(),
               source.linktype_description());
    std::fflush(stderr);
  }
  auto wall_second = [] {
    return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  };
  const int64_t started = wall_second();
  const bool terminal = stdout_is_terminal() && !f.json;
  if (live) {
    session.set_tick(terminal ? std::chrono::seconds(1) : interval, [&] {
      capture::print_live(stdout, stats, f.top, wall_second(), started, f.json, terminal);
    });
  }
  capture::CaptureResult result = session.run(
      [&](const capture::PacketView& view, capture::Timestamp ts) { stats.add(view, ts.seconds); });
  if (live && terminal) std::fputs("\033[H\033[2J", stdout);
  capture::print_totals(stdout, stats, f.json, live || f.top_given ? f.top : 0);
  if (stats.table().evictions() > 0) {
    warn("bandwidth",
         fmt::format("{} {}s evicted from the full table (--max-flows {}); their "
                     "packets are in the 'other / evicted' row",
                     stats.table().evictions(), aggregation_name(stats.by()), f.max_flows));
  }
  if (result.stats && result.stats->dropped_kernel > 0) {
    warn("bandwidth", fmt::format("{} packets dropped by kernel", result.stats->dropped_kernel));
  }
  if (result.error) std::rethrow_exception(result.error);
  return kExitOk;
}

}  // namespace

void add_bandwidth_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<BandwidthFlags>();
  auto* sub = app.add_subcommand(
      "bandwidth",
      "Bytes and packets per flow, host, port or protocol, live (top table, rates over 2/10/40 "
      "s) or from a pcap file (totals, busiest second). A trailing tcpdump-syntax filter selects "
      "packets.");
  sub->add_option("-i,--interface", flags->interface,
                  "interface to capture on (default: the first up, non-loopback one; 'any')");
  sub->add_option("-r,--read", flags->read_file, "read packets from a pcap or pcapng file");
  sub->add_option("--by", flags->by, "rows per flow (default), host, port or proto");
  auto* top = sub->add_option("--top", flags->top,
                              "rows shown, busiest first (live default 10; offline default all)");
  sub->add_option("--interval", flags->interval,
                  "live, not on a terminal or --json: print a snapshot this often (default 1s)");
  sub->add_option("--duration", flags->duration, "stop after this long, e.g. 30s");
  sub->add_option("-c,--count", flags->count, "stop after this many packets");
  auto* max_flows = sub->add_option(
      "--max-flows", flags->max_flows,
      "rows kept at most; when full the least recently seen is evicted into one 'other' row "
      "(live default 100000; files: no bound unless given)");
  sub->add_flag("-p,--no-promisc", flags->no_promisc,
                "do not put the interface in promiscuous mode");
  sub->add_option("-B,--buffer-size", flags->buffer_size, "kernel capture buffer, e.g. 4M");
  sub->add_flag("--json", flags->json, "NDJSON output (see docs/bandwidth.md)");
  sub->add_option("filter", flags->filter_words,
                  "filter expression in tcpdump (pcap-filter) syntax");
  sub->final_callback([&action, flags, top, max_flows] {
    flags->top_given = top->count() > 0;
    flags->max_flows_given = max_flows->count() > 0;
    action = [flags] { return run_bandwidth(*flags); };
  });
}

}  // namespace netres::cli
