// How resolve's results are shown: the table (NAME TYPE STATUS TTL ANSWERS) or one NDJSON line
// per row on stdout, and the progress, summary and --stats lines for stderr. The CLI only
// chooses between them.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "common/output.h"
#include "resolve/bulk_resolve.h"

namespace netres::resolve {

// The ANSWERS cell: the answers' data comma separated ("-" for none), after the CNAME chain
// ("qname -> hop -> ... -> data") when there is one.
std::string answers_cell(const ResolveRow& row);

// Appends one row as an NDJSON line (fields as in docs/resolve.md, keys in alphabetical order),
// newline included.
void append_row_json(std::string& out, const ResolveRow& row);

// Rows as they come: NDJSON lines written at once, or table rows printed by finish().
class RowPrinter {
 public:
  RowPrinter(std::FILE* out, bool json);
  void add(const std::vector<ResolveRow>& rows);
  // Prints the table (nothing more for NDJSON) and flushes.
  void finish();

 private:
  std::FILE* out_;
  bool json_;
  Table table_;
  std::string line_;
};

// "12/40 queries, 6 names done, 1 failed, 300 q/s" (without the "resolve: " prefix).
std::string progress_text(const ResolveProgress& p);

// "N names, N ok, N failed, N queries in 1.2s (N queries/s)".
std::string summary_text(const ResolveSummary& s);

// --stats: the engine's counters and its RTT estimate, "engine: N sent, ...".
std::string engine_stats_text(const ResolverStats& e);

}  // namespace netres::resolve
