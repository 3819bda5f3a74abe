// The http check: one connection per hop (redirects followed up to max_redirects), phases timed
// as blackbox_exporter names them (resolve, connect, tls, processing, transfer; summed over the
// hops), then status, version, header and body checks on the final response. Over TLS, ALPN
// offers h2 (enable_http2) and an HTTP/2 server is spoken to by check_http2.cc.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "load/http_response_parser.h"
#include "load/url.h"
#include "monitor/check_http2.h"
#include "monitor/checks.h"
#include "monitor/probe_stream.h"

namespace netres::monitor {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string header_value(const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view name, bool& found) {
  found = false;
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) {
      found = true;
      return v;
    }
  return {};
}

// The next URL from a Location header: absolute, or a path on the same origin.
std::optional<load::Url> follow(const load::Url& from, const std::string& location) {
  try {
    if (location.starts_with("http://") || location.starts_with("https://"))
      return load::parse_url(location);
    if (location.starts_with("/") && !location.starts_with("//")) {
      load::Url u = from;
      u.target = location;
      return u;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

struct Phases {
  double resolve = 0, connect = 0, tls = 0, processing = 0, transfer = 0;
};

// HTTP/1.1 over the probe's connection: the request with Connection: close, then the response
// read until complete (or the peer's close, for a body delimited by it).
asio::awaitable<bool> exchange_http1(ProbeStream& stream, const CheckSpec& c, const load::Url& url,
                                     const Deadline& deadline, ProbeResult& r, Phases& ph,
                                     HttpResponse& out) {
  std::string req =
      fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n", c.method, url.target, url.host_header());
  bool has_ua = false, has_accept = false;
  for (const auto& [k, v] : c.headers) {
    req += fmt::format("{}: {}\r\n", k, v);
    has_ua |= iequals(k, "User-Agent");
    has_accept |= iequals(k, "Accept");
  }
  if (!has_ua) req += "User-Agent: netres-monitor\r\n";
  if (!has_accept) req += "Accept: */*\r\n";
  if (!c.body.empty() || c.method == "POST" || c.method == "PUT")
    req += fmt::format("Content-Length: {}\r\n", c.body.size());
  req += "Connection: close\r\n\r\n";
  req += c.body;
  auto sent_at = Clock::now();
  std::error_code ec;
  co_await stream.write(req, ec);
  if (ec) {
    auto [why, text] = transport_reason(ec, deadline.fired());
    r.fail(why, "send: " + text);
    co_return false;
  }
  load::HttpResponseParser parser;
  parser.reset(c.method == "HEAD", true);
  char buf[16384];
  bool first = true;
  Clock::time_point first_byte{};
  auto status = load::HttpResponseParser::Status::kNeedMore;
  for (int reads = 0; status == load::HttpResponseParser::Status::kNeedMore && reads < 100000;
       ++reads) {
    size_t n = co_await stream.read_some(buf, sizeof buf, ec);
    if (first && !ec) {
      first = false;
      first_byte = Clock::now();
      ph.processing += std::chrono::duration<double>(first_byte - sent_at).count();
    }
    if (ec) {
      if (!deadline.fired() &&
          (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)) {
        status = parser.finish_eof();
        if (status == load::HttpResponseParser::Status::kError)
          r.fail("protocol", "response: " + parser.error());
      } else {
        auto [why, text] = transport_reason(ec, deadline.fired());
        r.fail(why, "response: " + text);
        status = load::HttpResponseParser::Status::kError;
      }
      break;
    }
    size_t used = 0;
    std::string_view data(buf, n);
    while (!data.empty() && status == load::HttpResponseParser::Status::kNeedMore) {
      status = parser.feed(data, used);
      data.remove_prefix(used);
    }
    if (status == load::HttpResponseParser::Status::kError)
      r.fail("protocol", "malformed response: " + parser.error());
  }
  if (!first) ph.transfer += seconds_since(first_byte);
  if (status != load::HttpResponseParser::Status::kComplete) {
    if (r.reason.empty()) r.fail("protocol", "incomplete response");
    co_return false;
  }
  out.status = parser.status_code();
  out.version = parser.minor_version() == 0 ? "HTTP/1.0" : "HTTP/1.1";
  out.version_number = parser.minor_version() == 0 ? 1.0 : 1.1;
  out.headers = parser.headers();
  out.body = parser.body();
  out.body_bytes = parser.body_bytes();
  co_return true;
}

}  // namespace

asio::awaitable<ProbeResult> probe_http(ProbeContext& ctx, const CheckSpec& c,
                                        const std::string& address, Clock::time_point deadline_at) {
  ProbeResult r;
  load::Url url = load::parse_url(address);
  Phases ph;
  int redirects = 0;
  HttpResponse resp;
  bool done = false;
  bool final_tls = false;
  while (!done) {
    ProbeStream stream(ctx.io());
    Deadline deadline(ctx.io(), deadline_at, [&stream] { stream.close(); });
    auto resolved = co_await resolve_host(
        ctx, url.host, url.port, std::chrono::duration_cast<Nanos>(deadline_at - Clock::now()));
    ph.resolve += resolved.seconds;
    if (!resolved.error.empty()) {
      r.fail(deadline.fired() ? "timeout" : "dns", "resolve " + url.host + ": " + resolved.error);
      break;
    }
    if (redirects == 0)
      r.set("probe_ip_protocol", resolved.endpoints.front().address().is_v6() ? 6 : 4);
    double connect_s = 0, tls_s = 0;
    bool ok = co_await stream.connect(resolved.endpoints, deadline, r, connect_s);
    ph.connect += connect_s;
    if (!ok) break;
    final_tls = url.tls;
    if (url.tls) {
      auto& tls = ctx.tls_context(c.ca_file, c.insecure);
      std::string name = c.server_name.empty() ? url.host : c.server_name;
      ok = co_await stream.handshake(tls, name, c.insecure, deadline, r, tls_s,
                                     c.enable_http2 ? kAlpnH2AndHttp11 : std::string_view());
      ph.tls += tls_s;
      if (!ok) break;
    }
    // https: the server's ALPN choice; http: only when told the server speaks h2c.
    if (url.tls ? stream.alpn() == "h2" : c.http2_prior_knowledge) {
      if (!co_await exchange_http2(stream, c, url, deadline, r, ph.processing, ph.transfer, resp))
        break;
    } else if (!co_await exchange_http1(stream, c, url, deadline, r, ph, resp)) {
      break;
    }
    const int code = resp.status;
    bool has_location = false;
    std::string location = header_value(resp.headers, "Location", has_location);
    if (c.follow_redirects && code >= 300 && code < 400 && has_location) {
      if (redirects >= c.max_redirects) {
        r.fail("redirects", fmt::format("more than {} redirects", c.max_redirects));
        break;
      }
      auto next = follow(url, location);
      if (!next) {
        r.fail("redirects", "cannot follow Location '" + location + "'");
        break;
      }
      ++redirects;
      url = *next;
      continue;
    }
    done = true;
  }
  r.set("probe_http_duration_seconds", ph.resolve, {{"phase", "resolve"}});
  r.set("probe_http_duration_seconds", ph.connect, {{"phase", "connect"}});
  r.set("probe_http_duration_seconds", ph.tls, {{"phase", "tls"}});
  r.set("probe_http_duration_seconds", ph.processing, {{"phase", "processing"}});
  r.set("probe_http_duration_seconds", ph.transfer, {{"phase", "transfer"}});
  r.set("probe_dns_lookup_time_seconds", ph.resolve);
  r.set("probe_http_redirects", redirects);
  r.set("probe_http_ssl", final_tls && done ? 1 : 0);
  if (!done) {
    r.set("probe_http_status_code", 0);
    co_return r;
  }
  const int code = resp.status;
  r.set("probe_http_status_code", code);
  r.set("probe_http_version", resp.version_number);
  bool has_length = false;
  std::string length = header_value(resp.headers, "Content-Length", has_length);
  double content_length = -1;
  if (has_length) {
    try {
      content_length = std::stod(length);
    } catch (const std::exception&) {
    }
  }
  r.set("probe_http_content_length", content_length);
  r.set("probe_http_uncompressed_body_length", static_cast<double>(resp.body_bytes));
  r.success = true;
  bool valid = c.valid_status_codes.empty()
                   ? code >= 200 && code < 300
                   : std::find(c.valid_status_codes.begin(), c.valid_status_codes.end(), code) !=
                         c.valid_status_codes.end();
  if (!valid) r.fail("status", fmt::format("status {}", code));
  const std::string& version = resp.version;
  if (!c.valid_http_versions.empty() &&
      std::find(c.valid_http_versions.begin(), c.valid_http_versions.end(), version) ==
          c.valid_http_versions.end())
    r.fail("http_version", version + " not accepted");
  if (c.fail_if_ssl && final_tls) r.fail("ssl", "TLS used (fail_if_ssl)");
  if (c.fail_if_not_ssl && !final_tls) r.fail("ssl", "TLS not used (fail_if_not_ssl)");
  bool regex_failed = false;
  for (const auto& hp : c.fail_if_header_matches) {
    bool found = false;
    std::string v = header_value(resp.headers, hp.header, found);
    if (found && std::regex_search(v, hp.pattern.re)) {
      r.fail("regex", fmt::format("header {} matches /{}/", hp.header, hp.pattern.text));
      regex_failed = true;
    }
  }
  for (const auto& hp : c.fail_if_header_not_matches) {
    bool found = false;
    std::string v = header_value(resp.headers, hp.header, found);
    if ((!found && !hp.allow_missing) || (found && !std::regex_search(v, hp.pattern.re))) {
      r.fail("regex", fmt::format("header {} does not match /{}/", hp.header, hp.pattern.text));
      regex_failed = true;
    }
  }
  for (const auto& p : c.fail_if_body_matches)
    if (std::regex_search(resp.body, p.re)) {
      r.fail("regex", fmt::format("body matches /{}/", p.text));
      regex_failed = true;
    }
  for (const auto& p : c.fail_if_body_not_matches)
    if (!std::regex_search(resp.body, p.re)) {
      r.fail("regex", fmt::format("body does not match /{}/", p.text));
      regex_failed = true;
    }
  r.set("probe_failed_due_to_regex", regex_failed ? 1 : 0);
  r.success = r.reason.empty();
  co_return r;
}

}  // namespace netres::monitor
