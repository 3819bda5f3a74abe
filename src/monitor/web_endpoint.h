// The monitor's HTTP endpoint as its web config (web_config.h) says: plain HTTP or TLS
// (cpp-httplib's SSLServer), basic auth on every path, extra response headers. The config is
// swapped whole on reload: new connections get the new certificate and TLS settings (applied per
// handshake from OpenSSL's client-hello callback), every request the new users.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "monitor/web_config.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace netres::monitor {

struct TlsMaterial;  // the loaded certificate, key, client CAs and policy (OpenSSL objects)

class WebEndpoint {
 public:
  // `path` empty: plain HTTP, no auth. Throws UsageError for a bad file, an unreadable or
  // mismatched certificate or key, a bad cipher or curve name.
  explicit WebEndpoint(std::string path);
  ~WebEndpoint();

  bool tls() const { return tls_; }
  const std::string& path() const { return path_; }

  // An httplib::Server, or an SSLServer when the config has tls_server_config.
  std::unique_ptr<httplib::Server> make_server();

  // Loads the file again; the returned function installs it. Throws UsageError when the new
  // file is bad (the running one stays) or would switch TLS on or off (that needs a restart).
  std::function<void()> prepare_reload();

  // For the server's pre-routing handler: true when the request may go on; otherwise `res` is
  // the 401 (with WWW-Authenticate) or 403 (client_allowed_sans, for a connection kept
  // alive from before the reload that set them) to send.
  bool admit(const httplib::Request& req, httplib::Response& res) const;
  // The configured headers, on every response.
  void add_headers(httplib::Response& res) const;

  struct State;

 private:
  std::shared_ptr<const State> load() const;
  std::shared_ptr<const State> current() const;

  std::string path_;
  bool tls_ = false;
  mutable std::mutex mu_;
  std::shared_ptr<const State> state_;
};

}  // namespace netres::monitor
