// Deadlines, host resolution (hosts file, then the resolver on the loop), transport reasons and TLS
// facts.
#include "monitor/probe_util.h"

#include <openssl/x509.h>

#include <asio/co_spawn.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <ctime>

#include "common/error.h"
#include "resolve/async_resolver.h"
#include "resolve/hosts_file.h"
#include "resolve/lookup.h"

namespace netres::monitor {

asio::ssl::context& ProbeContext::tls_context(const std::string& ca_file, bool insecure) {
  auto key = std::make_pair(ca_file, insecure);
  auto it = tls_.find(key);
  if (it != tls_.end()) return *it->second;
  auto c = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  std::error_code ec;
  if (ca_file.empty())
    c->set_default_verify_paths(ec);
  else
    c->load_verify_file(ca_file, ec);
  if (ec) throw UsageError("cannot load CA file '" + ca_file + "': " + ec.message());
  // Insecure probes still let OpenSSL verify (the result is exported), they only go on when it
  // fails.
  c->set_verify_mode(insecure ? asio::ssl::verify_none : asio::ssl::verify_peer);
  return *tls_.emplace(key, std::move(c)).first->second;
}

const std::string& ProbeContext::hosts_text() {
  if (!hosts_) hosts_ = resolve::read_hosts_file();
  return *hosts_;
}

Deadline::Deadline(asio::io_context& io, Clock::time_point at, std::function<void()> on_fire)
    : state_(std::make_shared<State>()), timer_(io) {
  state_->on_fire = std::move(on_fire);
  timer_.expires_at(at);
  timer_.async_wait([s = state_](std::error_code ec) {
    if (ec || !s->alive) return;
    s->fired = true;
    if (s->on_fire) s->on_fire();
  });
}

Deadline::~Deadline() {
  state_->alive = false;
  timer_.cancel();
}

asio::awaitable<ResolvedHost> resolve_host(ProbeContext& ctx, const std::string& host,
                                           uint16_t port, Nanos timeout) {
  ResolvedHost out;
  std::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (!ec) {
    out.endpoints.emplace_back(addr, port);
    co_return out;
  }
  auto start = Clock::now();
  for (const auto& a : resolve::hosts_file_addresses(ctx.hosts_text(), host)) {
    auto ip = asio::ip::make_address(a, ec);
    if (!ec) out.endpoints.emplace_back(ip, port);
  }
  if (!out.endpoints.empty()) {
    out.seconds = seconds_since(start);
    co_return out;
  }
  // Then DNS: the servers of /etc/resolv.conf, on the event loop.
  resolve::AsyncQueryOptions options;
  options.timeout = std::max<Nanos>(timeout / 2, std::chrono::milliseconds(50));
  options.tries = 2;
  auto op = ctx.resolver().async_lookup_host(host, options, asio::use_awaitable);  // named: see
  resolve::HostAddresses found = co_await std::move(op);  // check_dns.cc on co_await temporaries
  out.seconds = seconds_since(start);
  if (!found.error.empty()) {
    out.error = found.error;
    co_return out;
  }
  for (const auto& a : found.addresses) {
    auto ip = asio::ip::make_address(a, ec);
    if (!ec) out.endpoints.emplace_back(ip, port);
  }
  if (out.endpoints.empty()) out.error = "no address";
  co_return out;
}

asio::awaitable<std::vector<asio::ip::tcp::endpoint>> resolve_for_probe(
    ProbeContext& ctx, const std::string& host, uint16_t port, Clock::time_point deadline_at,
    const Deadline& deadline, ProbeResult& r) {
  auto resolved = co_await resolve_host(
      ctx, host, port, std::chrono::duration_cast<Nanos>(deadline_at - Clock::now()));
  r.set("probe_dns_lookup_time_seconds", resolved.seconds);
  if (!resolved.error.empty()) {
    r.fail(deadline.fired() ? "timeout" : "dns", "resolve " + host + ": " + resolved.error);
    co_return std::vector<asio::ip::tcp::endpoint>{};
  }
  r.set("probe_ip_protocol", resolved.endpoints.front().address().is_v6() ? 6 : 4);
  co_return std::move(resolved.endpoints);
}

std::pair<std::string, std::string> transport_reason(const std::error_code& ec, bool timed_out) {
  if (timed_out) return {"timeout", "timeout"};
  if (ec == asio::error::connection_refused) return {"refused", "connection refused"};
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    return {"reset", "connection reset"};
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
    return {"eof", "connection closed early"};
  if (ec == asio::error::host_unreachable || ec == asio::error::network_unreachable)
    return {"unreachable", ec.message()};
  if (ec == asio::error::timed_out) return {"timeout", "timeout"};
  if (ec.category() == asio::error::get_ssl_category())
    return {"tls_handshake", "tls: " + ec.message()};
  return {"error", ec.message()};
}

double cert_not_after(X509* cert) {
  std::tm tm{};
  if (!cert || ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<double>(timegm(&tm));
}

void add_tls_facts(SSL* ssl, ProbeResult& r) {
  if (!ssl) return;
  // blackbox_exporter's spelling: "TLS 1.3".
  std::string version = SSL_get_version(ssl);
  if (version.starts_with("TLSv")) version = "TLS " + version.substr(4);
  r.set("probe_tls_version_info", 1, {{"version", version}});
  if (const char* cipher = SSL_get_cipher_name(ssl))
    r.set("probe_tls_cipher_info", 1, {{"cipher", cipher}});
  add_cert_facts(ssl, r);
}

void add_cert_facts(SSL* ssl, ProbeResult& r) {
  if (!ssl) return;
  double earliest = 0;
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  if (chain) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      double t = cert_not_after(sk_X509_value(chain, i));
      if (t > 0 && (earliest == 0 || t < earliest)) earliest = t;
    }
  }
  // A client's chain starts with the server's own certificate, which OpenSSL records as the
  // peer only once it verified: after a failed verification the chain's first is the leaf.
  X509* leaf = SSL_get1_peer_certificate(ssl);
  if (!leaf && chain && sk_X509_num(chain) > 0) {
    leaf = sk_X509_value(chain, 0);
    X509_up_ref(leaf);
  }
  if (leaf) {
    double t = cert_not_after(leaf);
    r.set("netres_probe_ssl_leaf_cert_expiry", t);
    if (earliest == 0 || (t > 0 && t < earliest)) earliest = t;
    X509_free(leaf);
  }
  if (earliest > 0) r.set("probe_ssl_earliest_cert_expiry", earliest);
  const bool ok = SSL_get_verify_result(ssl) == X509_V_OK;
  STACK_OF(X509)* verified = ok ? SSL_get0_verified_chain(ssl) : nullptr;
  if (verified) {
    double e = 0;
    for (int i = 0; i < sk_X509_num(verified); ++i) {
      double t = cert_not_after(sk_X509_value(verified, i));
      if (t > 0 && (e == 0 || t < e)) e = t;
    }
    if (e > 0) r.set("probe_ssl_last_chain_expiry_timestamp_seconds", e);
  }
  r.set("netres_probe_ssl_verified", ok ? 1 : 0);
}

}  // namespace netres::monitor
