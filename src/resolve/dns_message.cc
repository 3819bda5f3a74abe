// DNS wire format: query building, reply parsing and answer summarizing.
#include "resolve/dns_message.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "resolve/dns_name.h"

namespace netres::resolve {

std::string type_name(uint16_t type) {
  switch (type) {
    case kTypeA:
      return "A";
    case kTypeNs:
      return "NS";
    case kTypeCname:
      return "CNAME";
    case kTypeSoa:
      return "SOA";
    case kTypePtr:
      return "PTR";
    case kTypeMx:
      return "MX";
    case kTypeTxt:
      return "TXT";
    case kTypeAaaa:
      return "AAAA";
    case kTypeSrv:
      return "SRV";
    case kTypeNaptr:
      return "NAPTR";
    case kTypeOpt:
      return "OPT";
    case kTypeSvcb:
      return "SVCB";
    case kTypeHttps:
      return "HTTPS";
    case kTypeCaa:
      return "CAA";
    default:
      return fmt::format("TYPE{}", type);
  }
}

std::optional<uint16_t> parse_query_type(std::string_view text) {
  std::string upper(text);
  for (char& c : upper)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  static constexpr uint16_t kAllowed[] = {kTypeA,     kTypeAaaa,  kTypeCname, kTypeMx,  kTypeTxt,
                                          kTypeNs,    kTypePtr,   kTypeSoa,   kTypeSrv, kTypeCaa,
                                          kTypeNaptr, kTypeHttps, kTypeSvcb};
  for (uint16_t t : kAllowed)
    if (type_name(t) == upper) return t;
  // RFC 3597's generic form: TYPE65400 for a type we have no name for (or one we do).
  std::string_view digits(upper);
  if (!digits.starts_with("TYPE") || digits.size() < 5 || digits.size() > 9) return std::nullopt;
  digits.remove_prefix(4);
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535 || value == kTypeOpt) return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::string rcode_name(int rcode) {
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                           "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                           "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode >= 0 && rcode < static_cast<int>(std::size(kNames))) return kNames[rcode];
  return fmt::format("RCODE{}", rcode);
}

namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxWireName = 255;
constexpr int kMaxPointerJumps = 64;  // belt and braces: backward-only pointers already terminate

// Reads from one message; every accessor fails instead of reading past the end.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> msg) : msg_(msg) {}

  size_t pos() const { return pos_; }
  void seek(size_t pos) { pos_ = pos; }
  size_t size() const { return msg_.size(); }
  const uint8_t* at(size_t pos) const { return msg_.data() + pos; }

  bool u8(uint8_t& v) {
    if (msg_.size() - pos_ < 1) return false;
    v = msg_[pos_++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (msg_.size() - pos_ < 2) return false;
    v = static_cast<uint16_t>(msg_[pos_] << 8 | msg_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& v) {
    if (msg_.size() - pos_ < 4) return false;
    v = static_cast<uint32_t>(msg_[pos_]) << 24 | static_cast<uint32_t>(msg_[pos_ + 1]) << 16 |
        static_cast<uint32_t>(msg_[pos_ + 2]) << 8 | msg_[pos_ + 3];
    pos_ += 4;
    return true;
  }

  // Reads a possibly compressed name at the current position into `out`, leaving the position
  // after the name's in-place bytes. Returns an error reason, or nullptr.
  const char* name(std::string& out) {
    out.clear();
    size_t p = pos_;
    // A pointer must target a spot before the run of labels it ends, so each jump moves strictly
    // backwards and no chain of pointers can cycle.
    size_t run_start = p;
    bool jumped = false;
    int jumps = 0;
    size_t wire_length = 1;  // the root terminator
    for (;;) {
      if (p >= msg_.size()) return "name runs past the end";
      uint8_t len = msg_[p];
      if ((len & 0xc0) == 0xc0) {
        if (p + 1 >= msg_.size()) return "truncated compression pointer";
        size_t target = static_cast<size_t>(len & 0x3f) << 8 | msg_[p + 1];
        if (!jumped) pos_ = p + 2;
        if (target >= run_start) return "compression pointer does not point backwards";
        if (++jumps > kMaxPointerJumps) return "too many compression pointers";
        jumped = true;
        p = target;
        run_start = target;
        continue;
      }
      if ((len & 0xc0) != 0) return "unsupported label type";
      if (len == 0) {
        if (!jumped) pos_ = p + 1;
        break;
      }
      if (msg_.size() - p - 1 < len) return "label runs past the end";
      wire_length += len + 1u;
      if (wire_length > kMaxWireName) return "name longer than 255 bytes";
      if (!out.empty()) out += '.';
      append_label(msg_.subspan(p + 1, len), out);
      p += 1 + len;
    }
    if (out.empty()) out = ".";
    return nullptr;
  }

 private:
  // dig's presentation: '.' and '\' inside a label escaped, unprintable bytes as \DDD.
  static void append_label(std::span<const uint8_t> label, std::string& out) {
    for (uint8_t c : label) {
      if (c == '.' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c > 0x20 && c < 0x7f) {
        out += static_cast<char>(c);
      } else {
        out += fmt::format("\\{:03d}", c);
      }
    }
  }

  std::span<const uint8_t> msg_;
  size_t pos_ = 0;
};

// RFC 3597's generic form as dig prints it: uppercase hex in groups of 28 bytes.
void append_hex_rdata(std::span<const uint8_t> rdata, std::string& out) {
  out += fmt::format("\\# {}", rdata.size());
  for (size_t i = 0; i < rdata.size(); ++i) {
    if (i % 28 == 0) out += ' ';
    out += fmt::format("{:02X}", rdata[i]);
  }
}

// One character-string's bytes in double quotes, '"' and '\' escaped, unprintables as \DDD.
void append_quoted(std::span<const uint8_t> bytes, std::string& out) {
  out += '"';
  for (uint8_t c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\{:03d}", c);
    }
  }
  out += '"';
}

// TXT character-strings, each quoted, space separated.
const char* render_txt(std::span<const uint8_t> rdata, std::string& out) {
  if (rdata.empty()) return "empty TXT record";
  size_t i = 0;
  while (i < rdata.size()) {
    size_t len = rdata[i];
    if (rdata.size() - i - 1 < len) return "TXT string runs past its record";
    if (!out.empty()) out += ' ';
    append_quoted(rdata.subspan(i + 1, len), out);
    i += 1 + len;
  }
  return nullptr;
}

// One length-prefixed character-string from the reader, quoted.
bool read_quoted(Reader& r, size_t end, std::string& out) {
  uint8_t len;
  if (r.pos() >= end || !r.u8(len) || end - r.pos() < len) return false;
  append_quoted({r.at(r.pos()), len}, out);
  r.seek(r.pos() + len);
  return true;
}

const char* kSvcKeys[] = {"mandatory", "alpn", "no-default-alpn", "port",
                          "ipv4hint",  "ech",  "ipv6hint"};

std::string svc_key_name(uint16_t key) {
  if (key < std::size(kSvcKeys)) return kSvcKeys[key];
  return fmt::format("key{}", key);
}

std::string base64(std::span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= bytes[i + 2];
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += i + 1 < bytes.size() ? kAlphabet[v >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// SVCB/HTTPS SvcParams (RFC 9460) in dig's presentation: key=value, values of lists comma
// separated, alpn ids with ',' and '\' escaped and then quoted as a character-string.
const char* render_svc_params(std::span<const uint8_t> params, std::string& out) {
  size_t i = 0;
  auto u16 = [&](size_t at) { return static_cast<uint16_t>(params[at] << 8 | params[at + 1]); };
  while (i < params.size()) {
    if (params.size() - i < 4) return "truncated SvcParam";
    uint16_t key = u16(i);
    uint16_t len = u16(i + 2);
    i += 4;
    if (params.size() - i < len) return "SvcParam value runs past its record";
    std::span<const uint8_t> v = params.subspan(i, len);
    i += len;
    out += ' ';
    out += svc_key_name(key);
    switch (key) {
      case 0: {  // mandatory: a list of keys
        if (len == 0 || len % 2) return "bad mandatory SvcParam";
        out += '=';
        for (size_t k = 0; k < len; k += 2) {
          if (k) out += ',';
          out += svc_key_name(static_cast<uint16_t>(v[k] << 8 | v[k + 1]));
        }
        break;
      }
      case 1: {  // alpn: length-prefixed ids
        std::vector<uint8_t> joined;
        size_t k = 0;
        if (len == 0) return "empty alpn SvcParam";
        while (k < len) {
          size_t id_len = v[k];
          if (id_len == 0 || len - k - 1 < id_len) return "bad alpn SvcParam";
          if (!joined.empty()) joined.push_back(',');
          for (size_t c = k + 1; c < k + 1 + id_len; ++c) {
            if (v[c] == ',' || v[c] == '\\') joined.push_back('\\');
            joined.push_back(v[c]);
          }
          k += 1 + id_len;
        }
        out += '=';
        append_quoted(joined, out);
        break;
      }
      case 2:  // no-default-alpn: no value
        if (len != 0) return "bad no-default-alpn SvcParam";
        break;
      case 3:
        if (len != 2) return "bad port SvcParam";
        out += fmt::format("={}", static_cast<uint16_t>(v[0] << 8 | v[1]));
        break;
      case 4:
      case 6: {
        size_t size = key == 4 ? 4 : 16;
        if (len == 0 || len % size) return "bad address hint SvcParam";
        out += '=';
        for (size_t k = 0; k < len; k += size) {
          char text[INET6_ADDRSTRLEN];
          inet_ntop(key == 4 ? AF_INET : AF_INET6, v.data() + k, text, sizeof text);
          if (k) out += ',';
          out += text;
        }
        break;
      }
      case 5:
        out += '=' + base64(v);
        break;
      default:
        if (len > 0) {
          out += '=';
          append_quoted(v, out);
        }
        break;
    }
  }
  return nullptr;
}

const char* read_record(Reader& r, DnsRecord& rec) {
  if (const char* err = r.name(rec.name)) return err;
  uint16_t rdlength;
  if (!r.u16(rec.type) || !r.u16(rec.klass) || !r.u32(rec.ttl) || !r.u16(rdlength))
    return "truncated record header";
  size_t start = r.pos();
  if (r.size() - start < rdlength) return "record data runs past the end";
  size_t end = start + rdlength;
  std::span<const uint8_t> rdata(r.at(start), rdlength);
  rec.data.clear();
  switch (rec.type) {
    case kTypeA:
    case kTypeAaaa: {
      size_t want = rec.type == kTypeA ? 4 : 16;
      if (rdlength != want) return "address record of the wrong length";
      char text[INET6_ADDRSTRLEN];
      inet_ntop(rec.type == kTypeA ? AF_INET : AF_INET6, rdata.data(), text, sizeof text);
      rec.data = text;
      break;
    }
    case kTypeCname:
    case kTypeNs:
    case kTypePtr:
    case kTypeMx: {
      if (rec.type == kTypeMx) {
        uint16_t preference;
        if (rdlength < 3 || !r.u16(preference)) return "truncated MX record";
        rec.data = fmt::format("{} ", preference);
      }
      std::string target;
      if (const char* err = r.name(target)) return err;
      if (r.pos() != end) return "name does not fill its record";
      rec.data += target;
      break;
    }
    case kTypeTxt:
      if (const char* err = render_txt(rdata, rec.data)) return err;
      break;
    case kTypeSoa: {
      std::string mname, rname;
      if (const char* err = r.name(mname)) return err;
      if (const char* err = r.name(rname)) return err;
      if (r.pos() > end) return "SOA names run past their record";
      uint32_t v[5];
      for (uint32_t& x : v)
        if (end - r.pos() < 4 || !r.u32(x)) return "truncated SOA record";
      if (r.pos() != end) return "SOA record longer than its fields";
      rec.data = fmt::format("{} {} {} {} {} {} {}", mname, rname, v[0], v[1], v[2], v[3], v[4]);
      break;
    }
    case kTypeSrv: {
      uint16_t priority, weight, port;
      if (rdlength < 7 || !r.u16(priority) || !r.u16(weight) || !r.u16(port))
        return "truncated SRV record";
      std::string target;
      if (const char* err = r.name(target)) return err;
      if (r.pos() != end) return "name does not fill its record";
      rec.data = fmt::format("{} {} {} {}", priority, weight, port, target);
      break;
    }
    case kTypeCaa: {
      uint8_t flags, tag_len;
      if (!r.u8(flags) || !r.u8(tag_len) || rdlength < 2u + tag_len || tag_len == 0)
        return "truncated CAA record";
      rec.data = fmt::format("{} ", flags);
      for (size_t k = 0; k < tag_len; ++k) {
        auto c = static_cast<char>(rdata[2 + k]);
        if (!std::isalnum(static_cast<unsigned char>(c))) return "CAA tag not alphanumeric";
        rec.data += c;
      }
      rec.data += ' ';
      append_quoted(rdata.subspan(2 + tag_len), rec.data);
      break;
    }
    case kTypeNaptr: {
      uint16_t order, preference;
      if (rdlength < 4 || !r.u16(order) || !r.u16(preference)) return "truncated NAPTR record";
      rec.data = fmt::format("{} {}", order, preference);
      for (int k = 0; k < 3; ++k) {
        rec.data += ' ';
        if (!read_quoted(r, end, rec.data)) return "truncated NAPTR record";
      }
      std::string replacement;
      if (r.pos() >= end) return "truncated NAPTR record";
      if (const char* err = r.name(replacement)) return err;
      if (r.pos() != end) return "name does not fill its record";
      rec.data += ' ' + replacement;
      break;
    }
    case kTypeSvcb:
    case kTypeHttps: {
      uint16_t priority;
      if (rdlength < 3 || !r.u16(priority)) return "truncated SVCB record";
      std::string target;
      if (const char* err = r.name(target)) return err;
      if (r.pos() > end) return "SVCB target runs past its record";
      rec.data = fmt::format("{} {}", priority, target);
      if (const char* err = render_svc_params({r.at(r.pos()), end - r.pos()}, rec.data)) return err;
      break;
    }
    default:
      append_hex_rdata(rdata, rec.data);
      break;
  }
  r.seek(end);
  return nullptr;
}

}  // namespace

std::optional<DnsMessage> parse_dns_message(std::span<const uint8_t> bytes, std::string* error) {
  auto fail = [&](std::string_view why) -> std::optional<DnsMessage> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (bytes.size() < kHeaderSize) return fail("shorter than a DNS header");
  Reader r(bytes);
  DnsMessage m;
  uint16_t flags, qdcount, ancount, nscount, arcount;
  r.u16(m.id);
  r.u16(flags);
  r.u16(qdcount);
  r.u16(ancount);
  r.u16(nscount);
  r.u16(arcount);
  m.response = flags & 0x8000;
  m.opcode = (flags >> 11) & 0x0f;
  m.authoritative = flags & 0x0400;
  m.truncated = flags & 0x0200;
  m.recursion_desired = flags & 0x0100;
  m.recursion_available = flags & 0x0080;
  m.rcode = flags & 0x000f;

  // Counts come from the sender; reserve only what the bytes could possibly hold.
  auto cap = [&](uint16_t count, size_t min_size) {
    return std::min<size_t>(count, (bytes.size() - kHeaderSize) / min_size);
  };
  m.questions.reserve(cap(qdcount, 5));
  for (uint16_t i = 0; i < qdcount; ++i) {
    DnsQuestion q;
    if (const char* err = r.name(q.name)) return fail(fmt::format("question: {}", err));
    if (!r.u16(q.type) || !r.u16(q.klass)) return fail("truncated question");
    m.questions.push_back(std::move(q));
  }
  struct Section {
    uint16_t count;
    std::vector<DnsRecord>* records;
    const char* what;
  };
  for (const Section& s :
       {Section{ancount, &m.answers, "answer"}, Section{nscount, &m.authority, "authority"},
        Section{arcount, &m.additional, "additional"}}) {
    s.records->reserve(cap(s.count, 11));
    for (uint16_t i = 0; i < s.count; ++i) {
      DnsRecord rec;
      if (const char* err = read_record(r, rec))
        return fail(fmt::format("{} record {}: {}", s.what, i + 1, err));
      s.records->push_back(std::move(rec));
    }
  }
  return m;
}

std::vector<uint8_t> build_dns_query(std::string_view name, uint16_t type, uint16_t id) {
  std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8),
                            static_cast<uint8_t>(id),
                            0x01,
                            0x00,  // RD
                            0,
                            1,
                            0,
                            0,
                            0,
                            0,
                            0,
                            0};  // one question
  if (!encode_name(name, q)) return {};
  q.push_back(static_cast<uint8_t>(type >> 8));
  q.push_back(static_cast<uint8_t>(type));
  q.push_back(0);
  q.push_back(1);  // class IN
  return q;
}

AnswerSummary summarize_answers(const DnsMessage& message, std::string_view qname, uint16_t qtype) {
  constexpr int kMaxChain = 16;
  AnswerSummary s;
  auto note_ttl = [&](uint32_t ttl) { s.min_ttl = s.min_ttl ? std::min(*s.min_ttl, ttl) : ttl; };
  std::string current(qname);
  if (qtype != kTypeCname) {
    for (int hop = 0; hop < kMaxChain; ++hop) {
      const DnsRecord* next = nullptr;
      for (const DnsRecord& rec : message.answers)
        if (rec.type == kTypeCname && same_name(rec.name, current)) {
          next = &rec;
          break;
        }
      if (next == nullptr) break;
      bool seen = same_name(next->data, qname);
      for (const std::string& n : s.cname_chain) seen = seen || same_name(n, next->data);
      if (seen) break;
      note_ttl(next->ttl);
      s.cname_chain.push_back(next->data);
      current = next->data;
    }
  }
  for (const DnsRecord& rec : message.answers)
    if (rec.type == qtype && same_name(rec.name, current)) {
      note_ttl(rec.ttl);
      s.records.push_back(rec);
    }
  return s;
}

}  // namespace netres::resolve
