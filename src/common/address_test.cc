// CIDR math, ranges and address parsing, v4 and v6, including every malformed shape.
#include "common/address.h"

#include <gtest/gtest.h>

#include "common/error.h"

using netres::AddressRange;
using netres::Family;
using netres::parse_address_spec;
using netres::parse_cidr;
using netres::parse_ip;
using netres::uint128;

namespace {

AddressRange spec(const char* text) {
  auto r = parse_address_spec(text);
  EXPECT_TRUE(r.has_value()) << text;
  return r.value_or(AddressRange{});
}

std::string first_last(const AddressRange& r) { return r.to_string(); }

}  // namespace

TEST(ParseIp, V4AndV6) {
  auto a = parse_ip("10.1.2.3");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->value, uint128{0x0a010203});
  EXPECT_EQ(a->to_string(), "10.1.2.3");
  auto b = parse_ip("fd00:6e72:10::2");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->is_v4());
  EXPECT_EQ(b->to_string(), "fd00:6e72:10::2");
  EXPECT_EQ(parse_ip("[::1]")->to_string(), "::1");
  for (const char* bad : {"", "10.1", "10.0.0.256", "1.2.3.4.5", "::g", "host", "[::1", "1.2.3.-4"})
    EXPECT_FALSE(parse_ip(bad)) << bad;
}

TEST(Cidr, V4Boundaries) {
  EXPECT_EQ(first_last(spec("10.0.0.0/24")), "10.0.0.0-10.0.0.255");
  EXPECT_EQ(first_last(spec("10.0.0.77/24")), "10.0.0.0-10.0.0.255");  // host bits masked
  EXPECT_EQ(first_last(spec("10.0.0.5/32")), "10.0.0.5");
  EXPECT_EQ(first_last(spec("0.0.0.0/0")), "0.0.0.0-255.255.255.255");
  EXPECT_EQ(spec("0.0.0.0/0").size(), uint128{1} << 32);
  EXPECT_EQ(first_last(spec("198.18.10.1/30")), "198.18.10.0-198.18.10.3");
  EXPECT_EQ(first_last(spec("10.255.255.255/31")), "10.255.255.254-10.255.255.255");
}

TEST(Cidr, V6Boundaries) {
  EXPECT_EQ(first_last(spec("fd00::1/128")), "fd00::1");
  EXPECT_EQ(first_last(spec("fd00::1/127")), "fd00::-fd00::1");
  EXPECT_EQ(first_last(spec("fd00::/120")), "fd00::-fd00::ff");
  EXPECT_EQ(spec("fd00::/64").size(), uint128{1} << 64);
  auto all = spec("::/0");
  EXPECT_EQ(all.first, uint128{0});
  EXPECT_EQ(all.last, ~uint128{0});
  EXPECT_EQ(all.size(), ~uint128{0});  // saturated
  EXPECT_EQ(first_last(spec("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/126")),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(Cidr, BadPrefixes) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/x", "::/129",
                          "fd00::/1000", "10.0.0/8", "host/24", "10.0.0.0/24/1"}) {
    EXPECT_THROW(parse_address_spec(bad), netres::UsageError) << bad;
  }
  try {
    parse_cidr("10.0.0.0/33");
    FAIL();
  } catch (const netres::UsageError& e) {
    EXPECT_STREQ(e.what(), "bad CIDR prefix in '10.0.0.0/33': IPv4 prefixes are 0-32");
  }
}

TEST(Range, ShortAndFull) {
  EXPECT_EQ(first_last(spec("10.0.0.1-20")), "10.0.0.1-10.0.0.20");
  EXPECT_EQ(first_last(spec("10.0.0.1-10.0.1.5")), "10.0.0.1-10.0.1.5");
  EXPECT_EQ(first_last(spec("10.0.0.7-7")), "10.0.0.7");
  EXPECT_EQ(first_last(spec("fd00::1-fd00::1:0")), "fd00::1-fd00::1:0");
  EXPECT_EQ(spec("fd00::1-fd00::1:0").size(), uint128{0x10000});
}

TEST(Range, Malformed) {
  for (const char* bad : {"10.0.0.20-1", "10.0.0.1-256", "10.0.0.1-10.0.0.0", "10.0.0.1-fd00::1",
                          "fd00::5-fd00::1", "fd00::1-20", "10.0.0.1-x", "10.0.0.1-"}) {
    EXPECT_THROW(parse_address_spec(bad), netres::UsageError) << bad;
  }
  try {
    parse_address_spec("10.0.0.20-1");
    FAIL();
  } catch (const netres::UsageError& e) {
    EXPECT_STREQ(e.what(), "bad range '10.0.0.20-1': start is above end");
  }
}

TEST(Hostname, Shapes) {
  for (std::string ok : {"localhost", "scan-target.test", "a.b.c.", "x1", "10.0.0.a"})
    EXPECT_TRUE(netres::looks_like_hostname(ok)) << ok;
  const std::string too_long_label(64, 'a');
  for (std::string bad : {std::string(""), std::string("-a"), std::string("a-"),
                          std::string("a..b"), std::string("10.0.0.300"), std::string("a b"),
                          std::string("a/b"), std::string("host:80"), too_long_label})
    EXPECT_FALSE(netres::looks_like_hostname(bad)) << bad;
  EXPECT_FALSE(parse_address_spec("scan-target.test"));
}

TEST(RangeSet, NormalizeMergesAdjacentAndOverlapping) {
  auto out =
      netres::normalize_ranges({spec("10.0.0.8-20"), spec("10.0.0.0-7"), spec("10.0.0.15-30"),
                                spec("fd00::1"), spec("10.0.1.0/24"), spec("fd00::/127")});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].to_string(), "10.0.0.0-10.0.0.30");
  EXPECT_EQ(out[1].to_string(), "10.0.1.0-10.0.1.255");
  EXPECT_EQ(out[2].to_string(), "fd00::-fd00::1");
  auto all = netres::normalize_ranges({spec("::/0"), spec("::1")});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].last, ~uint128{0});
}

TEST(RangeSet, SubtractExcludes) {
  auto out = netres::subtract_ranges({spec("10.0.0.0/24")}, {spec("10.0.0.0"), spec("10.0.0.10-20"),
                                                             spec("10.0.0.255"), spec("fd00::/8")});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].to_string(), "10.0.0.1-10.0.0.9");
  EXPECT_EQ(out[1].to_string(), "10.0.0.21-10.0.0.254");
  EXPECT_TRUE(netres::subtract_ranges({spec("10.0.0.0/24")}, {spec("10.0.0.0/16")}).empty());
  auto v6 = netres::subtract_ranges({spec("::/0")}, {spec("::/1")});
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].first, uint128{1} << 127);
  EXPECT_EQ(v6[0].last, ~uint128{0});
  auto edges =
      netres::subtract_ranges({spec("0.0.0.0/0")}, {spec("0.0.0.0"), spec("255.255.255.255")});
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0].to_string(), "0.0.0.1-255.255.255.254");
}
