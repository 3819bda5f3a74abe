// The DNS engine: many queries in flight at once over one connected UDP socket per server, driven
// by epoll. Each server's retransmission timeout follows its measured round-trip time (RFC 6298:
// smoothed RTT and variance, a floor of a few milliseconds, --timeout as the cap), and a
// congestion window holds the number in flight below what the server can take (it halves on
// loss and grows back per answer, never above --concurrency). Truncated replies are retried over
// TCP. Replies come back parsed, whatever their rcode; a query that fails is an outcome, never
// an exception.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "resolve/dns_message.h"
#include "resolve/lookup.h"
#include "resolve/server_address.h"

namespace netres::resolve {

struct Query {
  std::string name;  // a valid name (see dns_name.h); reverse names for PTR are built by callers
  uint16_t type = kTypeA;
};

struct QueryOutcome {
  // The rcode name for a parsed reply ("NOERROR", "NXDOMAIN", ...), or "timeout",
  // "connrefused" (ICMP port unreachable, or TCP refused), "badreply" (unparseable), "error"
  // (any other failure, e.g. a TCP fallback that broke off).
  std::string status;
  int rcode = -1;  // -1 when there was no usable reply
  std::optional<DnsMessage> reply;
  std::string detail;  // why a reply was bad, or the error text
  Nanos duration{0};   // from send to outcome, retries included
  int sends = 0;       // datagrams sent for it (1 + retransmissions); a TCP fallback counts too
};

// What the engine saw in one run(): for tests, benchmarks and --verbose style diagnostics.
struct ResolverStats {
  size_t sent = 0;           // UDP datagrams, retransmissions included
  size_t retransmitted = 0;  // of those, resends after a retransmission timeout
  size_t late_replies = 0;   // replies to a query already answered or given up (dropped)
  size_t mismatched = 0;     // replies whose question did not match their id (dropped)
  size_t tcp_fallbacks = 0;  // truncated UDP replies retried over TCP
  size_t window_cuts = 0;    // congestion events (the window halved)
  size_t spurious = 0;       // timeouts whose answer came after all (the cut is undone)
  size_t send_blocked = 0;   // sends deferred because the socket buffer was full
  Nanos srtt{0};             // smoothed RTT of the first server at the end (0 if no sample)
  Nanos rto{0};              // its retransmission timeout at the end
};

// What both engines (Resolver here, AsyncResolver in async_resolver.h) do with a reply.
// Whether a parsed message answers `q`: a response whose question, when it has one, is q's.
// Ids are reused once a query is done, so a late reply to an earlier query can carry the id of
// a new one.
bool reply_answers(const DnsMessage& m, const Query& q);
// The outcome of a reply: its rcode, or "badreply" with the parser's `detail`.
QueryOutcome outcome_of_reply(std::optional<DnsMessage> m, std::string detail);

class Resolver {
 public:
  // Throws UsageError for a bad config (servers, timeout, tries, concurrency) and RuntimeError
  // if the sockets cannot be made.
  explicit Resolver(const ResolverConfig& config);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The servers in use, "127.0.0.1:5353" style, comma separated.
  const std::string& servers() const;

  using OnOutcome = std::function<void(size_t index, QueryOutcome&& outcome)>;
  // Runs every query, at most `concurrency` at once; `on_outcome` is called once per query, in
  // completion order. `on_tick`, if set, is called about every 100 ms while work remains.
  void run(const std::vector<Query>& queries, const OnOutcome& on_outcome,
           const std::function<void()>& on_tick = {});

  // Counters of the last run().
  const ResolverStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netres::resolve
