// The ssh verbs behind the flags ssh_command.cc declares: flags -> ssh library options -> one
// library call -> live lines, table, NDJSON (rendered by ssh/fleet_report.h).
#pragma once

#include <string>
#include <vector>

#include "ssh/fleet_options.h"

namespace CLI {
class Option;
}

namespace netres::cli {

// The flags every ssh verb shares.
struct SshFlags {
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

// run [targets] -- COMMAND (the command words come from words_after_double_dash()).
int run_ssh_run(const SshFlags& f, bool group, const std::string& out_dir, bool shell);
int run_ssh_backup(const SshFlags& f, const std::string& dir, unsigned keep,
                   const std::string& command);
int run_ssh_push(const SshFlags& f, const std::string& file, bool dry_run, bool rollback,
                 const std::string& dir, unsigned keep);
int run_ssh_copy(const SshFlags& f, const std::string& put, const std::string& get,
                 const std::string& to, bool no_checksum);

}  // namespace netres::cli
