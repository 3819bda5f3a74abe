// check_ssh_config_*: keyword list from ssh_config(5) (OpenSSH 9), checked case-insensitively.
#include "ssh/ssh_config_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/error.h"

namespace netres::ssh {
namespace {

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

}  // namespace

void check_ssh_config_text(std::string_view text, std::string_view file) {
  std::istringstream in{std::string(text)};
  std::string line;
  size_t line_no = 0;
  std::vector<std::string> ignore_unknown;
  while (std::getline(in, line)) {
    ++line_no;
    auto where = [&] { return fmt::format("{}:{}", file, line_no); };
    size_t i = line.find_first_not_of(" \t\r");
    if (i == std::string::npos || line[i] == '#') continue;
    size_t k = i;
    while (k < line.size() && std::isalnum(static_cast<unsigned char>(line[k]))) ++k;
    std::string keyword = line.substr(i, k - i);
    if (keyword.empty())
      throw UsageError(
          fmt::format("{}: expected 'Keyword value', got '{}'", where(), line.substr(i)));
    std::string rest = line.substr(k);
    size_t v = rest.find_first_not_of(" \t");
    if (v != std::string::npos && rest[v] == '=')
      v = rest.find_first_not_of(" \t", v + 1);
    else if (v == 0)
      throw UsageError(
          fmt::format("{}: expected 'Keyword value', got '{}'", where(), line.substr(i)));
    std::string value = v == std::string::npos ? "" : rest.substr(v);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
      value.pop_back();
    std::string lower = keyword;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (std::count(value.begin(), value.end(), '"') % 2 != 0)
      throw UsageError(fmt::format("{}: unbalanced quotes in '{}'", where(), keyword));
    bool known = std::find(kKeywords.begin(), kKeywords.end(), lower) != kKeywords.end();
    if (!known) {
      bool ignored = false;
      for (const auto& pattern : ignore_unknown) ignored = ignored || pattern == lower;
      if (!ignored)
        throw UsageError(fmt::format("{}: unknown ssh config keyword '{}'", where(), keyword));
      continue;
    }
    if (value.empty()) throw UsageError(fmt::format("{}: '{}' needs a value", where(), keyword));
    if (lower == "ignoreunknown") {
      std::istringstream names(value);
      std::string n;
      while (std::getline(names, n, ',')) {
        std::transform(n.begin(), n.end(), n.begin(), ::tolower);
        ignore_unknown.push_back(n);
      }
    }
    if (lower == "port" || lower == "connecttimeout" || lower == "serveraliveinterval") {
      bool digits = std::all_of(value.begin(), value.end(), ::isdigit);
      long n = digits && value.size() < 7 ? std::stol(value) : -1;
      if (!digits || (lower == "port" && (n < 1 || n > 65535)))
        throw UsageError(fmt::format("{}: bad {} '{}'", where(), keyword, value));
    }
  }
}

void check_ssh_config_file(const std::string& path, bool required) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (required) throw UsageError(fmt::format("cannot read ssh config '{}'", path));
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  check_ssh_config_text(ss.str(), path);
}

}  // namespace netres::ssh
