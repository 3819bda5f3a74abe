// The ssh verbs' shared flags: checked before any host is contacted, each error naming its flag.
#include "ssh/fleet_options.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/test_util.h"

namespace netres::ssh {
namespace {

namespace fs = std::filesystem;

// A temporary directory holding an empty ssh config (the user's own must not leak in).
class FleetOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("netres_fleet_options_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    flags_.config_file = write("config", "");
    flags_.home = dir_.string();
    ::unsetenv("NETRES_SSH_PASSWORD");
    ::unsetenv("NETRES_SSH_PASSPHRASE");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return (dir_ / name).string();
  }
  // The UsageError message connect_options_for throws, or "" when it accepts the flags.
  std::string error_of(const FleetFlags& f) {
    try {
      connect_options_for(f);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
  FleetFlags flags_;
};

TEST_F(FleetOptions, DefaultsAndFlagsCarriedOver) {
  flags_.connect_timeout = "5s";
  flags_.connect_timeout_set = true;
  flags_.keepalive = "0";
  flags_.user = "admin";
  flags_.jump = "none";
  auto o = connect_options_for(flags_);
  EXPECT_EQ(o.connect_timeout, std::chrono::seconds(5));
  EXPECT_TRUE(o.connect_timeout_set);
  EXPECT_EQ(o.keepalive, Nanos(0));
  EXPECT_FALSE(o.keepalive_set);
  EXPECT_EQ(o.user, "admin");
  EXPECT_EQ(o.jump, "none");
  ASSERT_NE(o.config, nullptr);  // loaded once here, not per host
  EXPECT_TRUE(o.password.empty());
}

TEST_F(FleetOptions, SecretsFromTheEnvironment) {
  ::setenv("NETRES_SSH_PASSWORD", "pw", 1);
  auto o = connect_options_for(flags_);
  EXPECT_EQ(o.password, "pw");
  ::unsetenv("NETRES_SSH_PASSWORD");
}

TEST_F(FleetOptions, BadConfigRefusedBeforeAnyHost) {
  flags_.config_file = write("bad", "Host r1\n  NoSuchKeyword yes\n");
  EXPECT_NE(error_of(flags_).find("bad:2"), std::string::npos) << error_of(flags_);
}

TEST_F(FleetOptions, FlagErrorsNameTheFlag) {
  FleetFlags f = flags_;
  f.accept_new = true;
  f.strict_host_keys = "yes";
  EXPECT_EQ(error_of(f), "--accept-new contradicts --strict-host-keys yes");
  f.strict_host_keys = "accept-new";
  EXPECT_EQ(error_of(f), "");

  f = flags_;
  f.key = (dir_ / "missing_key").string();
  EXPECT_EQ(error_of(f), "--key: cannot read '" + f.key + "'");

  f = flags_;
  f.jump = "ssh://bastion:2222,[::1]:22";
  EXPECT_EQ(error_of(f), "");
  f.jump = "bastion:notaport";
  EXPECT_NE(error_of(f).find("--jump"), std::string::npos) << error_of(f);

  f = flags_;
  f.connect_timeout = "0";
  EXPECT_EQ(error_of(f), "--connect-timeout must be above zero");
  f.connect_timeout = "soon";
  EXPECT_NE(error_of(f).find("--connect-timeout"), std::string::npos);

  f = flags_;
  f.forks = 0;
  EXPECT_EQ(error_of(f), "--forks must be 1-1024");
  f.forks = 1025;
  EXPECT_EQ(error_of(f), "--forks must be 1-1024");
  f.forks = 1024;
  EXPECT_EQ(error_of(f), "");
}

TEST_F(FleetOptions, FleetHostsFromSpecsTargetsAndLimit) {
  auto inv = fleet_hosts("", "r1,admin@r2:2222", {"r3"}, "");
  ASSERT_EQ(inv.hosts().size(), 3u);
  EXPECT_EQ(inv.hosts()[1].port, 2222);
  std::string file = write("hosts", "# fleet\nr1\nr2\n");
  auto limited = fleet_hosts(file, "", {}, "!r1");
  ASSERT_EQ(limited.hosts().size(), 1u);
  EXPECT_EQ(limited.hosts()[0].name, "r2");
}

TEST_F(FleetOptions, ShellProfilesCheckedForEveryHost) {
  auto inv = fleet_hosts("", "r1", {}, "");
  EXPECT_NO_THROW(check_shell_profiles(inv, "cisco_ios", ""));
  EXPECT_THROW(check_shell_profiles(inv, "no_such_platform", ""), UsageError);
  EXPECT_THROW(check_shell_profiles(inv, "", ""), UsageError);  // no platform, no --prompt
  EXPECT_NO_THROW(check_shell_profiles(inv, "", "sw1>"));
}

TEST_F(FleetOptions, PushFile) {
  EXPECT_EQ(read_push_file(write("ok.cfg", "! c\nhostname r2\n\nntp server 1.1.1.1\n")),
            (std::vector<std::string>{"hostname r2", "ntp server 1.1.1.1"}));
  std::string empty = write("empty.cfg", "! only comments\n\n");
  try {
    read_push_file(empty);
    FAIL() << "an empty push file was accepted";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "'" + empty + "' has no configuration lines");
  }
  std::string missing = (dir_ / "missing.cfg").string();
  try {
    read_push_file(missing);
    FAIL() << "a missing push file was accepted";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read '" + missing + "'");
  }
}

TEST(FleetTargets, BeforeTheCommand) {
  using V = std::vector<std::string>;
  EXPECT_EQ(targets_before_command({"r1", "r2", "uname", "-a"}, {"uname", "-a"}), (V{"r1", "r2"}));
  EXPECT_EQ(targets_before_command({"r1"}, {"uname"}), (V{"r1"}));  // CLI11 kept them apart
  EXPECT_EQ(targets_before_command({}, {"uname"}), V{});
}

// The verbs' plans: flag checks in order, hosts and options as the runners get them.
class FleetPlans : public FleetOptions {
 protected:
  SshFlags ssh() {
    SshFlags s;
    s.connect = flags_;
    s.hosts = "r1,r2";
    s.timeout = "30s";
    s.platform = "cisco_ios";
    return s;
  }
};

TEST_F(FleetPlans, Run) {
  RunFlags f;
  f.ssh = ssh();
  f.ssh.words = {"r3", "show", "version"};
  f.group = true;
  EXPECT_EQ(test_util::usage_error([&] { plan_run(f, {}); }),
            "no command: netres ssh run [targets] -- COMMAND");
  auto plan = plan_run(f, {"show", "version"});
  EXPECT_EQ(plan.inventory.hosts().size(), 3u);  // r1, r2 and the target r3
  EXPECT_EQ(plan.options.command, "show version");
  EXPECT_EQ(plan.options.command_timeout, std::chrono::seconds(30));
  EXPECT_TRUE(plan.options.keep_output);
  EXPECT_EQ(plan.options.forks, 64u);
  f.shell = true;
  f.ssh.platform = "no_such_platform";
  EXPECT_THROW(plan_run(f, {"show"}), UsageError);
}

TEST_F(FleetPlans, BackupAndPush) {
  BackupFlags b;
  b.ssh = ssh();
  b.keep = 3;
  b.command = "show run";
  auto backup = plan_backup(b);
  EXPECT_EQ(backup.inventory.hosts().size(), 2u);
  EXPECT_EQ(backup.options.keep, 3u);
  EXPECT_EQ(backup.options.command, "show run");
  EXPECT_EQ(backup.options.dir, "backups");
  EXPECT_EQ(backup.options.timeout, std::chrono::seconds(30));

  PushFlags p;
  p.ssh = ssh();
  EXPECT_EQ(test_util::usage_error([&] { plan_push(p); }),
            "push needs --file LINES.cfg (or --rollback)");
  p.file = write("lines.cfg", "hostname r2\n");
  EXPECT_EQ(plan_push(p).lines, std::vector<std::string>{"hostname r2"});
  p.rollback = true;
  EXPECT_EQ(test_util::usage_error([&] { plan_push(p); }),
            "--rollback re-applies the latest backup; drop --file");
  p.file.clear();
  p.dry_run = true;
  EXPECT_EQ(test_util::usage_error([&] { plan_push(p); }), "--rollback --dry-run is not supported");
  p.dry_run = false;
  EXPECT_TRUE(plan_push(p).lines.empty());
}

TEST_F(FleetPlans, Copy) {
  CopyFlags f;
  f.ssh = ssh();
  EXPECT_EQ(test_util::usage_error([&] { plan_copy(f); }),
            "copy needs exactly one of --put or --get");
  f.put = "a";
  f.get = "b";
  EXPECT_EQ(test_util::usage_error([&] { plan_copy(f); }),
            "copy needs exactly one of --put or --get");
  f.get.clear();
  EXPECT_EQ(test_util::usage_error([&] { plan_copy(f); }),
            "copy needs --to (remote path for --put, local dir for --get)");
  f.to = "/tmp/";
  f.no_checksum = true;
  auto plan = plan_copy(f);
  EXPECT_TRUE(plan.options.upload);
  EXPECT_EQ(plan.options.source, "a");
  EXPECT_EQ(plan.options.dest, "/tmp/");
  EXPECT_FALSE(plan.options.checksum);
  f.put.clear();
  f.get = "/etc/hostname";
  EXPECT_FALSE(plan_copy(f).options.upload);
}

}  // namespace
}  // namespace netres::ssh
