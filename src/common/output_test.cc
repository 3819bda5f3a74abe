#include "common/output.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/test_util.h"

using netres::test_util::printed;

TEST(Table, AlignsColumnsAndTrimsTrailingBlanks) {
  netres::Table t({{"HOST"}, {"PORT", true}, {"STATE"}});
  t.add_row({"10.0.0.1", "22", "open"});
  t.add_row({"h", "8080", "filtered"});
  std::string out = printed([&](std::FILE* f) { t.print(f); });
  EXPECT_EQ(out,
            "HOST      PORT  STATE\n"
            "10.0.0.1    22  open\n"
            "h         8080  filtered\n");
}

TEST(Table, ShortRowsArePadded) {
  netres::Table t({{"A"}, {"B"}});
  t.add_row({"x"});
  EXPECT_EQ(printed([&](std::FILE* f) { t.print(f); }), "A  B\nx\n");
}

TEST(Ndjson, OneObjectPerLineAndInvalidUtf8Replaced) {
  netres::NdjsonWriter w(nullptr);
  std::string out = printed([&](std::FILE* f) {
    netres::NdjsonWriter writer(f);
    writer.write({{"a", 1}});
    writer.write({{"banner", std::string("ok\xff")}});
  });
  EXPECT_EQ(out, "{\"a\":1}\n{\"banner\":\"ok\xEF\xBF\xBD\"}\n");
}
