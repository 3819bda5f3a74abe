// Configuration work on devices: backup (fetch, store, diff against the previous copy), push
// (backup first, send lines in configuration mode, stop at the first device error) and
// rollback (re-apply the latest backup by sending the difference).
#pragma once

#include <string>
#include <vector>

#include "ssh/fan_out_runner.h"
#include "ssh/inventory.h"
#include "ssh/line_diff.h"
#include "ssh/ssh_session.h"

namespace netres::ssh {

struct ConfigOptions {
  ConnectOptions connect;
  unsigned forks = 64;
  Nanos timeout{0};      // per command; 0: the shell's default (30s)
  std::string platform;  // for hosts without netres_platform
  std::string prompt;    // --prompt override
  std::string command;   // --command: fetch the config with this instead of the platform's
  std::string dir = "backups";
  size_t keep = 10;
  FanOutRunner::Done on_host_done;  // called (serialised) as each host finishes: progress
};

struct ConfigResult {
  std::string backup_path;    // the backup written by this run (backup, push)
  bool first_backup = false;  // no earlier backup of this host existed
  std::string diff;           // unified diff: previous -> new backup, or before -> after a change
  DiffStat stat;
  std::vector<std::string> sent;  // lines sent in configuration mode (dry run: would be sent)
  size_t applied = 0;             // how many of `sent` the device accepted
  std::string failed_line;        // the line the device rejected
  std::string device_error;       // the device's error line for it
};

using ConfigRun = FleetRun<ConfigResult>;

// Lines of a config file to push: blank lines and '!' / '#' comment lines dropped.
std::vector<std::string> push_lines_from_text(const std::string& text);
// The lines of a shown configuration that are configuration: no banners, '!' separators,
// "Building configuration...", "Current configuration : N bytes", "end", "## " comments.
std::vector<std::string> config_body_lines(const std::string& text);
// What rollback sends to turn `current` into `target`: negations of extra lines, then the
// missing ones. Top-level lines only; indented sub-commands are compared as text.
std::vector<std::string> rollback_commands(const std::vector<std::string>& current,
                                           const std::vector<std::string>& target,
                                           const std::string& negate_prefix);
// The dry-run preview: `lines` applied to `body` the simple way ("no X" removes X, others are
// added when absent).
std::vector<std::string> preview_push(const std::vector<std::string>& body,
                                      const std::vector<std::string>& lines,
                                      const std::string& negate_prefix);

// Throws UsageError up front (bad platform, no way to fetch a config) so nothing half-runs.
void check_config_options(const Inventory& inventory, const ConfigOptions& options,
                          bool needs_config_mode);

ConfigRun backup_configs(const Inventory& inventory, const ConfigOptions& options);
ConfigRun push_configs(const Inventory& inventory, const ConfigOptions& options,
                       const std::vector<std::string>& lines, bool dry_run);
ConfigRun rollback_configs(const Inventory& inventory, const ConfigOptions& options);

}  // namespace netres::ssh
