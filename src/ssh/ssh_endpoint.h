// Where and how one SSH endpoint (a target or a jump host) is reached, computed in OpenSSH's
// order: command-line flags, then the inventory, then the ssh config, then defaults. Pure
// computation over the parsed config (no network), used by SshSession::connect.
#pragma once

#include <string>
#include <vector>

#include "common/duration.h"
#include "ssh/ssh_config.h"
#include "ssh/ssh_session.h"

namespace netres::ssh {

// ProxyJump chains longer than this are refused (a config loop).
constexpr size_t kMaxHops = 8;

struct Endpoint {
  std::string label;     // for messages: the name as given
  std::string hostname;  // where to connect (HostName)
  int port = 22;
  std::string user;
  struct Key {
    std::string path;
    bool from_defaults = false;
  };
  std::vector<Key> keys;
  bool identities_only = false;
  std::vector<std::string> user_known_hosts, global_known_hosts;
  std::string known_hosts_name;  // [host]:port, or HostKeyAlias
  std::string strict = "yes";    // effective: yes, accept-new, no
  std::string strict_note;       // why a config "no" was not honoured
  bool hash_known_hosts = false;
  Nanos connect_timeout{};
  Nanos keepalive{};
  bool pubkey = true, kbdint = true, password = true;
  std::string proxy_jump;  // empty: direct
  std::string proxy_command;
  std::string host_key_algorithms, ciphers, kex, macs;
};

// $HOME, else "." (as ssh does when it cannot find the home directory).
std::string home_dir();

// The settings for `name` (the inventory's address or name). `port`, `spec_user` and `key_file`
// come from the host spec or inventory (0 / empty: unset). A jump host (`is_jump`) ignores -u
// and --jump, as OpenSSH's -J hops do; `inventory_jump` is the inventory's ProxyJump.
Endpoint resolve_endpoint(const SshConfig& cfg, const ConnectOptions& o, const std::string& name,
                          int port, const std::string& spec_user, const std::string& key_file,
                          bool is_jump, const std::string& inventory_jump = "");

// Appends the hops of the ProxyJump `list` to `out`, first connected first; throws HostFailure
// for a bad hop or more than kMaxHops.
void collect_hops(const SshConfig& cfg, const ConnectOptions& o, const std::string& list,
                  const std::string& target_key, std::vector<Endpoint>& out, size_t depth);

}  // namespace netres::ssh
