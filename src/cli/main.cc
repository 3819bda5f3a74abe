// netres entry point: parses the verb and its flags, runs it, and turns every error into one
// line on stderr and the documented exit code (0 ok, 1 failures, 2 usage, 3 runtime).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "common/terminal.h"

#ifndef NETRES_VERSION
#define NETRES_VERSION "0.0.0"
#endif

namespace netres::cli {
namespace {
std::vector<std::string> g_after_double_dash;
}  // namespace
const std::vector<std::string>& words_after_double_dash() { return g_after_double_dash; }
}  // namespace netres::cli

namespace {

std::string verb_of(const CLI::App& app) {
  auto subs = app.get_subcommands();
  return subs.empty() ? std::string("netres") : subs.front()->get_name();
}

void print_error(const std::string& verb, const std::string& message) {
  if (verb == "netres")
    fmt::print(stderr, "netres: {}\n", message);
  else
    fmt::print(stderr, "netres: {}: {}\n", verb, message);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "netres: resolve names, scan ports, capture and measure traffic, drive SSH fleets and "
      "load-test web services, from one fast native tool.",
      "netres"};
  app.set_version_flag("--version", std::string("netres ") + NETRES_VERSION);
  app.require_subcommand(1, 1);
  app.footer(
      "Exit codes: 0 all good; 1 ran fine but something failed; 2 bad usage or input; "
      "3 runtime error.\nRun 'netres VERB --help' for a verb's flags.");

  netres::cli::Action action;
  netres::cli::add_resolve_command(app, action);
  netres::cli::add_scan_command(app, action);
  netres::cli::add_capture_command(app, action);
  netres::cli::add_bandwidth_command(app, action);
  netres::cli::add_shape_command(app, action);
  netres::cli::add_ssh_command(app, action);
  netres::cli::add_load_command(app, action);
  netres::cli::add_merge_command(app, action);
  netres::cli::add_monitor_command(app, action);

  // nmap spells the target-list flag "-iL"; CLI11 has only one-letter short flags.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      netres::cli::g_after_double_dash.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) {
    std::string a = argv[i];
    args.push_back(a == "-iL" ? "--input-list" : a);
  }

  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string verb = verb_of(app);
    print_error(verb, e.what());
    fmt::print(stderr, "Run 'netres {}--help' for usage.\n", verb == "netres" ? "" : verb + " ");
    return netres::kExitUsage;
  } catch (const netres::UsageError& e) {  // thrown by option validators
    print_error(verb_of(app), e.what());
    return netres::kExitUsage;
  }

  std::string verb = verb_of(app);
  try {
    if (!action) {
      print_error(verb, "internal error: no action for this verb");
      return netres::kExitRuntime;
    }
    return action();
  } catch (const netres::UsageError& e) {
    print_error(verb, e.what());
    return netres::kExitUsage;
  } catch (const netres::RuntimeError& e) {
    print_error(verb, e.what());
    return netres::kExitRuntime;
  } catch (const std::bad_alloc&) {
    print_error(verb, "out of memory");
    return netres::kExitRuntime;
  } catch (const std::exception& e) {
    print_error(verb, e.what());
    return netres::kExitRuntime;
  }
}
