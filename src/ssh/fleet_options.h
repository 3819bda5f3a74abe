// What the ssh verbs' shared flags ask for, checked and turned into library options before any
// host is contacted: a typo in the ssh config, a missing key or a bad jump host must not
// half-run a fleet.
#pragma once

#include <string>
#include <vector>

#include "ssh/inventory.h"
#include "ssh/ssh_session.h"

namespace netres::ssh {

// The connection flags as given (durations still text, so their errors name the flag).
struct FleetFlags {
  std::string config_file;  // -F; empty: ~/.ssh/config, then /etc/ssh/ssh_config
  std::string home;         // $HOME, for ~ and the default config
  std::string known_hosts;
  bool accept_new = false;
  std::string strict_host_keys;  // "", yes, accept-new, no
  std::string jump;              // [user@]host[:port][,...] or "none"
  std::string user;
  std::string key;
  bool ask_pass = false;
  bool ask_passphrase = false;
  std::string connect_timeout = "10s";
  bool connect_timeout_set = false;  // given on the command line: beats ConnectTimeout
  std::string keepalive = "15s";
  bool keepalive_set = false;  // given on the command line: beats ServerAliveInterval
  unsigned forks = 64;
};

// Reads and checks the whole ssh config (Includes too), the key file, the jump hops and the
// flag values; reads the password and passphrase (prompt or environment). Throws UsageError
// with the flag's name.
ConnectOptions connect_options_for(const FleetFlags& flags);

// The hosts to contact: the inventory file (if any), -H specs and positional targets, --limit.
Inventory fleet_hosts(const std::string& inventory_file, const std::string& host_specs,
                      const std::vector<std::string>& targets, const std::string& limit);

// --shell: fails on an unknown or missing platform now, not once per host.
void check_shell_profiles(const Inventory& inventory, const std::string& platform,
                          const std::string& prompt);

// The configuration lines of a push file; throws UsageError when it cannot be read or holds
// no lines.
std::vector<std::string> read_push_file(const std::string& path);

}  // namespace netres::ssh
