// OpenSSH's precedence for one endpoint: flags, then the inventory, then the ssh config, then
// defaults; jump hops and their limits.
#include "ssh/ssh_endpoint.h"

#include <gtest/gtest.h>

#include <chrono>

namespace netres::ssh {
namespace {

using namespace std::chrono_literals;

SshConfig config(const char* text) { return SshConfig::from_text(text, "cfg"); }

TEST(SshEndpoint, ConfigFillsWhatNothingElseGives) {
  auto cfg = config(
      "Host r1\n  HostName 127.0.0.5\n  Port 2201\n  User ops\n  IdentityFile /keys/r1\n"
      "  ConnectTimeout 3\n  ServerAliveInterval 7\n  PasswordAuthentication no\n");
  ConnectOptions o;
  auto ep = resolve_endpoint(cfg, o, "r1", 0, "", "", false);
  EXPECT_EQ(ep.label, "r1");
  EXPECT_EQ(ep.hostname, "127.0.0.5");
  EXPECT_EQ(ep.port, 2201);
  EXPECT_EQ(ep.user, "ops");
  ASSERT_EQ(ep.keys.size(), 1u);  // a named key replaces OpenSSH's default key files
  EXPECT_EQ(ep.keys[0].path, "/keys/r1");
  EXPECT_EQ(ep.connect_timeout, 3s);
  EXPECT_EQ(ep.keepalive, 7s);
  EXPECT_FALSE(ep.password);
  EXPECT_EQ(ep.known_hosts_name, "[127.0.0.5]:2201");
  EXPECT_EQ(ep.strict, "yes");
}

TEST(SshEndpoint, FlagsThenInventoryBeatTheConfig) {
  auto cfg = config("Host r1\n  Port 2201\n  User ops\n  ConnectTimeout 3\n");
  ConnectOptions o;
  // The inventory's port and user beat the config's.
  auto ep = resolve_endpoint(cfg, o, "r1", 2222, "inv", "/keys/inv", false);
  EXPECT_EQ(ep.port, 2222);
  EXPECT_EQ(ep.user, "inv");
  // -u and --key beat the inventory; --key is tried first.
  o.user = "cli";
  o.identity_file = "/keys/cli";
  ep = resolve_endpoint(cfg, o, "r1", 2222, "inv", "/keys/inv", false);
  EXPECT_EQ(ep.user, "cli");
  ASSERT_EQ(ep.keys.size(), 2u);
  EXPECT_EQ(ep.keys[0].path, "/keys/cli");
  EXPECT_EQ(ep.keys[1].path, "/keys/inv");
  // --connect-timeout beats ConnectTimeout only when given on the command line.
  o.connect_timeout = 9s;
  EXPECT_EQ(resolve_endpoint(cfg, o, "r1", 0, "", "", false).connect_timeout, 3s);
  o.connect_timeout_set = true;
  EXPECT_EQ(resolve_endpoint(cfg, o, "r1", 0, "", "", false).connect_timeout, 9s);
}

TEST(SshEndpoint, ConfigStrictNoNeedsTheFlag) {
  auto cfg = config("Host *\n  StrictHostKeyChecking no\n");
  ConnectOptions o;
  auto ep = resolve_endpoint(cfg, o, "r1", 0, "", "", false);
  EXPECT_EQ(ep.strict, "yes");
  EXPECT_NE(ep.strict_note.find("cfg:2"), std::string::npos) << ep.strict_note;
  o.strict_host_keys = "no";
  EXPECT_EQ(resolve_endpoint(cfg, o, "r1", 0, "", "", false).strict, "no");
  o.strict_host_keys.clear();
  o.accept_new = true;
  EXPECT_EQ(resolve_endpoint(cfg, o, "r1", 0, "", "", false).strict, "accept-new");
}

TEST(SshEndpoint, JumpPrecedence) {
  auto cfg = config("Host r1\n  ProxyJump cfgjump\nHost r2\n  ProxyCommand nc %h %p\n");
  ConnectOptions o;
  EXPECT_EQ(resolve_endpoint(cfg, o, "r1", 0, "", "", false).proxy_jump, "cfgjump");
  EXPECT_EQ(resolve_endpoint(cfg, o, "r1", 0, "", "", false, "invjump").proxy_jump, "invjump");
  o.jump = "clijump";
  EXPECT_EQ(resolve_endpoint(cfg, o, "r1", 0, "", "", false, "invjump").proxy_jump, "clijump");
  // A hop ignores --jump (it is the hop list itself).
  EXPECT_EQ(resolve_endpoint(cfg, o, "r1", 0, "", "", true).proxy_jump, "cfgjump");
  o.jump = "none";
  EXPECT_EQ(resolve_endpoint(cfg, o, "r1", 0, "", "", false).proxy_jump, "");
  // --jump replaces a ProxyCommand too; without it the config's command is used.
  EXPECT_EQ(resolve_endpoint(cfg, o, "r2", 0, "", "", false).proxy_command, "");
  o.jump.clear();
  EXPECT_EQ(resolve_endpoint(cfg, o, "r2", 0, "", "", false).proxy_command, "nc %h %p");
}

TEST(SshEndpoint, HopsInConnectOrder) {
  auto cfg = config("Host b\n  ProxyJump a\nHost *\n  ProxyJump a\n");
  ConnectOptions o;
  std::vector<Endpoint> hops;
  // b's own ProxyJump (a) comes first; `Host *` also matching a does not make a jump via itself.
  collect_hops(cfg, o, "b", "", hops, 0);
  ASSERT_EQ(hops.size(), 2u);
  EXPECT_EQ(hops[0].label, "a");
  EXPECT_EQ(hops[1].label, "b");
  EXPECT_TRUE(hops[1].proxy_jump.empty());
  hops.clear();
  collect_hops(config(""), o, "ssh://u@j1:2222,j2", "", hops, 0);
  ASSERT_EQ(hops.size(), 2u);
  EXPECT_EQ(hops[0].user, "u");
  EXPECT_EQ(hops[0].port, 2222);
  EXPECT_EQ(hops[1].label, "j2");
}

TEST(SshEndpoint, HopLimitsAndBadHops) {
  ConnectOptions o;
  std::vector<Endpoint> hops;
  std::string nine = "h1,h2,h3,h4,h5,h6,h7,h8,h9";
  EXPECT_THROW(collect_hops(config(""), o, nine, "", hops, 0), HostFailure);
  hops.clear();
  EXPECT_THROW(collect_hops(config(""), o, "j1:notaport", "", hops, 0), HostFailure);
  hops.clear();  // a reaches b through a: a loop, refused at the hop limit
  auto loop = config("Host b\n  ProxyJump a\nHost *\n  ProxyJump b\n");
  EXPECT_THROW(collect_hops(loop, o, "b", "", hops, 0), HostFailure);
}

}  // namespace
}  // namespace netres::ssh
