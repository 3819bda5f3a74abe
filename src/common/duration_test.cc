#include "common/duration.h"

#include <gtest/gtest.h>

#include "common/error.h"

using namespace std::chrono_literals;
using netres::format_duration;
using netres::Nanos;
using netres::parse_duration;

TEST(ParseDuration, Units) {
  EXPECT_EQ(parse_duration("250us"), Nanos(250us));
  EXPECT_EQ(parse_duration("500ms"), Nanos(500ms));
  EXPECT_EQ(parse_duration("30s"), Nanos(30s));
  EXPECT_EQ(parse_duration("5m"), Nanos(5min));
  EXPECT_EQ(parse_duration("2h"), Nanos(2h));
  EXPECT_EQ(parse_duration("1.5s"), Nanos(1500ms));
  EXPECT_EQ(parse_duration("7"), Nanos(7s));
  EXPECT_EQ(parse_duration("0ms"), Nanos(0));
  EXPECT_EQ(parse_duration("10ns"), Nanos(10));
}

TEST(ParseDuration, Malformed) {
  for (const char* bad : {"", "ms", "-5s", "1.2.3s", "5 s", "5sec", "s5", ".", "1e3s", "5M",
                          "99999999999999h", "abc"}) {
    EXPECT_THROW(parse_duration(bad), netres::UsageError) << bad;
  }
}

TEST(ParseDuration, MessageNamesFlagAndValue) {
  try {
    parse_duration("5x", "--timeout");
    FAIL();
  } catch (const netres::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--timeout"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("'5x'"), std::string::npos);
  }
}

TEST(FormatDuration, Ranges) {
  EXPECT_EQ(format_duration(Nanos(999)), "999ns");
  EXPECT_EQ(format_duration(Nanos(812us)), "812us");
  EXPECT_EQ(format_duration(Nanos(45300us)), "45.3ms");
  EXPECT_EQ(format_duration(Nanos(1200ms)), "1.20s");
  EXPECT_EQ(format_duration(Nanos(185s)), "3m05s");
  EXPECT_EQ(format_duration(Nanos(3h + 4min)), "3h04m");
}
