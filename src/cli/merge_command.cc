// netres merge FILE...: reads results files (--results of scan, load, bandwidth, resolve, ssh),
// checks they are shards of one job, and hands them to that verb's merge, which prints what one
// run of the whole job would have printed.
#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capture/bandwidth_report.h"
#include "capture/bandwidth_results.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/results_file.h"
#include "common/terminal.h"
#include "load/load_export.h"
#include "load/load_results.h"
#include "load/threshold.h"
#include "resolve/resolve_output.h"
#include "resolve/resolve_results.h"
#include "scan/scan_results.h"
#include "ssh/fleet_results.h"

namespace netres::cli {
namespace {

struct MergeFlags {
  std::vector<std::string> files;
  bool json = false;           // the verb's --json / NDJSON output
  bool allow_partial = false;  // merge even if some of the N shards are missing
  std::string results;         // write the merged results (a 1/1 results file) here
  std::string csv;             // load: locust-style CSV prefix
  std::string html;            // load: HTML report
};

// One entry per verb that can be merged: takes the checked files, prints, returns the exit code.
using Merger = std::function<int(const std::vector<ResultsFile>&, const MergeFlags&)>;

// --results OUT: the merged results as a 1/1 file of the same job, so merges merge again.
void write_merged(const std::vector<ResultsFile>& files, const MergeFlags& f, nlohmann::json data) {
  if (f.results.empty()) return;
  ResultsFile merged;
  merged.verb = files.front().verb;
  merged.job = files.front().job;
  merged.data = std::move(data);
  write_results_file(f.results, merged);
}

int merge_scan(const std::vector<ResultsFile>& files, const MergeFlags& f) {
  scan::ScanMerge merged = scan::merge_scan_files(files);
  for (const auto& w : merged.warnings) warn("merge", w);
  write_merged(files, f, scan::scan_data_json(merged.run));
  return scan::print_scan_run(stdout, merged.run, f.json);
}

int merge_bandwidth(const std::vector<ResultsFile>& files, const MergeFlags& f) {
  capture::BandwidthMerge m = capture::merge_bandwidth_files(files);
  for (const auto& w : m.warnings) warn("merge", w);
  write_merged(files, f, capture::bandwidth_data_json(*m.stats, m.files, m.interrupted));
  capture::print_totals(stdout, *m.stats, f.json, m.top);
  if (m.stats->table().evictions() > 0)
    warn("bandwidth", capture::eviction_text(*m.stats, m.max_flows));
  return kExitOk;
}

int merge_resolve(const std::vector<ResultsFile>& files, const MergeFlags& f) {
  std::vector<resolve::ResolveRun> runs;
  for (const auto& file : files)
    runs.push_back(resolve::resolve_run_from_json(file.data, file.path));
  resolve::ResolveRun merged = resolve::merge_resolve_runs(runs);
  write_merged(files, f, resolve::resolve_data_json(merged));
  resolve::RowPrinter printer(stdout, f.json);
  std::vector<resolve::ResolveRow> rows;
  for (const auto& p : merged.rows) rows.push_back(p.row);
  printer.add(rows);
  printer.finish();
  warn("resolve", resolve::summary_text(merged.summary));
  return merged.summary.failed > 0 ? kExitFailed : kExitOk;
}

int merge_ssh(const std::vector<ResultsFile>& files, const MergeFlags& f) {
  std::vector<std::vector<ssh::PositionedResult>> shards;
  for (const auto& file : files)
    shards.push_back(ssh::fleet_results_from_json(file.data, file.path));
  std::vector<ssh::HostResult> results = ssh::merge_fleet_results(std::move(shards));
  write_merged(files, f, ssh::fleet_data_json(results, 0));
  return ssh::print_merged_run(stdout, stderr, results, f.json);
}

int merge_load(const std::vector<ResultsFile>& files, const MergeFlags& f) {
  load::LoadRun merged = load::merge_load_results(files);
  std::vector<load::Threshold> thresholds;
  for (const auto& t : merged.fail_if) thresholds.push_back(load::parse_threshold(t));
  return load::report_load({f.json, f.csv, f.html}, merged.run, merged.result, thresholds, [&] {
    write_merged(files, f, load::results_data(merged.run, merged.result));
  });
}

const std::map<std::string, Merger>& mergers() {
  static const std::map<std::string, Merger> table = {
      {"scan", merge_scan}, {"bandwidth", merge_bandwidth}, {"resolve", merge_resolve},
      {"ssh", merge_ssh},   {load::kLoadVerb, merge_load},
  };
  return table;
}

int run_merge(const MergeFlags& f) {
  std::vector<ResultsFile> files;
  files.reserve(f.files.size());
  for (const auto& path : f.files) files.push_back(read_results_file(path));
  for (const auto& warning : check_mergeable(files, f.allow_partial))
    fmt::print(stderr, "netres: merge: warning: {}\n", warning);
  auto it = mergers().find(files.front().verb);
  if (it == mergers().end())
    throw UsageError(
        fmt::format("{}: netres cannot merge {} results", files.front().path, files.front().verb));
  return it->second(files, f);
}

}  // namespace

void add_merge_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<MergeFlags>();
  auto* cmd = app.add_subcommand(
      "merge", "Join the results files of a job's shards (--shard K/N --results FILE) exactly");
  cmd->add_option("files", flags->files, "Results files, one per shard")->required();
  cmd->add_flag("--json", flags->json, "Print the merged results as the verb's --json does");
  cmd->add_flag("--allow-partial", flags->allow_partial,
                "Merge even if some shards are missing (each is named on stderr)");
  cmd->add_option("--results", flags->results, "Also write the merged results file here");
  cmd->add_option("--csv", flags->csv, "load: write locust-style CSV files with this prefix");
  cmd->add_option("--html", flags->html, "load: write the HTML report here");
  cmd->final_callback([&action, flags] { action = [flags] { return run_merge(*flags); }; });
}

}  // namespace netres::cli
