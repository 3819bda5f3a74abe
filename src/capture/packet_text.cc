// The plain text forms of a capture: time of day, addresses and hex dumps; the summary line,
// the NDJSON object and the name tables are in packet_summary.cc, packet_json.cc and
// packet_names.cc.
#include "capture/packet_text.h"

#include <arpa/inet.h>

#include "capture/packet_text_internal.h"

namespace netres::capture {

using namespace text;  // NOLINT: the text appends of this library

void append_time(TextBuffer& out, Timestamp ts) {
  int64_t day_seconds = ts.seconds % 86400;
  if (day_seconds < 0) day_seconds += 86400;
  auto s = static_cast<uint32_t>(day_seconds);
  put_padded(out, s / 3600, 2);
  out.push_back(':');
  put_padded(out, s / 60 % 60, 2);
  out.push_back(':');
  put_padded(out, s % 60, 2);
  out.push_back('.');
  put_padded(out, ts.micros % 1000000, 6);
}

void append_ip(TextBuffer& out, const IpAddress& a) {
  if (a.version == 4) {
    for (int i = 0; i < 4; ++i) {
      if (i) out.push_back('.');
      put_uint(out, a.bytes[i]);
    }
  } else if (a.version == 6) {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf) != nullptr) put(out, buf);
  } else {
    out.push_back('?');
  }
}

void append_mac(TextBuffer& out, const MacAddress& a) {
  for (int i = 0; i < 6; ++i) {
    if (i) out.push_back(':');
    put_hex2(out, a.bytes[i]);
  }
}

void append_hex_dump(TextBuffer& out, std::span<const uint8_t> bytes) {
  for (size_t row = 0; row < bytes.size(); row += 16) {
    put(out, "\t0x");
    put_hex2(out, static_cast<uint8_t>(row >> 8));
    put_hex2(out, static_cast<uint8_t>(row));
    put(out, ": ");
    size_t n = bytes.size() - row < 16 ? bytes.size() - row : 16;
    for (size_t i = 0; i < 16; ++i) {
      if (i % 2 == 0) out.push_back(' ');
      if (i < n) {
        put_hex2(out, bytes[row + i]);
      } else {
        put(out, "  ");
      }
    }
    put(out, "  ");
    for (size_t i = 0; i < n; ++i) {
      uint8_t c = bytes[row + i];
      out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.');
    }
    out.push_back('\n');
  }
}

}  // namespace netres::capture
