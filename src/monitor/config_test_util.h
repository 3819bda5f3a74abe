// For the monitor's unit tests: the one-line error a config text gets (or "(no error)").
#pragma once

#include <string>

#include "common/error.h"
#include "monitor/config.h"

namespace netres::monitor {

inline std::string config_error_of(const std::string& text) {
  try {
    parse_monitor_config(text, "bad.yaml");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace netres::monitor
