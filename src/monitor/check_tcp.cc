// The tcp check: connect (and TLS), then the banner and send/expect steps, line by line.
#include <fmt/format.h>

#include "common/text.h"
#include "load/url.h"
#include "monitor/checks.h"
#include "monitor/probe_stream.h"
#include "monitor/starttls.h"

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

// SMTP's EHLO argument: a fixed name in the reserved .invalid domain, as sslyze and testssl.sh
// send theirs. Not the client's address literal: exim (helo_lookup_domains = @ : @[]) verifies a
// HELO naming one of its own addresses by a reverse lookup, so probing a local server waited on
// DNS (the probe timed out where DNS does not answer). Not this machine's hostname, for the same
// reason when the server runs here.
constexpr std::string_view kEhloName = "netres-monitor.invalid";

// The protocol's plaintext dialogue up to the server's go-ahead (starttls: PROTOCOL); the banner
// regex meets the greeting on the way.
asio::awaitable<bool> starttls_dialogue(ProbeStream& s, const CheckSpec& c, const std::string& name,
                                        const Deadline& deadline, ProbeResult& r) {
  const std::string_view proto = starttls_protocol_name(*c.starttls);
  const auto start = Clock::now();
  StarttlsDialogue d(*c.starttls, name, std::string(kEhloName));
  StarttlsDialogue::Action a = d.start();
  bool banner_pending = c.banner.has_value();
  char chunk[4096];
  // Bounded twice: each read brings a byte at least, and the dialogue fails past 64 KiB.
  for (int rounds = 0; rounds < 100000; ++rounds) {
    if (banner_pending && d.greeting_done()) {
      banner_pending = false;
      bool matched = false;
      for (const auto& line : d.greeting())
        matched = matched || std::regex_search(line, c.banner->re);
      if (!matched) {
        std::string text;
        for (const auto& line : d.greeting()) text += (text.empty() ? "" : " | ") + line;
        r.fail("regex", fmt::format("banner: the {} greeting '{}' does not match /{}/", proto,
                                    printable(text), c.banner->text));
        co_return false;
      }
    }
    if (a.state == StarttlsDialogue::State::kFail) {
      r.fail(d.reason(), fmt::format("starttls {}: {}", proto, d.detail()));
      co_return false;
    }
    if (!a.send.empty()) {
      std::error_code ec;
      co_await s.write(a.send, ec);
      if (ec) {
        auto [why, text] = transport_reason(ec, deadline.fired());
        r.fail(why, fmt::format("starttls {}: send: {}", proto, text));
        co_return false;
      }
      if (a.state == StarttlsDialogue::State::kRead) {
        a = d.feed({});  // a reply already buffered comes first
        continue;
      }
    }
    if (a.state == StarttlsDialogue::State::kTls) {
      r.set("netres_probe_starttls_seconds", seconds_since(start));
      co_return true;
    }
    std::error_code ec;
    size_t n = co_await s.read_some(chunk, sizeof chunk, ec);
    if (ec) {
      auto [why, text] = transport_reason(ec, deadline.fired());
      r.fail(why, fmt::format("starttls {}: {}", proto,
                              why == "eof" ? "the server closed the connection before TLS" : text));
      co_return false;
    }
    a = d.feed(std::string_view(chunk, n));
  }
  r.fail("protocol", fmt::format("starttls {}: no end to the dialogue", proto));
  co_return false;
}

asio::awaitable<bool> start_tls(ProbeContext& ctx, ProbeStream& stream, const CheckSpec& c,
                                const std::string& host, const Deadline& deadline, ProbeResult& r) {
  double tls_s = 0;
  auto& tls = ctx.tls_context(c.ca_file, c.insecure);
  std::string name = c.server_name.empty() ? host : c.server_name;
  if (!co_await stream.handshake(tls, name, c.insecure, deadline, r, tls_s)) co_return false;
  r.set("netres_probe_tls_handshake_seconds", tls_s);
  co_return true;
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
  double connect_s = 0;
  if (!co_await stream.connect(endpoints, deadline, r, connect_s)) co_return r;
  r.set("netres_probe_tcp_connect_seconds", connect_s);
  if (c.tls && !co_await start_tls(ctx, stream, c, hp.host, deadline, r)) co_return r;
  if (c.starttls) {
    const std::string& name = c.server_name.empty() ? hp.host : c.server_name;
    if (!co_await starttls_dialogue(stream, c, name, deadline, r)) co_return r;
    if (!co_await start_tls(ctx, stream, c, hp.host, deadline, r)) co_return r;
  }
  std::string buffer;
  if (c.banner && !c.starttls &&
      !co_await expect_line(stream, buffer, *c.banner, deadline, r, "banner"))
    co_return r;
  for (size_t i = 0; i < c.steps.size(); ++i) {
    const TcpStep& step = c.steps[i];
    if (step.starttls) {
      // What the server sent beyond the last expect would be read as if it came over TLS.
      if (!buffer.empty()) {
        r.fail("protocol", fmt::format("step {}: {} bytes after the last expect and before TLS",
                                       i + 1, buffer.size()));
        co_return r;
      }
      if (!co_await start_tls(ctx, stream, c, hp.host, deadline, r)) co_return r;
      continue;
    }
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
