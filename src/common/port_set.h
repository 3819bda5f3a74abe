// Sets of TCP ports as users write them: "22,80,8000-8100", "-" (all), "ssh,http", "-1024".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netres {

class ServiceTable;

class PortSet {
 public:
  PortSet() = default;
  explicit PortSet(std::vector<uint16_t> ports);  // sorted and deduplicated here

  static PortSet all();  // 1-65535

  const std::vector<uint16_t>& ports() const { return ports_; }
  size_t size() const { return ports_.size(); }
  bool empty() const { return ports_.empty(); }
  uint16_t operator[](size_t i) const { return ports_[i]; }
  bool contains(uint16_t port) const;
  // Compact text: "22,80,8000-8100".
  std::string to_string() const;

 private:
  std::vector<uint16_t> ports_;
};

// Parses a comma separated list of ports, ranges ("8000-8100", "-1024", "60000-") and service
// names resolved through `services`; "-" alone means every port. Throws UsageError with a
// one-line message naming the bad item, e.g. "bad port range '70000-1': ports are 1-65535".
PortSet parse_port_set(std::string_view text, const ServiceTable& services);

}  // namespace netres
