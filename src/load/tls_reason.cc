// Certificate verification results (X509_V_ERR_*) grouped into the few causes people meet.
#include "load/tls_reason.h"

#include <fmt/format.h>
#include <openssl/x509.h>

namespace netres::load {

std::string describe_tls_failure(SSL* ssl, const std::string& host, const std::string& generic) {
  if (!ssl) return generic;
  long code = SSL_get_verify_result(ssl);
  if (code == X509_V_OK) return generic;
  // asio's text carries OpenSSL's library name ("... (SSL routines)"): say it plainly instead.
  const std::string failed = "tls: certificate verify failed";
  constexpr const char* kSkip = "--insecure skips the check";
  constexpr const char* kTrust = "SSL_CERT_FILE=FILE.pem trusts a certificate or CA";
  switch (code) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return fmt::format("{}: self-signed certificate ({}; {})", failed, kSkip, kTrust);
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return fmt::format("{}: name mismatch, the certificate is not for {} ({})", failed, host,
                         kSkip);
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return fmt::format("{}: certificate expired ({})", failed, kSkip);
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return fmt::format("{}: certificate not yet valid ({})", failed, kSkip);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return fmt::format("{}: issuer not trusted ({}; {})", failed, kSkip, kTrust);
    default:
      return fmt::format("{}: {} ({})", failed, X509_verify_cert_error_string(code), kSkip);
  }
}

}  // namespace netres::load
