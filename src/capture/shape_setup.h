// What the shape verb decides before touching an interface, and what it prints: the flags
// checked and turned into one mode with its spec (bad flags are exit 2 before any netlink
// call), the confirmation lines, and --show's table or NDJSON. Kept out of the CLI so each rule
// and each line has a unit test.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "capture/shaper.h"

namespace netres::capture {

// The shape flags as given on the command line.
struct ShapeFlags {
  std::string interface;
  std::string rate;
  std::string burst;
  std::string latency;
  std::vector<std::string> match;  // --match port N: two words
  std::string default_rate;
  bool show = false;
  bool clear = false;
  bool json = false;
};

struct ShapePlan {
  enum class Mode { kTokenBucket, kPorts, kShow, kClear };
  Mode mode = Mode::kShow;
  TokenBucketSpec token_bucket;  // kTokenBucket: --rate without --match
  PortShapeSpec ports;           // kPorts: --rate with --match port N
};

// Exactly one of --rate, --show, --clear; --burst, --latency, --match and --default-rate only
// with --rate, --default-rate only with --match; then the rates, burst, latency and port parsed
// and the spec checked by validate(). Throws UsageError naming the flag.
ShapePlan plan_for(const ShapeFlags& f);

// "eth0: egress limited to 10mbit (tbf, burst 16384 bytes, latency 50ms)".
std::string applied_text(const std::string& interface, const TokenBucketSpec& spec);
// "eth0: port 80 limited to 1mbit, other traffic unlimited (htb)".
std::string applied_text(const std::string& interface, const PortShapeSpec& spec);
// "eth0: root qdisc removed", or that there was nothing to remove.
std::string cleared_text(const std::string& interface, bool removed);

// --show: the interface's qdiscs and classes as a table, or one NDJSON object each (fields in
// docs/shape.md; rate_bits, ceil_bits, burst and limit only when set).
void print_show(std::FILE* out, const std::string& interface,
                const std::vector<ShapeEntry>& entries, bool json);

}  // namespace netres::capture
