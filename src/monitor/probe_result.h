// What one probe found: success, the failure reason and the gauges it measured, named as
// blackbox_exporter names them (kept free of sockets, for the store and its tests).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "monitor/exposition.h"

namespace netres::monitor {

struct ProbeMetric {
  std::string name;  // "probe_http_status_code", ...
  Labels labels;     // beyond the series' own (phase, version, ...)
  double value = 0;
  // Gauges, except counters a probe reads (iface: the kernel's byte counters); a counter's name
  // is without "_total", which exposition appends.
  MetricType type = MetricType::kGauge;
};

struct ProbeResult {
  bool success = false;
  // Empty on success; otherwise one of the documented reasons (docs/monitor.md): dns, refused,
  // unreachable, reset, timeout, tls_handshake, tls_verify, starttls, status, http_version, regex,
  // ssl, redirects, protocol, rcode, answers, eof, http2_reset, http2_goaway, error.
  std::string reason;
  std::string detail;   // for people: "connection refused", "status 503", ...
  double duration = 0;  // seconds, the whole probe
  std::vector<ProbeMetric> metrics;
  // icmp: every reply's round-trip time (seconds), summed into the netres_icmp_rtt_seconds
  // histogram across probes.
  std::vector<double> rtts;

  void set(std::string name, double value, Labels labels = {}) {
    metrics.push_back({std::move(name), std::move(labels), value});
  }
  void set_counter(std::string name, double value, Labels labels = {}) {
    metrics.push_back({std::move(name), std::move(labels), value, MetricType::kCounter});
  }
  void fail(std::string why, std::string text) {
    success = false;
    if (reason.empty()) {
      reason = std::move(why);
      detail = std::move(text);
    }
  }
};

}  // namespace netres::monitor
