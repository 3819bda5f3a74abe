// DNS messages on the wire (RFC 1035): a query builder and a bounds-checked parser for replies,
// which are untrusted bytes. Record data is rendered as text the way dig shows it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netres::resolve {

enum RecordType : uint16_t {
  kTypeA = 1,
  kTypeNs = 2,
  kTypeCname = 5,
  kTypeSoa = 6,
  kTypePtr = 12,
  kTypeMx = 15,
  kTypeTxt = 16,
  kTypeAaaa = 28,
  kTypeSrv = 33,
  kTypeNaptr = 35,
  kTypeOpt = 41,
  kTypeSvcb = 64,
  kTypeHttps = 65,
  kTypeCaa = 257,
};

enum Rcode : int {
  kRcodeNoError = 0,
  kRcodeFormErr = 1,
  kRcodeServFail = 2,
  kRcodeNxDomain = 3,
  kRcodeNotImp = 4,
  kRcodeRefused = 5,
};

// "A", "AAAA", ... for known types, "TYPE<n>" otherwise (RFC 3597).
std::string type_name(uint16_t type);
// The record types a user may ask for, case-insensitive: A, AAAA, CNAME, MX, TXT, NS, PTR, SOA,
// SRV, CAA, NAPTR, HTTPS, SVCB, and any other as TYPE<n> (1-65535, but not OPT's 41).
std::optional<uint16_t> parse_query_type(std::string_view text);
// "NOERROR", "NXDOMAIN", ... and "RCODE<n>" for the rest.
std::string rcode_name(int rcode);

struct DnsQuestion {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;
};

struct DnsRecord {
  std::string name;  // owner, without the trailing dot ("." for the root)
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  // As dig shows it, names without their trailing dot. A/AAAA: the address; CNAME/NS/PTR: the
  // target; MX: "10 mail.example"; TXT: each string quoted, space separated; SOA: "mname rname
  // serial refresh retry expire minimum"; SRV: "priority weight port target"; CAA: 'flags tag
  // "value"'; NAPTR: 'order preference "flags" "services" "regexp" replacement'; SVCB/HTTPS:
  // 'priority target key=value ...'; anything else: RFC 3597 "\# <len> <HEX>".
  std::string data;
};

struct DnsMessage {
  uint16_t id = 0;
  bool response = false;
  int opcode = 0;
  bool authoritative = false;
  bool truncated = false;
  bool recursion_desired = false;
  bool recursion_available = false;
  int rcode = 0;  // the header's 4 bits (extended rcodes from OPT are not merged)
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authority;
  std::vector<DnsRecord> additional;
};

// Parses a complete message. Every read is bounds-checked; compression pointers must point
// strictly backwards (so they cannot loop) and a name may not exceed 255 wire bytes. On
// failure returns nullopt and, if `error` is given, a short reason ("truncated answer record").
std::optional<DnsMessage> parse_dns_message(std::span<const uint8_t> bytes,
                                            std::string* error = nullptr);

// A recursive query (RD set) for one name and type, class IN, no EDNS. `name` must pass
// name_problem(); returns an empty vector otherwise.
std::vector<uint8_t> build_dns_query(std::string_view name, uint16_t type, uint16_t id);

// What a reply says about (qname, qtype): the CNAME chain from qname and the records of qtype
// at its end. A chain that loops or exceeds 16 hops stops there.
struct AnswerSummary {
  std::vector<std::string> cname_chain;  // names after qname, in order
  std::vector<DnsRecord> records;        // of qtype, owned by the last name in the chain
  std::optional<uint32_t> min_ttl;       // over the chain's CNAMEs and `records`
};
AnswerSummary summarize_answers(const DnsMessage& message, std::string_view qname, uint16_t qtype);

}  // namespace netres::resolve
