// STARTTLS for the tcp check: the plaintext dialogue each protocol needs before its TLS handshake
// (SMTP EHLO/STARTTLS, IMAP CAPABILITY/STARTTLS, POP3 CAPA/STLS, FTP AUTH TLS, PostgreSQL
// SSLRequest, LDAP's StartTLS extended operation, XMPP's <starttls/>), as a state machine without
// sockets: the check feeds it what the server sent and writes what it answers, so the parsers of
// the server's (untrusted) replies are unit-tested and fuzzed apart from the network.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netres::monitor {

enum class StarttlsProtocol { kSmtp, kImap, kPop3, kFtp, kPostgres, kLdap, kXmpp };

// "smtp" -> kSmtp ...; nullopt for a name that is not one of them.
std::optional<StarttlsProtocol> parse_starttls_protocol(std::string_view name);
std::string_view starttls_protocol_name(StarttlsProtocol p);
// "smtp, imap, pop3, ftp, postgres, ldap, xmpp" for messages.
std::string_view starttls_protocol_names();
// Whether the server speaks first with a line-based greeting a banner regex can match.
bool starttls_has_greeting(StarttlsProtocol p);

// What a server may send before TLS starts: lines (without their CRLF) of at most kMaxLine bytes,
// replies of at most kMaxReplyLines lines, kMaxBytes over the whole dialogue. SMTP allows 512
// bytes per reply line; the margin is for servers that do not keep to it.
struct StarttlsLimits {
  static constexpr size_t kMaxLine = 4096;
  static constexpr size_t kMaxReplyLines = 256;
  static constexpr size_t kMaxBytes = 64 * 1024;
};

class StarttlsDialogue {
 public:
  enum class State {
    kRead,  // write `send` (if any), then read and feed() what comes
    kTls,   // write `send` (if any), then start the TLS handshake: nothing is left unread
    kFail,  // reason() and detail() say why
  };
  struct Action {
    State state = State::kRead;
    std::string send;
  };

  // `host`: the name the client asks for (XMPP's stream `to`); `client_name`: SMTP's EHLO
  // argument (a domain, or an address literal such as "[192.0.2.1]").
  StarttlsDialogue(StarttlsProtocol p, std::string host, std::string client_name);

  // The first action: what the client sends before the server says anything (PostgreSQL, LDAP
  // and XMPP speak first; the others wait for the greeting).
  Action start();
  // Consumes bytes the server sent. Once kTls or kFail is returned, further calls return kFail.
  Action feed(std::string_view bytes);

  // The greeting's lines as received (SMTP/FTP: "220 ..." lines, IMAP/POP3: the first line),
  // printable; complete once greeting_done().
  bool greeting_done() const { return greeting_done_; }
  const std::vector<std::string>& greeting() const { return greeting_; }
  // On kFail: "starttls" (the server did not offer STARTTLS, or refused it or a step before it)
  // or "protocol" (a reply that breaks the protocol or the limits, data after the go-ahead).
  const std::string& reason() const { return reason_; }
  const std::string& detail() const { return detail_; }

 private:
  Action fail(std::string reason, std::string detail);
  Action ok_to_tls(std::string what);
  // One line off the front of buf_ (CRLF or LF stripped); nullopt when incomplete. Sets a failure
  // for a line over the limit.
  std::optional<std::string> take_line();
  // SMTP and FTP: adds a line to the reply being read; true when the reply is complete.
  bool coded_line(const std::string& line, bool ftp);
  Action step_smtp(const std::string& line);
  Action step_ftp(const std::string& line);
  Action step_imap(const std::string& line);
  Action step_pop3(const std::string& line);
  Action step_postgres();
  Action step_ldap();
  Action step_xmpp();

  StarttlsProtocol proto_;
  std::string host_, client_name_;
  std::string buf_;
  size_t received_ = 0;
  int stage_ = 0;
  bool done_ = false;
  bool greeting_done_ = false;
  std::vector<std::string> greeting_;
  // The reply being read (SMTP/FTP code and lines; IMAP/POP3 capabilities).
  int code_ = 0;
  bool in_reply_ = false;
  size_t lines_read_ = 0;  // since the last command
  std::vector<std::string> lines_;
  std::string reason_, detail_;
};

// A server's bytes made safe for a one-line detail: control characters as '?', at most `max`
// bytes then "...".
std::string printable(std::string_view s, size_t max = 200);

}  // namespace netres::monitor
