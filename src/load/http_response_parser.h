// HttpResponseParser: an incremental HTTP/1.1 response parser for untrusted bytes. It keeps only
// what a load generator needs (status, framing, keep-alive, body size; on request the headers and
// body for checks and extraction) and enforces size limits.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netres::load {

struct HttpParserLimits {
  size_t max_header_bytes = 64 * 1024;  // status line + headers (and, separately, trailers)
  size_t max_headers = 128;
  size_t max_chunk_line = 1024;            // chunk size line including extensions
  size_t max_captured_body = 1024 * 1024;  // body bytes kept when capturing (the rest counted)
};

class HttpResponseParser {
 public:
  enum class Status { kNeedMore, kComplete, kError };

  explicit HttpResponseParser(HttpParserLimits limits = {});

  // Prepares for the next response. A response to HEAD has no body whatever its headers say.
  // With `capture`, the header fields and the body (chunked-decoded, up to max_captured_body
  // bytes) are kept for body() and headers(); without it (quick mode) bytes are only counted.
  void reset(bool head_request = false, bool capture = false);

  // Consumes a prefix of `data`; `consumed` says how much. On kComplete the bytes after
  // `consumed` belong to the next response (pipelining). After kError the parser stays failed.
  Status feed(std::string_view data, size_t& consumed);

  // The peer closed the connection: completes a body delimited by the close, else an error.
  Status finish_eof();

  bool started() const { return started_; }  // any byte of this response seen
  bool complete() const { return state_ == State::kDone; }
  int status_code() const { return status_code_; }
  // The response's HTTP/1.x minor version (0 or 1), once the status line is in.
  int minor_version() const { return minor_version_; }
  bool keep_alive() const { return keep_alive_; }
  uint64_t body_bytes() const { return body_bytes_; }
  const std::string& error() const { return error_; }
  // Only with capture: the final response's header fields as received, and its body.
  const std::string& body() const { return body_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  enum class State {
    kHead,
    kBodyLength,
    kBodyUntilClose,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kDone,
    kFailed
  };

  Status fail(std::string message);
  // Processes one complete line of the head (without its line ending). False on error.
  bool head_line(std::string_view line);
  bool header_field(std::string_view name, std::string_view value);
  // Called at the blank line that ends the head: decides the body framing.
  Status end_of_head();
  bool chunk_size_line(std::string_view line);
  // Accumulates a line into line_ up to `limit` bytes; true once a whole line is in line_.
  bool take_line(std::string_view data, size_t& pos, size_t limit, bool& too_long);
  void keep_body(const char* data, size_t n) {
    if (body_.size() < limits_.max_captured_body)
      body_.append(data, std::min(n, limits_.max_captured_body - body_.size()));
  }

  HttpParserLimits limits_;
  State state_ = State::kHead;
  bool head_request_ = false;
  bool capture_ = false;
  bool started_ = false;
  bool status_line_seen_ = false;
  int status_code_ = 0;
  int minor_version_ = 1;
  bool keep_alive_ = true;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool chunked_ = false;
  bool other_encoding_ = false;
  bool has_length_ = false;
  uint64_t content_length_ = 0;
  uint64_t remaining_ = 0;
  uint64_t body_bytes_ = 0;
  size_t head_bytes_ = 0;
  size_t header_count_ = 0;
  std::string line_;
  std::string taken_;  // the last whole line, handed over from line_
  std::string error_;
  std::string body_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

const char* to_string(HttpResponseParser::Status s);

}  // namespace netres::load
