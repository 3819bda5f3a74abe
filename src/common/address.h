// IP addresses and address ranges (IPv4 and IPv6 in one 128-bit representation), with the
// parsers for what users type: "10.0.0.1", "fd00::1", "10.0.0.0/24", "10.0.0.1-20", "a-b".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netres {

using uint128 = unsigned __int128;

enum class Family : uint8_t { kV4, kV6 };

// An IPv4 address lives in the low 32 bits of `value`; IPv6 uses all 128.
struct IpAddress {
  Family family = Family::kV4;
  uint128 value = 0;

  bool is_v4() const { return family == Family::kV4; }
  std::string to_string() const;
  // Network byte order; 4 or 16 bytes written to `out`.
  void to_bytes(uint8_t* out) const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress& a, const IpAddress& b) {
    if (a.family != b.family) return a.family <=> b.family;
    return a.value <=> b.value;
  }
};

// Parses a plain IPv4 or IPv6 address (IPv6 may be in brackets); nullopt otherwise.
std::optional<IpAddress> parse_ip(std::string_view text);

// Largest value an address of this family can hold.
inline uint128 max_value(Family f) { return f == Family::kV4 ? uint128{0xffffffffu} : ~uint128{0}; }

// An inclusive range of addresses of one family: [first, last].
struct AddressRange {
  Family family = Family::kV4;
  uint128 first = 0;
  uint128 last = 0;

  // Number of addresses, saturated at 2^128 - 1 (only ::/0 saturates).
  uint128 size() const { return last - first == ~uint128{0} ? last - first : last - first + 1; }
  IpAddress at(uint128 offset) const { return {family, first + offset}; }
  bool contains(const IpAddress& a) const {
    return a.family == family && a.value >= first && a.value <= last;
  }
  std::string to_string() const;
  friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

// "10.0.0.0/24" or "fd00::/64". Host bits set below the prefix are masked off, as nmap does.
// nullopt if `text` has no '/'; throws UsageError for a bad address or prefix.
std::optional<AddressRange> parse_cidr(std::string_view text);

// "10.0.0.1-20" (last octet), "10.0.0.1-10.0.1.5" or "fd00::1-fd00::ff" (full addresses).
// nullopt if `text` is not shaped like a range; throws UsageError for a malformed or reversed one.
std::optional<AddressRange> parse_address_range(std::string_view text);

// An address, CIDR block or range as one AddressRange; nullopt when `text` is none of these
// (it may be a hostname). Throws UsageError for text that is clearly meant as one but is bad.
std::optional<AddressRange> parse_address_spec(std::string_view text);

// True for a syntactically valid DNS hostname ("scan-target.test", "localhost").
bool looks_like_hostname(std::string_view text);

// Sorts and merges overlapping or adjacent ranges of the same family.
std::vector<AddressRange> normalize_ranges(std::vector<AddressRange> ranges);

// `ranges` minus `excluded`; both need not be normalized. The result is normalized.
std::vector<AddressRange> subtract_ranges(std::vector<AddressRange> ranges,
                                          std::vector<AddressRange> excluded);

// "2^64" style text for large counts, decimal below 2^53.
std::string format_count(uint128 n);

}  // namespace netres
