// How the ssh verbs report a fleet run: a table per verb on stdout (results are data) or one
// NDJSON object per host, and the one-line summary on stderr. Field names are documented in
// docs/ssh.md and stay stable.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

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
