// The status page at `/`: one self-contained HTML document (inline CSS and SVG, no scripts, no
// network), every target x check with its state, latency sparkline and last failure reason;
// a table on wide screens, one card per row on a phone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "monitor/probe_store.h"

namespace netres::monitor {

std::string html_escape(std::string_view text);

// An inline SVG polyline of the durations (failed probes drawn as red marks at the bottom).
std::string sparkline_svg(const std::vector<float>& history);

std::string render_status_page(const std::vector<ProbeStore::Row>& rows, double now_unix,
                               std::string_view config_file);

}  // namespace netres::monitor
