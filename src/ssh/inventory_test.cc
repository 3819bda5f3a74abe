// Host specs, line and YAML inventories, --limit.
#include "ssh/inventory.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace netres::ssh {
namespace {

TEST(HostSpec, Forms) {
  auto h = parse_host_spec("host1", "-H");
  EXPECT_EQ(h.name, "host1");
  EXPECT_EQ(h.address, "host1");
  EXPECT_EQ(h.port, 0);
  h = parse_host_spec("admin@10.0.0.1:2222", "-H");
  EXPECT_EQ(h.user, "admin");
  EXPECT_EQ(h.address, "10.0.0.1");
  EXPECT_EQ(h.port, 2222);
  EXPECT_EQ(h.name, "10.0.0.1:2222");
  h = parse_host_spec("[::1]:2200", "-H");
  EXPECT_EQ(h.address, "::1");
  EXPECT_EQ(h.port, 2200);
  EXPECT_EQ(h.name, "[::1]:2200");
  h = parse_host_spec("u@[fe80::1]", "-H");
  EXPECT_EQ(h.address, "fe80::1");
  EXPECT_EQ(h.user, "u");
  h = parse_host_spec("::1", "-H");
  EXPECT_EQ(h.address, "::1");
  EXPECT_EQ(h.port, 0);
}

TEST(HostSpec, Errors) {
  EXPECT_THROW(parse_host_spec("", "-H"), UsageError);
  EXPECT_THROW(parse_host_spec("h:0", "-H"), UsageError);
  EXPECT_THROW(parse_host_spec("h:70000", "-H"), UsageError);
  EXPECT_THROW(parse_host_spec("h:x", "-H"), UsageError);
  EXPECT_THROW(parse_host_spec("[::1", "-H"), UsageError);
  EXPECT_THROW(parse_host_spec("[::1]2", "-H"), UsageError);
  EXPECT_THROW(parse_host_spec("@h", "-H"), UsageError);
  EXPECT_THROW(parse_host_spec("bad host", "-H"), UsageError);
  try {
    parse_host_spec("h:99999", "hosts.txt:4");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("hosts.txt:4"), std::string::npos);
  }
}

TEST(Inventory, Specs) {
  auto inv = Inventory::from_specs("a, u@b:2222,,c");
  ASSERT_EQ(inv.hosts().size(), 3u);
  EXPECT_EQ(inv.hosts()[1].user, "u");
  EXPECT_THROW(Inventory::from_specs(" , "), UsageError);
}

TEST(Inventory, Lines) {
  auto inv = Inventory::from_lines_text("# fleet\nweb1\n\n  db@db1:2200  # primary\n", "f");
  ASSERT_EQ(inv.hosts().size(), 2u);
  EXPECT_EQ(inv.hosts()[1].port, 2200);
  try {
    Inventory::from_lines_text("web1\nweb2 extra\n", "hosts.txt");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("hosts.txt:2"), std::string::npos) << e.what();
  }
}

constexpr const char* kYaml = R"(all:
  vars:
    ansible_user: ops
  hosts:
    bastion:
      ansible_host: 127.0.0.1
      ansible_port: 2201
  children:
    routers:
      vars:
        netres_platform: cisco_ios
        ansible_user: netops
      hosts:
        r1:
          ansible_host: 127.0.0.2
        r2:
          ansible_host: 127.0.0.3
          ansible_user: special
          ansible_ssh_private_key_file: /keys/r2
    core:
      children:
        routers:
      hosts:
        r1:
)";

TEST(Inventory, Yaml) {
  auto inv = Inventory::from_yaml_text(kYaml, "inv.yml");
  ASSERT_EQ(inv.hosts().size(), 3u);
  const auto& b = inv.hosts()[0];
  EXPECT_EQ(b.name, "bastion");
  EXPECT_EQ(b.address, "127.0.0.1");
  EXPECT_EQ(b.port, 2201);
  EXPECT_EQ(b.user, "ops");
  const auto& r1 = inv.hosts()[1];
  EXPECT_EQ(r1.user, "netops");
  EXPECT_EQ(r1.platform, "cisco_ios");
  EXPECT_NE(std::find(r1.groups.begin(), r1.groups.end(), "core"), r1.groups.end());
  const auto& r2 = inv.hosts()[2];
  EXPECT_EQ(r2.user, "special");
  EXPECT_EQ(r2.key_file, "/keys/r2");
}

TEST(Inventory, YamlErrorsNameTheLine) {
  auto expect_line = [](const char* text, const char* where) {
    try {
      Inventory::from_yaml_text(text, "inv.yml");
      FAIL() << text;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
    }
  };
  expect_line("all:\n  hosts:\n    r1:\n      ansible_port: nope\n", "inv.yml:3");
  expect_line("all:\n  hostz:\n    r1:\n", "inv.yml:2");
  expect_line("all:\n  hosts: [a, b]\n", "inv.yml:2");
  expect_line("all:\n  hosts:\n    r1: {ansible_host: x\n", "inv.yml:");
  expect_line("- a\n- b\n", "inv.yml:1");
}

TEST(Inventory, Limit) {
  auto inv = Inventory::from_yaml_text(kYaml, "inv.yml");
  EXPECT_EQ(inv.limited("routers").hosts().size(), 2u);
  EXPECT_EQ(inv.limited("r*").hosts().size(), 2u);
  EXPECT_EQ(inv.limited("bastion,r2").hosts().size(), 2u);
  EXPECT_EQ(inv.limited("all,!core").hosts().size(), 2u);
  EXPECT_EQ(inv.limited("rout*").hosts().size(), 2u);
  EXPECT_THROW(inv.limited("nothing"), UsageError);
}

TEST(Inventory, SelectHosts) {
  HostSelection s;
  EXPECT_THROW(select_hosts(s), UsageError);
  // Without an inventory, -H and positional targets are host specs, merged.
  s.host_specs = "a,b:2222";
  s.targets = {"c", "a"};
  auto inv = select_hosts(s);
  ASSERT_EQ(inv.hosts().size(), 3u);
  EXPECT_EQ(inv.hosts()[1].port, 2222);
  s.limit = "b*";
  EXPECT_EQ(select_hosts(s).hosts().size(), 1u);
  // With one, targets select from it (several: the union) and -H adds hosts.
  s = HostSelection{};
  s.inventory = Inventory::from_yaml_text(kYaml, "inv.yml");
  s.targets = {"r1"};
  ASSERT_EQ(select_hosts(s).hosts().size(), 1u);
  EXPECT_EQ(select_hosts(s).hosts()[0].name, "r1");
  s.targets = {"r1", "bastion"};
  EXPECT_EQ(select_hosts(s).hosts().size(), 2u);
  s.limit = "!bastion";
  EXPECT_EQ(select_hosts(s).hosts().size(), 1u);
  s.limit.clear();
  s.targets = {"nothing"};
  EXPECT_THROW(select_hosts(s), UsageError);
  s.targets = {};
  s.host_specs = "extra";
  EXPECT_EQ(select_hosts(s).hosts().size(), s.inventory->hosts().size() + 1);
}

TEST(Glob, Basics) {
  EXPECT_TRUE(glob_match("web[0-9]", "web3"));
  EXPECT_FALSE(glob_match("web?", "web10"));
}

TEST(Inventory, ProxyJumpFromAnsibleArgs) {
  Host h;
  EXPECT_EQ(proxy_jump_from_ansible_args(h), "");
  h.vars["ansible_ssh_common_args"] = "-o StrictHostKeyChecking=no -o ProxyJump=ops@bastion:2222";
  EXPECT_EQ(proxy_jump_from_ansible_args(h), "ops@bastion:2222");
  h.vars["ansible_ssh_common_args"] = "-o 'ProxyJump b1,b2'";
  EXPECT_EQ(proxy_jump_from_ansible_args(h), "b1,b2");
  h.vars["ansible_ssh_common_args"] = "-J jump1";
  EXPECT_EQ(proxy_jump_from_ansible_args(h), "jump1");
  h.vars["ansible_ssh_extra_args"] = "-oProxyJump=x";  // after the common args: ssh keeps the first
  EXPECT_EQ(proxy_jump_from_ansible_args(h), "jump1");
  h.vars.erase("ansible_ssh_common_args");
  EXPECT_EQ(proxy_jump_from_ansible_args(h), "x");
  h.vars.clear();
  h.vars["ansible_ssh_common_args"] = "-o ProxyJumpy=1 -o ProxyCommand='ssh -W %h:%p b'";
  EXPECT_EQ(proxy_jump_from_ansible_args(h), "");
}

}  // namespace
}  // namespace netres::ssh
