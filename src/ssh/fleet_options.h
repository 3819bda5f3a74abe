// What the ssh verbs' shared flags ask for, checked and turned into library options before any
// host is contacted: a typo in the ssh config, a missing key or a bad jump host must not
// half-run a fleet.
#pragma once

#include <string>
#include <vector>

#include "ssh/command_runner.h"
#include "ssh/config_ops.h"
#include "ssh/file_copy.h"
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

// The flags every ssh verb shares, as given.
struct SshFlags {
  std::string hosts;      // -H
  std::string inventory;  // -i
  std::string limit;
  FleetFlags connect;  // home and the *_set fields are filled in by the caller
  int verbose = 0;
  std::string timeout = "0";
  bool json = false;
  std::string platform;
  std::string prompt;
  std::vector<std::string> words;  // positionals: [targets] and, for run, the command
};

// Each verb's own flags beside the shared ones.
struct RunFlags {
  SshFlags ssh;
  bool group = false;
  bool shell = false;
  std::string out_dir;
  std::string shard;    // --shard K/N: a contiguous share of the selected hosts
  std::string results;  // --results FILE for netres merge
};
struct BackupFlags {
  SshFlags ssh;
  std::string dir = "backups";
  std::string command;
  unsigned keep = 10;
};
struct PushFlags {
  SshFlags ssh;
  std::string file;
  std::string dir = "backups";
  bool dry_run = false;
  bool rollback = false;
  unsigned keep = 10;
};
struct CopyFlags {
  SshFlags ssh;
  std::string put, get, to;
  bool no_checksum = false;
};

// A verb's hosts and options, checked before any host is contacted.
template <class Options>
struct FleetPlan {
  Inventory inventory;
  Options options;
};

// The shared connection flags with $HOME read (for ~ and the default config); sets libssh's
// log level from -v.
ConnectOptions connect_options_for(const SshFlags& f);

// Positionals before "--" are targets. CLI11 may or may not have collected the command words
// too, so they are removed from the end of `words` when present.
std::vector<std::string> targets_before_command(const std::vector<std::string>& words,
                                                const std::vector<std::string>& command_words);

// run [targets] -- COMMAND: the command words joined by spaces (none is a UsageError), the
// hosts, the connection, --timeout, --shell's platform check; output kept for --json and --group.
FleetPlan<RunOptions> plan_run(const RunFlags& f, const std::vector<std::string>& command_words);

// backup: the hosts, the connection, --timeout, --dir, --keep and --command.
FleetPlan<ConfigOptions> plan_backup(const BackupFlags& f);

// push: as backup, then --rollback (no --file, no --dry-run) or --file's lines.
struct PushPlan {
  Inventory inventory;
  ConfigOptions options;
  std::vector<std::string> lines;  // empty for --rollback
};
PushPlan plan_push(const PushFlags& f);

// copy: exactly one of --put and --get, --to, then the hosts, the connection and --timeout.
FleetPlan<CopyOptions> plan_copy(const CopyFlags& f);

}  // namespace netres::ssh
