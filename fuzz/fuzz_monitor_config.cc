// libFuzzer target for the monitor's configuration loader: any bytes must give a MonitorConfig
// or a UsageError, never a crash, a hang or another exception. A loaded configuration is also
// put in a probe store and rendered in both exposition formats, as a scrape would.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "monitor/config.h"
#include "monitor/exposition.h"
#include "monitor/probe_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    netres::monitor::MonitorConfig c = netres::monitor::parse_monitor_config(text, "fuzz.yaml");
    netres::monitor::ProbeStore store;
    store.configure(c);
    netres::monitor::ProbeResult r;
    r.fail("refused", "connection refused");
    for (const auto& t : c.targets)
      for (const auto& check : t.checks) store.record(t.name, check, r);
    auto families = store.families();
    netres::monitor::render(families, netres::monitor::ExpositionFormat::kText004);
    netres::monitor::render(families, netres::monitor::ExpositionFormat::kOpenMetrics);
  } catch (const netres::UsageError&) {
  }
  return 0;
}
