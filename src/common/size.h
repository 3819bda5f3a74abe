// Sizes ("64k", "10M") and rates ("100/s", "10mbit") as users write them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netres {

// Bytes: "1500", "64k", "10M", "1G" (binary multiples: k = 1024). Throws UsageError.
uint64_t parse_size(std::string_view text, std::string_view what = "size");

// Events per second: "100", "100/s", "600/m", "2.5/s". Throws UsageError; must be > 0.
double parse_rate(std::string_view text, std::string_view what = "rate");

// Bits per second, as tc writes them: "800bit", "10kbit", "10mbit", "1gbit" (decimal
// multiples), or bytes per second: "100kbps", "1mbps". Throws UsageError; must be > 0.
uint64_t parse_bit_rate(std::string_view text, std::string_view what = "rate");

// For people reading a table: "512B", "1.5KB", "2.0MB" (binary multiples, one decimal).
std::string format_bytes(uint64_t bytes);

// For people reading a table: "800b", "1.50Kb", "12.34Mb" (decimal multiples, two decimals).
std::string format_bits(double bits_per_second);

// Exactly, as tc writes a rate: "10mbit", "1500kbit", "12345bit"; "-" for 0 (no rate).
std::string format_tc_rate(uint64_t bits_per_second);

}  // namespace netres
