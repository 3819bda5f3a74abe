// The dns check: one query to the target server through netres's resolver (its retransmission
// and TCP fallback included), then rcode, answer count and expected answers. The resolver's
// asynchronous entry runs the query on the monitor's event loop.
#include <fmt/format.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <sstream>

#include "monitor/checks.h"
#include "resolve/async_resolver.h"

namespace netres::monitor {

asio::awaitable<ProbeResult> probe_dns(ProbeContext& ctx, const CheckSpec& c,
                                       const std::string& address, Clock::time_point deadline_at) {
  ProbeResult r;
  auto budget = std::chrono::duration_cast<Nanos>(deadline_at - Clock::now());
  if (budget < std::chrono::milliseconds(10)) budget = std::chrono::milliseconds(10);
  resolve::AsyncQueryOptions options;
  options.servers = address;
  options.tries = 2;
  options.timeout = budget / 2;
  resolve::Query q{c.query_name, c.query_type};
  // Named, not a temporary inside the co_await: GCC 12 copies such temporaries bitwise into
  // the frame (a std::string's inline buffer then points at the old place).
  auto op = ctx.resolver().async_query(q, options, asio::use_awaitable);
  resolve::QueryOutcome oc = co_await std::move(op);
  r.set("probe_dns_lookup_time_seconds", 0);  // the server is an address: nothing to resolve
  // "error" before any send: the options were refused (a bad server address). A TCP fallback
  // that broke off ("TCP: ...") is a protocol failure below.
  if (oc.status == "error" && oc.sends == 0) {
    r.fail("error", oc.detail);
    co_return r;
  }
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
  // A DNS query is bounded by the resolver's own timeout (tries x timeout = the probe's budget),
  // not closed by the deadline, so an answer past the deadline still counts as a timeout here.
  if (Clock::now() > deadline + std::chrono::milliseconds(50) && r.success) {
    r.fail("timeout", "took longer than the timeout");
  }
  r.duration = seconds_since(start);
  co_return r;
}

}  // namespace netres::monitor
