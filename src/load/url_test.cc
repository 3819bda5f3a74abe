// URL parsing: schemes, ports, IPv6 literals, targets, and the inputs we refuse.
#include "load/url.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace netres::load {
namespace {

TEST(Url, PlainHttp) {
  Url u = parse_url("http://127.0.0.1:8080/index.html?x=1");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.target, "/index.html?x=1");
  EXPECT_EQ(u.path, "/index.html");
  EXPECT_EQ(u.host_header(), "127.0.0.1:8080");
}

TEST(Url, DefaultsAndHttps) {
  Url u = parse_url("https://example.test");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.host_header(), "example.test");
  EXPECT_EQ(parse_url("http://h?q").target, "/?q");
  EXPECT_EQ(parse_url("http://h").port, 80);
}

TEST(Url, Ipv6Literal) {
  Url u = parse_url("http://[::1]:9000/a");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 9000);
  EXPECT_EQ(u.host_header(), "[::1]:9000");
  EXPECT_EQ(parse_url("https://[::1]/").host_header(), "[::1]");
}

TEST(Url, Rejects) {
  for (const char* bad :
       {"ftp://h/", "h/path", "http://", "http://:80/", "http://h:0/", "http://h:65536/",
        "http://h:/", "http://h:8x/", "http://user:pw@h/", "http://h/a#frag", "http://h/a b",
        "http://[::1/", "http://[]/", "http://[::1]x/", "http://h\x01/", "http://ho%st/"}) {
    EXPECT_THROW(parse_url(bad), UsageError) << bad;
  }
}

}  // namespace
}  // namespace netres::load
