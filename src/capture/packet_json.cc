// The NDJSON object of a decoded packet: the timestamp, lengths and every decoded layer, with
// the field names documented in docs/capture.md.
#include <cstdint>
#include <string_view>

#include "capture/packet_text.h"
#include "capture/packet_text_internal.h"

namespace netres::capture {

using namespace text;  // NOLINT: the text appends of this library

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

}  // namespace netres::capture
