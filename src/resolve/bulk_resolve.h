// The resolve verb's work: names (and addresses, which get PTR lookups) times record types,
// run through the Resolver, with results handed back per name in input order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "resolve/dns_message.h"
#include "resolve/lookup.h"
#include "resolve/resolver.h"

namespace netres::resolve {

struct ResolveOptions {
  ResolverConfig resolver;
  std::vector<uint16_t> types;  // empty means A and AAAA
};

// One name and record type: what was asked, what came back.
struct ResolveRow {
  std::string name;   // as given
  uint16_t type = 0;  // the record type asked for
  std::string qname;  // the name queried: `name`, or the reverse name for an address
  std::string status;
  int rcode = -1;
  std::vector<std::string> cname_chain;
  std::vector<DnsRecord> answers;  // of `type`, at the end of the chain
  std::optional<uint32_t> ttl;     // the smallest TTL over chain and answers
  Nanos duration{0};
  std::string server;    // the servers asked, as Resolver::servers() gives them
  bool name_ok = false;  // the verdict for the whole name (see name_succeeded)
};

// A name succeeded when every one of its queries got NOERROR and at least one returned records.
// So NODATA for AAAA is fine when A has addresses, but a name with no records of any asked type,
// or with one type timing out or SERVFAILing, failed.
bool name_succeeded(const std::vector<ResolveRow>& rows_of_one_name);

struct ResolveProgress {
  size_t queries_done = 0;
  size_t queries_total = 0;
  size_t names_done = 0;
  size_t names_failed = 0;
  Nanos elapsed{0};
};

struct ResolveSummary {
  size_t names = 0;
  size_t ok = 0;
  size_t failed = 0;
  size_t queries = 0;
  Nanos elapsed{0};
  std::string servers;
  ResolverStats engine;  // the transport's counters (retransmissions, late replies, ...)
};

// Checks every name (UsageError on a bad one), then resolves them all. `on_rows` gets the rows
// of each name, in input order, as soon as that name and every name before it are done.
ResolveSummary resolve_names(const std::vector<std::string>& names, const ResolveOptions& options,
                             const std::function<void(std::vector<ResolveRow>&)>& on_rows,
                             const std::function<void(const ResolveProgress&)>& on_progress = {});

}  // namespace netres::resolve
