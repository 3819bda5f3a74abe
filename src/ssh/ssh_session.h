// One SSH connection to one host (libssh, RAII): ssh config, host key policy, authentication,
// exec channels with streaming and timeouts, and PTY shells for network devices.
#pragma once

#include <libssh/libssh.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "ssh/host_status.h"
#include "ssh/inventory.h"
#include "ssh/ssh_config.h"

namespace netres::ssh {

// What the command line says. Precedence, as OpenSSH's: these flags, then the inventory, then
// the ssh config (first value wins), then defaults.
struct ConnectOptions {
  std::string config_file;  // -F; empty: ~/.ssh/config (and /etc/ssh/ssh_config), as OpenSSH
  // The parsed config, loaded (and checked) once by the CLI; null: loaded at connect().
  std::shared_ptr<const SshConfig> config;
  std::string known_hosts;       // --known-hosts: replaces UserKnownHostsFile
  bool accept_new = false;       // --accept-new: StrictHostKeyChecking=accept-new
  std::string strict_host_keys;  // --strict-host-keys yes|accept-new|no; empty: the config's
  std::string user;              // -u: overrides the inventory's and the config's User
  std::string identity_file;     // --key; tried before the inventory's and the config's keys
  std::string password;          // from NETRES_SSH_PASSWORD or --ask-pass; never from argv
  std::string passphrase;        // for encrypted keys: NETRES_SSH_PASSPHRASE or a prompt
  std::string jump;              // --jump HOST[,HOST...]: replaces the config's ProxyJump
  Nanos connect_timeout = std::chrono::seconds(10);
  bool connect_timeout_set = false;            // given on the command line: beats ConnectTimeout
  Nanos keepalive = std::chrono::seconds(15);  // 0: off
  bool keepalive_set = false;                  // beats ServerAliveInterval
};

// libssh's own log: silent by default; -v (1) protocol, -vv (2) packets, -vvv (3) functions,
// each message one line on stderr, "netres: libssh: HOST: ...". Call once, before threads start.
void set_libssh_verbosity(int verbosity);

// A per-host failure: carries the status it maps to. Caught by the fan-out, never by main.
class HostFailure : public std::runtime_error {
 public:
  HostFailure(HostStatus status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  HostStatus status() const { return status_; }

 private:
  HostStatus status_;
};

enum class Stream { kStdout, kStderr };
using OutputSink = std::function<void(Stream, std::string_view)>;

struct ExecResult {
  std::optional<int> exit_code;  // none when the command died by a signal or the link dropped
  std::string exit_signal;       // the signal name the server reported ("KILL"), if any
  bool core_dumped = false;
};

// RAII for ssh_channel.
class Channel {
 public:
  explicit Channel(ssh_channel c = nullptr) : c_(c) {}
  Channel(Channel&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
  Channel& operator=(Channel&& o) noexcept;
  ~Channel();
  ssh_channel get() const { return c_; }

 private:
  ssh_channel c_;
};

class JumpChain;  // ssh_handshake.h

class SshSession {
 public:
  SshSession(const Host& host, const ConnectOptions& options);
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  // Connects, verifies the host key, authenticates. Throws HostFailure.
  void connect();
  // Runs `command` on an exec channel; output goes to `sink` as it arrives. Throws HostFailure
  // (timeout, connection lost) after delivering what arrived.
  ExecResult exec(const std::string& command, Nanos timeout, const OutputSink& sink);
  // Opens a PTY shell (for devices without a usable exec channel).
  Channel open_shell(int columns, int rows);
  // Sends a keepalive if one is due; call from loops that wait on the peer.
  void keepalive_tick();

  ssh_session raw() const { return s_; }
  const Host& host() const { return host_; }
  std::string error() const;

 private:
  Host host_;
  const ConnectOptions& options_;
  ssh_session s_;
  Nanos keepalive_ = Nanos(0);
  std::chrono::steady_clock::time_point last_keepalive_;
  // ProxyJump hops (null: direct). Torn down after s_.
  std::unique_ptr<JumpChain> jumps_;
};

// Default ~/.ssh/known_hosts, from $HOME.
std::string default_known_hosts();

}  // namespace netres::ssh
