// OpenSSH's host patterns, shared by the ssh_config reader (Host, Match) and the known_hosts
// matcher: '*' and '?' wildcards over host names, which OpenSSH compares in lower case.
#pragma once

#include <string>
#include <string_view>

namespace netres::ssh {

// ASCII lower case (host names and config keywords; no locale).
std::string ascii_lower(std::string_view s);

// OpenSSH's match_pattern: '*' matches any run, '?' one character, everything else itself.
// Case-sensitive: callers lower both sides first.
bool ssh_pattern_match(std::string_view pattern, std::string_view text);

}  // namespace netres::ssh
