#include "ssh/fleet_options.h"

#include <fmt/format.h>

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

}  // namespace netres::ssh
