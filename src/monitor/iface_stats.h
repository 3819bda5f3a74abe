// The iface check's pure part: an interface's counters, state and speed as /sys/class/net has
// them, interface names matched against a glob, and the rates between two samples (with counter
// resets: an interface deleted and created again starts from zero). Kept free of the event loop
// so the unit tests run it on fake /sys directories.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netres::monitor {

// The counters of /sys/class/net/X/statistics, named as the kernel names them.
struct IfaceCounters {
  uint64_t rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0;
  uint64_t rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0;
  // The rest of /proc/net/dev's columns, absent when a kernel or driver has no such file.
  // rx_frame_errors and tx_carrier_errors hold /proc/net/dev's sums (see read_interface).
  std::optional<uint64_t> rx_fifo_errors, rx_frame_errors, rx_compressed, multicast;
  std::optional<uint64_t> tx_fifo_errors, collisions, tx_carrier_errors, tx_compressed;
};

struct IfaceSample {
  std::string device;
  int64_t ifindex = 0;                // a new index means the interface was created again
  std::string operstate;              // "up", "down", "lowerlayerdown", "unknown", ... (RFC 2863)
  bool admin_up = false;              // IFF_UP in flags: `ip link set X up`
  std::optional<double> speed_bytes;  // bytes/s; absent when the driver does not know (veth: -1)
  std::optional<int64_t> carrier;     // 1/0; absent while admin down (the kernel answers EINVAL)
  std::optional<int64_t> mtu;         // bytes
  IfaceCounters counters;

  // node_exporter's node_network_up: the operational state is "up".
  bool oper_up() const { return operstate == "up"; }
  // Whether the check calls it down: administratively down, or a state that carries nothing.
  // "unknown" with IFF_UP is not down: lo and tun devices never report "up".
  bool down() const;
};

// Names under `root` (normally /sys/class/net) matching `pattern`, a shell glob (fnmatch: *, ?,
// [...]) or a plain name, sorted. Empty when none (or root is unreadable).
std::vector<std::string> match_interfaces(const std::string& root, const std::string& pattern);

// Reads root/name; nullopt when the interface is gone (it may vanish while it is read).
std::optional<IfaceSample> read_interface(const std::string& root, const std::string& name);

// Bytes per second both ways between two samples `seconds` apart; nullopt when there is nothing
// honest to say: no time passed, the interface was created again (another ifindex), or a counter
// went backwards (a reset or a wrap), so a rate is never negative.
struct IfaceRates {
  double rx_bytes_per_s = 0, tx_bytes_per_s = 0;
};
std::optional<IfaceRates> iface_rates(const IfaceSample& before, const IfaceSample& after,
                                      double seconds);

// An interface name or glob as a target address: 1-64 characters, no '/', no whitespace, not "."
// or "..". Returns the problem, or "" when it is fine.
std::string iface_pattern_problem(const std::string& pattern);

}  // namespace netres::monitor
