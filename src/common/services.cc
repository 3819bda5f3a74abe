// /etc/services parsing.
#include "common/services.h"

#include <fstream>
#include <sstream>

#include "common/text.h"

namespace netres {

ServiceTable ServiceTable::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str());
}

ServiceTable ServiceTable::parse(std::string_view text) {
  ServiceTable t;
  std::istringstream in{std::string(text)};
  for (const auto& line : read_list_lines(in)) {
    std::istringstream fields(line.text);
    std::string name, port_proto;
    if (!(fields >> name >> port_proto)) continue;
    auto slash = port_proto.find('/');
    if (slash == std::string::npos || port_proto.substr(slash + 1) != "tcp") continue;
    unsigned long port = 0;
    try {
      port = std::stoul(port_proto.substr(0, slash));
    } catch (...) {
      continue;
    }
    if (port == 0 || port > 65535) continue;
    auto p = static_cast<uint16_t>(port);
    t.by_port_.emplace(p, name);  // first entry for a port wins, as getservbyport does
    t.by_name_.emplace(name, p);
    std::string alias;
    while (fields >> alias) t.by_name_.emplace(alias, p);
  }
  return t;
}

const ServiceTable& ServiceTable::system() {
  static const ServiceTable table = load();
  return table;
}

std::string_view ServiceTable::name(uint16_t port) const {
  auto it = by_port_.find(port);
  return it == by_port_.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<uint16_t> ServiceTable::port(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

}  // namespace netres
