// Internal to the capture library's text forms (packet_text.cc, packet_summary.cc,
// packet_json.cc, packet_names.cc): hand-rolled number, string and JSON appends. Inline
// because they run for every field of every packet, and printing dominates a capture's cost.
#pragma once

#include <cstdint>
#include <string_view>

#include "capture/packet_text.h"

namespace netres::capture::text {

inline void put(TextBuffer& out, std::string_view s) { out.append(s.data(), s.data() + s.size()); }

inline void put_uint(TextBuffer& out, uint64_t n) {
  char buf[20];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out.append(p, buf + sizeof buf);
}

inline void put_padded(TextBuffer& out, uint32_t n, int width) {
  char buf[10] = {};
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  out.append(buf, buf + width);
}

inline constexpr char kHex[] = "0123456789abcdef";

inline void put_hex2(TextBuffer& out, uint8_t b) {
  out.push_back(kHex[b >> 4]);
  out.push_back(kHex[b & 15]);
}

// Text taken from a packet (DNS names, HTTP paths): printable ASCII as is, the rest as \xHH,
// so a summary line stays one line of plain text.
inline void put_escaped_text(TextBuffer& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      put(out, "\\x");
      put_hex2(out, c);
    }
  }
}

inline void put_json_string(TextBuffer& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      put(out, "\\u00");
      put_hex2(out, c);
    }
  }
  out.push_back('"');
}

inline void put_ip_json(TextBuffer& out, const IpAddress& a) {
  out.push_back('"');
  append_ip(out, a);
  out.push_back('"');
}

inline void put_mac_json(TextBuffer& out, const MacAddress& a) {
  out.push_back('"');
  append_mac(out, a);
  out.push_back('"');
}

// Writes `,"key":` (or `"key":` as the first member of an object).
class JsonObject {
 public:
  explicit JsonObject(TextBuffer& out) : out_(out) { out_.push_back('{'); }
  TextBuffer& key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    put(out_, k);
    put(out_, "\":");
    return out_;
  }
  void num(std::string_view k, uint64_t n) { put_uint(key(k), n); }
  void boolean(std::string_view k, bool b) { put(key(k), b ? "true" : "false"); }
  void str(std::string_view k, std::string_view s) { put_json_string(key(k), s); }
  void close() { out_.push_back('}'); }

 private:
  TextBuffer& out_;
  bool first_ = true;
};

inline std::string_view tcp_flag_letters(uint16_t flags, char* buf) {
  // tcpdump's letters: S F R P U E W, and '.' for ACK; N for the (rare) nonce-sum bit.
  size_t n = 0;
  if (flags & tcp_flag::kSyn) buf[n++] = 'S';
  if (flags & tcp_flag::kFin) buf[n++] = 'F';
  if (flags & tcp_flag::kRst) buf[n++] = 'R';
  if (flags & tcp_flag::kPsh) buf[n++] = 'P';
  if (flags & tcp_flag::kUrg) buf[n++] = 'U';
  if (flags & tcp_flag::kEce) buf[n++] = 'E';
  if (flags & tcp_flag::kCwr) buf[n++] = 'W';
  if (flags & tcp_flag::kNs) buf[n++] = 'N';
  if (flags & tcp_flag::kAck) buf[n++] = '.';
  if (n == 0) return "none";
  return {buf, n};
}

// Names for numbers that only the summary and JSON print (packet_names.cc): IPv6 extension
// headers, IP protocols as the summary spells them ("TCP", "ICMP6"; empty when unknown) and
// DNS response codes (empty past REFUSED).
std::string_view extension_name(uint8_t proto);
std::string_view ip_protocol_label(uint8_t proto);
std::string_view rcode_name(uint8_t rcode);

}  // namespace netres::capture::text
