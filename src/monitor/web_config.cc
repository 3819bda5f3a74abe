// exporter-toolkit's web configuration file, read strictly (FILE:LINE:COL errors), and the basic
// auth check against its bcrypt hashes.
#include "monitor/web_config.h"

#include <crypt.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "common/strict_yaml.h"

namespace netres::monitor {

namespace {

constexpr size_t kMaxWebConfigBytes = 1 << 20;

std::string where(const StrictYaml& y, const YAML::Node& n) {
  return fmt::format("{}:{}:{}", y.file(), n.Mark().line + 1, n.Mark().column + 1);
}

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A header value must stay one header line.
bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f;
  });
}

class WebLoader {
 public:
  explicit WebLoader(const std::string& file) : y_(file) {
    auto dir = std::filesystem::path(file).parent_path();
    dir_ = dir.empty() ? std::string() : dir.string();
  }

  WebConfig load(const YAML::Node& root) {
    WebConfig c;
    c.file = y_.file();
    if (!root || root.IsNull()) return c;
    auto f =
        y_.fields(root, "the web config",
                  {"tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"});
    if (auto* n = StrictYaml::find(f, "rate_limit"))
      y_.fail(*n, "rate_limit is not supported by netres monitor");
    if (auto* n = StrictYaml::find(f, "tls_server_config"); n && !n->IsNull()) c.tls = tls(*n);
    if (auto* n = StrictYaml::find(f, "http_server_config"); n && !n->IsNull()) http(*n, c);
    if (auto* n = StrictYaml::find(f, "basic_auth_users"); n && !n->IsNull()) users(*n, c);
    return c;
  }

 private:
  std::string path(const YAML::Node& n, std::string_view what) {
    std::string p = y_.text(n, what);
    if (p.empty()) y_.fail(n, fmt::format("{} is empty", what));
    if (p[0] == '/' || dir_.empty()) return p;
    return (std::filesystem::path(dir_) / p).string();
  }

  int version(const YAML::Node& n, std::string_view what) {
    std::string v = y_.text(n, what);
    if (v == "TLS10") return 0x0301;
    if (v == "TLS11") return 0x0302;
    if (v == "TLS12") return 0x0303;
    if (v == "TLS13") return 0x0304;
    y_.fail(n, fmt::format("{} must be TLS10, TLS11, TLS12 or TLS13, got '{}'", what, v));
  }

  std::vector<Located> names(const YAML::Node& n, std::string_view what) {
    if (!n.IsSequence()) y_.fail(n, fmt::format("{} must be a list", what));
    std::vector<Located> out;
    for (const auto& item : n) out.push_back({y_.text(item, what), where(y_, item)});
    return out;
  }

  TlsServerSettings tls(const YAML::Node& n) {
    auto f = y_.fields(n, "tls_server_config",
                       {"cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type",
                        "client_ca_file", "client_allowed_sans", "min_version", "max_version",
                        "cipher_suites", "prefer_server_cipher_suites", "curve_preferences"});
    TlsServerSettings t;
    auto one_of = [&](const char* inline_key, const char* file_key, std::string& pem,
                      std::string& file) {
      auto* i = StrictYaml::find(f, inline_key);
      auto* p = StrictYaml::find(f, file_key);
      if (i && p) y_.fail(*i, fmt::format("{} and {} are exclusive", inline_key, file_key));
      if (i) pem = y_.text(*i, inline_key);
      if (p) file = path(*p, file_key);
    };
    one_of("cert", "cert_file", t.cert_pem, t.cert_file);
    one_of("key", "key_file", t.key_pem, t.key_file);
    one_of("client_ca", "client_ca_file", t.client_ca_pem, t.client_ca_file);
    if (t.cert_pem.empty() && t.cert_file.empty())
      y_.fail(n, "tls_server_config needs cert_file (or cert)");
    if (t.key_pem.empty() && t.key_file.empty())
      y_.fail(n, "tls_server_config needs key_file (or key)");
    bool has_ca = !t.client_ca_pem.empty() || !t.client_ca_file.empty();
    if (auto* a = StrictYaml::find(f, "client_auth_type")) {
      std::string v = y_.text(*a, "client_auth_type");
      if (v == "NoClientCert")
        t.client_auth = ClientAuth::kNoClientCert;
      else if (v == "RequestClientCert")
        t.client_auth = ClientAuth::kRequestClientCert;
      else if (v == "RequireAnyClientCert")
        t.client_auth = ClientAuth::kRequireAnyClientCert;
      else if (v == "VerifyClientCertIfGiven")
        t.client_auth = ClientAuth::kVerifyClientCertIfGiven;
      else if (v == "RequireAndVerifyClientCert")
        t.client_auth = ClientAuth::kRequireAndVerifyClientCert;
      else
        y_.fail(*a, fmt::format("client_auth_type must be NoClientCert, RequestClientCert, "
                                "RequireAnyClientCert, VerifyClientCertIfGiven or "
                                "RequireAndVerifyClientCert, got '{}'",
                                v));
      bool verifies = t.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                      t.client_auth == ClientAuth::kRequireAndVerifyClientCert;
      if (verifies && !has_ca)
        y_.fail(*a, fmt::format("client_auth_type {} needs client_ca_file", v));
    }
    // As exporter-toolkit: a CA with nothing that uses it is a mistake, not a no-op.
    if (has_ca && t.client_auth != ClientAuth::kVerifyClientCertIfGiven &&
        t.client_auth != ClientAuth::kRequireAndVerifyClientCert)
      y_.fail(n,
              "client_ca_file is set but client_auth_type does not verify client certificates "
              "(VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
    if (auto* s = StrictYaml::find(f, "client_allowed_sans")) {
      for (auto& l : names(*s, "client_allowed_sans")) t.client_allowed_sans.push_back(l.value);
      if (!t.client_allowed_sans.empty() && t.client_auth != ClientAuth::kRequireAnyClientCert &&
          t.client_auth != ClientAuth::kRequireAndVerifyClientCert)
        y_.fail(*s,
                "client_allowed_sans needs client_auth_type RequireAnyClientCert or "
                "RequireAndVerifyClientCert");
    }
    if (auto* v = StrictYaml::find(f, "min_version")) t.min_version = version(*v, "min_version");
    if (auto* v = StrictYaml::find(f, "max_version")) t.max_version = version(*v, "max_version");
    if (t.min_version > t.max_version) y_.fail(n, "min_version is above max_version");
    if (auto* v = StrictYaml::find(f, "cipher_suites"))
      t.cipher_suites = names(*v, "cipher_suites");
    if (auto* v = StrictYaml::find(f, "prefer_server_cipher_suites"))
      t.prefer_server_cipher_suites = y_.boolean(*v, "prefer_server_cipher_suites");
    if (auto* v = StrictYaml::find(f, "curve_preferences")) {
      t.curve_preferences = names(*v, "curve_preferences");
      for (auto& c : t.curve_preferences)
        if (c.value != "CurveP256" && c.value != "CurveP384" && c.value != "CurveP521" &&
            c.value != "X25519")
          throw UsageError(fmt::format(
              "{}: unknown curve '{}' (expected CurveP256, CurveP384, CurveP521 or X25519)",
              c.where, c.value));
    }
    return t;
  }

  void http(const YAML::Node& n, WebConfig& c) {
    auto f = y_.fields(n, "http_server_config", {"http2", "headers"});
    if (auto* v = StrictYaml::find(f, "http2")) c.http2 = y_.boolean(*v, "http2");
    auto* h = StrictYaml::find(f, "headers");
    if (!h || h->IsNull()) return;
    auto hf = y_.fields(*h, "headers",
                        {"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                         "X-XSS-Protection", "Strict-Transport-Security"});
    for (const auto& [name, node] : hf) {
      std::string value = node.IsNull() ? std::string() : y_.text(node, name);
      if (!printable(value)) y_.fail(node, fmt::format("header {}: control characters", name));
      if (value.empty()) continue;  // "unset if blank"
      if (name == "X-Frame-Options" && !ieq(value, "deny") && !ieq(value, "sameorigin"))
        y_.fail(node, fmt::format("X-Frame-Options must be deny or sameorigin, got '{}'", value));
      if (name == "X-Content-Type-Options" && !ieq(value, "nosniff"))
        y_.fail(node, fmt::format("X-Content-Type-Options must be nosniff, got '{}'", value));
      c.headers.emplace_back(name, value);
    }
  }

  void users(const YAML::Node& n, WebConfig& c) {
    if (!n.IsMap()) y_.fail(n, "basic_auth_users must be a mapping of user: bcrypt hash");
    for (const auto& kv : n) {
      std::string user = y_.text(kv.first, "a user name");
      // Basic auth splits "user:password" at the first colon: such a user could never log in.
      if (user.empty() || user.find(':') != std::string::npos || !printable(user))
        y_.fail(kv.first, fmt::format("bad user name '{}' (not empty, no ':')", user));
      if (c.users.count(user)) y_.fail(kv.first, fmt::format("duplicate user '{}'", user));
      std::string hash = y_.text(kv.second, "a password hash");
      // The value's text is never repeated: it may be a password pasted by mistake.
      if (!is_bcrypt_hash(hash))
        y_.fail(kv.second,
                fmt::format("user '{}': not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 "
                            "characters; make one with htpasswd -nBC 10 \"\")",
                            user));
      c.users.emplace(std::move(user), std::move(hash));
    }
  }

  StrictYaml y_;
  std::string dir_;
};

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with its padding, as Go's StdEncoding that exporter-toolkit's clients use.
std::optional<std::string> base64_decode(std::string_view s) {
  if (s.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + k];
      if (c == '=') {
        // Padding only in the last group's last two places, and nothing after it.
        if (i + 4 != s.size() || k < 2) return std::nullopt;
        ++pad;
        v[k] = 0;
      } else {
        if (pad) return std::nullopt;
        v[k] = base64_value(c);
        if (v[k] < 0) return std::nullopt;
      }
    }
    uint32_t word = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(word >> 16);
    if (pad < 2) out += static_cast<char>((word >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(word & 0xff);
  }
  return out;
}

bool same_bytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Checked against when the user is unknown, so that a wrong name takes a bcrypt as a wrong
// password does (the hash of a random password nobody knows; cost 10, as htpasswd's default).
const char kDummyHash[] = "$2b$10$GkIOQHgkl80BxLa5JMaoKu6ZPgg7748qJThBVVzzp3DVD3tFfRqs6";

}  // namespace

WebConfig parse_web_config(std::string_view text, const std::string& file) {
  YAML::Node root = load_yaml_text(text, file, kMaxWebConfigBytes);
  try {
    return WebLoader(file).load(root);
  } catch (const YAML::Exception& e) {
    throw_yaml_error(file, e);
  }
}

WebConfig load_web_config(const std::string& path) {
  YAML::Node root = load_yaml_file(path, "web config", kMaxWebConfigBytes);
  try {
    return WebLoader(path).load(root);
  } catch (const YAML::Exception& e) {
    throw_yaml_error(path, e);
  }
}

bool is_bcrypt_hash(std::string_view s) {
  if (s.size() != 60 || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$') return false;
  if (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') return false;
  if (!std::isdigit(static_cast<unsigned char>(s[4])) ||
      !std::isdigit(static_cast<unsigned char>(s[5])))
    return false;
  int cost = (s[4] - '0') * 10 + (s[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(s.begin() + 7, s.end(), [](char c) {
    return c == '.' || c == '/' || std::isalnum(static_cast<unsigned char>(c));
  });
}

std::optional<BasicCredentials> parse_basic_authorization(std::string_view header) {
  // RFC 7617: the scheme is case-insensitive; one space (Go accepts exactly "Basic ").
  if (header.size() < 6 || !ieq(header.substr(0, 6), "basic ")) return std::nullopt;
  auto decoded = base64_decode(header.substr(6));
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

bool bcrypt_matches(std::string_view password, const std::string& hash) {
  if (!is_bcrypt_hash(hash)) return false;
  // crypt_rn wants a C string: a NUL inside the password would cut it short, so refuse it.
  if (password.find('\0') != std::string_view::npos) return false;
  std::string phrase(password);
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  bool ok = out != nullptr && out[0] != '*' && same_bytes(out, hash);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  OPENSSL_cleanse(phrase.data(), phrase.size());
  return ok;
}

bool BasicAuth::allows(std::string_view authorization) const {
  auto cred = parse_basic_authorization(authorization);
  if (!cred) return false;
  // Every name is compared, in constant time each, so the loop does not stop at a match.
  const std::string* hash = nullptr;
  for (const auto& [user, h] : users_)
    if (same_bytes(user, cred->user)) hash = &h;
  std::string checked = hash ? *hash : std::string(kDummyHash);

  // The cache key: SHA-256 over the three parts, each prefixed by its length.
  std::string material;
  for (std::string_view part : {std::string_view(cred->user), std::string_view(checked),
                                std::string_view(cred->password)}) {
    uint64_t n = part.size();
    material.append(reinterpret_cast<const char*>(&n), sizeof n);
    material.append(part);
  }
  std::string key(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(),
         reinterpret_cast<unsigned char*>(key.data()));
  OPENSSL_cleanse(material.data(), material.size());
  std::optional<bool> cached;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) cached = it->second;
  }
  bool ok = cached ? *cached : bcrypt_matches(cred->password, checked) && hash != nullptr;
  OPENSSL_cleanse(cred->password.data(), cred->password.size());
  if (cached) return ok;
  std::lock_guard lock(mu_);
  ++bcrypt_calls_;
  // Bounded: a client trying many passwords empties it rather than growing it.
  if (cache_.size() >= 1024) cache_.clear();
  cache_[key] = ok;
  return ok;
}

}  // namespace netres::monitor
