// Address parsing, CIDR math and range set operations.
#include "common/address.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"

namespace netres {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A small decimal number; nullopt when not all digits or above `max`.
std::optional<unsigned> parse_small(std::string_view s, unsigned max) {
  if (!all_digits(s) || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  if (v > max) return std::nullopt;
  return v;
}

uint128 prefix_mask(Family f, unsigned prefix) {
  unsigned bits = f == Family::kV4 ? 32 : 128;
  if (prefix == 0) return 0;
  uint128 host_bits = prefix >= bits ? 0 : ((uint128{1} << (bits - prefix)) - 1);
  return max_value(f) & ~host_bits;
}

}  // namespace

std::string IpAddress::to_string() const {
  uint8_t bytes[16];
  to_bytes(bytes);
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes, buf, sizeof buf);
  return buf;
}

void IpAddress::to_bytes(uint8_t* out) const {
  int n = is_v4() ? 4 : 16;
  for (int i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(value >> (8 * (n - 1 - i)));
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  uint8_t bytes[16];
  if (s.find(':') == std::string::npos) {
    // inet_pton(AF_INET) accepts only dotted quads, which is what we want ("10.1" is not an IP).
    if (inet_pton(AF_INET, s.c_str(), bytes) != 1) return std::nullopt;
    IpAddress a{Family::kV4, 0};
    for (int i = 0; i < 4; ++i) a.value = (a.value << 8) | bytes[i];
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes) != 1) return std::nullopt;
  IpAddress a{Family::kV6, 0};
  for (int i = 0; i < 16; ++i) a.value = (a.value << 8) | bytes[i];
  return a;
}

std::string AddressRange::to_string() const {
  IpAddress a{family, first}, b{family, last};
  if (first == last) return a.to_string();
  return a.to_string() + "-" + b.to_string();
}

std::optional<AddressRange> parse_cidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view addr_text = text.substr(0, slash), prefix_text = text.substr(slash + 1);
  auto addr = parse_ip(addr_text);
  if (!addr) {
    throw UsageError(
        fmt::format("bad CIDR block '{}': '{}' is not an IP address", text, addr_text));
  }
  unsigned bits = addr->is_v4() ? 32 : 128;
  auto prefix = parse_small(prefix_text, bits);
  if (!prefix) {
    throw UsageError(fmt::format("bad CIDR prefix in '{}': {} prefixes are 0-{}", text,
                                 addr->is_v4() ? "IPv4" : "IPv6", bits));
  }
  uint128 mask = prefix_mask(addr->family, *prefix);
  AddressRange r{addr->family, addr->value & mask,
                 (addr->value & mask) | (~mask & max_value(addr->family))};
  return r;
}

std::optional<AddressRange> parse_address_range(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view left = text.substr(0, dash), right = text.substr(dash + 1);
  auto first = parse_ip(left);
  if (!first) return std::nullopt;  // maybe a hostname with a dash
  IpAddress last;
  if (auto full = parse_ip(right)) {
    if (full->family != first->family) {
      throw UsageError(fmt::format("bad range '{}': both ends must be the same IP version", text));
    }
    last = *full;
  } else if (first->is_v4() && all_digits(right)) {
    auto octet = parse_small(right, 255);
    if (!octet) throw UsageError(fmt::format("bad range '{}': the last octet is 0-255", text));
    last = {Family::kV4, (first->value & ~uint128{0xff}) | *octet};
  } else {
    throw UsageError(fmt::format(
        "bad range '{}': write 10.0.0.1-20 or a full end address like 10.0.0.1-10.0.1.5", text));
  }
  if (last.value < first->value)
    throw UsageError(fmt::format("bad range '{}': start is above end", text));
  return AddressRange{first->family, first->value, last.value};
}

std::optional<AddressRange> parse_address_spec(std::string_view text) {
  if (text.find('/') != std::string_view::npos) return parse_cidr(text);
  if (auto ip = parse_ip(text)) return AddressRange{ip->family, ip->value, ip->value};
  if (auto range = parse_address_range(text)) return range;
  return std::nullopt;
}

bool looks_like_hostname(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);  // fully qualified
  if (text.empty() || text.size() > 253) return false;
  bool all_numeric = true;
  size_t label = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      if (label == 0 || label > 63) return false;
      if (text[i - 1] == '-' || text[i - label] == '-') return false;
      label = 0;
      continue;
    }
    char c = text[i];
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    if (!ok) return false;
    if (!std::isdigit(static_cast<unsigned char>(c))) all_numeric = false;
    ++label;
  }
  // "10.0.0.300" is a typo of an address, not a name.
  return !all_numeric;
}

std::vector<AddressRange> normalize_ranges(std::vector<AddressRange> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const AddressRange& a, const AddressRange& b) {
    if (a.family != b.family) return a.family < b.family;
    return a.first < b.first;
  });
  std::vector<AddressRange> out;
  for (const auto& r : ranges) {
    if (!out.empty() && out.back().family == r.family &&
        (out.back().last == max_value(r.family) || r.first <= out.back().last + 1)) {
      out.back().last = std::max(out.back().last, r.last);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<AddressRange> subtract_ranges(std::vector<AddressRange> ranges,
                                          std::vector<AddressRange> excluded) {
  ranges = normalize_ranges(std::move(ranges));
  excluded = normalize_ranges(std::move(excluded));
  std::vector<AddressRange> out;
  for (AddressRange r : ranges) {
    bool gone = false;
    for (const auto& x : excluded) {
      if (x.family != r.family || x.last < r.first || x.first > r.last) continue;
      if (x.first > r.first) out.push_back({r.family, r.first, x.first - 1});
      if (x.last >= r.last) {
        gone = true;
        break;
      }
      r.first = x.last + 1;
    }
    if (!gone) out.push_back(r);
  }
  return out;
}

std::string format_count(uint128 n) {
  if (n < (uint128{1} << 53)) return fmt::format("{}", static_cast<uint64_t>(n));
  int bits = 0;
  while (bits < 128 && (n >> bits) > 1) ++bits;
  return fmt::format("about 2^{}", bits);
}

}  // namespace netres
