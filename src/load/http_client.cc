// HttpClient: connect with TLS/SNI/verification, buffered reads through HttpResponseParser, and
// a lazy watchdog (it closes only an exchange whose own deadline has passed).
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
  // A closed client needs no watchdog, and a pending one would keep the event loop running
  // after the client's last exchange.
  if (watchdog_armed_) {
    watchdog_armed_ = false;
    ++watchdog_generation_;
    watchdog_.cancel();
  }
}

namespace {

// How late the watchdog may fire: 1/50 of its span, as a power-of-two number of milliseconds
// (up to 128) so that the watchdogs of many clients share their wake-ups with each other and
// with the users' wait slots (1-8 ms, scenario_runtime.h). A 5 s timeout fires up to 64 ms late.
HttpClient::Clock::duration watchdog_slack(HttpClient::Clock::duration span) {
  for (int ms = 128; ms >= 1; ms /= 2)
    if (std::chrono::milliseconds(ms) * 50 <= span) return std::chrono::milliseconds(ms);
  return HttpClient::Clock::duration{0};
}

}  // namespace

void HttpClient::arm_watchdog(Clock::time_point t) {
  timed_out_ = false;
  deadline_ = t;
  // Armed for this deadline, or earlier, or late by no more than the slack: on_watchdog() moves
  // it on when it fires. This is the path of every exchange on a busy connection.
  if (watchdog_armed_ && watchdog_at_ <= t + watchdog_slack_) return;
  watchdog_slack_ = watchdog_slack(t - Clock::now());
  Clock::time_point at = t;
  if (const auto g = watchdog_slack_.count(); g > 0) {
    const auto r = at.time_since_epoch().count() % g;
    if (r != 0) at += Clock::duration(g - r);  // up: never before the deadline
  }
  if (watchdog_armed_ && watchdog_at_ <= at) return;
  watchdog_at_ = at;
  watchdog_armed_ = true;
  watchdog_.expires_at(at);  // cancels a later wait: its handler sees operation_aborted
  // The generation also drops a wait that had fired, its handler still queued, when superseded.
  watchdog_.async_wait([this, generation = ++watchdog_generation_](std::error_code ec) {
    // Aborted: superseded, or the client is gone; touch nothing.
    if (!ec && generation == watchdog_generation_) on_watchdog();
  });
}

void HttpClient::on_watchdog() {
  watchdog_armed_ = false;
  if (phase_ == Phase::kIdle) return;  // between exchanges: begin() arms it again
  if (Clock::now() < deadline_) {
    arm_watchdog(deadline_);  // a later exchange than the one the timer was armed for
    return;
  }
  timed_out_ = true;
  close();
}

void HttpClient::disarm_watchdog() {
  // Nothing to cancel: phase_ goes idle, and a timer firing then does nothing.
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
