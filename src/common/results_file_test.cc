// Results file envelope: round trip, bad files refused with one line, merge checks.
#include "common/results_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "common/error.h"

namespace netres {
namespace {

class ResultsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netres-results-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string write_raw(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  ResultsFile shard(uint64_t k, uint64_t n, nlohmann::json job = {{"seed", 1}}) {
    ResultsFile r{"scan", Shard{k, n}, std::move(job), {{"rows", k}}, ""};
    r.path = dir_ + "/s" + std::to_string(k) + ".json";
    return r;
  }
  std::string dir_;
};

TEST_F(ResultsFileTest, RoundTrip) {
  ResultsFile r = shard(2, 3, {{"seed", 7}, {"ports", "1-1024"}});
  write_results_file(r.path, r);
  ResultsFile back = read_results_file(r.path);
  EXPECT_EQ(back.verb, "scan");
  EXPECT_EQ(back.shard.index, 2u);
  EXPECT_EQ(back.shard.count, 3u);
  EXPECT_EQ(back.job, r.job);
  EXPECT_EQ(back.data, r.data);
  EXPECT_EQ(back.path, r.path);
}

TEST_F(ResultsFileTest, BadFilesAreUsageErrors) {
  std::vector<std::string> bad = {
      dir_ + "/absent.json",
      write_raw("text", "hello"),
      write_raw("other", R"({"a": 1})"),
      write_raw("version",
                R"({"netres_results": 99, "verb": "scan", "shard": "1/1", "job": {}, "data": {}})"),
      write_raw("noverb", R"({"netres_results": 1, "shard": "1/1", "job": {}, "data": {}})"),
      write_raw("badshard",
                R"({"netres_results": 1, "verb": "scan", "shard": "4/3", "job": {}, "data": {}})"),
      write_raw("types",
                R"({"netres_results": 1, "verb": 3, "shard": "1/1", "job": {}, "data": {}})"),
  };
  for (const auto& path : bad) {
    try {
      read_results_file(path);
      ADD_FAILURE() << path << " was accepted";
    } catch (const UsageError& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      EXPECT_EQ(msg.rfind(path, 0), 0u) << msg;
    }
  }
}

TEST_F(ResultsFileTest, MergeChecks) {
  EXPECT_TRUE(check_mergeable({shard(1, 3), shard(2, 3), shard(3, 3)}, false).empty());
  EXPECT_THROW(check_mergeable({}, false), UsageError);
  auto other_verb = shard(2, 3);
  other_verb.verb = "load";
  EXPECT_THROW(check_mergeable({shard(1, 3), other_verb, shard(3, 3)}, false), UsageError);
  EXPECT_THROW(check_mergeable({shard(1, 3), shard(2, 4)}, true), UsageError);
  EXPECT_THROW(check_mergeable({shard(1, 3), shard(1, 3), shard(2, 3)}, true), UsageError);
  try {
    check_mergeable({shard(1, 2), shard(2, 2, {{"seed", 2}})}, false);
    ADD_FAILURE() << "different jobs accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("/seed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_mergeable({shard(1, 3), shard(3, 3)}, false), UsageError);
  auto warnings = check_mergeable({shard(1, 3), shard(3, 3)}, true);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "shard 2/3 missing");
}

}  // namespace
}  // namespace netres
