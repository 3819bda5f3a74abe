// One libssh session's handshake: connect (directly, through a ProxyCommand or over a jump
// host's socket), check the server's host key against known_hosts, authenticate in OpenSSH's
// order. Used by SshSession for the target and for every jump host.
#pragma once

#include <libssh/libssh.h>

#include <string>

#include "ssh/ssh_endpoint.h"
#include "ssh/ssh_session.h"

namespace netres::ssh {

// libssh's last error for `s`, or "connection failed".
std::string session_error(ssh_session s);

// Connects `s` to `ep` (over `fd` when >= 0), verifies the host key and authenticates.
// `prefix` names a jump host in every error; `log_level` is libssh's (SSH_LOG_*). Throws
// HostFailure (unreachable, hostkey, auth-failed).
void establish(ssh_session s, const Endpoint& ep, const ConnectOptions& o, int fd,
               const std::string& prefix, int log_level);

// Whether a private key file is passphrase-protected (OpenSSH format: cipher not "none"; PEM:
// "ENCRYPTED"), to say so when it cannot be read.
bool key_file_encrypted(const std::string& path);
// libssh's SSH_AUTH_METHOD_* bits as "publickey, password" (or "none"), for auth errors.
std::string methods_text(int methods);

}  // namespace netres::ssh
