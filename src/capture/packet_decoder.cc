// decode_packet(): walks a captured frame from the link layer to DNS / HTTP, filling a
// PacketView. Every read is preceded by a length check against the span it reads from.
#include <cstring>

#include "capture/packet_view.h"

namespace netres::capture {
namespace {

using Bytes = std::span<const uint8_t>;

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint16_t kEtherQinQOld = 0x9100;

constexpr uint8_t kProtoHopByHop = 0;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoRouting = 43;
constexpr uint8_t kProtoFragment = 44;
constexpr uint8_t kProtoAh = 51;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoDestOptions = 60;

class Decoder {
 public:
  explicit Decoder(PacketView& view) : v_(view) {}

  void link(int linktype, Bytes b) {
    switch (linktype) {
      case linktype::kEthernet:
        return ethernet(b);
      case linktype::kLinuxSll:
        return sll(b);
      case linktype::kLinuxSll2:
        return sll2(b);
      case linktype::kNull:
      case linktype::kLoop:
        return null_family(b, linktype == linktype::kLoop);
      case linktype::kRaw:
      case linktype::kRawOpenBsd:
      case linktype::kRawLinktype:
        return raw_ip(b);
      case linktype::kIpv4:
        return ipv4(b);
      case linktype::kIpv6:
        return ipv6(b);
      default:
        return;  // unknown link type: the view holds only the bytes
    }
  }

 private:
  void truncated() { v_.truncated = true; }
  // A header cut by the capture: the layer is present with the fields its bytes hold.
  void partial(Layer layer) {
    v_.layers |= layer;
    v_.partial |= layer;
    v_.truncated = true;
  }
  void malformed(const char* what) {
    if (v_.malformed == nullptr) v_.malformed = what;
  }

  void ethernet(Bytes b) {
    v_.link.captured = static_cast<uint8_t>(b.size() < 14 ? b.size() : 14);
    if (b.size() < 14) {
      if (b.size() < 6) return truncated();
      partial(kLayerEthernet);
      std::memcpy(v_.link.dst.bytes.data(), b.data(), 6);
      if (b.size() >= 12) std::memcpy(v_.link.src.bytes.data(), b.data() + 6, 6);
      return;
    }
    v_.layers |= kLayerEthernet;
    std::memcpy(v_.link.dst.bytes.data(), b.data(), 6);
    std::memcpy(v_.link.src.bytes.data(), b.data() + 6, 6);
    uint16_t type = be16(b.data() + 12);
    b = b.subspan(14);
    while (type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld) {
      if (v_.link.vlan_count == LinkView::kMaxVlanTags) return malformed("too many vlan tags");
      if (b.size() < 2) {
        // The type after the tags is unknown: the Ethernet header counts as cut.
        v_.link.ethertype = type;
        return partial(kLayerEthernet);
      }
      v_.layers |= kLayerVlan;
      VlanTag& tag = v_.link.vlans[v_.link.vlan_count++];
      uint16_t tci = be16(b.data());
      tag.tpid = type;
      tag.priority = static_cast<uint8_t>(tci >> 13);
      tag.drop_eligible = (tci & 0x1000) != 0;
      tag.id = tci & 0x0fff;
      if (b.size() < 4) {  // the tag's own fields are there, the type after it is not
        v_.link.ethertype = type;
        return partial(kLayerEthernet);
      }
      type = be16(b.data() + 2);
      b = b.subspan(4);
    }
    v_.link.ethertype = type;
    ethertype(type, b);
  }

  // Linux cooked v1: packet type, ARPHRD type, address length, 8 address bytes, protocol.
  void sll(Bytes b) {
    if (b.size() < 16) return truncated();
    v_.layers |= kLayerLinuxSll;
    v_.link.sll_version = 1;
    v_.link.sll_packet_type = be16(b.data());
    if (be16(b.data() + 4) == 6) std::memcpy(v_.link.src.bytes.data(), b.data() + 6, 6);
    v_.link.ethertype = be16(b.data() + 14);
    ethertype(v_.link.ethertype, b.subspan(16));
  }

  // Linux cooked v2: protocol, reserved, ifindex, ARPHRD type, packet type, address length,
  // 8 address bytes.
  void sll2(Bytes b) {
    if (b.size() < 20) return truncated();
    v_.layers |= kLayerLinuxSll;
    v_.link.sll_version = 2;
    v_.link.ethertype = be16(b.data());
    v_.link.sll_ifindex = be32(b.data() + 4);
    v_.link.sll_packet_type = b[10];
    if (b[11] == 6) std::memcpy(v_.link.src.bytes.data(), b.data() + 12, 6);
    ethertype(v_.link.ethertype, b.subspan(20));
  }

  // The family is in the capturing host's byte order, which the file does not record; families
  // are small numbers, so a value with only the high bytes set was written the other way round.
  void null_family(Bytes b, bool network_order) {
    if (b.size() < 4) return truncated();
    v_.layers |= kLayerNull;
    uint32_t family;
    if (network_order) {
      family = be32(b.data());
    } else {
      family = static_cast<uint32_t>(b[0]) | static_cast<uint32_t>(b[1]) << 8 |
               static_cast<uint32_t>(b[2]) << 16 | static_cast<uint32_t>(b[3]) << 24;
      if (family > 0xffff) family = be32(b.data());
    }
    v_.link.null_family = family;
    b = b.subspan(4);
    if (family == 2) return ipv4(b);
    // AF_INET6 differs per system: Linux 10, the BSDs 24, FreeBSD 28, macOS 30.
    if (family == 10 || family == 24 || family == 28 || family == 30) return ipv6(b);
  }

  void raw_ip(Bytes b) {
    if (b.empty()) return truncated();
    int version = b[0] >> 4;
    if (version == 4) return ipv4(b);
    if (version == 6) return ipv6(b);
    malformed("ip version");
  }

  void ethertype(uint16_t type, Bytes b) {
    switch (type) {
      case kEtherIpv4:
        return ipv4(b);
      case kEtherIpv6:
        return ipv6(b);
      case kEtherArp:
        return arp(b);
      default:
        return;
    }
  }

  void arp(Bytes b) {
    if (b.size() < 8) return truncated();
    v_.layers |= kLayerArp;
    ArpView& a = v_.arp;
    a.hardware_type = be16(b.data());
    a.protocol_type = be16(b.data() + 2);
    uint8_t hlen = b[4], plen = b[5];
    a.operation = be16(b.data() + 6);
    size_t need = 8 + 2 * (static_cast<size_t>(hlen) + plen);
    if (b.size() < need) return truncated();
    if (hlen == 6 && plen == 4 && a.protocol_type == kEtherIpv4) {
      a.ethernet_ipv4 = true;
      const uint8_t* p = b.data() + 8;
      std::memcpy(a.sender_mac.bytes.data(), p, 6);
      a.sender_ip.version = 4;
      std::memcpy(a.sender_ip.bytes.data(), p + 6, 4);
      std::memcpy(a.target_mac.bytes.data(), p + 10, 6);
      a.target_ip.version = 4;
      std::memcpy(a.target_ip.bytes.data(), p + 16, 4);
    }
  }

  // The fields of an IPv4 header cut after `b.size()` (< 20) bytes.
  void ipv4_partial(Bytes b) {
    Ipv4View& ip = v_.ipv4;
    const size_t n = b.size();
    partial(kLayerIpv4);
    if (n >= 2) ip.tos = b[1];
    if (n >= 4) ip.total_length = be16(b.data() + 2);
    if (n >= 6) ip.id = be16(b.data() + 4);
    if (n >= 8) {
      uint16_t frag = be16(b.data() + 6);
      ip.dont_fragment = (frag & 0x4000) != 0;
      ip.more_fragments = (frag & 0x2000) != 0;
      ip.fragment_offset = static_cast<uint16_t>((frag & 0x1fff) * 8);
    }
    if (n >= 9) ip.ttl = b[8];
    if (n >= 10) v_.ip_protocol = ip.protocol = b[9];
    if (n >= 12) ip.checksum = be16(b.data() + 10);
    if (n >= 16) {
      v_.src.version = 4;
      std::memcpy(v_.src.bytes.data(), b.data() + 12, 4);
    }
  }

  void ipv4(Bytes b) {
    if (b.empty()) return truncated();
    if ((b[0] >> 4) != 4) return malformed("ipv4 version");
    Ipv4View& ip = v_.ipv4;
    ip.header_length = static_cast<uint8_t>((b[0] & 0x0f) * 4);
    if (ip.header_length < 20) return malformed("ipv4 header length");
    ip.captured = static_cast<uint8_t>(b.size() < 20 ? b.size() : 20);
    if (b.size() < 20) return ipv4_partial(b);
    v_.layers |= kLayerIpv4;
    ip.tos = b[1];
    ip.total_length = be16(b.data() + 2);
    ip.id = be16(b.data() + 4);
    uint16_t frag = be16(b.data() + 6);
    ip.dont_fragment = (frag & 0x4000) != 0;
    ip.more_fragments = (frag & 0x2000) != 0;
    ip.fragment_offset = static_cast<uint16_t>((frag & 0x1fff) * 8);
    ip.ttl = b[8];
    ip.protocol = b[9];
    ip.checksum = be16(b.data() + 10);
    v_.src.version = v_.dst.version = 4;
    std::memcpy(v_.src.bytes.data(), b.data() + 12, 4);
    std::memcpy(v_.dst.bytes.data(), b.data() + 16, 4);
    v_.ip_protocol = ip.protocol;
    if (ip.total_length < ip.header_length) return malformed("ipv4 total length");
    if (b.size() < ip.header_length) return truncated();
    v_.ip_payload_length = ip.total_length - ip.header_length;
    // Bytes past total_length are link padding (Ethernet's 60-byte minimum), not payload.
    Bytes payload = b.subspan(ip.header_length);
    if (payload.size() > v_.ip_payload_length) {
      payload = payload.first(v_.ip_payload_length);
    } else if (payload.size() < v_.ip_payload_length) {
      truncated();
    }
    v_.ip_payload = payload;
    if (ip.fragment_offset != 0) {
      v_.later_fragment = true;
      return;
    }
    transport(ip.protocol, payload, v_.ip_payload_length, ip.more_fragments);
  }

  // The fields of an IPv6 header cut after `b.size()` (< 40) bytes.
  void ipv6_partial(Bytes b) {
    Ipv6View& ip = v_.ipv6;
    const size_t n = b.size();
    partial(kLayerIpv6);
    if (n >= 4) {
      uint32_t first = be32(b.data());
      ip.traffic_class = static_cast<uint8_t>(first >> 20);
      ip.flow_label = first & 0xfffff;
    }
    if (n >= 6) ip.payload_length = be16(b.data() + 4);
    if (n >= 7) v_.ip_protocol = ip.next_header = b[6];
    if (n >= 8) ip.hop_limit = b[7];
    if (n >= 24) {
      v_.src.version = 6;
      std::memcpy(v_.src.bytes.data(), b.data() + 8, 16);
    }
  }

  void ipv6(Bytes b) {
    if (b.empty()) return truncated();
    if ((b[0] >> 4) != 6) return malformed("ipv6 version");
    Ipv6View& ip = v_.ipv6;
    ip.captured = static_cast<uint8_t>(b.size() < 40 ? b.size() : 40);
    if (b.size() < 40) return ipv6_partial(b);
    v_.layers |= kLayerIpv6;
    uint32_t first = be32(b.data());
    ip.traffic_class = static_cast<uint8_t>(first >> 20);
    ip.flow_label = first & 0xfffff;
    ip.payload_length = be16(b.data() + 4);
    ip.next_header = b[6];
    ip.hop_limit = b[7];
    v_.src.version = v_.dst.version = 6;
    std::memcpy(v_.src.bytes.data(), b.data() + 8, 16);
    std::memcpy(v_.dst.bytes.data(), b.data() + 24, 16);
    v_.ip_protocol = ip.next_header;

    Bytes rest = b.subspan(40);
    uint32_t claimed = ip.payload_length;
    if (rest.size() > claimed) {
      rest = rest.first(claimed);
    } else if (rest.size() < claimed) {
      truncated();
    }
    uint8_t next = ip.next_header;
    while (next == kProtoHopByHop || next == kProtoRouting || next == kProtoFragment ||
           next == kProtoDestOptions || next == kProtoAh) {
      if (ip.extension_count == Ipv6View::kMaxExtensionHeaders)
        return malformed("too many ipv6 extension headers");
      if (rest.size() < 2) {
        if (rest.size() >= claimed) {
          v_.ip_protocol = next;
          return truncated();
        }
        if (rest.empty()) {  // cut right before it: what follows the chain is unknown
          v_.ip_protocol = next;
          return partial(kLayerIpv6);
        }
        return cut_extension(next, rest);
      }
      size_t length;
      if (next == kProtoFragment) {
        length = 8;
      } else if (next == kProtoAh) {
        length = (static_cast<size_t>(rest[1]) + 2) * 4;
      } else {
        length = (static_cast<size_t>(rest[1]) + 1) * 8;
      }
      if (length > claimed) return malformed("ipv6 extension header length");
      if (rest.size() < length) return cut_extension(next, rest);
      ip.extensions[ip.extension_count++] = next;
      if (next == kProtoFragment) {
        ip.has_fragment_header = true;
        ip.fragment_captured = 8;
        uint16_t off = be16(rest.data() + 2);
        ip.fragment_offset = static_cast<uint16_t>(off & 0xfff8);
        ip.more_fragments = (off & 1) != 0;
        ip.fragment_id = be32(rest.data() + 4);
      }
      next = rest[0];
      rest = rest.subspan(length);
      claimed -= static_cast<uint32_t>(length);
    }
    v_.ip_protocol = next;
    v_.ip_payload_length = claimed;
    v_.ip_payload = rest;
    if (ip.has_fragment_header && ip.fragment_offset != 0) {
      v_.later_fragment = true;
      return;
    }
    transport(next, rest, claimed, ip.has_fragment_header && ip.more_fragments);
  }

  // An extension header the capture cut: listed, with the fragment fields whose bytes are there;
  // what follows it is unknown.
  void cut_extension(uint8_t type, Bytes rest) {
    Ipv6View& ip = v_.ipv6;
    partial(kLayerIpv6);
    ip.extensions[ip.extension_count++] = type;
    v_.ip_protocol = type;
    if (type == kProtoFragment) {
      ip.has_fragment_header = true;
      ip.fragment_captured = static_cast<uint8_t>(rest.size());
      if (rest.size() >= 4) {
        uint16_t off = be16(rest.data() + 2);
        ip.fragment_offset = static_cast<uint16_t>(off & 0xfff8);
        ip.more_fragments = (off & 1) != 0;
      }
    }
  }

  // `claimed` is what the IP header says follows it. A first fragment holds only part of the
  // transport segment, so lengths past its end are expected there and are not flagged.
  void transport(uint8_t protocol, Bytes b, uint32_t claimed, bool first_fragment) {
    switch (protocol) {
      case kProtoTcp:
        return tcp(b, claimed, first_fragment);
      case kProtoUdp:
        return udp(b, claimed, first_fragment);
      case kProtoIcmp:
        return icmp(b, kLayerIcmp);
      case kProtoIcmpv6:
        return icmp(b, kLayerIcmpv6);
      default:
        return;
    }
  }

  // Field by field, so a header cut by the snap length still shows what was captured (the
  // ports after 4 bytes, as tcpdump and tshark show them).
  void tcp(Bytes b, uint32_t claimed, bool first_fragment) {
    const size_t n = b.size();
    if (n < 2) return truncated();
    v_.layers |= kLayerTcp;
    TcpView& t = v_.tcp;
    t.captured = static_cast<uint8_t>(n < 20 ? n : 20);
    t.src_port = be16(b.data());
    if (n >= 4) t.dst_port = be16(b.data() + 2);
    if (n >= 8) t.seq = be32(b.data() + 4);
    if (n >= 12) t.ack = be32(b.data() + 8);
    if (n >= 13) t.header_length = static_cast<uint8_t>((b[12] >> 4) * 4);
    if (n >= 14) t.flags = static_cast<uint16_t>((b[12] & 1) << 8 | b[13]);
    if (n >= 16) t.window = be16(b.data() + 14);
    if (n >= 18) t.checksum = be16(b.data() + 16);
    if (n >= 20) t.urgent = be16(b.data() + 18);
    if (n >= 13) {
      if (t.header_length < 20) return malformed("tcp header length");
      if (t.header_length > claimed) {
        if (first_fragment) return;  // the rest of the header is in the next fragment
        return malformed("tcp header length");
      }
      t.payload_length = claimed - t.header_length;
    }
    if (n < 20) return partial(kLayerTcp);
    if (n < t.header_length) {
      // Options cut: the whole ones are still decoded.
      t.captured = static_cast<uint8_t>(n);
      partial(kLayerTcp);
      return tcp_options(b.subspan(20), false);
    }
    t.captured = t.header_length;
    tcp_options(b.subspan(20, t.header_length - 20u), true);
    v_.payload = b.subspan(t.header_length);
    if (!first_fragment) http_request();
  }

  // `complete`: `o` holds the whole option area, so an option running past it is malformed;
  // otherwise the capture cut it, and decoding stops there.
  void tcp_options(Bytes o, bool complete) {
    TcpView& t = v_.tcp;
    size_t i = 0;
    while (i < o.size()) {
      uint8_t kind = o[i];
      if (kind == 0) return;  // end of option list
      if (kind == 1) {        // no-operation
        ++i;
        continue;
      }
      if (i + 1 >= o.size()) return complete ? malformed("tcp option") : void();
      uint8_t len = o[i + 1];
      if (len < 2) return malformed("tcp option");
      if (i + len > o.size()) {
        if (complete) return malformed("tcp option");
        // A timestamp option cut after its value still has the value (tshark shows it too).
        if (kind == 8 && len == 10 && o.size() - i >= 6) {
          t.has_timestamp = true;
          t.ts_value = be32(o.data() + i + 2);
        }
        return;
      }
      const uint8_t* p = o.data() + i;
      switch (kind) {
        case 2:
          if (len != 4) return malformed("tcp option");
          t.has_mss = true;
          t.mss = be16(p + 2);
          break;
        case 3:
          if (len != 3) return malformed("tcp option");
          t.has_window_scale = true;
          t.window_scale = p[2];
          break;
        case 4:
          if (len != 2) return malformed("tcp option");
          t.sack_permitted = true;
          break;
        case 5:
          if ((len - 2) % 8 != 0) return malformed("tcp option");
          for (size_t k = 2; k + 8 <= len && t.sack_count < TcpView::kMaxSackBlocks; k += 8)
            t.sack[t.sack_count++] = {be32(p + k), be32(p + k + 4)};
          break;
        case 8:
          if (len != 10) return malformed("tcp option");
          t.has_timestamp = t.has_ts_echo = true;
          t.ts_value = be32(p + 2);
          t.ts_echo = be32(p + 6);
          break;
        default:
          break;
      }
      i += len;
    }
  }

  void udp(Bytes b, uint32_t claimed, bool first_fragment) {
    const size_t n = b.size();
    if (n < 2) return truncated();
    v_.layers |= kLayerUdp;
    UdpView& u = v_.udp;
    u.captured = static_cast<uint8_t>(n < 8 ? n : 8);
    u.src_port = be16(b.data());
    if (n >= 4) u.dst_port = be16(b.data() + 2);
    if (n >= 6) u.length = be16(b.data() + 4);
    if (n >= 8) u.checksum = be16(b.data() + 6);
    if (n >= 6 && u.length < 8) return malformed("udp length");
    if (n < 8) return partial(kLayerUdp);
    if (first_fragment) {
      v_.payload = b.subspan(8);
      return;
    }
    if (u.length > claimed) return malformed("udp length");
    size_t body = u.length - 8u;
    Bytes payload = b.subspan(8);
    if (payload.size() > body) payload = payload.first(body);
    v_.payload = payload;
    if (payload.size() < body) truncated();
    if (u.src_port == 53 || u.dst_port == 53) dns(payload, payload.size() == body);
  }

  void icmp(Bytes b, Layer layer) {
    const size_t n = b.size();
    if (n < 1) return truncated();
    v_.layers |= layer;
    IcmpView& c = v_.icmp;
    c.captured = static_cast<uint8_t>(n < 8 ? n : 8);
    c.type = b[0];
    if (n >= 2) c.code = b[1];
    if (n >= 4) c.checksum = be16(b.data() + 2);
    bool echo =
        layer == kLayerIcmp ? (c.type == 0 || c.type == 8) : (c.type == 128 || c.type == 129);
    if (echo && n >= 6) {
      c.has_echo = true;
      c.echo_id = be16(b.data() + 4);
    }
    if (echo && n >= 8) c.echo_seq = be16(b.data() + 6);
    // Other types' second word depends on the type; without it the header is still whole.
    if (n < 4 || (echo && n < 8)) return partial(layer);
    v_.payload = b.subspan(n < 8 ? n : 8);
  }

  // Bytes running out inside a complete UDP payload mean a broken message; inside a cut one,
  // only a short capture.
  void dns_short(bool complete) {
    if (complete)
      malformed("dns");
    else
      truncated();
  }

  // The header fields of a DNS header cut after `m.size()` (2..11) bytes.
  void dns_partial(Bytes m) {
    const size_t n = m.size();
    DnsView& d = v_.dns;
    partial(kLayerDns);
    d.captured = static_cast<uint8_t>(n);
    d.id = be16(m.data());
    if (n >= 4) {
      uint16_t flags = be16(m.data() + 2);
      d.response = (flags & 0x8000) != 0;
      d.opcode = static_cast<uint8_t>((flags >> 11) & 0xf);
      d.rcode = static_cast<uint8_t>(flags & 0xf);
    }
    if (n >= 6) d.question_count = be16(m.data() + 4);
    if (n >= 8) d.answer_count = be16(m.data() + 6);
    if (n >= 10) d.authority_count = be16(m.data() + 8);
  }

  void dns(Bytes m, bool complete) {
    if (m.size() < 12) {
      if (complete || m.size() < 2) return dns_short(complete);
      return dns_partial(m);
    }
    v_.layers |= kLayerDns;
    DnsView& d = v_.dns;
    d.captured = 12;
    d.id = be16(m.data());
    uint16_t flags = be16(m.data() + 2);
    d.response = (flags & 0x8000) != 0;
    d.opcode = static_cast<uint8_t>((flags >> 11) & 0xf);
    d.rcode = static_cast<uint8_t>(flags & 0xf);
    d.question_count = be16(m.data() + 4);
    d.answer_count = be16(m.data() + 6);
    d.authority_count = be16(m.data() + 8);
    d.additional_count = be16(m.data() + 10);
    if (d.question_count == 0) return;

    // The first question's name: labels, possibly ending in a compression pointer. Pointers
    // must point backwards, which together with the hop bound rules out loops.
    size_t pos = 12;
    size_t resume = 0;  // where the question continues after the name, once a pointer was taken
    int hops = 0;
    size_t out = 0;
    for (;;) {
      if (pos >= m.size()) return dns_short(complete);
      uint8_t len = m[pos];
      if ((len & 0xc0) == 0xc0) {
        if (pos + 1 >= m.size()) return dns_short(complete);
        size_t target = static_cast<size_t>(len & 0x3f) << 8 | m[pos + 1];
        if (resume == 0) resume = pos + 2;
        if (target >= pos || ++hops > 16) return malformed("dns name pointer");
        pos = target;
        continue;
      }
      if ((len & 0xc0) != 0) return malformed("dns label type");
      if (len == 0) {
        ++pos;
        break;
      }
      if (pos + 1 + len > m.size()) return dns_short(complete);
      size_t add = (out == 0 ? 0 : 1) + static_cast<size_t>(len);
      if (out + add > DnsView::kMaxNameLength) return malformed("dns name length");
      if (out != 0) d.qname_buffer[out++] = '.';
      std::memcpy(d.qname_buffer.data() + out, m.data() + pos + 1, len);
      out += len;
      d.qname_length = static_cast<uint8_t>(out);
      pos += 1 + static_cast<size_t>(len);
    }
    d.has_qname = true;
    if (resume != 0) pos = resume;
    if (pos + 2 > m.size()) return dns_short(complete);
    d.has_qtype = true;
    d.qtype = be16(m.data() + pos);
    if (pos + 4 > m.size()) return dns_short(complete);
    d.has_question = true;
    d.qclass = be16(m.data() + pos + 2);
  }

  static bool is_known_method(std::string_view m) {
    static constexpr std::string_view kMethods[] = {"GET",     "POST",    "PUT",   "DELETE", "HEAD",
                                                    "OPTIONS", "CONNECT", "TRACE", "PATCH"};
    for (auto k : kMethods)
      if (m == k) return true;
    return false;
  }

  // "METHOD SP path SP HTTP/d.d CRLF" at the start of the payload. On ports 80 and 8080 any
  // upper-case token counts as a method (WebDAV and friends); elsewhere only the common ones.
  void http_request() {
    Bytes p = v_.payload;
    if (p.size() < 14) return;
    const char* s = reinterpret_cast<const char*>(p.data());
    std::string_view text(s, p.size() < 8192 ? p.size() : 8192);
    size_t eol = text.find('\n');
    if (eol == std::string_view::npos) return;
    std::string_view line = text.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0 || sp1 > 20) return;
    std::string_view method = line.substr(0, sp1);
    for (char c : method)
      if (c < 'A' || c > 'Z') return;
    size_t sp2 = line.rfind(' ');
    if (sp2 == sp1) return;
    std::string_view path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (path.empty() || path.find(' ') != std::string_view::npos) return;
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' ||
        version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9')
      return;
    uint16_t sp = v_.tcp.src_port, dp = v_.tcp.dst_port;
    bool http_port = sp == 80 || dp == 80 || sp == 8080 || dp == 8080;
    if (!http_port && !is_known_method(method)) return;
    v_.layers |= kLayerHttp;
    v_.http = {method, path, version};
  }

  PacketView& v_;
};

}  // namespace

bool is_supported_linktype(int t) {
  return t == linktype::kNull || t == linktype::kEthernet || t == linktype::kRaw ||
         t == linktype::kRawOpenBsd || t == linktype::kRawLinktype || t == linktype::kLoop ||
         t == linktype::kLinuxSll || t == linktype::kIpv4 || t == linktype::kIpv6 ||
         t == linktype::kLinuxSll2;
}

void decode_packet(int linktype, std::span<const uint8_t> bytes, uint32_t wire_length,
                   PacketView& view) {
  view = PacketView{};
  view.linktype = linktype;
  view.bytes = bytes;
  view.wire_length = wire_length == 0 ? static_cast<uint32_t>(bytes.size()) : wire_length;
  Decoder(view).link(linktype, bytes);
}

}  // namespace netres::capture
