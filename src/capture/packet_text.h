// Text forms of a decoded packet: the one-line summary, the NDJSON object and the hex dump.
// All append to a caller-owned buffer, so a capture loop reuses one buffer for every packet.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "capture/packet_view.h"

namespace netres::capture {

using TextBuffer = fmt::memory_buffer;

// A capture timestamp as pcap records it: seconds since the epoch and microseconds.
struct Timestamp {
  int64_t seconds = 0;
  uint32_t micros = 0;
};

// "12:00:01.123456": time of day in UTC, as tcpdump prints it with TZ=UTC.
void append_time(TextBuffer& out, Timestamp ts);
void append_ip(TextBuffer& out, const IpAddress& address);
void append_mac(TextBuffer& out, const MacAddress& address);

// The summary without timestamp or newline, e.g.
//   "IP 10.0.0.1:51234 > 10.0.0.2:80 TCP [S] seq 1 win 64240 len 0"
// ending in " [truncated]" or " [malformed <what>]" when the decoder flagged the packet.
void append_summary(TextBuffer& out, const PacketView& view);

// One JSON object (no newline) with the timestamp, lengths and every decoded layer; the field
// names are documented in docs/capture.md. Bytes that are not printable ASCII are escaped as
// \u00XX, so the output is valid JSON whatever the packet holds.
void append_json(TextBuffer& out, const PacketView& view, Timestamp ts);

// tcpdump -XX style: "\t0x0000:  4500 0054 ...  E..T" lines, 16 bytes each, newline-terminated.
void append_hex_dump(TextBuffer& out, std::span<const uint8_t> bytes);

// Names for numbers that the summary and JSON print: "A", "AAAA" (DNS types), "echo-request".
std::string_view dns_type_name(uint16_t qtype);
std::string_view icmp_type_name(uint8_t type);
std::string_view icmpv6_type_name(uint8_t type);

}  // namespace netres::capture
