#include "ssh/fleet_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/duration.h"
#include "common/error.h"
#include "common/option_check.h"
#include "ssh/config_ops.h"
#include "ssh/device_shell.h"
#include "ssh/secrets.h"
#include "ssh/ssh_config.h"

namespace netres::ssh {

ConnectOptions connect_options_for(const FleetFlags& f) {
  ConnectOptions o;
  o.config = std::make_shared<const SshConfig>(SshConfig::load(f.config_file, f.home));
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
      parse_host_spec(hop, "--jump");
    }
  }
  o.connect_timeout = parse_duration(f.connect_timeout, "--connect-timeout");
  require_above_zero(o.connect_timeout, "--connect-timeout");
  o.connect_timeout_set = f.connect_timeout_set;
  o.keepalive = parse_duration(f.keepalive, "--keepalive");
  o.keepalive_set = f.keepalive_set;
  o.password =
      f.ask_pass ? prompt_secret("SSH password: ") : secret_from_env("NETRES_SSH_PASSWORD");
  o.passphrase = f.ask_passphrase ? prompt_secret("Key passphrase: ")
                                  : secret_from_env("NETRES_SSH_PASSPHRASE");
  require_in_range(f.forks, "--forks", 1, 1024);
  return o;
}

Inventory fleet_hosts(const std::string& inventory_file, const std::string& host_specs,
                      const std::vector<std::string>& targets, const std::string& limit) {
  HostSelection s;
  if (!inventory_file.empty()) s.inventory = Inventory::load_file(inventory_file);
  s.host_specs = host_specs;
  s.targets = targets;
  s.limit = limit;
  return select_hosts(s);
}

void check_shell_profiles(const Inventory& inventory, const std::string& platform,
                          const std::string& prompt) {
  for (const auto& h : inventory.hosts())
    shell_profile_for(h.platform.empty() ? platform : h.platform, prompt);
}

std::vector<std::string> read_push_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("cannot read '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto lines = push_lines_from_text(ss.str());
  if (lines.empty()) throw UsageError(fmt::format("'{}' has no configuration lines", path));
  return lines;
}

ConnectOptions connect_options_for(const SshFlags& f) {
  set_libssh_verbosity(f.verbose);
  FleetFlags c = f.connect;
  const char* home = std::getenv("HOME");
  c.home = home && *home ? home : "";
  return connect_options_for(c);
}

std::vector<std::string> targets_before_command(const std::vector<std::string>& words,
                                                const std::vector<std::string>& command_words) {
  std::vector<std::string> targets = words;
  if (targets.size() >= command_words.size() &&
      std::equal(command_words.begin(), command_words.end(), targets.end() - command_words.size()))
    targets.resize(targets.size() - command_words.size());
  return targets;
}

FleetPlan<RunOptions> plan_run(const RunFlags& f, const std::vector<std::string>& command_words) {
  const SshFlags& s = f.ssh;
  std::vector<std::string> targets = targets_before_command(s.words, command_words);
  if (command_words.empty()) throw UsageError("no command: netres ssh run [targets] -- COMMAND");
  FleetPlan<RunOptions> plan{fleet_hosts(s.inventory, s.hosts, targets, s.limit), {}};
  RunOptions& o = plan.options;
  o.connect = connect_options_for(s);
  for (const auto& w : command_words) o.command += (o.command.empty() ? "" : " ") + w;
  o.command_timeout = parse_duration(s.timeout, "--timeout");
  o.forks = s.connect.forks;
  o.out_dir = f.out_dir;
  o.shell = f.shell;
  o.platform = s.platform;
  o.prompt = s.prompt;
  if (f.shell) check_shell_profiles(plan.inventory, s.platform, s.prompt);
  o.keep_output = s.json || f.group || !f.results.empty();
  return plan;
}

namespace {

FleetPlan<ConfigOptions> plan_config(const SshFlags& s, const std::string& dir, unsigned keep,
                                     const std::string& command) {
  FleetPlan<ConfigOptions> plan{fleet_hosts(s.inventory, s.hosts, s.words, s.limit), {}};
  ConfigOptions& o = plan.options;
  o.connect = connect_options_for(s);
  o.forks = s.connect.forks;
  o.timeout = parse_duration(s.timeout, "--timeout");
  o.platform = s.platform;
  o.prompt = s.prompt;
  o.command = command;
  o.dir = dir;
  o.keep = keep;
  return plan;
}

}  // namespace

FleetPlan<ConfigOptions> plan_backup(const BackupFlags& f) {
  return plan_config(f.ssh, f.dir, f.keep, f.command);
}

PushPlan plan_push(const PushFlags& f) {
  auto config = plan_config(f.ssh, f.dir, f.keep, "");
  PushPlan plan{std::move(config.inventory), std::move(config.options), {}};
  if (f.rollback) {
    if (!f.file.empty()) throw UsageError("--rollback re-applies the latest backup; drop --file");
    if (f.dry_run) throw UsageError("--rollback --dry-run is not supported");
  } else {
    if (f.file.empty()) throw UsageError("push needs --file LINES.cfg (or --rollback)");
    plan.lines = read_push_file(f.file);
  }
  return plan;
}

FleetPlan<CopyOptions> plan_copy(const CopyFlags& f) {
  if (f.put.empty() == f.get.empty()) throw UsageError("copy needs exactly one of --put or --get");
  if (f.to.empty())
    throw UsageError("copy needs --to (remote path for --put, local dir for --get)");
  const SshFlags& s = f.ssh;
  FleetPlan<CopyOptions> plan{fleet_hosts(s.inventory, s.hosts, s.words, s.limit), {}};
  CopyOptions& o = plan.options;
  o.connect = connect_options_for(s);
  o.forks = s.connect.forks;
  o.timeout = parse_duration(s.timeout, "--timeout");
  o.upload = !f.put.empty();
  o.source = o.upload ? f.put : f.get;
  o.dest = f.to;
  o.checksum = !f.no_checksum;
  return plan;
}

}  // namespace netres::ssh
