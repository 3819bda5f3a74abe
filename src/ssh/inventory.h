// The hosts a fan-out runs on: parsed from -H specs, a file of host specs, or an Ansible-style
// YAML inventory, then narrowed with --limit (names, groups, globs).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netres::ssh {

// One target. `name` is what users see and what --limit and file names use; `address` is what
// we connect to (empty: let ~/.ssh/config's HostName or the name itself decide).
struct Host {
  std::string name;
  std::string address;
  int port = 0;  // 0: from ssh config, else 22
  std::string user;
  std::string key_file;
  std::string platform;  // device platform preset (netres_platform), empty = unset
  std::vector<std::string> groups;
  std::map<std::string, std::string> vars;  // every scalar var, for netres_* extensions
};

// "host", "user@host", "host:2222", "user@host:2222", "[::1]:2222", "user@[fe80::1]:22".
// Throws UsageError naming `where` (e.g. "-H" or "hosts.txt:3").
Host parse_host_spec(std::string_view spec, std::string_view where);

class Inventory {
 public:
  // Comma-separated host specs, as given to -H.
  static Inventory from_specs(std::string_view list);
  // One host spec per line; blank lines and '#' comments ignored. Errors say file:line.
  static Inventory from_lines_text(std::string_view text, std::string_view file);
  // Ansible YAML inventory: all/children/hosts/vars with ansible_host, ansible_port,
  // ansible_user, ansible_ssh_private_key_file and netres_platform. Errors say file:line.
  static Inventory from_yaml_text(std::string_view text, std::string_view file);
  // Picks the format: YAML when the file looks like YAML (.yml/.yaml or a top-level "all:"),
  // lines otherwise. Throws UsageError when unreadable.
  static Inventory load_file(const std::string& path);

  void add(Host host);  // a repeated name merges groups; later fields win
  const std::vector<Host>& hosts() const { return hosts_; }
  bool empty() const { return hosts_.empty(); }

  // Keeps hosts matching any comma/colon-separated pattern: a host name, a group name, or a
  // glob over either ('web*'). A leading '!' excludes. Throws UsageError if nothing matches.
  Inventory limited(std::string_view patterns) const;

 private:
  std::vector<Host> hosts_;
};

// The hosts of a run, from what the ssh verbs take: an inventory (-i), host specs (-H) and
// positional targets, which select from the inventory like Ansible's host pattern when there is
// one (several: their union) and are host specs otherwise; then --limit. Throws UsageError when no
// host is left.
struct HostSelection {
  std::optional<Inventory> inventory;
  std::string host_specs;
  std::vector<std::string> targets;
  std::string limit;
};
Inventory select_hosts(const HostSelection& selection);

// The jump hosts an Ansible inventory gives through ansible_ssh_common_args or
// ansible_ssh_extra_args ("-J bastion", "-o ProxyJump=bastion", "-oProxyJump bastion"); empty
// when neither names one.
std::string proxy_jump_from_ansible_args(const Host& host);

// fnmatch-style glob: '*', '?', '[...]'.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace netres::ssh
