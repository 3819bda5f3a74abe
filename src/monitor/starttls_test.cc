// The STARTTLS dialogues against scripted servers: what the client sends, the go-ahead, a server
// without STARTTLS, replies that break the protocol or the limits, data injected after the
// go-ahead, replies split at every byte; and the configuration keys.
#include "monitor/starttls.h"

#include <gtest/gtest.h>

#include "monitor/config.h"
#include "monitor/config_test_util.h"

namespace netres::monitor {
namespace {

using State = StarttlsDialogue::State;

struct Outcome {
  State state = State::kRead;
  std::string reason, detail;
  std::vector<std::string> sent;  // the client's writes, in order
  std::vector<std::string> greeting;
};

// Feeds the server's chunks in order (each in pieces of `piece` bytes), recording what the client
// writes; a kRead after a write is followed by feed({}) as the check does.
Outcome run(StarttlsProtocol p, const std::vector<std::string>& server, size_t piece = 1 << 20) {
  StarttlsDialogue d(p, "mail.example", "[127.0.0.1]");
  Outcome o;
  auto act = [&](StarttlsDialogue::Action a) {
    while (true) {
      if (!a.send.empty()) o.sent.push_back(a.send);
      if (a.state == State::kRead && !a.send.empty()) {
        a = d.feed({});
        continue;
      }
      return a.state;
    }
  };
  o.state = act(d.start());
  for (const auto& chunk : server) {
    for (size_t i = 0; i < chunk.size() && o.state == State::kRead; i += piece)
      o.state = act(d.feed(std::string_view(chunk).substr(i, piece)));
    if (o.state != State::kRead) break;
  }
  o.reason = d.reason();
  o.detail = d.detail();
  o.greeting = d.greeting();
  return o;
}

const std::vector<std::string> kSmtpGood = {
    "220-mail.example ESMTP\r\n220 second line\r\n",
    "250-mail.example Hello [127.0.0.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
    "250-STARTTLS\r\n250 HELP\r\n",
    "220 TLS go ahead\r\n",
};

TEST(Starttls, SmtpGoesToTlsAfterEhloAndStarttls) {
  for (size_t piece : {size_t{1}, size_t{3}, size_t{1} << 20}) {
    Outcome o = run(StarttlsProtocol::kSmtp, kSmtpGood, piece);
    EXPECT_EQ(o.state, State::kTls) << piece << " " << o.detail;
    ASSERT_EQ(o.sent.size(), 2u);
    EXPECT_EQ(o.sent[0], "EHLO [127.0.0.1]\r\n");
    EXPECT_EQ(o.sent[1], "STARTTLS\r\n");
    ASSERT_EQ(o.greeting.size(), 2u);
    EXPECT_EQ(o.greeting[0], "220-mail.example ESMTP");
  }
}

TEST(Starttls, SmtpWithoutStarttlsFailsWithReasonStarttls) {
  Outcome o = run(StarttlsProtocol::kSmtp,
                  {"220 mail ESMTP\r\n", "250-mail\r\n250-PIPELINING\r\n250 HELP\r\n"});
  EXPECT_EQ(o.state, State::kFail);
  EXPECT_EQ(o.reason, "starttls");
  EXPECT_EQ(o.detail, "the server does not offer STARTTLS (EHLO: PIPELINING HELP)");
  // A server that says no to the command, and one that is not ready at all.
  o = run(StarttlsProtocol::kSmtp,
          {"220 mail\r\n", "250-mail\r\n250 STARTTLS\r\n", "454 TLS not available\r\n"});
  EXPECT_EQ(o.reason, "starttls");
  EXPECT_EQ(o.detail, "STARTTLS refused: 454 TLS not available");
  o = run(StarttlsProtocol::kSmtp, {"554 go away\r\n"});
  EXPECT_EQ(o.reason, "starttls");
  EXPECT_EQ(o.greeting, std::vector<std::string>{"554 go away"});
}

TEST(Starttls, SmtpRepliesThatBreakTheProtocol) {
  auto reason = [](std::vector<std::string> s) {
    Outcome o = run(StarttlsProtocol::kSmtp, s);
    EXPECT_EQ(o.state, State::kFail);
    return o.reason + ": " + o.detail;
  };
  EXPECT_EQ(reason({"hello\r\n"}), "protocol: not a reply line: 'hello'");
  EXPECT_EQ(reason({"220-a\r\n221 b\r\n"}),
            "protocol: a line of reply 220 that is not '220-' or '220 ': '221 b'");
  EXPECT_EQ(reason({"620 x\r\n"}), "protocol: not a reply line: '620 x'");
  EXPECT_EQ(reason({"220x\r\n"}), "protocol: not a reply line: '220x'");
  EXPECT_EQ(reason({std::string(5000, 'a')}), "protocol: a line longer than 4096 bytes");
  EXPECT_EQ(reason({"220 " + std::string(5000, 'a') + "\r\n"}),
            "protocol: a line longer than 4096 bytes");
  std::string many;
  for (int i = 0; i < 300; ++i) many += "220-x\r\n";
  EXPECT_EQ(reason({many}), "protocol: a reply longer than 256 lines");
  // Control bytes are shown as '?', never passed on.
  EXPECT_EQ(reason({std::string("x\x1b[31m\r\n")}), "protocol: not a reply line: 'x?[31m'");
}

TEST(Starttls, DataAfterTheGoAheadIsRefused) {
  // The STARTTLS command injection (CVE-2011-0411): a reply sent in plaintext after the
  // go-ahead would be read as if it came over TLS.
  Outcome o = run(StarttlsProtocol::kSmtp,
                  {"220 mail\r\n", "250-mail\r\n250 STARTTLS\r\n", "220 go\r\n250 injected\r\n"});
  EXPECT_EQ(o.state, State::kFail);
  EXPECT_EQ(o.reason, "protocol");
  EXPECT_EQ(o.detail, "14 bytes after the go-ahead (220) and before TLS");
  o = run(StarttlsProtocol::kPostgres, {"SX"});
  EXPECT_EQ(o.reason, "protocol");
}

TEST(Starttls, ImapAsksCapabilityThenStarttls) {
  Outcome o = run(StarttlsProtocol::kImap,
                  {"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n",
                   "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS "
                   "LOGINDISABLED\r\nN1 OK Pre-login capabilities listed, post-login "
                   "capabilities have more.\r\n",
                   "* OK still here\r\nN2 OK Begin TLS negotiation now.\r\n"},
                  2);
  EXPECT_EQ(o.state, State::kTls) << o.detail;
  EXPECT_EQ(o.sent, (std::vector<std::string>{"N1 CAPABILITY\r\n", "N2 STARTTLS\r\n"}));
  EXPECT_EQ(o.greeting.at(0), "* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.");

  o = run(StarttlsProtocol::kImap,
          {"* OK ready\r\n", "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nN1 OK done\r\n"});
  EXPECT_EQ(o.reason, "starttls");
  EXPECT_EQ(o.detail, "the server does not offer STARTTLS (CAPABILITY: IMAP4rev1 AUTH=PLAIN)");
  o = run(StarttlsProtocol::kImap, {"* PREAUTH logged in\r\n"});
  EXPECT_EQ(o.reason, "starttls");
  o = run(StarttlsProtocol::kImap,
          {"* OK ready\r\n", "* CAPABILITY STARTTLS\r\nN1 OK done\r\n", "N2 BAD no\r\n"});
  EXPECT_EQ(o.detail, "STARTTLS refused: N2 BAD no");
  o = run(StarttlsProtocol::kImap, {"* OK ready\r\n", "* CAPABILITY STARTTLS\r\nX9 OK\r\n"});
  EXPECT_EQ(o.reason, "protocol");
  o = run(StarttlsProtocol::kImap, {"* OK ready\r\n", "* LIST () \"/\" {12}\r\n"});
  EXPECT_EQ(o.detail, "an IMAP literal before TLS: '* LIST () \"/\" {12}'");
  o = run(StarttlsProtocol::kImap, {"+OK pop3 here\r\n"});
  EXPECT_EQ(o.reason, "protocol");
}

TEST(Starttls, Pop3UsesCapaThenStls) {
  Outcome o = run(StarttlsProtocol::kPop3,
                  {"+OK Dovecot ready.\r\n", "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nSTLS\r\n..x\r\n.\r\n",
                   "+OK Begin TLS negotiation now.\r\n"},
                  5);
  EXPECT_EQ(o.state, State::kTls) << o.detail;
  EXPECT_EQ(o.sent, (std::vector<std::string>{"CAPA\r\n", "STLS\r\n"}));
  o = run(StarttlsProtocol::kPop3, {"+OK hi\r\n", "+OK\r\nTOP\r\nUSER\r\n.\r\n"});
  EXPECT_EQ(o.reason, "starttls");
  EXPECT_EQ(o.detail, "the server does not offer STLS (CAPA: TOP USER)");
  // No CAPA command (RFC 1939 only): STLS is tried anyway.
  o = run(StarttlsProtocol::kPop3, {"+OK hi\r\n", "-ERR unknown\r\n", "+OK go\r\n"});
  EXPECT_EQ(o.state, State::kTls);
  o = run(StarttlsProtocol::kPop3, {"+OKAY\r\n"});
  EXPECT_EQ(o.reason, "protocol");
}

TEST(Starttls, FtpAuthTls) {
  Outcome o =
      run(StarttlsProtocol::kFtp, {"120 in a minute\r\n220-Welcome\r\nfree text\r\n220 ready\r\n",
                                   "234 Proceed with negotiation.\r\n"});
  EXPECT_EQ(o.state, State::kTls) << o.detail;
  EXPECT_EQ(o.sent, std::vector<std::string>{"AUTH TLS\r\n"});
  EXPECT_EQ(o.greeting.size(), 3u);
  o = run(StarttlsProtocol::kFtp, {"220 (vsFTPd 3.0.3)\r\n", "530 Please login with USER.\r\n"});
  EXPECT_EQ(o.reason, "starttls");
  EXPECT_EQ(o.detail, "AUTH TLS refused: 530 Please login with USER.");
}

TEST(Starttls, PostgresSslRequest) {
  Outcome o = run(StarttlsProtocol::kPostgres, {"S"});
  EXPECT_EQ(o.state, State::kTls);
  ASSERT_EQ(o.sent.size(), 1u);
  EXPECT_EQ(o.sent[0], std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8));
  o = run(StarttlsProtocol::kPostgres, {"N"});
  EXPECT_EQ(o.reason, "starttls");
  o = run(StarttlsProtocol::kPostgres, {"H"});
  EXPECT_EQ(o.detail, "not an answer to SSLRequest: byte 0x48");
}

std::string ldap_response(int id, int code, std::string diag) {
  std::string op = std::string("\x0a\x01", 2) + static_cast<char>(code) +
                   std::string("\x04\x00", 2) + "\x04" + static_cast<char>(diag.size()) + diag;
  std::string msg = std::string("\x02\x01", 2) + static_cast<char>(id) + "\x78" +
                    static_cast<char>(op.size()) + op;
  return "\x30" + std::string(1, static_cast<char>(msg.size())) + msg;
}

TEST(Starttls, LdapExtendedOperation) {
  Outcome o = run(StarttlsProtocol::kLdap, {ldap_response(1, 0, "")}, 1);
  EXPECT_EQ(o.state, State::kTls) << o.detail;
  ASSERT_EQ(o.sent.size(), 1u);
  const std::string& req = o.sent[0];
  EXPECT_EQ(req.size(), 31u);
  EXPECT_EQ(req.substr(0, 9), std::string("\x30\x1d\x02\x01\x01\x77\x18\x80\x16", 9));
  EXPECT_EQ(req.substr(9), "1.3.6.1.4.1.1466.20037");
  o = run(StarttlsProtocol::kLdap, {ldap_response(1, 2, "unsupported extended operation")});
  EXPECT_EQ(o.reason, "starttls");
  EXPECT_EQ(o.detail,
            "StartTLS refused: resultCode 2 (protocolError): unsupported extended operation");
  o = run(StarttlsProtocol::kLdap, {ldap_response(0, 52, "bye")});
  EXPECT_EQ(o.detail, "the server disconnected: resultCode 52 (unavailable): bye");
  o = run(StarttlsProtocol::kLdap, {ldap_response(7, 0, "")});
  EXPECT_EQ(o.reason, "protocol");
  o = run(StarttlsProtocol::kLdap, {std::string("\x30\x80", 2)});  // indefinite length
  EXPECT_EQ(o.reason, "protocol");
  o = run(StarttlsProtocol::kLdap, {std::string("\x30\x84\x00\x00\x00\x01", 6)});
  EXPECT_EQ(o.reason, "protocol");
  o = run(StarttlsProtocol::kLdap, {std::string("\x30\x83\x10\x00\x00", 5)});  // 1 MiB
  EXPECT_EQ(o.reason, "protocol");
  // A truncated inner element inside a complete message.
  o = run(StarttlsProtocol::kLdap, {std::string("\x30\x05\x02\x01\x01\x78\x09", 7)});
  EXPECT_EQ(o.detail, "a malformed LDAP message in reply to StartTLS");
}

TEST(Starttls, Xmpp) {
  const std::string header =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' id='x' from='mail.example' "
      "version='1.0'>";
  Outcome o = run(StarttlsProtocol::kXmpp,
                  {header + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                            "<required/></starttls></stream:features>",
                   "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"},
                  7);
  EXPECT_EQ(o.state, State::kTls) << o.detail;
  ASSERT_EQ(o.sent.size(), 2u);
  EXPECT_NE(o.sent[0].find("to='mail.example'"), std::string::npos);
  EXPECT_EQ(o.sent[1], "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  o = run(StarttlsProtocol::kXmpp, {header + "<stream:features><mechanisms/></stream:features>"});
  EXPECT_EQ(o.reason, "starttls");
  o = run(StarttlsProtocol::kXmpp,
          {header + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                    "</stream:features>",
           "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"});
  EXPECT_EQ(o.detail, "the server refused STARTTLS (<failure/>)");
  o = run(StarttlsProtocol::kXmpp,
          {header + "<stream:error><host-unknown "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"});
  EXPECT_EQ(o.reason, "starttls");
  EXPECT_EQ(o.detail, "stream error: host-unknown");
  o = run(
      StarttlsProtocol::kXmpp,
      {header + "<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>No stream features to "
                "proceed with</text></stream:error>"});
  EXPECT_EQ(o.detail, "stream error: undefined-condition (No stream features to proceed with)");
  o = run(StarttlsProtocol::kXmpp, {header + "<stream:error></stream:error>"});
  EXPECT_EQ(o.detail, "stream error: <stream:error></stream:error>");
  o = run(StarttlsProtocol::kXmpp, {header + "<stream:error/>"});
  EXPECT_EQ(o.detail, "stream error: <stream:error/>");
  o = run(StarttlsProtocol::kXmpp, {"HTTP/1.1 400 Bad Request\r\n\r\n<html>"});
  EXPECT_EQ(o.reason, "protocol");
}

TEST(Starttls, TheWholeDialogueIsBounded) {
  // Untagged IMAP lines never end a reply: the line cap ends the dialogue.
  std::string chatter;
  for (int i = 0; i < 300; ++i) chatter += "* OK chatter\r\n";
  Outcome o = run(StarttlsProtocol::kImap, {"* OK hi\r\n", chatter});
  EXPECT_EQ(o.detail, "a reply longer than 256 lines");
  // XMPP without a line structure: the byte cap.
  o = run(StarttlsProtocol::kXmpp, {"<stream:stream>" + std::string(70000, ' ')});
  EXPECT_EQ(o.detail, "more than 64 KiB before TLS");
}

TEST(Starttls, Config) {
  MonitorConfig c = parse_monitor_config(R"(checks:
  smtp: {kind: tcp, starttls: smtp, banner: "^220 "}
  bb:
    kind: tcp
    steps:
      - expect: "^220"
      - send: "STARTTLS\r\n"
      - expect: "^220"
      - starttls: true
targets:
  - {address: "127.0.0.1:25", checks: [smtp, bb]}
)",
                                         "ok.yaml");
  ASSERT_EQ(c.checks.count("smtp"), 1u);
  EXPECT_EQ(c.checks.at("smtp").starttls, StarttlsProtocol::kSmtp);
  EXPECT_TRUE(c.checks.at("bb").steps.at(3).starttls);

  auto err = [](const std::string& check) {
    return config_error_of("checks:\n  x: " + check +
                           "\ntargets:\n  - {address: \"127.0.0.1:25\", checks: [x]}\n");
  };
  EXPECT_EQ(err("{kind: tcp, starttls: smtps}"),
            "bad.yaml:2:28: unknown starttls protocol 'smtps' (expected smtp, imap, pop3, ftp, "
            "postgres, ldap, xmpp)");
  EXPECT_NE(err("{kind: tcp, starttls: smtp, tls: true}").find("exclude each other"),
            std::string::npos);
  EXPECT_NE(err("{kind: tcp, starttls: ldap, banner: x}").find("ldap has no greeting line"),
            std::string::npos);
  EXPECT_NE(err("{kind: tcp, steps: [{starttls: false}]}").find("{starttls: true} alone"),
            std::string::npos);
  EXPECT_NE(err("{kind: tcp, steps: [{starttls: true}, {starttls: true}]}").find("only one"),
            std::string::npos);
  EXPECT_NE(err("{kind: tcp, starttls: imap, steps: [{starttls: true}]}").find("exclude"),
            std::string::npos);
  EXPECT_NE(err("{kind: http, starttls: smtp}").find("starttls"), std::string::npos);
}

}  // namespace
}  // namespace netres::monitor
