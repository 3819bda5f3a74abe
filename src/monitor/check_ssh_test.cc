// The ssh check without a server: its configuration keys and the reason each known_hosts
// verdict maps to (the handshake itself is tested against sshd in test_monitor_ssh.py).
#include "monitor/check_ssh.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "monitor/config.h"

namespace netres::monitor {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_monitor_config(text, "bad.yaml");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

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
  EXPECT_EQ(error_of("checks:\n  s: {kind: ssh}\n" + t),
            "bad.yaml:2:6: ssh check 's' needs known_hosts: (a file)");
  EXPECT_EQ(error_of("checks:\n  s: {kind: ssh, known_hosts: ''}\n" + t),
            "bad.yaml:2:31: known_hosts must name a file");
  EXPECT_EQ(error_of("checks:\n  s: {kind: ssh, known_hosts: k, host_key_alias: 'a b'}\n" + t),
            "bad.yaml:2:50: bad host_key_alias 'a b'");
  EXPECT_EQ(error_of("checks:\n  s: {kind: ssh, known_hosts: k, banner: x}\n" + t),
            "bad.yaml:2:34: unknown key 'banner' in check 's' (expected kind, timeout, "
            "known_hosts, host_key_alias)");
  EXPECT_EQ(error_of("checks:\n  s: {kind: ssh, known_hosts: k}\n"
                     "targets: [{address: '127.0.0.1:99999', checks: [s]}]\n"),
            "bad.yaml:3:21: bad address '127.0.0.1:99999' (host, host:port or [v6]:port)");
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
