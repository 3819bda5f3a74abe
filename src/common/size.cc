// Size and rate parsing.
#include "common/size.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include "common/error.h"

namespace netres {
namespace {

// Splits "12.5abc" into 12.5 and "abc"; throws if no number leads.
double leading_number(std::string_view text, std::string_view* rest, std::string_view what,
                      std::string_view example) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string number(text.substr(0, i));
  if (number.empty() || number == "." || number.find('.') != number.rfind('.'))
    throw UsageError(fmt::format("bad {} '{}': expected a number like {}", what, text, example));
  *rest = text.substr(i);
  return std::strtod(number.c_str(), nullptr);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

uint64_t parse_size(std::string_view text, std::string_view what) {
  std::string_view unit;
  double value = leading_number(text, &unit, what, "1500, 64k or 10M");
  std::string u = lower(unit);
  if (!u.empty() && u.back() == 'b' && u.size() > 1) u.pop_back();  // "64kb" == "64k"
  double scale;
  if (u.empty() || u == "b") {
    scale = 1;
  } else if (u == "k") {
    scale = 1024.0;
  } else if (u == "m") {
    scale = 1024.0 * 1024;
  } else if (u == "g") {
    scale = 1024.0 * 1024 * 1024;
  } else {
    throw UsageError(fmt::format("bad {} '{}': unknown unit (use k, M or G)", what, text));
  }
  double bytes = value * scale;
  if (!std::isfinite(bytes) || bytes > 9.0e18)
    throw UsageError(fmt::format("bad {} '{}': too large", what, text));
  return static_cast<uint64_t>(std::llround(bytes));
}

double parse_rate(std::string_view text, std::string_view what) {
  std::string_view unit;
  double value = leading_number(text, &unit, what, "100/s");
  double per_second;
  if (unit.empty() || unit == "/s") {
    per_second = value;
  } else if (unit == "/m") {
    per_second = value / 60.0;
  } else if (unit == "/h") {
    per_second = value / 3600.0;
  } else {
    throw UsageError(fmt::format("bad {} '{}': write it as N/s, N/m or N/h", what, text));
  }
  if (!(per_second > 0) || !std::isfinite(per_second))
    throw UsageError(fmt::format("bad {} '{}': must be above zero", what, text));
  return per_second;
}

uint64_t parse_bit_rate(std::string_view text, std::string_view what) {
  std::string_view unit;
  double value = leading_number(text, &unit, what, "10mbit");
  std::string u = lower(unit);
  double scale;
  if (u == "bit" || u.empty()) {
    scale = 1;
  } else if (u == "kbit") {
    scale = 1e3;
  } else if (u == "mbit") {
    scale = 1e6;
  } else if (u == "gbit") {
    scale = 1e9;
  } else if (u == "bps") {
    scale = 8;
  } else if (u == "kbps") {
    scale = 8e3;
  } else if (u == "mbps") {
    scale = 8e6;
  } else if (u == "gbps") {
    scale = 8e9;
  } else {
    throw UsageError(
        fmt::format("bad {} '{}': use bit, kbit, mbit, gbit or kbps, mbps", what, text));
  }
  double bits = value * scale;
  if (!(bits >= 1) || !std::isfinite(bits) || bits > 1e13)
    throw UsageError(fmt::format("bad {} '{}': out of range", what, text));
  return static_cast<uint64_t>(std::llround(bits));
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{}B", bytes) : fmt::format("{:.1f}{}", v, units[u]);
}

std::string format_bits(double bits_per_second) {
  const char* units[] = {"b", "Kb", "Mb", "Gb", "Tb"};
  int u = 0;
  while (bits_per_second >= 1000 && u < 4) {
    bits_per_second /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f}{}", bits_per_second, units[u])
                : fmt::format("{:.2f}{}", bits_per_second, units[u]);
}

std::string format_tc_rate(uint64_t bits) {
  if (bits == 0) return "-";
  // The largest unit that divides exactly, so the text parses back to the same rate.
  if (bits % 1'000'000'000 == 0) return fmt::format("{}gbit", bits / 1'000'000'000);
  if (bits % 1'000'000 == 0) return fmt::format("{}mbit", bits / 1'000'000);
  if (bits % 1'000 == 0) return fmt::format("{}kbit", bits / 1'000);
  return fmt::format("{}bit", bits);
}

}  // namespace netres
