// libFuzzer target for the scenario loader: any bytes must give a Scenario or a UsageError,
// never a crash, a hang or another exception. A loaded scenario is also prepared (wire bytes)
// and its templates rendered, as a run would.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "load/scenario.h"
#include "load/scenario_runtime.h"
#include "load/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    netres::load::Scenario s = netres::load::parse_scenario(text, "fuzz.yaml");
    netres::load::prepare_scenario(s, netres::load::parse_url("http://127.0.0.1:8080"));
    netres::load::Variables vars(s.variables.size(), std::string("v a\"l"));
    std::string wire;
    for (const auto& r : s.requests) netres::load::render_request(s, r, vars, wire);
    if (s.peak_users() > netres::load::kMaxScenarioUsers) __builtin_trap();
  } catch (const netres::UsageError&) {
  }
  return 0;
}
