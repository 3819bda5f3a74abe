// TLS and basic auth for the monitor's endpoint. cpp-httplib's SSLServer owns one SSL_CTX for
// its life; to let a reload change the certificate, client CAs, client_auth_type and versions
// without a restart, that context only carries a client-hello callback, which applies the
// current config to each new connection's SSL before the version and certificate are chosen.
#include "monitor/web_endpoint.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace netres::monitor {

struct TlsMaterial {
  X509* cert = nullptr;
  STACK_OF(X509) * chain = nullptr;  // the certificates after the first in cert_file
  EVP_PKEY* key = nullptr;
  X509_STORE* client_store = nullptr;
  STACK_OF(X509_NAME) * client_names = nullptr;
  int verify_mode = SSL_VERIFY_NONE;
  bool verify_chain = false;  // false: a client certificate is asked for but taken as it is
  int min_version = TLS1_2_VERSION, max_version = TLS1_3_VERSION;
  std::string cipher_list;  // OpenSSL names, TLS 1.2 and below; empty: OpenSSL's default
  bool prefer_server = true;
  std::string groups;  // empty: OpenSSL's default
  std::vector<std::string> allowed_sans;

  TlsMaterial() = default;
  TlsMaterial(const TlsMaterial&) = delete;
  TlsMaterial& operator=(const TlsMaterial&) = delete;
  ~TlsMaterial() {
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(client_store);
    sk_X509_NAME_pop_free(client_names, X509_NAME_free);
  }
};

struct WebEndpoint::State {
  WebConfig config;
  std::shared_ptr<const TlsMaterial> tls;
  std::unique_ptr<BasicAuth> auth;
};

namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  // "error:0480006C:PEM routines::no start line" -> "PEM routines::no start line"
  std::string s = buf;
  size_t colon = s.find(':', s.find(':') + 1);
  return colon == std::string::npos ? s : s.substr(colon + 1);
}

// The PEM text of `file` (read here, so that a missing file says so plainly) or `pem` inline.
std::string pem_text(const std::string& config, const std::string& file, const std::string& pem,
                     std::string_view what) {
  if (file.empty()) return pem;
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw UsageError(
        fmt::format("{}: cannot read {} {}: {}", config, what, file, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string source(const std::string& file, std::string_view what) {
  return file.empty() ? fmt::format("inline {}", what) : fmt::format("{} {}", what, file);
}

struct Bio {
  BIO* b;
  explicit Bio(const std::string& s) : b(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))) {}
  ~Bio() { BIO_free(b); }
};

// Every certificate in a PEM text, in order; throws when there is none.
STACK_OF(X509) *
    read_certs(const std::string& text, const std::string& config, const std::string& what) {
  Bio bio(text);
  STACK_OF(X509)* out = sk_X509_new_null();
  while (X509* x = PEM_read_bio_X509(bio.b, nullptr, nullptr, nullptr)) sk_X509_push(out, x);
  ERR_clear_error();  // the read that ended the loop
  if (sk_X509_num(out) == 0) {
    sk_X509_free(out);
    throw UsageError(fmt::format("{}: {}: no PEM certificate in it", config, what));
  }
  return out;
}

// Go's names of TLS 1.2 suites are the IANA ones, which OpenSSL knows as standard names.
std::string openssl_cipher_list(const std::vector<Located>& suites) {
  if (suites.empty()) return {};
  SSL_CTX* all = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_security_level(all, 0);
  SSL_CTX_set_cipher_list(all, "ALL:COMPLEMENTOFALL");
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(all);
  std::string list;
  for (const auto& s : suites) {
    const SSL_CIPHER* found = nullptr;
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
      if (s.value == SSL_CIPHER_standard_name(c)) found = c;
    }
    // TLS 1.3's suites are not configurable, in Go as here: accepted and left to the default.
    bool tls13 = s.value == "TLS_AES_128_GCM_SHA256" || s.value == "TLS_AES_256_GCM_SHA384" ||
                 s.value == "TLS_CHACHA20_POLY1305_SHA256";
    if (!found && !tls13) {
      SSL_CTX_free(all);
      throw UsageError(
          fmt::format("{}: unknown cipher suite '{}' (IANA names, as "
                      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)",
                      s.where, s.value));
    }
    if (found && std::string_view(SSL_CIPHER_get_version(found)) != "TLSv1.3")
      list += (list.empty() ? "" : ":") + std::string(SSL_CIPHER_get_name(found));
  }
  SSL_CTX_free(all);
  // Only TLS 1.3 names: nothing to restrict for TLS 1.2 and below.
  return list;
}

std::shared_ptr<const TlsMaterial> load_tls(const TlsServerSettings& t, const std::string& config) {
  auto m = std::make_shared<TlsMaterial>();
  std::string cert_what = source(t.cert_file, "cert");
  STACK_OF(X509)* certs =
      read_certs(pem_text(config, t.cert_file, t.cert_pem, "cert_file"), config, cert_what);
  m->cert = sk_X509_shift(certs);
  m->chain = certs;
  {
    std::string text = pem_text(config, t.key_file, t.key_pem, "key_file");
    Bio bio(text);
    m->key = PEM_read_bio_PrivateKey(bio.b, nullptr, nullptr, nullptr);
    OPENSSL_cleanse(text.data(), text.size());
    if (!m->key)
      throw UsageError(fmt::format("{}: {}: not a PEM private key (or an encrypted one): {}",
                                   config, source(t.key_file, "key"), openssl_error()));
  }
  if (X509_check_private_key(m->cert, m->key) != 1) {
    ERR_clear_error();
    throw UsageError(
        fmt::format("{}: {} does not match {}", config, source(t.key_file, "key"), cert_what));
  }
  switch (t.client_auth) {
    case ClientAuth::kNoClientCert:
      break;
    case ClientAuth::kRequestClientCert:
      m->verify_mode = SSL_VERIFY_PEER;
      break;
    case ClientAuth::kRequireAnyClientCert:
      m->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      m->verify_mode = SSL_VERIFY_PEER;
      m->verify_chain = true;
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      m->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      m->verify_chain = true;
      break;
  }
  if (!t.client_ca_file.empty() || !t.client_ca_pem.empty()) {
    std::string what = source(t.client_ca_file, "client_ca");
    STACK_OF(X509)* cas = read_certs(
        pem_text(config, t.client_ca_file, t.client_ca_pem, "client_ca_file"), config, what);
    m->client_store = X509_STORE_new();
    m->client_names = sk_X509_NAME_new_null();
    for (int i = 0; i < sk_X509_num(cas); ++i) {
      X509* ca = sk_X509_value(cas, i);
      X509_STORE_add_cert(m->client_store, ca);
      sk_X509_NAME_push(m->client_names, X509_NAME_dup(X509_get_subject_name(ca)));
    }
    sk_X509_pop_free(cas, X509_free);
  }
  m->min_version = t.min_version;
  m->max_version = t.max_version;
  m->cipher_list = openssl_cipher_list(t.cipher_suites);
  m->prefer_server = t.prefer_server_cipher_suites;
  for (const auto& c : t.curve_preferences) {
    std::string name = c.value == "CurveP256"   ? "P-256"
                       : c.value == "CurveP384" ? "P-384"
                       : c.value == "CurveP521" ? "P-521"
                                                : "X25519";
    m->groups += (m->groups.empty() ? "" : ":") + name;
  }
  m->allowed_sans = t.client_allowed_sans;

  // Everything once on a scratch SSL, so that a setting OpenSSL refuses fails the load (exit 2
  // at start, the old config kept on reload) instead of every handshake.
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL* ssl = SSL_new(ctx);
  std::string problem;
  if (SSL_use_certificate(ssl, m->cert) != 1 || SSL_use_PrivateKey(ssl, m->key) != 1)
    problem = fmt::format("{} cannot be used: {}", cert_what, openssl_error());
  else if (!m->cipher_list.empty() && SSL_set_cipher_list(ssl, m->cipher_list.c_str()) != 1)
    problem = fmt::format("cipher_suites cannot be used: {}", openssl_error());
  else if (!m->groups.empty() && SSL_set1_groups_list(ssl, m->groups.c_str()) != 1)
    problem = fmt::format("curve_preferences cannot be used: {}", openssl_error());
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  if (!problem.empty()) throw UsageError(fmt::format("{}: {}", config, problem));
  return m;
}

// Go's check of client_allowed_sans: a DNS name, IP address, e-mail or URI of the client's
// certificate equal to one of the list.
bool san_allowed(X509* cert, const std::vector<std::string>& allowed) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return false;
  bool ok = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !ok; ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    std::string value;
    if (g->type == GEN_DNS || g->type == GEN_EMAIL || g->type == GEN_URI) {
      const ASN1_STRING* s = g->d.ia5;
      value.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    } else if (g->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = g->d.ip;
      char buf[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(s);
      if (len == 4 || len == 16)
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf);
      value = buf;
    }
    ok = !value.empty() && std::find(allowed.begin(), allowed.end(), value) != allowed.end();
  }
  GENERAL_NAMES_free(names);
  return ok;
}

// The config a connection was set up with, kept on its SSL (a shared_ptr on the heap, freed with
// the SSL) for the verify callback below: a reload during a handshake does not change it.
void free_material(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::shared_ptr<const TlsMaterial>*>(ptr);
}
int material_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_material);
  return index;
}

// Client certificates: the chain verified when client_auth_type says so (else any certificate
// is taken, as Go's RequestClientCert / RequireAnyClientCert), then the leaf's SANs against
// client_allowed_sans, so that a certificate without one ends the handshake, as in Go.
int verify_client(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* m =
      ssl ? static_cast<std::shared_ptr<const TlsMaterial>*>(SSL_get_ex_data(ssl, material_index()))
          : nullptr;
  if (!m) return 0;
  if ((*m)->verify_chain && !preverify_ok) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0 || (*m)->allowed_sans.empty()) return 1;
  if (san_allowed(X509_STORE_CTX_get_current_cert(store), (*m)->allowed_sans)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

// The current config's TLS settings onto one new connection (before the server picks the
// version, the cipher and its certificate).
int apply_tls(SSL* ssl, const std::shared_ptr<const TlsMaterial>& material) {
  const TlsMaterial& m = *material;
  if (SSL_use_certificate(ssl, m.cert) != 1 || SSL_use_PrivateKey(ssl, m.key) != 1) return 0;
  if (m.chain && SSL_set1_chain(ssl, m.chain) != 1) return 0;
  // The callback may run twice on one SSL (after a HelloRetryRequest): replace, do not leak.
  auto* old =
      static_cast<std::shared_ptr<const TlsMaterial>*>(SSL_get_ex_data(ssl, material_index()));
  auto* fresh = new std::shared_ptr<const TlsMaterial>(material);
  if (SSL_set_ex_data(ssl, material_index(), fresh) != 1) {
    delete fresh;
    return 0;
  }
  delete old;
  SSL_set_verify(ssl, m.verify_mode, verify_client);
  if (m.client_store && SSL_set1_verify_cert_store(ssl, m.client_store) != 1) return 0;
  if (m.client_names) SSL_set_client_CA_list(ssl, SSL_dup_CA_list(m.client_names));
  if (SSL_set_min_proto_version(ssl, m.min_version) != 1 ||
      SSL_set_max_proto_version(ssl, m.max_version) != 1)
    return 0;
  if (!m.cipher_list.empty() && SSL_set_cipher_list(ssl, m.cipher_list.c_str()) != 1) return 0;
  if (!m.groups.empty() && SSL_set1_groups_list(ssl, m.groups.c_str()) != 1) return 0;
  if (m.prefer_server)
    SSL_set_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
  else
    SSL_clear_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
  return 1;
}

}  // namespace

WebEndpoint::WebEndpoint(std::string path) : path_(std::move(path)) {
  state_ = load();
  tls_ = state_->tls != nullptr;
}

WebEndpoint::~WebEndpoint() = default;

std::shared_ptr<const WebEndpoint::State> WebEndpoint::load() const {
  auto s = std::make_shared<State>();
  if (!path_.empty()) s->config = load_web_config(path_);
  if (s->config.tls) s->tls = load_tls(*s->config.tls, path_);
  s->auth = std::make_unique<BasicAuth>(s->config.users);
  return s;
}

std::shared_ptr<const WebEndpoint::State> WebEndpoint::current() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::function<void()> WebEndpoint::prepare_reload() {
  if (path_.empty()) return [] {};
  auto next = load();
  if ((next->tls != nullptr) != tls_)
    throw UsageError(fmt::format("{}: tls_server_config {} (turning TLS {} needs a restart)", path_,
                                 tls_ ? "removed" : "added", tls_ ? "off" : "on"));
  return [this, next] {
    std::lock_guard lock(mu_);
    state_ = next;
  };
}

std::unique_ptr<httplib::Server> WebEndpoint::make_server() {
  if (!tls_) return std::make_unique<httplib::Server>();
  auto server = std::make_unique<httplib::SSLServer>([this](SSL_CTX& ctx) {
    // No session resumption: a resumed session would skip the client certificate check of a
    // config loaded since.
    SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(&ctx, 0);
    SSL_CTX_set_client_hello_cb(
        &ctx,
        [](SSL* ssl, int* alert, void* arg) -> int {
          auto state = static_cast<WebEndpoint*>(arg)->current();
          if (state->tls && apply_tls(ssl, state->tls)) return SSL_CLIENT_HELLO_SUCCESS;
          *alert = SSL_AD_INTERNAL_ERROR;
          return SSL_CLIENT_HELLO_ERROR;
        },
        this);
    return true;
  });
  if (!server->is_valid()) throw RuntimeError("cannot set up TLS: " + openssl_error());
  return server;
}

bool WebEndpoint::admit(const httplib::Request& req, httplib::Response& res) const {
  auto state = current();
  if (state->tls && !state->tls->allowed_sans.empty()) {
    X509* peer = req.ssl ? SSL_get1_peer_certificate(req.ssl) : nullptr;
    bool ok = peer && san_allowed(peer, state->tls->allowed_sans);
    X509_free(peer);
    if (!ok) {
      res.status = 403;
      res.set_content("client certificate has none of the allowed SANs\n", "text/plain");
      return false;
    }
  }
  if (!state->auth->enabled()) return true;
  if (state->auth->allows(req.get_header_value("Authorization"))) return true;
  res.status = 401;
  res.set_header("WWW-Authenticate", "Basic realm=\"netres monitor\", charset=\"UTF-8\"");
  res.set_content("Unauthorized\n", "text/plain");
  return false;
}

void WebEndpoint::add_headers(httplib::Response& res) const {
  auto state = current();
  for (const auto& [name, value] : state->config.headers) res.set_header(name, value);
}

}  // namespace netres::monitor
