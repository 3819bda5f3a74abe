// The http check's HTTP/2 exchange: Http2Client's bytes moved over the probe's TLS stream.
#include "monitor/check_http2.h"

#include <asio/ssl/error.hpp>

#include "monitor/http2_client.h"

namespace netres::monitor {

asio::awaitable<bool> exchange_http2(ProbeStream& stream, const CheckSpec& c, const load::Url& url,
                                     const Deadline& deadline, ProbeResult& r, double& processing,
                                     double& transfer, HttpResponse& out) {
  Http2Request req;
  req.method = c.method;
  req.scheme = url.tls ? "https" : "http";
  req.authority = url.host_header();
  req.path = url.target;
  req.headers = c.headers;
  req.body = c.body;
  req.send_content_length = c.method == "POST" || c.method == "PUT";
  Http2Client h2(req);
  std::error_code ec;
  Clock::time_point sent_at{}, first_frame{};
  bool request_sent = false;
  char buf[16384];
  // Bounded as the HTTP/1 reader: the deadline closes the stream long before.
  for (int rounds = 0; !h2.finished() && rounds < 100000; ++rounds) {
    std::string output = h2.take_output();
    if (h2.finished()) break;
    if (!output.empty()) {
      co_await stream.write(output, ec);
      if (ec) break;
      // The request goes out with the first write (preface, SETTINGS, HEADERS in one piece).
      if (!request_sent) {
        request_sent = true;
        sent_at = Clock::now();
      }
    }
    size_t n = co_await stream.read_some(buf, sizeof buf, ec);
    if (ec) break;
    bool started = h2.response_started();
    h2.feed(std::string_view(buf, n));
    if (!started && h2.response_started()) {
      first_frame = Clock::now();
      processing += std::chrono::duration<double>(first_frame - sent_at).count();
    }
  }
  if (h2.response_started()) transfer += seconds_since(first_frame);
  if (ec && !h2.finished()) {
    if (!deadline.fired() && (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)) {
      h2.connection_closed();
    } else {
      auto [why, text] = transport_reason(ec, deadline.fired());
      r.fail(why, "http2: " + text);
      co_return false;
    }
  }
  if (!h2.complete()) {
    r.fail(h2.reason().empty() ? "protocol" : h2.reason(),
           "http2: " + (h2.detail().empty() ? "incomplete response" : h2.detail()));
    co_return false;
  }
  out.status = h2.status();
  out.version = "HTTP/2.0";
  out.version_number = 2;
  out.headers = h2.headers();
  out.body = h2.body();
  out.body_bytes = h2.body_bytes();
  co_return true;
}

}  // namespace netres::monitor
