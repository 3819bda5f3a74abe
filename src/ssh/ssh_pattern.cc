// OpenSSH host patterns: see ssh_pattern.h.
#include "ssh/ssh_pattern.h"

#include <algorithm>
#include <cctype>

namespace netres::ssh {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool ssh_pattern_match(std::string_view p, std::string_view s) {
  // Greedy with one backtrack point: on a mismatch after a '*', let that '*' take one more
  // character. Linear in practice, no recursion (patterns come from files users edit).
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace netres::ssh
