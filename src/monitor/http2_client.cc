// Http2Client: nghttp2's client session in memory mode (mem_send / mem_recv), one stream.
#include "monitor/http2_client.h"

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace netres::monitor {

namespace {

// As the HTTP/1 parser's limits: a response is not allowed to make the monitor hold more.
constexpr size_t kMaxHeaders = 128;
constexpr size_t kMaxHeaderBytes = 64 * 1024;
// The stream's receive window: a body up to the captured size arrives without waiting for
// window updates (nghttp2 sends them on its own as data is consumed).
constexpr int32_t kWindow = 1 << 20;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Fields HTTP/2 forbids (RFC 9113 8.2.2); the check's configured headers are shared with HTTP/1.
bool connection_specific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "host" || name == "te";
}

nghttp2_nv nv(const std::string& name, const std::string& value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

std::string error_name(uint32_t code) { return nghttp2_http2_strerror(code); }

}  // namespace

// nghttp2's C callbacks, forwarding to the client (user_data).
struct Http2Client::Callbacks {
  static Http2Client& self(void* user) { return *static_cast<Http2Client*>(user); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Http2Client& c = self(user);
    if (frame->hd.stream_id != c.stream_id_) return 0;
    c.started_ = true;
    // A header block after the final status is trailers; after a 1xx, the next response.
    c.in_trailers_ = c.status_ >= 200;
    if (!c.in_trailers_) c.headers_.clear();
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    Http2Client& c = self(user);
    if (frame->hd.stream_id != c.stream_id_ || c.in_trailers_) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      int code = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), code);
      // nghttp2 has checked the value is three digits.
      c.status_ = ec == std::errc() && end == v.data() + v.size() ? code : 0;
      return 0;
    }
    if (n.starts_with(':')) return 0;
    size_t bytes = 0;
    for (const auto& [k, val] : c.headers_) bytes += k.size() + val.size();
    if (c.headers_.size() >= kMaxHeaders || bytes + n.size() + v.size() > kMaxHeaderBytes) {
      c.fail("protocol", fmt::format("response headers over {} fields or {} bytes", kMaxHeaders,
                                     kMaxHeaderBytes));
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
    }
    c.headers_.emplace_back(n, v);
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                           size_t len, void* user) {
    Http2Client& c = self(user);
    if (stream_id != c.stream_id_) return 0;
    c.started_ = true;
    c.body_bytes_ += len;
    if (c.body_.size() < c.max_body_)
      c.body_.append(reinterpret_cast<const char*>(data),
                     std::min(len, c.max_body_ - c.body_.size()));
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Http2Client& c = self(user);
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
      case NGHTTP2_DATA:
        if (frame->hd.stream_id == c.stream_id_ && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
          if (c.status_ >= 200)
            c.complete_ = true;
          else
            c.fail("protocol", "the stream ended without a final status");
        }
        break;
      case NGHTTP2_RST_STREAM:
        if (frame->hd.stream_id == c.stream_id_ && !c.complete_)
          c.fail("http2_reset", "the server reset the stream (RST_STREAM " +
                                    error_name(frame->rst_stream.error_code) + ")");
        break;
      case NGHTTP2_GOAWAY: {
        c.goaway_ = true;
        c.goaway_error_ = frame->goaway.error_code;
        c.goaway_last_stream_ = frame->goaway.last_stream_id;
        // The request was not processed, or the server ended the connection on an error.
        if (!c.complete_ &&
            (c.goaway_last_stream_ < c.stream_id_ || c.goaway_error_ != NGHTTP2_NO_ERROR))
          c.fail("http2_goaway", fmt::format("the server sent GOAWAY ({}, last stream {})",
                                             error_name(c.goaway_error_), c.goaway_last_stream_));
        break;
      }
      default:
        break;
    }
    return 0;
  }

  static int on_invalid_frame(nghttp2_session*, const nghttp2_frame*, int lib_error, void* user) {
    Http2Client& c = self(user);
    if (c.invalid_.empty()) c.invalid_ = nghttp2_strerror(lib_error);
    return 0;
  }

  // nghttp2 answers a server that broke the protocol with RST_STREAM or GOAWAY of its own.
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Http2Client& c = self(user);
    if (c.complete_) return 0;
    if (frame->hd.type == NGHTTP2_RST_STREAM && frame->hd.stream_id == c.stream_id_)
      c.fail("protocol",
             "malformed response (" +
                 (c.invalid_.empty() ? error_name(frame->rst_stream.error_code) : c.invalid_) +
                 ")");
    else if (frame->hd.type == NGHTTP2_GOAWAY)
      c.fail("protocol",
             "the server broke HTTP/2 (" +
                 (c.invalid_.empty() ? error_name(frame->goaway.error_code) : c.invalid_) + ")");
    return 0;
  }

  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) {
    Http2Client& c = self(user);
    if (stream_id != c.stream_id_ || c.complete_) return 0;
    if (c.goaway_)
      c.fail("http2_goaway", fmt::format("the server sent GOAWAY ({}, last stream {})",
                                         error_name(c.goaway_error_), c.goaway_last_stream_));
    else
      c.fail("http2_reset", "the stream closed early (" + error_name(error_code) + ")");
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                           uint32_t* data_flags, nghttp2_data_source*, void* user) {
    Http2Client& c = self(user);
    size_t n = std::min(length, c.request_body_.size() - c.request_body_sent_);
    std::memcpy(buf, c.request_body_.data() + c.request_body_sent_, n);
    c.request_body_sent_ += n;
    if (c.request_body_sent_ == c.request_body_.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
};

Http2Client::Http2Client(const Http2Request& req, size_t max_captured_body)
    : request_body_(req.body), max_body_(max_captured_body) {
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) throw std::bad_alloc();
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, Callbacks::on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, Callbacks::on_invalid_frame);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, Callbacks::on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Callbacks::on_stream_close);
  int rv = nghttp2_session_client_new(&session_, cbs, this);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) throw std::bad_alloc();

  std::array<nghttp2_settings_entry, 2> settings{
      {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
       {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kWindow)}}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kWindow);

  // The strings the name/value pairs point into; nghttp2 copies them on submit.
  std::vector<std::pair<std::string, std::string>> fields;
  std::string authority = req.authority;
  bool has_ua = false, has_accept = false;
  for (const auto& [k, v] : req.headers) {
    std::string name = lower(k);
    if (name == "host") authority = v;
    if (connection_specific(name)) continue;
    has_ua |= name == "user-agent";
    has_accept |= name == "accept";
    fields.emplace_back(std::move(name), v);
  }
  if (!has_ua) fields.emplace_back("user-agent", "netres-monitor");
  if (!has_accept) fields.emplace_back("accept", "*/*");
  if (!req.body.empty() || req.send_content_length)
    fields.emplace_back("content-length", std::to_string(req.body.size()));
  const std::string kMethod = ":method", kScheme = ":scheme", kAuthority = ":authority",
                    kPath = ":path";
  std::vector<nghttp2_nv> nva{nv(kMethod, req.method), nv(kScheme, req.scheme),
                              nv(kAuthority, authority), nv(kPath, req.path)};
  for (const auto& [k, v] : fields) nva.push_back(nv(k, v));
  nghttp2_data_provider body{};
  body.read_callback = Callbacks::read_body;
  stream_id_ = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                      req.body.empty() ? nullptr : &body, nullptr);
  if (stream_id_ < 0) {
    nghttp2_session_del(session_);
    throw std::runtime_error(std::string("http2 request: ") + nghttp2_strerror(stream_id_));
  }
}

Http2Client::~Http2Client() { nghttp2_session_del(session_); }

void Http2Client::fail(std::string reason, std::string detail) {
  if (reason_.empty() && !complete_) {
    reason_ = std::move(reason);
    detail_ = std::move(detail);
  }
}

std::string Http2Client::take_output() {
  std::string out;
  for (int i = 0; i < 1000; ++i) {  // bounded: each call returns one frame or more
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      fail("protocol", std::string("http2: ") + nghttp2_strerror(static_cast<int>(n)));
      break;
    }
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return out;
}

bool Http2Client::feed(std::string_view data) {
  if (finished()) return reason_.empty();
  ssize_t n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data.data()),
                                       data.size());
  if (n < 0)
    fail("protocol", std::string("not HTTP/2: ") + nghttp2_strerror(static_cast<int>(n)));
  else if (!finished() && !nghttp2_session_want_read(session_) &&
           !nghttp2_session_want_write(session_))
    fail("protocol", "the HTTP/2 session ended before the response" +
                         (invalid_.empty() ? std::string() : " (" + invalid_ + ")"));
  return reason_.empty();
}

void Http2Client::connection_closed() {
  if (complete_) return;
  if (goaway_)
    fail("http2_goaway", fmt::format("the server sent GOAWAY ({}, last stream {}) and closed",
                                     error_name(goaway_error_), goaway_last_stream_));
  else
    fail("eof", started_ ? "the server closed the connection before the response ended"
                         : "the server closed the connection before responding");
}

}  // namespace netres::monitor
