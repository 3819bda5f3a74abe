// The strict ssh config pre-read.
#include "ssh/ssh_config_check.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace netres::ssh {
namespace {

std::string error_of(const char* text) {
  try {
    check_ssh_config_text(text, "cfg");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(SshConfigCheck, AcceptsOpenSshSyntax) {
  EXPECT_EQ(error_of("# c\nHost r1 r2\n  HostName 127.0.0.1\n  Port=2222\n  User ops\n"
                     "Host *\n  StrictHostKeyChecking accept-new\n  IdentityFile \"~/a b\"\n"),
            "");
  EXPECT_EQ(error_of("IgnoreUnknown UseKeychain\nUseKeychain yes\nFooBar 1\n"),
            "cfg:3: unknown ssh config keyword 'FooBar'");
}

TEST(SshConfigCheck, Errors) {
  EXPECT_EQ(error_of("Host a\n  Port 99999\n"), "cfg:2: bad Port '99999'");
  EXPECT_EQ(error_of("Host a\n  Bogus yes\n"), "cfg:2: unknown ssh config keyword 'Bogus'");
  EXPECT_EQ(error_of("Host\n"), "cfg:1: 'Host' needs a value");
  EXPECT_EQ(error_of("User \"ops\n"), "cfg:1: unbalanced quotes in 'User'");
}

}  // namespace
}  // namespace netres::ssh
