// Range checks on flag values.
#include "common/option_check.h"

#include <fmt/format.h>

#include <charconv>

#include "common/error.h"

namespace netres {

void require_above_zero(Nanos d, std::string_view flag) {
  if (d <= Nanos(0)) throw UsageError(fmt::format("{} must be above zero", flag));
}

void require_in_range(int64_t value, std::string_view flag, int64_t min, int64_t max) {
  if (value < min || value > max) throw UsageError(fmt::format("{} must be {}-{}", flag, min, max));
}

void require_at_least(int64_t value, std::string_view flag, int64_t min) {
  if (value < min) throw UsageError(fmt::format("{} must be at least {}", flag, min));
}

int64_t parse_int_option(std::string_view text, std::string_view flag, int64_t min, int64_t max) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw UsageError(fmt::format("{} must be {}-{}", flag, min, max));
  require_in_range(value, flag, min, max);
  return value;
}

}  // namespace netres
