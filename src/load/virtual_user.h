// VirtualUser: what a connection asks for the next request to send. Quick mode repeats one
// prebuilt request; the scenario mode will pick tasks (and wait times) per user.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "load/url.h"

namespace netres::load {

// A request ready to go on the wire, built once and written many times (as wrk does).
struct RequestTemplate {
  size_t id = 0;       // index into LoadStats::requests
  std::string method;  // for stats and failure reports
  std::string name;    // stats name: the URL path in quick mode
  std::string wire;    // the full request bytes
  bool head = false;   // a HEAD request: its response has no body
};

// Bytes of an HTTP/1.1 request with Host, User-Agent, Content-Length (when there is a body or
// the method usually has one) and the user's headers, which override ours by name.
std::string build_request(const Url& url, const std::string& method,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body);
// The same for any target and Host value (scenario requests with variables filled in).
std::string build_request(const std::string& host_header, const std::string& method,
                          const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body);

class VirtualUser {
 public:
  virtual ~VirtualUser() = default;
  virtual const RequestTemplate& next_request() = 0;
};

// Quick mode: the same request every time.
class FixedRequestUser : public VirtualUser {
 public:
  explicit FixedRequestUser(const RequestTemplate& request) : request_(request) {}
  const RequestTemplate& next_request() override { return request_; }

 private:
  const RequestTemplate& request_;
};

}  // namespace netres::load
