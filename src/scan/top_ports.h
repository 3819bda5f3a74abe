// The ports scanned when -p is not given.
#pragma once

#include "common/port_set.h"

namespace netres::scan {

// The 1000 most commonly open TCP ports (see top_ports.cc for where the ranking comes from).
PortSet top_ports();

}  // namespace netres::scan
