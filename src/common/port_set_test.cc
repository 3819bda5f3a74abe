// Port list parsing: lists, ranges, open ends, service names and every malformed case.
#include "common/port_set.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/services.h"

using netres::parse_port_set;
using netres::PortSet;
using netres::ServiceTable;

namespace {

const ServiceTable& services() {
  static const ServiceTable t =
      ServiceTable::parse("ssh 22/tcp\nhttp 80/tcp www # web\nhttp 80/udp\ndomain 53/udp\n");
  return t;
}

std::string message(const char* text) {
  try {
    parse_port_set(text, services());
  } catch (const netres::UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(PortSet, ListsAndRanges) {
  auto p = parse_port_set("22,80,8000-8003,80", services());
  EXPECT_EQ(p.ports(), (std::vector<uint16_t>{22, 80, 8000, 8001, 8002, 8003}));
  EXPECT_EQ(p.to_string(), "22,80,8000-8003");
  EXPECT_EQ(parse_port_set("-", services()).size(), 65535u);
  EXPECT_EQ(parse_port_set("-10", services()).to_string(), "1-10");
  EXPECT_EQ(parse_port_set("65530-", services()).to_string(), "65530-65535");
  EXPECT_EQ(parse_port_set("1-65535", services()).size(), 65535u);
  EXPECT_EQ(parse_port_set("65535", services()).to_string(), "65535");
  EXPECT_EQ(parse_port_set("7-7", services()).to_string(), "7");
}

TEST(PortSet, ServiceNames) {
  EXPECT_EQ(parse_port_set("ssh,http,www,443", services()).to_string(), "22,80,443");
}

TEST(PortSet, Malformed) {
  EXPECT_EQ(message("70000-1"), "bad port range '70000-1': ports are 1-65535");
  EXPECT_EQ(message("100-1"), "bad port range '100-1': start is above end");
  EXPECT_EQ(message("0"), "bad port '0': ports are 1-65535");
  EXPECT_EQ(message("65536"), "bad port '65536': ports are 1-65535");
  EXPECT_EQ(message("22,,80"), "bad port list '22,,80': empty item between commas");
  for (const char* bad : {"", ",", "22,", ",22", "0-10", "1-2-3", "a-b", "--", "22 80", "1-99999",
                          "99999999999", "domain", "nosuch", "-0", "22.5", "+22"}) {
    EXPECT_THROW(parse_port_set(bad, services()), netres::UsageError) << bad;
  }
}

TEST(PortSet, Contains) {
  auto p = PortSet({443, 22, 80});
  EXPECT_TRUE(p.contains(80));
  EXPECT_FALSE(p.contains(81));
  EXPECT_EQ(p[0], 22);
}
