// The last-change decision and its state file, without a device (the probe that feeds it is
// tested against sshd in test_monitor_sshjump.py).
#include "monitor/config_changes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace netres::monitor {
namespace {

TEST(ConfigChanges, FirstSightingDatedOnlyByAnEqualBackup) {
  ConfigSightings seen;
  EXPECT_TRUE(observe_config(seen, "core1", "aa", 1000.0, 5000));
  EXPECT_EQ(seen["core1"].since, 1000.0);
  EXPECT_TRUE(observe_config(seen, "core2", "bb", std::nullopt, 5000));
  EXPECT_FALSE(seen["core2"].since.has_value());
  // The same hash again changes nothing, also not a later backup of it.
  EXPECT_FALSE(observe_config(seen, "core1", "aa", 4000.0, 6000));
  EXPECT_EQ(seen["core1"].since, 1000.0);
  EXPECT_FALSE(observe_config(seen, "core2", "bb", 5500.0, 6000));
  EXPECT_FALSE(seen["core2"].since.has_value());
  // Another hash: changed at this probe's time, whatever the backup says.
  EXPECT_TRUE(observe_config(seen, "core2", "cc", std::nullopt, 7000));
  EXPECT_EQ(seen["core2"].since, 7000.0);
  EXPECT_TRUE(observe_config(seen, "core1", "dd", 900.0, 7100));
  EXPECT_EQ(seen["core1"].since, 7100.0);
}

TEST(ConfigChanges, FileRoundTripAndBadLines) {
  ConfigSightings seen{{"core1", {"ab12", 1700000000.5}}, {"r 2", {"cd", std::nullopt}}};
  std::string text = format_config_sightings(seen);
  EXPECT_EQ(text.substr(0, 1), "#");
  auto back = parse_config_sightings(text);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back["core1"].hash, "ab12");
  EXPECT_DOUBLE_EQ(*back["core1"].since, 1700000000.5);
  EXPECT_FALSE(back["r 2"].since.has_value());
  auto bad = parse_config_sightings(
      "x\n\tab\t1\nk\tXYZ\t1\nk\tab\tsoon\nk\tab\t-5\nk\tab\tnan\nk\tab\n"
      "ok\tab\t12\ntrunc\tab\t1");
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad["ok"].since, 12.0);
  EXPECT_EQ(bad["trunc"].since, 1.0);
  // Tabs in a key do not break the format.
  ConfigSightings odd{{"a\tb", {"ff", 3.0}}};
  EXPECT_EQ(parse_config_sightings(format_config_sightings(odd)).count("a b"), 1u);
}

TEST(ConfigChanges, LogPersistsAcrossInstances) {
  auto dir = std::filesystem::temp_directory_path() /
             ("netres-config-changes-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "state" / "config_changes.tsv").string();
  {
    ConfigChangeLog log(path);  // the directory does not exist yet: created
    auto r = log.observe("core1", "aa", std::nullopt, 100);
    EXPECT_EQ(r.error, "");
    EXPECT_FALSE(r.since);
    r = log.observe("core1", "bb", std::nullopt, 200);
    EXPECT_EQ(r.since, 200.0);
  }
  {
    ConfigChangeLog log(path);  // a restart: the change time survives
    auto r = log.observe("core1", "bb", 150.0, 300);
    EXPECT_EQ(r.since, 200.0);
    EXPECT_EQ(r.error, "");
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("core1\tbb\t200\n"), std::string::npos) << ss.str();
  // Memory only: no file, same decisions.
  ConfigChangeLog mem("");
  EXPECT_EQ(mem.observe("k", "aa", 5.0, 10).since, 5.0);
  EXPECT_EQ(mem.observe("k", "bb", 5.0, 20).since, 20.0);
  // An unwritable place: the time is still kept, the error says why.
  ConfigChangeLog bad("/proc/netres-no-such-dir/config_changes.tsv");
  auto r = bad.observe("k", "aa", 5.0, 10);
  EXPECT_EQ(r.since, 5.0);
  EXPECT_NE(r.error.find("cannot write"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace netres::monitor
