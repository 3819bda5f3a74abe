// The check kinds, each a coroutine on the monitor's event loop (internal to src/monitor).
#pragma once

#include <string>

#include "monitor/probe.h"
#include "monitor/probe_util.h"

namespace netres::monitor {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};
// "host:port", "[v6]:port", "host" (default_port) or an http(s):// URL's host and port.
HostPort split_address(const std::string& address, uint16_t default_port);

asio::awaitable<ProbeResult> probe_tcp(ProbeContext& ctx, const CheckSpec& c,
                                       const std::string& address, Clock::time_point deadline);
asio::awaitable<ProbeResult> probe_http(ProbeContext& ctx, const CheckSpec& c,
                                        const std::string& address, Clock::time_point deadline);
asio::awaitable<ProbeResult> probe_ssh(ProbeContext& ctx, const CheckSpec& c,
                                       const std::string& address, Clock::time_point deadline);
asio::awaitable<ProbeResult> probe_dns(ProbeContext& ctx, const CheckSpec& c,
                                       const std::string& address, Clock::time_point deadline);
asio::awaitable<ProbeResult> probe_iface(ProbeContext& ctx, const CheckSpec& c,
                                         const std::string& address, Clock::time_point deadline);
asio::awaitable<ProbeResult> probe_icmp(ProbeContext& ctx, const CheckSpec& c,
                                        const std::string& address, Clock::time_point deadline);

}  // namespace netres::monitor
