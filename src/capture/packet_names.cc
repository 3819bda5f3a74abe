// Name tables: DNS types, ICMP and ICMPv6 types, IPv6 extension headers, IP protocols and DNS
// response codes, as the summary lines and the NDJSON print them.
#include "capture/packet_text.h"
#include "capture/packet_text_internal.h"

namespace netres::capture {
namespace text {

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

std::string_view ip_protocol_label(uint8_t proto) {
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

}  // namespace text

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
