#include "resolve/server_address.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/error.h"
#include "common/text.h"

namespace netres::resolve {

namespace {

ServerAddress parse_server(std::string_view item) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("bad DNS server '{}': {}", item, why));
  };
  constexpr std::string_view kShape = "expected IP[:port] or [IPv6]:port";
  if (item.empty()) throw bad("empty entry in the server list");
  Endpoint e = split_endpoint(item);
  if (e.error == Endpoint::Error::kUnclosedBracket || e.error == Endpoint::Error::kJunkAfterBracket)
    throw bad(kShape);
  if (e.error == Endpoint::Error::kEmptyPort) throw bad("missing port after ':'");
  std::string_view host = e.host;
  bool bracketed = e.bracketed;
  ServerAddress s;
  if (!e.port.empty()) {
    std::optional<uint16_t> port = parse_port_number(e.port);
    if (!port) throw bad("port must be a number 1-65535");
    s.port = *port;
  }
  std::string host_text(host);
  if (!bracketed && inet_pton(AF_INET, host_text.c_str(), s.address) == 1) {
    s.family = AF_INET;
  } else if (inet_pton(AF_INET6, host_text.c_str(), s.address) == 1) {
    s.family = AF_INET6;
  } else {
    throw bad(host.empty() ? std::string(kShape) : fmt::format("'{}' is not an IP address", host));
  }
  char text[INET6_ADDRSTRLEN];
  inet_ntop(s.family, s.address, text, sizeof text);
  s.text = s.family == AF_INET ? fmt::format("{}:{}", text, s.port)
                               : fmt::format("[{}]:{}", text, s.port);
  return s;
}

}  // namespace

std::vector<ServerAddress> parse_servers(std::string_view text) {
  std::vector<ServerAddress> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    out.push_back(parse_server(trim(text.substr(start, comma - start), " \t")));
    start = comma + 1;
  }
  return out;
}

std::vector<ServerAddress> parse_resolv_conf(std::string_view text) {
  std::vector<ServerAddress> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    std::string scope;
    if (size_t pct = value.find('%'); pct != std::string::npos) {
      scope = value.substr(pct + 1);
      value.resize(pct);
    }
    try {
      ServerAddress s =
          parse_server(value.find(':') != std::string::npos ? "[" + value + "]" : value);
      if (!scope.empty()) {
        s.scope_id = if_nametoindex(scope.c_str());
        if (s.scope_id == 0) continue;  // an interface that is not here: unusable
        s.text = fmt::format("[{}%{}]:{}", value, scope, s.port);
      }
      out.push_back(std::move(s));
    } catch (const UsageError&) {
      // glibc skips a nameserver line it cannot parse; so do we.
    }
  }
  return out;
}

std::vector<ServerAddress> configured_servers(const std::string& list) {
  if (!list.empty()) return parse_servers(list);
  std::ifstream in("/etc/resolv.conf");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<ServerAddress> servers = parse_resolv_conf(text.str());
  if (servers.empty()) servers = parse_servers("127.0.0.1");  // the C library's default
  return servers;
}

socklen_t to_sockaddr(const ServerAddress& s, sockaddr_storage& sa) {
  if (s.family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&sa);
    a->sin_family = AF_INET;
    a->sin_port = htons(s.port);
    std::memcpy(&a->sin_addr, s.address, 4);
    return sizeof(sockaddr_in);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&sa);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(s.port);
  std::memcpy(&a->sin6_addr, s.address, 16);
  a->sin6_scope_id = s.scope_id;
  return sizeof(sockaddr_in6);
}

}  // namespace netres::resolve
