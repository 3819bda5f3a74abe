// The web config parser (exporter-toolkit's keys, strict, FILE:LINE:COL errors), bcrypt hash
// formats, the Authorization header and the basic auth check with its cache.
#include "monitor/web_config.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace netres::monitor {
namespace {

// bcrypt("s3cret") at cost 4 (made with libxcrypt); $2a$ and $2y$ are the same hash for ASCII.
const std::string kHashB = "$2b$04$h0T.8AR4u.Fl6x9fOlFwA.r5KDGl9v1INaT30OEXnnndkFNuvq8PW";

std::string error_of(const std::string& text) {
  try {
    parse_web_config(text, "/etc/netres/web.yml");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string basic(const std::string& user_pass) {
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < user_pass.size(); i += 3) {
    uint32_t w = (uint8_t(user_pass[i]) << 16) | (uint8_t(user_pass[i + 1]) << 8) |
                 uint8_t(user_pass[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += b64[(w >> k) & 63];
  }
  if (user_pass.size() - i == 1) {
    uint32_t w = uint8_t(user_pass[i]) << 16;
    out += std::string{b64[w >> 18], b64[(w >> 12) & 63], '=', '='};
  } else if (user_pass.size() - i == 2) {
    uint32_t w = (uint8_t(user_pass[i]) << 16) | (uint8_t(user_pass[i + 1]) << 8);
    out += std::string{b64[w >> 18], b64[(w >> 12) & 63], b64[(w >> 6) & 63], '='};
  }
  return "Basic " + out;
}

TEST(WebConfig, FullFile) {
  WebConfig c = parse_web_config(R"(tls_server_config:
  cert_file: server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.pem
  client_allowed_sans: [prometheus.example]
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    X-Content-Type-Options: nosniff
    Content-Security-Policy: ""
basic_auth_users:
  alice: )" + kHashB + "\n",
                                 "/etc/netres/web.yml");
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->cert_file, "/etc/netres/server.crt");  // relative to the config's directory
  EXPECT_EQ(c.tls->key_file, "/abs/server.key");
  EXPECT_EQ(c.tls->client_ca_file, "/etc/netres/ca.pem");
  EXPECT_EQ(c.tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(c.tls->min_version, 0x0304);
  EXPECT_EQ(c.tls->max_version, 0x0304);
  ASSERT_EQ(c.tls->cipher_suites.size(), 1u);
  EXPECT_EQ(c.tls->cipher_suites[0].where, "/etc/netres/web.yml:9:19");
  EXPECT_FALSE(c.tls->prefer_server_cipher_suites);
  EXPECT_EQ(c.tls->curve_preferences.size(), 2u);
  EXPECT_EQ(c.tls->client_allowed_sans, std::vector<std::string>{"prometheus.example"});
  EXPECT_FALSE(c.http2);
  // A blank header is unset.
  ASSERT_EQ(c.headers.size(), 2u);
  EXPECT_EQ(c.users.at("alice"), kHashB);
}

TEST(WebConfig, EmptyFileIsPlainHttpWithoutAuth) {
  for (const char* text : {"", "# nothing\n", "tls_server_config:\nbasic_auth_users:\n"}) {
    WebConfig c = parse_web_config(text, "w.yml");
    EXPECT_FALSE(c.tls) << text;
    EXPECT_TRUE(c.users.empty()) << text;
  }
}

TEST(WebConfig, DefaultsAsExporterToolkit) {
  WebConfig c = parse_web_config("tls_server_config: {cert_file: a, key_file: b}\n", "w.yml");
  EXPECT_EQ(c.tls->client_auth, ClientAuth::kNoClientCert);
  EXPECT_EQ(c.tls->min_version, 0x0303);
  EXPECT_EQ(c.tls->max_version, 0x0304);
  EXPECT_TRUE(c.tls->prefer_server_cipher_suites);
  EXPECT_EQ(c.tls->cert_file, "a");  // no directory in the config's name: as given
}

TEST(WebConfig, BadFilesNameTheLine) {
  const std::string f = "/etc/netres/web.yml";
  EXPECT_EQ(error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n  cert_fil: c\n"),
            f + ":4:3: unknown key 'cert_fil' in tls_server_config (expected cert, key, "
                "client_ca, cert_file, key_file, client_auth_type, client_ca_file, "
                "client_allowed_sans, min_version, max_version, cipher_suites, "
                "prefer_server_cipher_suites, curve_preferences)");
  EXPECT_EQ(error_of("basic_auth: {}\n").substr(0, f.size() + 30),
            f + ":1:1: unknown key 'basic_auth'");
  EXPECT_EQ(error_of("tls_server_config: {key_file: b}\n"),
            f + ":1:20: tls_server_config needs cert_file (or cert)");
  EXPECT_EQ(error_of("tls_server_config: {cert_file: a, cert: x, key_file: b}\n"),
            f + ":1:41: cert and cert_file are exclusive");
  EXPECT_EQ(error_of("tls_server_config: {cert_file: a, key_file: b, min_version: TLS14}\n"),
            f + ":1:61: min_version must be TLS10, TLS11, TLS12 or TLS13, got 'TLS14'");
  EXPECT_EQ(error_of("tls_server_config: {cert_file: a, key_file: b, min_version: TLS13, "
                     "max_version: TLS12}\n"),
            f + ":1:20: min_version is above max_version");
  EXPECT_EQ(error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                     "  client_auth_type: RequireAndVerify\n"),
            f + ":4:21: client_auth_type must be NoClientCert, RequestClientCert, "
                "RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert, "
                "got 'RequireAndVerify'");
  EXPECT_EQ(error_of("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                     "  client_auth_type: RequireAndVerifyClientCert\n"),
            f + ":4:21: client_auth_type RequireAndVerifyClientCert needs client_ca_file");
  EXPECT_NE(error_of("tls_server_config: {cert_file: a, key_file: b, client_ca_file: c}\n")
                .find("client_ca_file is set but client_auth_type does not verify"),
            std::string::npos);
  EXPECT_NE(error_of("tls_server_config: {cert_file: a, key_file: b, client_allowed_sans: [x]}\n")
                .find("client_allowed_sans needs client_auth_type"),
            std::string::npos);
  EXPECT_EQ(error_of("tls_server_config: {cert_file: a, key_file: b, curve_preferences: [P256]}\n"),
            f + ":1:68: unknown curve 'P256' (expected CurveP256, CurveP384, CurveP521 or X25519)");
  EXPECT_EQ(error_of("http_server_config: {headers: {Server: x}}\n").substr(0, f.size() + 38),
            f + ":1:32: unknown key 'Server' in headers");
  EXPECT_EQ(error_of("http_server_config: {headers: {X-Frame-Options: allow}}\n"),
            f + ":1:49: X-Frame-Options must be deny or sameorigin, got 'allow'");
  EXPECT_EQ(
      error_of("http_server_config: {headers: {X-XSS-Protection: \"1\\r\\nSet-Cookie: a\"}}\n"),
      f + ":1:50: header X-XSS-Protection: control characters");
  EXPECT_EQ(error_of("http_server_config: {http2: yes}\n"),
            f + ":1:29: http2 must be true or false, got 'yes'");
  EXPECT_EQ(error_of("rate_limit: {interval: 1s, burst: 20}\n"),
            f + ":1:13: rate_limit is not supported by netres monitor");
  EXPECT_EQ(error_of("basic_auth_users: [alice]\n"),
            f + ":1:19: basic_auth_users must be a mapping of user: bcrypt hash");
  EXPECT_EQ(error_of("tls_server_config: [\n"), f + ":2:1: end of sequence flow not found");
}

TEST(WebConfig, BadHashesAreRefusedWithoutRepeatingThem) {
  const std::string f = "w.yml";
  auto err = [&](const std::string& hash) {
    try {
      parse_web_config("basic_auth_users:\n  alice: " + hash + "\n", f);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const std::string msg =
      "w.yml:2:10: user 'alice': not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 "
      "characters; make one with htpasswd -nBC 10 \"\")";
  EXPECT_EQ(err("hunter2"), msg);  // a password pasted instead of its hash
  EXPECT_EQ(err("$1$abcdefgh$0123456789012345678901"), msg);  // md5-crypt
  EXPECT_EQ(err("$2x$04$h0T.8AR4u.Fl6x9fOlFwA.r5KDGl9v1INaT30OEXnnndkFNuvq8PW"), msg);
  EXPECT_EQ(err("$2b$03$h0T.8AR4u.Fl6x9fOlFwA.r5KDGl9v1INaT30OEXnnndkFNuvq8PW"), msg);
  EXPECT_EQ(err("$2b$32$h0T.8AR4u.Fl6x9fOlFwA.r5KDGl9v1INaT30OEXnnndkFNuvq8PW"), msg);
  EXPECT_EQ(err("$2b$04$h0T.8AR4u.Fl6x9fOlFwA.r5KDGl9v1INaT30OEXnnndkFNuvq8P"), msg);  // short
  EXPECT_EQ(err("'$2b$04$h0T.8AR4u.Fl6x9fOlFwA.r5KDGl9v1INaT30OEXnnndkFNuvq8P!'"), msg);
  EXPECT_EQ(err(kHashB), "(no error)");
  try {
    parse_web_config("basic_auth_users:\n  'a:b': " + kHashB + "\n", f);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "w.yml:2:3: bad user name 'a:b' (not empty, no ':')");
  }
  EXPECT_TRUE(is_bcrypt_hash("$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"));
  EXPECT_TRUE(is_bcrypt_hash("$2a$31$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"));
  EXPECT_FALSE(is_bcrypt_hash(""));
}

TEST(WebAuth, AuthorizationHeader) {
  auto c = parse_basic_authorization(basic("alice:s3c:ret"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "s3c:ret");  // split at the first colon only
  c = parse_basic_authorization("bAsIc " + basic("a:").substr(6));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "");
  EXPECT_FALSE(parse_basic_authorization(""));
  EXPECT_FALSE(parse_basic_authorization("Bearer abc"));
  EXPECT_FALSE(parse_basic_authorization("Basic"));
  EXPECT_FALSE(parse_basic_authorization("Basic YWxpY2U="));    // no colon
  EXPECT_FALSE(parse_basic_authorization("Basic YWxpY2U6cw"));  // padding missing
  EXPECT_FALSE(parse_basic_authorization("Basic YW=pY2U6cw=="));
  EXPECT_FALSE(parse_basic_authorization("Basic YWxpY2U6c!=="));
  EXPECT_FALSE(parse_basic_authorization("Basic  YWxpY2U6cw=="));
}

TEST(WebAuth, BcryptVariants) {
  EXPECT_TRUE(bcrypt_matches("s3cret", kHashB));
  std::string y = kHashB, a = kHashB;
  y[2] = 'y';
  a[2] = 'a';
  EXPECT_TRUE(bcrypt_matches("s3cret", y));
  EXPECT_TRUE(bcrypt_matches("s3cret", a));
  EXPECT_FALSE(bcrypt_matches("s3cret ", kHashB));
  EXPECT_FALSE(bcrypt_matches("", kHashB));
  EXPECT_FALSE(bcrypt_matches(std::string("s3cret\0x", 8), kHashB));
  EXPECT_FALSE(bcrypt_matches("s3cret", "s3cret"));
}

TEST(WebAuth, UsersAndCache) {
  BasicAuth auth({{"alice", kHashB}, {"bob", "$2b$04$" + std::string(53, 'A')}});
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.allows(basic("alice:s3cret")));
  EXPECT_FALSE(auth.allows(basic("alice:wrong")));
  EXPECT_FALSE(auth.allows(basic("bob:s3cret")));
  EXPECT_FALSE(auth.allows(basic("carol:s3cret")));  // unknown: still a bcrypt
  EXPECT_FALSE(auth.allows(basic("Alice:s3cret")));
  EXPECT_FALSE(auth.allows(""));
  EXPECT_EQ(auth.bcrypt_calls(), 5u);
  // The same credentials again are answered from the cache, the same way.
  EXPECT_TRUE(auth.allows(basic("alice:s3cret")));
  EXPECT_FALSE(auth.allows(basic("alice:wrong")));
  EXPECT_FALSE(auth.allows(basic("carol:s3cret")));
  EXPECT_EQ(auth.bcrypt_calls(), 5u);
  EXPECT_FALSE(BasicAuth({}).enabled());
}

}  // namespace
}  // namespace netres::monitor
