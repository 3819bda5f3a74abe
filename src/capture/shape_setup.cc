#include "capture/shape_setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/duration.h"
#include "common/error.h"
#include "common/output.h"
#include "common/size.h"

namespace netres::capture {
namespace {

uint32_t parse_burst(const std::string& text) {
  uint64_t burst = parse_size(text, "--burst");
  if (burst > UINT32_MAX) throw UsageError("--burst must be 2k-256M");
  return static_cast<uint32_t>(burst);
}

uint16_t parse_match_port(const std::vector<std::string>& match) {
  if (match.size() != 2 || match[0] != "port")
    throw UsageError("--match takes 'port N', e.g. --match port 80");
  try {
    size_t used = 0;
    unsigned long port = std::stoul(match[1], &used);
    if (used != match[1].size() || port < 1 || port > 65535) throw std::out_of_range("port");
    return static_cast<uint16_t>(port);
  } catch (const std::logic_error&) {
    throw UsageError(fmt::format("--match port: bad port '{}': ports are 1-65535", match[1]));
  }
}

}  // namespace

ShapePlan plan_for(const ShapeFlags& f) {
  int modes = (f.show ? 1 : 0) + (f.clear ? 1 : 0) + (!f.rate.empty() ? 1 : 0);
  if (modes != 1) throw UsageError("give one of --rate, --show or --clear");
  if (f.rate.empty() &&
      (!f.burst.empty() || !f.latency.empty() || !f.match.empty() || !f.default_rate.empty()))
    throw UsageError("--burst, --latency, --match and --default-rate go with --rate");
  if (!f.default_rate.empty() && f.match.empty())
    throw UsageError("--default-rate goes with --match");

  ShapePlan plan;
  if (f.show) return plan;
  if (f.clear) {
    plan.mode = ShapePlan::Mode::kClear;
    return plan;
  }
  if (f.match.empty()) {
    plan.mode = ShapePlan::Mode::kTokenBucket;
    TokenBucketSpec& spec = plan.token_bucket;
    spec.rate_bits = parse_bit_rate(f.rate, "--rate");
    if (!f.burst.empty()) spec.burst = parse_burst(f.burst);
    if (!f.latency.empty()) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(
          parse_duration(f.latency, "--latency"));
      spec.latency_us = static_cast<uint32_t>(std::min<int64_t>(us.count(), UINT32_MAX));
    }
    validate(spec);
    return plan;
  }
  plan.mode = ShapePlan::Mode::kPorts;
  PortShapeSpec& spec = plan.ports;
  spec.ports.push_back(parse_match_port(f.match));
  spec.rate_bits = parse_bit_rate(f.rate, "--rate");
  if (!f.default_rate.empty())
    spec.default_rate_bits = parse_bit_rate(f.default_rate, "--default-rate");
  if (!f.burst.empty()) spec.burst = parse_burst(f.burst);
  validate(spec);
  return plan;
}

std::string applied_text(const std::string& interface, const TokenBucketSpec& spec) {
  uint32_t burst = spec.burst ? spec.burst : default_burst(spec.rate_bits);
  return fmt::format("{}: egress limited to {} (tbf, burst {} bytes, latency {}ms)", interface,
                     format_tc_rate(spec.rate_bits), burst, spec.latency_us / 1000);
}

std::string applied_text(const std::string& interface, const PortShapeSpec& spec) {
  return fmt::format("{}: port {} limited to {}, other traffic {} (htb)", interface,
                     spec.ports.front(), format_tc_rate(spec.rate_bits),
                     spec.default_rate_bits ? format_tc_rate(spec.default_rate_bits) : "unlimited");
}

std::string cleared_text(const std::string& interface, bool removed) {
  return fmt::format("{}: {}", interface,
                     removed ? "root qdisc removed" : "no root qdisc to remove (nothing changed)");
}

void print_show(std::FILE* out, const std::string& interface,
                const std::vector<ShapeEntry>& entries, bool json) {
  if (json) {
    NdjsonWriter writer(out);
    for (const auto& e : entries) {
      nlohmann::json j = {{"type", e.type},
                          {"interface", interface},
                          {"kind", e.kind},
                          {"handle", e.handle},
                          {"parent", e.parent}};
      if (e.rate_bits) j["rate_bits"] = e.rate_bits;
      if (e.ceil_bits) j["ceil_bits"] = e.ceil_bits;
      if (e.burst) j["burst"] = e.burst;
      if (e.limit) j["limit"] = e.limit;
      writer.write(j);
    }
    writer.flush();
    return;
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
  table.print(out);
}

}  // namespace netres::capture
