// WebEndpoint's loading: certificates and keys read and matched, OpenSSL's refusals turned into
// one-line errors, and reloads that keep the running config when the new one is bad.
#include "monitor/web_endpoint.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "common/error.h"

namespace netres::monitor {
namespace {

// A self-signed P-256 certificate (100 years) with its key, and another key.
const char kCert[] = R"(-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIUOegBT5+Eb9kI9Af1TIz0dZzz5BAwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLbmV0cmVzLXVuaXQwIBcNMjYxMjA2MTAxMDQ2WhgPMjEyNjEx
MTIxMDEwNDZaMBYxFDASBgNVBAMMC25ldHJlcy11bml0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAECBn8peTXhgu2MrO2dZ5qIQ85FH2sDtrJUUaIKCu271hztKI5
QpYpTwTEZRT9igtU6ebh0qd/ktv4nECqL0XTwaNTMFEwHQYDVR0OBBYEFJdiji7S
+DkgAYq0Ell2UgkiaMxDMB8GA1UdIwQYMBaAFJdiji7S+DkgAYq0Ell2UgkiaMxD
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAJ33lacfQf0Kp9dg
ldkTYkca33bIRuYxlT9t6951OusIAiAhGrK+1hpwPqMrvWmzTih8155B2zXQqKzW
J6cgBMno0g==
-----END CERTIFICATE-----
)";
const char kKey[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcJgUP3pD68lhaadb
UHGJLM5pM0HqP8ltZR2gfDJtJa2hRANCAAQIGfyl5NeGC7Yys7Z1nmohDzkUfawO
2slRRogoK7bvWHO0ojlClilPBMRlFP2KC1Tp5uHSp3+S2/icQKovRdPB
-----END PRIVATE KEY-----
)";
const char kOtherKey[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdiCrXUtWMcdydJYL
1iR8D/w+x+1hkft8GSY+PjWzYeihRANCAAT0Df+9N5LBHPTPJ4BNLWYy2hjw4zHD
pOLcPCSxDisePVaZOwfJt8ZUOW434Pk6nNtfFmD6mI4RdYw2KWTVnkKK
-----END PRIVATE KEY-----
)";

// A client certificate (self-signed, 100 years) with the SAN DNS:client.test.
const char kClientCert[] = R"(-----BEGIN CERTIFICATE-----
MIIBqTCCAU+gAwIBAgIUQNtXM+/KpaakrOsLMCEORTN8Vr4wCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSbmV0cmVzLXVuaXQtY2xpZW50MCAXDTI2MTIwNjExMTA1OFoY
DzIxMjYxMTEyMTExMDU4WjAdMRswGQYDVQQDDBJuZXRyZXMtdW5pdC1jbGllbnQw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQKy0lFisJgYAjDFku0bDLZInN5f+M4
bhAvz7xd0j5RNAE9eJZJY7b2X96JPXtxuOUo4eCs4tUEmLZ7e2FulnqXo2swaTAd
BgNVHQ4EFgQUbEoB91TFHgIMRwW7XkUJlcV+XYswHwYDVR0jBBgwFoAUbEoB91TF
HgIMRwW7XkUJlcV+XYswDwYDVR0TAQH/BAUwAwEB/zAWBgNVHREEDzANggtjbGll
bnQudGVzdDAKBggqhkjOPQQDAgNIADBFAiA2vIf8nS9TnN1sGO/Mcm+1LoGiQEwl
KU4denMPjyjNggIhAMCXRuDWTyeiwKujpfqQ6umiiMLzCmgnK/p/E8bGRu8n
-----END CERTIFICATE-----
)";
const char kClientKey[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgZDvsQ/p/PfbMHNV2
DbZx2Lq5J85Sl8b1YBczs1bwJh+hRANCAAQKy0lFisJgYAjDFku0bDLZInN5f+M4
bhAvz7xd0j5RNAE9eJZJY7b2X96JPXtxuOUo4eCs4tUEmLZ7e2FulnqX
-----END PRIVATE KEY-----
)";

class WebEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("netres-web-endpoint-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    write("cert.pem", kCert);
    write("key.pem", kKey);
    write("other.key", kOtherKey);
    write("client.pem", kClientCert);
    write("client.key", kClientKey);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::string error_of(const std::string& web) {
    try {
      WebEndpoint e(write("web.yml", web));
    } catch (const UsageError& e) {
      return e.what();
    }
    return "(no error)";
  }

  std::filesystem::path dir_;
};

TEST_F(WebEndpointTest, LoadsCertificateAndKey) {
  WebEndpoint e(write("web.yml", "tls_server_config: {cert_file: cert.pem, key_file: key.pem}\n"));
  EXPECT_TRUE(e.tls());
  WebEndpoint plain(write("plain.yml", "basic_auth_users: {}\n"));
  EXPECT_FALSE(plain.tls());
  WebEndpoint none("");
  EXPECT_FALSE(none.tls());
}

TEST_F(WebEndpointTest, UnreadableOrMismatchedIsOneLine) {
  std::string web = (dir_ / "web.yml").string();
  EXPECT_EQ(error_of("tls_server_config: {cert_file: nope.pem, key_file: key.pem}\n"),
            web + ": cannot read cert_file " + (dir_ / "nope.pem").string() +
                ": No such file or directory");
  EXPECT_EQ(error_of("tls_server_config: {cert_file: key.pem, key_file: key.pem}\n"),
            web + ": cert " + (dir_ / "key.pem").string() + ": no PEM certificate in it");
  std::string e = error_of("tls_server_config: {cert_file: cert.pem, key_file: cert.pem}\n");
  EXPECT_EQ(e.substr(0, e.find(": not a PEM")), web + ": key " + (dir_ / "cert.pem").string());
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_EQ(error_of("tls_server_config: {cert_file: cert.pem, key_file: other.key}\n"),
            web + ": key " + (dir_ / "other.key").string() + " does not match cert " +
                (dir_ / "cert.pem").string());
  EXPECT_EQ(error_of("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
                     "  cipher_suites: [TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_NOPE]\n"),
            web +
                ":4:52: unknown cipher suite 'TLS_NOPE' (IANA names, as "
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
  EXPECT_EQ(error_of("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
                     "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "
                     "TLS_AES_128_GCM_SHA256]\n  curve_preferences: [X25519]\n"),
            "(no error)");
  EXPECT_EQ(error_of(std::string("tls_server_config:\n  cert: |\n") + "    " +
                     std::regex_replace(kCert, std::regex("\n(?=.)"), "\n    ") +
                     "  key_file: key.pem\n"),
            "(no error)");
}

TEST_F(WebEndpointTest, ReloadKeepsTheRunningConfigWhenBad) {
  std::string path =
      write("web.yml", "tls_server_config: {cert_file: cert.pem, key_file: key.pem}\n");
  WebEndpoint e(path);
  write("web.yml", "tls_server_config: {cert_file: cert.pem, key_file: other.key}\n");
  EXPECT_THROW(e.prepare_reload(), UsageError);
  write("web.yml", "basic_auth_users: {}\n");
  try {
    e.prepare_reload();
    FAIL();
  } catch (const UsageError& err) {
    EXPECT_EQ(std::string(err.what()),
              path + ": tls_server_config removed (turning TLS off needs a restart)");
  }
  write("web.yml", "tls_server_config: {cert_file: cert.pem, key_file: key.pem}\n");
  auto install = e.prepare_reload();
  install();
  EXPECT_TRUE(e.tls());
}

// The handshake for real, in process, on a kernel-chosen loopback port: client certificates and
// client_allowed_sans go through the verify callback and the config kept on each SSL, and a
// reload changes what the next connection gets.
TEST_F(WebEndpointTest, HandshakesFollowTheRunningConfig) {
  std::string head =
      "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
      "  client_auth_type: RequireAnyClientCert\n";
  std::string path = write("web.yml", head + "  client_allowed_sans: [client.test]\n");
  WebEndpoint e(path);
  auto server = e.make_server();
  server->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server->set_pre_routing_handler([&e](const httplib::Request& req, httplib::Response& res) {
    return e.admit(req, res) ? httplib::Server::HandlerResponse::Unhandled
                             : httplib::Server::HandlerResponse::Handled;
  });
  int port = server->bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server->listen_after_bind(); });
  auto get = [&](bool with_cert) {
    std::unique_ptr<httplib::SSLClient> c =
        with_cert
            ? std::make_unique<httplib::SSLClient>(
                  "127.0.0.1", port, (dir_ / "client.pem").string(), (dir_ / "client.key").string())
            : std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    c->enable_server_certificate_verification(false);
    c->set_connection_timeout(5);
    auto r = c->Get("/");
    return r ? r->status : 0;
  };
  EXPECT_EQ(get(true), 200);
  EXPECT_EQ(get(false), 0);  // a certificate is required
  write("web.yml", head + "  client_allowed_sans: [other.test]\n");
  e.prepare_reload()();
  EXPECT_EQ(get(true), 0);  // the SAN is no longer allowed: the handshake ends
  write("web.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n");
  e.prepare_reload()();
  EXPECT_EQ(get(false), 200);
  server->stop();
  t.join();
}

}  // namespace
}  // namespace netres::monitor
