// Durations as users write them ("500ms", "30s", "5m", "1.5s") and as we print them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace netres {

using Nanos = std::chrono::nanoseconds;

// Parses "250us", "500ms", "30s", "5m", "2h", "1.5s"; a bare number means seconds.
// Throws UsageError naming `what` (e.g. "--timeout") on anything else, including negatives.
Nanos parse_duration(std::string_view text, std::string_view what = "duration");

// "812us", "45.3ms", "1.20s", "3m05s": short, for tables and summaries.
std::string format_duration(Nanos d);

// Seconds as a double, for JSON fields and rates.
inline double to_seconds(Nanos d) { return std::chrono::duration<double>(d).count(); }

}  // namespace netres
