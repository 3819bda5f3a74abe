// netres resolve: flags -> ResolveOptions -> resolve_names() -> a table or NDJSON on stdout,
// a summary on stderr.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "common/results_file.h"
#include "common/shard.h"
#include "common/terminal.h"
#include "resolve/bulk_resolve.h"
#include "resolve/resolve_output.h"
#include "resolve/resolve_results.h"
#include "resolve/resolve_setup.h"

namespace netres::cli {
namespace {

int run_resolve(const resolve::ResolveFlags& flags) {
  resolve::ResolveOptions options = resolve::options_for(flags);
  Shard shard = flags.shard.empty() ? Shard{} : parse_shard(flags.shard, "--shard");
  std::vector<std::string> all = resolve::gather_names(flags, isatty(STDIN_FILENO));
  nlohmann::json job;
  if (!flags.results.empty()) job = resolve::resolve_job_json(all, options.types, flags.servers);
  resolve::NameShare share = resolve::share_of(std::move(all), shard);

  resolve::RowPrinter printer(stdout, flags.json);
  resolve::ResolveRun kept;  // for --results
  uint64_t position = share.first;
  Progress progress;
  resolve::ResolveSummary summary;
  if (!share.names.empty())  // a shard of more shares than names may have none
    summary = resolve::resolve_names(
        share.names, options,
        [&](std::vector<resolve::ResolveRow>& rows) {
          printer.add(rows);
          if (!flags.results.empty())
            for (const auto& row : rows) kept.rows.push_back({position, row});
          ++position;  // one call per name, in input order
        },
        [&](const resolve::ResolveProgress& p) {
          progress.update("resolve: " + resolve::progress_text(p));
        });
  progress.clear();
  printer.finish();

  warn("resolve", resolve::summary_text(summary));
  if (flags.stats) warn("resolve", resolve::engine_stats_text(summary.engine));
  if (!flags.results.empty()) {
    kept.summary = summary;
    ResultsFile file;
    file.verb = "resolve";
    file.shard = shard;
    file.job = std::move(job);
    file.data = resolve::resolve_data_json(kept);
    write_results_file(flags.results, file);
  }
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
  sub->add_option(
      "--shard", flags->shard,
      "Resolve the K-th of N contiguous shares of the names, as K/N (for netres merge)");
  sub->add_option("--results", flags->results,
                  "Also write every row, with its name's input position, to FILE for netres merge");
  sub->add_flag("--stats", flags->stats,
                "One more stderr line: datagrams sent, retransmissions, late replies, RTT");
  sub->footer(
      "Exit codes: 0 every name resolved; 1 some name failed (NXDOMAIN, SERVFAIL, timeout, no "
      "records); 2 bad input; 3 runtime error. See docs/resolve.md.");
  sub->final_callback([flags, &action] { action = [flags] { return run_resolve(*flags); }; });
}

}  // namespace netres::cli
