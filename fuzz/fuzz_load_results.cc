// libFuzzer target for load results files' data (what `netres merge` reads from shards it did not
// write): any bytes that parse as JSON must merge or give a UsageError, never a crash, a hang or
// another exception; what merges is written again and must merge to the same report.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"
#include "load/load_results.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  netres::ResultsFile file{
      netres::load::kLoadVerb, {}, {{"fail_if", nlohmann::json::array()}}, doc, "fuzz.json"};
  try {
    netres::load::LoadRun once = netres::load::merge_load_results({file});
    file.data = netres::load::results_data(once.run, once.result);
    netres::load::LoadRun twice = netres::load::merge_load_results({file});
    if (netres::load::to_json(once.run, once.result, {}) !=
        netres::load::to_json(twice.run, twice.result, {}))
      __builtin_trap();
  } catch (const netres::UsageError&) {
  }
  return 0;
}
