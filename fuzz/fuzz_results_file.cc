// libFuzzer target for results files (`netres merge` reads files written on other machines):
// any bytes must give a merged print or a UsageError, never a crash or another exception. The
// input is the envelope's "data" for each verb in turn; parsing of the envelope itself is
// nlohmann's and the checks in common/results_file.cc.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "capture/bandwidth_report.h"
#include "capture/bandwidth_results.h"
#include "common/error.h"
#include "resolve/resolve_output.h"
#include "resolve/resolve_results.h"
#include "scan/scan_results.h"
#include "ssh/fleet_results.h"

namespace {

std::FILE* sink() {
  static std::FILE* f = std::fopen("/dev/null", "w");
  return f;
}

template <typename F>
void guarded(F&& f) {
  try {
    f();
  } catch (const netres::UsageError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto doc = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  // stderr lines (summaries, warnings) are part of printing; keep them out of the fuzzer's log.
  std::FILE* err = sink();
  guarded([&] {
    auto run = netres::scan::scan_run_from_json(doc, "fuzz.json");
    auto merged = netres::scan::merge_scan_runs({run, run});
    netres::scan::print_scan_run(sink(), merged.run, false);
    netres::scan::print_scan_run(sink(), merged.run, true);
  });
  for (const char* by : {"flow", "host", "port", "proto"}) {
    guarded([&] {
      nlohmann::json job = {{"by", by}, {"max_flows", 0}};
      auto stats = netres::capture::merge_bandwidth({&doc, &doc}, {"a", "b"}, job);
      netres::capture::print_totals(sink(), *stats, false, 0);
      netres::capture::print_totals(sink(), *stats, true, 3);
    });
  }
  guarded([&] {
    auto run = netres::resolve::resolve_run_from_json(doc, "fuzz.json");
    auto merged = netres::resolve::merge_resolve_runs({run, run});
    for (bool json : {false, true}) {
      netres::resolve::RowPrinter printer(sink(), json);
      std::vector<netres::resolve::ResolveRow> rows;
      for (const auto& p : merged.rows) rows.push_back(p.row);
      printer.add(rows);
      printer.finish();
    }
  });
  guarded([&] {
    auto results =
        netres::ssh::merge_fleet_results({netres::ssh::fleet_results_from_json(doc, "fuzz.json")});
    netres::ssh::print_merged_run(sink(), err, results, false);
    netres::ssh::print_merged_run(sink(), err, results, true);
  });
  return 0;
}
