// netres ssh: flags -> Inventory + ConnectOptions -> ssh library call -> live lines, table, NDJSON.
// Verbs: run (exec or --shell), backup, push, copy.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/output.h"
#include "common/terminal.h"
#include "ssh/command_runner.h"
#include "ssh/config_ops.h"
#include "ssh/device_shell.h"
#include "ssh/fan_out_runner.h"
#include "ssh/file_copy.h"
#include "ssh/inventory.h"
#include "ssh/secrets.h"
#include "ssh/ssh_config.h"
#include "ssh/ssh_session.h"

namespace netres::cli {
namespace {

struct CommonFlags {
  std::string hosts;
  std::string inventory;
  std::string limit;
  std::string config_file;
  std::string known_hosts;
  bool accept_new = false;
  std::string strict_host_keys;
  std::string jump;
  int verbose = 0;
  std::string user;
  std::string key;
  bool ask_pass = false;
  bool ask_passphrase = false;
  std::string connect_timeout = "10s";
  std::string timeout = "0";
  std::string keepalive = "15s";
  unsigned forks = 64;
  bool json = false;
  std::string platform;
  std::string prompt;
  std::vector<std::string> words;  // positionals: [targets] and, for run, the command
  // To tell a flag given on the command line (beats the ssh config) from its default.
  CLI::Option* connect_timeout_opt = nullptr;
  CLI::Option* keepalive_opt = nullptr;
};

void add_common_flags(CLI::App* sub, CommonFlags& f) {
  sub->add_option("-H,--hosts", f.hosts, "Host specs: host,user@host:2222,[::1]:22");
  sub->add_option("-i,--inventory", f.inventory,
                  "Inventory: a file of host specs (one per line) or Ansible-style YAML");
  sub->add_option("--limit", f.limit,
                  "Only these hosts/groups/globs (comma separated; !x excludes)");
  sub->add_option("-F,--ssh-config", f.config_file,
                  "ssh config file (default ~/.ssh/config, then /etc/ssh/ssh_config)");
  sub->add_option("--known-hosts", f.known_hosts,
                  "known_hosts file, replacing UserKnownHostsFile (default ~/.ssh/known_hosts)");
  sub->add_flag("--accept-new", f.accept_new,
                "Add unknown host keys to known_hosts (changed keys are always refused)");
  sub->add_option("--strict-host-keys", f.strict_host_keys,
                  "yes, accept-new or no (overrides StrictHostKeyChecking; the config's 'no' is "
                  "honoured only with this flag)")
      ->check(CLI::IsMember({"yes", "accept-new", "no"}));
  sub->add_option("-J,--jump", f.jump,
                  "Jump host(s) [user@]host[:port][,...] (overrides ProxyJump; 'none' disables)");
  sub->add_flag("-v,--verbose", f.verbose, "libssh's log on stderr (-vv, -vvv: more)");
  sub->add_option("-u,--user", f.user, "Login user (overrides the inventory and the ssh config)");
  sub->add_option("--key", f.key, "Private key file to try first");
  sub->add_flag("--ask-pass", f.ask_pass, "Prompt for a password (else NETRES_SSH_PASSWORD)");
  sub->add_flag("--ask-passphrase", f.ask_passphrase,
                "Prompt for the key passphrase (else NETRES_SSH_PASSPHRASE)");
  f.connect_timeout_opt = sub->add_option("--connect-timeout", f.connect_timeout,
                                          "Connect timeout (e.g. 5s; overrides ConnectTimeout)")
                              ->capture_default_str();
  sub->add_option("--timeout", f.timeout, "Command timeout per host (0: none)")
      ->capture_default_str();
  f.keepalive_opt = sub->add_option("--keepalive", f.keepalive,
                                    "Keepalive interval while waiting (0: off; overrides "
                                    "ServerAliveInterval)")
                        ->capture_default_str();
  sub->add_option("-f,--forks", f.forks, "Parallel sessions")->capture_default_str();
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
  ssh::HostSelection s;
  if (!f.inventory.empty()) s.inventory = ssh::Inventory::load_file(f.inventory);
  s.host_specs = f.hosts;
  s.targets = targets;
  s.limit = f.limit;
  return ssh::select_hosts(s);
}

ssh::ConnectOptions connect_options_from(const CommonFlags& f) {
  ssh::set_libssh_verbosity(f.verbose);
  ssh::ConnectOptions o;
  // Read and check the whole ssh config (Includes too) before any host is contacted: a typo
  // must not half-run a fleet.
  const char* home = std::getenv("HOME");
  o.config = std::make_shared<const ssh::SshConfig>(
      ssh::SshConfig::load(f.config_file, home && *home ? home : ""));
  o.config_file = f.config_file;
  o.known_hosts = f.known_hosts;
  o.accept_new = f.accept_new;
  o.strict_host_keys = f.strict_host_keys;
  if (f.accept_new && !f.strict_host_keys.empty() && f.strict_host_keys != "accept-new")
    throw UsageError("--accept-new contradicts --strict-host-keys " + f.strict_host_keys);
  o.user = f.user;
  o.identity_file = f.key;
  if (!f.key.empty()) {
    std::ifstream key(f.key);
    if (!key) throw UsageError(fmt::format("--key: cannot read '{}'", f.key));
  }
  o.jump = f.jump;
  if (!f.jump.empty() && f.jump != "none") {
    std::istringstream hops(f.jump);
    std::string hop;
    while (std::getline(hops, hop, ',')) {
      if (hop.starts_with("ssh://")) hop.erase(0, 6);
      ssh::parse_host_spec(hop, "--jump");
    }
  }
  o.connect_timeout = parse_duration(f.connect_timeout, "--connect-timeout");
  if (o.connect_timeout <= Nanos(0)) throw UsageError("--connect-timeout must be above zero");
  o.connect_timeout_set = f.connect_timeout_opt && f.connect_timeout_opt->count() > 0;
  o.keepalive = parse_duration(f.keepalive, "--keepalive");
  o.keepalive_set = f.keepalive_opt && f.keepalive_opt->count() > 0;
  o.password = f.ask_pass ? ssh::prompt_secret("SSH password: ")
                          : ssh::secret_from_env("NETRES_SSH_PASSWORD");
  o.passphrase = f.ask_passphrase ? ssh::prompt_secret("Key passphrase: ")
                                  : ssh::secret_from_env("NETRES_SSH_PASSPHRASE");
  if (f.forks == 0 || f.forks > 1024) throw UsageError("--forks must be 1-1024");
  return o;
}

std::string exit_cell(const ssh::HostResult& r) {
  return r.exit_code ? std::to_string(*r.exit_code) : "-";
}

nlohmann::json result_json(const ssh::HostResult& r) {
  nlohmann::json j;
  j["host"] = r.host;
  j["status"] = std::string(ssh::to_string(r.status));
  j["exit_code"] = r.exit_code ? nlohmann::json(*r.exit_code) : nlohmann::json(nullptr);
  j["duration_s"] = std::round(to_seconds(r.duration) * 1000) / 1000;
  j["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
  return j;
}

// The results table on stdout (results are data), the one-line summary on stderr, exit code.
int finish(const std::vector<ssh::HostResult>& results, bool json, const char* verb) {
  size_t bad = 0;
  std::map<std::string, size_t> by_status;
  for (const auto& r : results) {
    ++by_status[std::string(ssh::to_string(r.status))];
    if (r.status != ssh::HostStatus::kOk) ++bad;
  }
  if (!json) {
    Table table({{"HOST"}, {"STATUS"}, {"EXIT", true}, {"DURATION", true}, {"ERROR"}});
    for (const auto& r : results)
      table.add_row({r.host, std::string(ssh::to_string(r.status)), exit_cell(r),
                     format_duration(r.duration), r.error});
    table.print(stdout);
  }
  std::string summary;
  for (const auto& [status, n] : by_status) summary += fmt::format(", {} {}", n, status);
  fmt::print(stderr, "netres: ssh {}: {} hosts{}\n", verb, results.size(), summary);
  return bad ? kExitFailed : kExitOk;
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

// The summary line and exit code for verbs that print their own table.
int finish_quiet(const std::vector<ssh::HostResult>& results, const char* verb) {
  return finish(results, true, verb);
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
  o.forks = f.forks;
  o.out_dir = out_dir;
  o.shell = shell;
  o.platform = f.platform;
  o.prompt = f.prompt;
  if (shell)  // fail on a bad platform or regex now, not once per host
    for (const auto& h : inv.hosts())
      ssh::shell_profile_for(h.platform.empty() ? f.platform : h.platform, f.prompt);
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
      auto j = result_json(r);
      j["stdout"] = r.stdout_text;
      j["stderr"] = r.stderr_text;
      ndjson.write(j);
      ndjson.flush();
    } else if (group) {
      fmt::print("==> {} ({}{}) <==\n", r.host, ssh::to_string(r.status),
                 r.exit_code ? fmt::format(", exit {}", *r.exit_code) : "");
      std::fwrite(r.stdout_text.data(), 1, r.stdout_text.size(), stdout);
      if (!r.stdout_text.empty() && !r.stdout_text.ends_with('\n')) fmt::print("\n");
      std::fwrite(r.stderr_text.data(), 1, r.stderr_text.size(), stdout);
      if (!r.stderr_text.empty() && !r.stderr_text.ends_with('\n')) fmt::print("\n");
      fmt::print("\n");
      std::fflush(stdout);
    } else {
      live.finish(r.host);
    }
    if (f.json || group) tick(r);
  };

  auto results = ssh::run_command(inv, o, sink, done);
  progress.clear();
  return finish(results, f.json, "run");
}

ssh::ConfigOptions config_options_from(const CommonFlags& f, const std::string& dir, unsigned keep,
                                       const std::string& command) {
  ssh::ConfigOptions o;
  o.connect = connect_options_from(f);
  o.forks = f.forks;
  o.timeout = parse_duration(f.timeout, "--timeout");
  o.platform = f.platform;
  o.prompt = f.prompt;
  o.command = command;
  o.dir = dir;
  o.keep = keep;
  return o;
}

std::string changes_cell(const ssh::ConfigResult& d, bool first_backup) {
  if (first_backup) return "new";
  if (d.stat.added + d.stat.removed == 0) return "none";
  return fmt::format("+{} -{}", d.stat.added, d.stat.removed);
}

nlohmann::json config_json(const ssh::HostResult& r, const ssh::ConfigResult& d) {
  auto j = result_json(r);
  j.erase("exit_code");
  j["backup"] = d.backup_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.backup_path);
  j["diff"] = d.diff;
  j["added"] = d.stat.added;
  j["removed"] = d.stat.removed;
  return j;
}

void print_diff(const std::string& diff) { std::fwrite(diff.data(), 1, diff.size(), stdout); }

int run_backup(const CommonFlags& f, const std::string& dir, unsigned keep,
               const std::string& command) {
  ssh::Inventory inv = inventory_from(f, f.words);
  auto o = config_options_from(f, dir, keep, command);
  FleetProgress progress("backup", inv.hosts().size());
  o.on_host_done = progress.callback();
  auto run = ssh::backup_configs(inv, o);
  progress.clear();
  NdjsonWriter ndjson(stdout);
  Table table({{"HOST"}, {"STATUS"}, {"CHANGES"}, {"DURATION", true}, {"BACKUP"}, {"ERROR"}});
  for (size_t i = 0; i < run.hosts.size(); ++i) {
    const auto& r = run.hosts[i];
    const auto& d = run.details[i];
    bool first = d.first_backup;
    if (f.json) {
      auto j = config_json(r, d);
      j["first_backup"] = first;
      ndjson.write(j);
      continue;
    }
    print_diff(d.diff);
    table.add_row({r.host, std::string(ssh::to_string(r.status)),
                   r.status == ssh::HostStatus::kOk ? changes_cell(d, first) : "-",
                   format_duration(r.duration), d.backup_path, r.error});
  }
  if (!f.json) table.print(stdout);
  return finish_quiet(run.hosts, "backup");
}

int run_push(const CommonFlags& f, const std::string& file, bool dry_run, bool rollback,
             const std::string& dir, unsigned keep) {
  ssh::Inventory inv = inventory_from(f, f.words);
  auto o = config_options_from(f, dir, keep, "");
  FleetProgress progress(rollback ? "push --rollback" : "push", inv.hosts().size());
  o.on_host_done = progress.callback();
  ssh::ConfigRun run;
  std::vector<std::string> lines;
  if (rollback) {
    if (!file.empty()) throw UsageError("--rollback re-applies the latest backup; drop --file");
    if (dry_run) throw UsageError("--rollback --dry-run is not supported");
    run = ssh::rollback_configs(inv, o);
  } else {
    if (file.empty()) throw UsageError("push needs --file LINES.cfg (or --rollback)");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw UsageError(fmt::format("cannot read '{}'", file));
    std::stringstream ss;
    ss << in.rdbuf();
    lines = ssh::push_lines_from_text(ss.str());
    if (lines.empty()) throw UsageError(fmt::format("'{}' has no configuration lines", file));
    run = ssh::push_configs(inv, o, lines, dry_run);
  }
  progress.clear();
  NdjsonWriter ndjson(stdout);
  Table table(
      {{"HOST"}, {"STATUS"}, {"APPLIED", true}, {"CHANGES"}, {"DURATION", true}, {"ERROR"}});
  for (size_t i = 0; i < run.hosts.size(); ++i) {
    const auto& r = run.hosts[i];
    const auto& d = run.details[i];
    if (f.json) {
      auto j = config_json(r, d);
      j["dry_run"] = dry_run;
      j["rollback"] = rollback;
      j["sent"] = d.sent;
      j["applied"] = dry_run ? nlohmann::json(nullptr)
                             : nlohmann::json(std::vector<std::string>(d.sent.begin(),
                                                                       d.sent.begin() + d.applied));
      j["failed_line"] =
          d.failed_line.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.failed_line);
      j["device_error"] =
          d.device_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.device_error);
      ndjson.write(j);
      continue;
    }
    if (!d.sent.empty() || dry_run) {
      fmt::print("==> {}: {} <==\n", r.host,
                 dry_run ? fmt::format("would send {} lines", d.sent.size())
                         : fmt::format("{} of {} lines applied", d.applied, d.sent.size()));
      for (size_t k = 0; k < d.sent.size(); ++k) {
        const char* mark = dry_run          ? "send"
                           : k < d.applied  ? "ok"
                           : k == d.applied ? "FAIL"
                                            : "skip";
        fmt::print(
            "  {:<4} {}{}\n", mark, d.sent[k],
            !dry_run && k == d.applied && !d.device_error.empty() ? "  <- " + d.device_error : "");
      }
    }
    print_diff(d.diff);
    table.add_row({r.host, std::string(ssh::to_string(r.status)),
                   dry_run ? "-" : fmt::format("{}/{}", d.applied, d.sent.size()),
                   fmt::format("+{} -{}", d.stat.added, d.stat.removed),
                   format_duration(r.duration), r.error});
  }
  if (!f.json) table.print(stdout);
  return finish_quiet(run.hosts, rollback ? "push --rollback" : "push");
}

int run_copy(const CommonFlags& f, const std::string& put, const std::string& get,
             const std::string& to, bool no_checksum) {
  if (put.empty() == get.empty()) throw UsageError("copy needs exactly one of --put or --get");
  if (to.empty()) throw UsageError("copy needs --to (remote path for --put, local dir for --get)");
  ssh::Inventory inv = inventory_from(f, f.words);
  ssh::CopyOptions o;
  o.connect = connect_options_from(f);
  o.forks = f.forks;
  o.timeout = parse_duration(f.timeout, "--timeout");
  o.upload = !put.empty();
  o.source = o.upload ? put : get;
  o.dest = to;
  o.checksum = !no_checksum;
  FleetProgress progress("copy", inv.hosts().size());
  o.on_host_done = progress.callback();
  auto run = ssh::copy_files(inv, o);
  progress.clear();
  NdjsonWriter ndjson(stdout);
  Table table({{"HOST"}, {"STATUS"}, {"BYTES", true}, {"VERIFIED"}, {"DURATION", true}, {"ERROR"}});
  for (size_t i = 0; i < run.hosts.size(); ++i) {
    const auto& r = run.hosts[i];
    const auto& d = run.details[i];
    bool ok = r.status == ssh::HostStatus::kOk;
    if (f.json) {
      auto j = result_json(r);
      j.erase("exit_code");
      j["direction"] = o.upload ? "upload" : "download";
      j["local_path"] = d.local_path;
      j["remote_path"] = d.remote_path;
      j["bytes"] = d.bytes;
      j["sha256"] = d.sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.sha256);
      j["verified"] = ok ? nlohmann::json(d.verified) : nlohmann::json(nullptr);
      ndjson.write(j);
      continue;
    }
    table.add_row({r.host, std::string(ssh::to_string(r.status)),
                   ok ? std::to_string(d.bytes) : "-", ok ? d.verified : "-",
                   format_duration(r.duration), r.error});
  }
  if (!f.json) table.print(stdout);
  return finish_quiet(run.hosts, "copy");
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
