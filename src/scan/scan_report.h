// Per-host tallies of a scan, for the nmap-style table and the exit code: which ports to list,
// how many closed and filtered ports to summarize, and whether a host was unreachable outright.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scan/port_result.h"

namespace netres::scan {

struct HostTally {
  uint64_t host_index = 0;
  IpAddress address;
  uint64_t count[3] = {0, 0, 0};   // by PortState
  uint64_t unreachable = 0;        // host-unreach or net-unreach answers
  std::vector<PortResult> listed;  // open ports, and closed/filtered ones while they are few

  uint64_t total() const { return count[0] + count[1] + count[2]; }
  uint64_t of(PortState s) const { return count[static_cast<int>(s)]; }
  // Every port of this host drew an ICMP unreachable (or no route): the host is not reachable.
  bool unreachable_entirely() const { return total() > 0 && unreachable == total(); }
};

class ScanReport {
 public:
  // Closed or filtered ports of a host are listed one by one while there are at most
  // `list_limit` of them, and summarized as "Not shown: N closed" beyond that (as nmap does).
  explicit ScanReport(bool keep_ports, size_t list_limit = 10);

  void add(const PortResult& r);
  // Hosts in address order; `listed` sorted by port, with over-limit states removed.
  std::vector<HostTally> hosts() const;
  size_t list_limit() const { return list_limit_; }
  uint64_t unreachable_hosts() const;

 private:
  bool keep_ports_;
  size_t list_limit_;
  std::unordered_map<uint64_t, HostTally> hosts_;
};

// A banner as one printable line: control bytes become spaces or dots, runs of whitespace
// collapse, and the text is cut at `max_chars`.
std::string sanitize_banner(std::string_view raw, size_t max_chars = 80);

}  // namespace netres::scan
