#include "common/output.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

// Runs `fn` with a temporary FILE* and returns what it wrote.
template <typename Fn>
std::string capture(Fn fn) {
  std::FILE* f = std::tmpfile();
  fn(f);
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

}  // namespace

TEST(Table, AlignsColumnsAndTrimsTrailingBlanks) {
  netres::Table t({{"HOST"}, {"PORT", true}, {"STATE"}});
  t.add_row({"10.0.0.1", "22", "open"});
  t.add_row({"h", "8080", "filtered"});
  std::string out = capture([&](std::FILE* f) { t.print(f); });
  EXPECT_EQ(out,
            "HOST      PORT  STATE\n"
            "10.0.0.1    22  open\n"
            "h         8080  filtered\n");
}

TEST(Table, ShortRowsArePadded) {
  netres::Table t({{"A"}, {"B"}});
  t.add_row({"x"});
  EXPECT_EQ(capture([&](std::FILE* f) { t.print(f); }), "A  B\nx\n");
}

TEST(Ndjson, OneObjectPerLineAndInvalidUtf8Replaced) {
  netres::NdjsonWriter w(nullptr);
  std::string out = capture([&](std::FILE* f) {
    netres::NdjsonWriter writer(f);
    writer.write({{"a", 1}});
    writer.write({{"banner", std::string("ok\xff")}});
  });
  EXPECT_EQ(out, "{\"a\":1}\n{\"banner\":\"ok\xEF\xBF\xBD\"}\n");
}
