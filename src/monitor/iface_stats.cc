// Reading /sys/class/net: one small text file per value, so a value that cannot be read (the
// interface vanished, or the driver answers EINVAL as some do for speed while down) is "absent",
// never an error of the whole probe.
#include "monitor/iface_stats.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace netres::monitor {

namespace {

std::optional<std::string> read_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::string s;
  if (!std::getline(in, s)) return std::nullopt;  // EINVAL on read (speed while down) lands here
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// A decimal or 0x-hex integer (flags are hex); nullopt for anything else.
std::optional<int64_t> read_int(const std::filesystem::path& p) {
  auto s = read_line(p);
  if (!s || s->empty()) return std::nullopt;
  std::string_view v = *s;
  int base = 10;
  if (v.starts_with("0x")) {
    v.remove_prefix(2);
    base = 16;
  }
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
  if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  return out;
}

std::optional<uint64_t> read_counter(const std::filesystem::path& p) {
  auto s = read_line(p);
  if (!s || s->empty()) return std::nullopt;
  uint64_t out = 0;
  auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
  if (ec != std::errc() || ptr != s->data() + s->size()) return std::nullopt;
  return out;
}

}  // namespace

bool IfaceSample::down() const {
  if (!admin_up) return true;
  return operstate == "down" || operstate == "lowerlayerdown" || operstate == "notpresent";
}

std::vector<std::string> match_interfaces(const std::string& root, const std::string& pattern) {
  std::vector<std::string> out;
  std::error_code ec;
  std::filesystem::directory_iterator it(root, ec), end;
  // Bounded: a host has at most some thousands of interfaces.
  for (size_t n = 0; !ec && it != end && n < 100000; it.increment(ec), ++n) {
    std::string name = it->path().filename().string();
    if (fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<IfaceSample> read_interface(const std::string& root, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(root) / name;
  const std::filesystem::path st = dir / "statistics";
  IfaceSample s;
  s.device = name;
  struct Field {
    const char* file;
    uint64_t IfaceCounters::*member;
  };
  static constexpr Field kFields[] = {
      {"rx_bytes", &IfaceCounters::rx_bytes},     {"tx_bytes", &IfaceCounters::tx_bytes},
      {"rx_packets", &IfaceCounters::rx_packets}, {"tx_packets", &IfaceCounters::tx_packets},
      {"rx_errors", &IfaceCounters::rx_errors},   {"tx_errors", &IfaceCounters::tx_errors},
      {"rx_dropped", &IfaceCounters::rx_dropped}, {"tx_dropped", &IfaceCounters::tx_dropped},
  };
  for (const auto& f : kFields) {
    auto v = read_counter(st / f.file);
    if (!v) return std::nullopt;  // no statistics: gone (or not an interface)
    s.counters.*f.member = *v;
  }
  // Optional: a missing or unreadable file leaves the value absent, the sample still stands.
  // Summed as /proc/net/dev sums them (node_exporter reads that file): its "frame" column is
  // four kinds of receive error, its "carrier" column four kinds of transmit error.
  struct OptField {
    std::initializer_list<const char*> files;
    std::optional<uint64_t> IfaceCounters::*member;
  };
  static const OptField kOptFields[] = {
      {{"rx_fifo_errors"}, &IfaceCounters::rx_fifo_errors},
      {{"rx_length_errors", "rx_over_errors", "rx_crc_errors", "rx_frame_errors"},
       &IfaceCounters::rx_frame_errors},
      {{"rx_compressed"}, &IfaceCounters::rx_compressed},
      {{"multicast"}, &IfaceCounters::multicast},
      {{"tx_fifo_errors"}, &IfaceCounters::tx_fifo_errors},
      {{"collisions"}, &IfaceCounters::collisions},
      {{"tx_carrier_errors", "tx_aborted_errors", "tx_window_errors", "tx_heartbeat_errors"},
       &IfaceCounters::tx_carrier_errors},
      {{"tx_compressed"}, &IfaceCounters::tx_compressed},
  };
  for (const auto& f : kOptFields) {
    std::optional<uint64_t> sum;
    for (const char* file : f.files)
      if (auto v = read_counter(st / file)) sum = sum.value_or(0) + *v;
    s.counters.*f.member = sum;
  }
  s.carrier = read_int(dir / "carrier");
  s.mtu = read_int(dir / "mtu");
  s.ifindex = read_int(dir / "ifindex").value_or(0);
  s.operstate = read_line(dir / "operstate").value_or("unknown");
  s.admin_up = (read_int(dir / "flags").value_or(0) & 0x1) != 0;  // IFF_UP
  if (auto mbit = read_int(dir / "speed"); mbit && *mbit > 0)
    s.speed_bytes = static_cast<double>(*mbit) * 1e6 / 8;  // Mbit/s, as node_exporter converts
  return s;
}

std::optional<IfaceRates> iface_rates(const IfaceSample& before, const IfaceSample& after,
                                      double seconds) {
  if (!(seconds > 0)) return std::nullopt;
  if (before.ifindex != after.ifindex) return std::nullopt;
  const IfaceCounters& a = before.counters;
  const IfaceCounters& b = after.counters;
  if (b.rx_bytes < a.rx_bytes || b.tx_bytes < a.tx_bytes || b.rx_packets < a.rx_packets ||
      b.tx_packets < a.tx_packets)
    return std::nullopt;
  IfaceRates r;
  r.rx_bytes_per_s = static_cast<double>(b.rx_bytes - a.rx_bytes) / seconds;
  r.tx_bytes_per_s = static_cast<double>(b.tx_bytes - a.tx_bytes) / seconds;
  return r;
}

std::string iface_pattern_problem(const std::string& pattern) {
  if (pattern.empty()) return "an interface name or glob must not be empty";
  if (pattern.size() > 64) return "an interface name or glob has at most 64 characters";
  if (pattern == "." || pattern == "..") return "'.' and '..' are not interfaces";
  for (unsigned char ch : pattern)
    if (ch == '/' || ch <= ' ' || ch == 0x7f)
      return "an interface name has no '/', spaces or control characters";
  return "";
}

}  // namespace netres::monitor
