// Request bytes for templates; users are header-only.
#include "load/virtual_user.h"

#include <strings.h>

namespace netres::load {

std::string build_request(const Url& url, const std::string& method,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) {
  return build_request(url.host_header(), method, url.target, headers, body);
}

std::string build_request(const std::string& host_header, const std::string& method,
                          const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) {
  auto user_has = [&](const char* name) {
    for (const auto& [k, v] : headers)
      if (strcasecmp(k.c_str(), name) == 0) return true;
    return false;
  };
  std::string wire = method + " " + target + " HTTP/1.1\r\n";
  if (!user_has("host")) wire += "Host: " + host_header + "\r\n";
  if (!user_has("user-agent")) wire += "User-Agent: netres-load\r\n";
  bool wants_length = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (wants_length && !user_has("content-length"))
    wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : headers) wire += k + ": " + v + "\r\n";
  wire += "\r\n";
  wire += body;
  return wire;
}

}  // namespace netres::load
