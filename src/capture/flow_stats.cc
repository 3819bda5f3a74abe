// FlowStats: one packet -> one flow row, or two endpoint rows (source sent, destination
// received) for host and port views, or one protocol row.
#include "capture/flow_stats.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>

namespace netres::capture {

namespace {

void add_bin(SecondBins& bins, int64_t second, uint64_t bytes) {
  if (!bins.empty() && bins.back().first == second) {
    bins.back().second += bytes;
  } else {
    bins.emplace_back(second, bytes);
  }
}

// Adds `more` into `bins`, one entry per second, in second order.
void merge_bins(SecondBins& bins, const SecondBins& more) {
  bins.insert(bins.end(), more.begin(), more.end());
  std::stable_sort(bins.begin(), bins.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  SecondBins out;
  out.reserve(bins.size());
  for (const auto& [second, bytes] : bins) add_bin(out, second, bytes);
  bins = std::move(out);
}

// The busiest second, the earliest among equals: what counting in time order finds.
void peak_of(const SecondBins& bins, int64_t& second, uint64_t& bytes) {
  second = 0;
  bytes = 0;
  for (const auto& [s, b] : bins)
    if (b > bytes) {
      bytes = b;
      second = s;
    }
}

}  // namespace

FlowStats::FlowStats(const FlowStatsOptions& options)
    : by_(options.by),
      table_(options.max_entries, options.keep_history),
      keep_bins_(options.keep_bins) {}

const SecondBins& FlowStats::bins_of(const FlowEntry& e) const {
  static const SecondBins kNone;
  return e.slot() < row_bins_.size() ? row_bins_[e.slot()] : kNone;
}

void FlowStats::absorb(const AbsorbedRow& row) {
  bool created = false;
  FlowEntry& e = table_.touch(row.key, created);
  auto counters = row.counters;
  if (created) {
    e.first_second = row.first_second;
    e.last_second = row.last_second;
    e.a_is_lo = row.a_is_lo;
  } else if (by_ == Aggregation::kFlow && e.a_is_lo != row.a_is_lo) {
    std::swap(counters[0], counters[1]);
  }
  for (size_t d = 0; d < 2; ++d) {
    e.counters[d].packets += counters[d].packets;
    e.counters[d].bytes += counters[d].bytes;
  }
  e.last_second = std::max(e.last_second, row.last_second);
  if (e.slot() >= row_bins_.size()) row_bins_.resize(e.slot() + 1);
  SecondBins& bins = row_bins_[e.slot()];
  if (created) bins.clear();
  merge_bins(bins, row.bins);
  peak_of(bins, e.peak_second, e.peak_bytes);
  e.current_second = bins.empty() ? INT64_MIN : bins.back().first;
  e.current_bytes = bins.empty() ? 0 : bins.back().second;
}

void FlowStats::absorb_totals(const FlowTotals& t, const SecondBins& bins) {
  if (t.packets == 0) return;
  if (totals_.packets == 0) totals_.first_second = t.first_second;
  totals_.packets += t.packets;
  totals_.bytes += t.bytes;
  totals_.non_ip_packets += t.non_ip_packets;
  totals_.non_ip_bytes += t.non_ip_bytes;
  totals_.last_second = std::max(totals_.last_second, t.last_second);
  merge_bins(total_bins_, bins);
  peak_of(total_bins_, totals_.peak_second, totals_.peak_bytes);
  current_second_ = total_bins_.empty() ? INT64_MIN : total_bins_.back().first;
  current_bytes_ = total_bins_.empty() ? 0 : total_bins_.back().second;
}

void FlowStats::count(const FlowKey& key, int direction, bool tcp_initiator, bool src_is_lo,
                      int64_t second, uint64_t bytes) {
  bool created = false;
  FlowEntry& e = table_.touch(key, created);
  if (created) {
    e.first_second = second;
    e.last_second = second;
    // A is the side that opened the TCP connection when we saw the SYN, else the lower one.
    e.a_is_lo = tcp_initiator ? src_is_lo : true;
  }
  if (by_ == Aggregation::kFlow) direction = (src_is_lo == e.a_is_lo) ? 0 : 1;
  table_.count(e, direction, second, bytes);
  if (keep_bins_) {
    if (e.slot() >= row_bins_.size()) row_bins_.resize(e.slot() + 1);
    if (created) row_bins_[e.slot()].clear();  // a slot reused after an eviction
    add_bin(row_bins_[e.slot()], second, bytes);
  }
}

void FlowStats::add(const PacketView& view, int64_t second) {
  const uint64_t bytes = view.wire_length;
  if (totals_.packets == 0) totals_.first_second = second;
  ++totals_.packets;
  totals_.bytes += bytes;
  totals_.last_second = std::max(totals_.last_second, second);
  if (second != current_second_) {
    current_second_ = second;
    current_bytes_ = 0;
  }
  current_bytes_ += bytes;
  if (current_bytes_ > totals_.peak_bytes) {
    totals_.peak_bytes = current_bytes_;
    totals_.peak_second = second;
  }
  if (keep_bins_) add_bin(total_bins_, second, bytes);

  FlowKey flow;
  bool src_is_lo = true;
  if (!make_flow_key(view, flow, src_is_lo)) {
    ++totals_.non_ip_packets;
    totals_.non_ip_bytes += bytes;
    return;
  }
  switch (by_) {
    case Aggregation::kFlow: {
      bool syn_only = view.has(kLayerTcp) && (view.tcp.flags & tcp_flag::kSyn) &&
                      !(view.tcp.flags & tcp_flag::kAck);
      count(flow, 0, syn_only, src_is_lo, second, bytes);
      break;
    }
    case Aggregation::kHost: {
      FlowKey src, dst;
      src.version = dst.version = view.src.version;
      src.lo_addr = view.src.bytes;
      dst.lo_addr = view.dst.bytes;
      count(src, 0, false, true, second, bytes);
      count(dst, 1, false, true, second, bytes);
      break;
    }
    case Aggregation::kPort: {
      FlowKey src, dst;
      src.proto = dst.proto = view.ip_protocol;
      if (view.has_ports()) {
        src.lo_port = view.src_port();
        dst.lo_port = view.dst_port();
      }
      count(src, 0, false, true, second, bytes);
      count(dst, 1, false, true, second, bytes);
      break;
    }
    case Aggregation::kProto: {
      FlowKey key;
      key.proto = view.ip_protocol;
      count(key, 0, false, true, second, bytes);
      break;
    }
  }
}

std::vector<const FlowEntry*> FlowStats::top(size_t limit, int64_t now, int window) const {
  std::vector<const FlowEntry*> rows;
  rows.reserve(table_.size());
  table_.for_each([&](const FlowEntry& e) { rows.push_back(&e); });
  auto weight = [&](const FlowEntry* e) -> uint64_t {
    const FlowTable::History* h = window > 0 ? table_.history(*e) : nullptr;
    if (h != nullptr) return (*h)[0].sum(now, window) + (*h)[1].sum(now, window);
    return e->total_bytes();
  };
  auto busier = [&](const FlowEntry* a, const FlowEntry* b) {
    uint64_t wa = weight(a), wb = weight(b);
    if (wa != wb) return wa > wb;
    return a->total_bytes() > b->total_bytes();
  };
  if (limit > 0 && limit < rows.size()) {
    std::partial_sort(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(limit), rows.end(),
                      busier);
    rows.resize(limit);
  } else {
    std::stable_sort(rows.begin(), rows.end(), busier);
  }
  return rows;
}

std::string protocol_name(uint8_t proto) {
  switch (proto) {
    case 1:
      return "icmp";
    case 2:
      return "igmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 47:
      return "gre";
    case 50:
      return "esp";
    case 58:
      return "ipv6-icmp";
    case 132:
      return "sctp";
    default:
      return std::to_string(proto);
  }
}

std::string format_address(const std::array<uint8_t, 16>& bytes, uint8_t version) {
  char text[INET6_ADDRSTRLEN] = {};
  if (version == 4) {
    inet_ntop(AF_INET, bytes.data(), text, sizeof text);
  } else if (version == 6) {
    inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  } else {
    return "-";
  }
  return text;
}

const char* aggregation_name(Aggregation by) {
  switch (by) {
    case Aggregation::kFlow:
      return "flow";
    case Aggregation::kHost:
      return "host";
    case Aggregation::kPort:
      return "port";
    case Aggregation::kProto:
      return "proto";
  }
  return "flow";
}

}  // namespace netres::capture
