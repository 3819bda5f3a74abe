#include "common/option_check.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "common/error.h"
#include "common/open_files.h"

namespace {

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const netres::UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(OptionCheck, AboveZero) {
  netres::require_above_zero(netres::Nanos(1), "--timeout");
  EXPECT_EQ(message_of([] { netres::require_above_zero(netres::Nanos(0), "--timeout"); }),
            "--timeout must be above zero");
  EXPECT_EQ(message_of([] { netres::require_above_zero(netres::Nanos(-5), "--timeout"); }),
            "--timeout must be above zero");
}

TEST(OptionCheck, IntegerRange) {
  EXPECT_EQ(netres::parse_int_option("16", "--forks", 1, 1024), 16);
  EXPECT_EQ(netres::parse_int_option("1024", "--forks", 1, 1024), 1024);
  for (const char* bad : {"", "0", "1025", "x", "5x", " 5", "99999999999999999999"})
    EXPECT_EQ(message_of([&] { netres::parse_int_option(bad, "--forks", 1, 1024); }),
              "--forks must be 1-1024")
        << bad;
  EXPECT_EQ(message_of([] { netres::require_in_range(0, "--top", 1, 100); }),
            "--top must be 1-100");
  netres::require_at_least(1, "--top", 1);
  EXPECT_EQ(message_of([] { netres::require_at_least(0, "--top", 1); }),
            "--top must be at least 1");
}

TEST(OpenFiles, RaisesTowardsWantedNeverAboveHard) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  // Asking for less than we have changes nothing.
  EXPECT_EQ(netres::raise_open_file_limit(16), before.rlim_cur);
  // Asking for more than the hard limit stops at the hard limit.
  uint64_t got = netres::raise_open_file_limit(UINT64_MAX - 1);
  EXPECT_LE(got, before.rlim_max);
  EXPECT_GE(got, before.rlim_cur);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
}
