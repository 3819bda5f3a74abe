// netres bandwidth: placeholder until the verb lands.
#include "cli/commands.h"
#include "common/error.h"

namespace netres::cli {

void add_bandwidth_command(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand("bandwidth", "bandwidth (not built yet)");
  sub->final_callback([&action] { action = []() -> int { throw RuntimeError("not built yet"); }; });
}

}  // namespace netres::cli
