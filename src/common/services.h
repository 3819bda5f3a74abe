// TCP service names from /etc/services (Debian package netbase): "ssh" <-> 22.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace netres {

class ServiceTable {
 public:
  // Reads the TCP entries of an /etc/services style file; a missing file gives an empty table.
  static ServiceTable load(const std::string& path = "/etc/services");
  // Parses file contents; lines are "name port/proto [aliases...] [# comment]".
  static ServiceTable parse(std::string_view text);
  // The process-wide table from /etc/services, loaded once on first use.
  static const ServiceTable& system();

  // The primary name for a TCP port, or "" when the port has none.
  std::string_view name(uint16_t port) const;
  // Port for a name or alias (case sensitive, as in the file).
  std::optional<uint16_t> port(std::string_view name) const;
  size_t size() const { return by_port_.size(); }

 private:
  std::unordered_map<uint16_t, std::string> by_port_;
  std::unordered_map<std::string, uint16_t> by_name_;
};

}  // namespace netres
