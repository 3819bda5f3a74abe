// netres ssh run, backup, push, copy: flags -> ssh library plan -> one library call -> live
// lines, table, NDJSON.
#include "cli/ssh_verbs.h"

#include <cstdio>

#include "cli/commands.h"
#include "common/results_file.h"
#include "common/shard.h"
#include "ssh/command_runner.h"
#include "ssh/config_ops.h"
#include "ssh/file_copy.h"
#include "ssh/fleet_report.h"
#include "ssh/fleet_results.h"

namespace netres::cli {

int run_ssh_run(const ssh::RunFlags& f) {
  Shard shard = f.shard.empty() ? Shard{} : parse_shard(f.shard, "--shard");
  auto plan = ssh::plan_run(f, words_after_double_dash());
  ssh::HostShare share = ssh::share_of(plan.inventory, shard);
  ssh::RunOutput output(stdout, stderr, f.ssh.json, f.group, share.hosts.hosts().size());
  auto results =
      ssh::run_command(share.hosts, plan.options, output.live_sink(), output.host_done());
  output.clear_progress();
  if (!f.results.empty()) {
    ResultsFile file;
    file.verb = "ssh";
    file.shard = shard;
    file.job = ssh::run_job_json(plan.inventory, plan.options.command, f.shell);
    file.data = ssh::fleet_data_json(results, share.first);
    write_results_file(f.results, file);
  }
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
