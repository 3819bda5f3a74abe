// ProbeStream: connect, TLS handshake, reads and writes for the tcp and http checks.
#include "monitor/probe_stream.h"

#include <openssl/x509v3.h>

#include <asio/connect.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "load/tls_reason.h"

namespace netres::monitor {

using asio::redirect_error;
using asio::use_awaitable;

asio::awaitable<bool> ProbeStream::connect(const std::vector<asio::ip::tcp::endpoint>& endpoints,
                                           const Deadline& deadline, ProbeResult& r,
                                           double& connect_seconds) {
  auto start = Clock::now();
  plain_.emplace(io_);
  std::error_code ec;
  co_await asio::async_connect(*plain_, endpoints, redirect_error(use_awaitable, ec));
  connect_seconds = seconds_since(start);
  if (ec) {
    auto [why, text] = transport_reason(ec, deadline.fired());
    r.fail(why, "connect: " + text);
    co_return false;
  }
  plain_->set_option(asio::ip::tcp::no_delay(true), ec);
  co_return true;
}

asio::awaitable<bool> ProbeStream::handshake(asio::ssl::context& ctx,
                                             const std::string& server_name, bool insecure,
                                             const Deadline& deadline, ProbeResult& r,
                                             double& tls_seconds, std::string_view alpn) {
  auto start = Clock::now();
  tls_.emplace(std::move(*plain_), ctx);
  plain_.reset();
  SSL* ssl = tls_->native_handle();
  std::error_code ec;
  asio::ip::make_address(server_name, ec);
  const bool is_ip = !ec;
  if (!is_ip) SSL_set_tlsext_host_name(ssl, server_name.c_str());
  if (!alpn.empty())
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn.data()),
                        static_cast<unsigned>(alpn.size()));
  // The name is checked even when insecure (verify_none): the verify result is exported.
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (is_ip)
    X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str());
  else
    X509_VERIFY_PARAM_set1_host(param, server_name.c_str(), 0);
  ec.clear();
  co_await tls_->async_handshake(asio::ssl::stream_base::client, redirect_error(use_awaitable, ec));
  tls_seconds = seconds_since(start);
  if (ec) {
    if (deadline.fired()) {
      r.fail("timeout", "tls handshake: timeout");
    } else if (SSL_get_verify_result(ssl) != X509_V_OK && !insecure) {
      r.fail("tls_verify", load::describe_tls_failure(ssl, server_name, "tls: " + ec.message()));
      add_cert_facts(ssl, r);
    } else {
      auto [why, text] = transport_reason(ec, false);
      r.fail(why == "error" ? "tls_handshake" : why, "tls handshake: " + text);
    }
    co_return false;
  }
  add_tls_facts(ssl, r);
  co_return true;
}

asio::awaitable<size_t> ProbeStream::read_some(char* data, size_t size, std::error_code& ec) {
  if (tls_)
    co_return co_await tls_->async_read_some(asio::buffer(data, size),
                                             redirect_error(use_awaitable, ec));
  co_return co_await plain_->async_read_some(asio::buffer(data, size),
                                             redirect_error(use_awaitable, ec));
}

asio::awaitable<void> ProbeStream::write(std::string_view bytes, std::error_code& ec) {
  if (tls_)
    co_await asio::async_write(*tls_, asio::buffer(bytes.data(), bytes.size()),
                               redirect_error(use_awaitable, ec));
  else
    co_await asio::async_write(*plain_, asio::buffer(bytes.data(), bytes.size()),
                               redirect_error(use_awaitable, ec));
}

std::string ProbeStream::alpn() {
  if (!tls_) return {};
  const unsigned char* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(tls_->native_handle(), &proto, &len);
  return proto ? std::string(reinterpret_cast<const char*>(proto), len) : std::string();
}

void ProbeStream::close() {
  std::error_code ignored;
  if (tls_) tls_->next_layer().close(ignored);
  if (plain_) plain_->close(ignored);
}

}  // namespace netres::monitor
