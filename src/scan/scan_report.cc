// Scan report tallies and banner sanitizing.
#include "scan/scan_report.h"

#include <algorithm>

namespace netres::scan {

ScanReport::ScanReport(bool keep_ports, size_t list_limit)
    : keep_ports_(keep_ports), list_limit_(list_limit) {}

void ScanReport::add(const PortResult& r) {
  HostTally& h = hosts_[r.host_index];
  if (h.total() == 0) {
    h.host_index = r.host_index;
    h.address = r.address;
  }
  ++h.count[static_cast<int>(r.state)];
  if (r.reason == Reason::kHostUnreach || r.reason == Reason::kNetUnreach) ++h.unreachable;
  if (!keep_ports_) return;
  // Keep one more than the limit so hosts() can tell "few" from "many".
  if (r.state == PortState::kOpen || h.of(r.state) <= list_limit_ + 1) h.listed.push_back(r);
}

std::vector<HostTally> ScanReport::hosts() const {
  std::vector<HostTally> out;
  out.reserve(hosts_.size());
  for (const auto& [index, tally] : hosts_) {
    HostTally h = tally;
    std::erase_if(h.listed, [&](const PortResult& r) {
      return r.state != PortState::kOpen && h.of(r.state) > list_limit_;
    });
    std::sort(h.listed.begin(), h.listed.end(),
              [](const PortResult& a, const PortResult& b) { return a.port < b.port; });
    out.push_back(std::move(h));
  }
  std::sort(out.begin(), out.end(),
            [](const HostTally& a, const HostTally& b) { return a.host_index < b.host_index; });
  return out;
}

uint64_t ScanReport::unreachable_hosts() const {
  uint64_t n = 0;
  for (const auto& [index, h] : hosts_) n += h.unreachable_entirely() ? 1 : 0;
  return n;
}

std::string sanitize_banner(std::string_view raw, size_t max_chars) {
  std::string out;
  bool space = false;
  for (unsigned char c : raw) {
    if (out.size() >= max_chars) break;
    if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
  }
  if (out.size() > max_chars) out.resize(max_chars);
  return out;
}

}  // namespace netres::scan
