// Zero-copy views over one packet's bytes, layer by layer, as decode_packet() fills them.
// No allocation: text fields are string_views into the packet, and the one rebuilt field (a DNS
// name, which compression scatters over the message) lives in a fixed buffer inside the view.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace netres::capture {

// Link-layer header types as libpcap's pcap_datalink() reports them (DLT_*). Files carrying
// LINKTYPE_RAW (101) are reported by libpcap as DLT_RAW, but we accept both.
namespace linktype {
inline constexpr int kNull = 0;         // BSD loopback: 4-byte address family, host byte order
inline constexpr int kEthernet = 1;     // DLT_EN10MB
inline constexpr int kRaw = 12;         // DLT_RAW on Linux: bare IPv4 or IPv6
inline constexpr int kRawOpenBsd = 14;  // DLT_RAW on OpenBSD
inline constexpr int kRawLinktype = 101;
inline constexpr int kLoop = 108;      // like kNull, but the family is in network byte order
inline constexpr int kLinuxSll = 113;  // Linux cooked capture v1 ("-i any" before 1.10)
inline constexpr int kIpv4 = 228;
inline constexpr int kIpv6 = 229;
inline constexpr int kLinuxSll2 = 276;  // Linux cooked capture v2 ("-i any" with libpcap >= 1.10)
}  // namespace linktype

// Which layers a PacketView holds; a field of a layer is meaningful only when its bit is set.
// A layer whose header the capture cut (a short snap length) still has its bit, and its bit in
// PacketView::partial too; then only the fields whose bytes were captured are meaningful, which
// the layer's `captured` (header bytes present) tells, as documented per field below.
enum Layer : uint32_t {
  kLayerEthernet = 1u << 0,
  kLayerVlan = 1u << 1,
  kLayerLinuxSll = 1u << 2,  // v1 or v2; LinkView::sll_version says which
  kLayerNull = 1u << 3,      // DLT_NULL / DLT_LOOP
  kLayerArp = 1u << 4,
  kLayerIpv4 = 1u << 5,
  kLayerIpv6 = 1u << 6,
  kLayerTcp = 1u << 7,
  kLayerUdp = 1u << 8,
  kLayerIcmp = 1u << 9,
  kLayerIcmpv6 = 1u << 10,
  kLayerDns = 1u << 11,
  kLayerHttp = 1u << 12,
};

struct MacAddress {
  std::array<uint8_t, 6> bytes{};
};

// An IPv4 or IPv6 address in network byte order; IPv4 uses the first four bytes.
struct IpAddress {
  uint8_t version = 0;  // 4 or 6; 0 when absent
  std::array<uint8_t, 16> bytes{};
};

struct VlanTag {
  uint16_t tpid = 0;  // 0x8100 (802.1Q), 0x88a8 (802.1ad outer tag), 0x9100
  uint16_t id = 0;
  uint8_t priority = 0;
  bool drop_eligible = false;
};

struct LinkView {
  static constexpr int kMaxVlanTags = 4;  // deeper stacks are flagged malformed
  MacAddress src;                         // Ethernet source, or the SLL source when its length is 6
  MacAddress dst;                         // Ethernet only
  uint16_t ethertype = 0;  // the innermost one, after VLAN tags (also SLL's protocol)
  uint8_t vlan_count = 0;
  std::array<VlanTag, kMaxVlanTags> vlans{};
  uint8_t sll_version = 0;       // 1 or 2
  uint16_t sll_packet_type = 0;  // 0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing
  uint32_t sll_ifindex = 0;      // SLL2 only
  uint32_t null_family = 0;      // DLT_NULL / DLT_LOOP address family
  // Ethernet header bytes captured (14 when whole): dst needs 6, src 12, ethertype 14 (and
  // every VLAN tag whole: PacketView::partial has kLayerEthernet while one is cut).
  uint8_t captured = 0;
};

struct ArpView {
  uint16_t hardware_type = 0;
  uint16_t protocol_type = 0;
  uint16_t operation = 0;      // 1 request, 2 reply
  bool ethernet_ipv4 = false;  // addresses below are filled only for Ethernet/IPv4 ARP
  MacAddress sender_mac, target_mac;
  IpAddress sender_ip, target_ip;
};

// Header bytes each field needs, for views of cut headers: a field is there when
// `captured >= its end offset`.
struct Ipv4View {
  uint8_t captured = 0;        // header bytes captured, up to 20 (options are not decoded)
  uint8_t header_length = 0;   // bytes, options included (needs 1)
  uint8_t tos = 0;             // 2
  uint16_t total_length = 0;   // 4
  uint16_t id = 0;             // 6
  bool dont_fragment = false;  // 8, with more_fragments and fragment_offset
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // bytes
  uint8_t ttl = 0;               // 9
  uint8_t protocol = 0;          // 10
  uint16_t checksum = 0;         // 12; src 16, dst 20
};

struct Ipv6View {
  static constexpr int kMaxExtensionHeaders = 8;  // longer chains are flagged malformed
  uint8_t captured = 0;                           // fixed header bytes captured, up to 40
  uint8_t traffic_class = 0;                      // 4, with flow_label
  uint32_t flow_label = 0;
  uint16_t payload_length = 0;  // 6
  uint8_t next_header = 0;      // 7; of the fixed header
  uint8_t hop_limit = 0;        // 8; src 24, dst 40
  // Extension headers seen, in order, by protocol number; the last one may be cut (then
  // PacketView::partial has kLayerIpv6 and the transport is not decoded).
  uint8_t extension_count = 0;
  std::array<uint8_t, kMaxExtensionHeaders> extensions{};
  bool has_fragment_header = false;
  uint8_t fragment_captured = 0;  // fragment header bytes: offset and more need 4, the id 8
  uint32_t fragment_id = 0;
  uint16_t fragment_offset = 0;  // bytes
  bool more_fragments = false;
};

struct SackBlock {
  uint32_t left = 0, right = 0;
};

struct TcpView {
  static constexpr int kMaxSackBlocks = 4;
  uint8_t captured = 0;                 // header bytes captured, options included
  uint16_t src_port = 0, dst_port = 0;  // 2, 4
  uint32_t seq = 0, ack = 0;            // 8, 12
  uint8_t header_length = 0;            // 13; bytes, options included
  uint16_t flags = 0;                   // 14; low 9 bits: NS CWR ECE URG ACK PSH RST SYN FIN
  uint16_t window = 0;                  // 16
  uint16_t checksum = 0;                // 18
  uint16_t urgent = 0;                  // 20
  // From the IP lengths, even if the capture holds fewer bytes (needs header_length).
  uint32_t payload_length = 0;
  // Options whose bytes were captured.
  bool has_mss = false;
  uint16_t mss = 0;
  bool has_window_scale = false;
  uint8_t window_scale = 0;
  bool sack_permitted = false;
  uint8_t sack_count = 0;
  std::array<SackBlock, kMaxSackBlocks> sack{};
  bool has_timestamp = false;
  bool has_ts_echo = false;  // false when the capture cut the option after its value
  uint32_t ts_value = 0, ts_echo = 0;
};

namespace tcp_flag {
inline constexpr uint16_t kFin = 0x001, kSyn = 0x002, kRst = 0x004, kPsh = 0x008, kAck = 0x010,
                          kUrg = 0x020, kEce = 0x040, kCwr = 0x080, kNs = 0x100;
}

struct UdpView {
  uint8_t captured = 0;                 // header bytes captured, up to 8
  uint16_t src_port = 0, dst_port = 0;  // 2, 4
  uint16_t length = 0;                  // 6; header included, as on the wire
  uint16_t checksum = 0;                // 8
};

// ICMP and ICMPv6 share this shape; PacketView::layers says which one it is.
struct IcmpView {
  uint8_t captured = 0;        // header bytes captured, up to 8
  uint8_t type = 0, code = 0;  // 1, 2
  uint16_t checksum = 0;       // 4
  // Echo request / reply carry an identifier (needs 6) and a sequence number (needs 8).
  bool has_echo = false;
  uint16_t echo_id = 0, echo_seq = 0;
};

struct DnsView {
  static constexpr int kMaxNameLength = 255;
  uint8_t captured = 0;   // header bytes captured, up to 12
  uint16_t id = 0;        // 2
  bool response = false;  // 4, with opcode and rcode
  uint8_t opcode = 0;
  uint8_t rcode = 0;
  // 6, 8, 10, 12
  uint16_t question_count = 0, answer_count = 0, authority_count = 0, additional_count = 0;
  bool has_qname = false;     // the first question's name was captured whole
  bool has_qtype = false;     // and its type
  bool has_question = false;  // and its class
  uint16_t qtype = 0, qclass = 0;
  // The first question's name in presentation form without the final dot ("example.com"),
  // labels joined by '.'; the root is empty. Bytes are kept raw: printers escape them.
  uint8_t qname_length = 0;
  std::array<char, kMaxNameLength> qname_buffer{};
  std::string_view qname() const { return {qname_buffer.data(), qname_length}; }
};

struct HttpRequestView {
  std::string_view method, path, version;  // "GET", "/index.html", "HTTP/1.1"
};

struct PacketView {
  int linktype = linktype::kEthernet;
  std::span<const uint8_t> bytes;  // what was captured
  uint32_t wire_length = 0;        // the packet's length on the wire (>= bytes.size())
  uint32_t layers = 0;             // Layer bits

  LinkView link;
  ArpView arp;
  Ipv4View ipv4;
  Ipv6View ipv6;
  IpAddress src, dst;  // of the IPv4 or IPv6 header
  // The transport protocol (after IPv6 extension headers) and the number of bytes the IP
  // header says follow it; ip_payload is what the capture holds of them.
  uint8_t ip_protocol = 0;
  uint32_t ip_payload_length = 0;
  std::span<const uint8_t> ip_payload;
  // Set for IPv4/IPv6 fragments other than the first: they carry no transport header.
  bool later_fragment = false;

  TcpView tcp;
  UdpView udp;
  IcmpView icmp;
  DnsView dns;
  HttpRequestView http;
  std::span<const uint8_t> payload;  // the transport payload as captured

  bool truncated = false;           // a header or a claimed length runs past the capture
  uint32_t partial = 0;             // Layer bits of the headers the capture cut (see Layer)
  const char* malformed = nullptr;  // static text naming what is wrong, e.g. "tcp header length"

  bool has(Layer layer) const { return (layers & layer) != 0; }
  bool is_ip() const { return (layers & (kLayerIpv4 | kLayerIpv6)) != 0; }
  // Both ports were captured.
  bool has_ports() const {
    return has(kLayerTcp) ? tcp.captured >= 4 : has(kLayerUdp) && udp.captured >= 4;
  }
  uint16_t src_port() const { return has(kLayerTcp) ? tcp.src_port : udp.src_port; }
  uint16_t dst_port() const { return has(kLayerTcp) ? tcp.dst_port : udp.dst_port; }
};

// Decodes `bytes` (one captured frame of the given DLT linktype; `wire_length` as pcap reports
// it, 0 meaning bytes.size()) into `view`, as far as the bytes allow. Never reads outside
// `bytes`, never allocates, never throws: problems end up in view.truncated / view.malformed.
void decode_packet(int linktype, std::span<const uint8_t> bytes, uint32_t wire_length,
                   PacketView& view);

// True for the link types decode_packet understands.
bool is_supported_linktype(int linktype);

}  // namespace netres::capture
