// How scan results are shown: one NDJSON line per port result, and the nmap-style table that
// groups results by host ("Not shown: N closed", hosts whose every port was filtered collapsed
// into one line). The CLI only chooses between them.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "common/shard.h"
#include "scan/connect_scanner.h"
#include "scan/port_result.h"
#include "scan/scan_report.h"
#include "scan/target_space.h"

namespace netres::scan {

// Appends one result as an NDJSON line (fields as in docs/scan.md), newline included.
void append_json_line(fmt::memory_buffer& out, const TargetSpace& space, const PortResult& r);

// Writes the per-host tables of `report`. `open_only` keeps hosts with an open port and only their
// open ports; `banner` adds the BANNER column.
void print_table(std::FILE* out, const TargetSpace& space, const ScanReport& report, bool open_only,
                 bool banner);

// The progress line: "12.5% (100/800)  3 open  950 attempts/s  timeout 50.0ms".
std::string progress_text(const ScanCounts& c);

// The summary line ending a run on stderr, without "netres: scan: ": "1 host, 50 ports (shard 2/3:
// 17 pairs): 3 open, 40 closed, 7 filtered in 1.2s (900 attempts/s, timeout 50.0ms, seed 0)".
// The shard part only when `shard` has N > 1.
std::string summary_text(uint64_t hosts, uint64_t ports, const Shard& shard,
                         const ScanCounts& counts, uint64_t seed);

// "N host(s) unreachable (ICMP unreachable or no route on every port)".
std::string unreachable_text(uint64_t hosts);

}  // namespace netres::scan
