// URL parsing for load targets: strict, so a typo is a usage error rather than odd traffic.
#include "load/url.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"

namespace netres::load {

std::string Url::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

Url parse_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("bad URL '{}': {}", text, why));
  };
  Url url;
  std::string_view rest = text;
  if (rest.substr(0, 7) == "http://") {
    rest.remove_prefix(7);
  } else if (rest.substr(0, 8) == "https://") {
    rest.remove_prefix(8);
    url.tls = true;
    url.port = 443;
  } else {
    throw bad("scheme must be http:// or https://");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw bad("spaces or control characters");
  }
  if (rest.find('#') != std::string_view::npos) throw bad("fragments are not sent to servers");
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    throw bad("credentials in URLs are not accepted");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) throw bad("unclosed '[' in host");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad("junk after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) throw bad("empty port");
    }
    if (url.host.empty()) throw bad("empty host");
  } else {
    size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) throw bad("empty port");
    }
    if (url.host.empty()) throw bad("missing host");
    for (char c : url.host) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_';
      if (!ok) throw bad("bad character in host");
    }
  }
  if (!port_text.empty()) {
    std::optional<uint16_t> port = parse_port_number(port_text);
    if (!port) throw bad("port must be 1-65535");
    url.port = *port;
  }
  url.target = target.empty() ? "/" : std::string(target);
  if (url.target.front() == '?') url.target.insert(0, "/");
  url.path = url.target.substr(0, url.target.find('?'));
  return url;
}

}  // namespace netres::load
