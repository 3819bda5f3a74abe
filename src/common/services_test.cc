// /etc/services parsing.
#include "common/services.h"

#include <gtest/gtest.h>

using netres::ServiceTable;

TEST(Services, ParsesTcpEntriesAndAliases) {
  auto t = ServiceTable::parse(
      "# comment\n"
      "ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\n"
      "smtp\t\t25/tcp\t\tmail\n"
      "domain\t\t53/udp\n"
      "http\t\t80/tcp\t\twww\n"
      "bad\t\t70000/tcp\n"
      "junk\n");
  EXPECT_EQ(t.name(22), "ssh");
  EXPECT_EQ(t.name(25), "smtp");
  EXPECT_EQ(t.name(53), "");
  EXPECT_EQ(t.port("mail"), 25);
  EXPECT_EQ(t.port("www"), 80);
  EXPECT_FALSE(t.port("domain"));
  EXPECT_FALSE(t.port("bad"));
}

TEST(Services, SystemTableHasSsh) {
  // netbase ships /etc/services; without it names are simply absent.
  const auto& t = ServiceTable::system();
  if (t.size() == 0) GTEST_SKIP() << "no /etc/services";
  EXPECT_EQ(t.name(22), "ssh");
  EXPECT_EQ(t.port("https"), 443);
}
