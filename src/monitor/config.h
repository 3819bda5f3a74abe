// The monitor's configuration file: named checks (modules), targets with their checks, labels and
// group, and the schedule (interval, jitter, timeouts, concurrency caps) with defaults at the top.
// Loaded strictly: an unknown key, a wrong type or a dangling check name is a FILE:LINE:COL
// UsageError (exit 2).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "monitor/starttls.h"

namespace netres::monitor {

enum class CheckKind { kTcp, kDns, kHttp, kIface, kSsh, kIcmp };
std::string_view kind_name(CheckKind k);

// A regular expression with its source text (for messages and the JSON output).
struct Pattern {
  std::string text;
  std::regex re;
};

struct TcpStep {
  std::optional<std::string> send;  // bytes to write (YAML escapes: "\r\n")
  std::optional<Pattern> expect;    // a line (or the data read so far) must match
  bool starttls = false;            // blackbox_exporter's query_response step: TLS starts here
};

struct HeaderPattern {
  std::string header;  // case-insensitive name
  Pattern pattern;
  bool allow_missing = false;
};

struct CheckSpec {
  std::string name;
  CheckKind kind = CheckKind::kTcp;
  std::optional<Nanos> timeout;  // unset: the group's or the defaults'

  // tcp
  bool tls = false;  // also http: set by the URL's scheme
  std::optional<Pattern> banner;
  std::vector<TcpStep> steps;
  std::optional<StarttlsProtocol> starttls;  // the protocol's dialogue, then TLS

  // dns (the target is the server)
  std::string query_name;
  uint16_t query_type = 1;
  std::vector<std::string> valid_rcodes{"NOERROR"};
  std::vector<Pattern> expect_answers;  // each must match at least one answer's data
  std::optional<uint64_t> min_answers, max_answers;

  // http
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<int> valid_status_codes;           // empty: any 2xx
  std::vector<std::string> valid_http_versions;  // "HTTP/1.0", "HTTP/1.1", "HTTP/2.0"; empty: any
  bool enable_http2 = true;            // https: offer h2 by ALPN (blackbox_exporter's default too)
  bool http2_prior_knowledge = false;  // http: HTTP/2 from the first byte (h2c), as curl's
  std::vector<Pattern> fail_if_body_matches, fail_if_body_not_matches;
  std::vector<HeaderPattern> fail_if_header_matches, fail_if_header_not_matches;
  bool follow_redirects = true;
  int max_redirects = 10;
  bool fail_if_ssl = false, fail_if_not_ssl = false;

  // iface (the target is an interface name or glob of this machine)
  std::optional<double> speed_bytes;  // bytes/s for utilisation; unset: the kernel's speed
  uint64_t top_flows = 0;             // > 0: capture and export the busiest flows
  Nanos flow_capture = std::chrono::seconds(1);  // how long that capture runs per probe

  // ssh: the server's host key must be the one this file records for the target (never learned)
  std::string known_hosts;
  std::string host_key_alias;  // the name looked up instead of host / [host]:port
  // ProxyJump: [user@]host[:port] hops, first connected first (replaces ssh_config's ProxyJump).
  std::vector<std::string> jump;
  std::string jump_key_file;  // the hops' login key (before ssh_config's IdentityFile)
  std::string ssh_config;     // an OpenSSH client config: the hops' settings, a target's ProxyJump
  // ssh configuration drift: log in, show the configuration, compare with the last backup.
  struct SshDrift {
    std::string backups;        // netres ssh backup's --dir
    std::string name;           // the host's directory there; default: the address's host
    std::string platform;       // a netres ssh preset (cisco_ios, juniper_junos, linux, ...)
    std::string command;        // instead of the preset's show-config command
    std::string user;           // the login
    std::string key_file;       // a private key (unencrypted)
    std::string password_file;  // or a password, read from this file (never in the config)
    std::string state_dir;      // where the configuration hashes seen are kept across restarts
  };
  std::optional<SshDrift> drift;

  // tcp and http over TLS
  bool insecure = false;    // skip certificate verification (the result is still reported)
  std::string ca_file;      // trust these CAs instead of the system's
  std::string server_name;  // SNI and verified name; default: the target's host

  // icmp (the target is a host, no port): a burst of `icmp_count` echo requests per probe
  int icmp_count = 5;
  Nanos icmp_interval = std::chrono::milliseconds(200);  // between two requests of a burst
  int icmp_size = 56;                                    // payload bytes, as ping's -s
  bool prefer_ip6 = false;                               // preferred_ip_protocol: ip4 | ip6
  bool ip_protocol_fallback = true;  // use the other family when the preferred one has none
  std::optional<double> max_loss;    // fail with `loss` above this ratio (0-1)
};

struct GroupSpec {
  std::string name;
  std::optional<Nanos> interval, jitter, timeout;
};

struct TargetSpec {
  std::string name;     // the `target` label; defaults to the address
  std::string address;  // host:port, [v6]:port, or an http(s):// URL
  std::vector<std::string> checks;
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by name
  std::string group;
  // Effective values, filled by the loader: target > group > check > defaults.
  Nanos interval{}, jitter{};
  std::optional<Nanos> timeout;
};

struct MonitorConfig {
  std::string file;
  Nanos interval = std::chrono::seconds(30);
  Nanos jitter = std::chrono::seconds(0);
  Nanos timeout = std::chrono::seconds(5);
  uint64_t concurrency = 256;  // probes in flight at once, over all targets
  uint64_t per_target = 2;     // probes in flight at once against one target
  std::map<std::string, CheckSpec> checks;
  std::map<std::string, GroupSpec> groups;
  std::vector<TargetSpec> targets;

  // The timeout of one probe: target > group > check > defaults, never above the interval.
  Nanos timeout_for(const TargetSpec& t, const CheckSpec& c) const;
};

inline constexpr size_t kMaxConfigBytes = 4 * 1024 * 1024;

MonitorConfig parse_monitor_config(std::string_view text, const std::string& file);
MonitorConfig load_monitor_config(const std::string& path);

}  // namespace netres::monitor
