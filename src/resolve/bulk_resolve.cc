// Bulk resolution: fan names out into queries, fan outcomes back into rows per name, in order.
#include "resolve/bulk_resolve.h"

#include <chrono>

#include "resolve/dns_name.h"
#include "resolve/name_list.h"

namespace netres::resolve {

bool name_succeeded(const std::vector<ResolveRow>& rows) {
  bool any_records = false;
  for (const ResolveRow& row : rows) {
    if (row.status != "NOERROR") return false;
    any_records = any_records || !row.answers.empty();
  }
  return any_records;
}

ResolveSummary resolve_names(const std::vector<std::string>& names, const ResolveOptions& options,
                             const std::function<void(std::vector<ResolveRow>&)>& on_rows,
                             const std::function<void(const ResolveProgress&)>& on_progress) {
  auto started = std::chrono::steady_clock::now();
  std::vector<uint16_t> types = options.types;
  if (types.empty()) types = {kTypeA, kTypeAaaa};

  // Queries for name i are first_query[i] .. first_query[i + 1] - 1.
  std::vector<Query> queries;
  std::vector<size_t> first_query;
  queries.reserve(names.size() * types.size());
  first_query.reserve(names.size() + 1);
  for (const std::string& name : names) {
    check_input_name(name);
    first_query.push_back(queries.size());
    if (auto reverse = reverse_name(name)) {
      queries.push_back({std::move(*reverse), kTypePtr});
    } else {
      for (uint16_t type : types) queries.push_back({name, type});
    }
  }
  first_query.push_back(queries.size());

  Resolver resolver(options.resolver);
  ResolveSummary summary;
  summary.names = names.size();
  summary.queries = queries.size();
  summary.servers = resolver.servers();

  std::vector<ResolveRow> rows(queries.size());
  std::vector<uint16_t> pending_per_name(names.size());  // at most 7 types per name
  size_t next_to_deliver = 0;  // names before this one have been handed to on_rows
  size_t queries_done = 0;
  std::vector<size_t> name_of_query(queries.size());
  for (size_t i = 0; i < names.size(); ++i) {
    pending_per_name[i] = static_cast<uint16_t>(first_query[i + 1] - first_query[i]);
    for (size_t q = first_query[i]; q < first_query[i + 1]; ++q) name_of_query[q] = i;
  }

  auto deliver_ready = [&] {
    while (next_to_deliver < names.size() && pending_per_name[next_to_deliver] == 0) {
      size_t i = next_to_deliver++;
      std::vector<ResolveRow> mine(std::make_move_iterator(rows.begin() + first_query[i]),
                                   std::make_move_iterator(rows.begin() + first_query[i + 1]));
      bool ok = name_succeeded(mine);
      for (ResolveRow& row : mine) row.name_ok = ok;
      ++(ok ? summary.ok : summary.failed);
      on_rows(mine);
    }
  };

  resolver.run(
      queries,
      [&](size_t q, QueryOutcome&& outcome) {
        size_t i = name_of_query[q];
        ResolveRow& row = rows[q];
        row.name = names[i];
        row.type = queries[q].type;
        row.qname = queries[q].name;
        row.status = std::move(outcome.status);
        row.rcode = outcome.rcode;
        row.duration = outcome.duration;
        row.server = summary.servers;
        if (outcome.reply) {
          AnswerSummary s = summarize_answers(*outcome.reply, row.qname, row.type);
          row.cname_chain = std::move(s.cname_chain);
          row.answers = std::move(s.records);
          row.ttl = s.min_ttl;
        }
        ++queries_done;
        if (--pending_per_name[i] == 0 && i == next_to_deliver) deliver_ready();
      },
      [&] {
        if (!on_progress) return;
        on_progress({queries_done, queries.size(), next_to_deliver, summary.failed,
                     std::chrono::steady_clock::now() - started});
      });
  deliver_ready();  // names with no queries at all (none today) would otherwise stay behind
  summary.elapsed = std::chrono::steady_clock::now() - started;
  summary.engine = resolver.stats();
  return summary;
}

}  // namespace netres::resolve
