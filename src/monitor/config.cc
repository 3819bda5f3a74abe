// Monitor configuration loading: a strict walk over yaml-cpp nodes (StrictYaml), then the cross
// checks (check names exist, addresses fit the check kinds, label names are Prometheus's).
#include "monitor/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/error.h"
#include "common/size.h"
#include "common/strict_yaml.h"
#include "common/text.h"
#include "load/url.h"
#include "monitor/iface_stats.h"
#include "resolve/dns_message.h"
#include "resolve/dns_name.h"
#include "resolve/resolver.h"

namespace netres::monitor {

std::string_view kind_name(CheckKind k) {
  switch (k) {
    case CheckKind::kTcp:
      return "tcp";
    case CheckKind::kDns:
      return "dns";
    case CheckKind::kHttp:
      return "http";
    case CheckKind::kIface:
      return "iface";
    case CheckKind::kSsh:
      return "ssh";
    case CheckKind::kIcmp:
      return "icmp";
  }
  return "?";
}

Nanos MonitorConfig::timeout_for(const TargetSpec& t, const CheckSpec& c) const {
  Nanos d = timeout;
  if (c.timeout) d = *c.timeout;
  auto g = groups.find(t.group);
  if (g != groups.end() && g->second.timeout) d = *g->second.timeout;
  if (t.timeout) d = *t.timeout;
  return std::min(d, t.interval);
}

namespace {

bool valid_label_name(std::string_view s) {
  if (s.empty() || s.starts_with("__")) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Labels netres sets itself on every probe series.
constexpr std::string_view kReservedLabels[] = {
    "target",    "check",     "kind",   "reason", "phase",    "le",          "version",
    "cipher",    "group",     "device", "banner", "key_type", "fingerprint",  // ssh's
    "direction", "operstate", "flow"};                                        // iface's

class Loader {
 public:
  explicit Loader(const std::string& file) : y_(file) {}
  MonitorConfig load(const YAML::Node& root);

 private:
  using Fields = StrictYaml::Fields;
  static const YAML::Node* find(const Fields& f, const std::string& k) {
    return StrictYaml::find(f, k);
  }

  Pattern pattern(const YAML::Node& n, std::string_view what) const {
    std::string s = y_.text(n, what);
    try {
      return Pattern{s, std::regex(s, std::regex::ECMAScript)};
    } catch (const std::regex_error& e) {
      y_.fail(n, fmt::format("{}: bad regular expression '{}': {}", what, s, e.what()));
    }
  }
  std::vector<Pattern> patterns(const YAML::Node& n, std::string_view what) const {
    if (!n.IsSequence()) y_.fail(n, fmt::format("{} must be a list of regular expressions", what));
    std::vector<Pattern> out;
    for (const auto& e : n) out.push_back(pattern(e, what));
    return out;
  }
  std::vector<std::string> strings(const YAML::Node& n, std::string_view what) const {
    if (!n.IsSequence()) y_.fail(n, fmt::format("{} must be a list", what));
    std::vector<std::string> out;
    for (const auto& e : n) out.push_back(y_.text(e, what));
    return out;
  }
  std::vector<HeaderPattern> header_patterns(const YAML::Node& n, std::string_view what) const {
    if (!n.IsSequence()) y_.fail(n, fmt::format("{} must be a list", what));
    std::vector<HeaderPattern> out;
    for (const auto& e : n) {
      auto f = y_.fields(e, what, {"header", "regexp", "allow_missing"});
      const YAML::Node* h = find(f, "header");
      const YAML::Node* r = find(f, "regexp");
      if (!h || !r) y_.fail(e, fmt::format("{} needs header: and regexp:", what));
      HeaderPattern hp{y_.text(*h, "header"), pattern(*r, "regexp")};
      if (auto* a = find(f, "allow_missing")) hp.allow_missing = y_.boolean(*a, "allow_missing");
      out.push_back(std::move(hp));
    }
    return out;
  }

  void defaults(const YAML::Node& n, MonitorConfig& c) const;
  CheckSpec check(const std::string& name, const YAML::Node& n) const;
  void icmp_settings(const Fields& f, CheckSpec& c) const;
  GroupSpec group(const std::string& name, const YAML::Node& n) const;
  TargetSpec target(const YAML::Node& n, const MonitorConfig& c) const;

  StrictYaml y_;
};

void Loader::defaults(const YAML::Node& n, MonitorConfig& c) const {
  auto f = y_.fields(n, "defaults", {"interval", "jitter", "timeout", "concurrency", "per_target"});
  if (auto* v = find(f, "interval")) c.interval = y_.duration(*v, "interval");
  if (auto* v = find(f, "jitter")) c.jitter = y_.duration(*v, "jitter");
  if (auto* v = find(f, "timeout")) c.timeout = y_.duration(*v, "timeout");
  if (auto* v = find(f, "concurrency")) c.concurrency = y_.integer(*v, "concurrency", 1, 100000);
  if (auto* v = find(f, "per_target")) c.per_target = y_.integer(*v, "per_target", 1, 1000);
  if (c.interval < std::chrono::milliseconds(100)) {
    y_.fail(*find(f, "interval"), "interval must be at least 100ms");
  }
  if (c.timeout <= Nanos{0}) y_.fail(*find(f, "timeout"), "timeout must be more than 0");
}

CheckSpec Loader::check(const std::string& name, const YAML::Node& n) const {
  CheckSpec c;
  c.name = name;
  if (!n.IsMap()) y_.fail(n, fmt::format("check '{}' must be a mapping", name));
  const YAML::Node kind = n["kind"];
  if (!kind)
    y_.fail(n, fmt::format("check '{}' needs kind: (tcp, dns, http, iface, ssh or icmp)", name));
  std::string k = y_.text(kind, "kind");
  std::string what = fmt::format("check '{}'", name);
  Fields f;
  if (k == "tcp") {
    c.kind = CheckKind::kTcp;
    f = y_.fields(n, what,
                  {"kind", "timeout", "tls", "banner", "steps", "insecure", "ca_file",
                   "server_name", "starttls"});
  } else if (k == "dns") {
    c.kind = CheckKind::kDns;
    f = y_.fields(n, what,
                  {"kind", "timeout", "query_name", "query_type", "valid_rcodes", "expect_answers",
                   "min_answers", "max_answers"});
  } else if (k == "http") {
    c.kind = CheckKind::kHttp;
    // blackbox_exporter's names where they exist (enable_http2), curl's for h2c. Kept packed:
    // clang-format 14 sets a list of over 20 keys one per line.
    // clang-format off
    f = y_.fields(n, what,
                  {"kind", "timeout", "method", "headers", "body", "valid_status_codes",
                   "valid_http_versions", "fail_if_body_matches", "fail_if_body_not_matches",
                   "fail_if_header_matches", "fail_if_header_not_matches", "follow_redirects",
                   "max_redirects", "fail_if_ssl", "fail_if_not_ssl", "insecure", "ca_file",
                   "server_name", "enable_http2", "http2_prior_knowledge"});
    // clang-format on
  } else if (k == "iface") {
    c.kind = CheckKind::kIface;
    f = y_.fields(n, what, {"kind", "timeout", "speed", "top_flows", "flow_capture"});
  } else if (k == "ssh") {
    c.kind = CheckKind::kSsh;
    f = y_.fields(n, what,
                  {"kind", "timeout", "known_hosts", "host_key_alias", "drift", "jump",
                   "jump_key_file", "ssh_config"});
  } else if (k == "icmp") {
    c.kind = CheckKind::kIcmp;
    f = y_.fields(n, what,
                  {"kind", "timeout", "count", "interval", "size", "preferred_ip_protocol",
                   "ip_protocol_fallback", "max_loss"});
  } else {
    y_.fail(kind, fmt::format(
                      "unknown check kind '{}' (expected tcp, dns, http, iface, ssh or icmp)", k));
  }
  if (auto* v = find(f, "timeout")) {
    c.timeout = y_.duration(*v, "timeout");
    if (*c.timeout <= Nanos{0}) y_.fail(*v, "timeout must be more than 0");
  }
  if (auto* v = find(f, "tls")) c.tls = y_.boolean(*v, "tls");
  if (auto* v = find(f, "banner")) c.banner = pattern(*v, "banner");
  if (auto* v = find(f, "steps")) {
    if (!v->IsSequence()) y_.fail(*v, "steps must be a list of send: / expect: steps");
    for (const auto& s : *v) {
      auto sf = y_.fields(s, "step", {"send", "expect", "starttls"});
      TcpStep step;
      if (auto* x = find(sf, "send")) step.send = y_.text(*x, "send");
      if (auto* x = find(sf, "expect")) step.expect = pattern(*x, "expect");
      if (auto* x = find(sf, "starttls")) {
        // blackbox_exporter's query_response starttls: the steps before it are the dialogue.
        if (!y_.boolean(*x, "starttls") || step.send || step.expect)
          y_.fail(*x, "a starttls step is {starttls: true} alone");
        for (const auto& earlier : c.steps)
          if (earlier.starttls) y_.fail(*x, "only one starttls step");
        step.starttls = true;
      }
      if (!step.send && !step.expect && !step.starttls)
        y_.fail(s, "a step needs send:, expect: or starttls: true");
      c.steps.push_back(std::move(step));
    }
  }
  if (auto* v = find(f, "starttls")) {
    std::string name = y_.text(*v, "starttls");
    c.starttls = parse_starttls_protocol(name);
    if (!c.starttls)
      y_.fail(*v, fmt::format("unknown starttls protocol '{}' (expected {})", name,
                              starttls_protocol_names()));
    // The greeting is part of the dialogue: only a line-based one can meet a banner regex.
    if (c.banner && !starttls_has_greeting(*c.starttls))
      y_.fail(*find(f, "banner"),
              fmt::format("banner: {} has no greeting line (starttls: {})", name, name));
  }
  {
    const bool step_tls =
        std::any_of(c.steps.begin(), c.steps.end(), [](const TcpStep& s) { return s.starttls; });
    const YAML::Node* at = find(f, "starttls") ? find(f, "starttls") : find(f, "steps");
    if (c.tls && (c.starttls || step_tls))
      y_.fail(*at,
              "tls: true and starttls exclude each other (starttls upgrades a plain "
              "connection to TLS)");
    if (c.starttls && step_tls)
      y_.fail(*at, "starttls: PROTOCOL and a starttls step exclude each other");
  }
  if (auto* v = find(f, "insecure")) c.insecure = y_.boolean(*v, "insecure");
  if (auto* v = find(f, "ca_file")) c.ca_file = y_.text(*v, "ca_file");
  if (auto* v = find(f, "server_name")) c.server_name = y_.text(*v, "server_name");

  if (c.kind == CheckKind::kDns) {
    const YAML::Node* q = find(f, "query_name");
    if (!q) y_.fail(n, fmt::format("dns check '{}' needs query_name:", name));
    c.query_name = y_.text(*q, "query_name");
    if (auto p = resolve::name_problem(c.query_name); !p.empty())
      y_.fail(*q, fmt::format("bad query_name '{}': {}", c.query_name, p));
    if (auto* v = find(f, "query_type")) {
      auto t = resolve::parse_query_type(y_.text(*v, "query_type"));
      if (!t) y_.fail(*v, fmt::format("unknown query_type '{}'", v->Scalar()));
      c.query_type = *t;
    }
    if (auto* v = find(f, "valid_rcodes")) {
      c.valid_rcodes = strings(*v, "valid_rcodes");
      for (auto& r : c.valid_rcodes)
        std::transform(r.begin(), r.end(), r.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    }
    if (auto* v = find(f, "expect_answers")) c.expect_answers = patterns(*v, "expect_answers");
    if (auto* v = find(f, "min_answers")) c.min_answers = y_.integer(*v, "min_answers", 0, 65535);
    if (auto* v = find(f, "max_answers")) c.max_answers = y_.integer(*v, "max_answers", 0, 65535);
  }
  if (c.kind == CheckKind::kIface) {
    if (auto* v = find(f, "speed")) {
      try {
        c.speed_bytes = static_cast<double>(parse_bit_rate(y_.text(*v, "speed"), "speed")) / 8;
      } catch (const UsageError& e) {
        y_.fail(*v, e.what());
      }
    }
    if (auto* v = find(f, "top_flows")) c.top_flows = y_.integer(*v, "top_flows", 1, 50);
    if (auto* v = find(f, "flow_capture")) {
      c.flow_capture = y_.duration(*v, "flow_capture");
      if (c.flow_capture < std::chrono::milliseconds(10) ||
          c.flow_capture > std::chrono::minutes(1))
        y_.fail(*v, "flow_capture must be between 10ms and 1m");
    }
  }
  if (c.kind == CheckKind::kSsh) {
    const YAML::Node* kh = find(f, "known_hosts");
    if (!kh) y_.fail(n, fmt::format("ssh check '{}' needs known_hosts: (a file)", name));
    c.known_hosts = y_.text(*kh, "known_hosts");
    if (c.known_hosts.empty()) y_.fail(*kh, "known_hosts must name a file");
    if (auto* v = find(f, "host_key_alias")) {
      c.host_key_alias = y_.text(*v, "host_key_alias");
      if (c.host_key_alias.empty() || c.host_key_alias.find_first_of(" \t,") != std::string::npos)
        y_.fail(*v, fmt::format("bad host_key_alias '{}'", c.host_key_alias));
    }
    if (auto* v = find(f, "jump")) {
      // A list of hops, or OpenSSH's comma-separated form.
      std::vector<std::string> hops;
      if (v->IsSequence()) {
        hops = strings(*v, "jump");
      } else {
        std::string list = y_.text(*v, "jump");
        for (size_t at = 0; at <= list.size();) {
          size_t comma = std::min(list.find(',', at), list.size());
          hops.push_back(list.substr(at, comma - at));
          at = comma + 1;
        }
      }
      if (hops.empty() || hops.size() > 8) y_.fail(*v, "jump needs 1 to 8 hosts");
      for (const auto& h : hops)
        if (h.empty() || h.find_first_of(" \t,") != std::string::npos)
          y_.fail(*v, fmt::format("bad jump host '{}' ([user@]host[:port])", h));
      c.jump = std::move(hops);
    }
    if (auto* v = find(f, "jump_key_file")) {
      c.jump_key_file = y_.text(*v, "jump_key_file");
      if (c.jump_key_file.empty()) y_.fail(*v, "jump_key_file must name a file");
    }
    if (auto* v = find(f, "ssh_config")) {
      c.ssh_config = y_.text(*v, "ssh_config");
      if (c.ssh_config.empty()) y_.fail(*v, "ssh_config must name a file");
    }
    if (auto* v = find(f, "drift")) {
      auto df = y_.fields(*v, "drift",
                          {"backups", "name", "platform", "command", "user", "key_file",
                           "password_file", "state_dir"});
      CheckSpec::SshDrift d;
      auto text = [&](const char* key, std::string& out) {
        if (auto* x = find(df, key)) {
          out = y_.text(*x, key);
          if (out.empty()) y_.fail(*x, fmt::format("{} must not be empty", key));
        }
      };
      text("backups", d.backups);
      text("name", d.name);
      text("platform", d.platform);
      text("command", d.command);
      text("user", d.user);
      text("key_file", d.key_file);
      text("password_file", d.password_file);
      text("state_dir", d.state_dir);
      if (d.backups.empty()) y_.fail(*v, "drift needs backups: (netres ssh backup's --dir)");
      if (d.user.empty()) y_.fail(*v, "drift needs user:");
      if ((d.platform.empty() || d.platform == "linux") && d.command.empty())
        y_.fail(*v, "drift needs command: (or the platform: of a device preset)");
      if (d.key_file.empty() && d.password_file.empty())
        y_.fail(*v, "drift needs key_file: or password_file:");
      c.drift = std::move(d);
    }
  }
  if (c.kind == CheckKind::kHttp) {
    if (auto* v = find(f, "method")) {
      c.method = y_.text(*v, "method");
      bool ok = !c.method.empty() && std::all_of(c.method.begin(), c.method.end(),
                                                 [](char ch) { return ch >= 'A' && ch <= 'Z'; });
      if (!ok) y_.fail(*v, fmt::format("bad method '{}' (GET, HEAD, POST, ...)", c.method));
    }
    if (auto* v = find(f, "headers")) {
      if (!v->IsMap()) y_.fail(*v, "headers must be a mapping of name: value");
      for (const auto& kv : *v) {
        std::string k = y_.text(kv.first, "header name");
        std::string val = y_.text(kv.second, "header value");
        if (k.empty() || k.find_first_of(": \t\r\n") != std::string::npos)
          y_.fail(kv.first, fmt::format("bad header name '{}'", k));
        if (val.find_first_of("\r\n") != std::string::npos)
          y_.fail(kv.second, "line breaks are not allowed in header values");
        c.headers.emplace_back(k, val);
      }
    }
    if (auto* v = find(f, "body")) c.body = y_.text(*v, "body");
    if (auto* v = find(f, "valid_status_codes")) {
      if (!v->IsSequence()) y_.fail(*v, "valid_status_codes must be a list");
      for (const auto& e : *v)
        c.valid_status_codes.push_back(
            static_cast<int>(y_.integer(e, "valid_status_codes", 100, 599)));
    }
    if (auto* v = find(f, "valid_http_versions")) {
      c.valid_http_versions = strings(*v, "valid_http_versions");
      for (const auto& s : c.valid_http_versions)
        if (s != "HTTP/1.0" && s != "HTTP/1.1" && s != "HTTP/2.0")
          y_.fail(*v, fmt::format("unknown HTTP version '{}' (HTTP/1.0, HTTP/1.1, HTTP/2.0)", s));
    }
    if (auto* v = find(f, "fail_if_body_matches"))
      c.fail_if_body_matches = patterns(*v, "fail_if_body_matches");
    if (auto* v = find(f, "fail_if_body_not_matches"))
      c.fail_if_body_not_matches = patterns(*v, "fail_if_body_not_matches");
    if (auto* v = find(f, "fail_if_header_matches"))
      c.fail_if_header_matches = header_patterns(*v, "fail_if_header_matches");
    if (auto* v = find(f, "fail_if_header_not_matches"))
      c.fail_if_header_not_matches = header_patterns(*v, "fail_if_header_not_matches");
    if (auto* v = find(f, "follow_redirects"))
      c.follow_redirects = y_.boolean(*v, "follow_redirects");
    if (auto* v = find(f, "max_redirects"))
      c.max_redirects = static_cast<int>(y_.integer(*v, "max_redirects", 0, 50));
    if (auto* v = find(f, "fail_if_ssl")) c.fail_if_ssl = y_.boolean(*v, "fail_if_ssl");
    if (auto* v = find(f, "fail_if_not_ssl")) c.fail_if_not_ssl = y_.boolean(*v, "fail_if_not_ssl");
    if (auto* v = find(f, "enable_http2")) c.enable_http2 = y_.boolean(*v, "enable_http2");
    if (auto* v = find(f, "http2_prior_knowledge")) {
      c.http2_prior_knowledge = y_.boolean(*v, "http2_prior_knowledge");
      if (c.http2_prior_knowledge && !c.enable_http2)
        y_.fail(*v, "http2_prior_knowledge needs enable_http2 (it is false)");
    }
  }
  if (c.kind == CheckKind::kIcmp) icmp_settings(f, c);
  return c;
}

void Loader::icmp_settings(const Fields& f, CheckSpec& c) const {
  if (auto* v = find(f, "count")) c.icmp_count = static_cast<int>(y_.integer(*v, "count", 1, 100));
  if (auto* v = find(f, "interval")) {
    c.icmp_interval = y_.duration(*v, "interval");
    if (c.icmp_interval < std::chrono::milliseconds(1) ||
        c.icmp_interval > std::chrono::seconds(10))
      y_.fail(*v, "interval must be between 1ms and 10s");
  }
  // 65507: the largest payload of an IPv4 datagram after its IP and ICMP headers.
  if (auto* v = find(f, "size")) c.icmp_size = static_cast<int>(y_.integer(*v, "size", 0, 65507));
  if (auto* v = find(f, "preferred_ip_protocol")) {
    std::string p = y_.text(*v, "preferred_ip_protocol");
    if (p != "ip4" && p != "ip6")
      y_.fail(*v, fmt::format("preferred_ip_protocol must be ip4 or ip6, got '{}'", p));
    c.prefer_ip6 = p == "ip6";
  }
  if (auto* v = find(f, "ip_protocol_fallback"))
    c.ip_protocol_fallback = y_.boolean(*v, "ip_protocol_fallback");
  if (auto* v = find(f, "max_loss")) {
    double m = y_.number(*v, "max_loss");
    if (!(m >= 0 && m < 1)) y_.fail(*v, "max_loss must be a ratio from 0 to below 1 (0.2: 20%)");
    c.max_loss = m;
  }
}

GroupSpec Loader::group(const std::string& name, const YAML::Node& n) const {
  auto f = y_.fields(n, fmt::format("group '{}'", name), {"interval", "jitter", "timeout"});
  GroupSpec g;
  g.name = name;
  if (auto* v = find(f, "interval")) {
    g.interval = y_.duration(*v, "interval");
    if (*g.interval < std::chrono::milliseconds(100))
      y_.fail(*v, "interval must be at least 100ms");
  }
  if (auto* v = find(f, "jitter")) g.jitter = y_.duration(*v, "jitter");
  if (auto* v = find(f, "timeout")) {
    g.timeout = y_.duration(*v, "timeout");
    if (*g.timeout <= Nanos{0}) y_.fail(*v, "timeout must be more than 0");
  }
  return g;
}

TargetSpec Loader::target(const YAML::Node& n, const MonitorConfig& c) const {
  auto f =
      y_.fields(n, "target",
                {"name", "address", "checks", "labels", "group", "interval", "jitter", "timeout"});
  TargetSpec t;
  const YAML::Node* a = find(f, "address");
  if (!a) y_.fail(n, "a target needs address: (host:port or an http(s):// URL)");
  t.address = y_.text(*a, "address");
  if (t.address.empty()) y_.fail(*a, "address must not be empty");
  t.name = t.address;
  if (auto* v = find(f, "name")) t.name = y_.text(*v, "name");
  const YAML::Node* cs = find(f, "checks");
  if (!cs) y_.fail(n, fmt::format("target '{}' needs checks: (a list of check names)", t.name));
  if (!cs->IsSequence() || cs->size() == 0)
    y_.fail(*cs, "checks must be a non-empty list of check names");
  for (const auto& e : *cs) {
    std::string name = y_.text(e, "check name");
    auto it = c.checks.find(name);
    if (it == c.checks.end()) y_.fail(e, fmt::format("no check named '{}' in checks:", name));
    if (std::find(t.checks.begin(), t.checks.end(), name) != t.checks.end())
      y_.fail(e, fmt::format("check '{}' listed twice", name));
    // The address must make sense for the kind: a URL for http, host:port for tcp.
    const CheckSpec& spec = it->second;
    bool is_url = t.address.starts_with("http://") || t.address.starts_with("https://");
    if (spec.kind == CheckKind::kIface) {
      if (auto p = iface_pattern_problem(t.address); !p.empty() || is_url)
        y_.fail(*a, fmt::format("check '{}' is iface: address must be an interface name or glob "
                                "(eth0, veth*), got '{}'{}",
                                name, t.address, p.empty() ? "" : ": " + p));
    } else if (spec.kind == CheckKind::kHttp) {
      if (!is_url)
        y_.fail(*a, fmt::format("check '{}' is http: address must be an http:// or "
                                "https:// URL, got '{}'",
                                name, t.address));
      try {
        load::parse_url(t.address);
      } catch (const UsageError& e) {
        y_.fail(*a, e.what());
      }
    } else if (spec.kind == CheckKind::kIcmp && is_url) {
      y_.fail(*a, fmt::format("check '{}' is icmp: address is a host, got '{}'", name, t.address));
    } else if (!is_url) {
      Endpoint ep = split_endpoint(t.address);
      if (ep.host.empty() || ep.error != Endpoint::Error::kNone ||
          (!ep.port.empty() && !parse_port_number(ep.port)))
        y_.fail(*a, fmt::format("bad address '{}' (host, host:port or [v6]:port)", t.address));
      if (spec.kind == CheckKind::kDns) {
        try {
          resolve::parse_servers(t.address);
        } catch (const UsageError& e) {
          y_.fail(*a, fmt::format("check '{}' is dns: address must be a server IP[:port]: {}", name,
                                  e.what()));
        }
      }
      if (spec.kind == CheckKind::kIcmp && !ep.port.empty())
        y_.fail(*a, fmt::format("check '{}' is icmp: address is a host without a port, got '{}'",
                                name, t.address));
      if (spec.kind == CheckKind::kTcp && ep.port.empty())
        y_.fail(*a, fmt::format("check '{}' is tcp: address needs a port (host:port), got '{}'",
                                name, t.address));
    }
    t.checks.push_back(name);
  }
  if (auto* v = find(f, "labels")) {
    if (!v->IsMap()) y_.fail(*v, "labels must be a mapping of name: value");
    for (const auto& kv : *v) {
      std::string k = y_.text(kv.first, "label name");
      if (!valid_label_name(k))
        y_.fail(kv.first, fmt::format("bad label name '{}' (letters, digits, _; not __...)", k));
      if (std::find(std::begin(kReservedLabels), std::end(kReservedLabels), k) !=
          std::end(kReservedLabels))
        y_.fail(kv.first, fmt::format("label '{}' is set by netres itself", k));
      for (const auto& [ek, ev] : t.labels)
        if (ek == k) y_.fail(kv.first, fmt::format("duplicate label '{}'", k));
      t.labels.emplace_back(k, y_.text(kv.second, "label value"));
    }
    std::sort(t.labels.begin(), t.labels.end());
  }
  t.interval = c.interval;
  t.jitter = c.jitter;
  if (auto* v = find(f, "group")) {
    t.group = y_.text(*v, "group");
    auto g = c.groups.find(t.group);
    if (g == c.groups.end()) y_.fail(*v, fmt::format("no group named '{}' in groups:", t.group));
    if (g->second.interval) t.interval = *g->second.interval;
    if (g->second.jitter) t.jitter = *g->second.jitter;
  }
  if (auto* v = find(f, "interval")) {
    t.interval = y_.duration(*v, "interval");
    if (t.interval < std::chrono::milliseconds(100)) y_.fail(*v, "interval must be at least 100ms");
  }
  if (auto* v = find(f, "jitter")) t.jitter = y_.duration(*v, "jitter");
  if (auto* v = find(f, "timeout")) {
    t.timeout = y_.duration(*v, "timeout");
    if (*t.timeout <= Nanos{0}) y_.fail(*v, "timeout must be more than 0");
  }
  if (t.jitter >= t.interval)
    y_.fail(n, fmt::format("target '{}': jitter must be shorter than the interval", t.name));
  // An icmp burst must be sent within the probe's timeout, with time left for the last reply.
  for (const auto& name : t.checks) {
    const CheckSpec& spec = c.checks.at(name);
    if (spec.kind != CheckKind::kIcmp) continue;
    Nanos burst = spec.icmp_interval * (spec.icmp_count - 1);
    if (burst >= c.timeout_for(t, spec))
      y_.fail(n, fmt::format("target '{}': check '{}' sends {} requests {} apart, longer than the "
                             "timeout {}: lower count or interval, or raise the timeout",
                             t.name, name, spec.icmp_count, format_duration(spec.icmp_interval),
                             format_duration(c.timeout_for(t, spec))));
  }
  return t;
}

MonitorConfig Loader::load(const YAML::Node& root) {
  if (!root.IsDefined() || root.IsNull())
    y_.fail(YAML::Mark(), "empty configuration (expected checks: and targets:)");
  auto f = y_.fields(root, "the configuration", {"defaults", "groups", "checks", "targets"});
  MonitorConfig c;
  c.file = y_.file();
  if (auto* v = find(f, "defaults")) defaults(*v, c);
  if (auto* v = find(f, "groups")) {
    if (!v->IsMap()) y_.fail(*v, "groups must be a mapping of name: settings");
    for (const auto& kv : *v) {
      std::string name = y_.text(kv.first, "group name");
      if (c.groups.count(name)) y_.fail(kv.first, fmt::format("duplicate group '{}'", name));
      c.groups.emplace(name, group(name, kv.second));
    }
  }
  const YAML::Node* checks = find(f, "checks");
  if (!checks) y_.fail(root, "no checks: (named check modules)");
  if (!checks->IsMap()) y_.fail(*checks, "checks must be a mapping of name: settings");
  for (const auto& kv : *checks) {
    std::string name = y_.text(kv.first, "check name");
    if (c.checks.count(name)) y_.fail(kv.first, fmt::format("duplicate check '{}'", name));
    if (name.empty()) y_.fail(kv.first, "check names must not be empty");
    c.checks.emplace(name, check(name, kv.second));
  }
  const YAML::Node* targets = find(f, "targets");
  if (!targets) y_.fail(root, "no targets: (what to probe)");
  if (!targets->IsSequence()) y_.fail(*targets, "targets must be a list");
  std::set<std::string> names;
  for (const auto& e : *targets) {
    TargetSpec t = target(e, c);
    if (!names.insert(t.name).second)
      y_.fail(e, fmt::format("duplicate target name '{}' (set name: to tell them apart)", t.name));
    c.targets.push_back(std::move(t));
  }
  return c;
}

}  // namespace

MonitorConfig parse_monitor_config(std::string_view text, const std::string& file) {
  YAML::Node root = load_yaml_text(text, file, kMaxConfigBytes);
  try {
    return Loader(file).load(root);
  } catch (const YAML::Exception& e) {
    throw_yaml_error(file, e);
  }
}

MonitorConfig load_monitor_config(const std::string& path) {
  YAML::Node root = load_yaml_file(path, "monitor configuration", kMaxConfigBytes);
  try {
    return Loader(path).load(root);
  } catch (const YAML::Exception& e) {
    throw_yaml_error(path, e);
  }
}

}  // namespace netres::monitor
