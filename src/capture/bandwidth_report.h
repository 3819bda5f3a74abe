// What `netres bandwidth` prints from a FlowStats: the row keys (text and NDJSON fields), the
// windowed rates, the live top table or snapshot, and the totals at the end. The field names are
// documented in docs/bandwidth.md.
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "capture/flow_stats.h"

namespace netres::capture {

// The rate windows of the live view, in seconds (iftop's).
inline constexpr int kRateWindows[] = {2, 10, 40};

// "2026-01-02T03:04:05Z": a capture second in UTC.
std::string format_utc_second(int64_t second);

// A row's key as the table prints it: "tcp 10.0.0.1:80 <=> [fd00::1]:5000", "10.0.0.1",
// "udp/53", "icmp".
std::string key_text(Aggregation by, const FlowEntry& e);
// The same key as NDJSON fields: proto/a/b/a_port/b_port, host, proto/port, or proto.
void add_key_json(nlohmann::json& j, Aggregation by, const FlowEntry& e);

// One "flow"/"host"/"port"/"proto" totals object, and the "other" object for what evicted
// rows had counted (the rows plus it add up to the totals).
nlohmann::json totals_json(Aggregation by, const FlowEntry& e);
nlohmann::json other_json(Aggregation by, const FlowTable& table);

// Rate over `window` seconds before `now`, in bits per second; a run younger than the window
// divides by its age so the first seconds do not read low.
double rate_bits(const RateHistory& h, int64_t now, int window, int64_t started);

// The end of a run: every row (or the busiest `limit`; 0: all), an "other / evicted" row when
// the table was full, and the summary; a table or NDJSON.
void print_totals(std::FILE* out, const FlowStats& stats, bool json, size_t limit);

// The warning after a run whose table was full: how many keys were evicted (--max-flows
// `max_flows`) and where their packets went.
std::string eviction_text(const FlowStats& stats, size_t max_flows);

// One live refresh: the busiest `limit` rows by their 2 s rate with the 2/10/40 s rates. On a
// terminal the table redraws in place; otherwise each one is headed by its time. Needs history.
void print_live(std::FILE* out, const FlowStats& stats, size_t limit, int64_t now, int64_t started,
                bool json, bool terminal);

}  // namespace netres::capture
