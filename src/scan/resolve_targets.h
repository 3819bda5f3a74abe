// Hostname targets through the resolve concern (the one cross-concern use docs/architecture.md
// allows).
#pragma once

#include "resolve/lookup.h"
#include "scan/target_space.h"

namespace netres::scan {

// A NameResolver that asks DNS through resolve::lookup_hosts with `config`.
NameResolver dns_name_resolver(resolve::ResolverConfig config);

}  // namespace netres::scan
