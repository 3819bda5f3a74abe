// HttpClient: one keep-alive HTTP/1.1 connection for a load engine thread: connect (TLS with SNI
// and verification), write, read and parse responses, and a watchdog that closes the socket
// when a connect or an exchange outlives its deadline. Quick mode and scenario users share it.
#pragma once

#include <array>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include "common/duration.h"
#include "load/http_response_parser.h"

namespace netres::load {

// What every client of one engine thread shares.
struct ClientSetup {
  asio::io_context& io;
  asio::ssl::context* ssl;  // null for plain HTTP
  const asio::ip::tcp::resolver::results_type& endpoints;
  std::string host;  // for SNI and certificate verification
  bool insecure = false;
  Nanos connect_timeout{};
  uint64_t* connects = nullptr;  // counts connections established
};

// The failure reason for a transport error, as the reports name it.
std::string reason_of(const std::error_code& ec);

class HttpClient {
 public:
  using Clock = std::chrono::steady_clock;

  explicit HttpClient(const ClientSetup& setup);
  bool is_open() const { return open_; }
  bool connecting() const { return phase_ == Phase::kConnecting; }
  bool in_flight() const { return phase_ == Phase::kInFlight; }

  // Connects; returns an empty string, or the failure reason ("connect timeout", ...).
  asio::awaitable<std::string> open();
  void close();

  // An exchange: begin() arms the watchdog for `deadline`, write() and read_response() do the
  // I/O, end() disarms and says whether the watchdog fired (the socket is then closed).
  void begin(Clock::time_point deadline);
  asio::awaitable<void> write(const std::string& bytes, std::error_code& ec);
  // Reads the next response into parser(). False when the connection failed or the response
  // was malformed: `reason` says why and the connection must be closed.
  asio::awaitable<bool> read_response(bool head, bool capture, std::string& reason);
  // The same in steps, for the quick-mode loop (no coroutine frame per response):
  // start_response(), then parse_buffered() and, while that says kNeedMore, read_more().
  // kError leaves the reason in `reason`.
  void start_response(bool head, bool capture) { parser_.reset(head, capture); }
  HttpResponseParser::Status parse_buffered(std::string& reason);
  asio::awaitable<HttpResponseParser::Status> read_more(std::string& reason);
  bool end();

  const HttpResponseParser& parser() const { return parser_; }
  // Whether any byte of the response read last (read_response / start_response) arrived.
  bool response_started() const { return parser_.started(); }

 private:
  enum class Phase { kIdle, kConnecting, kInFlight };

  // The watchdog is lazy: begin() only records the deadline, and the timer, once armed, stays
  // armed; when it fires it re-arms for the current exchange's deadline if that is later, and
  // stays unarmed when nothing is in flight. So an exchange costs no timer operation (a
  // keep-alive exchange used to arm and cancel one, and the cancel queued a handler), and a
  // busy client's timer fires about once per timeout.
  void arm_watchdog(Clock::time_point t);
  void disarm_watchdog();
  void on_watchdog();

  const ClientSetup& setup_;
  std::optional<asio::ip::tcp::socket> plain_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket>> tls_;
  bool open_ = false;
  Phase phase_ = Phase::kIdle;
  asio::steady_timer watchdog_;
  Clock::time_point deadline_{};      // of the connect or exchange in progress
  Clock::time_point watchdog_at_{};   // when the armed timer fires
  Clock::duration watchdog_slack_{};  // how late it may fire (watchdog_slack())
  bool watchdog_armed_ = false;       // a wait is pending on watchdog_
  uint64_t watchdog_generation_ = 0;  // of the pending wait; older handlers do nothing
  bool timed_out_ = false;
  std::array<char, 16384> rbuf_{};
  size_t rbegin_ = 0, rend_ = 0;
  HttpResponseParser parser_;
};

}  // namespace netres::load
