// Why a TLS handshake failed, in words a user can act on: which certificate check failed
// (self-signed, name mismatch, expired, unknown issuer) and the way around it.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace netres::load {

// `generic` is the reason asio gave ("tls: certificate verify failed"); when the handshake
// failed on certificate verification, returns it with the cause and a hint appended.
std::string describe_tls_failure(SSL* ssl, const std::string& host, const std::string& generic);

}  // namespace netres::load
