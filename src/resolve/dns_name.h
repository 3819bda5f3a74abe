// DNS names as users type them: validation (with a reason a person can act on), IP-literal
// detection, reverse (PTR) names built from addresses, and the wire encoding used in queries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netres::resolve {

inline constexpr size_t kMaxNameLength = 253;  // textual, without the trailing dot
inline constexpr size_t kMaxLabelLength = 63;

// Why `name` is not a valid hostname ("empty label", "bad character '!'", ...), or an empty
// string when it is one. Letters, digits, '-' and '_' (for _dmarc, _srv style names) are
// allowed; a single trailing dot is accepted; labels may not start or end with '-'.
std::string name_problem(std::string_view name);

// Throws UsageError "bad name 'x': <problem>", prefixed with `where` ("names.txt:3: ") if given.
void check_name(std::string_view name, std::string_view where = {});

// True for a plain IPv4 or IPv6 address literal (no brackets, no port).
bool is_ip_literal(std::string_view text);

// "10.1.2.3" -> "3.2.1.10.in-addr.arpa", "2001:db8::1" -> "1.0.0...8.b.d.0.1.0.0.2.ip6.arpa";
// nullopt when `text` is not an IP literal.
std::optional<std::string> reverse_name(std::string_view text);

// Appends the wire form of a valid name (length-prefixed labels, root terminator) to `out`.
// Returns false, appending nothing, if the name does not pass name_problem().
bool encode_name(std::string_view name, std::vector<uint8_t>& out);

// DNS comparison: ASCII case-insensitive, ignoring one trailing dot.
bool same_name(std::string_view a, std::string_view b);

}  // namespace netres::resolve
