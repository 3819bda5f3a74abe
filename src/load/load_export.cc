// The HTML report (--html FILE): src/load/report.html, embedded at build time, with the run's
// --json object in it; the page draws its charts itself, so it opens with no network. Also the
// atomic write both export files share.
#include "load/load_export.h"

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/output.h"
#include "load/report_html.h"

namespace netres::load {

void write_export_file(const std::string& flag, const std::string& path, std::string_view data) {
  try {
    write_file_atomically(path, data);
  } catch (const RuntimeError& e) {
    throw RuntimeError(fmt::format("{}: {}", flag, e.what()));
  }
}

namespace {

// The page around the data is src/load/report.html (kReportPage), whose results element holds
// "{}" as a placeholder the run's JSON replaces. The CSP there forbids every fetch, so the report
// provably needs no network; its script only reads the embedded JSON and builds DOM nodes.
constexpr std::string_view kResultsElement =
    R"(<script type="application/json" id="netres-results">{}</script>)";
constexpr size_t kPlaceholderOffset = kResultsElement.find("{}");
constexpr size_t kResultsAt = kReportPage.find(kResultsElement);
static_assert(kResultsAt != std::string_view::npos, "report.html lost its results element");

// The results as a JavaScript-safe JSON text: nothing in it can close the <script> element or
// start an HTML comment, and it parses to the same value (the escapes are JSON escapes).
std::string embeddable_json(const nlohmann::json& results) {
  // The same text --json prints (invalid UTF-8 replaced the same way).
  std::string text = results.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + 64);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
      // U+2028 / U+2029: line terminators to older JavaScript parsers.
      out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void write_html_report(const std::string& path, const nlohmann::json& results) {
  std::string page;
  const size_t placeholder = kResultsAt + kPlaceholderOffset;
  page += kReportPage.substr(0, placeholder);
  page += embeddable_json(results);
  page += kReportPage.substr(placeholder + 2);
  write_export_file("--html", path, page);
}

int report_load(const LoadOutputs& out, const RunDescription& run, const LoadResult& result,
                const std::vector<Threshold>& thresholds,
                const std::function<void()>& write_results) {
  auto verdicts = judge(thresholds, result);
  nlohmann::json results = to_json(run, result, verdicts);
  if (out.json) {
    NdjsonWriter(stdout).write(results);
  } else {
    print_tables(stdout, result, run.rate > 0);
    print_verdicts(stdout, verdicts);
  }
  std::fflush(stdout);
  if (write_results) write_results();
  if (!out.csv.empty()) write_csv_files(out.csv, run, result);
  if (!out.html.empty()) write_html_report(out.html, results);
  return run_failed(thresholds, verdicts, result) ? kExitFailed : kExitOk;
}

}  // namespace netres::load
