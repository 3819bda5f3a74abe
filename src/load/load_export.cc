// Locust-compatible CSV files and the HTML report.
#include "load/load_export.h"

#include "common/error.h"

namespace netres::load {

void write_csv_files(const std::string&, const RunDescription&, const LoadResult&) {
  throw RuntimeError("--csv is not implemented yet");
}

void write_html_report(const std::string&, const nlohmann::json&) {
  throw RuntimeError("--html is not implemented yet");
}

}  // namespace netres::load
