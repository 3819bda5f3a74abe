// The dns check: one query to the target server through netres's resolver (its retransmission
// and TCP fallback included), then rcode, answer count and expected answers. The resolver runs
// its own epoll loop, so the query runs on the pool and the probe resumes on the event loop.
#include <fmt/format.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <sstream>

#include "monitor/checks.h"
#include "resolve/resolver.h"

namespace netres::monitor {

namespace {

struct DnsOutcome {
  resolve::QueryOutcome outcome;
  std::string error;
};

// The query, run on the pool: the resolver blocks on its own epoll loop.
struct DnsJob {
  resolve::ResolverConfig cfg;
  resolve::Query q;
  DnsOutcome operator()() const {
    DnsOutcome o;
    try {
      resolve::Resolver resolver(cfg);
      resolver.run({q}, [&o](size_t, resolve::QueryOutcome&& oc) { o.outcome = std::move(oc); });
    } catch (const std::exception& e) {
      o.error = e.what();
    }
    return o;
  }
};

}  // namespace

asio::awaitable<ProbeResult> probe_dns(ProbeContext& ctx, const CheckSpec& c,
                                       const std::string& address, Clock::time_point deadline_at) {
  ProbeResult r;
  auto budget = std::chrono::duration_cast<Nanos>(deadline_at - Clock::now());
  if (budget < std::chrono::milliseconds(10)) budget = std::chrono::milliseconds(10);
  resolve::ResolverConfig cfg;
  cfg.servers = address;
  cfg.tries = 2;
  cfg.timeout = budget / 2;
  cfg.concurrency = 1;
  resolve::Query q{c.query_name, c.query_type};
  // Named, not a temporary inside the co_await: GCC 12 copies such temporaries bitwise into
  // the frame (a std::string's inline buffer then points at the old place).
  DnsJob job{cfg, q};
  auto op = on_pool<DnsOutcome>(ctx.pool(), std::move(job));
  DnsOutcome out = co_await std::move(op);
  r.set("probe_dns_lookup_time_seconds", 0);  // the server is an address: nothing to resolve
  if (!out.error.empty()) {
    r.fail("error", out.error);
    co_return r;
  }
  const auto& oc = out.outcome;
  r.set("probe_dns_duration_seconds", to_seconds(oc.duration), {{"phase", "request"}});
  if (!oc.reply) {
    if (oc.status == "timeout")
      r.fail("timeout", "no answer from " + address);
    else if (oc.status == "connrefused")
      r.fail("refused", "port unreachable at " + address);
    else
      r.fail("protocol", oc.status + (oc.detail.empty() ? "" : ": " + oc.detail));
    r.set("probe_dns_query_succeeded", 0);
    co_return r;
  }
  const auto& m = *oc.reply;
  r.set("probe_dns_query_succeeded", 1);
  r.set("probe_dns_answer_rrs", static_cast<double>(m.answers.size()));
  r.set("probe_dns_authority_rrs", static_cast<double>(m.authority.size()));
  r.set("probe_dns_additional_rrs", static_cast<double>(m.additional.size()));
  r.set("netres_probe_dns_rcode_info", 1, {{"rcode", oc.status}});
  for (const auto& rec : m.answers)
    if (rec.type == 6) {  // SOA: its serial, as blackbox_exporter does
      std::istringstream in(rec.data);
      std::string mname, rname;
      double serial = 0;
      if (in >> mname >> rname >> serial) r.set("probe_dns_serial", serial);
    }
  r.success = true;
  if (std::find(c.valid_rcodes.begin(), c.valid_rcodes.end(), oc.status) == c.valid_rcodes.end()) {
    r.fail("rcode", fmt::format("rcode {} from {}", oc.status, address));
    co_return r;
  }
  size_t n = m.answers.size();
  if (c.min_answers && n < *c.min_answers)
    r.fail("answers", fmt::format("{} answers, expected at least {}", n, *c.min_answers));
  if (c.max_answers && n > *c.max_answers)
    r.fail("answers", fmt::format("{} answers, expected at most {}", n, *c.max_answers));
  for (const auto& p : c.expect_answers) {
    bool any = false;
    for (const auto& rec : m.answers) any |= std::regex_search(rec.data, p.re);
    if (!any) r.fail("answers", fmt::format("no answer matches /{}/", p.text));
  }
  r.success = r.reason.empty();
  co_return r;
}

asio::awaitable<ProbeResult> run_probe(ProbeContext& ctx, const CheckSpec& check,
                                       const std::string& address, Nanos timeout) {
  auto start = Clock::now();
  auto deadline = start + timeout;
  ProbeResult r;
  try {
    switch (check.kind) {
      case CheckKind::kTcp:
        r = co_await probe_tcp(ctx, check, address, deadline);
        break;
      case CheckKind::kHttp:
        r = co_await probe_http(ctx, check, address, deadline);
        break;
      case CheckKind::kDns:
        r = co_await probe_dns(ctx, check, address, deadline);
        break;
      case CheckKind::kIface:
        r = co_await probe_iface(ctx, check, address, deadline);
        break;
      case CheckKind::kSsh:
        r = co_await probe_ssh(ctx, check, address, deadline);
        break;
      case CheckKind::kIcmp:
        r = co_await probe_icmp(ctx, check, address, deadline);
        break;
    }
  } catch (const std::exception& e) {
    r = ProbeResult{};
    r.fail("error", e.what());
  }
  // A DNS query on the pool cannot be closed by the deadline; it is bounded by the resolver's
  // own timeout instead, so a late answer still counts as a timeout here.
  if (Clock::now() > deadline + std::chrono::milliseconds(50) && r.success) {
    r.fail("timeout", "took longer than the timeout");
  }
  r.duration = seconds_since(start);
  co_return r;
}

}  // namespace netres::monitor
