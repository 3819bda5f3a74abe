// SshSession: libssh connection setup in OpenSSH's order (host, then ssh config, then explicit
// overrides), strict host key checking, and an exec loop bounded by a deadline.
#include "ssh/ssh_session.h"

// ssh_send_keepalive (keepalive@openssh.com) is declared with the server API but serves clients.
#include <fcntl.h>
#include <fmt/format.h>
#include <libssh/server.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "common/error.h"

namespace netres::ssh {
namespace {

using Clock = std::chrono::steady_clock;

std::string fingerprint_of(ssh_session s, std::string* type_out) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(s, &key) != SSH_OK) return "(no key)";
  unsigned char* hash = nullptr;
  size_t len = 0;
  std::string out = "(unknown)";
  if (type_out) *type_out = ssh_key_type_to_char(ssh_key_type(key));
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) == 0) {
    char* fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
    if (fp) {
      out = fp;
      ssh_string_free_char(fp);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  ssh_key_free(key);
  return out;
}

}  // namespace

Channel& Channel::operator=(Channel&& o) noexcept {
  if (this != &o) {
    this->~Channel();
    c_ = o.c_;
    o.c_ = nullptr;
  }
  return *this;
}

Channel::~Channel() {
  if (!c_) return;
  if (ssh_channel_is_open(c_)) ssh_channel_close(c_);
  ssh_channel_free(c_);
  c_ = nullptr;
}

std::string default_known_hosts() {
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.ssh/known_hosts";
}

void append_known_hosts_line(const std::string& path, const std::string& line) {
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw HostFailure(HostStatus::kHostKey,
                        fmt::format("cannot create {}: {}", dir, std::strerror(errno)));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    throw HostFailure(HostStatus::kHostKey,
                      fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  // One write() per line under flock: concurrent appenders never interleave partial lines.
  ::flock(fd, LOCK_EX);
  std::string text = line.ends_with('\n') ? line : line + "\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  ::fsync(fd);
  ::flock(fd, LOCK_UN);
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    throw HostFailure(HostStatus::kHostKey, fmt::format("short write to {}", path));
}

SshSession::SshSession(const Host& host, const ConnectOptions& options)
    : host_(host), options_(options), s_(ssh_new()) {
  if (!s_) throw RuntimeError("libssh: cannot allocate a session");
}

SshSession::~SshSession() {
  if (ssh_is_connected(s_)) ssh_disconnect(s_);
  ssh_free(s_);
}

std::string SshSession::error() const { return ssh_get_error(s_); }

void SshSession::connect() {
  // OpenSSH order: the name as given selects the Host block, the config fills in what is not
  // set explicitly, and explicit inventory values override the config afterwards.
  std::string target = host_.address.empty() ? host_.name : host_.address;
  ssh_options_set(s_, SSH_OPTIONS_HOST, target.c_str());
  int no_log = SSH_LOG_NOLOG;
  ssh_options_set(s_, SSH_OPTIONS_LOG_VERBOSITY, &no_log);
  const char* cfg = options_.config_file.empty() ? nullptr : options_.config_file.c_str();
  if (ssh_options_parse_config(s_, cfg) < 0)
    throw HostFailure(HostStatus::kFailed, "ssh config: " + error());
  if (host_.port) {
    unsigned p = host_.port;
    ssh_options_set(s_, SSH_OPTIONS_PORT, &p);
  }
  if (!host_.user.empty())
    ssh_options_set(s_, SSH_OPTIONS_USER, host_.user.c_str());
  else if (!options_.user.empty()) {
    char* from_config = nullptr;
    // The config's User wins over the --user default, as `ssh -l` would not, but a default is a
    // default: only fill the gap.
    if (ssh_options_get(s_, SSH_OPTIONS_USER, &from_config) != SSH_OK || !from_config)
      ssh_options_set(s_, SSH_OPTIONS_USER, options_.user.c_str());
    if (from_config) ssh_string_free_char(from_config);
  }
  std::string kh = options_.known_hosts.empty() ? default_known_hosts() : options_.known_hosts;
  ssh_options_set(s_, SSH_OPTIONS_KNOWNHOSTS, kh.c_str());
  long secs = std::chrono::duration_cast<std::chrono::seconds>(options_.connect_timeout).count();
  long usecs =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.connect_timeout).count() %
      1000000;
  ssh_options_set(s_, SSH_OPTIONS_TIMEOUT, &secs);
  ssh_options_set(s_, SSH_OPTIONS_TIMEOUT_USEC, &usecs);

  if (ssh_connect(s_) != SSH_OK) {
    std::string e = error();
    throw HostFailure(HostStatus::kUnreachable, e.empty() ? "cannot connect" : e);
  }
  last_keepalive_ = Clock::now();
  verify_host_key();
  authenticate();
}

void SshSession::verify_host_key() {
  std::string type;
  std::string fp = fingerprint_of(s_, &type);
  std::string kh = options_.known_hosts.empty() ? default_known_hosts() : options_.known_hosts;
  switch (ssh_session_is_known_server(s_)) {
    case SSH_KNOWN_HOSTS_OK:
      return;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
      throw HostFailure(
          HostStatus::kHostKey,
          fmt::format("HOST KEY CHANGED: the server now offers {} key {}, which does not match {}; "
                      "someone may be intercepting the connection. Refused. If the change is "
                      "expected, remove the old entry (ssh-keygen -R HOST -f {})",
                      type, fp, kh, kh));
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND: {
      if (!options_.accept_new)
        throw HostFailure(HostStatus::kHostKey,
                          fmt::format("unknown host key {} {}; not in {}. Verify it, then accept "
                                      "it with --accept-new",
                                      type, fp, kh));
      char* entry = nullptr;
      if (ssh_session_export_known_hosts_entry(s_, &entry) != SSH_OK || !entry)
        throw HostFailure(HostStatus::kHostKey, "cannot format the known_hosts entry: " + error());
      std::unique_ptr<char, void (*)(char*)> guard(entry, ssh_string_free_char);
      append_known_hosts_line(kh, entry);
      return;
    }
    case SSH_KNOWN_HOSTS_ERROR:
    default:
      throw HostFailure(HostStatus::kHostKey, "cannot check the host key: " + error());
  }
}

void SshSession::authenticate() {
  int rc = ssh_userauth_none(s_, nullptr);
  if (rc == SSH_AUTH_SUCCESS) return;
  if (rc == SSH_AUTH_ERROR) throw HostFailure(HostStatus::kUnreachable, error());
  int methods = ssh_userauth_list(s_, nullptr);
  const char* passphrase = options_.passphrase.empty() ? nullptr : options_.passphrase.c_str();
  std::string key_file = !host_.key_file.empty() ? host_.key_file : options_.identity_file;
  if ((methods & SSH_AUTH_METHOD_PUBLICKEY) && !key_file.empty()) {
    ssh_key key = nullptr;
    if (ssh_pki_import_privkey_file(key_file.c_str(), passphrase, nullptr, nullptr, &key) ==
        SSH_OK) {
      rc = ssh_userauth_publickey(s_, nullptr, key);
      ssh_key_free(key);
      if (rc == SSH_AUTH_SUCCESS) return;
      if (rc == SSH_AUTH_ERROR) throw HostFailure(HostStatus::kUnreachable, error());
    }
  }
  if (methods & SSH_AUTH_METHOD_PUBLICKEY) {
    // The agent ($SSH_AUTH_SOCK), then IdentityFile entries and the default key files.
    rc = ssh_userauth_publickey_auto(s_, nullptr, passphrase);
    if (rc == SSH_AUTH_SUCCESS) return;
    if (rc == SSH_AUTH_ERROR) throw HostFailure(HostStatus::kUnreachable, error());
  }
  if ((methods & SSH_AUTH_METHOD_PASSWORD) && !options_.password.empty()) {
    rc = ssh_userauth_password(s_, nullptr, options_.password.c_str());
    if (rc == SSH_AUTH_SUCCESS) return;
    if (rc == SSH_AUTH_ERROR) throw HostFailure(HostStatus::kUnreachable, error());
  }
  char* user = nullptr;
  ssh_options_get(s_, SSH_OPTIONS_USER, &user);
  std::string u = user ? user : "?";
  if (user) ssh_string_free_char(user);
  throw HostFailure(HostStatus::kAuthFailed,
                    fmt::format("authentication failed for user '{}' (tried:{}{}{})", u,
                                key_file.empty() ? "" : " key file,",
                                (methods & SSH_AUTH_METHOD_PUBLICKEY) ? " agent/default keys" : "",
                                options_.password.empty() ? "" : ", password"));
}

void SshSession::keepalive_tick() {
  if (options_.keepalive <= Nanos(0)) return;
  auto now = Clock::now();
  if (now - last_keepalive_ >= options_.keepalive) {
    ssh_send_keepalive(s_);
    last_keepalive_ = now;
  }
}

ExecResult SshSession::exec(const std::string& command, Nanos timeout, const OutputSink& sink) {
  Channel ch(ssh_channel_new(s_));
  if (!ch.get()) throw HostFailure(HostStatus::kFailed, "cannot open a channel: " + error());
  if (ssh_channel_open_session(ch.get()) != SSH_OK)
    throw HostFailure(HostStatus::kFailed, "cannot open a session channel: " + error());
  if (ssh_channel_request_exec(ch.get(), command.c_str()) != SSH_OK)
    throw HostFailure(HostStatus::kFailed, "exec request refused: " + error());

  auto deadline = timeout > Nanos(0) ? Clock::now() + timeout : Clock::time_point::max();
  char buf[16384];
  auto drain = [&]() -> bool {
    bool got = false;
    for (int is_err = 0; is_err < 2; ++is_err) {
      for (int i = 0; i < 1024; ++i) {
        int n = ssh_channel_read_nonblocking(ch.get(), buf, sizeof buf, is_err);
        if (n <= 0) break;
        got = true;
        if (sink) sink(is_err ? Stream::kStderr : Stream::kStdout, std::string_view(buf, n));
      }
    }
    return got;
  };
  for (;;) {
    int polled = ssh_channel_poll_timeout(ch.get(), 100, 0);
    if (polled == SSH_ERROR) {
      drain();
      throw HostFailure(HostStatus::kFailed, "connection lost while the command ran");
    }
    drain();
    if (ssh_channel_is_eof(ch.get())) {
      drain();
      break;
    }
    if (!ssh_channel_is_open(ch.get()) || !ssh_is_connected(s_))
      throw HostFailure(HostStatus::kFailed, "connection lost while the command ran");
    if (Clock::now() >= deadline) {
      // Ask the remote side to stop the command; closing the channel alone leaves it running.
      ssh_channel_request_send_signal(ch.get(), "TERM");
      throw HostFailure(HostStatus::kTimeout,
                        fmt::format("command still running after {}", format_duration(timeout)));
    }
    keepalive_tick();
  }
  ExecResult r;
  int status = ssh_channel_get_exit_status(ch.get());
  if (status >= 0) r.exit_code = status;
  if (!ssh_is_connected(s_) && !r.exit_code)
    throw HostFailure(HostStatus::kFailed, "connection lost while the command ran");
  ssh_channel_send_eof(ch.get());
  return r;
}

Channel SshSession::open_shell(int columns, int rows) {
  Channel ch(ssh_channel_new(s_));
  if (!ch.get()) throw HostFailure(HostStatus::kFailed, "cannot open a channel: " + error());
  if (ssh_channel_open_session(ch.get()) != SSH_OK)
    throw HostFailure(HostStatus::kFailed, "cannot open a session channel: " + error());
  if (ssh_channel_request_pty_size(ch.get(), "vt100", columns, rows) != SSH_OK)
    throw HostFailure(HostStatus::kFailed, "PTY request refused: " + error());
  if (ssh_channel_request_shell(ch.get()) != SSH_OK)
    throw HostFailure(HostStatus::kFailed, "shell request refused: " + error());
  return ch;
}

}  // namespace netres::ssh
