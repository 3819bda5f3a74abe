// The configuration loader: a full file, the precedence of timeouts and intervals, and bad files
// with their FILE:LINE:COL errors.
#include "monitor/config.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "monitor/config_test_util.h"

namespace netres::monitor {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const char* kGood = R"(defaults:
  interval: 10s
  jitter: 1s
  timeout: 4s
  concurrency: 100
  per_target: 1
groups:
  far: {interval: 30s, timeout: 8s}
checks:
  http_2xx:
    kind: http
    timeout: 3s
    valid_status_codes: [200, 204]
    fail_if_body_not_matches: ["ok"]
    fail_if_header_matches: [{header: Server, regexp: "^bad"}]
    headers: {X-Probe: netres}
  ssh_banner:
    kind: tcp
    banner: "^SSH-2\\.0-"
    steps:
      - send: "QUIT\r\n"
      - expect: "^221"
  dns_a:
    kind: dns
    query_name: www.example.test
    query_type: AAAA
    valid_rcodes: [noerror, nxdomain]
    expect_answers: ["^fd00:"]
    min_answers: 1
targets:
  - name: web
    address: https://127.0.0.1:8443/health
    checks: [http_2xx]
    labels: {env: prod, team: net}
  - address: 127.0.0.1:22
    checks: [ssh_banner]
    group: far
  - address: 127.0.0.1:5353
    checks: [dns_a]
    timeout: 9s
    interval: 20s
)";

TEST(Config, LoadsEverySection) {
  MonitorConfig c = parse_monitor_config(kGood, "m.yaml");
  EXPECT_EQ(c.interval, seconds(10));
  EXPECT_EQ(c.concurrency, 100u);
  EXPECT_EQ(c.per_target, 1u);
  ASSERT_EQ(c.checks.size(), 3u);
  const CheckSpec& h = c.checks.at("http_2xx");
  EXPECT_EQ(h.kind, CheckKind::kHttp);
  EXPECT_EQ(h.valid_status_codes, (std::vector<int>{200, 204}));
  ASSERT_EQ(h.headers.size(), 1u);
  EXPECT_EQ(h.headers[0].first, "X-Probe");
  const CheckSpec& t = c.checks.at("ssh_banner");
  ASSERT_TRUE(t.banner);
  EXPECT_TRUE(std::regex_search("SSH-2.0-OpenSSH_9.2", t.banner->re));
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(*t.steps[0].send, "QUIT\r\n");
  const CheckSpec& d = c.checks.at("dns_a");
  EXPECT_EQ(d.query_type, 28);
  EXPECT_EQ(d.valid_rcodes, (std::vector<std::string>{"NOERROR", "NXDOMAIN"}));
  ASSERT_EQ(c.targets.size(), 3u);
  EXPECT_EQ(c.targets[0].name, "web");
  EXPECT_EQ(c.targets[0].labels,
            (std::vector<std::pair<std::string, std::string>>{{"env", "prod"}, {"team", "net"}}));
  EXPECT_EQ(c.targets[1].name, "127.0.0.1:22");  // the address when no name is given
}

TEST(Config, TimeoutsAndIntervalsFollowTargetGroupCheckDefaults) {
  MonitorConfig c = parse_monitor_config(kGood, "m.yaml");
  EXPECT_EQ(c.timeout_for(c.targets[0], c.checks.at("http_2xx")), seconds(3));    // check
  EXPECT_EQ(c.timeout_for(c.targets[1], c.checks.at("ssh_banner")), seconds(8));  // group
  EXPECT_EQ(c.timeout_for(c.targets[2], c.checks.at("dns_a")), seconds(9));       // target
  EXPECT_EQ(c.targets[0].interval, seconds(10));
  EXPECT_EQ(c.targets[0].jitter, seconds(1));
  EXPECT_EQ(c.targets[1].interval, seconds(30));
  EXPECT_EQ(c.targets[2].interval, seconds(20));
}

TEST(Config, TimeoutNeverExceedsTheInterval) {
  MonitorConfig c = parse_monitor_config(
      "defaults: {interval: 1s, timeout: 5s}\nchecks: {t: {kind: tcp}}\n"
      "targets: [{address: '127.0.0.1:1', checks: [t]}]\n",
      "m.yaml");
  EXPECT_EQ(c.timeout_for(c.targets[0], c.checks.at("t")), seconds(1));
}

TEST(Config, BadFilesNameFileLineAndColumn) {
  const std::string t = "targets: [{address: '127.0.0.1:1', checks: [t]}]\n";
  EXPECT_EQ(config_error_of("checks:\n  t:\n    kind: tcp\n    banr: x\n" + t),
            "bad.yaml:4:5: unknown key 'banr' in check 't' (expected kind, timeout, tls, banner, "
            "steps, insecure, ca_file, server_name, starttls)");
  EXPECT_EQ(
      config_error_of("checks:\n  t:\n    kind: icmpx\n" + t),
      "bad.yaml:3:11: unknown check kind 'icmpx' (expected tcp, dns, http, iface, ssh or icmp)");
  EXPECT_EQ(config_error_of("checks:\n  t: {kind: tcp}\ntargets:\n  - address: 127.0.0.1:1\n"
                            "    checks: [nope]\n"),
            "bad.yaml:5:14: no check named 'nope' in checks:");
  EXPECT_EQ(config_error_of("checks:\n  t: {kind: tcp}\ntargets:\n  - address: 127.0.0.1\n"
                            "    checks: [t]\n"),
            "bad.yaml:4:14: check 't' is tcp: address needs a port (host:port), got '127.0.0.1'");
  EXPECT_EQ(config_error_of("checks:\n  h: {kind: http}\ntargets:\n  - address: 127.0.0.1:80\n"
                            "    checks: [h]\n"),
            "bad.yaml:4:14: check 'h' is http: address must be an http:// or https:// URL, got "
            "'127.0.0.1:80'");
  EXPECT_EQ(
      config_error_of("defaults: {interval: 5x}\nchecks: {t: {kind: tcp}}\n" + t).substr(0, 22),
      "bad.yaml:1:22: bad int");
  EXPECT_EQ(config_error_of("checks:\n  t: {kind: tcp, banner: '(('}\n" + t).substr(0, 52),
            "bad.yaml:2:26: banner: bad regular expression '((': ");
  EXPECT_EQ(
      config_error_of("checks: {t: {kind: tcp}}\ntargets:\n  - {address: '127.0.0.1:1', checks: "
                      "[t], labels: {target: x}}\n"),
      "bad.yaml:3:52: label 'target' is set by netres itself");
  EXPECT_EQ(
      config_error_of("checks: {t: {kind: tcp}}\ntargets:\n  - {address: '127.0.0.1:1', checks: "
                      "[t], labels: {1x: y}}\n"),
      "bad.yaml:3:52: bad label name '1x' (letters, digits, _; not __...)");
  EXPECT_EQ(config_error_of(
                "checks: {t: {kind: tcp}}\ntargets:\n  - {address: '127.0.0.1:1', checks: [t]}"
                "\n  - {address: '127.0.0.1:1', checks: [t]}\n"),
            "bad.yaml:4:5: duplicate target name '127.0.0.1:1' (set name: to tell them apart)");
  EXPECT_EQ(config_error_of("checks:\n  d: {kind: dns}\n" + t),
            "bad.yaml:2:6: dns check 'd' needs query_name:");
  EXPECT_EQ(config_error_of("checks:\n  d: {kind: dns, query_name: x.test}\ntargets:\n"
                            "  - {address: 'ns.example:53', checks: [d]}\n")
                .substr(0, 69),
            "bad.yaml:4:15: check 'd' is dns: address must be a server IP[:port]: ");
  EXPECT_EQ(config_error_of("checks: [1, 2]\n" + t),
            "bad.yaml:1:9: checks must be a mapping of name: settings");
  EXPECT_EQ(config_error_of("checks: {t: {kind: tcp}}\n"),
            "bad.yaml:1:1: no targets: (what to probe)");
  EXPECT_EQ(config_error_of(""),
            "bad.yaml:1:1: empty configuration (expected checks: and targets:)");
  EXPECT_EQ(config_error_of("checks: {t: {kind: tcp}\n").substr(0, 13), "bad.yaml:2:1:");
  EXPECT_EQ(config_error_of("defaults: {interval: 1s, jitter: 2s}\nchecks: {t: {kind: tcp}}\n" + t),
            "bad.yaml:3:11: target '127.0.0.1:1': jitter must be shorter than the interval");
}

}  // namespace
}  // namespace netres::monitor
