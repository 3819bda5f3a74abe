// netres ssh: flags -> Inventory + ConnectOptions -> ssh library call -> live lines, table, NDJSON.
// Verbs: run (exec or --shell), backup, push, copy.
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
#include "ssh/fleet_options.h"
#include "ssh/fleet_report.h"
#include "ssh/inventory.h"
#include "ssh/ssh_session.h"

namespace netres::cli {
namespace {

struct CommonFlags {
  std::string hosts;
  std::string inventory;
  std::string limit;
  ssh::FleetFlags connect;  // checked and turned into ConnectOptions by the ssh library
  int verbose = 0;
  std::string timeout = "0";
  bool json = false;
  std::string platform;
  std::string prompt;
  std::vector<std::string> words;  // positionals: [targets] and, for run, the command
  // To tell a flag given on the command line (beats the ssh config) from its default.
  CLI::Option* connect_timeout_opt = nullptr;
  CLI::Option* keepalive_opt = nullptr;
};

void add_common_flags(CLI::App* sub, CommonFlags& f) {
  ssh::FleetFlags& c = f.connect;
  sub->add_option("-H,--hosts", f.hosts, "Host specs: host,user@host:2222,[::1]:22");
  sub->add_option("-i,--inventory", f.inventory,
                  "Inventory: a file of host specs (one per line) or Ansible-style YAML");
  sub->add_option("--limit", f.limit,
                  "Only these hosts/groups/globs (comma separated; !x excludes)");
  sub->add_option("-F,--ssh-config", c.config_file,
                  "ssh config file (default ~/.ssh/config, then /etc/ssh/ssh_config)");
  sub->add_option("--known-hosts", c.known_hosts,
                  "known_hosts file, replacing UserKnownHostsFile (default ~/.ssh/known_hosts)");
  sub->add_flag("--accept-new", c.accept_new,
                "Add unknown host keys to known_hosts (changed keys are always refused)");
  sub->add_option("--strict-host-keys", c.strict_host_keys,
                  "yes, accept-new or no (overrides StrictHostKeyChecking; the config's 'no' is "
                  "honoured only with this flag)")
      ->check(CLI::IsMember({"yes", "accept-new", "no"}));
  sub->add_option("-J,--jump", c.jump,
                  "Jump host(s) [user@]host[:port][,...] (overrides ProxyJump; 'none' disables)");
  sub->add_flag("-v,--verbose", f.verbose, "libssh's log on stderr (-vv, -vvv: more)");
  sub->add_option("-u,--user", c.user, "Login user (overrides the inventory and the ssh config)");
  sub->add_option("--key", c.key, "Private key file to try first");
  sub->add_flag("--ask-pass", c.ask_pass, "Prompt for a password (else NETRES_SSH_PASSWORD)");
  sub->add_flag("--ask-passphrase", c.ask_passphrase,
                "Prompt for the key passphrase (else NETRES_SSH_PASSPHRASE)");
  f.connect_timeout_opt = sub->add_option("--connect-timeout", c.connect_timeout,
                                          "Connect timeout (e.g. 5s; overrides ConnectTimeout)")
                              ->capture_default_str();
  sub->add_option("--timeout", f.timeout, "Command timeout per host (0: none)")
      ->capture_default_str();
  f.keepalive_opt = sub->add_option("--keepalive", c.keepalive,
                                    "Keepalive interval while waiting (0: off; overrides "
                                    "ServerAliveInterval)")
                        ->capture_default_str();
  sub->add_option("-f,--forks", c.forks, "Parallel sessions")->capture_default_str();
  sub->add_flag("--json", f.json, "NDJSON results, one object per host");
  sub->add_option("--platform", f.platform,
                  "Device platform when the inventory has no netres_platform (cisco_ios, "
                  "juniper_junos, linux)");
  sub->add_option("--prompt", f.prompt, "Prompt regex for --shell, overriding the platform's");
}

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

ssh::Inventory inventory_from(const CommonFlags& f, const std::vector<std::string>& targets) {
  return ssh::fleet_hosts(f.inventory, f.hosts, targets, f.limit);
}

ssh::ConnectOptions connect_options_from(const CommonFlags& f) {
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
std::vector<std::string> targets_of(const CommonFlags& f,
                                    const std::vector<std::string>& command_words) {
  std::vector<std::string> targets = f.words;
  if (targets.size() >= command_words.size() &&
      std::equal(command_words.begin(), command_words.end(), targets.end() - command_words.size()))
    targets.resize(targets.size() - command_words.size());
  return targets;
}

// allow_extras lets "--" reach us in nested subcommands; a stray flag must still be an error.
void reject_extras(const CLI::App* sub, const std::vector<std::string>& command_words) {
  for (const auto& extra : sub->remaining()) {
    if (extra == "--") continue;
    if (std::find(command_words.begin(), command_words.end(), extra) != command_words.end())
      continue;
    throw UsageError(fmt::format("unexpected argument '{}'", extra));
  }
}

int run_run(const CommonFlags& f, bool group, const std::string& out_dir, bool shell) {
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

ssh::ConfigOptions config_options_from(const CommonFlags& f, const std::string& dir, unsigned keep,
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

int run_backup(const CommonFlags& f, const std::string& dir, unsigned keep,
               const std::string& command) {
  ssh::Inventory inv = inventory_from(f, f.words);
  auto o = config_options_from(f, dir, keep, command);
  FleetProgress progress("backup", inv.hosts().size());
  o.on_host_done = progress.callback();
  auto run = ssh::backup_configs(inv, o);
  progress.clear();
  return ssh::print_backup_results(stdout, stderr, run, f.json);
}

int run_push(const CommonFlags& f, const std::string& file, bool dry_run, bool rollback,
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

int run_copy(const CommonFlags& f, const std::string& put, const std::string& get,
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

}  // namespace

void add_ssh_command(CLI::App& app, Action& action) {
  auto* ssh = app.add_subcommand(
      "ssh", "Run commands, back up and push device configs, copy files over SSH, in parallel");
  ssh->require_subcommand(1, 1);
  ssh->footer(
      "Statuses: ok, failed, unreachable, auth-failed, timeout, hostkey. Exit 1 if any host is "
      "not ok. See docs/ssh.md.");

  static CommonFlags run_flags;
  static bool group = false, shell = false;
  static std::string out_dir;
  auto* run = ssh->add_subcommand(
      "run", "Run a command on every host: netres ssh run [targets] -- COMMAND");
  add_common_flags(run, run_flags);
  run->add_flag("--group", group, "Print each host's output as one block when it finishes");
  run->add_option("--out-dir", out_dir, "Write HOST.stdout, HOST.stderr, HOST.exit here");
  run->add_flag("--shell", shell, "Use a PTY shell (network devices) instead of an exec channel");
  run->add_option("words", run_flags.words, "[targets] -- COMMAND");
  // CLI11 hands "--" in a nested subcommand up to the parents unless they allow extras.
  run->allow_extras();
  ssh->allow_extras();
  run->final_callback([&action, run, ssh] {
    reject_extras(run, words_after_double_dash());
    reject_extras(ssh, words_after_double_dash());
    action = [] { return run_run(run_flags, group, out_dir, shell); };
  });

  static CommonFlags backup_flags;
  static std::string backup_dir = "backups", backup_command;
  static unsigned backup_keep = 10;
  auto* backup = ssh->add_subcommand(
      "backup", "Fetch each host's configuration into DIR/HOST/TIMESTAMP.cfg and diff it");
  add_common_flags(backup, backup_flags);
  backup->add_option("--dir", backup_dir, "Backup directory")->capture_default_str();
  backup->add_option("--keep", backup_keep, "Backups kept per host (0: all)")
      ->capture_default_str();
  backup->add_option("--command", backup_command,
                     "Command that prints the configuration (default: the platform's)");
  backup->add_option("targets", backup_flags.words, "Host specs, or patterns with -i");
  backup->final_callback([&action, ssh, backup] {
    reject_extras(backup, {});
    reject_extras(ssh, {});
    action = [] { return run_backup(backup_flags, backup_dir, backup_keep, backup_command); };
  });

  static CommonFlags push_flags;
  static std::string push_file, push_dir = "backups";
  static bool push_dry_run = false, push_rollback = false;
  static unsigned push_keep = 10;
  auto* push = ssh->add_subcommand(
      "push", "Send configuration lines (backup first, stop at the first device error)");
  add_common_flags(push, push_flags);
  push->add_option("--file", push_file, "Configuration lines to send, one per line");
  push->add_flag("--dry-run", push_dry_run,
                 "Show what would be sent and the diff against the latest backup");
  push->add_flag("--rollback", push_rollback, "Re-apply the latest backup");
  push->add_option("--dir", push_dir, "Backup directory")->capture_default_str();
  push->add_option("--keep", push_keep, "Backups kept per host (0: all)")->capture_default_str();
  push->add_option("targets", push_flags.words, "Host specs, or patterns with -i");
  static CommonFlags copy_flags;
  static std::string copy_put, copy_get, copy_to;
  static bool copy_no_checksum = false;
  auto* copy = ssh->add_subcommand("copy", "Upload or download a file over SFTP, verified");
  add_common_flags(copy, copy_flags);
  copy->add_option("--put", copy_put, "Local file to upload to every host");
  copy->add_option("--get", copy_get, "Remote file to download from every host");
  copy->add_option("--to", copy_to,
                   "--put: remote path (ending '/' keeps the name); --get: local dir (files "
                   "land in DIR/HOST/)");
  copy->add_flag("--no-checksum", copy_no_checksum, "Verify sizes only (skip sha256sum)");
  copy->add_option("targets", copy_flags.words, "Host specs, or patterns with -i");
  copy->final_callback([&action, ssh, copy] {
    reject_extras(copy, {});
    reject_extras(ssh, {});
    action = [] { return run_copy(copy_flags, copy_put, copy_get, copy_to, copy_no_checksum); };
  });

  push->final_callback([&action, ssh, push] {
    reject_extras(push, {});
    reject_extras(ssh, {});
    action = [] {
      return run_push(push_flags, push_file, push_dry_run, push_rollback, push_dir, push_keep);
    };
  });
}

}  // namespace netres::cli
