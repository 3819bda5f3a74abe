// The one-line summary of a decoded packet, as tcpdump prints it: link, IP, transport and the
// application layer (DNS, HTTP) that the decoder found.
#include <cstdint>
#include <string_view>

#include "capture/packet_text.h"
#include "capture/packet_text_internal.h"

namespace netres::capture {
namespace {

using namespace text;  // NOLINT: the text appends of this library

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
    std::string_view name = ip_protocol_label(v.ip_protocol);
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

}  // namespace netres::capture
