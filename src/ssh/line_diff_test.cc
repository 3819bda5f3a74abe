// The Myers diff and its unified output, checked against what GNU diff -u prints.
#include "ssh/line_diff.h"

#include <gtest/gtest.h>

#include <random>

namespace netres::ssh {
namespace {

std::vector<std::string> apply(const std::vector<std::string>& a, const std::vector<std::string>& b,
                               const std::vector<DiffOp>& ops) {
  std::vector<std::string> out;
  size_t ai = 0;
  for (const auto& op : ops) {
    if (op.kind == DiffOp::kEqual) {
      EXPECT_EQ(a[op.a], b[op.b]);
      EXPECT_EQ(op.a, ai);
      out.push_back(a[op.a]);
      ++ai;
    } else if (op.kind == DiffOp::kDelete) {
      EXPECT_EQ(op.a, ai);
      ++ai;
    } else {
      out.push_back(b[op.b]);
    }
  }
  EXPECT_EQ(ai, a.size());
  return out;
}

TEST(LineDiff, Split) {
  EXPECT_EQ(split_lines("a\nb\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split_lines("a\n\nb"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_TRUE(split_lines("").empty());
}

TEST(LineDiff, ClassicExampleIsMinimal) {
  // Myers' paper: ABCABBA -> CBABAC needs 5 edits.
  std::vector<std::string> a = {"A", "B", "C", "A", "B", "B", "A"};
  std::vector<std::string> b = {"C", "B", "A", "B", "A", "C"};
  auto ops = diff_lines(a, b);
  auto s = diff_stat(ops);
  EXPECT_EQ(s.added + s.removed, 5u);
  EXPECT_EQ(apply(a, b, ops), b);
}

TEST(LineDiff, RandomScriptsRebuildTheTarget) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> a, b;
    int na = rng() % 30, nb = rng() % 30;
    for (int i = 0; i < na; ++i) a.push_back(std::string(1, 'a' + rng() % 4));
    for (int i = 0; i < nb; ++i) b.push_back(std::string(1, 'a' + rng() % 4));
    auto ops = diff_lines(a, b);
    EXPECT_EQ(apply(a, b, ops), b);
    auto capped = diff_lines(a, b, 2);  // the fallback is correct too
    EXPECT_EQ(apply(a, b, capped), b);
  }
}

TEST(LineDiff, UnifiedMatchesGnuDiff) {
  std::vector<std::string> a, b;
  for (int i = 1; i <= 20; ++i) a.push_back("line" + std::to_string(i));
  b = a;
  b[1] = "changed2";        // near the start
  b.erase(b.begin() + 14);  // line15 removed
  b.push_back("line21");    // appended at the end
  std::string expected =
      "--- old\n+++ new\n"
      "@@ -1,5 +1,5 @@\n line1\n-line2\n+changed2\n line3\n line4\n line5\n"
      "@@ -12,9 +12,9 @@\n line12\n line13\n line14\n-line15\n line16\n line17\n line18\n"
      " line19\n line20\n+line21\n";
  EXPECT_EQ(unified_diff(a, b, "old", "new"), expected);
  EXPECT_EQ(unified_diff(a, a, "old", "new"), "");
}

TEST(LineDiff, UnifiedEmptySides) {
  EXPECT_EQ(unified_diff({}, {"x"}, "a", "b"), "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n");
  EXPECT_EQ(unified_diff({"x"}, {}, "a", "b"), "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n");
}

}  // namespace
}  // namespace netres::ssh
