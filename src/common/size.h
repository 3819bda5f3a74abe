// Sizes ("64k", "10M") and rates ("100/s", "10mbit") as users write them.
#pragma once

#include <cstdint>
#include <string_view>

namespace netres {

// Bytes: "1500", "64k", "10M", "1G" (binary multiples: k = 1024). Throws UsageError.
uint64_t parse_size(std::string_view text, std::string_view what = "size");

// Events per second: "100", "100/s", "600/m", "2.5/s". Throws UsageError; must be > 0.
double parse_rate(std::string_view text, std::string_view what = "rate");

// Bits per second, as tc writes them: "800bit", "10kbit", "10mbit", "1gbit" (decimal
// multiples), or bytes per second: "100kbps", "1mbps". Throws UsageError; must be > 0.
uint64_t parse_bit_rate(std::string_view text, std::string_view what = "rate");

}  // namespace netres
