// FlowStats: feeds decoded packets into a FlowTable under one Aggregation (flow, host, port or
// protocol) and keeps the overall totals, so `netres bandwidth` only has to print.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "capture/flow_table.h"
#include "capture/packet_view.h"

namespace netres::capture {

struct FlowStatsOptions {
  Aggregation by = Aggregation::kFlow;
  size_t max_entries = 100000;  // FlowTable::kUnbounded (0): every key keeps its row
  bool keep_history = false;    // per-second rings for the 2/10/40 s rates (live)
  // Bytes per whole second of every row and of all traffic, for results files: shards' rows
  // merge into exact busiest seconds when a key's traffic spans files.
  bool keep_bins = false;
};

// Bytes per whole second, (second, bytes) in the order seconds were first seen.
using SecondBins = std::vector<std::pair<int64_t, uint64_t>>;

// A row counted elsewhere (a shard's results file), to be added to this FlowStats.
struct AbsorbedRow {
  FlowKey key;
  bool a_is_lo = true;
  std::array<DirectionCounters, 2> counters{};
  int64_t first_second = 0, last_second = 0;
  SecondBins bins;
};

struct FlowTotals {
  uint64_t packets = 0;
  uint64_t bytes = 0;           // frame lengths on the wire, as tshark's conversation tables
  uint64_t non_ip_packets = 0;  // counted in the totals but in no row (ARP, LLDP, ...)
  uint64_t non_ip_bytes = 0;
  int64_t first_second = 0, last_second = 0;
  int64_t peak_second = 0;  // the busiest whole second, all traffic
  uint64_t peak_bytes = 0;
};

class FlowStats {
 public:
  explicit FlowStats(const FlowStatsOptions& options);

  // `second` is the packet's capture time in whole seconds; bytes are its wire length.
  void add(const PacketView& view, int64_t second);

  const FlowTable& table() const { return table_; }
  const FlowTotals& totals() const { return totals_; }
  Aggregation by() const { return by_; }

  // Live entries, busiest first: by the rate over `window` seconds before `now` when
  // `window` > 0 (needs history), else by total bytes. At most `limit` (0: all).
  std::vector<const FlowEntry*> top(size_t limit, int64_t now = 0, int window = 0) const;

  // With keep_bins: the per-second bytes of a row, and of all traffic.
  const SecondBins& bins_of(const FlowEntry& e) const;
  const SecondBins& total_bins() const { return total_bins_; }

  // Merging (needs keep_bins): adds a row, the totals and the evicted aggregate of another run.
  // Rows absorbed in the order the runs saw them keep one run's row order; a key seen before
  // keeps its first second and A side (flow counters are swapped to match it); busiest seconds
  // are recomputed from the summed bins.
  void absorb(const AbsorbedRow& row);
  void absorb_totals(const FlowTotals& totals, const SecondBins& bins);
  void absorb_evicted(const std::array<DirectionCounters, 2>& counters, uint64_t entries) {
    table_.absorb_evicted(counters, entries);
  }

 private:
  void count(const FlowKey& key, int direction, bool tcp_initiator, bool src_is_lo, int64_t second,
             uint64_t bytes);

  Aggregation by_;
  FlowTable table_;
  FlowTotals totals_;
  bool keep_bins_ = false;
  std::vector<SecondBins> row_bins_;  // by entry slot
  SecondBins total_bins_;
  int64_t current_second_ = INT64_MIN;
  uint64_t current_bytes_ = 0;
};

// "tcp", "udp", "icmp", "ipv6-icmp", ... or the number.
std::string protocol_name(uint8_t proto);
// Printable address of a key's `lo` or `hi` endpoint.
std::string format_address(const std::array<uint8_t, 16>& bytes, uint8_t version);
const char* aggregation_name(Aggregation by);

}  // namespace netres::capture
