// The tcp check: connect (and TLS), then the banner and send/expect steps, line by line.
#include <fmt/format.h>

#include "common/text.h"
#include "load/url.h"
#include "monitor/checks.h"
#include "monitor/probe_stream.h"

namespace netres::monitor {

HostPort split_address(const std::string& address, uint16_t default_port) {
  HostPort hp;
  if (address.starts_with("http://") || address.starts_with("https://")) {
    load::Url u = load::parse_url(address);
    hp.host = u.host;
    hp.port = u.port;
    return hp;
  }
  Endpoint ep = split_endpoint(address);
  hp.host = std::string(ep.host);
  hp.port = default_port;
  if (auto p = parse_port_number(ep.port)) hp.port = *p;
  return hp;
}

namespace {

// Reads until a complete line matches `re` (or, failing that, the whole buffer does): the
// SMTP/FTP style of multi-line greetings. False on EOF, error or deadline.
asio::awaitable<bool> expect_line(ProbeStream& s, std::string& buffer, const Pattern& p,
                                  const Deadline& deadline, ProbeResult& r, std::string_view what) {
  char chunk[4096];
  size_t scanned = 0;
  for (int reads = 0; reads < 1024; ++reads) {
    size_t nl;
    while ((nl = buffer.find('\n', scanned)) != std::string::npos) {
      std::string line = buffer.substr(scanned, nl - scanned);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      scanned = nl + 1;
      if (std::regex_search(line, p.re)) {
        buffer.erase(0, scanned);
        co_return true;
      }
    }
    if (buffer.size() > 64 * 1024) break;
    std::error_code ec;
    size_t n = co_await s.read_some(chunk, sizeof chunk, ec);
    if (ec) {
      if (std::regex_search(buffer, p.re)) {
        buffer.clear();
        co_return true;
      }
      auto [why, text] = transport_reason(ec, deadline.fired());
      if (why == "eof")
        r.fail("regex",
               fmt::format("{}: no line matched /{}/ before the peer closed", what, p.text));
      else
        r.fail(why, fmt::format("{}: {}", what, text));
      co_return false;
    }
    buffer.append(chunk, n);
  }
  r.fail("regex", fmt::format("{}: no line matched /{}/", what, p.text));
  co_return false;
}

}  // namespace

asio::awaitable<ProbeResult> probe_tcp(ProbeContext& ctx, const CheckSpec& c,
                                       const std::string& address, Clock::time_point deadline_at) {
  ProbeResult r;
  HostPort hp = split_address(address, 0);
  if (hp.port == 0 || hp.host.empty()) {  // only through /probe: the loader checks its targets
    r.fail("error", "address needs a host and a port (host:port), got '" + address + "'");
    co_return r;
  }
  ProbeStream stream(ctx.io());
  Deadline deadline(ctx.io(), deadline_at, [&stream] { stream.close(); });
  auto endpoints = co_await resolve_for_probe(ctx, hp.host, hp.port, deadline_at, deadline, r);
  if (endpoints.empty()) co_return r;
  double connect_s = 0, tls_s = 0;
  if (!co_await stream.connect(endpoints, deadline, r, connect_s)) co_return r;
  r.set("netres_probe_tcp_connect_seconds", connect_s);
  if (c.tls) {
    auto& tls = ctx.tls_context(c.ca_file, c.insecure);
    std::string name = c.server_name.empty() ? hp.host : c.server_name;
    if (!co_await stream.handshake(tls, name, c.insecure, deadline, r, tls_s)) co_return r;
    r.set("netres_probe_tls_handshake_seconds", tls_s);
  }
  std::string buffer;
  if (c.banner && !co_await expect_line(stream, buffer, *c.banner, deadline, r, "banner"))
    co_return r;
  for (size_t i = 0; i < c.steps.size(); ++i) {
    const TcpStep& step = c.steps[i];
    if (step.send) {
      std::error_code ec;
      co_await stream.write(*step.send, ec);
      if (ec) {
        auto [why, text] = transport_reason(ec, deadline.fired());
        r.fail(why, fmt::format("step {}: send: {}", i + 1, text));
        co_return r;
      }
    }
    const std::string what = fmt::format("step {}", i + 1);
    if (step.expect && !co_await expect_line(stream, buffer, *step.expect, deadline, r, what))
      co_return r;
  }
  r.success = true;
  co_return r;
}

}  // namespace netres::monitor
