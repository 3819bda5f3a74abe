// The locustfile a locust master runs to drive netres workers (--emit-locustfile): the scenario's
// user classes with their weights (the master's dispatcher splits users by them; the classes do
// nothing on the master), and a handler of netres's histogram message that merges the workers'
// exact HDR histograms into percentiles saved as JSON.
#pragma once

#include <string>

#include "load/scenario.h"

namespace netres::load {

std::string locustfile_text(const Scenario& s, const std::string& scenario_path);

}  // namespace netres::load
