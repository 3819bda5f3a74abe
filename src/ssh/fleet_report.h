// How the ssh verbs report a fleet run: a table per verb on stdout (results are data) or one
// NDJSON object per host, and the one-line summary on stderr. Field names are documented in
// docs/ssh.md and stay stable.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/output.h"
#include "common/terminal.h"
#include "ssh/command_runner.h"
#include "ssh/config_ops.h"
#include "ssh/fan_out_runner.h"
#include "ssh/file_copy.h"

namespace netres::ssh {

// host, status, exit_code, duration_s, error: the fields every verb's object starts with.
nlohmann::json result_json(const HostResult& r);
// run --json: result_json plus stdout and stderr.
nlohmann::json run_json(const HostResult& r);
// run --group: "==> HOST (STATUS, exit N) <==", the output, a blank line.
void print_group_block(std::FILE* out, const HostResult& r);

// "ssh backup: 12/500 hosts done" on stderr while a fleet runs (only on a terminal).
class FleetProgress {
 public:
  FleetProgress(std::string verb, size_t total) : verb_(std::move(verb)), total_(total) {}
  ~FleetProgress() { progress_.clear(); }
  // For the runners' on_host_done (called serialised).
  FanOutRunner::Done callback();
  void clear() { progress_.clear(); }

 private:
  std::string verb_;
  size_t total_;
  size_t done_ = 0;
  Progress progress_;
};

// run's output while hosts finish: by default live "host | line" lines as output arrives; with
// --group one block per host, with --json one NDJSON object per host, each when the host is done.
// Progress is shown only when no live lines share the terminal.
class RunOutput {
 public:
  RunOutput(std::FILE* out, std::FILE* err, bool json, bool group, size_t hosts);
  // For run_command: the live sink (empty with --json or --group) and the per-host callback.
  LiveSink live_sink();
  FanOutRunner::Done host_done();
  void clear_progress() { progress_.clear(); }

 private:
  std::FILE* out_;
  bool json_, group_;
  LivePrefixWriter live_;
  NdjsonWriter ndjson_;
  FleetProgress progress_;
  FanOutRunner::Done tick_;
};

// "netres: ssh VERB: N hosts, 3 ok, 1 failed" on `err`; returns 0 if every host is ok, else 1.
int print_summary(std::FILE* err, const std::vector<HostResult>& results, std::string_view verb);
// run: the HOST STATUS EXIT DURATION ERROR table (unless json), then the summary.
int print_run_results(std::FILE* out, std::FILE* err, const std::vector<HostResult>& results,
                      bool json);
// backup: the diffs and the HOST STATUS CHANGES DURATION BACKUP ERROR table, or NDJSON.
int print_backup_results(std::FILE* out, std::FILE* err, const ConfigRun& run, bool json);
// push (and --rollback, --dry-run): per host the lines sent and their fate, the diff, the table.
int print_push_results(std::FILE* out, std::FILE* err, const ConfigRun& run, bool json,
                       bool dry_run, bool rollback);
// copy: the HOST STATUS BYTES VERIFIED DURATION ERROR table, or NDJSON.
int print_copy_results(std::FILE* out, std::FILE* err, const CopyRun& run, bool json, bool upload);

}  // namespace netres::ssh
