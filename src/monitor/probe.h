// One probe of one target with one check: what it found (success, the failure reason, the
// blackbox_exporter-named gauges) and the shared machinery the check kinds use (an event loop,
// netres's asynchronous resolver on that loop, a small thread pool for blocking libraries (libssh,
// libpcap captures), cached TLS contexts).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>
#include <asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "monitor/config.h"
#include "monitor/exposition.h"
#include "monitor/probe_result.h"
#include "resolve/async_resolver.h"

namespace netres::monitor {

// What every probe of one monitor shares; lives on the event loop's thread.
class ProbeContext {
 public:
  ProbeContext(asio::io_context& io, asio::thread_pool& pool)
      : io_(io), pool_(pool), resolver_(io) {}
  asio::io_context& io() { return io_; }
  asio::thread_pool& pool() { return pool_; }
  // dns checks and hostnames: netres's resolver on the event loop (its sockets and RTT estimates
  // shared by every probe).
  resolve::AsyncResolver& resolver() { return resolver_; }
  // A client TLS context for (ca_file, insecure), made once: loading the CA store costs
  // milliseconds. Throws UsageError for an unreadable ca_file.
  asio::ssl::context& tls_context(const std::string& ca_file, bool insecure);
  // /etc/hosts's text, read once: hostnames are looked up there before DNS, as the C library
  // does.
  const std::string& hosts_text();

 private:
  asio::io_context& io_;
  asio::thread_pool& pool_;
  resolve::AsyncResolver resolver_;
  std::map<std::pair<std::string, bool>, std::unique_ptr<asio::ssl::context>> tls_;
  std::optional<std::string> hosts_;
};

// Runs one check against one address within `timeout`. Never throws for a failing target:
// failures are data in the result.
asio::awaitable<ProbeResult> run_probe(ProbeContext& ctx, const CheckSpec& check,
                                       const std::string& address, Nanos timeout);

}  // namespace netres::monitor
