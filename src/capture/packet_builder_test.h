// Test-only helpers that build packets byte by byte (lengths right, checksums zero), so decoder
// and text tests can state exactly what is on the wire.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace netres::capture::testing {

using Packet = std::vector<uint8_t>;

inline void put16(Packet& p, uint16_t v) {
  p.push_back(static_cast<uint8_t>(v >> 8));
  p.push_back(static_cast<uint8_t>(v));
}
inline void put32(Packet& p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p, static_cast<uint16_t>(v));
}
inline Packet cat(Packet a, const Packet& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
inline Packet text(std::string_view s) { return Packet(s.begin(), s.end()); }

inline Packet ethernet(uint16_t type, const Packet& payload,
                       std::initializer_list<uint16_t> vlan_ids = {}) {
  Packet p = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  bool outer = vlan_ids.size() > 1;
  for (uint16_t id : vlan_ids) {
    put16(p, outer ? 0x88a8 : 0x8100);
    outer = false;
    put16(p, id);
  }
  put16(p, type);
  return cat(p, payload);
}

inline Packet ipv4(std::initializer_list<uint8_t> src, std::initializer_list<uint8_t> dst,
                   uint8_t proto, const Packet& payload, const Packet& options = {},
                   uint16_t frag = 0, uint16_t id = 1) {
  Packet p;
  p.push_back(static_cast<uint8_t>(0x40 | (5 + options.size() / 4)));
  p.push_back(0);
  put16(p, static_cast<uint16_t>(20 + options.size() + payload.size()));
  put16(p, id);
  put16(p, frag);
  p.push_back(64);
  p.push_back(proto);
  put16(p, 0);
  p.insert(p.end(), src);
  p.insert(p.end(), dst);
  p = cat(p, options);
  return cat(p, payload);
}

inline Packet ipv6(uint8_t last_byte_src, uint8_t last_byte_dst, uint8_t next,
                   const Packet& payload) {
  Packet p = {0x60, 0, 0, 0};
  put16(p, static_cast<uint16_t>(payload.size()));
  p.push_back(next);
  p.push_back(64);
  Packet a = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last_byte_src};
  Packet b = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last_byte_dst};
  p = cat(cat(p, a), b);
  return cat(p, payload);
}

inline Packet tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                  uint16_t win, const Packet& options = {}, const Packet& payload = {}) {
  Packet p;
  put16(p, sport);
  put16(p, dport);
  put32(p, seq);
  put32(p, ack);
  p.push_back(static_cast<uint8_t>((5 + options.size() / 4) << 4));
  p.push_back(flags);
  put16(p, win);
  put16(p, 0);
  put16(p, 0);
  p = cat(p, options);
  return cat(p, payload);
}

inline Packet udp(uint16_t sport, uint16_t dport, const Packet& payload) {
  Packet p;
  put16(p, sport);
  put16(p, dport);
  put16(p, static_cast<uint16_t>(8 + payload.size()));
  put16(p, 0);
  return cat(p, payload);
}

// A DNS message with one question and `answers` A records pointing back at the question name.
inline Packet dns(uint16_t id, std::string_view name, uint16_t qtype, bool response,
                  uint16_t answers = 0) {
  Packet p;
  put16(p, id);
  put16(p, response ? 0x8180 : 0x0100);
  put16(p, 1);
  put16(p, answers);
  put16(p, 0);
  put16(p, 0);
  size_t start = 0;
  while (start <= name.size() && !name.empty()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    p.push_back(static_cast<uint8_t>(dot - start));
    p.insert(p.end(), name.begin() + start, name.begin() + dot);
    start = dot + 1;
  }
  p.push_back(0);
  put16(p, qtype);
  put16(p, 1);
  for (int i = 0; i < answers; ++i) {
    put16(p, 0xc00c);
    put16(p, 1);
    put16(p, 1);
    put32(p, 60);
    put16(p, 4);
    put32(p, 0x0a000000u + static_cast<uint32_t>(i));
  }
  return p;
}

}  // namespace netres::capture::testing
