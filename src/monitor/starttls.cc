// The STARTTLS dialogues. Each reply is parsed as its RFC has it (SMTP RFC 5321 4.2, FTP RFC 959
// 4.2 and RFC 4217, IMAP RFC 9051, POP3 RFC 2449/2595, PostgreSQL's SSLRequest, LDAP RFC 4511
// 4.14, XMPP RFC 6120 5.4) and bounded (StarttlsLimits). Anything after the server's go-ahead and
// before TLS is refused: a man in the middle can append commands there that the client would
// otherwise read as if they came over TLS (CVE-2011-0411 and its kin).
#include "monitor/starttls.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

namespace netres::monitor {

namespace {

constexpr std::array<std::pair<std::string_view, StarttlsProtocol>, 7> kProtocols{{
    {"smtp", StarttlsProtocol::kSmtp},
    {"imap", StarttlsProtocol::kImap},
    {"pop3", StarttlsProtocol::kPop3},
    {"ftp", StarttlsProtocol::kFtp},
    {"postgres", StarttlsProtocol::kPostgres},
    {"ldap", StarttlsProtocol::kLdap},
    {"xmpp", StarttlsProtocol::kXmpp},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// The first space-separated word of s after skipping `skip` bytes.
std::string_view word(std::string_view s, size_t skip = 0) {
  if (skip >= s.size()) return {};
  s.remove_prefix(skip);
  size_t sp = s.find(' ');
  return sp == std::string_view::npos ? s : s.substr(0, sp);
}

// Splits on spaces, dropping empties.
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t sp = s.find(' ');
    std::string_view w = s.substr(0, sp);
    if (!w.empty()) out.push_back(w);
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i];
  }
  return printable(out);
}

// SMTP/FTP: "DDD", "DDD text" or "DDD-text" with a first digit 1-5.
bool is_coded(std::string_view l) {
  return l.size() >= 3 && l[0] >= '1' && l[0] <= '5' && std::isdigit((unsigned char)l[1]) &&
         std::isdigit((unsigned char)l[2]) && (l.size() == 3 || l[3] == ' ' || l[3] == '-');
}

int code_of(std::string_view l) { return (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0'); }

// IMAP: a line ending in a literal announcement "{123}" or "{123+}" is followed by raw bytes;
// no reply this dialogue waits for has one, so it is refused rather than half parsed.
bool ends_with_literal(std::string_view l) {
  if (l.empty() || l.back() != '}') return false;
  size_t open = l.rfind('{');
  if (open == std::string_view::npos) return false;
  std::string_view n = l.substr(open + 1, l.size() - open - 2);
  if (!n.empty() && n.back() == '+') n.remove_suffix(1);
  if (n.empty()) return false;
  for (char c : n)
    if (!std::isdigit((unsigned char)c)) return false;
  return true;
}

// The LDAP StartTLS extended request (RFC 4511 4.14.1), messageID 1:
// LDAPMessage ::= SEQUENCE { messageID 1, [APPLICATION 23] { [0] "1.3.6.1.4.1.1466.20037" } }
constexpr std::string_view kLdapStartTlsOid = "1.3.6.1.4.1.1466.20037";
std::string ldap_starttls_request() {
  std::string oid(kLdapStartTlsOid);
  std::string req;
  req += '\x80';
  req += static_cast<char>(oid.size());
  req += oid;
  std::string op;
  op += '\x77';
  op += static_cast<char>(req.size());
  op += req;
  std::string msg = std::string("\x02\x01\x01", 3) + op;
  std::string out;
  out += '\x30';
  out += static_cast<char>(msg.size());
  out += msg;
  return out;
}

// One BER element's header at the front of b: 1 complete header, 0 more bytes needed, -1 not a
// header LDAP may send (high-tag-number form, indefinite length, a length over 3 bytes).
int ber_header(std::string_view b, uint8_t& tag, size_t& header, size_t& length) {
  if (b.size() < 2) return 0;
  tag = static_cast<uint8_t>(b[0]);
  if ((tag & 0x1f) == 0x1f) return -1;
  uint8_t l = static_cast<uint8_t>(b[1]);
  if (l < 0x80) {
    header = 2;
    length = l;
    return 1;
  }
  size_t n = l & 0x7f;
  if (n == 0 || n > 3) return -1;
  if (b.size() < 2 + n) return 0;
  length = 0;
  for (size_t i = 0; i < n; ++i) length = (length << 8) | static_cast<uint8_t>(b[2 + i]);
  header = 2 + n;
  return 1;
}

// A complete element inside an already complete parent: its tag and contents, or false.
bool ber_take(std::string_view& b, uint8_t& tag, std::string_view& contents) {
  size_t header = 0, length = 0;
  if (ber_header(b, tag, header, length) != 1) return false;
  if (b.size() - header < length) return false;
  contents = b.substr(header, length);
  b.remove_prefix(header + length);
  return true;
}

bool ber_integer(std::string_view c, int64_t& out) {
  if (c.empty() || c.size() > 4) return false;
  int64_t v = (static_cast<uint8_t>(c[0]) & 0x80) ? -1 : 0;
  for (char ch : c) v = (v << 8) | static_cast<uint8_t>(ch);
  out = v;
  return true;
}

std::string_view ldap_result_name(int64_t code) {
  switch (code) {
    case 1:
      return "operationsError";
    case 2:
      return "protocolError";
    case 12:
      return "unavailableCriticalExtension";
    case 51:
      return "busy";
    case 52:
      return "unavailable";
    case 53:
      return "unwillingToPerform";
    case 80:
      return "other";
    default:
      return "";
  }
}

// XMPP: the end of the first element named `name` (with its prefix) from `from`, self-closed or
// closed by its end tag: the index after it, or npos while incomplete.
size_t xml_element_end(std::string_view s, size_t start, std::string_view name) {
  size_t gt = s.find('>', start);
  if (gt == std::string_view::npos) return std::string_view::npos;
  if (s[gt - 1] == '/') return gt + 1;
  std::string close = fmt::format("</{}>", name);
  size_t end = s.find(close, gt);
  return end == std::string_view::npos ? std::string_view::npos : end + close.size();
}

constexpr std::string_view kXmppTlsNs = "urn:ietf:params:xml:ns:xmpp-tls";

// "<stream:error><host-unknown .../><text ...>why</text></stream:error>" -> "host-unknown (why)":
// the condition (the first child element, RFC 6120 4.9.3) and the optional text.
std::string xmpp_error_text(std::string_view e) {
  size_t open = e.find('>');
  size_t child = open == std::string_view::npos ? open : e.find('<', open);
  if (child == std::string_view::npos || child + 1 >= e.size() || e[child + 1] == '/')
    return printable(e);
  size_t name_end = e.find_first_of(" />", child + 1);
  std::string out = printable(e.substr(child + 1, name_end - child - 1));
  size_t text = e.find("<text");
  size_t text_start = text == std::string_view::npos ? text : e.find('>', text);
  size_t text_end = e.find("</text>");
  if (text_start != std::string_view::npos && text_end != std::string_view::npos &&
      text_end > text_start)
    out += " (" + printable(e.substr(text_start + 1, text_end - text_start - 1)) + ")";
  return out;
}

}  // namespace

std::optional<StarttlsProtocol> parse_starttls_protocol(std::string_view name) {
  for (const auto& [n, p] : kProtocols)
    if (n == name) return p;
  return std::nullopt;
}

std::string_view starttls_protocol_name(StarttlsProtocol p) {
  for (const auto& [n, q] : kProtocols)
    if (q == p) return n;
  return "?";
}

std::string_view starttls_protocol_names() { return "smtp, imap, pop3, ftp, postgres, ldap, xmpp"; }

bool starttls_has_greeting(StarttlsProtocol p) {
  return p == StarttlsProtocol::kSmtp || p == StarttlsProtocol::kImap ||
         p == StarttlsProtocol::kPop3 || p == StarttlsProtocol::kFtp;
}

std::string printable(std::string_view s, size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max) + 3);
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (s.size() > max) out += "...";
  return out;
}

StarttlsDialogue::StarttlsDialogue(StarttlsProtocol p, std::string host, std::string client_name)
    : proto_(p), host_(std::move(host)), client_name_(std::move(client_name)) {}

StarttlsDialogue::Action StarttlsDialogue::start() {
  switch (proto_) {
    case StarttlsProtocol::kPostgres:
      // SSLRequest: length 8, code 80877103 (1234 << 16 | 5679), big-endian.
      return {State::kRead, std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8)};
    case StarttlsProtocol::kLdap:
      return {State::kRead, ldap_starttls_request()};
    case StarttlsProtocol::kXmpp:
      return {State::kRead,
              fmt::format("<?xml version='1.0'?><stream:stream to='{}' version='1.0' "
                          "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
                          host_)};
    default:
      return {State::kRead, {}};  // the server speaks first
  }
}

StarttlsDialogue::Action StarttlsDialogue::fail(std::string reason, std::string detail) {
  done_ = true;
  reason_ = std::move(reason);
  detail_ = std::move(detail);
  return {State::kFail, {}};
}

StarttlsDialogue::Action StarttlsDialogue::ok_to_tls(std::string what) {
  if (!buf_.empty())
    return fail("protocol",
                fmt::format("{} bytes after the go-ahead ({}) and before TLS", buf_.size(), what));
  done_ = true;
  return {State::kTls, {}};
}

std::optional<std::string> StarttlsDialogue::take_line() {
  size_t nl = buf_.find('\n');
  if (nl == std::string::npos) {
    if (buf_.size() > StarttlsLimits::kMaxLine)
      fail("protocol", fmt::format("a line longer than {} bytes", StarttlsLimits::kMaxLine));
    return std::nullopt;
  }
  if (nl > StarttlsLimits::kMaxLine + 1) {
    fail("protocol", fmt::format("a line longer than {} bytes", StarttlsLimits::kMaxLine));
    return std::nullopt;
  }
  std::string line = buf_.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  buf_.erase(0, nl + 1);
  return line;
}

StarttlsDialogue::Action StarttlsDialogue::feed(std::string_view bytes) {
  if (done_) return {State::kFail, {}};
  received_ += bytes.size();
  if (received_ > StarttlsLimits::kMaxBytes)
    return fail("protocol",
                fmt::format("more than {} KiB before TLS", StarttlsLimits::kMaxBytes / 1024));
  buf_.append(bytes);
  switch (proto_) {
    case StarttlsProtocol::kPostgres:
      return step_postgres();
    case StarttlsProtocol::kLdap:
      return step_ldap();
    case StarttlsProtocol::kXmpp:
      return step_xmpp();
    default:
      break;
  }
  // Each pass takes one line off buf_, so this ends; a reply (SMTP, FTP, POP3 CAPA) or the
  // untagged lines before an IMAP completion are capped at kMaxReplyLines.
  while (true) {
    std::optional<std::string> line = take_line();
    if (done_) return {State::kFail, {}};
    if (!line) return {State::kRead, {}};
    if (++lines_read_ > StarttlsLimits::kMaxReplyLines)
      return fail("protocol",
                  fmt::format("a reply longer than {} lines", StarttlsLimits::kMaxReplyLines));
    Action a;
    switch (proto_) {
      case StarttlsProtocol::kSmtp:
        a = step_smtp(*line);
        break;
      case StarttlsProtocol::kFtp:
        a = step_ftp(*line);
        break;
      case StarttlsProtocol::kImap:
        a = step_imap(*line);
        break;
      default:
        a = step_pop3(*line);
        break;
    }
    if (!a.send.empty()) lines_read_ = 0;  // a new command: a new reply
    // After a command the caller writes it and feeds nothing to go on with what is buffered.
    if (a.state != State::kRead || !a.send.empty()) return a;
  }
}

bool StarttlsDialogue::coded_line(const std::string& line, bool ftp) {
  if (!in_reply_) {
    if (!is_coded(line)) {
      fail("protocol", fmt::format("not a reply line: '{}'", printable(line)));
      return false;
    }
    code_ = code_of(line);
    lines_ = {printable(line)};
    if (line.size() > 3 && line[3] == '-') {
      in_reply_ = true;
      return false;
    }
    return true;
  }
  lines_.push_back(printable(line));
  if (ftp) {
    // RFC 959: the lines between "DDD-" and "DDD " are free text.
    if (is_coded(line) && code_of(line) == code_ && (line.size() == 3 || line[3] == ' ')) {
      in_reply_ = false;
      return true;
    }
    return false;
  }
  if (!is_coded(line) || code_of(line) != code_) {
    fail("protocol", fmt::format("a line of reply {} that is not '{}-' or '{} ': '{}'", code_,
                                 code_, code_, printable(line)));
    return false;
  }
  if (line.size() > 3 && line[3] == '-') return false;
  in_reply_ = false;
  return true;
}

StarttlsDialogue::Action StarttlsDialogue::step_smtp(const std::string& line) {
  if (!coded_line(line, false)) return {done_ ? State::kFail : State::kRead, {}};
  switch (stage_) {
    case 0:
      greeting_ = lines_;
      greeting_done_ = true;
      if (code_ != 220) return fail("starttls", "greeting: " + joined(lines_));
      stage_ = 1;
      return {State::kRead, fmt::format("EHLO {}\r\n", client_name_)};
    case 1: {
      if (code_ != 250) return fail("starttls", "EHLO refused: " + joined(lines_));
      // Line 0 is the server's name; each further line is one extension keyword and its
      // parameters.
      for (size_t i = 1; i < lines_.size(); ++i)
        if (iequals(word(lines_[i], 4), "STARTTLS")) {
          stage_ = 2;
          return {State::kRead, "STARTTLS\r\n"};
        }
      std::vector<std::string> keywords;
      for (size_t i = 1; i < lines_.size(); ++i) keywords.emplace_back(word(lines_[i], 4));
      std::string list;
      for (const auto& k : keywords) list += (list.empty() ? "" : " ") + k;
      return fail("starttls", fmt::format("the server does not offer STARTTLS (EHLO: {})",
                                          printable(list.empty() ? "no extensions" : list)));
    }
    default:
      if (code_ != 220) return fail("starttls", "STARTTLS refused: " + joined(lines_));
      return ok_to_tls(fmt::format("{}", code_));
  }
}

StarttlsDialogue::Action StarttlsDialogue::step_ftp(const std::string& line) {
  if (!coded_line(line, true)) return {done_ ? State::kFail : State::kRead, {}};
  if (stage_ == 0) {
    if (code_ / 100 == 1) return {State::kRead, {}};  // "120 ready in n minutes": wait for 220
    greeting_ = lines_;
    greeting_done_ = true;
    if (code_ != 220) return fail("starttls", "greeting: " + joined(lines_));
    stage_ = 1;
    return {State::kRead, "AUTH TLS\r\n"};
  }
  if (code_ != 234) return fail("starttls", "AUTH TLS refused: " + joined(lines_));
  return ok_to_tls("234");
}

StarttlsDialogue::Action StarttlsDialogue::step_imap(const std::string& line) {
  if (ends_with_literal(line))
    return fail("protocol", fmt::format("an IMAP literal before TLS: '{}'", printable(line)));
  const bool untagged = line.starts_with("* ");
  if (stage_ == 0) {
    std::string_view status = untagged ? word(line, 2) : std::string_view{};
    greeting_ = {printable(line)};
    greeting_done_ = true;
    if (iequals(status, "OK")) {
      stage_ = 1;
      return {State::kRead, "N1 CAPABILITY\r\n"};
    }
    if (iequals(status, "PREAUTH"))
      return fail("starttls",
                  "the server pre-authenticated the connection (STARTTLS is not "
                  "allowed after PREAUTH): " +
                      printable(line));
    if (iequals(status, "BYE")) return fail("starttls", "greeting: " + printable(line));
    return fail("protocol", fmt::format("not an IMAP greeting: '{}'", printable(line)));
  }
  if (untagged) {
    if (stage_ == 1 && iequals(word(line, 2), "CAPABILITY"))
      for (auto w : words(std::string_view(line).substr(2 + 10))) lines_.emplace_back(w);
    return {State::kRead, {}};  // other untagged data is allowed at any time; not ours
  }
  const std::string_view tag = stage_ == 1 ? "N1" : "N2";
  if (word(line) != tag)
    return fail("protocol", fmt::format("unexpected IMAP line: '{}'", printable(line)));
  std::string_view status = word(line, tag.size() + 1);
  const bool ok = iequals(status, "OK");
  if (!ok && !iequals(status, "NO") && !iequals(status, "BAD"))
    return fail("protocol", fmt::format("not an IMAP completion: '{}'", printable(line)));
  if (stage_ == 1) {
    if (!ok) return fail("starttls", "CAPABILITY refused: " + printable(line));
    for (const auto& cap : lines_)
      if (iequals(cap, "STARTTLS")) {
        stage_ = 2;
        return {State::kRead, "N2 STARTTLS\r\n"};
      }
    return fail("starttls", fmt::format("the server does not offer STARTTLS (CAPABILITY: {})",
                                        lines_.empty() ? std::string("none") : printable([&] {
                                          std::string s;
                                          for (const auto& c : lines_)
                                            s += (s.empty() ? "" : " ") + c;
                                          return s;
                                        }())));
  }
  if (!ok) return fail("starttls", "STARTTLS refused: " + printable(line));
  return ok_to_tls("OK");
}

StarttlsDialogue::Action StarttlsDialogue::step_pop3(const std::string& line) {
  auto status = [&line]() -> int {  // 1 +OK, -1 -ERR, 0 neither
    if (line.starts_with("+OK") && (line.size() == 3 || line[3] == ' ')) return 1;
    if (line.starts_with("-ERR") && (line.size() == 4 || line[4] == ' ')) return -1;
    return 0;
  };
  switch (stage_) {
    case 0: {
      int s = status();
      greeting_ = {printable(line)};
      greeting_done_ = true;
      if (s == 1) {
        stage_ = 1;
        return {State::kRead, "CAPA\r\n"};
      }
      if (s == -1) return fail("starttls", "greeting: " + printable(line));
      return fail("protocol", fmt::format("not a POP3 greeting: '{}'", printable(line)));
    }
    case 1: {
      int s = status();
      if (s == 1) {
        stage_ = 2;
        return {State::kRead, {}};
      }
      if (s == -1) {  // no CAPA (RFC 1939 servers): STLS may still work
        stage_ = 3;
        return {State::kRead, "STLS\r\n"};
      }
      return fail("protocol", fmt::format("not a reply to CAPA: '{}'", printable(line)));
    }
    case 2: {
      if (line != ".") {
        // Dot-stuffing (RFC 1939 3): a line starting with '.' has another one put before it.
        lines_.push_back(printable(line.starts_with('.') ? line.substr(1) : line));
        return {State::kRead, {}};
      }
      for (const auto& cap : lines_)
        if (iequals(word(cap), "STLS")) {
          stage_ = 3;
          return {State::kRead, "STLS\r\n"};
        }
      std::string list;
      for (const auto& c : lines_) list += (list.empty() ? "" : " ") + std::string(word(c));
      return fail("starttls", fmt::format("the server does not offer STLS (CAPA: {})",
                                          list.empty() ? "none" : printable(list)));
    }
    default: {
      int s = status();
      if (s == 1) return ok_to_tls("+OK");
      if (s == -1) return fail("starttls", "STLS refused: " + printable(line));
      return fail("protocol", fmt::format("not a reply to STLS: '{}'", printable(line)));
    }
  }
}

StarttlsDialogue::Action StarttlsDialogue::step_postgres() {
  if (buf_.empty()) return {State::kRead, {}};
  const char c = buf_[0];
  if (c == 'S') {
    buf_.erase(0, 1);
    return ok_to_tls("S");
  }
  if (c == 'N')
    return fail("starttls", "the server does not accept SSL (it answered N to SSLRequest)");
  if (c == 'E')  // servers before 7.0, or one that failed at once
    return fail("starttls", "the server answered SSLRequest with an error");
  return fail("protocol",
              fmt::format("not an answer to SSLRequest: byte 0x{:02x}", static_cast<uint8_t>(c)));
}

StarttlsDialogue::Action StarttlsDialogue::step_ldap() {
  uint8_t tag = 0;
  size_t header = 0, length = 0;
  int h = ber_header(buf_, tag, header, length);
  if (h == 0) return {State::kRead, {}};
  if (h < 0 || tag != 0x30)
    return fail("protocol", "not an LDAP message (a BER SEQUENCE) in reply to StartTLS");
  if (length > StarttlsLimits::kMaxBytes)
    return fail("protocol", fmt::format("an LDAP message of {} bytes", length));
  if (buf_.size() - header < length) return {State::kRead, {}};
  std::string_view msg = std::string_view(buf_).substr(header, length);
  std::string_view id_bytes, op, field;
  uint8_t id_tag = 0, op_tag = 0, t = 0;
  int64_t id = 0, code = 0;
  if (!ber_take(msg, id_tag, id_bytes) || id_tag != 0x02 || !ber_integer(id_bytes, id) ||
      !ber_take(msg, op_tag, op))
    return fail("protocol", "a malformed LDAP message in reply to StartTLS");
  // ExtendedResponse ::= [APPLICATION 24] { resultCode ENUMERATED, matchedDN, diagnosticMessage,
  // ... }
  if (op_tag != 0x78)
    return fail(
        "protocol",
        fmt::format("not an LDAP ExtendedResponse (tag 0x{:02x}) in reply to StartTLS", op_tag));
  std::string_view dn, diag;
  if (!ber_take(op, t, field) || t != 0x0a || !ber_integer(field, code) || code < 0 ||
      !ber_take(op, t, dn) || t != 0x04 || !ber_take(op, t, diag) || t != 0x04)
    return fail("protocol", "a malformed LDAP ExtendedResponse in reply to StartTLS");
  std::string result = fmt::format("resultCode {}", code);
  if (auto name = ldap_result_name(code); !name.empty()) result += fmt::format(" ({})", name);
  if (!diag.empty()) result += fmt::format(": {}", printable(diag));
  if (id == 0)  // an unsolicited notification: the notice of disconnection
    return fail("starttls", "the server disconnected: " + result);
  if (id != 1)
    return fail("protocol", fmt::format("an LDAP reply to message {}, not to StartTLS (1)", id));
  if (code != 0) return fail("starttls", "StartTLS refused: " + result);
  buf_.erase(0, header + length);
  return ok_to_tls("LDAP success");
}

StarttlsDialogue::Action StarttlsDialogue::step_xmpp() {
  // Not a full XML parser: the server's stream header, then <stream:features> (or an error),
  // then <proceed/> or <failure/>; the element names are what RFC 6120 fixes, found in order.
  std::string_view b = buf_;
  if (stage_ == 0) {
    size_t err = b.find("<stream:error");
    if (err != std::string_view::npos) {
      size_t end = xml_element_end(b, err, "stream:error");
      if (end == std::string_view::npos) return {State::kRead, {}};
      return fail("starttls", "stream error: " + xmpp_error_text(b.substr(err, end - err)));
    }
    size_t header = b.find("<stream:stream");
    size_t feat = b.find("<stream:features");
    if (feat == std::string_view::npos) {
      if (b.find("<stream:stream") == std::string_view::npos && b.find('>') != b.npos &&
          b.find("<?xml") == std::string_view::npos)
        return fail("protocol", fmt::format("not an XMPP stream: '{}'", printable(b)));
      return {State::kRead, {}};
    }
    if (header == std::string_view::npos || header > feat)
      return fail("protocol", "XMPP features before the stream header");
    size_t end = xml_element_end(b, feat, "stream:features");
    if (end == std::string_view::npos) return {State::kRead, {}};
    std::string_view features = b.substr(feat, end - feat);
    size_t st = features.find("<starttls");
    if (st == std::string_view::npos || features.find(kXmppTlsNs, st) == std::string_view::npos)
      return fail("starttls",
                  fmt::format("the server does not offer STARTTLS ({})", printable(features)));
    buf_.erase(0, end);
    stage_ = 1;
    return {State::kRead, fmt::format("<starttls xmlns='{}'/>", kXmppTlsNs)};
  }
  size_t start = b.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return {State::kRead, {}};
  b.remove_prefix(start);
  for (std::string_view name : {"proceed", "failure"}) {
    std::string open = fmt::format("<{}", name);
    if (b.size() < open.size() + 1) return {State::kRead, {}};
    if (!b.starts_with(open) ||
        (b[open.size()] != ' ' && b[open.size()] != '/' && b[open.size()] != '>'))
      continue;
    size_t end = xml_element_end(b, 0, name);
    if (end == std::string_view::npos) return {State::kRead, {}};
    std::string_view element = b.substr(0, end);
    if (element.find(kXmppTlsNs) == std::string_view::npos)
      return fail("protocol", fmt::format("<{}> outside the TLS namespace", name));
    if (name == "failure") return fail("starttls", "the server refused STARTTLS (<failure/>)");
    buf_.erase(0, start + end);
    return ok_to_tls("<proceed/>");
  }
  return fail("protocol",
              fmt::format("not <proceed/> or <failure/> after <starttls/>: '{}'", printable(b)));
}

}  // namespace netres::monitor
