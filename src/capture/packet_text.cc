// Summary lines, NDJSON objects and hex dumps of decoded packets. Hand-rolled number and address
// formatting: these run once per packet, and printing dominates the cost of a capture.
#include "capture/packet_text.h"

#include <arpa/inet.h>

#include <cstring>
#include <iterator>

namespace netres::capture {
namespace {

void put(TextBuffer& out, std::string_view s) { out.append(s.data(), s.data() + s.size()); }

void put_uint(TextBuffer& out, uint64_t n) {
  char buf[20];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out.append(p, buf + sizeof buf);
}

void put_padded(TextBuffer& out, uint32_t n, int width) {
  char buf[10] = {};
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  out.append(buf, buf + width);
}

constexpr char kHex[] = "0123456789abcdef";

void put_hex2(TextBuffer& out, uint8_t b) {
  out.push_back(kHex[b >> 4]);
  out.push_back(kHex[b & 15]);
}

// Text taken from a packet (DNS names, HTTP paths): printable ASCII as is, the rest as \xHH,
// so a summary line stays one line of plain text.
void put_escaped_text(TextBuffer& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      put(out, "\\x");
      put_hex2(out, c);
    }
  }
}

void put_json_string(TextBuffer& out, std::string_view s) {
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

void put_ip_json(TextBuffer& out, const IpAddress& a) {
  out.push_back('"');
  append_ip(out, a);
  out.push_back('"');
}

void put_mac_json(TextBuffer& out, const MacAddress& a) {
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

std::string_view tcp_flag_letters(uint16_t flags, char* buf) {
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

std::string_view extension_name(uint8_t proto) {
  switch (proto) {
    case 0:
      return "hop-by-hop";
    case 43:
      return "routing";
    case 44:
      return "fragment";
    case 51:
      return "ah";
    case 60:
      return "destination";
    default:
      return "unknown";
  }
}

std::string_view protocol_name(uint8_t proto) {
  switch (proto) {
    case 1:
      return "ICMP";
    case 6:
      return "TCP";
    case 17:
      return "UDP";
    case 47:
      return "GRE";
    case 50:
      return "ESP";
    case 51:
      return "AH";
    case 58:
      return "ICMP6";
    case 59:
      return "no-next-header";
    case 132:
      return "SCTP";
    default:
      return {};
  }
}

std::string_view rcode_name(uint8_t rcode) {
  static constexpr std::string_view kNames[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                                "NXDOMAIN", "NOTIMP",  "REFUSED"};
  return rcode < 6 ? kNames[rcode] : std::string_view{};
}

void put_endpoint(TextBuffer& out, const IpAddress& a, uint16_t port) {
  if (a.version == 6) out.push_back('[');
  append_ip(out, a);
  if (a.version == 6) out.push_back(']');
  out.push_back(':');
  put_uint(out, port);
}

// Cut headers (see Layer in packet_view.h) print the fields whose bytes were captured.
void put_tcp(TextBuffer& out, const TcpView& t) {
  char flags[9];
  put(out, " TCP");
  if (t.captured >= 14) {
    put(out, " [");
    put(out, tcp_flag_letters(t.flags, flags));
    out.push_back(']');
  }
  if (t.captured >= 8) {
    put(out, " seq ");
    put_uint(out, t.seq);
  }
  if (t.captured >= 14 && (t.flags & tcp_flag::kAck)) {
    put(out, " ack ");
    put_uint(out, t.ack);
  }
  if (t.captured >= 16) {
    put(out, " win ");
    put_uint(out, t.window);
  }
  if (t.has_mss || t.has_window_scale || t.sack_permitted || t.sack_count || t.has_timestamp) {
    put(out, " options [");
    bool first = true;
    auto sep = [&] {
      if (!first) out.push_back(',');
      first = false;
    };
    if (t.has_mss) {
      sep();
      put(out, "mss ");
      put_uint(out, t.mss);
    }
    if (t.has_window_scale) {
      sep();
      put(out, "wscale ");
      put_uint(out, t.window_scale);
    }
    if (t.sack_permitted) {
      sep();
      put(out, "sackOK");
    }
    for (int i = 0; i < t.sack_count; ++i) {
      sep();
      put(out, "sack ");
      put_uint(out, t.sack[i].left);
      out.push_back(':');
      put_uint(out, t.sack[i].right);
    }
    if (t.has_timestamp) {
      sep();
      put(out, "TS val ");
      put_uint(out, t.ts_value);
      if (t.has_ts_echo) {
        put(out, " ecr ");
        put_uint(out, t.ts_echo);
      }
    }
    out.push_back(']');
  }
  if (t.captured >= 13) {
    put(out, " len ");
    put_uint(out, t.payload_length);
  }
}

void put_dns(TextBuffer& out, const DnsView& d) {
  put(out, " DNS");
  if (d.captured >= 4) put(out, d.response ? " response" : " query");
  put(out, " id ");
  put_uint(out, d.id);
  if (d.has_qtype) {
    out.push_back(' ');
    std::string_view type = dns_type_name(d.qtype);
    if (type.empty()) {
      put(out, "TYPE");
      put_uint(out, d.qtype);
    } else {
      put(out, type);
    }
  }
  if (d.has_qname) {
    out.push_back(' ');
    if (d.qname_length == 0)
      out.push_back('.');
    else
      put_escaped_text(out, d.qname());
  }
  if (d.response && d.captured >= 8) {
    put(out, " ans ");
    put_uint(out, d.answer_count);
    if (d.rcode != 0) {
      out.push_back(' ');
      std::string_view rc = rcode_name(d.rcode);
      if (rc.empty()) {
        put(out, "rcode ");
        put_uint(out, d.rcode);
      } else {
        put(out, rc);
      }
    }
  }
}

void put_icmp(TextBuffer& out, const IcmpView& c, bool v6) {
  put(out, v6 ? " ICMP6 " : " ICMP ");
  std::string_view name = v6 ? icmpv6_type_name(c.type) : icmp_type_name(c.type);
  if (name.empty()) {
    put(out, "type ");
    put_uint(out, c.type);
  } else {
    put(out, name);
  }
  if (c.captured >= 2 && c.code != 0) {
    put(out, " code ");
    put_uint(out, c.code);
  }
  if (c.has_echo) {
    put(out, " id ");
    put_uint(out, c.echo_id);
    if (c.captured >= 8) {
      put(out, " seq ");
      put_uint(out, c.echo_seq);
    }
  }
}

void put_arp(TextBuffer& out, const ArpView& a) {
  put(out, "ARP");
  if (a.ethernet_ipv4 && a.operation == 1) {
    put(out, " who-has ");
    append_ip(out, a.target_ip);
    put(out, " tell ");
    append_ip(out, a.sender_ip);
  } else if (a.ethernet_ipv4 && a.operation == 2) {
    put(out, " reply ");
    append_ip(out, a.sender_ip);
    put(out, " is-at ");
    append_mac(out, a.sender_mac);
  } else {
    put(out, " op ");
    put_uint(out, a.operation);
  }
}

void put_ethertype(TextBuffer& out, uint16_t type) {
  put(out, "0x");
  put_hex2(out, static_cast<uint8_t>(type >> 8));
  put_hex2(out, static_cast<uint8_t>(type));
}

// An address, or '?' when the capture cut it; with the port when that was captured.
void put_ip_endpoint(TextBuffer& out, const IpAddress& a, bool has_port, uint16_t port) {
  if (a.version == 0) {
    out.push_back('?');
  } else if (has_port) {
    put_endpoint(out, a, port);
  } else {
    append_ip(out, a);
  }
}

void put_ip_summary(TextBuffer& out, const PacketView& v) {
  const bool v4 = v.has(kLayerIpv4);
  put(out, v4 ? "IP" : "IP6");
  // Ports as far as captured: the source port needs 2 bytes of the header, the destination 4.
  uint8_t l4 = v.has(kLayerTcp) ? v.tcp.captured : v.has(kLayerUdp) ? v.udp.captured : 0;
  if (v.src.version != 0) {
    out.push_back(' ');
    put_ip_endpoint(out, v.src, l4 >= 2, v.src_port());
    put(out, " > ");
    put_ip_endpoint(out, v.dst, l4 >= 4, v.dst_port());
  }
  bool fragment = false, more = false, has_id = true;
  uint32_t frag_id = 0, frag_offset = 0;
  if (v4) {
    fragment = v.ipv4.captured >= 8 && (v.ipv4.more_fragments || v.ipv4.fragment_offset != 0);
    more = v.ipv4.more_fragments;
    frag_id = v.ipv4.id;
    frag_offset = v.ipv4.fragment_offset;
  } else if (v.ipv6.has_fragment_header && v.ipv6.fragment_captured >= 4) {
    fragment = true;
    more = v.ipv6.more_fragments;
    has_id = v.ipv6.fragment_captured >= 8;
    frag_id = v.ipv6.fragment_id;
    frag_offset = v.ipv6.fragment_offset;
  }
  // The transport protocol is known from a whole IPv6 header chain, or IPv4's 10th byte.
  const bool proto_known = v4 ? v.ipv4.captured >= 10 : !(v.partial & kLayerIpv6);
  if (v.has(kLayerTcp)) {
    put_tcp(out, v.tcp);
  } else if (v.has(kLayerUdp)) {
    put(out, " UDP");
    if (v.udp.captured >= 6) {
      put(out, " len ");
      put_uint(out, v.udp.length >= 8 ? v.udp.length - 8u : 0u);
    }
  } else if (v.has(kLayerIcmp) || v.has(kLayerIcmpv6)) {
    put_icmp(out, v.icmp, v.has(kLayerIcmpv6));
  } else if (proto_known) {
    out.push_back(' ');
    std::string_view name = protocol_name(v.ip_protocol);
    if (name.empty()) {
      put(out, "proto ");
      put_uint(out, v.ip_protocol);
    } else {
      put(out, name);
    }
    if (!(v.partial & (kLayerIpv4 | kLayerIpv6))) {
      put(out, " len ");
      put_uint(out, v.ip_payload_length);
    }
  }
  if (fragment) {
    put(out, " frag");
    if (has_id) {
      put(out, " id ");
      put_uint(out, frag_id);
    }
    put(out, " off ");
    put_uint(out, frag_offset);
    if (more) out.push_back('+');
  }
  if (v.has(kLayerDns)) put_dns(out, v.dns);
  if (v.has(kLayerHttp)) {
    put(out, " HTTP ");
    put_escaped_text(out, v.http.method);
    out.push_back(' ');
    put_escaped_text(out, v.http.path);
    out.push_back(' ');
    put_escaped_text(out, v.http.version);
  }
}

}  // namespace

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

void append_summary(TextBuffer& out, const PacketView& v) {
  if (v.has(kLayerVlan)) {
    put(out, "vlan ");
    for (int i = 0; i < v.link.vlan_count; ++i) {
      if (i) out.push_back(',');
      put_uint(out, v.link.vlans[i].id);
    }
    out.push_back(' ');
  }
  if (v.is_ip()) {
    put_ip_summary(out, v);
  } else if (v.has(kLayerArp)) {
    put_arp(out, v.arp);
  } else if (v.has(kLayerEthernet)) {
    put(out, "ether ");
    if (v.link.captured >= 12)
      append_mac(out, v.link.src);
    else
      out.push_back('?');
    put(out, " > ");
    append_mac(out, v.link.dst);
    if (!(v.partial & kLayerEthernet)) {
      put(out, " type ");
      put_ethertype(out, v.link.ethertype);
    }
    put(out, " len ");
    put_uint(out, v.wire_length);
  } else if (v.has(kLayerLinuxSll)) {
    put(out, "sll proto ");
    put_ethertype(out, v.link.ethertype);
    put(out, " len ");
    put_uint(out, v.wire_length);
  } else if (v.has(kLayerNull)) {
    put(out, "null family ");
    put_uint(out, v.link.null_family);
    put(out, " len ");
    put_uint(out, v.wire_length);
  } else {
    put(out, "linktype ");
    put_uint(out, static_cast<uint32_t>(v.linktype));
    put(out, " len ");
    put_uint(out, v.wire_length);
  }
  if (v.truncated) put(out, " [truncated]");
  if (v.malformed != nullptr) {
    put(out, " [malformed ");
    put(out, v.malformed);
    out.push_back(']');
  }
}

void append_json(TextBuffer& out, const PacketView& v, Timestamp ts) {
  JsonObject o(out);
  {
    TextBuffer& b = o.key("ts");
    if (ts.seconds < 0) b.push_back('-');
    put_uint(b, static_cast<uint64_t>(ts.seconds < 0 ? -ts.seconds : ts.seconds));
    b.push_back('.');
    put_padded(b, ts.micros % 1000000, 6);
  }
  o.num("caplen", v.bytes.size());
  o.num("len", v.wire_length);
  o.num("linktype", static_cast<uint64_t>(v.linktype));
  if (v.has(kLayerEthernet)) {
    JsonObject e(o.key("eth"));
    if (v.link.captured >= 12) put_mac_json(e.key("src"), v.link.src);
    put_mac_json(e.key("dst"), v.link.dst);
    // The type after the VLAN tags: unknown while the header or a tag is cut.
    if (!(v.partial & kLayerEthernet)) e.num("type", v.link.ethertype);
    e.close();
  }
  if (v.has(kLayerLinuxSll)) {
    JsonObject e(o.key("sll"));
    e.num("version", v.link.sll_version);
    e.num("pkttype", v.link.sll_packet_type);
    if (v.link.sll_version == 2) e.num("ifindex", v.link.sll_ifindex);
    e.num("protocol", v.link.ethertype);
    e.close();
  }
  if (v.has(kLayerNull)) {
    JsonObject e(o.key("null"));
    e.num("family", v.link.null_family);
    e.close();
  }
  if (v.has(kLayerVlan)) {
    TextBuffer& b = o.key("vlan");
    b.push_back('[');
    for (int i = 0; i < v.link.vlan_count; ++i) {
      if (i) b.push_back(',');
      JsonObject t(b);
      t.num("tpid", v.link.vlans[i].tpid);
      t.num("id", v.link.vlans[i].id);
      t.num("pcp", v.link.vlans[i].priority);
      t.boolean("dei", v.link.vlans[i].drop_eligible);
      t.close();
    }
    b.push_back(']');
  }
  if (v.has(kLayerArp)) {
    const ArpView& a = v.arp;
    JsonObject j(o.key("arp"));
    j.num("htype", a.hardware_type);
    j.num("ptype", a.protocol_type);
    j.num("op", a.operation);
    if (a.ethernet_ipv4) {
      put_mac_json(j.key("sender_mac"), a.sender_mac);
      put_ip_json(j.key("sender_ip"), a.sender_ip);
      put_mac_json(j.key("target_mac"), a.target_mac);
      put_ip_json(j.key("target_ip"), a.target_ip);
    }
    j.close();
  }
  if (v.has(kLayerIpv4)) {
    const Ipv4View& ip = v.ipv4;
    const uint8_t n = ip.captured;
    JsonObject j(o.key("ip"));
    if (v.src.version != 0) put_ip_json(j.key("src"), v.src);
    if (v.dst.version != 0) put_ip_json(j.key("dst"), v.dst);
    j.num("hdr_len", ip.header_length);
    if (n >= 2) j.num("tos", ip.tos);
    if (n >= 4) j.num("len", ip.total_length);
    if (n >= 6) j.num("id", ip.id);
    if (n >= 8) {
      j.boolean("df", ip.dont_fragment);
      j.boolean("mf", ip.more_fragments);
      j.num("frag_offset", ip.fragment_offset);
    }
    if (n >= 9) j.num("ttl", ip.ttl);
    if (n >= 10) j.num("proto", ip.protocol);
    j.close();
  }
  if (v.has(kLayerIpv6)) {
    const Ipv6View& ip = v.ipv6;
    const uint8_t n = ip.captured;
    JsonObject j(o.key("ipv6"));
    if (v.src.version != 0) put_ip_json(j.key("src"), v.src);
    if (v.dst.version != 0) put_ip_json(j.key("dst"), v.dst);
    if (n >= 4) {
      j.num("tclass", ip.traffic_class);
      j.num("flow", ip.flow_label);
    }
    if (n >= 6) j.num("plen", ip.payload_length);
    if (n >= 7) j.num("nxt", ip.next_header);
    if (n >= 8) j.num("hlim", ip.hop_limit);
    TextBuffer& b = j.key("ext");
    b.push_back('[');
    for (int i = 0; i < ip.extension_count; ++i) {
      if (i) b.push_back(',');
      put_json_string(b, extension_name(ip.extensions[i]));
    }
    b.push_back(']');
    if (ip.has_fragment_header && ip.fragment_captured >= 4) {
      JsonObject f(j.key("frag"));
      if (ip.fragment_captured >= 8) f.num("id", ip.fragment_id);
      f.num("offset", ip.fragment_offset);
      f.boolean("more", ip.more_fragments);
      f.close();
    }
    // After the extension headers; unknown while the chain is cut.
    if (!(v.partial & kLayerIpv6)) j.num("proto", v.ip_protocol);
    j.close();
  }
  if (v.has(kLayerTcp)) {
    const TcpView& t = v.tcp;
    char letters[9];
    const uint8_t n = t.captured;
    JsonObject j(o.key("tcp"));
    j.num("sport", t.src_port);
    if (n >= 4) j.num("dport", t.dst_port);
    if (n >= 8) j.num("seq", t.seq);
    if (n >= 12) j.num("ack", t.ack);
    if (n >= 14) {
      j.str("flags", tcp_flag_letters(t.flags, letters));
      j.num("flags_raw", t.flags);
    }
    if (n >= 13) j.num("hdr_len", t.header_length);
    if (n >= 16) j.num("win", t.window);
    if (n >= 20) j.num("urg", t.urgent);
    if (n >= 13) j.num("len", t.payload_length);
    if (n >= 20) {  // the options decoded, all of them or those the capture holds whole
      JsonObject opts(j.key("options"));
      if (t.has_mss) opts.num("mss", t.mss);
      if (t.has_window_scale) opts.num("wscale", t.window_scale);
      if (t.sack_permitted) opts.boolean("sack_permitted", true);
      if (t.sack_count) {
        TextBuffer& b = opts.key("sack");
        b.push_back('[');
        for (int i = 0; i < t.sack_count; ++i) {
          if (i) b.push_back(',');
          b.push_back('[');
          put_uint(b, t.sack[i].left);
          b.push_back(',');
          put_uint(b, t.sack[i].right);
          b.push_back(']');
        }
        b.push_back(']');
      }
      if (t.has_timestamp) {
        TextBuffer& b = opts.key("ts");
        b.push_back('[');
        put_uint(b, t.ts_value);
        if (t.has_ts_echo) {
          b.push_back(',');
          put_uint(b, t.ts_echo);
        }
        b.push_back(']');
      }
      opts.close();
    }
    j.close();
  }
  if (v.has(kLayerUdp)) {
    JsonObject j(o.key("udp"));
    j.num("sport", v.udp.src_port);
    if (v.udp.captured >= 4) j.num("dport", v.udp.dst_port);
    if (v.udp.captured >= 6) j.num("len", v.udp.length);
    j.close();
  }
  if (v.has(kLayerIcmp) || v.has(kLayerIcmpv6)) {
    bool v6 = v.has(kLayerIcmpv6);
    JsonObject j(o.key(v6 ? "icmpv6" : "icmp"));
    j.num("type", v.icmp.type);
    if (v.icmp.captured >= 2) j.num("code", v.icmp.code);
    std::string_view name = v6 ? icmpv6_type_name(v.icmp.type) : icmp_type_name(v.icmp.type);
    if (!name.empty()) j.str("name", name);
    if (v.icmp.has_echo) {
      j.num("id", v.icmp.echo_id);
      if (v.icmp.captured >= 8) j.num("seq", v.icmp.echo_seq);
    }
    j.close();
  }
  if (v.has(kLayerDns)) {
    const DnsView& d = v.dns;
    JsonObject j(o.key("dns"));
    j.num("id", d.id);
    if (d.captured >= 4) {
      j.boolean("response", d.response);
      j.num("opcode", d.opcode);
      j.num("rcode", d.rcode);
    }
    if (d.captured >= 6) j.num("qdcount", d.question_count);
    if (d.captured >= 8) j.num("ancount", d.answer_count);
    if (d.captured >= 10) j.num("nscount", d.authority_count);
    if (d.captured >= 12) j.num("arcount", d.additional_count);
    if (d.has_qname) j.str("qname", d.qname());
    if (d.has_qtype) {
      j.num("qtype", d.qtype);
      std::string_view type = dns_type_name(d.qtype);
      if (!type.empty()) j.str("qtype_name", type);
    }
    if (d.has_question) j.num("qclass", d.qclass);
    j.close();
  }
  if (v.has(kLayerHttp)) {
    JsonObject j(o.key("http"));
    j.str("method", v.http.method);
    j.str("path", v.http.path);
    j.str("version", v.http.version);
    j.close();
  }
  if (v.truncated) o.boolean("truncated", true);
  if (v.malformed != nullptr) o.str("malformed", v.malformed);
  {
    TextBuffer& b = o.key("summary");
    // The summary is plain ASCII by construction (packet text is escaped), so quoting is enough.
    size_t start = b.size();
    append_summary(b, v);
    TextBuffer tmp;
    tmp.append(b.data() + start, b.data() + b.size());
    b.resize(start);
    put_json_string(b, std::string_view(tmp.data(), tmp.size()));
  }
  o.close();
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

std::string_view dns_type_name(uint16_t qtype) {
  switch (qtype) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 35:
      return "NAPTR";
    case 41:
      return "OPT";
    case 43:
      return "DS";
    case 46:
      return "RRSIG";
    case 48:
      return "DNSKEY";
    case 64:
      return "SVCB";
    case 65:
      return "HTTPS";
    case 255:
      return "ANY";
    case 257:
      return "CAA";
    default:
      return {};
  }
}

std::string_view icmp_type_name(uint8_t type) {
  switch (type) {
    case 0:
      return "echo-reply";
    case 3:
      return "unreachable";
    case 5:
      return "redirect";
    case 8:
      return "echo-request";
    case 11:
      return "time-exceeded";
    case 12:
      return "parameter-problem";
    case 13:
      return "timestamp-request";
    case 14:
      return "timestamp-reply";
    default:
      return {};
  }
}

std::string_view icmpv6_type_name(uint8_t type) {
  switch (type) {
    case 1:
      return "unreachable";
    case 2:
      return "packet-too-big";
    case 3:
      return "time-exceeded";
    case 4:
      return "parameter-problem";
    case 128:
      return "echo-request";
    case 129:
      return "echo-reply";
    case 133:
      return "router-solicitation";
    case 134:
      return "router-advertisement";
    case 135:
      return "neighbor-solicitation";
    case 136:
      return "neighbor-advertisement";
    case 143:
      return "mld2-report";
    default:
      return {};
  }
}

}  // namespace netres::capture
