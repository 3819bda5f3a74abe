// ProbeStream's TLS handshake against an in-process TLS server on 127.0.0.1 (a kernel-chosen
// port), with a certificate made here: the reason and the certificate facts it exports, also
// when verification fails (test_monitor_prometheus.py's CertificateNotVerified alert needs
// netres_probe_ssl_verified 0 then, not a missing series).
#include "monitor/probe_stream.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace netres::monitor {
namespace {

// A self-signed P-256 certificate for `san` ("DNS:x" or "IP:127.0.0.1"), valid `days`.
struct Cert {
  EVP_PKEY* key = nullptr;
  X509* x509 = nullptr;
  Cert(const std::string& san, long days) {
    key = EVP_EC_gen("P-256");
    x509 = X509_new();
    X509_set_version(x509, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x509), 1);
    X509_gmtime_adj(X509_getm_notBefore(x509), days < 0 ? (days - 1) * 86400 : -60);
    X509_gmtime_adj(X509_getm_notAfter(x509), days * 86400);
    X509_NAME* name = X509_get_subject_name(x509);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("netres-probe-test"), -1, -1,
                               0);
    X509_set_issuer_name(x509, name);
    X509_set_pubkey(x509, key);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x509, x509, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(x509, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x509, key, EVP_sha256());
  }
  ~Cert() {
    X509_free(x509);
    EVP_PKEY_free(key);
  }
  double not_after() const { return cert_not_after(x509); }
};

asio::awaitable<void> serve_one(asio::ip::tcp::acceptor& acceptor, asio::ssl::context& ctx) {
  std::error_code ec;
  asio::ip::tcp::socket s =
      co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  asio::ssl::stream<asio::ip::tcp::socket> tls(std::move(s), ctx);
  co_await tls.async_handshake(asio::ssl::stream_base::server,
                               asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> probe(asio::io_context& io, asio::ip::tcp::endpoint ep,
                            asio::ssl::context& ctx, std::string name, ProbeResult& r, bool& done) {
  ProbeStream stream(io);
  Deadline deadline(io, Clock::now() + std::chrono::seconds(5), [&stream] { stream.close(); });
  double connect_s = 0, tls_s = 0;
  const std::vector<asio::ip::tcp::endpoint> endpoints{ep};
  if (co_await stream.connect(endpoints, deadline, r, connect_s) &&
      co_await stream.handshake(ctx, name, false, deadline, r, tls_s))
    r.success = true;
  stream.close();
  done = true;
}

// Handshakes with a server presenting `cert`, the client trusting exactly that certificate and
// expecting `name`.
ProbeResult handshake_with(const Cert& cert, const std::string& name) {
  asio::io_context io;
  asio::ssl::context server(asio::ssl::context::tls_server);
  SSL_CTX_use_certificate(server.native_handle(), cert.x509);
  SSL_CTX_use_PrivateKey(server.native_handle(), cert.key);
  asio::ssl::context client(asio::ssl::context::tls_client);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client.native_handle()), cert.x509);
  client.set_verify_mode(asio::ssl::verify_peer);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  ProbeResult r;
  bool done = false;
  asio::co_spawn(io, serve_one(acceptor, server), asio::detached);
  asio::co_spawn(io, probe(io, acceptor.local_endpoint(), client, name, r, done), asio::detached);
  io.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(done);
  return r;
}

std::optional<double> gauge(const ProbeResult& r, const std::string& name) {
  for (const auto& m : r.metrics)
    if (m.name == name) return m.value;
  return std::nullopt;
}

TEST(ProbeStreamTls, VerifiedCertificate) {
  Cert cert("IP:127.0.0.1", 3);
  ProbeResult r = handshake_with(cert, "127.0.0.1");
  EXPECT_TRUE(r.success) << r.reason << ": " << r.detail;
  EXPECT_EQ(gauge(r, "netres_probe_ssl_verified"), 1);
  EXPECT_EQ(gauge(r, "probe_ssl_earliest_cert_expiry"), cert.not_after());
  EXPECT_EQ(gauge(r, "netres_probe_ssl_leaf_cert_expiry"), cert.not_after());
  EXPECT_EQ(gauge(r, "probe_ssl_last_chain_expiry_timestamp_seconds"), cert.not_after());
  EXPECT_TRUE(gauge(r, "probe_tls_version_info").has_value());
}

TEST(ProbeStreamTls, WrongNameIsTlsVerifyWithTheCertificateFacts) {
  Cert cert("DNS:wrong.netres.test", 3);
  ProbeResult r = handshake_with(cert, "127.0.0.1");
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reason, "tls_verify") << r.detail;
  EXPECT_EQ(gauge(r, "netres_probe_ssl_verified"), 0);
  EXPECT_EQ(gauge(r, "probe_ssl_earliest_cert_expiry"), cert.not_after());
  EXPECT_EQ(gauge(r, "netres_probe_ssl_leaf_cert_expiry"), cert.not_after());
  // Nothing verified, and no handshake finished to have a version or cipher.
  EXPECT_FALSE(gauge(r, "probe_ssl_last_chain_expiry_timestamp_seconds").has_value());
  EXPECT_FALSE(gauge(r, "probe_tls_version_info").has_value());
}

TEST(ProbeStreamTls, ExpiredCertificateShowsItsPastExpiry) {
  Cert cert("IP:127.0.0.1", -1);  // valid from two days ago until yesterday
  ProbeResult r = handshake_with(cert, "127.0.0.1");
  EXPECT_EQ(r.reason, "tls_verify") << r.detail;
  EXPECT_EQ(gauge(r, "netres_probe_ssl_verified"), 0);
  auto expiry = gauge(r, "probe_ssl_earliest_cert_expiry");
  ASSERT_TRUE(expiry.has_value());
  EXPECT_LT(*expiry, static_cast<double>(time(nullptr)));
}

}  // namespace
}  // namespace netres::monitor
