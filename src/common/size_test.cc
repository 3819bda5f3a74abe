#include "common/size.h"

#include <gtest/gtest.h>

#include "common/error.h"

using netres::parse_bit_rate;
using netres::parse_rate;
using netres::parse_size;

TEST(ParseSize, Units) {
  EXPECT_EQ(parse_size("1500"), 1500u);
  EXPECT_EQ(parse_size("64k"), 65536u);
  EXPECT_EQ(parse_size("64K"), 65536u);
  EXPECT_EQ(parse_size("64kb"), 65536u);
  EXPECT_EQ(parse_size("10M"), 10u * 1024 * 1024);
  EXPECT_EQ(parse_size("1G"), 1024u * 1024 * 1024);
  EXPECT_EQ(parse_size("0.5k"), 512u);
}

TEST(ParseSize, Malformed) {
  for (const char* bad : {"", "k", "-1", "10X", "1..2", "1e99G"})
    EXPECT_THROW(parse_size(bad), netres::UsageError) << bad;
}

TEST(ParseRate, Forms) {
  EXPECT_DOUBLE_EQ(parse_rate("100"), 100);
  EXPECT_DOUBLE_EQ(parse_rate("100/s"), 100);
  EXPECT_DOUBLE_EQ(parse_rate("600/m"), 10);
  EXPECT_DOUBLE_EQ(parse_rate("2.5/s"), 2.5);
  for (const char* bad : {"", "0", "0/s", "/s", "10/x", "-3/s", "ten"})
    EXPECT_THROW(parse_rate(bad), netres::UsageError) << bad;
}

TEST(ParseBitRate, TcUnits) {
  EXPECT_EQ(parse_bit_rate("10mbit"), 10000000u);
  EXPECT_EQ(parse_bit_rate("512kbit"), 512000u);
  EXPECT_EQ(parse_bit_rate("1gbit"), 1000000000u);
  EXPECT_EQ(parse_bit_rate("1mbps"), 8000000u);
  EXPECT_EQ(parse_bit_rate("8000"), 8000u);
  for (const char* bad : {"", "mbit", "0mbit", "10furlongs", "0.1bit"})
    EXPECT_THROW(parse_bit_rate(bad), netres::UsageError) << bad;
}

TEST(FormatBytes, BinaryUnits) {
  EXPECT_EQ(netres::format_bytes(0), "0B");
  EXPECT_EQ(netres::format_bytes(1023), "1023B");
  EXPECT_EQ(netres::format_bytes(1024), "1.0KB");
  EXPECT_EQ(netres::format_bytes(1536), "1.5KB");
  EXPECT_EQ(netres::format_bytes(10u * 1024 * 1024), "10.0MB");
  EXPECT_EQ(netres::format_bytes(uint64_t{5} << 50), "5120.0TB");  // TB is the largest unit
}

TEST(FormatBits, DecimalUnits) {
  EXPECT_EQ(netres::format_bits(0), "0b");
  EXPECT_EQ(netres::format_bits(999), "999b");
  EXPECT_EQ(netres::format_bits(1000), "1.00Kb");
  EXPECT_EQ(netres::format_bits(12'345'678), "12.35Mb");
  EXPECT_EQ(netres::format_bits(2e12), "2.00Tb");
}

TEST(FormatTcRate, ExactLargestUnit) {
  EXPECT_EQ(netres::format_tc_rate(0), "-");
  EXPECT_EQ(netres::format_tc_rate(800), "800bit");
  EXPECT_EQ(netres::format_tc_rate(1'500'000), "1500kbit");
  EXPECT_EQ(netres::format_tc_rate(10'000'000), "10mbit");
  EXPECT_EQ(netres::format_tc_rate(1'000'000'000), "1gbit");
  EXPECT_EQ(netres::format_tc_rate(12'345), "12345bit");
  // What it writes parses back to the same rate.
  for (uint64_t r : {800ull, 1'500'000ull, 10'000'000ull, 3'000'000'000ull})
    EXPECT_EQ(parse_bit_rate(netres::format_tc_rate(r)), r);
}
