// A probe's connection: plain TCP or TLS over it, connected to the first endpoint that answers,
// with the phases timed separately (connect, TLS) and a close() the deadline calls.
#pragma once

#include <openssl/ssl.h>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/probe_util.h"

namespace netres::monitor {

class ProbeStream {
 public:
  explicit ProbeStream(asio::io_context& io) : io_(io) {}

  // Connects to the endpoints in order; on failure sets r's reason (timeout when `deadline`
  // fired) and returns false. Records the connect phase in `connect_seconds`.
  asio::awaitable<bool> connect(const std::vector<asio::ip::tcp::endpoint>& endpoints,
                                const Deadline& deadline, ProbeResult& r, double& connect_seconds);
  // TLS handshake with SNI and name verification for `server_name` (an IP literal is checked
  // against the certificate's IP SANs); adds the TLS facts to r on success. tls_verify is the
  // reason when the certificate failed verification, with the certificate facts still added
  // (its expiries, netres_probe_ssl_verified 0). `alpn` (wire format, e.g. "\x02h2"):
  // the protocols offered; what the server chose is alpn() afterwards.
  asio::awaitable<bool> handshake(asio::ssl::context& tls, const std::string& server_name,
                                  bool insecure, const Deadline& deadline, ProbeResult& r,
                                  double& tls_seconds, std::string_view alpn = {});
  // The protocol the server chose by ALPN ("h2", "http/1.1"), empty without one.
  std::string alpn();
  asio::awaitable<size_t> read_some(char* data, size_t size, std::error_code& ec);
  asio::awaitable<void> write(std::string_view bytes, std::error_code& ec);
  void close();
  bool is_tls() const { return tls_.has_value(); }

 private:
  asio::io_context& io_;
  std::optional<asio::ip::tcp::socket> plain_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket>> tls_;
};

}  // namespace netres::monitor
