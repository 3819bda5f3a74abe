// netres shape: flags -> TokenBucketSpec / PortShapeSpec -> Shaper (netlink) -> a confirmation
// line, or the interface's qdiscs and classes for --show.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capture/shaper.h"
#include "cli/commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/output.h"
#include "common/size.h"

namespace netres::cli {
namespace {

struct ShapeFlags {
  std::string interface;
  std::string rate;
  std::string burst;
  std::string latency;
  std::vector<std::string> match;
  std::string default_rate;
  bool show = false;
  bool clear = false;
  bool json = false;
};

uint32_t parse_burst(const std::string& text) {
  uint64_t burst = parse_size(text, "--burst");
  if (burst > UINT32_MAX) throw UsageError("--burst must be 2k-256M");
  return static_cast<uint32_t>(burst);
}

int print_show(capture::Shaper& shaper, bool json) {
  auto entries = shaper.show();
  if (json) {
    NdjsonWriter out(stdout);
    for (const auto& e : entries) {
      nlohmann::json j = {{"type", e.type},
                          {"interface", shaper.interface()},
                          {"kind", e.kind},
                          {"handle", e.handle},
                          {"parent", e.parent}};
      if (e.rate_bits) j["rate_bits"] = e.rate_bits;
      if (e.ceil_bits) j["ceil_bits"] = e.ceil_bits;
      if (e.burst) j["burst"] = e.burst;
      if (e.limit) j["limit"] = e.limit;
      out.write(j);
    }
    out.flush();
    return kExitOk;
  }
  Table table({{"type"},
               {"kind"},
               {"handle"},
               {"parent"},
               {"rate", true},
               {"ceil", true},
               {"burst", true},
               {"limit", true}});
  for (const auto& e : entries) {
    table.add_row({e.type, e.kind, e.handle, e.parent, format_tc_rate(e.rate_bits),
                   format_tc_rate(e.ceil_bits), e.burst ? std::to_string(e.burst) : "-",
                   e.limit ? std::to_string(e.limit) : "-"});
  }
  table.print(stdout);
  return kExitOk;
}

int run_shape(const ShapeFlags& f) {
  int modes = (f.show ? 1 : 0) + (f.clear ? 1 : 0) + (!f.rate.empty() ? 1 : 0);
  if (modes != 1) throw UsageError("give one of --rate, --show or --clear");
  if (f.rate.empty() &&
      (!f.burst.empty() || !f.latency.empty() || !f.match.empty() || !f.default_rate.empty()))
    throw UsageError("--burst, --latency, --match and --default-rate go with --rate");
  if (!f.default_rate.empty() && f.match.empty())
    throw UsageError("--default-rate goes with --match");

  if (!f.rate.empty() && f.match.empty()) {
    capture::TokenBucketSpec spec;
    spec.rate_bits = parse_bit_rate(f.rate, "--rate");
    if (!f.burst.empty()) spec.burst = parse_burst(f.burst);
    if (!f.latency.empty()) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(
          parse_duration(f.latency, "--latency"));
      spec.latency_us = static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX));
    }
    capture::validate(spec);  // before touching the interface: bad flags are exit 2
    capture::Shaper shaper(f.interface);
    shaper.set_token_bucket(spec);
    uint32_t burst = spec.burst ? spec.burst : capture::default_burst(spec.rate_bits);
    fmt::print("{}: egress limited to {} (tbf, burst {} bytes, latency {}ms)\n", f.interface,
               format_tc_rate(spec.rate_bits), burst, spec.latency_us / 1000);
    return kExitOk;
  }
  if (!f.rate.empty()) {
    capture::PortShapeSpec spec;
    if (f.match.size() != 2 || f.match[0] != "port")
      throw UsageError("--match takes 'port N', e.g. --match port 80");
    try {
      size_t used = 0;
      unsigned long port = std::stoul(f.match[1], &used);
      if (used != f.match[1].size() || port < 1 || port > 65535) throw std::out_of_range("port");
      spec.ports.push_back(static_cast<uint16_t>(port));
    } catch (const std::logic_error&) {
      throw UsageError(fmt::format("--match port: bad port '{}': ports are 1-65535", f.match[1]));
    }
    spec.rate_bits = parse_bit_rate(f.rate, "--rate");
    if (!f.default_rate.empty())
      spec.default_rate_bits = parse_bit_rate(f.default_rate, "--default-rate");
    if (!f.burst.empty()) spec.burst = parse_burst(f.burst);
    capture::validate(spec);
    capture::Shaper shaper(f.interface);
    shaper.set_port_shaping(spec);
    fmt::print("{}: port {} limited to {}, other traffic {} (htb)\n", f.interface,
               spec.ports.front(), format_tc_rate(spec.rate_bits),
               spec.default_rate_bits ? format_tc_rate(spec.default_rate_bits) : "unlimited");
    return kExitOk;
  }
  capture::Shaper shaper(f.interface);
  if (f.show) return print_show(shaper, f.json);
  bool removed = shaper.clear();
  fmt::print("{}: {}\n", f.interface,
             removed ? "root qdisc removed" : "no root qdisc to remove (nothing changed)");
  return kExitOk;
}

}  // namespace

void add_shape_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ShapeFlags>();
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
