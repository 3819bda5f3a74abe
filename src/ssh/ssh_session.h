// One SSH connection to one host (libssh, RAII): ssh config, host key policy, authentication,
// exec channels with streaming and timeouts, and PTY shells for network devices.
#pragma once

#include <libssh/libssh.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "ssh/host_status.h"
#include "ssh/inventory.h"

namespace netres::ssh {

struct ConnectOptions {
  std::string config_file;    // -F; empty: ~/.ssh/config (and /etc/ssh/ssh_config), as OpenSSH
  std::string known_hosts;    // empty: ~/.ssh/known_hosts
  bool accept_new = false;    // StrictHostKeyChecking=accept-new
  std::string user;           // default user when neither inventory nor ssh config names one
  std::string identity_file;  // --key; tried before the agent and default keys
  std::string password;       // from NETRES_SSH_PASSWORD or --ask-pass; never from argv
  std::string passphrase;     // for encrypted keys: NETRES_SSH_PASSPHRASE or a prompt
  Nanos connect_timeout = std::chrono::seconds(10);
  Nanos keepalive = std::chrono::seconds(15);  // 0: off
};

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
  void verify_host_key();
  void authenticate();

  Host host_;
  const ConnectOptions& options_;
  ssh_session s_;
  std::chrono::steady_clock::time_point last_keepalive_;
};

// Appends one known_hosts line under an exclusive lock (OpenSSH and other netres runs may be
// writing the same file), creating the file 0600 and its directory 0700 when missing.
void append_known_hosts_line(const std::string& path, const std::string& line);

// Default ~/.ssh/known_hosts, from $HOME.
std::string default_known_hosts();

}  // namespace netres::ssh
