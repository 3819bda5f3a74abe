// Top flows for the iface check. Each device gets its own libpcap handle (non-blocking, small
// snaplen: only the headers are decoded, bytes count the wire length); one loop serves all of
// them in turn until the capture time is up.
#include "monitor/iface_flows.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>

#include "capture/bandwidth_report.h"
#include "capture/flow_stats.h"
#include "capture/packet_view.h"
#include "capture/pcap_source.h"

namespace netres::monitor {

std::vector<FlowShare> top_and_other(std::vector<FlowShare> rows, size_t top, uint64_t total) {
  std::sort(rows.begin(), rows.end(), [](const FlowShare& a, const FlowShare& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.flow < b.flow;
  });
  if (rows.size() > top) rows.resize(top);
  uint64_t shown = 0;
  for (const auto& r : rows) shown += r.bytes;
  rows.push_back({"other", total > shown ? total - shown : 0});
  return rows;
}

namespace {

// Flows tracked per device during one capture; beyond it the least recent are evicted into the
// table's own aggregate, which ends up in "other".
constexpr size_t kMaxFlowEntries = 4096;

class Counter : public capture::PacketHandler {
 public:
  Counter(int linktype)
      : linktype_(linktype),
        stats_(capture::FlowStatsOptions{capture::Aggregation::kFlow, kMaxFlowEntries}) {}
  void on_packet(const pcap_pkthdr& h, const uint8_t* bytes) override {
    // decode_packet and FlowStats::add neither throw nor allocate per packet beyond the table.
    capture::decode_packet(linktype_, {bytes, h.caplen}, h.len, view_);
    stats_.add(view_, static_cast<int64_t>(h.ts.tv_sec));
  }
  const capture::FlowStats& stats() const { return stats_; }

 private:
  int linktype_;
  capture::PacketView view_;
  capture::FlowStats stats_;
};

struct Device {
  FlowCapture result;
  std::unique_ptr<capture::PcapSource> source;
  std::unique_ptr<Counter> counter;
};

}  // namespace

std::vector<FlowCapture> capture_top_flows(const std::vector<std::string>& devices, Nanos duration,
                                           size_t top) {
  using Clock = std::chrono::steady_clock;
  std::vector<Device> open(devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    Device& d = open[i];
    d.result.device = devices[i];
    try {
      capture::LiveOptions o;
      o.interface = devices[i];
      o.snaplen = 256;        // Ethernet + IPv6 + TCP with options fit; bytes are the wire length
      o.promiscuous = false;  // this machine's own traffic, as its counters
      o.immediate = true;
      o.timeout_ms = 20;
      d.source = std::make_unique<capture::PcapSource>(capture::PcapSource::open_live(o));
      d.counter = std::make_unique<Counter>(d.source->linktype());
    } catch (const std::exception& e) {
      d.result.error = e.what();
      d.source.reset();
    }
  }
  const auto start = Clock::now();
  const auto end = start + duration;
  // Bounded twice: by the clock, and by a count no capture of at most a minute reaches.
  for (int rounds = 0; rounds < 1'000'000 && Clock::now() < end; ++rounds) {
    bool any = false;
    for (auto& d : open) {
      if (!d.source) continue;
      try {
        any |= d.source->dispatch(-1, *d.counter) > 0;
      } catch (const std::exception& e) {  // the interface went away mid-capture
        d.result.error = e.what();
        d.source.reset();
      }
    }
    if (any) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    int wait_ms = static_cast<int>(std::clamp<int64_t>(left + 1, 1, 10));
    bool waited = false;
    for (auto& d : open) {
      if (!d.source) continue;
      // One device waits for the slice, the others are polled next round.
      if (!waited) d.source->wait(wait_ms);
      waited = true;
    }
    if (!waited) break;  // nothing left to capture
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<FlowCapture> out;
  for (auto& d : open) {
    if (d.source) {
      const capture::FlowStats& st = d.counter->stats();
      std::vector<FlowShare> rows;
      st.table().for_each([&](const capture::FlowEntry& e) {
        rows.push_back({capture::key_text(capture::Aggregation::kFlow, e),
                        e.counters[0].bytes + e.counters[1].bytes});
      });
      d.result.flows = top_and_other(std::move(rows), top, st.totals().bytes);
      d.result.seconds = seconds;
    }
    out.push_back(std::move(d.result));
  }
  return out;
}

}  // namespace netres::monitor
