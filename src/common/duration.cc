// Duration parsing and printing.
#include "common/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "common/error.h"

namespace netres {

Nanos parse_duration(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("bad {} '{}': {}", what, text, why));
  };
  if (text.empty()) throw bad("empty (write e.g. 500ms, 30s, 5m)");
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string number(text.substr(0, i));
  std::string_view unit = text.substr(i);
  if (number.empty() || number == "." || number.find('.') != number.rfind('.'))
    throw bad("expected a number followed by us, ms, s, m or h");
  double value = std::strtod(number.c_str(), nullptr);
  double scale;
  if (unit == "ns") {
    scale = 1;
  } else if (unit == "us") {
    scale = 1e3;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "s" || unit.empty()) {
    scale = 1e9;
  } else if (unit == "m") {
    scale = 60e9;
  } else if (unit == "h") {
    scale = 3600e9;
  } else {
    throw bad("unknown unit (use us, ms, s, m or h)");
  }
  double ns = value * scale;
  if (!std::isfinite(ns) || ns > 1e18) throw bad("too large");
  return Nanos(static_cast<int64_t>(std::llround(ns)));
}

std::string format_duration(Nanos d) {
  double ns = static_cast<double>(d.count());
  if (ns < 0) return "-" + format_duration(-d);
  if (ns < 1e3) return fmt::format("{}ns", d.count());
  if (ns < 1e6) return fmt::format("{:.0f}us", ns / 1e3);
  if (ns < 1e9) return fmt::format("{:.1f}ms", ns / 1e6);
  if (ns < 60e9) return fmt::format("{:.2f}s", ns / 1e9);
  int64_t s = static_cast<int64_t>(ns / 1e9);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace netres
