// HttpResponseParser: line-oriented state machine over the head and chunk framing, byte counting
// over bodies. Every accumulation is bounded by HttpParserLimits; nothing is trusted.
#include "load/http_response_parser.h"

#include <algorithm>
#include <cstring>

#include "common/text.h"

namespace netres::load {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

// Calls f(element) for each comma-separated, trimmed, non-empty element of a header value.
template <class F>
void for_each_element(std::string_view value, F f) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma), " \t");
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

constexpr uint64_t kMaxBodyLength = uint64_t{1} << 62;  // keeps arithmetic far from overflow

}  // namespace

const char* to_string(HttpResponseParser::Status s) {
  switch (s) {
    case HttpResponseParser::Status::kNeedMore:
      return "need-more";
    case HttpResponseParser::Status::kComplete:
      return "complete";
    case HttpResponseParser::Status::kError:
      return "error";
  }
  return "?";
}

HttpResponseParser::HttpResponseParser(HttpParserLimits limits) : limits_(limits) { reset(); }

void HttpResponseParser::reset(bool head_request, bool capture) {
  state_ = State::kHead;
  head_request_ = head_request;
  capture_ = capture;
  body_.clear();
  headers_.clear();
  started_ = false;
  status_line_seen_ = false;
  status_code_ = 0;
  minor_version_ = 1;
  keep_alive_ = true;
  connection_close_ = connection_keep_alive_ = false;
  chunked_ = other_encoding_ = has_length_ = false;
  content_length_ = remaining_ = body_bytes_ = 0;
  head_bytes_ = header_count_ = 0;
  line_.clear();
  error_.clear();
}

HttpResponseParser::Status HttpResponseParser::fail(std::string message) {
  state_ = State::kFailed;
  error_ = std::move(message);
  return Status::kError;
}

bool HttpResponseParser::take_line(std::string_view data, size_t& pos, size_t limit,
                                   bool& too_long) {
  too_long = false;
  const char* start = data.data() + pos;
  size_t avail = data.size() - pos;
  const void* nl = std::memchr(start, '\n', avail);
  size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : avail;
  // The limit counts the line ending too, so a line of exactly `limit` bytes still fits.
  if (line_.size() + len + (nl ? 1 : 0) > limit) {
    too_long = true;
    return false;
  }
  line_.append(start, len);
  pos += len;
  if (!nl) return false;
  ++pos;  // the '\n'
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return true;
}

HttpResponseParser::Status HttpResponseParser::feed(std::string_view data, size_t& consumed) {
  size_t pos = 0;
  consumed = 0;
  if (state_ == State::kFailed) return Status::kError;
  if (state_ == State::kDone) return Status::kComplete;
  if (!data.empty()) started_ = true;
  // A status line never starts with a NUL byte; an HTTP/2 frame header (24-bit length, type,
  // flags, stream id) does. A server that speaks only HTTP/2 (h2c, prior knowledge) answers an
  // HTTP/1.1 request with its SETTINGS (or a GOAWAY) frame: name that instead of waiting for a
  // line that never comes.
  if (state_ == State::kHead && !status_line_seen_ && head_bytes_ == 0 && line_.empty() &&
      !data.empty() && data[0] == '\0') {
    consumed = data.size();
    bool h2 = data.size() >= 9 && (data[3] == 0x04 || data[3] == 0x07) && data[5] == 0 &&
              data[6] == 0 && data[7] == 0 && data[8] == 0;
    return fail(h2 ? "the server answered with HTTP/2 frames (it speaks only HTTP/2; netres "
                     "load speaks HTTP/1.1)"
                   : "binary data where the status line should be");
  }
  while (pos < data.size()) {
    switch (state_) {
      case State::kHead:
      case State::kTrailers: {
        size_t budget = limits_.max_header_bytes - std::min(head_bytes_, limits_.max_header_bytes);
        bool too_long = false;
        bool whole = take_line(data, pos, budget, too_long);
        if (too_long) {
          consumed = pos;
          return fail(state_ == State::kHead ? "header section too large" : "trailers too large");
        }
        if (!whole) break;
        head_bytes_ += line_.size() + 1;
        // Swapped, not moved out: both buffers keep their capacity, so a line costs no
        // allocation once the first responses have been read.
        std::string& line = taken_;
        line.swap(line_);
        line_.clear();
        if (line.find('\r') != std::string::npos || line.find('\0') != std::string::npos) {
          consumed = pos;
          return fail("control character in header line");
        }
        if (state_ == State::kTrailers) {
          if (line.empty()) {
            state_ = State::kDone;
            consumed = pos;
            return Status::kComplete;
          }
          if (++header_count_ > limits_.max_headers) {
            consumed = pos;
            return fail("too many trailer fields");
          }
          size_t colon = line.find(':');
          if (colon == std::string::npos || colon == 0) {
            consumed = pos;
            return fail("malformed trailer field");
          }
          break;
        }
        if (line.empty() && status_line_seen_) {
          Status s = end_of_head();
          if (s == Status::kError) {
            consumed = pos;
            return s;
          }
          if (state_ == State::kDone) {
            consumed = pos;
            return Status::kComplete;
          }
          break;
        }
        if (!head_line(line)) {
          consumed = pos;
          return Status::kError;
        }
        break;
      }
      case State::kBodyLength: {
        uint64_t take = std::min<uint64_t>(remaining_, data.size() - pos);
        if (capture_) keep_body(data.data() + pos, take);
        pos += take;
        remaining_ -= take;
        body_bytes_ += take;
        if (remaining_ == 0) {
          state_ = State::kDone;
          consumed = pos;
          return Status::kComplete;
        }
        break;
      }
      case State::kBodyUntilClose:
        if (capture_) keep_body(data.data() + pos, data.size() - pos);
        body_bytes_ += data.size() - pos;
        pos = data.size();
        break;
      case State::kChunkSize: {
        bool too_long = false;
        bool whole = take_line(data, pos, limits_.max_chunk_line, too_long);
        if (too_long) {
          consumed = pos;
          return fail("chunk size line too long");
        }
        if (!whole) break;
        // Swapped, not moved out: both buffers keep their capacity, so a line costs no
        // allocation once the first responses have been read.
        std::string& line = taken_;
        line.swap(line_);
        line_.clear();
        if (!chunk_size_line(line)) {
          consumed = pos;
          return Status::kError;
        }
        break;
      }
      case State::kChunkData: {
        uint64_t take = std::min<uint64_t>(remaining_, data.size() - pos);
        if (capture_) keep_body(data.data() + pos, take);
        pos += take;
        remaining_ -= take;
        body_bytes_ += take;
        if (remaining_ == 0) state_ = State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd: {
        // Exactly CRLF (or a bare LF) must follow the chunk data.
        bool too_long = false;
        bool whole = take_line(data, pos, 2, too_long);
        if (too_long || (whole && !line_.empty())) {
          consumed = pos;
          return fail("missing CRLF after chunk data");
        }
        if (whole) state_ = State::kChunkSize;
        break;
      }
      case State::kDone:
        consumed = pos;
        return Status::kComplete;
      case State::kFailed:
        consumed = pos;
        return Status::kError;
    }
  }
  consumed = pos;
  return Status::kNeedMore;
}

bool HttpResponseParser::head_line(std::string_view line) {
  if (!status_line_seen_) {
    // "HTTP/1.1 200 OK", reason optional. Leading blank lines are tolerated (RFC 9112 2.2).
    if (line.empty()) return true;
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
        line[8] != ' ' || line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' ||
        line[11] < '0' || line[11] > '9' || (line.size() > 12 && line[12] != ' ')) {
      fail("bad status line");
      return false;
    }
    minor_version_ = line[7] - '0';
    status_code_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    status_line_seen_ = true;
    return true;
  }
  if (line.front() == ' ' || line.front() == '\t') {
    fail("obsolete header line folding");
    return false;
  }
  if (++header_count_ > limits_.max_headers) {
    fail("too many header fields");
    return false;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    fail("malformed header field");
    return false;
  }
  std::string_view name = line.substr(0, colon);
  for (char c : name) {
    if (!is_token_char(c)) {
      fail("bad character in header name");
      return false;
    }
  }
  return header_field(name, trim(line.substr(colon + 1), " \t"));
}

bool HttpResponseParser::header_field(std::string_view name, std::string_view value) {
  if (capture_) headers_.emplace_back(name, value);
  if (iequals(name, "content-length")) {
    // Repeated values ("5, 5" or two fields) must agree; anything else is a smuggling risk.
    bool ok = true;
    for_each_element(value, [&](std::string_view item) {
      if (!ok) return;
      uint64_t n = 0;
      for (char c : item) {
        if (c < '0' || c > '9' || n > kMaxBodyLength / 10) {
          ok = false;
          return;
        }
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (n > kMaxBodyLength || (has_length_ && n != content_length_)) ok = false;
      content_length_ = n;
      has_length_ = true;
    });
    if (!ok || !has_length_) {
      fail("bad Content-Length");
      return false;
    }
  } else if (iequals(name, "transfer-encoding")) {
    // Only the last coding decides the framing; chunked anywhere but last is not framing.
    for_each_element(value, [&](std::string_view item) {
      std::string_view coding = trim(item.substr(0, item.find(';')), " \t");
      if (chunked_) {
        chunked_ = false;
        other_encoding_ = true;
      }
      if (iequals(coding, "chunked"))
        chunked_ = true;
      else
        other_encoding_ = true;
    });
  } else if (iequals(name, "connection")) {
    for_each_element(value, [&](std::string_view item) {
      if (iequals(item, "close")) connection_close_ = true;
      if (iequals(item, "keep-alive")) connection_keep_alive_ = true;
    });
  }
  return true;
}

HttpResponseParser::Status HttpResponseParser::end_of_head() {
  if (status_code_ == 101) return fail("unexpected protocol switch (101)");
  if (status_code_ < 200) {
    // An interim response (100 Continue, 103 Early Hints): the real one follows.
    bool keep_head = head_request_;
    reset(keep_head, capture_);
    started_ = true;
    return Status::kNeedMore;
  }
  keep_alive_ =
      minor_version_ == 1 ? !connection_close_ : (connection_keep_alive_ && !connection_close_);
  if (head_request_ || status_code_ == 204 || status_code_ == 304) {
    state_ = State::kDone;
    return Status::kComplete;
  }
  if (chunked_ || other_encoding_) {
    if (chunked_ && !other_encoding_) {
      // Transfer-Encoding overrides Content-Length (RFC 9112 6.3); the connection is then
      // suspect, so do not reuse it.
      if (has_length_) keep_alive_ = false;
      header_count_ = 0;
      head_bytes_ = 0;
      state_ = State::kChunkSize;
      return Status::kNeedMore;
    }
    // A coding we cannot frame: the body runs to the close.
    keep_alive_ = false;
    state_ = State::kBodyUntilClose;
    return Status::kNeedMore;
  }
  if (has_length_) {
    if (content_length_ == 0) {
      state_ = State::kDone;
      return Status::kComplete;
    }
    remaining_ = content_length_;
    state_ = State::kBodyLength;
    return Status::kNeedMore;
  }
  keep_alive_ = false;
  state_ = State::kBodyUntilClose;
  return Status::kNeedMore;
}

bool HttpResponseParser::chunk_size_line(std::string_view line) {
  std::string_view size_text = line.substr(0, line.find(';'));
  // Whitespace before an extension is allowed by the grammar (BWS); inside the number it is not.
  while (!size_text.empty() && (size_text.back() == ' ' || size_text.back() == '\t'))
    size_text.remove_suffix(1);
  if (size_text.empty() || size_text.size() > 15) {
    fail("bad chunk size");
    return false;
  }
  uint64_t n = 0;
  for (char c : size_text) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else {
      fail("bad chunk size");
      return false;
    }
    n = n * 16 + static_cast<uint64_t>(digit);
  }
  if (n == 0) {
    state_ = State::kTrailers;
    return true;
  }
  remaining_ = n;
  state_ = State::kChunkData;
  return true;
}

HttpResponseParser::Status HttpResponseParser::finish_eof() {
  if (state_ == State::kDone) return Status::kComplete;
  if (state_ == State::kFailed) return Status::kError;
  if (state_ == State::kBodyUntilClose) {
    state_ = State::kDone;
    keep_alive_ = false;
    return Status::kComplete;
  }
  if (!started_) return fail("connection closed before response");
  return fail(state_ == State::kHead ? "connection closed in headers"
                                     : "connection closed mid-body");
}

}  // namespace netres::load
