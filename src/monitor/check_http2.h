// The http check's response, whichever HTTP version carried it, and the HTTP/2 exchange over a
// probe's TLS connection once ALPN chose "h2" (check_http2.cc; the protocol is http2_client.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "load/url.h"
#include "monitor/probe_stream.h"

namespace netres::monitor {

struct HttpResponse {
  int status = 0;
  std::string version;        // "HTTP/1.0", "HTTP/1.1", "HTTP/2.0" (valid_http_versions' spelling)
  double version_number = 0;  // probe_http_version: 1.0, 1.1, 2
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // the first 1 MiB
  uint64_t body_bytes = 0;
};

// The ALPN list the http check offers when HTTP/2 is enabled (wire format: h2, http/1.1).
inline constexpr std::string_view kAlpnH2AndHttp11{"\x02h2\x08http/1.1", 12};

// Sends c's request for `url` as stream 1 and reads the response into `out` within `deadline`.
// On failure sets r's reason and returns false. Adds the processing phase (request sent to the
// first HEADERS or DATA frame of the stream) and the transfer phase (from there to END_STREAM).
asio::awaitable<bool> exchange_http2(ProbeStream& stream, const CheckSpec& c, const load::Url& url,
                                     const Deadline& deadline, ProbeResult& r, double& processing,
                                     double& transfer, HttpResponse& out);

}  // namespace netres::monitor
