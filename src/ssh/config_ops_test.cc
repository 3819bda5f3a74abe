// Config text handling for push and rollback, and the on-disk backup store.
#include "ssh/config_ops.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ssh/config_store.h"

namespace netres::ssh {
namespace {

using Lines = std::vector<std::string>;

TEST(ConfigOps, PushLinesAndBody) {
  EXPECT_EQ(push_lines_from_text("! comment\nhostname r2\n\n# note\n interface Gi0/1 \n"),
            (Lines{"hostname r2", " interface Gi0/1"}));
  EXPECT_EQ(config_body_lines("Building configuration...\n\nCurrent configuration : 10 bytes\n!\n"
                              "hostname r1\n!\nend\n"),
            (Lines{"hostname r1"}));
}

TEST(ConfigOps, RollbackCommands) {
  Lines current = {"hostname r9", "ntp server 1.1.1.1", "logging host 10.0.0.1"};
  Lines target = {"hostname r1", "ntp server 1.1.1.1"};
  EXPECT_EQ(rollback_commands(current, target, "no "),
            (Lines{"no hostname r9", "no logging host 10.0.0.1", "hostname r1"}));
  EXPECT_TRUE(rollback_commands(target, target, "no ").empty());
}

TEST(ConfigOps, JunosSetStyle) {
  Lines current = {"set system host-name r9", "set system ntp server 192.0.2.1"};
  Lines target = {"set system host-name r1", "set system ntp server 192.0.2.1"};
  EXPECT_EQ(rollback_commands(current, target, "delete "),
            (Lines{"delete system host-name r9", "set system host-name r1"}));
  EXPECT_EQ(preview_push(current, {"delete system host-name r9"}, "delete "),
            (Lines{"set system ntp server 192.0.2.1"}));
}

TEST(ConfigOps, Preview) {
  EXPECT_EQ(preview_push({"a", "b"}, {"no a", "c", "b"}, "no "), (Lines{"b", "c"}));
}

TEST(ConfigStore, SaveListPruneAndOrder) {
  auto dir = std::filesystem::temp_directory_path() / "netres_config_store_test";
  std::filesystem::remove_all(dir);
  ConfigStore store(dir.string(), 2);
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
  auto p1 = store.save("r1", "one\n", t);
  auto p2 = store.save("r1", "two\n", t);  // same instant: must not overwrite
  auto p3 = store.save("r1", "three\n", t + std::chrono::seconds(1));
  EXPECT_NE(p1, p2);
  EXPECT_EQ(store.list("r1"), (Lines{p2, p3}));
  EXPECT_EQ(*store.latest_path("r1"), p3);
  EXPECT_EQ(ConfigStore::read(p3), "three\n");
  EXPECT_FALSE(store.latest_path("r2"));
  EXPECT_EQ(backup_timestamp(t), "20270115T080000.000Z");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace netres::ssh
