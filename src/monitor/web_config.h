// The web configuration of netres monitor's HTTP endpoint (--web-config FILE): the YAML format of
// Prometheus's exporter-toolkit (`--web.config.file` of node_exporter and blackbox_exporter), so
// one file serves both: tls_server_config, http_server_config and basic_auth_users (bcrypt
// hashes; passwords themselves are never in the file nor on argv). Also the basic auth check.
// Pure logic (no OpenSSL server objects), for the unit tests and the fuzzer; web_endpoint.cc
// turns a WebConfig into the TLS server.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netres::monitor {

// Go's tls.ClientAuthType names, as exporter-toolkit's client_auth_type.
enum class ClientAuth {
  kNoClientCert,                // no certificate asked for
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // not required; verified against client_ca_file when sent
  kRequireAndVerifyClientCert,  // required and verified: the one that authenticates clients
};

// A value of a list setting and where it was in the file ("FILE:LINE:COL"), so that checks made
// later with OpenSSL (cipher and curve names) can still point at it.
struct Located {
  std::string value;
  std::string where;
};

struct TlsServerSettings {
  // Either a file or the PEM text inline (cert / key / client_ca); paths are resolved against
  // the web config file's directory, as exporter-toolkit does.
  std::string cert_file, key_file, client_ca_file;
  std::string cert_pem, key_pem, client_ca_pem;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  // TLS protocol versions as on the wire: 0x0301 (TLS10) ... 0x0304 (TLS13).
  int min_version = 0x0303;
  int max_version = 0x0304;
  std::vector<Located> cipher_suites;  // IANA / Go names; TLS 1.2 and below
  bool prefer_server_cipher_suites = true;
  std::vector<Located> curve_preferences;  // Go names: CurveP256, CurveP384, CurveP521, X25519
  std::vector<std::string> client_allowed_sans;
};

struct WebConfig {
  std::string file;
  std::optional<TlsServerSettings> tls;
  bool http2 = true;  // accepted for compatibility: the endpoint speaks HTTP/1.1 only
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response
  std::map<std::string, std::string> users;                  // name -> bcrypt hash
};

// Throws UsageError "FILE:LINE:COL: message" for a bad file. An empty file is a valid config
// (plain HTTP, no auth), as for exporter-toolkit.
WebConfig parse_web_config(std::string_view text, const std::string& file);
WebConfig load_web_config(const std::string& path);

// $2a$, $2b$ or $2y$, a cost of 04-31, 22 characters of salt and 31 of hash.
bool is_bcrypt_hash(std::string_view s);

// user:password of an `Authorization: Basic ...` header; nullopt when the header is not one.
struct BasicCredentials {
  std::string user;
  std::string password;
};
std::optional<BasicCredentials> parse_basic_authorization(std::string_view header);

// libxcrypt's bcrypt of `password` with `hash`'s salt and cost, compared with `hash` in constant
// time. False for anything libxcrypt refuses.
bool bcrypt_matches(std::string_view password, const std::string& hash);

// The users of one loaded config. Each verdict is cached (keyed by a SHA-256 of user, hash and
// password, never the password itself) since bcrypt costs tens of milliseconds per check by
// design and Prometheus sends the same credentials with every scrape. Thread-safe.
class BasicAuth {
 public:
  explicit BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}
  bool enabled() const { return !users_.empty(); }
  // True when `authorization` (the header's value) names a user with the right password. An
  // unknown user costs the same bcrypt as a known one, so timing does not tell names apart.
  bool allows(std::string_view authorization) const;
  size_t bcrypt_calls() const { return bcrypt_calls_; }

 private:
  std::map<std::string, std::string> users_;
  mutable std::mutex mu_;
  mutable std::map<std::string, bool> cache_;
  mutable size_t bcrypt_calls_ = 0;
};

}  // namespace netres::monitor
