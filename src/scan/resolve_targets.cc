// Adapts resolve::lookup_hosts answers to the scanner's address type.
#include "scan/resolve_targets.h"

namespace netres::scan {

NameResolver dns_name_resolver(resolve::ResolverConfig config) {
  return [config](const std::vector<std::string>& names) {
    std::vector<ResolvedName> out;
    for (auto& answer : resolve::lookup_hosts(names, config)) {
      ResolvedName r{answer.name, {}, answer.error};
      for (const auto& text : answer.addresses)
        if (auto ip = parse_ip(text)) r.addresses.push_back(*ip);
      out.push_back(std::move(r));
    }
    return out;
  };
}

}  // namespace netres::scan
