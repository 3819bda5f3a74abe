// The c-ares engine: many DNS queries in flight at once over one channel, driven by epoll, with
// the number in flight held at the configured concurrency. Replies come back parsed, whatever
// their rcode; a query that fails is an outcome, never an exception.
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

namespace netres::resolve {

// One server from a --server list.
struct ServerAddress {
  int family = 0;  // AF_INET or AF_INET6
  uint8_t address[16] = {};
  uint16_t port = 53;
  std::string text;  // "127.0.0.1:5353", "[::1]:53"
};

// Parses "IP[:port]" / "[IPv6]:port" / bare IPv6, comma separated. Throws UsageError.
std::vector<ServerAddress> parse_servers(std::string_view text);

struct Query {
  std::string name;  // a valid name (see dns_name.h); reverse names for PTR are built by callers
  uint16_t type = kTypeA;
};

struct QueryOutcome {
  // The rcode name for a parsed reply ("NOERROR", "NXDOMAIN", ...), or "timeout",
  // "connrefused", "badreply" (unparseable), "error" (any other c-ares failure).
  std::string status;
  int rcode = -1;  // -1 when there was no usable reply
  std::optional<DnsMessage> reply;
  std::string detail;  // why a reply was bad, or the c-ares error text
  Nanos duration{0};   // from send to outcome, retries included
};

class Resolver {
 public:
  // Throws UsageError for a bad config (servers, timeout, tries, concurrency) and RuntimeError
  // if c-ares cannot start.
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netres::resolve
