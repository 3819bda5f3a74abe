// The DNS engine's asynchronous entry, for programs that already run an Asio event loop (the
// monitor): queries are started one at a time, each with its own servers, timeout and tries, and
// complete through a handler or an awaitable on the loop; nothing blocks. Same protocol behaviour
// as the batch Resolver (resolver.h) and the same pacing code (rtt_window.h): one connected UDP
// socket per server (kept for the resolver's life, watched by the loop only while queries are in
// flight), random ids, RTO from each server's measured RTT, a congestion window per server, the
// next server after a timeout or an ICMP port unreachable, TCP after a truncated answer.
//
// Not thread-safe: use it from the thread that runs its io_context.
#pragma once

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "resolve/lookup.h"
#include "resolve/resolver.h"

namespace netres::resolve {

struct AsyncQueryOptions {
  // "IP[:port]" list as ResolverConfig::servers; empty: /etc/resolv.conf's (read on first use).
  std::string servers;
  Nanos timeout = std::chrono::seconds(2);  // per attempt, the cap of the RTT-based timeout
  int tries = 2;                            // rounds over the servers, including the first
};

class AsyncResolver {
 public:
  // At most `window_limit` queries in flight to one server (the congestion window's ceiling);
  // more wait in that server's queue.
  explicit AsyncResolver(asio::io_context& io, size_t window_limit = 1000);
  // Queries still pending are dropped: their handlers are never called.
  ~AsyncResolver();
  AsyncResolver(const AsyncResolver&) = delete;
  AsyncResolver& operator=(const AsyncResolver&) = delete;

  asio::io_context& context() const { return io_; }

  using Done = std::function<void(QueryOutcome&&)>;
  // Starts one query; `done` runs once on the loop, never inside query(). Bad options (servers,
  // timeout, tries, an invalid name) are an outcome with status "error" and a detail, never an
  // exception.
  void query(const Query& q, const AsyncQueryOptions& options, Done done);

  using HostDone = std::function<void(HostAddresses&&)>;
  // A and AAAA for a hostname at once, combined as lookup_hosts does (an IP literal is its own
  // address). Only DNS: callers wanting hosts(5) first look there (hosts_file.h).
  void lookup_host(const std::string& name, const AsyncQueryOptions& options, HostDone done);

  // The same with an Asio completion token (asio::use_awaitable, a callback, ...).
  template <typename Token>
  auto async_query(const Query& q, const AsyncQueryOptions& options, Token&& token) {
    return asio::async_initiate<Token, void(QueryOutcome)>(Initiate<QueryOutcome>{this}, token, q,
                                                           options);
  }
  template <typename Token>
  auto async_lookup_host(const std::string& name, const AsyncQueryOptions& options, Token&& token) {
    return asio::async_initiate<Token, void(HostAddresses)>(Initiate<HostAddresses>{this}, token,
                                                            name, options);
  }

  // Counters since construction (srtt and rto: of the server used first).
  ResolverStats stats() const;
  // Queries started and not yet completed.
  size_t pending() const;

 private:
  // Adapts a (move-only) completion handler to Done / HostDone: it resumes on its own executor,
  // and the loop counts it as work until then.
  template <typename R>
  struct Initiate {
    AsyncResolver* self;
    template <typename Handler, typename Arg>
    void operator()(Handler handler, const Arg& arg, const AsyncQueryOptions& options) const {
      auto ex = asio::get_associated_executor(handler, self->io_.get_executor());
      struct Held {
        Handler handler;
        asio::executor_work_guard<decltype(ex)> work;
      };
      auto held = std::make_shared<Held>(Held{std::move(handler), asio::make_work_guard(ex)});
      auto finish = [held](R&& result) {
        auto ex = held->work.get_executor();
        asio::dispatch(ex, [held, result = std::move(result)]() mutable {
          std::move(held->handler)(std::move(result));
          held->work.reset();
        });
      };
      if constexpr (std::is_same_v<R, QueryOutcome>)
        self->query(arg, options, std::move(finish));
      else
        self->lookup_host(arg, options, std::move(finish));
    }
  };

  struct Impl;
  asio::io_context& io_;
  std::shared_ptr<Impl> impl_;  // handlers hold a weak_ptr: they outlive it harmlessly
};

}  // namespace netres::resolve
