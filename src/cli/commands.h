// One add_<verb>_command per verb: each declares its flags on a CLI11 subcommand and, when that
// subcommand is chosen, stores in `action` the function that runs it and returns the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace netres::cli {

using Action = std::function<int()>;

// The words after the first "--" on the command line (empty if none). CLI11 drops "--" inside
// nested subcommands, so verbs that take a trailing command (ssh run -- CMD) read it here.
const std::vector<std::string>& words_after_double_dash();

void add_resolve_command(CLI::App& app, Action& action);
void add_scan_command(CLI::App& app, Action& action);
void add_capture_command(CLI::App& app, Action& action);
void add_bandwidth_command(CLI::App& app, Action& action);
void add_shape_command(CLI::App& app, Action& action);
void add_ssh_command(CLI::App& app, Action& action);
void add_load_command(CLI::App& app, Action& action);
void add_merge_command(CLI::App& app, Action& action);
void add_monitor_command(CLI::App& app, Action& action);

}  // namespace netres::cli
