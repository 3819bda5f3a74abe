// Pieces the check kinds share: a probe deadline that closes sockets, host resolution (hosts
// file, then netres's resolver on the event loop), blocking work on the pool, error-code reasons,
// TLS facts (versions, chain expiries).
#pragma once

#include <openssl/ssl.h>

#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "monitor/probe.h"

namespace netres::monitor {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Calls `on_fire` once when the deadline passes (typically: close the probe's sockets, so every
// pending operation ends). Cancelled on destruction; the handler never outlives it.
class Deadline {
 public:
  Deadline(asio::io_context& io, Clock::time_point at, std::function<void()> on_fire);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  bool fired() const { return state_->fired; }
  void set_action(std::function<void()> on_fire) { state_->on_fire = std::move(on_fire); }

 private:
  struct State {
    bool fired = false;
    bool alive = true;
    std::function<void()> on_fire;
  };
  std::shared_ptr<State> state_;
  asio::steady_timer timer_;
};

// Runs f() on the pool (for blocking work: libssh's handshake, a libpcap capture) and
// resumes the calling coroutine on its own executor with the result. The loop counts the call as
// outstanding work, so io_context::run() does not return while it is away.
template <typename R>
struct PoolInitiation {
  asio::thread_pool* pool;
  template <typename Handler, typename F>
  void operator()(Handler handler, F fn) const {
    auto work = asio::make_work_guard(asio::get_associated_executor(handler));
    asio::post(*pool, Finish<Handler, F>{std::move(handler), std::move(fn), std::move(work)});
  }
  template <typename Handler, typename F>
  struct Finish {
    Handler handler;
    F fn;
    asio::executor_work_guard<asio::associated_executor_t<Handler>> work;
    void operator()() {
      auto ex = work.get_executor();
      asio::post(ex, Deliver<Handler>{std::move(handler), fn(), std::move(work)});
    }
  };
  template <typename Handler>
  struct Deliver {
    Handler handler;
    R result;
    asio::executor_work_guard<asio::associated_executor_t<Handler>> work;
    void operator()() { std::move(handler)(std::move(result)); }
  };
};
// No coroutine of its own (and no lambda inside one): GCC 12 mishandles captures there.
template <typename R, typename F>
auto on_pool(asio::thread_pool& pool, F f) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
      PoolInitiation<R>{&pool}, asio::use_awaitable, std::move(f));
}

struct ResolvedHost {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  std::string error;  // empty on success
  double seconds = 0;
};

// An IP literal at once; a name in /etc/hosts (read once), else through the context's
// AsyncResolver (A and AAAA from the servers of /etc/resolv.conf), on the event loop.
asio::awaitable<ResolvedHost> resolve_host(ProbeContext& ctx, const std::string& host,
                                           uint16_t port, Nanos timeout);

// resolve_host for a probe that connects: records probe_dns_lookup_time_seconds and
// probe_ip_protocol in `r`, or fails it ("timeout" once `deadline` fired, else "dns") and returns
// no endpoints.
asio::awaitable<std::vector<asio::ip::tcp::endpoint>> resolve_for_probe(
    ProbeContext& ctx, const std::string& host, uint16_t port, Clock::time_point deadline_at,
    const Deadline& deadline, ProbeResult& r);

// The reason label and text for a transport error; `timed_out` wins over the error itself.
std::pair<std::string, std::string> transport_reason(const std::error_code& ec, bool timed_out);

// What a finished TLS handshake says, as gauges: probe_tls_version_info{version},
// probe_tls_cipher_info{cipher}, probe_ssl_earliest_cert_expiry (earliest notAfter in the chain
// the server sent), netres_probe_ssl_leaf_cert_expiry,
// probe_ssl_last_chain_expiry_timestamp_seconds (earliest in the verified chain, when there is
// one), netres_probe_ssl_verified.
void add_tls_facts(SSL* ssl, ProbeResult& r);
// The certificate part of those (expiries and netres_probe_ssl_verified), which a handshake that
// failed verification has too: an expired or wrong-name certificate still shows its expiry and
// netres_probe_ssl_verified 0, for the CertificateExpiresSoon and CertificateNotVerified alerts.
void add_cert_facts(SSL* ssl, ProbeResult& r);

// The notAfter of a certificate as Unix seconds.
double cert_not_after(X509* cert);

}  // namespace netres::monitor
