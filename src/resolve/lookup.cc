// lookup_hosts: A and AAAA for a list of hostnames, for verbs (scan) that only need addresses.
#include "resolve/lookup.h"

#include <arpa/inet.h>

#include <algorithm>

#include "resolve/dns_message.h"
#include "resolve/dns_name.h"
#include "resolve/resolver.h"

namespace netres::resolve {

void add_host_answers(HostAddresses& host, const std::string& name, const QueryOutcome& a,
                      const QueryOutcome& aaaa) {
  for (const auto& [o, type] : {std::pair{&a, kTypeA}, std::pair{&aaaa, kTypeAaaa}}) {
    if (!o->reply) continue;
    for (const DnsRecord& rec : summarize_answers(*o->reply, name, type).records)
      if (std::find(host.addresses.begin(), host.addresses.end(), rec.data) == host.addresses.end())
        host.addresses.push_back(rec.data);
  }
  if (host.addresses.empty())
    host.error = a.status != "NOERROR"      ? a.status
                 : aaaa.status != "NOERROR" ? aaaa.status
                                            : "NODATA";
}

std::vector<HostAddresses> lookup_hosts(const std::vector<std::string>& names,
                                        const ResolverConfig& config) {
  std::vector<HostAddresses> results(names.size());
  std::vector<Query> queries;
  std::vector<size_t> owner;  // queries[i] is for results[owner[i]]
  queries.reserve(names.size() * 2);
  owner.reserve(names.size() * 2);
  for (size_t i = 0; i < names.size(); ++i) {
    results[i].name = names[i];
    if (is_ip_literal(names[i])) {
      // Already an address: normalize its text, ask nobody.
      unsigned char b[16];
      char text[INET6_ADDRSTRLEN];
      int family = inet_pton(AF_INET, names[i].c_str(), b) == 1 ? AF_INET : AF_INET6;
      inet_pton(family, names[i].c_str(), b);
      inet_ntop(family, b, text, sizeof text);
      results[i].addresses.push_back(text);
      continue;
    }
    if (!name_problem(names[i]).empty()) {
      results[i].error = "invalid name";
      continue;
    }
    for (uint16_t type : {kTypeA, kTypeAaaa}) {
      queries.push_back({names[i], type});
      owner.push_back(i);
    }
  }
  if (queries.empty()) return results;

  Resolver resolver(config);
  std::vector<QueryOutcome> outcomes(queries.size());
  resolver.run(queries, [&](size_t index, QueryOutcome&& o) { outcomes[index] = std::move(o); });

  // Queries come in (A, AAAA) pairs per name, so the A outcome is always first.
  for (size_t q = 0; q < queries.size(); q += 2)
    add_host_answers(results[owner[q]], queries[q].name, outcomes[q], outcomes[q + 1]);
  return results;
}

}  // namespace netres::resolve
