// netres resolve: flags -> ResolveOptions -> resolve_names() -> a table or NDJSON on stdout,
// a summary on stderr.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/duration.h"
#include "common/error.h"
#include "common/output.h"
#include "common/terminal.h"
#include "resolve/bulk_resolve.h"
#include "resolve/dns_message.h"
#include "resolve/name_list.h"

namespace netres::cli {
namespace {

using resolve::ResolveRow;

constexpr int kMaxConcurrency = 30000;  // DNS ids are 16 bits; leave room to pick them at random

struct ResolveFlags {
  std::vector<std::string> names;
  std::string file;
  std::vector<std::string> types;
  std::string servers;
  std::string timeout = "2s";
  int retries = 2;
  int concurrency = 1000;
  bool json = false;
  bool stats = false;
};

std::string answers_cell(const ResolveRow& row) {
  std::string data;
  for (const auto& rec : row.answers) {
    if (!data.empty()) data += ", ";
    data += rec.data;
  }
  if (row.cname_chain.empty()) return data.empty() ? "-" : data;
  std::string cell = row.qname;
  for (const auto& hop : row.cname_chain) cell += " -> " + hop;
  if (!data.empty()) cell += " -> " + data;
  return cell;
}

// JSON string literal. Everything we print is ASCII by construction (names pass the name
// checks, record data is in dig's presentation form with \DDD escapes), so only '"', '\\' and
// control bytes need escaping; anything else goes through nlohmann, which replaces bad UTF-8.
void append_json_string(std::string& out, std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) {
      out += nlohmann::json(std::string(s))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  out += '"';
}

// One NDJSON line per row, written by hand: building an nlohmann object per row (a std::map
// and a string per field) was a fifth of the verb's CPU for 50,000 names. Keys stay in the
// alphabetical order nlohmann's objects print them in, so the output is unchanged.
void append_row_json(std::string& out, const ResolveRow& row) {
  out += "{\"answers\":[";
  for (size_t i = 0; i < row.answers.size(); ++i) {
    const auto& rec = row.answers[i];
    if (i) out += ',';
    out += "{\"data\":";
    append_json_string(out, rec.data);
    out += fmt::format(",\"ttl\":{},\"type\":", rec.ttl);
    append_json_string(out, resolve::type_name(rec.type));
    out += '}';
  }
  out += "],\"cname_chain\":[";
  for (size_t i = 0; i < row.cname_chain.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, row.cname_chain[i]);
  }
  out += "],\"duration_ms\":";
  out += nlohmann::json(std::chrono::duration<double, std::milli>(row.duration).count()).dump();
  out += ",\"name\":";
  append_json_string(out, row.name);
  out += ",\"qname\":";
  append_json_string(out, row.qname);
  out += row.rcode >= 0 ? fmt::format(",\"rcode\":{}", row.rcode) : ",\"rcode\":null";
  out += ",\"server\":";
  append_json_string(out, row.server);
  out += ",\"status\":";
  append_json_string(out, row.status);
  out += row.ttl ? fmt::format(",\"ttl\":{}", *row.ttl) : ",\"ttl\":null";
  out += ",\"type\":";
  append_json_string(out, resolve::type_name(row.type));
  out += "}\n";
}

resolve::ResolveOptions to_options(const ResolveFlags& f) {
  resolve::ResolveOptions o;
  for (const std::string& text : f.types) {
    auto type = resolve::parse_query_type(text);
    if (!type)
      throw UsageError(
          fmt::format("bad --type '{}': expected A, AAAA, CNAME, MX, TXT, NS, PTR, SOA, SRV, CAA, "
                      "NAPTR, HTTPS, SVCB or TYPE<1-65535>",
                      text));
    if (std::find(o.types.begin(), o.types.end(), *type) == o.types.end()) o.types.push_back(*type);
  }
  o.resolver.servers = f.servers;
  o.resolver.timeout = parse_duration(f.timeout, "--timeout");
  if (f.retries < 0 || f.retries > 10) throw UsageError("bad --retries: expected 0-10");
  o.resolver.tries = f.retries + 1;
  if (f.concurrency < 1 || f.concurrency > kMaxConcurrency)
    throw UsageError(fmt::format("bad --concurrency: expected 1-{}", kMaxConcurrency));
  o.resolver.concurrency = f.concurrency;
  return o;
}

std::vector<std::string> gather_names(const ResolveFlags& f) {
  std::vector<std::string> names;
  for (const std::string& name : f.names) {
    resolve::check_input_name(name);
    names.push_back(name);
  }
  std::string file = f.file;
  if (file.empty() && names.empty()) {
    // Waiting silently on a terminal looks like a hang; say what is expected instead.
    if (isatty(STDIN_FILENO))
      throw UsageError("no names: give them as arguments, with -f FILE, or on stdin");
    file = "-";
  }
  if (!file.empty()) {
    std::vector<std::string> more = resolve::read_name_file(file);
    names.insert(names.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
  if (names.empty()) throw UsageError("no names to resolve");
  return names;
}

int run_resolve(const ResolveFlags& flags) {
  resolve::ResolveOptions options = to_options(flags);
  std::vector<std::string> names = gather_names(flags);

  Table table({{"NAME"}, {"TYPE"}, {"STATUS"}, {"TTL", true}, {"ANSWERS"}});
  std::string line;
  Progress progress;

  resolve::ResolveSummary summary = resolve::resolve_names(
      names, options,
      [&](std::vector<ResolveRow>& rows) {
        for (const ResolveRow& row : rows) {
          if (flags.json) {
            line.clear();
            append_row_json(line, row);
            std::fwrite(line.data(), 1, line.size(), stdout);
          } else {
            table.add_row({row.name, resolve::type_name(row.type), row.status,
                           row.ttl ? std::to_string(*row.ttl) : "-", answers_cell(row)});
          }
        }
      },
      [&](const resolve::ResolveProgress& p) {
        double rate = to_seconds(p.elapsed) > 0 ? p.queries_done / to_seconds(p.elapsed) : 0;
        progress.update(fmt::format("resolve: {}/{} queries, {} names done, {} failed, {:.0f} q/s",
                                    p.queries_done, p.queries_total, p.names_done, p.names_failed,
                                    rate));
      });
  progress.clear();
  if (!flags.json) table.print(stdout);
  std::fflush(stdout);

  double seconds = to_seconds(summary.elapsed);
  warn("resolve",
       fmt::format("{} names, {} ok, {} failed, {} queries in {} ({:.0f} queries/s)", summary.names,
                   summary.ok, summary.failed, summary.queries, format_duration(summary.elapsed),
                   seconds > 0 ? summary.queries / seconds : 0.0));
  if (flags.stats) {
    const resolve::ResolverStats& e = summary.engine;
    auto ms = [](Nanos d) { return std::chrono::duration<double, std::milli>(d).count(); };
    warn("resolve",
         fmt::format(
             "engine: {} sent, {} retransmitted, {} late or duplicate replies, {} "
             "mismatched, {} over TCP, {} window cuts, {} spurious timeouts, {} sends deferred, "
             "srtt {:.2f} ms, rto {:.1f} ms",
             e.sent, e.retransmitted, e.late_replies, e.mismatched, e.tcp_fallbacks, e.window_cuts,
             e.spurious, e.send_blocked, ms(e.srtt), ms(e.rto)));
  }
  return summary.failed > 0 ? kExitFailed : kExitOk;
}

}  // namespace

void add_resolve_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ResolveFlags>();
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
