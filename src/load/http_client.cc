// HttpClient: connect with TLS/SNI/verification, buffered reads through HttpResponseParser, and
// a generation-counted watchdog (a late timer never closes a newer exchange).
#include "load/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <asio/connect.hpp>
#include <asio/ip/address.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "load/tls_reason.h"

namespace netres::load {

using asio::awaitable;
using asio::ip::tcp;

std::string reason_of(const std::error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    return "connection reset";
  if (ec == asio::error::eof) return "connection closed before response";
  if (ec == asio::error::host_unreachable || ec == asio::error::network_unreachable)
    return "unreachable";
  if (ec.category() == asio::error::get_ssl_category()) return "tls: " + ec.message();
  if (ec == asio::ssl::error::stream_truncated) return "connection reset";
  return ec.message();
}

HttpClient::HttpClient(const ClientSetup& setup) : setup_(setup), watchdog_(setup.io) {}

void HttpClient::close() {
  std::error_code ignored;
  if (tls_) tls_->next_layer().close(ignored);
  if (plain_) plain_->close(ignored);
  open_ = false;
}

void HttpClient::arm_watchdog(Clock::time_point t) {
  timed_out_ = false;
  uint64_t generation = ++watchdog_generation_;
  watchdog_.expires_at(t);
  watchdog_.async_wait([this, generation](std::error_code ec) {
    if (ec || generation != watchdog_generation_) return;
    timed_out_ = true;
    close();
  });
}

void HttpClient::disarm_watchdog() {
  ++watchdog_generation_;
  watchdog_.cancel();
}

awaitable<std::string> HttpClient::open() {
  tls_.reset();
  plain_.reset();
  rbegin_ = rend_ = 0;
  std::error_code ec;
  phase_ = Phase::kConnecting;
  arm_watchdog(Clock::now() + setup_.connect_timeout);
  tcp::socket* socket;
  if (setup_.ssl) {
    tls_.emplace(setup_.io, *setup_.ssl);
    socket = &tls_->next_layer();
  } else {
    plain_.emplace(setup_.io);
    socket = &*plain_;
  }
  co_await asio::async_connect(*socket, setup_.endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) socket->set_option(tcp::no_delay(true), ec);
  if (!ec && tls_) {
    const std::string& host = setup_.host;
    SSL* ssl = tls_->native_handle();
    std::error_code addr_ec;
    asio::ip::make_address(host, addr_ec);
    bool is_ip = !addr_ec;
    if (!is_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
    if (!setup_.insecure) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      if (is_ip)
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
      else
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
    co_await tls_->async_handshake(asio::ssl::stream_base::client,
                                   asio::redirect_error(asio::use_awaitable, ec));
  }
  bool timed_out = timed_out_;
  disarm_watchdog();
  phase_ = Phase::kIdle;
  if (ec) {
    close();
    if (timed_out) co_return std::string("connect timeout");
    co_return tls_ ? describe_tls_failure(tls_->native_handle(), setup_.host, reason_of(ec))
                   : reason_of(ec);
  }
  open_ = true;
  if (setup_.connects) ++*setup_.connects;
  co_return std::string();
}

void HttpClient::begin(Clock::time_point deadline) {
  phase_ = Phase::kInFlight;
  arm_watchdog(deadline);
}

bool HttpClient::end() {
  bool timed_out = timed_out_;
  disarm_watchdog();
  phase_ = Phase::kIdle;
  return timed_out;
}

awaitable<void> HttpClient::write(const std::string& bytes, std::error_code& ec) {
  if (tls_)
    co_await asio::async_write(*tls_, asio::buffer(bytes),
                               asio::redirect_error(asio::use_awaitable, ec));
  else
    co_await asio::async_write(*plain_, asio::buffer(bytes),
                               asio::redirect_error(asio::use_awaitable, ec));
}

HttpResponseParser::Status HttpClient::parse_buffered(std::string& reason) {
  if (rbegin_ == rend_) return HttpResponseParser::Status::kNeedMore;
  size_t used = 0;
  auto status = parser_.feed(std::string_view(rbuf_.data() + rbegin_, rend_ - rbegin_), used);
  rbegin_ += used;
  if (status == HttpResponseParser::Status::kError)
    reason = "malformed response: " + parser_.error();
  return status;
}

awaitable<HttpResponseParser::Status> HttpClient::read_more(std::string& reason) {
  using Status = HttpResponseParser::Status;
  rbegin_ = rend_ = 0;
  std::error_code ec;
  auto buffer = asio::buffer(rbuf_);
  size_t got;
  if (tls_)
    got = co_await tls_->async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
  else
    got = co_await plain_->async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      if (parser_.finish_eof() == Status::kComplete) co_return Status::kComplete;
      reason = parser_.error();
    } else {
      reason = reason_of(ec);
    }
    co_return Status::kError;
  }
  rend_ = got;
  co_return parse_buffered(reason);
}

awaitable<bool> HttpClient::read_response(bool head, bool capture, std::string& reason) {
  start_response(head, capture);
  auto status = parse_buffered(reason);
  while (status == HttpResponseParser::Status::kNeedMore) status = co_await read_more(reason);
  co_return status == HttpResponseParser::Status::kComplete;
}

}  // namespace netres::load
