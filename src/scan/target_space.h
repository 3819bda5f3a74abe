// The (host x port) space a scan covers: targets as users write them (addresses, CIDR blocks,
// ranges, hostnames, -iL files) minus excludes, deduplicated, indexed so a permutation can
// address every pair by one number.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/port_set.h"

namespace netres::scan {

// Refuse more hosts than this: a /8, or an IPv6 /104. Beyond it a connect scan takes days.
inline constexpr uint64_t kMaxHosts = uint64_t{1} << 24;

// One target or exclude as written, with where it came from for error messages.
struct TargetText {
  std::string text;
  std::string origin;  // "hosts.txt:3", or "" for the command line
};

// Splits a command-line argument on commas ("10.0.0.1,10.0.0.5") into TargetTexts.
std::vector<TargetText> split_target_list(std::string_view arg, std::string_view origin = "");

// Reads an -iL file: targets separated by whitespace or commas, '#' starts a comment.
// "-" reads standard input. Throws UsageError when the file cannot be read.
std::vector<TargetText> read_target_file(const std::string& path);

// A hostname's addresses, or why there are none.
struct ResolvedName {
  std::string name;
  std::vector<IpAddress> addresses;
  std::string error;  // empty on success
};
using NameResolver = std::function<std::vector<ResolvedName>(const std::vector<std::string>&)>;

class TargetSpace {
 public:
  TargetSpace() = default;
  // `ranges` need not be normalized; `names` labels addresses that came from hostnames.
  TargetSpace(std::vector<AddressRange> ranges, PortSet ports,
              std::map<IpAddress, std::string> names = {});

  uint64_t host_count() const { return host_count_; }
  const PortSet& ports() const { return ports_; }
  uint64_t pair_count() const { return host_count_ * ports_.size(); }
  const std::vector<AddressRange>& ranges() const { return ranges_; }

  // The i-th host (0 <= i < host_count) in address order, IPv4 before IPv6.
  IpAddress host(uint64_t index) const;
  // A pair index splits as host = index % hosts, port = index / hosts: consecutive indexes hit
  // different hosts, though the scanner visits them in permuted order anyway.
  uint64_t host_of(uint64_t pair) const { return pair % host_count_; }
  uint16_t port_of(uint64_t pair) const { return ports_[pair / host_count_]; }
  // The hostname an address was resolved from, or "" for literal addresses.
  const std::string& name_of(const IpAddress& a) const;

 private:
  std::vector<AddressRange> ranges_;
  std::vector<uint64_t> starts_;  // index of each range's first host
  uint64_t host_count_ = 0;
  PortSet ports_;
  std::map<IpAddress, std::string> names_;
};

// What building the space found besides the space itself.
struct TargetSpaceBuild {
  TargetSpace space;
  std::vector<ResolvedName> unresolved;  // hostnames that gave no address
  uint64_t excluded_hosts = 0;
};

// Parses targets and excludes (addresses, CIDR, ranges, hostnames through `resolve`), subtracts
// the excludes, and checks the size. Throws UsageError for malformed items (prefixed with their
// origin), an empty result ("no targets left after --exclude") or more than kMaxHosts hosts.
TargetSpaceBuild build_target_space(const std::vector<TargetText>& targets,
                                    const std::vector<TargetText>& excludes, PortSet ports,
                                    const NameResolver& resolve);

}  // namespace netres::scan
