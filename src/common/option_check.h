// Range checks on parsed flag values, with one wording for every verb:
// "--flag must be above zero", "--flag must be 1-1024".
#pragma once

#include <cstdint>
#include <string_view>

#include "common/duration.h"

namespace netres {

// Throws UsageError "<flag> must be above zero" unless d > 0.
void require_above_zero(Nanos d, std::string_view flag);

// Throws UsageError "<flag> must be <min>-<max>" unless min <= value <= max.
void require_in_range(int64_t value, std::string_view flag, int64_t min, int64_t max);

// Throws UsageError "<flag> must be at least <min>" unless value >= min.
void require_at_least(int64_t value, std::string_view flag, int64_t min);

// A whole decimal number min-max (no sign unless negative, no trailing text); throws UsageError
// "<flag> must be <min>-<max>" otherwise.
int64_t parse_int_option(std::string_view text, std::string_view flag, int64_t min, int64_t max);

}  // namespace netres
