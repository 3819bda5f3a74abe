// hosts(5) lookups.
#include "resolve/hosts_file.h"

#include <gtest/gtest.h>

namespace netres::resolve {
namespace {

const char* kHosts =
    "127.0.0.1\tlocalhost\n"
    "::1     localhost ip6-localhost ip6-loopback # the IPv6 loopback\n"
    "# 10.0.0.1 commented.example\n"
    "192.0.2.10 Web.Example.  web   # trailing dot and case\n"
    "192.0.2.10 web.example\n"
    "0:0:0:0:0:0:0:1 localhost\n"
    "fe80::1%eth0 linklocal.example\n"
    "not-an-address broken.example\n"
    "198.51.100.7\r\n"
    "198.51.100.8 crlf.example\r\n";

TEST(HostsFile, FindsEveryAddressOfANameOnceIpv4First) {
  EXPECT_EQ(hosts_file_addresses(kHosts, "localhost"),
            (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(hosts_file_addresses(kHosts, "ip6-loopback"), (std::vector<std::string>{"::1"}));
  EXPECT_EQ(hosts_file_addresses(kHosts, "web.example"), (std::vector<std::string>{"192.0.2.10"}));
  EXPECT_EQ(hosts_file_addresses(kHosts, "WEB"), (std::vector<std::string>{"192.0.2.10"}));
  EXPECT_EQ(hosts_file_addresses(kHosts, "crlf.example"),
            (std::vector<std::string>{"198.51.100.8"}));
}

TEST(HostsFile, SkipsCommentsJunkAndScopedAddresses) {
  EXPECT_TRUE(hosts_file_addresses(kHosts, "commented.example").empty());
  EXPECT_TRUE(hosts_file_addresses(kHosts, "broken.example").empty());
  EXPECT_TRUE(hosts_file_addresses(kHosts, "linklocal.example").empty());
  EXPECT_TRUE(hosts_file_addresses(kHosts, "the").empty());
  EXPECT_TRUE(hosts_file_addresses("", "localhost").empty());
  EXPECT_TRUE(read_hosts_file("/nonexistent/hosts").empty());
}

}  // namespace
}  // namespace netres::resolve
