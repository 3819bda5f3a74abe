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
