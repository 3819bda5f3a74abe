// One HTTP/2 request and its response over a connection the caller owns (the http check's
// ProbeStream after ALPN chose "h2"). No sockets here: the caller moves bytes between the socket
// and take_output()/feed(), so the protocol logic is unit-tested against a real nghttp2 server
// session and fuzzed with arbitrary server bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct nghttp2_session;

namespace netres::monitor {

struct Http2Request {
  std::string method = "GET";
  std::string scheme = "https";
  std::string authority;  // host[:port]; a "Host" header in `headers` replaces it
  std::string path = "/";
  // As configured (any case): names are sent lower-cased, as HTTP/2 requires; connection-specific
  // ones (Connection, Keep-Alive, Transfer-Encoding, Upgrade, ...) are dropped.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool send_content_length = false;  // content-length even for an empty body (POST, PUT)
};

class Http2Client {
 public:
  // Body bytes kept for the regex checks; the rest is counted only.
  static constexpr size_t kMaxCapturedBody = 1024 * 1024;

  explicit Http2Client(const Http2Request& request, size_t max_captured_body = kMaxCapturedBody);
  ~Http2Client();
  Http2Client(const Http2Client&) = delete;
  Http2Client& operator=(const Http2Client&) = delete;

  // Bytes for the server: the connection preface, SETTINGS, the request, acknowledgements and
  // window updates. Empty when there is nothing to send.
  std::string take_output();
  // The server's bytes. Returns false once the exchange failed (see reason()).
  bool feed(std::string_view data);
  // The server closed the connection: a failure unless the response was complete.
  void connection_closed();

  // The final response is complete (END_STREAM received) or the exchange failed.
  bool finished() const { return complete_ || !reason_.empty(); }
  bool complete() const { return complete_ && reason_.empty(); }
  // A HEADERS or DATA frame of the request's stream has arrived (the first byte of the
  // response, for the processing phase).
  bool response_started() const { return started_; }

  // The failure: "http2_reset" (the server reset the stream, RST_STREAM), "http2_goaway" (the
  // server sent GOAWAY that excludes the stream, or closed the connection after a GOAWAY),
  // "protocol" (bytes that are not HTTP/2, a malformed response), "eof" (closed without GOAWAY).
  const std::string& reason() const { return reason_; }
  const std::string& detail() const { return detail_; }

  int status() const { return status_; }
  // The final response's header fields, as received (names lower-case); not trailers.
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  const std::string& body() const { return body_; }
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  struct Callbacks;
  void fail(std::string reason, std::string detail);

  nghttp2_session* session_ = nullptr;
  int32_t stream_id_ = -1;
  std::string request_body_;
  size_t request_body_sent_ = 0;
  size_t max_body_;
  bool complete_ = false;
  bool started_ = false;
  bool in_trailers_ = false;
  bool goaway_ = false;
  uint32_t goaway_error_ = 0;
  int32_t goaway_last_stream_ = 0;
  std::string invalid_;  // why nghttp2 refused a frame of the server, for the detail
  std::string reason_, detail_;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
  uint64_t body_bytes_ = 0;
};

}  // namespace netres::monitor
