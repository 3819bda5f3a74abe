// FlowStats: one packet -> one flow row, or two endpoint rows (source sent, destination
// received) for host and port views, or one protocol row.
#include "capture/flow_stats.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>

namespace netres::capture {

FlowStats::FlowStats(const FlowStatsOptions& options)
    : by_(options.by), table_(options.max_entries, options.keep_history) {}

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
