// netres bandwidth: flags -> CaptureOptions + FlowStatsOptions -> CaptureSession feeding
// FlowStats -> live top tables or snapshots while running, totals per key at the end.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "capture/bandwidth_report.h"
#include "capture/capture_session.h"
#include "capture/capture_setup.h"
#include "capture/flow_stats.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "common/error.h"
#include "common/terminal.h"

namespace netres::cli {
namespace {

int64_t wall_second() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int run_bandwidth(const capture::BandwidthFlags& f) {
  capture::BandwidthSetup setup = capture::setup_for(f);
  capture::CaptureSession session(setup.capture);
  capture::FlowStats stats(setup.stats);
  if (setup.live) {
    fmt::print(stderr, "listening on {}, link-type {}\n", session.source().name(),
               session.source().linktype_description());
    std::fflush(stderr);
  }
  const int64_t started = wall_second();
  const bool terminal = stdout_is_terminal() && !f.json;
  if (setup.live) {
    session.set_tick(terminal ? std::chrono::seconds(1) : setup.interval, [&] {
      capture::print_live(stdout, stats, f.top, wall_second(), started, f.json, terminal);
    });
  }
  capture::CaptureResult result = session.run(
      [&](const capture::PacketView& view, capture::Timestamp ts) { stats.add(view, ts.seconds); });
  if (setup.live && terminal) std::fputs("\033[H\033[2J", stdout);
  capture::print_totals(stdout, stats, f.json, setup.top);
  if (stats.table().evictions() > 0) warn("bandwidth", capture::eviction_text(stats, f.max_flows));
  if (result.stats && result.stats->dropped_kernel > 0) {
    warn("bandwidth", fmt::format("{} packets dropped by kernel", result.stats->dropped_kernel));
  }
  if (result.error) std::rethrow_exception(result.error);
  return kExitOk;
}

}  // namespace

void add_bandwidth_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<capture::BandwidthFlags>();
  auto* sub = app.add_subcommand(
      "bandwidth",
      "Bytes and packets per flow, host, port or protocol, live (top table, rates over 2/10/40 "
      "s) or from a pcap file (totals, busiest second). A trailing tcpdump-syntax filter selects "
      "packets.");
  add_capture_source_flags(sub, flags->source);
  sub->add_option("--by", flags->by, "rows per flow (default), host, port or proto");
  auto* top = sub->add_option("--top", flags->top,
                              "rows shown, busiest first (live default 10; offline default all)");
  sub->add_option("--interval", flags->interval,
                  "live, not on a terminal or --json: print a snapshot this often (default 1s)");
  auto* max_flows = sub->add_option(
      "--max-flows", flags->max_flows,
      "rows kept at most; when full the least recently seen is evicted into one 'other' row "
      "(live default 100000; files: no bound unless given)");
  sub->add_flag("--json", flags->json, "NDJSON output (see docs/bandwidth.md)");
  sub->final_callback([&action, flags, top, max_flows] {
    flags->top_given = top->count() > 0;
    flags->max_flows_given = max_flows->count() > 0;
    action = [flags] { return run_bandwidth(*flags); };
  });
}

}  // namespace netres::cli
