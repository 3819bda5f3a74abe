// libFuzzer target for the ssh check's state file (config_changes.tsv): any bytes must parse or
// be skipped line by line; what parsed must survive a write and a read unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "monitor/config_changes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto seen = netres::monitor::parse_config_sightings(text);
  auto again =
      netres::monitor::parse_config_sightings(netres::monitor::format_config_sightings(seen));
  if (again.size() != seen.size()) std::abort();
  for (const auto& [key, s] : seen) {
    auto it = again.find(key);
    if (it == again.end() || it->second.hash != s.hash || it->second.since != s.since) std::abort();
  }
  if (!seen.empty())
    netres::monitor::observe_config(seen, seen.begin()->first, "00", std::nullopt, 1.0);
  return 0;
}
