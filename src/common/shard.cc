// Shard spec parsing.
#include "common/shard.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace netres {

Shard parse_shard(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("bad {} '{}': {}", what, text, why));
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) throw bad("write it as K/N, e.g. 1/4");
  auto number = [&](std::string_view s) -> uint64_t {
    if (s.empty() || s.size() > 10 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw bad("write it as K/N with whole numbers, e.g. 1/4");
    return std::stoull(std::string(s));
  };
  uint64_t k = number(text.substr(0, slash)), n = number(text.substr(slash + 1));
  if (n == 0 || n > (uint64_t{1} << 32)) throw bad("N must be 1 to 4294967296");
  if (k < 1 || k > n) throw bad(fmt::format("K must be 1 to {}", n));
  return {k, n};
}

}  // namespace netres
