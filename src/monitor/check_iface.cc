// The iface check: this machine's interface counters from /sys/class/net, named as
// node_exporter's netdev collector names them, with link state, speed and the utilisation
// between two probes. Reading a few small /sys files takes microseconds, so it runs on the
// event loop itself.
#include <fmt/format.h>

#include <map>
#include <mutex>

#include "monitor/checks.h"
#include "monitor/iface_flows.h"
#include "monitor/iface_stats.h"

namespace netres::monitor {

namespace {

constexpr const char* kSysClassNet = "/sys/class/net";
// A glob such as "*" on a host with thousands of interfaces must not make thousands of series
// per probe without bound.
constexpr size_t kMaxDevices = 256;
// Top flows capture on at most this many of them (one libpcap handle each).
constexpr size_t kMaxFlowDevices = 8;

// The previous sample of each (check, target address, device), for the rates. Probes of the
// monitor run on one thread, but /probe and --once share this too, hence the lock.
struct Previous {
  IfaceSample sample;
  Clock::time_point at;
};
std::mutex g_mu;
std::map<std::string, Previous> g_previous;

std::string previous_key(const CheckSpec& c, const std::string& address,
                         const std::string& device) {
  return c.name + '\0' + address + '\0' + device;
}

// Drops samples not refreshed for an hour (a target or check removed by a reload, a device
// deleted), so the table stays as large as the configuration.
void prune(Clock::time_point now) {
  for (auto it = g_previous.begin(); it != g_previous.end();) {
    if (now - it->second.at > std::chrono::hours(1))
      it = g_previous.erase(it);
    else
      ++it;
  }
}

// The capture, as a named function object for on_pool (see probe_util.h).
struct FlowJob {
  std::vector<std::string> devices;
  Nanos duration;
  size_t top;
  std::vector<FlowCapture> operator()() const { return capture_top_flows(devices, duration, top); }
};

}  // namespace

asio::awaitable<ProbeResult> probe_iface(ProbeContext& ctx, const CheckSpec& c,
                                         const std::string& address, Clock::time_point deadline) {
  ProbeResult r;
  if (auto p = iface_pattern_problem(address); !p.empty()) {  // only through /probe
    r.fail("error", p);
    co_return r;
  }
  std::vector<std::string> names = match_interfaces(kSysClassNet, address);
  if (names.size() > kMaxDevices) names.resize(kMaxDevices);
  std::vector<IfaceSample> samples;
  for (const auto& n : names)
    if (auto s = read_interface(kSysClassNet, n)) samples.push_back(std::move(*s));
  if (samples.empty()) {
    r.fail("missing", fmt::format("no interface matches '{}'", address));
    co_return r;
  }
  const auto now = Clock::now();
  std::vector<std::string> down;
  std::unique_lock lock(g_mu);
  prune(now);
  for (const IfaceSample& s : samples) {
    const Labels dev{{"device", s.device}};
    const IfaceCounters& k = s.counters;
    r.set_counter("node_network_receive_bytes", static_cast<double>(k.rx_bytes), dev);
    r.set_counter("node_network_transmit_bytes", static_cast<double>(k.tx_bytes), dev);
    r.set_counter("node_network_receive_packets", static_cast<double>(k.rx_packets), dev);
    r.set_counter("node_network_transmit_packets", static_cast<double>(k.tx_packets), dev);
    r.set_counter("node_network_receive_errs", static_cast<double>(k.rx_errors), dev);
    r.set_counter("node_network_transmit_errs", static_cast<double>(k.tx_errors), dev);
    r.set_counter("node_network_receive_drop", static_cast<double>(k.rx_dropped), dev);
    r.set_counter("node_network_transmit_drop", static_cast<double>(k.tx_dropped), dev);
    // The other /proc/net/dev columns, as node_exporter's netdev collector names them.
    const std::pair<const char*, const std::optional<uint64_t>&> optional_counters[] = {
        {"node_network_receive_fifo", k.rx_fifo_errors},
        {"node_network_receive_frame", k.rx_frame_errors},
        {"node_network_receive_compressed", k.rx_compressed},
        {"node_network_receive_multicast", k.multicast},
        {"node_network_transmit_fifo", k.tx_fifo_errors},
        {"node_network_transmit_colls", k.collisions},
        {"node_network_transmit_carrier", k.tx_carrier_errors},
        {"node_network_transmit_compressed", k.tx_compressed},
    };
    for (const auto& [metric, v] : optional_counters)
      if (v) r.set_counter(metric, static_cast<double>(*v), dev);
    r.set("node_network_up", s.oper_up() ? 1 : 0, dev);
    if (s.carrier) r.set("node_network_carrier", static_cast<double>(*s.carrier), dev);
    if (s.mtu) r.set("node_network_mtu_bytes", static_cast<double>(*s.mtu), dev);
    r.set("node_network_info", 1, {{"device", s.device}, {"operstate", s.operstate}});
    if (s.speed_bytes) r.set("node_network_speed_bytes", *s.speed_bytes, dev);
    if (s.down()) down.push_back(s.device);

    Previous& prev = g_previous[previous_key(c, address, s.device)];
    const std::optional<double> speed = c.speed_bytes ? c.speed_bytes : s.speed_bytes;
    if (prev.at != Clock::time_point{}) {
      double dt = std::chrono::duration<double>(now - prev.at).count();
      if (auto rate = iface_rates(prev.sample, s, dt)) {
        r.set("netres_iface_receive_bytes_per_second", rate->rx_bytes_per_s, dev);
        r.set("netres_iface_transmit_bytes_per_second", rate->tx_bytes_per_s, dev);
        if (speed && *speed > 0) {
          r.set("netres_iface_utilisation_ratio", rate->rx_bytes_per_s / *speed,
                {{"device", s.device}, {"direction", "receive"}});
          r.set("netres_iface_utilisation_ratio", rate->tx_bytes_per_s / *speed,
                {{"device", s.device}, {"direction", "transmit"}});
        }
      }
    }
    prev.sample = s;
    prev.at = now;
  }
  lock.unlock();
  if (c.top_flows > 0) {
    // The capture blocks for its whole length: on the pool, leaving time to report.
    Nanos left =
        std::chrono::duration_cast<Nanos>(deadline - Clock::now()) - std::chrono::milliseconds(100);
    Nanos length = std::min(c.flow_capture, left);
    if (length < std::chrono::milliseconds(10)) {
      r.fail("timeout", "the timeout leaves no time for flow_capture");
      co_return r;
    }
    FlowJob job{{}, length, c.top_flows};
    for (const auto& s : samples)
      if (!s.down() && job.devices.size() < kMaxFlowDevices) job.devices.push_back(s.device);
    auto op = on_pool<std::vector<FlowCapture>>(ctx.pool(), std::move(job));
    auto captures = co_await std::move(op);
    for (const FlowCapture& fc : captures) {
      if (!fc.error.empty()) {
        r.fail("error", fmt::format("capture on {}: {}", fc.device, fc.error));
        continue;
      }
      for (const FlowShare& f : fc.flows)
        r.set("netres_iface_flow_bytes_per_second",
              fc.seconds > 0 ? static_cast<double>(f.bytes) / fc.seconds : 0,
              {{"device", fc.device}, {"flow", f.flow}});
    }
  }
  if (!down.empty()) {
    r.reason.clear();  // down says more than a capture error it caused
    std::string list;
    for (const auto& d : down) list += (list.empty() ? "" : ", ") + d;
    r.fail("down", fmt::format("{} of {} down: {}", down.size(), samples.size(), list));
    co_return r;
  }
  r.success = r.reason.empty();
  co_return r;
}

}  // namespace netres::monitor
