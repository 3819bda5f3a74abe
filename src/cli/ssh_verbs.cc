// netres ssh run, backup, push, copy: flags -> ssh library plan -> one library call -> live
// lines, table, NDJSON.
#include "cli/ssh_verbs.h"

#include <cstdio>

#include "cli/commands.h"
#include "ssh/command_runner.h"
#include "ssh/config_ops.h"
#include "ssh/file_copy.h"
#include "ssh/fleet_report.h"

namespace netres::cli {

int run_ssh_run(const ssh::RunFlags& f) {
  auto plan = ssh::plan_run(f, words_after_double_dash());
  ssh::RunOutput output(stdout, stderr, f.ssh.json, f.group, plan.inventory.hosts().size());
  auto results =
      ssh::run_command(plan.inventory, plan.options, output.live_sink(), output.host_done());
  output.clear_progress();
  return ssh::print_run_results(stdout, stderr, results, f.ssh.json);
}

int run_ssh_backup(const ssh::BackupFlags& f) {
  auto plan = ssh::plan_backup(f);
  ssh::FleetProgress progress("backup", plan.inventory.hosts().size());
  plan.options.on_host_done = progress.callback();
  auto run = ssh::backup_configs(plan.inventory, plan.options);
  progress.clear();
  return ssh::print_backup_results(stdout, stderr, run, f.ssh.json);
}

int run_ssh_push(const ssh::PushFlags& f) {
  auto plan = ssh::plan_push(f);
  ssh::FleetProgress progress(f.rollback ? "push --rollback" : "push",
                              plan.inventory.hosts().size());
  plan.options.on_host_done = progress.callback();
  auto run = f.rollback ? ssh::rollback_configs(plan.inventory, plan.options)
                        : ssh::push_configs(plan.inventory, plan.options, plan.lines, f.dry_run);
  progress.clear();
  return ssh::print_push_results(stdout, stderr, run, f.ssh.json, f.dry_run, f.rollback);
}

int run_ssh_copy(const ssh::CopyFlags& f) {
  auto plan = ssh::plan_copy(f);
  ssh::FleetProgress progress("copy", plan.inventory.hosts().size());
  plan.options.on_host_done = progress.callback();
  auto run = ssh::copy_files(plan.inventory, plan.options);
  progress.clear();
  return ssh::print_copy_results(stdout, stderr, run, f.ssh.json, plan.options.upload);
}

}  // namespace netres::cli
