// The ssh check without a server: its configuration keys and the reason each known_hosts
// verdict maps to (the handshake itself is tested against sshd in test_monitor_ssh.py).
#include "monitor/check_ssh.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "monitor/config.h"
#include "monitor/config_test_util.h"

namespace netres::monitor {
namespace {

TEST(SshCheck, Config) {
  MonitorConfig c = parse_monitor_config(
      "checks:\n"
      "  s: {kind: ssh, known_hosts: /etc/netres/known_hosts, host_key_alias: core1, timeout: 2s}\n"
      "targets: [{address: 'router1', checks: [s]}, {address: '[::1]:2222', checks: [s]}]\n",
      "m.yaml");
  const CheckSpec& s = c.checks.at("s");
  EXPECT_EQ(s.kind, CheckKind::kSsh);
  EXPECT_EQ(kind_name(s.kind), "ssh");
  EXPECT_EQ(s.known_hosts, "/etc/netres/known_hosts");
  EXPECT_EQ(s.host_key_alias, "core1");
}

TEST(SshCheck, BadConfig) {
  const std::string t = "targets: [{address: '127.0.0.1:22', checks: [s]}]\n";
  EXPECT_EQ(config_error_of("checks:\n  s: {kind: ssh}\n" + t),
            "bad.yaml:2:6: ssh check 's' needs known_hosts: (a file)");
  EXPECT_EQ(config_error_of("checks:\n  s: {kind: ssh, known_hosts: ''}\n" + t),
            "bad.yaml:2:31: known_hosts must name a file");
  EXPECT_EQ(
      config_error_of("checks:\n  s: {kind: ssh, known_hosts: k, host_key_alias: 'a b'}\n" + t),
      "bad.yaml:2:50: bad host_key_alias 'a b'");
  EXPECT_EQ(config_error_of("checks:\n  s: {kind: ssh, known_hosts: k, banner: x}\n" + t),
            "bad.yaml:2:34: unknown key 'banner' in check 's' (expected kind, timeout, "
            "known_hosts, host_key_alias, drift, jump, jump_key_file, ssh_config)");
  EXPECT_EQ(config_error_of("checks:\n  s: {kind: ssh, known_hosts: k}\n"
                            "targets: [{address: '127.0.0.1:99999', checks: [s]}]\n"),
            "bad.yaml:3:21: bad address '127.0.0.1:99999' (host, host:port or [v6]:port)");
}

TEST(SshCheck, JumpConfig) {
  MonitorConfig c = parse_monitor_config(
      "checks:\n"
      "  list: {kind: ssh, known_hosts: kh, jump: [admin@bastion:2222, '[fe80::1]:22'],\n"
      "         jump_key_file: /etc/netres/jump_key}\n"
      "  text: {kind: ssh, known_hosts: kh, jump: 'a,b@c', ssh_config: /etc/netres/ssh_config}\n"
      "  d: {kind: ssh, known_hosts: kh, drift: {backups: b, user: u, key_file: k, command: c,\n"
      "      state_dir: /var/lib/netres}}\n"
      "targets: [{address: 'core1', checks: [list, text, d]}]\n",
      "m.yaml");
  EXPECT_EQ(c.checks.at("list").jump,
            (std::vector<std::string>{"admin@bastion:2222", "[fe80::1]:22"}));
  EXPECT_EQ(c.checks.at("list").jump_key_file, "/etc/netres/jump_key");
  EXPECT_EQ(c.checks.at("text").jump, (std::vector<std::string>{"a", "b@c"}));
  EXPECT_EQ(c.checks.at("text").ssh_config, "/etc/netres/ssh_config");
  EXPECT_EQ(c.checks.at("d").drift->state_dir, "/var/lib/netres");
  EXPECT_TRUE(c.checks.at("d").jump.empty());

  const std::string t = "targets: [{address: 'core1', checks: [s]}]\n";
  EXPECT_EQ(config_error_of("checks:\n  s: {kind: ssh, known_hosts: k, jump: 'a,,b'}\n" + t),
            "bad.yaml:2:40: bad jump host '' ([user@]host[:port])");
  EXPECT_EQ(config_error_of("checks:\n  s: {kind: ssh, known_hosts: k, jump: ['a b']}\n" + t),
            "bad.yaml:2:40: bad jump host 'a b' ([user@]host[:port])");
  EXPECT_EQ(config_error_of("checks:\n  s: {kind: ssh, known_hosts: k, jump: []}\n" + t),
            "bad.yaml:2:40: jump needs 1 to 8 hosts");
  EXPECT_EQ(config_error_of("checks:\n  s: {kind: ssh, known_hosts: k, jump: [a,b,c,d,e,f,g,h,i]}"
                            "\n" +
                            t),
            "bad.yaml:2:40: jump needs 1 to 8 hosts");
  EXPECT_EQ(config_error_of("checks:\n  s: {kind: ssh, known_hosts: k, ssh_config: ''}\n" + t),
            "bad.yaml:2:46: ssh_config must name a file");
}

TEST(SshCheck, DriftConfig) {
  MonitorConfig c = parse_monitor_config(
      "checks:\n"
      "  s:\n"
      "    kind: ssh\n"
      "    known_hosts: kh\n"
      "    drift: {backups: /var/backups/netres, platform: cisco_ios, user: monitor,\n"
      "            password_file: /etc/netres/pw}\n"
      "targets: [{address: 'core1', checks: [s]}]\n",
      "m.yaml");
  const auto& d = c.checks.at("s").drift;
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->backups, "/var/backups/netres");
  EXPECT_EQ(d->platform, "cisco_ios");
  EXPECT_EQ(d->user, "monitor");
  EXPECT_EQ(d->password_file, "/etc/netres/pw");
  EXPECT_TRUE(d->command.empty());
  EXPECT_FALSE(parse_monitor_config("checks: {s: {kind: ssh, known_hosts: k}}\n"
                                    "targets: [{address: 'core1', checks: [s]}]\n",
                                    "m.yaml")
                   .checks.at("s")
                   .drift.has_value());

  const std::string t = "targets: [{address: '127.0.0.1:22', checks: [s]}]\n";
  auto err = [&](const std::string& drift) {
    return config_error_of("checks:\n  s: {kind: ssh, known_hosts: k, drift: " + drift + "}\n" + t);
  };
  EXPECT_EQ(err("{user: u, key_file: k, command: c}"),
            "bad.yaml:2:41: drift needs backups: (netres ssh backup's --dir)");
  EXPECT_EQ(err("{backups: b, key_file: k, command: c}"), "bad.yaml:2:41: drift needs user:");
  EXPECT_EQ(err("{backups: b, user: u, key_file: k, platform: linux}"),
            "bad.yaml:2:41: drift needs command: (or the platform: of a device preset)");
  EXPECT_EQ(err("{backups: b, user: u, platform: juniper_junos}"),
            "bad.yaml:2:41: drift needs key_file: or password_file:");
  EXPECT_EQ(err("{backups: b, user: u, key_file: k, command: c, password: x}"),
            "bad.yaml:2:88: unknown key 'password' in drift (expected backups, name, platform, "
            "command, user, key_file, password_file, state_dir)");
}

TEST(SshCheck, HostKeyVerdicts) {
  EXPECT_EQ(hostkey_reason(ssh::KnownHostsCheck::kOk), "");
  EXPECT_EQ(hostkey_reason(ssh::KnownHostsCheck::kUnknown), "hostkey_unknown");
  EXPECT_EQ(hostkey_reason(ssh::KnownHostsCheck::kChanged), "hostkey_changed");
  EXPECT_EQ(hostkey_reason(ssh::KnownHostsCheck::kOtherType), "hostkey_changed");
  EXPECT_EQ(hostkey_reason(ssh::KnownHostsCheck::kRevoked), "hostkey_revoked");
}

}  // namespace
}  // namespace netres::monitor
