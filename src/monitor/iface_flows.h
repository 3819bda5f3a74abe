// The iface check's optional top flows: a short capture on an interface, counted by capture's
// FlowStats in a bounded table, reduced to the busiest N flows and one "other" for the rest
// (evicted flows and non-IP frames included), so each probe exports at most N + 1 series per
// interface.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/duration.h"

namespace netres::monitor {

struct FlowShare {
  std::string flow;  // "udp 198.18.52.1:40000 <=> 198.18.52.2:12", or "other"
  uint64_t bytes = 0;
};

struct FlowCapture {
  std::string device;
  std::vector<FlowShare> flows;  // the busiest first, then "other" (always present)
  double seconds = 0;            // how long it captured
  std::string error;             // empty on success
};

// The busiest `top` of `rows` (by bytes, ties by name for a stable order), then "other" =
// `total` minus them. `total` counts everything the capture saw, so other >= the rest of rows.
std::vector<FlowShare> top_and_other(std::vector<FlowShare> rows, size_t top, uint64_t total);

// Captures on each device at once for `duration` (blocking: run it on the pool) and returns one
// FlowCapture per device. Never throws: a device that cannot be captured (no permission, gone)
// has its error set.
std::vector<FlowCapture> capture_top_flows(const std::vector<std::string>& devices, Nanos duration,
                                           size_t top);

}  // namespace netres::monitor
