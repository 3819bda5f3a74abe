// netres shape: flags -> TokenBucketSpec / PortShapeSpec -> Shaper (netlink) -> a confirmation
// line, or the interface's qdiscs and classes for --show.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "capture/shape_setup.h"
#include "capture/shaper.h"
#include "cli/commands.h"
#include "common/error.h"

namespace netres::cli {
namespace {

int run_shape(const capture::ShapeFlags& f) {
  using Mode = capture::ShapePlan::Mode;
  capture::ShapePlan plan = capture::plan_for(f);  // before touching the interface: exit 2
  capture::Shaper shaper(f.interface);
  switch (plan.mode) {
    case Mode::kTokenBucket:
      shaper.set_token_bucket(plan.token_bucket);
      fmt::print("{}\n", capture::applied_text(f.interface, plan.token_bucket));
      break;
    case Mode::kPorts:
      shaper.set_port_shaping(plan.ports);
      fmt::print("{}\n", capture::applied_text(f.interface, plan.ports));
      break;
    case Mode::kShow:
      capture::print_show(stdout, shaper.interface(), shaper.show(), f.json);
      break;
    case Mode::kClear:
      fmt::print("{}\n", capture::cleared_text(f.interface, shaper.clear()));
      break;
  }
  return kExitOk;
}

}  // namespace

void add_shape_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<capture::ShapeFlags>();
  auto* sub = app.add_subcommand(
      "shape",
      "Limit an interface's egress rate (tbf token bucket, or htb per port) through netlink; "
      "show or clear the interface's queueing setup. Needs CAP_NET_ADMIN.");
  sub->add_option("interface", flags->interface, "the interface, e.g. eth0")->required();
  sub->add_option("--rate", flags->rate, "limit, e.g. 10mbit, 500kbit, 1gbit, 100kbps");
  sub->add_option("--burst", flags->burst,
                  "token bucket size, e.g. 32k (default: 10 ms at the rate, at least 16k)");
  sub->add_option("--latency", flags->latency,
                  "tbf: how long packets may wait in the queue (default 50ms)");
  sub->add_option("--match", flags->match, "shape only this traffic: 'port N' (source or dest)")
      ->expected(2);
  sub->add_option("--default-rate", flags->default_rate,
                  "with --match: limit for all other traffic (default: unlimited)");
  sub->add_flag("--show", flags->show, "print the interface's qdiscs and classes");
  sub->add_flag("--clear", flags->clear, "remove the root qdisc (back to the kernel default)");
  sub->add_flag("--json", flags->json, "with --show: NDJSON (see docs/shape.md)");
  sub->final_callback([&action, flags] { action = [flags] { return run_shape(*flags); }; });
}

}  // namespace netres::cli
