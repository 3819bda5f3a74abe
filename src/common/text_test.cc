#include "common/text.h"

#include <gtest/gtest.h>

#include <sstream>

using netres::Endpoint;

TEST(Trim, DefaultBlanks) {
  EXPECT_EQ(netres::trim("  a b \t\r"), "a b");
  EXPECT_EQ(netres::trim("\t\r "), "");
  EXPECT_EQ(netres::trim(""), "");
  EXPECT_EQ(netres::trim("x"), "x");
  EXPECT_EQ(netres::trim("a\n"), "a\n");  // '\n' is not a default blank
}

TEST(Trim, OwnSet) {
  EXPECT_EQ(netres::trim(" a\t", " "), "a\t");
  EXPECT_EQ(netres::trim("\t a \t", " \t"), "a");
}

TEST(SplitEndpoint, Forms) {
  auto e = netres::split_endpoint("host");
  EXPECT_EQ(e.host, "host");
  EXPECT_EQ(e.port, "");
  EXPECT_FALSE(e.bracketed);
  e = netres::split_endpoint("10.0.0.1:53");
  EXPECT_EQ(e.host, "10.0.0.1");
  EXPECT_EQ(e.port, "53");
  e = netres::split_endpoint("::1");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, "");
  e = netres::split_endpoint("[::1]:5353");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, "5353");
  EXPECT_TRUE(e.bracketed);
  e = netres::split_endpoint("[fe80::1]");
  EXPECT_EQ(e.host, "fe80::1");
  EXPECT_EQ(e.port, "");
  EXPECT_EQ(e.error, Endpoint::Error::kNone);
}

TEST(SplitEndpoint, Errors) {
  EXPECT_EQ(netres::split_endpoint("[::1").error, Endpoint::Error::kUnclosedBracket);
  EXPECT_EQ(netres::split_endpoint("[::1]x").error, Endpoint::Error::kJunkAfterBracket);
  EXPECT_EQ(netres::split_endpoint("[::1]:").error, Endpoint::Error::kEmptyPort);
  EXPECT_EQ(netres::split_endpoint("host:").error, Endpoint::Error::kEmptyPort);
}

TEST(ParsePortNumber, Range) {
  EXPECT_EQ(netres::parse_port_number("1"), 1);
  EXPECT_EQ(netres::parse_port_number("65535"), 65535);
  EXPECT_EQ(netres::parse_port_number("0053"), 53);
  for (const char* bad : {"", "0", "65536", "99999999999", "-1", "+1", "1x", " 1"})
    EXPECT_FALSE(netres::parse_port_number(bad).has_value()) << bad;
}

TEST(ReadListLines, CommentsBlanksNumbers) {
  std::istringstream in("a\n  # whole comment\n\n b  # tail\r\nc\t\r\n");
  auto lines = netres::read_list_lines(in);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].number, 1u);
  EXPECT_EQ(lines[0].text, "a");
  EXPECT_EQ(lines[1].number, 4u);
  EXPECT_EQ(lines[1].text, "b");
  EXPECT_EQ(lines[2].number, 5u);
  EXPECT_EQ(lines[2].text, "c");
  EXPECT_FALSE(in.bad());
}

TEST(OpenList, DashIsStdinMissingIsNull) {
  std::ifstream file;
  EXPECT_EQ(netres::open_list("-", file), &std::cin);
  std::ifstream other;
  EXPECT_EQ(netres::open_list("/nonexistent/netres-list", other), nullptr);
}

TEST(BytesAsUtf8, RoundTripsEveryByte) {
  std::string bytes;
  for (int c = 0; c < 256; ++c) bytes += static_cast<char>(c);
  std::string text = netres::bytes_to_utf8(bytes);
  EXPECT_EQ(netres::bytes_to_utf8("plain"), "plain");
  EXPECT_EQ(text.size(), 128u + 2 * 128u);
  EXPECT_EQ(netres::utf8_to_bytes(text), bytes);
  EXPECT_EQ(netres::utf8_to_bytes("\xe2\x82\xac"), std::nullopt);  // U+20AC is above U+00FF
  EXPECT_EQ(netres::utf8_to_bytes("\xc3"), std::nullopt);
  EXPECT_EQ(netres::utf8_to_bytes("\xc3("), std::nullopt);
}
