// One scanned (host, port): its state as nmap -sT defines it, and why we concluded it.
#pragma once

#include <cstdint>
#include <string>

#include "common/address.h"
#include "common/duration.h"

namespace netres::scan {

enum class PortState : uint8_t { kOpen, kClosed, kFiltered };

enum class Reason : uint8_t {
  kSynAck,       // open: the handshake completed
  kConnRefused,  // closed: RST (ECONNREFUSED)
  kNoResponse,   // filtered: silence through every attempt
  kHostUnreach,  // filtered: ICMP host unreachable (EHOSTUNREACH)
  kNetUnreach,   // filtered: ICMP network unreachable or no route (ENETUNREACH)
  kLocalDenied,  // filtered: our own host's firewall refused to send (EPERM / EACCES)
  kError,        // filtered: another error from connect(); rare
};

const char* to_string(PortState s);
const char* to_string(Reason r);

struct PortResult {
  uint64_t host_index = 0;
  IpAddress address;
  uint16_t port = 0;
  PortState state = PortState::kFiltered;
  Reason reason = Reason::kNoResponse;
  uint8_t attempts = 0;
  Nanos rtt{-1};  // negative when nothing answered
  bool has_banner = false;
  std::string banner;  // raw bytes read from an open port (when --banner)
};

}  // namespace netres::scan
