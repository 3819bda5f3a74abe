// Name validation, reverse names and wire encoding.
#include "resolve/dns_name.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace netres::resolve {
namespace {

TEST(NameProblem, AcceptsOrdinaryNames) {
  for (const char* name :
       {"example.com", "www.test", "a", "localhost", "EXAMPLE.COM.", "_dmarc.example.com",
        "xn--bcher-kva.example", "a-b.c-d.e", "1.2.3", "0a.test"})
    EXPECT_EQ(name_problem(name), "") << name;
}

TEST(NameProblem, RejectsEveryMalformedShape) {
  EXPECT_EQ(name_problem(""), "empty name");
  EXPECT_NE(name_problem(".").find("empty name"), std::string::npos);
  EXPECT_EQ(name_problem("a..b"), "empty label");
  EXPECT_EQ(name_problem(".a"), "empty label");
  EXPECT_EQ(name_problem("a.b.."), "empty label");
  EXPECT_EQ(name_problem("exa mple.com"), "bad character ' ' (space)");
  EXPECT_EQ(name_problem("ex!ample.com"), "bad character '!'");
  EXPECT_EQ(name_problem("a/b"), "bad character '/'");
  EXPECT_EQ(name_problem("a*.test"), "bad character '*'");
  EXPECT_EQ(name_problem(std::string("a\x01.test")), "bad character \\x01");
  EXPECT_EQ(name_problem("caf\xc3\xa9.test"), "bad character \\xc3");
  EXPECT_EQ(name_problem(std::string("a\0b", 3)), "bad character \\x00");
  EXPECT_EQ(name_problem("-a.test"), "label '-a' starts or ends with '-'");
  EXPECT_EQ(name_problem("a-.test"), "label 'a-' starts or ends with '-'");
}

TEST(NameProblem, LengthLimits) {
  std::string label63(63, 'a');
  std::string label64(64, 'a');
  EXPECT_EQ(name_problem(label63 + ".test"), "");
  EXPECT_NE(name_problem(label64 + ".test").find("64 bytes, over the 63 byte limit"),
            std::string::npos);
  // 4 x 63 + 3 dots = 255 > 253; 3 x 63 + 61 + 3 dots = 253 exactly.
  std::string max_name = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(max_name.size(), 253u);
  EXPECT_EQ(name_problem(max_name), "");
  EXPECT_EQ(name_problem(max_name + "."), "");  // the trailing dot does not count
  EXPECT_NE(name_problem(max_name + "b").find("254 bytes, over the 253 byte limit"),
            std::string::npos);
}

TEST(CheckName, ThrowsOneLineWithWhere) {
  try {
    check_name("a..b", "names.txt:3: ");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "names.txt:3: bad name 'a..b': empty label");
  }
  try {
    check_name(std::string("a\nb"));
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  EXPECT_NO_THROW(check_name("ok.test"));
}

TEST(IpLiteral, Detects) {
  EXPECT_TRUE(is_ip_literal("10.1.2.3"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_TRUE(is_ip_literal("2001:db8::1"));
  EXPECT_FALSE(is_ip_literal("10.1.2"));
  EXPECT_FALSE(is_ip_literal("1.2.3.256"));
  EXPECT_FALSE(is_ip_literal("[::1]"));
  EXPECT_FALSE(is_ip_literal("example.com"));
  EXPECT_FALSE(is_ip_literal(""));
}

TEST(ReverseName, V4) {
  EXPECT_EQ(reverse_name("10.1.2.3"), "3.2.1.10.in-addr.arpa");
  EXPECT_EQ(reverse_name("127.0.0.1"), "1.0.0.127.in-addr.arpa");
  EXPECT_EQ(reverse_name("255.255.255.255"), "255.255.255.255.in-addr.arpa");
}

TEST(ReverseName, V6) {
  EXPECT_EQ(reverse_name("2001:db8::567:89ab"),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(reverse_name("::1"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
  EXPECT_EQ(reverse_name("fd00::5")->size(), 64u + 8u);
}

TEST(ReverseName, NotAnAddress) {
  EXPECT_FALSE(reverse_name("example.com"));
  EXPECT_FALSE(reverse_name(""));
  EXPECT_FALSE(reverse_name("10.1.2"));
}

TEST(EncodeName, Wire) {
  std::vector<uint8_t> out;
  ASSERT_TRUE(encode_name("www.Test.", out));
  EXPECT_EQ(out, (std::vector<uint8_t>{3, 'w', 'w', 'w', 4, 'T', 'e', 's', 't', 0}));
  out.clear();
  EXPECT_FALSE(encode_name("a..b", out));
  EXPECT_TRUE(out.empty());
}

TEST(SameName, CaseAndDot) {
  EXPECT_TRUE(same_name("WWW.test.", "www.TEST"));
  EXPECT_FALSE(same_name("www.test", "ww.test"));
}

}  // namespace
}  // namespace netres::resolve
