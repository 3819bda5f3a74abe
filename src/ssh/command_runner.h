// `netres ssh run`: one command on every host, over exec channels (or device shells), with
// live output, optional per-host result files, and one HostResult per host.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ssh/fan_out_runner.h"
#include "ssh/inventory.h"
#include "ssh/ssh_session.h"

namespace netres::ssh {

struct RunOptions {
  ConnectOptions connect;
  std::string command;
  Nanos command_timeout{0};  // 0: none
  unsigned forks = 64;
  std::string out_dir;       // host.stdout, host.stderr, host.exit, each written atomically
  bool shell = false;        // PTY shell for devices, see device_shell.h
  std::string platform;      // default platform for --shell when the inventory names none
  std::string prompt;        // --prompt REGEX override for --shell
  bool keep_output = false;  // keep stdout/stderr in the results (JSON, --group)
};

using LiveSink = std::function<void(const std::string& host, Stream, std::string_view)>;

std::vector<HostResult> run_command(const Inventory& inventory, const RunOptions& options,
                                    const LiveSink& live, const FanOutRunner::Done& done);

}  // namespace netres::ssh
