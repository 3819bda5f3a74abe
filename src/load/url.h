// Url: the http:// or https:// target of a load test, split into what a connection needs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netres::load {

struct Url {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  uint16_t port = 80;
  std::string target;  // origin-form request target: path and query, never empty ("/")
  std::string path;    // target without the query: the stats name in quick mode
  // The Host header value: host, bracketed if IPv6, with the port unless it is the default.
  std::string host_header() const;
};

// Parses "http://host[:port][/path][?query]" and "https://...". Userinfo and fragments are
// rejected (secrets never on the command line; fragments never reach a server). Throws
// UsageError naming the URL.
Url parse_url(std::string_view text);

}  // namespace netres::load
