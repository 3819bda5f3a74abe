// netres resolve: flags -> ResolveOptions -> resolve_names() -> a table or NDJSON on stdout,
// a summary on stderr.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "common/terminal.h"
#include "resolve/bulk_resolve.h"
#include "resolve/resolve_output.h"
#include "resolve/resolve_setup.h"

namespace netres::cli {
namespace {

int run_resolve(const resolve::ResolveFlags& flags) {
  resolve::ResolveOptions options = resolve::options_for(flags);
  std::vector<std::string> names = resolve::gather_names(flags, isatty(STDIN_FILENO));

  resolve::RowPrinter printer(stdout, flags.json);
  Progress progress;
  resolve::ResolveSummary summary = resolve::resolve_names(
      names, options, [&](std::vector<resolve::ResolveRow>& rows) { printer.add(rows); },
      [&](const resolve::ResolveProgress& p) {
        progress.update("resolve: " + resolve::progress_text(p));
      });
  progress.clear();
  printer.finish();

  warn("resolve", resolve::summary_text(summary));
  if (flags.stats) warn("resolve", resolve::engine_stats_text(summary.engine));
  return summary.failed > 0 ? kExitFailed : kExitOk;
}

}  // namespace

void add_resolve_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<resolve::ResolveFlags>();
  auto* sub = app.add_subcommand(
      "resolve", "Resolve many names at once (A and AAAA by default; addresses get PTR lookups)");
  sub->add_option("names", flags->names, "Names or IP addresses (none: read -f or stdin)");
  sub->add_option("-f,--file", flags->file,
                  "Read names from FILE, one per line, '#' comments ('-' = stdin)");
  sub->add_option(
         "-t,--type", flags->types,
         "Record types: A, AAAA, CNAME, MX, TXT, NS, PTR, SOA, SRV, CAA, NAPTR, HTTPS, SVCB, "
         "TYPE<n>")
      ->delimiter(',')
      ->allow_extra_args(false)  // one value per -t, so names after it stay names
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("-s,--server", flags->servers,
                  "DNS servers IP[:port] or [IPv6]:port, comma separated (default: resolv.conf)");
  sub->add_option("--timeout", flags->timeout, "Time per attempt, e.g. 500ms, 2s")
      ->capture_default_str();
  sub->add_option("--retries", flags->retries, "Extra attempts after a timeout")
      ->capture_default_str();
  sub->add_option("-c,--concurrency", flags->concurrency, "Queries in flight at once")
      ->capture_default_str();
  sub->add_flag("--json", flags->json, "NDJSON: one object per name and type");
  sub->add_flag("--stats", flags->stats,
                "One more stderr line: datagrams sent, retransmissions, late replies, RTT");
  sub->footer(
      "Exit codes: 0 every name resolved; 1 some name failed (NXDOMAIN, SERVFAIL, timeout, no "
      "records); 2 bad input; 3 runtime error. See docs/resolve.md.");
  sub->final_callback([flags, &action] { action = [flags] { return run_resolve(*flags); }; });
}

}  // namespace netres::cli
