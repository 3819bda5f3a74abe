// How scan results are shown: one NDJSON line per port result, and the nmap-style table that
// groups results by host ("Not shown: N closed", hosts whose every port was filtered collapsed
// into one line). The CLI only chooses between them.
#pragma once

#include <fmt/format.h>

#include <cstdio>

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

}  // namespace netres::scan
