// SshConfig: a strict reader of ssh_config(5) files and OpenSSH's evaluation order, so that
// `netres ssh -F FILE` and `ssh -F FILE` connect the same way.
#include "ssh/ssh_config.h"

#include <fmt/format.h>
#include <glob.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "ssh/ssh_pattern.h"

namespace netres::ssh {
namespace {

constexpr int kMaxIncludeDepth = 16;

constexpr std::array kKeywords = {
    "host", "match", "addkeystoagent", "addressfamily", "batchmode", "bindaddress", "bindinterface",
    "canonicaldomains", "canonicalizefallbacklocal", "canonicalizehostname", "canonicalizemaxdots",
    "canonicalizepermittedcnames", "casignaturealgorithms", "certificatefile", "checkhostip",
    "ciphers", "clearallforwardings", "compression", "connectionattempts", "connecttimeout",
    "controlmaster", "controlpath", "controlpersist", "dynamicforward", "enableescapecommandline",
    "enablesshkeysign", "escapechar", "exitonforwardfailure", "fingerprinthash",
    "forkafterauthentication", "forwardagent", "forwardx11", "forwardx11timeout",
    "forwardx11trusted", "gatewayports", "globalknownhostsfile", "gssapiauthentication",
    "gssapidelegatecredentials", "hashknownhosts", "hostbasedacceptedalgorithms",
    "hostbasedauthentication", "hostkeyalgorithms", "hostkeyalias", "hostname", "identitiesonly",
    "identityagent", "identityfile", "ignoreunknown", "include", "ipqos",
    "kbdinteractiveauthentication", "kbdinteractivedevices", "kexalgorithms", "knownhostscommand",
    "localcommand", "localforward", "loglevel", "logverbose", "macs",
    "nohostauthenticationforlocalhost", "numberofpasswordprompts", "passwordauthentication",
    "permitlocalcommand", "permitremoteopen", "pkcs11provider", "port", "preferredauthentications",
    "proxycommand", "proxyjump", "proxyusefdpass", "pubkeyacceptedalgorithms",
    "pubkeyacceptedkeytypes", "pubkeyauthentication", "rekeylimit", "remotecommand",
    "remoteforward", "requesttty", "requiredrsasize", "revokedhostkeys", "securitykeyprovider",
    "sendenv", "serveralivecountmax", "serveraliveinterval", "sessiontype", "setenv", "stdinnull",
    "streamlocalbindmask", "streamlocalbindunlink", "stricthostkeychecking", "syslogfacility",
    "tcpkeepalive", "tag", "tunnel", "tunneldevice", "updatehostkeys", "user", "userknownhostsfile",
    "verifyhostkeydns", "visualhostkey", "xauthlocation", "challengeresponseauthentication",
    "gssapikeyexchange", "gssapiclientidentity", "gssapiserveridentity", "gssapirenewalforcesrekey",
    "gssapitrustdns", "usekeychain",
    // Newer OpenSSH releases, and deprecated keywords OpenSSH still accepts with a warning.
    "channeltimeout", "obscurekeystroketiming", "refuseconnection", "warnweakcrypto",
    "smartcarddevice", "cipher", "compressionlevel", "rsaauthentication", "rhostsrsaauthentication",
    "useprivilegedport", "hostbasedkeytypes", "dsaauthentication", "fallbacktorsh", "usersh",
    "gssapidelegatecreds", "hostkeyalgorithms", "protocol", "useroaming"};

// match_pattern_list: 1 when a positive pattern matches and no negated one does, else 0.
bool pattern_list_matches(const std::string& text, const std::string& list) {
  std::string t = ascii_lower(text);
  bool positive = false;
  std::istringstream in(list);
  std::string p;
  while (std::getline(in, p, ',')) {
    if (p.empty()) continue;
    bool neg = p.front() == '!';
    if (neg) p.erase(0, 1);
    if (ssh_pattern_match(ascii_lower(p), t)) {
      if (neg) return false;
      positive = true;
    }
  }
  return positive;
}

std::optional<bool> yes_no(const std::string& v) {
  std::string l = ascii_lower(v);
  if (l == "yes" || l == "true") return true;
  if (l == "no" || l == "false") return false;
  return std::nullopt;
}

// Splits the arguments after the keyword: whitespace separated, "double quotes" group, a word
// starting with '#' ends the line (OpenSSH 8.8+).
bool split_args(std::string_view s, std::vector<std::string>& out) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    if (i >= s.size() || s[i] == '#') break;
    std::string word;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
      if (s[i] == '"') {
        size_t close = s.find('"', i + 1);
        if (close == std::string_view::npos) return false;
        word.append(s.substr(i + 1, close - i - 1));
        i = close + 1;
      } else {
        word.push_back(s[i++]);
      }
    }
    out.push_back(std::move(word));
  }
  return true;
}

std::string read_whole(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  return ss.str();
}

std::string expand_tilde(const std::string& p, const std::string& home) {
  if (p == "~") return home;
  if (p.starts_with("~/")) return home + p.substr(1);
  return p;
}

}  // namespace

std::optional<long> parse_config_time(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    long n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > 100000000) return std::nullopt;
      ++i;
    }
    if (i == start) return std::nullopt;
    long mult = 1;
    if (i < text.size()) {
      switch (std::tolower(static_cast<unsigned char>(text[i]))) {
        case 's':
          mult = 1;
          break;
        case 'm':
          mult = 60;
          break;
        case 'h':
          mult = 3600;
          break;
        case 'd':
          mult = 86400;
          break;
        case 'w':
          mult = 604800;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    }
    total += n * mult;
  }
  return total;
}

std::string local_user_name() {
  // getpwuid_r: workers resolve hosts in parallel, getpwuid's static buffer is not theirs.
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_name)
    return found->pw_name;
  const char* u = std::getenv("USER");
  return u ? u : "root";
}

std::string expand_config_tokens(const std::string& text, const TokenContext& c) {
  std::string s = expand_tilde(text, c.home);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char t = s[++i];
    switch (t) {
      case '%':
        out.push_back('%');
        break;
      case 'd':
        out += c.home;
        break;
      case 'h':
        out += c.hostname;
        break;
      case 'n':
        out += c.original;
        break;
      case 'p':
        out += std::to_string(c.port);
        break;
      case 'r':
        out += c.remote_user;
        break;
      case 'u':
        out += c.local_user;
        break;
      case 'i':
        out += std::to_string(::getuid());
        break;
      case 'k':
        out += c.host_key_alias.empty() ? c.original : c.host_key_alias;
        break;
      case 'l': {
        char name[256] = {};
        ::gethostname(name, sizeof name - 1);
        std::string h = name;
        out += h.substr(0, h.find('.'));
        break;
      }
      default:  // unknown token: kept as written, as the user will see it in the error
        out.push_back('%');
        out.push_back(t);
    }
  }
  return out;
}

size_t SshConfig::parse_file(const std::string& path, std::string_view text, bool system, int depth,
                             std::vector<std::string>& ignore_unknown) {
  if (depth > kMaxIncludeDepth)
    throw UsageError(fmt::format("{}: Include nested too deeply (loop?)", path));
  size_t index = files_.size();
  files_.push_back(File{path, {}});
  std::istringstream in{std::string(text)};
  std::string line;
  size_t line_no = 0;
  std::vector<Line> lines;
  while (std::getline(in, line)) {
    ++line_no;
    std::string where = fmt::format("{}:{}", path, line_no);
    size_t i = line.find_first_not_of(" \t\r");
    if (i == std::string::npos || line[i] == '#') continue;
    size_t k = i;
    while (k < line.size() && std::isalnum(static_cast<unsigned char>(line[k]))) ++k;
    std::string keyword = line.substr(i, k - i);
    if (keyword.empty())
      throw UsageError(
          fmt::format("{}: expected 'Keyword value', got '{}'", where, line.substr(i)));
    std::string rest = line.substr(k);
    size_t v = rest.find_first_not_of(" \t");
    if (v != std::string::npos && rest[v] == '=')
      v = rest.find_first_not_of(" \t", v + 1);
    else if (v == 0)
      throw UsageError(
          fmt::format("{}: expected 'Keyword value', got '{}'", where, line.substr(i)));
    std::string value = v == std::string::npos ? "" : rest.substr(v);
    std::string kw = ascii_lower(keyword);
    Line l{kw, {}, where, {}};
    if (!split_args(value, l.args))
      throw UsageError(fmt::format("{}: unbalanced quotes in '{}'", where, keyword));
    bool known = std::find(kKeywords.begin(), kKeywords.end(), kw) != kKeywords.end();
    if (!known) {
      bool ignored = false;
      for (const auto& pattern : ignore_unknown)
        ignored = ignored || ssh_pattern_match(pattern, kw);
      if (!ignored)
        throw UsageError(fmt::format("{}: unknown ssh config keyword '{}'", where, keyword));
      continue;
    }
    if (l.args.empty()) throw UsageError(fmt::format("{}: '{}' needs a value", where, keyword));
    const std::string& a0 = l.args[0];
    auto bad = [&] { return UsageError(fmt::format("{}: bad {} '{}'", where, keyword, a0)); };
    if (kw == "ignoreunknown") {
      std::istringstream names(a0);
      std::string n;
      while (std::getline(names, n, ',')) ignore_unknown.push_back(ascii_lower(n));
    } else if (kw == "port") {
      bool digits = a0.size() < 6 && std::all_of(a0.begin(), a0.end(), ::isdigit);
      long n = digits ? std::stol(a0) : -1;
      if (n < 1 || n > 65535) throw bad();
    } else if (kw == "connecttimeout" || kw == "serveraliveinterval") {
      if (ascii_lower(a0) != "none" && !parse_config_time(a0)) throw bad();
    } else if (kw == "stricthostkeychecking") {
      std::string s = ascii_lower(a0);
      if (s != "yes" && s != "no" && s != "ask" && s != "accept-new" && s != "off" && s != "true" &&
          s != "false")
        throw bad();
    } else if (kw == "identitiesonly" || kw == "hashknownhosts" || kw == "batchmode" ||
               kw == "passwordauthentication" || kw == "kbdinteractiveauthentication" ||
               kw == "challengeresponseauthentication") {
      if (!yes_no(a0)) throw bad();
    } else if (kw == "pubkeyauthentication") {
      std::string s = ascii_lower(a0);
      if (!yes_no(a0) && s != "unbound" && s != "host-bound") throw bad();
    } else if (kw == "match") {
      for (size_t m = 0; m < l.args.size(); ++m) {
        std::string c = ascii_lower(l.args[m]);
        if (!c.empty() && c.front() == '!') c.erase(0, 1);
        if (c == "all" || c == "canonical" || c == "final") {
          if (c == "final") has_final_ = true;
          continue;
        }
        if (c != "host" && c != "originalhost" && c != "user" && c != "localuser" && c != "exec" &&
            c != "localnetwork" && c != "tagged")
          throw UsageError(fmt::format("{}: unknown Match criterion '{}'", where, l.args[m]));
        if (++m >= l.args.size())
          throw UsageError(fmt::format("{}: Match {} needs an argument", where, c));
      }
    } else if (kw == "include") {
      for (const auto& pattern : l.args) {
        std::string p = expand_tilde(pattern, home_);
        if (!p.starts_with('/')) p = (system ? std::string("/etc/ssh") : home_ + "/.ssh") + "/" + p;
        // The matches are copied out first: parse_file may throw (a bad included file).
        std::vector<std::string> matches;
        glob_t g{};
        if (::glob(p.c_str(), 0, nullptr, &g) == 0)
          for (size_t n = 0; n < g.gl_pathc; ++n) matches.emplace_back(g.gl_pathv[n]);
        ::globfree(&g);
        for (const auto& inc : matches) {
          bool ok = false;
          std::string body = read_whole(inc, &ok);
          if (!ok) throw UsageError(fmt::format("{}: cannot read Include '{}'", where, inc));
          l.files.push_back(parse_file(inc, body, system, depth + 1, ignore_unknown));
        }
      }
    }
    lines.push_back(std::move(l));
  }
  files_[index].lines = std::move(lines);
  return index;
}

SshConfig SshConfig::from_text(std::string_view text, std::string_view file,
                               const std::string& include_dir) {
  SshConfig c;
  const char* home = std::getenv("HOME");
  c.home_ = include_dir.empty() ? (home ? home : "") : include_dir;
  std::vector<std::string> ignore;
  c.roots_.push_back(c.parse_file(std::string(file), text, false, 0, ignore));
  return c;
}

SshConfig SshConfig::load(const std::string& explicit_file, const std::string& home) {
  SshConfig c;
  c.home_ = home;
  std::vector<std::string> ignore;
  bool ok = false;
  if (!explicit_file.empty()) {
    std::string body = read_whole(explicit_file, &ok);
    if (!ok) throw UsageError(fmt::format("cannot read ssh config '{}'", explicit_file));
    c.roots_.push_back(c.parse_file(explicit_file, body, false, 0, ignore));
    return c;
  }
  if (!home.empty()) {
    std::string user_file = home + "/.ssh/config";
    std::string body = read_whole(user_file, &ok);
    if (ok) c.roots_.push_back(c.parse_file(user_file, body, false, 0, ignore));
  }
  std::vector<std::string> system_ignore;
  std::string body = read_whole("/etc/ssh/ssh_config", &ok);
  if (ok) c.roots_.push_back(c.parse_file("/etc/ssh/ssh_config", body, true, 0, system_ignore));
  return c;
}

void SshConfig::walk(size_t fi, bool final_pass, HostConfig& out, const std::string& local_user,
                     const std::string& user_hint) const {
  bool active = true;
  for (const auto& l : files_[fi].lines) {
    const std::string& kw = l.keyword;
    if (kw == "host") {
      bool positive = false, negated = false;
      std::string h = ascii_lower(out.original_host);
      for (std::string p : l.args) {
        bool neg = !p.empty() && p.front() == '!';
        if (neg) p.erase(0, 1);
        if (ssh_pattern_match(ascii_lower(p), h)) (neg ? negated : positive) = true;
      }
      active = positive && !negated;
      continue;
    }
    if (kw == "match") {
      bool all = true;
      for (size_t m = 0; m < l.args.size() && all; ++m) {
        std::string c = ascii_lower(l.args[m]);
        bool neg = !c.empty() && c.front() == '!';
        if (neg) c.erase(0, 1);
        bool r = false;
        if (c == "all") {
          r = true;
        } else if (c == "canonical") {
          r = false;  // netres never canonicalizes host names
        } else if (c == "final") {
          r = final_pass;
        } else {
          const std::string& arg = l.args[++m];
          if (c == "host")
            r = pattern_list_matches(out.hostname.value_or(out.original_host), arg);
          else if (c == "originalhost")
            r = pattern_list_matches(out.original_host, arg);
          else if (c == "user")
            r = pattern_list_matches(out.user.value_or(user_hint.empty() ? local_user : user_hint),
                                     arg);
          else if (c == "localuser")
            r = pattern_list_matches(local_user, arg);
          else
            r = false;  // exec, localnetwork, tagged: not evaluated by netres (docs/ssh.md)
        }
        all = neg ? !r : r;
      }
      active = all;
      continue;
    }
    if (!active) continue;
    if (kw == "include") {
      for (size_t f : l.files) walk(f, final_pass, out, local_user, user_hint);
      continue;
    }
    const std::string& a0 = l.args[0];
    auto set_once = [](auto& field, auto value) {
      if (!field) field = std::move(value);
    };
    if (kw == "hostname") {
      if (!out.hostname) {
        std::string h;
        for (size_t i = 0; i < a0.size(); ++i) {
          if (a0[i] == '%' && i + 1 < a0.size() && a0[i + 1] == 'h') {
            h += out.original_host;
            ++i;
          } else if (a0[i] == '%' && i + 1 < a0.size() && a0[i + 1] == '%') {
            h += '%';
            ++i;
          } else {
            h += a0[i];
          }
        }
        out.hostname = h;
      }
    } else if (kw == "port") {
      set_once(out.port, std::stoi(a0));
    } else if (kw == "user") {
      set_once(out.user, a0);
    } else if (kw == "identityfile") {
      if (std::find(out.identity_files.begin(), out.identity_files.end(), a0) ==
          out.identity_files.end())
        out.identity_files.push_back(a0);
    } else if (kw == "identitiesonly") {
      set_once(out.identities_only, *yes_no(a0));
    } else if (kw == "userknownhostsfile" || kw == "globalknownhostsfile") {
      auto& field = kw == "userknownhostsfile" ? out.user_known_hosts : out.global_known_hosts;
      if (!field) field = ascii_lower(a0) == "none" ? std::vector<std::string>{} : l.args;
    } else if (kw == "stricthostkeychecking") {
      if (!out.strict_host_key_checking) {
        std::string s = ascii_lower(a0);
        out.strict_host_key_checking = (s == "ask" || s == "true")    ? "yes"
                                       : (s == "off" || s == "false") ? "no"
                                                                      : s;
        out.strict_where = l.where;
      }
    } else if (kw == "connecttimeout") {
      if (ascii_lower(a0) != "none") set_once(out.connect_timeout_s, *parse_config_time(a0));
    } else if (kw == "serveraliveinterval") {
      if (ascii_lower(a0) != "none") set_once(out.server_alive_interval_s, *parse_config_time(a0));
    } else if (kw == "proxyjump") {
      // ProxyJump and ProxyCommand exclude each other: the first of either wins.
      if (!out.proxy_jump && !out.proxy_command) out.proxy_jump = a0;
    } else if (kw == "proxycommand") {
      if (!out.proxy_jump && !out.proxy_command) {
        std::string cmd;
        for (const auto& a : l.args) cmd += (cmd.empty() ? "" : " ") + a;
        out.proxy_command = cmd;
      }
    } else if (kw == "hostkeyalias") {
      set_once(out.host_key_alias, a0);
    } else if (kw == "hashknownhosts") {
      set_once(out.hash_known_hosts, *yes_no(a0));
    } else if (kw == "pubkeyauthentication") {
      set_once(out.pubkey_authentication, yes_no(a0).value_or(true));
    } else if (kw == "kbdinteractiveauthentication" || kw == "challengeresponseauthentication") {
      set_once(out.kbd_interactive_authentication, *yes_no(a0));
    } else if (kw == "passwordauthentication") {
      set_once(out.password_authentication, *yes_no(a0));
    } else if (kw == "hostkeyalgorithms") {
      set_once(out.host_key_algorithms, a0);
    } else if (kw == "ciphers") {
      set_once(out.ciphers, a0);
    } else if (kw == "kexalgorithms") {
      set_once(out.kex_algorithms, a0);
    } else if (kw == "macs") {
      set_once(out.macs, a0);
    }
  }
}

HostConfig SshConfig::resolve(const std::string& host, const std::string& user_hint,
                              const std::string& local_user) const {
  HostConfig out;
  out.original_host = host;
  for (size_t r : roots_) walk(r, false, out, local_user, user_hint);
  // OpenSSH re-reads the files once more when a `Match final` block exists; first values stay.
  if (has_final_)
    for (size_t r : roots_) walk(r, true, out, local_user, user_hint);
  return out;
}

}  // namespace netres::ssh
