// netres bandwidth: flags -> CaptureOptions + FlowStatsOptions -> CaptureSession feeding
// FlowStats -> live top tables or snapshots while running, totals per key at the end.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "capture/bandwidth_report.h"
#include "capture/bandwidth_results.h"
#include "capture/capture_session.h"
#include "capture/capture_setup.h"
#include "capture/flow_stats.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "common/error.h"
#include "common/results_file.h"
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
  capture::FlowStats stats(setup.stats);
  capture::CaptureResult result;
  if (setup.live) {
    capture::CaptureSession session(setup.capture);
    fmt::print(stderr, "listening on {}, link-type {}\n", session.source().name(),
               session.source().linktype_description());
    std::fflush(stderr);
    const int64_t started = wall_second();
    const bool terminal = stdout_is_terminal() && !f.json;
    session.set_tick(terminal ? std::chrono::seconds(1) : setup.interval, [&] {
      capture::print_live(stdout, stats, f.top, wall_second(), started, f.json, terminal);
    });
    result = session.run([&](const capture::PacketView& view, capture::Timestamp ts) {
      stats.add(view, ts.seconds);
    });
    if (terminal) std::fputs("\033[H\033[2J", stdout);
  } else {
    // Files are read one after the other into one table; -c counts over all of them.
    uint64_t remaining = setup.capture.count;
    for (const auto& file : setup.files) {
      capture::CaptureOptions o = setup.capture;
      o.read_file = file;
      o.count = remaining;
      capture::CaptureSession session(o);
      capture::CaptureResult one =
          session.run([&](const capture::PacketView& view, capture::Timestamp ts) {
            stats.add(view, ts.seconds);
          });
      result.captured += one.captured;
      result.interrupted = one.interrupted;
      result.error = one.error;
      if (setup.capture.count > 0) {
        remaining -= std::min(remaining, one.captured);
        if (remaining == 0) break;
      }
      if (one.interrupted || one.error) break;
    }
  }
  capture::print_totals(stdout, stats, f.json, setup.top);
  if (stats.table().evictions() > 0) warn("bandwidth", capture::eviction_text(stats, f.max_flows));
  if (result.stats && result.stats->dropped_kernel > 0) {
    warn("bandwidth", fmt::format("{} packets dropped by kernel", result.stats->dropped_kernel));
  }
  if (!f.results.empty()) {
    ResultsFile file;
    file.verb = "bandwidth";
    file.shard = setup.shard;
    file.job = capture::bandwidth_job_json(stats.by(), setup.all_files, setup.capture.filter,
                                           setup.capture.count, setup.top, setup.stats.max_entries);
    file.data = capture::bandwidth_data_json(stats, setup.files, result.interrupted);
    write_results_file(f.results, file);
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
  add_capture_source_flags(sub, flags->source, /*many_files=*/true);
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
  sub->add_option(
      "--shard", flags->shard,
      "read the K-th of N contiguous shares of the -r files, as K/N (for netres merge)");
  sub->add_option("--results", flags->results,
                  "also write per-row counts and per-second bytes to FILE for netres merge");
  sub->final_callback([&action, flags, top, max_flows] {
    flags->top_given = top->count() > 0;
    flags->max_flows_given = max_flows->count() > 0;
    action = [flags] { return run_bandwidth(*flags); };
  });
}

}  // namespace netres::cli
