// The resolver's small public face for other concerns: scan uses it to turn hostnames into
// addresses. (The full resolve verb, with record types and answers, lives beside it.)
#pragma once

#include <string>
#include <vector>

#include "common/duration.h"

namespace netres::resolve {

struct ResolverConfig {
  // "IP[:port]" or "[IPv6]:port", comma separated; empty means the system's /etc/resolv.conf.
  std::string servers;
  Nanos timeout = std::chrono::seconds(2);  // per attempt
  int tries = 2;                            // attempts per query, including the first
  int concurrency = 1000;                   // queries in flight at once
};

struct HostAddresses {
  std::string name;
  std::vector<std::string> addresses;  // IPv4 then IPv6, textual, deduplicated, in answer order
  std::string error;                   // empty on success: "NXDOMAIN", "SERVFAIL", "timeout", ...
};

// Looks up A and AAAA for every name concurrently; one result per name, in input order.
// A name that fails is reported in `error`, never thrown. Throws RuntimeError only when the
// resolver cannot start at all (bad resolv.conf, out of file descriptors), UsageError for a bad
// `servers` string.
std::vector<HostAddresses> lookup_hosts(const std::vector<std::string>& names,
                                        const ResolverConfig& config);

struct QueryOutcome;
// A name's addresses from the outcomes of its A and AAAA queries (the CNAME chain followed,
// each address once, IPv4 first) into `host`; with none, `error` says why (the A query's
// status, else the AAAA's, else "NODATA"). Shared by lookup_hosts and AsyncResolver.
void add_host_answers(HostAddresses& host, const std::string& name, const QueryOutcome& a,
                      const QueryOutcome& aaaa);

}  // namespace netres::resolve
