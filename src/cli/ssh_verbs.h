// The ssh verbs behind the flags ssh_command.cc declares: flags -> ssh library plan -> one
// library call -> live lines, table, NDJSON (rendered by ssh/fleet_report.h).
#pragma once

#include "ssh/fleet_options.h"

namespace netres::cli {

// run [targets] -- COMMAND (the command words come from words_after_double_dash()).
int run_ssh_run(const ssh::RunFlags& f);
int run_ssh_backup(const ssh::BackupFlags& f);
int run_ssh_push(const ssh::PushFlags& f);
int run_ssh_copy(const ssh::CopyFlags& f);

}  // namespace netres::cli
