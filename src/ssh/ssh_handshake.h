// One libssh session's handshake: connect (directly, through a ProxyCommand or over a jump
// host's socket), check the server's host key against known_hosts, authenticate in OpenSSH's
// order. Used by SshSession for the target and for every jump host.
#pragma once

#include <libssh/libssh.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ssh/known_hosts.h"
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

// ProxyJump hops to one endpoint, first one connected directly: each hop's session is
// established (host key checked, authenticated) and carries the next over a direct-tcpip
// channel bridged to a socketpair by its own thread. Used by SshSession and by netres monitor's
// ssh check (which only needs a transport to the target). Torn down last hop first.
class JumpChain {
 public:
  JumpChain();
  ~JumpChain();
  JumpChain(const JumpChain&) = delete;
  JumpChain& operator=(const JumpChain&) = delete;
  // Establishes `hops` in order and opens a channel from the last one to host:port; returns
  // the socket the target's session runs over (the caller's to hand to libssh or close), -1
  // when `hops` is empty. With `deadline`, each hop's timeout is cut to what is left of it.
  // Throws HostFailure, its message starting "jump host LABEL: " (a host key failure is a
  // HostKeyFailure).
  int open(const std::vector<Endpoint>& hops, const std::string& host, int port,
           const ConnectOptions& options,
           std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

 private:
  struct Hop;
  std::vector<std::unique_ptr<Hop>> hops_;
};

// A host key that failed known_hosts (changed, another type, revoked, unknown): which of these,
// for callers that report them apart (netres monitor's reasons).
class HostKeyFailure : public HostFailure {
 public:
  HostKeyFailure(KnownHostsCheck::Kind kind, const std::string& message)
      : HostFailure(HostStatus::kHostKey, message), kind_(kind) {}
  KnownHostsCheck::Kind kind() const { return kind_; }

 private:
  KnownHostsCheck::Kind kind_;
};

// The host key a connected session's server presented: its type ("ssh-ed25519"), the blob in
// base64 and the SHA256 fingerprint as ssh-keygen -l prints it ("SHA256:..."). False, with
// `error` set, when the server sent none or it cannot be read.
struct ServerHostKey {
  std::string type, base64, fingerprint, error;
};
bool server_host_key(ssh_session s, ServerHostKey& out);

// SSH_OPTIONS_HOSTKEYS for a host whose known_hosts entries have these key types: those types
// first, as OpenSSH does, so a server with several keys presents the one we can verify; empty
// (libssh's default order) when nothing is known.
std::string preferred_host_key_algorithms(const std::vector<std::string>& known_types);

// Whether a private key file is passphrase-protected (OpenSSH format: cipher not "none"; PEM:
// "ENCRYPTED"), to say so when it cannot be read.
bool key_file_encrypted(const std::string& path);
// libssh's SSH_AUTH_METHOD_* bits as "publickey, password" (or "none"), for auth errors.
std::string methods_text(int methods);

}  // namespace netres::ssh
