// ssh_config evaluation against OpenSSH's documented semantics (ssh_config(5)).
#include "ssh/ssh_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace netres::ssh {
namespace {

HostConfig resolve(const char* text, const char* host, const char* user = "") {
  return SshConfig::from_text(text, "cfg").resolve(host, user, "me");
}

TEST(SshConfig, FirstValueWinsAndIdentityFilesAccumulate) {
  const char* cfg =
      "Host h1\n  Port 2201\n  IdentityFile ~/a\n"
      "Host *\n  Port 22\n  User ops\n  IdentityFile ~/b\n  UserKnownHostsFile /k1 /k2\n"
      "  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  ConnectTimeout 1m5s\n";
  auto h = resolve(cfg, "h1");
  EXPECT_EQ(h.port, 2201);
  EXPECT_EQ(h.user, "ops");
  EXPECT_EQ(h.identity_files, (std::vector<std::string>{"~/a", "~/b"}));
  EXPECT_EQ(*h.user_known_hosts, (std::vector<std::string>{"/k1", "/k2"}));
  EXPECT_EQ(*h.global_known_hosts, std::vector<std::string>{"/dev/null"});
  EXPECT_EQ(h.strict_host_key_checking, "yes");
  EXPECT_EQ(h.connect_timeout_s, 65);
  EXPECT_EQ(resolve(cfg, "other").port, 22);
}

TEST(SshConfig, HostPatternsAndNegation) {
  const char* cfg = "Host r* !r9\n  User routers\nHost *\n  User rest\n";
  EXPECT_EQ(resolve(cfg, "r1").user, "routers");
  EXPECT_EQ(resolve(cfg, "R2").user, "routers");
  EXPECT_EQ(resolve(cfg, "r9").user, "rest");
}

TEST(SshConfig, MatchOriginalHostHostAndUser) {
  const char* cfg =
      "Host alias\n  HostName 10.0.0.%h\n"
      "Match originalhost alias\n  Port 2222\n"
      "Match host 10.0.0.*\n  HostKeyAlias lab\n"
      "Match !originalhost alias\n  Port 1\n"
      "Match user admin\n  IdentitiesOnly yes\n";
  auto h = resolve(cfg, "alias");
  EXPECT_EQ(h.hostname, "10.0.0.alias");
  EXPECT_EQ(h.port, 2222);
  EXPECT_EQ(h.host_key_alias, "lab");
  EXPECT_FALSE(h.identities_only);
  auto o = resolve(cfg, "x", "admin");
  EXPECT_EQ(o.port, 1);
  EXPECT_EQ(o.identities_only, true);
  EXPECT_FALSE(o.host_key_alias);
}

TEST(SshConfig, MatchFinalSeesEverything) {
  auto h = resolve("Match final\n  User late\nHost *\n  Port 7\n", "a");
  EXPECT_EQ(h.user, "late");
  EXPECT_EQ(h.port, 7);
}

TEST(SshConfig, ProxyJumpAndProxyCommandExcludeEachOther) {
  EXPECT_EQ(resolve("ProxyJump b1,b2\nProxyCommand nc %h %p\n", "a").proxy_jump, "b1,b2");
  EXPECT_FALSE(resolve("ProxyJump b1,b2\nProxyCommand nc %h %p\n", "a").proxy_command);
  EXPECT_EQ(resolve("ProxyCommand nc %h %p\nProxyJump b\n", "a").proxy_command, "nc %h %p");
}

TEST(SshConfig, IncludeIsCheckedAndScopedToItsBlock) {
  auto dir =
      std::filesystem::temp_directory_path() / ("netres-sshcfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "good.conf") << "Port 2000\n";
    std::ofstream(dir / "bad.conf") << "Host x\n  Prot 3\n";
  }
  std::string text = "Host a\n  Include " + (dir / "good.conf").string() + "\n";
  auto cfg = SshConfig::from_text(text, "cfg");
  EXPECT_EQ(cfg.resolve("a", "", "me").port, 2000);
  EXPECT_FALSE(cfg.resolve("b", "", "me").port);
  // Relative paths are under ~/.ssh for a user config.
  std::filesystem::create_directories(dir / ".ssh");
  std::ofstream(dir / ".ssh" / "rel.conf") << "User rel\n";
  EXPECT_EQ(
      SshConfig::from_text("Include rel.conf\n", "cfg", dir.string()).resolve("z", "", "me").user,
      "rel");
  try {
    SshConfig::from_text("Host b\n  Include " + (dir / "*.conf").string() + "\n", "cfg");
    ADD_FAILURE() << "bad.conf accepted";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir / "bad.conf").string() + ":2: unknown ssh config keyword 'Prot'");
  }
  std::filesystem::remove_all(dir);
}

TEST(SshConfig, BadValues) {
  auto err = [](const char* text) -> std::string {
    try {
      SshConfig::from_text(text, "cfg");
    } catch (const UsageError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(err("StrictHostKeyChecking maybe\n"), "cfg:1: bad StrictHostKeyChecking 'maybe'");
  EXPECT_EQ(err("ConnectTimeout 5x\n"), "cfg:1: bad ConnectTimeout '5x'");
  EXPECT_EQ(err("Match bogus x\n"), "cfg:1: unknown Match criterion 'bogus'");
  EXPECT_EQ(err("Match host\n"), "cfg:1: Match host needs an argument");
  EXPECT_EQ(err("IdentitiesOnly perhaps\n"), "cfg:1: bad IdentitiesOnly 'perhaps'");
  EXPECT_EQ(err("Host a # comment\n  Port 22\n"), "");
}

TEST(SshConfig, Tokens) {
  TokenContext c{"/home/me", "10.0.0.1", "r1", "ops", "me", ""};
  c.port = 2222;
  EXPECT_EQ(expand_config_tokens("~/.ssh/kh_%h_%p_%r_%n_%%", c),
            "/home/me/.ssh/kh_10.0.0.1_2222_ops_r1_%");
  EXPECT_EQ(expand_config_tokens("%d/x/%u", c), "/home/me/x/me");
  EXPECT_EQ(parse_config_time("90"), 90);
  EXPECT_EQ(parse_config_time("1h2m3s"), 3723);
  EXPECT_FALSE(parse_config_time("s"));
  EXPECT_FALSE(parse_config_time(""));
}

// The strict read: an unknown keyword or a bad value refuses the whole file, as OpenSSH does.
std::string error_of(const char* text) {
  try {
    SshConfig::from_text(text, "cfg");
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
