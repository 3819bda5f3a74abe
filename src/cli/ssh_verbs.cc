// netres ssh run, backup, push, copy: SshFlags -> ssh library options -> one library call ->
// live lines, table, NDJSON.
#include "cli/ssh_verbs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/output.h"
#include "common/terminal.h"
#include "ssh/command_runner.h"
#include "ssh/config_ops.h"
#include "ssh/fan_out_runner.h"
#include "ssh/file_copy.h"
#include "ssh/fleet_report.h"
#include "ssh/inventory.h"
#include "ssh/ssh_session.h"

namespace netres::cli {
namespace {

// "ssh backup: 12/500 hosts done" on stderr while a fleet runs (only on a terminal).
class FleetProgress {
 public:
  FleetProgress(std::string verb, size_t total) : verb_(std::move(verb)), total_(total) {}
  ~FleetProgress() { progress_.clear(); }
  // For the runners' on_host_done (called serialised).
  ssh::FanOutRunner::Done callback() {
    return [this](const ssh::HostResult&) {
      progress_.update(fmt::format("ssh {}: {}/{} hosts done", verb_, ++done_, total_));
    };
  }
  void clear() { progress_.clear(); }

 private:
  std::string verb_;
  size_t total_;
  size_t done_ = 0;
  Progress progress_;
};

ssh::Inventory inventory_from(const SshFlags& f, const std::vector<std::string>& targets) {
  return ssh::fleet_hosts(f.inventory, f.hosts, targets, f.limit);
}

ssh::ConnectOptions connect_options_from(const SshFlags& f) {
  ssh::set_libssh_verbosity(f.verbose);
  ssh::FleetFlags c = f.connect;
  const char* home = std::getenv("HOME");
  c.home = home && *home ? home : "";
  c.connect_timeout_set = f.connect_timeout_opt && f.connect_timeout_opt->count() > 0;
  c.keepalive_set = f.keepalive_opt && f.keepalive_opt->count() > 0;
  return ssh::connect_options_for(c);
}

// Positionals before "--" are targets; CLI11 may or may not have collected the command words
// too, so they are removed from the end when present.
std::vector<std::string> targets_of(const SshFlags& f,
                                    const std::vector<std::string>& command_words) {
  std::vector<std::string> targets = f.words;
  if (targets.size() >= command_words.size() &&
      std::equal(command_words.begin(), command_words.end(), targets.end() - command_words.size()))
    targets.resize(targets.size() - command_words.size());
  return targets;
}

ssh::ConfigOptions config_options_from(const SshFlags& f, const std::string& dir, unsigned keep,
                                       const std::string& command) {
  ssh::ConfigOptions o;
  o.connect = connect_options_from(f);
  o.forks = f.connect.forks;
  o.timeout = parse_duration(f.timeout, "--timeout");
  o.platform = f.platform;
  o.prompt = f.prompt;
  o.command = command;
  o.dir = dir;
  o.keep = keep;
  return o;
}

}  // namespace

int run_ssh_run(const SshFlags& f, bool group, const std::string& out_dir, bool shell) {
  std::vector<std::string> command_words = words_after_double_dash();
  std::vector<std::string> targets = targets_of(f, command_words);
  if (command_words.empty()) throw UsageError("no command: netres ssh run [targets] -- COMMAND");
  ssh::RunOptions o;
  ssh::Inventory inv = inventory_from(f, targets);
  o.connect = connect_options_from(f);
  for (const auto& w : command_words) o.command += (o.command.empty() ? "" : " ") + w;
  o.command_timeout = parse_duration(f.timeout, "--timeout");
  o.forks = f.connect.forks;
  o.out_dir = out_dir;
  o.shell = shell;
  o.platform = f.platform;
  o.prompt = f.prompt;
  if (shell) ssh::check_shell_profiles(inv, f.platform, f.prompt);
  o.keep_output = f.json || group;

  ssh::LivePrefixWriter live(stdout, stderr);
  NdjsonWriter ndjson(stdout);
  ssh::LiveSink sink;
  if (!f.json && !group)
    sink = [&live](const std::string& host, ssh::Stream s, std::string_view chunk) {
      live.write(host, s, chunk);
    };
  // Progress only when no live lines share the terminal (and only on a terminal at all).
  FleetProgress progress("run", inv.hosts().size());
  auto tick = progress.callback();
  auto done = [&](const ssh::HostResult& r) {
    progress.clear();
    if (f.json) {
      ndjson.write(ssh::run_json(r));
      ndjson.flush();
    } else if (group) {
      ssh::print_group_block(stdout, r);
    } else {
      live.finish(r.host);
    }
    if (f.json || group) tick(r);
  };

  auto results = ssh::run_command(inv, o, sink, done);
  progress.clear();
  return ssh::print_run_results(stdout, stderr, results, f.json);
}

int run_ssh_backup(const SshFlags& f, const std::string& dir, unsigned keep,
                   const std::string& command) {
  ssh::Inventory inv = inventory_from(f, f.words);
  auto o = config_options_from(f, dir, keep, command);
  FleetProgress progress("backup", inv.hosts().size());
  o.on_host_done = progress.callback();
  auto run = ssh::backup_configs(inv, o);
  progress.clear();
  return ssh::print_backup_results(stdout, stderr, run, f.json);
}

int run_ssh_push(const SshFlags& f, const std::string& file, bool dry_run, bool rollback,
                 const std::string& dir, unsigned keep) {
  ssh::Inventory inv = inventory_from(f, f.words);
  auto o = config_options_from(f, dir, keep, "");
  FleetProgress progress(rollback ? "push --rollback" : "push", inv.hosts().size());
  o.on_host_done = progress.callback();
  ssh::ConfigRun run;
  if (rollback) {
    if (!file.empty()) throw UsageError("--rollback re-applies the latest backup; drop --file");
    if (dry_run) throw UsageError("--rollback --dry-run is not supported");
    run = ssh::rollback_configs(inv, o);
  } else {
    if (file.empty()) throw UsageError("push needs --file LINES.cfg (or --rollback)");
    run = ssh::push_configs(inv, o, ssh::read_push_file(file), dry_run);
  }
  progress.clear();
  return ssh::print_push_results(stdout, stderr, run, f.json, dry_run, rollback);
}

int run_ssh_copy(const SshFlags& f, const std::string& put, const std::string& get,
                 const std::string& to, bool no_checksum) {
  if (put.empty() == get.empty()) throw UsageError("copy needs exactly one of --put or --get");
  if (to.empty()) throw UsageError("copy needs --to (remote path for --put, local dir for --get)");
  ssh::Inventory inv = inventory_from(f, f.words);
  ssh::CopyOptions o;
  o.connect = connect_options_from(f);
  o.forks = f.connect.forks;
  o.timeout = parse_duration(f.timeout, "--timeout");
  o.upload = !put.empty();
  o.source = o.upload ? put : get;
  o.dest = to;
  o.checksum = !no_checksum;
  FleetProgress progress("copy", inv.hosts().size());
  o.on_host_done = progress.callback();
  auto run = ssh::copy_files(inv, o);
  progress.clear();
  return ssh::print_copy_results(stdout, stderr, run, f.json, o.upload);
}

}  // namespace netres::cli
