// SshSession: the endpoint's settings are computed in OpenSSH's order (command line, inventory,
// ssh config, defaults), host keys are checked against known_hosts files read by netres, and
// ProxyJump hops are libssh sessions of their own whose direct-tcpip channels carry the next
// session (no `ssh -W` subprocess).
#include "ssh/ssh_session.h"

// ssh_send_keepalive (keepalive@openssh.com) is declared with the server API but serves clients.
#include <fcntl.h>
#include <fmt/format.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "ssh/known_hosts.h"
#include "ssh/ssh_endpoint.h"

namespace netres::ssh {
namespace {

using Clock = std::chrono::steady_clock;

// --- libssh log ---------------------------------------------------------------------------
std::atomic<int> g_verbosity{0};
thread_local std::string g_log_host;
std::mutex g_log_mutex;

void log_to_stderr(int priority, const char* function, const char* message, void*) {
  if (g_verbosity.load() <= 0 || priority > g_verbosity.load() + 1) return;
  std::string m = message ? message : "";
  for (char& c : m)
    if (c == '\n' || c == '\r') c = ' ';
  while (!m.empty() && m.back() == ' ') m.pop_back();
  std::lock_guard<std::mutex> lock(g_log_mutex);
  fmt::print(stderr, "netres: libssh: {}{}{}\n", g_log_host.empty() ? "" : g_log_host + ": ",
             function && g_verbosity.load() >= 3 ? std::string(function) + ": " : "", m);
}

int libssh_level() {
  switch (g_verbosity.load()) {
    case 0:
      return SSH_LOG_NOLOG;
    case 1:
      return SSH_LOG_PROTOCOL;
    case 2:
      return SSH_LOG_PACKET;
    default:
      return SSH_LOG_FUNCTIONS;
  }
}

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

std::string session_error(ssh_session s) {
  const char* e = ssh_get_error(s);
  return e && *e ? e : "connection failed";
}

void apply_options(ssh_session s, const Endpoint& ep, int fd) {
  ssh_options_set(s, SSH_OPTIONS_HOST, ep.hostname.c_str());
  unsigned port = static_cast<unsigned>(ep.port);
  ssh_options_set(s, SSH_OPTIONS_PORT, &port);
  ssh_options_set(s, SSH_OPTIONS_USER, ep.user.c_str());
  int level = libssh_level();
  ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &level);
  // netres read the config; libssh must not read it again (nor run ProxyJump as `ssh -W`).
  bool no = false;
  ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
  // Host keys are checked by netres (known_hosts.h), which also orders the host key algorithms
  // below; libssh would otherwise parse every key of the files again for each session.
  ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
  ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  int one = 1;
  ssh_options_set(s, SSH_OPTIONS_NODELAY, &one);
  long secs = std::chrono::duration_cast<std::chrono::seconds>(ep.connect_timeout).count();
  long usecs =
      std::chrono::duration_cast<std::chrono::microseconds>(ep.connect_timeout).count() % 1000000;
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &secs);
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usecs);
  if (fd >= 0) {
    socket_t sock = fd;
    ssh_options_set(s, SSH_OPTIONS_FD, &sock);
  } else if (!ep.proxy_command.empty()) {
    ssh_options_set(s, SSH_OPTIONS_PROXYCOMMAND, ep.proxy_command.c_str());
  }
  // Prefer the host key types known_hosts already has for this host, as OpenSSH does, so a
  // server with several keys presents the one we can verify.
  std::string algos = ep.host_key_algorithms;
  if (algos.empty()) {
    std::vector<std::string> files = ep.user_known_hosts;
    files.insert(files.end(), ep.global_known_hosts.begin(), ep.global_known_hosts.end());
    auto types = known_key_types(files, ep.known_hosts_name);
    if (!types.empty()) {
      std::vector<std::string> order;
      auto add = [&order](const std::string& a) {
        if (std::find(order.begin(), order.end(), a) == order.end()) order.push_back(a);
      };
      for (const auto& t : types) {
        if (t == "ssh-rsa") {
          add("rsa-sha2-512");
          add("rsa-sha2-256");
        } else if (t == "ssh-ed25519" || t.starts_with("ecdsa-sha2-")) {
          add(t);
        }
      }
      for (const char* d : {"ssh-ed25519", "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp384",
                            "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"})
        add(d);
      for (const auto& a : order) algos += (algos.empty() ? "" : ",") + a;
    }
  }
  if (!algos.empty()) ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, algos.c_str());
  if (!ep.ciphers.empty()) {
    ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, ep.ciphers.c_str());
    ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, ep.ciphers.c_str());
  }
  if (!ep.kex.empty()) ssh_options_set(s, SSH_OPTIONS_KEY_EXCHANGE, ep.kex.c_str());
  if (!ep.macs.empty()) {
    ssh_options_set(s, SSH_OPTIONS_HMAC_C_S, ep.macs.c_str());
    ssh_options_set(s, SSH_OPTIONS_HMAC_S_C, ep.macs.c_str());
  }
}

void verify_host_key(ssh_session s, const Endpoint& ep, const std::string& prefix) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(s, &key) != SSH_OK)
    throw HostFailure(HostStatus::kHostKey, prefix + "the server sent no host key");
  std::unique_ptr<ssh_key_struct, void (*)(ssh_key)> key_guard(key, ssh_key_free);
  std::string type = ssh_key_type_to_char(ssh_key_type(key));
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || !b64)
    throw HostFailure(HostStatus::kHostKey, prefix + "cannot read the server's host key");
  std::string blob = b64;
  ssh_string_free_char(b64);
  std::string fp = "(unknown)";
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) == 0) {
    if (char* f = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len)) {
      fp = f;
      ssh_string_free_char(f);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  std::vector<std::string> files = ep.user_known_hosts;
  files.insert(files.end(), ep.global_known_hosts.begin(), ep.global_known_hosts.end());
  auto changed = [&](const KnownHostsCheck& r) {
    return HostFailure(
        HostStatus::kHostKey,
        fmt::format("{}HOST KEY CHANGED: the server now offers {} key {}, which does not match "
                    "the entry for {} at {}:{}{}; someone may be intercepting the connection. "
                    "Refused. If the change is expected, remove the old entry (ssh-keygen -R "
                    "'{}' -f {})",
                    prefix, type, fp, r.entry_host, r.file, r.line,
                    r.kind == KnownHostsCheck::kOtherType ? " (a different key type)" : "",
                    r.entry_host, r.file));
  };
  KnownHostsCheck r = check_known_hosts(files, ep.known_hosts_name, type, blob);
  switch (r.kind) {
    case KnownHostsCheck::kOk:
      return;
    case KnownHostsCheck::kRevoked:
      throw HostFailure(HostStatus::kHostKey,
                        fmt::format("{}host key {} {} is marked @revoked at {}:{}. Refused", prefix,
                                    type, fp, r.file, r.line));
    case KnownHostsCheck::kChanged:
    case KnownHostsCheck::kOtherType:
      throw changed(r);
    case KnownHostsCheck::kUnknown:
      break;
  }
  std::string where = ep.user_known_hosts.empty() ? std::string("no known_hosts file")
                                                  : ep.user_known_hosts.front();
  if (ep.strict == "yes" || ep.user_known_hosts.empty()) {
    if (ep.strict != "yes" && ep.user_known_hosts.empty() && ep.strict == "no") return;
    std::string list;
    for (const auto& f : files) list += (list.empty() ? "" : ", ") + f;
    throw HostFailure(HostStatus::kHostKey,
                      fmt::format("{}unknown host key {} {} for {}; not in {}{}. Verify it, then "
                                  "accept it with --accept-new",
                                  prefix, type, fp, ep.known_hosts_name, list, ep.strict_note));
  }
  // accept-new (or an explicit "no"): record it, re-checking under the file's lock.
  KnownHostsCheck again;
  try {
    again = learn_host_key(where, ep.known_hosts_name, type, blob, ep.hash_known_hosts);
  } catch (const RuntimeError& e) {
    throw HostFailure(HostStatus::kHostKey, prefix + e.what());
  }
  if (again.kind == KnownHostsCheck::kChanged || again.kind == KnownHostsCheck::kOtherType ||
      again.kind == KnownHostsCheck::kRevoked)
    throw changed(again);
}

// An OpenSSH-format key is encrypted unless its cipher is "none"; PEM keys say ENCRYPTED.
bool key_file_encrypted(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(16384, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.find("ENCRYPTED") != std::string::npos) return true;
  auto begin = text.find("-----BEGIN OPENSSH PRIVATE KEY-----");
  if (begin == std::string::npos) return false;
  std::string body;
  for (size_t i = text.find('\n', begin); i < text.size() && body.size() < 64; ++i)
    if (text[i] != '\n' && text[i] != '\r') body.push_back(text[i]);
  // base64 of "openssh-key-v1\0" + uint32 4 + "none"
  return !body.starts_with("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU");
}

std::string methods_text(int m) {
  std::string out;
  auto add = [&out](const char* s) { out += (out.empty() ? "" : ", ") + std::string(s); };
  if (m & SSH_AUTH_METHOD_PUBLICKEY) add("publickey");
  if (m & SSH_AUTH_METHOD_INTERACTIVE) add("keyboard-interactive");
  if (m & SSH_AUTH_METHOD_PASSWORD) add("password");
  if (m & SSH_AUTH_METHOD_HOSTBASED) add("hostbased");
  if (m & SSH_AUTH_METHOD_GSSAPI_MIC) add("gssapi-with-mic");
  return out.empty() ? "none" : out;
}

// OpenSSH's order: publickey, keyboard-interactive, password. A keyboard-interactive round of
// hidden prompts gets the password (network devices often offer nothing else); a second round
// after it means the password was wrong, and a visible prompt (OTP, user name) cannot be answered.
void authenticate(ssh_session s, const Endpoint& ep, const ConnectOptions& o,
                  const std::string& prefix) {
  auto fail_unreachable = [&] {
    return HostFailure(HostStatus::kUnreachable, prefix + session_error(s));
  };
  int rc = ssh_userauth_none(s, nullptr);
  if (rc == SSH_AUTH_SUCCESS) return;
  if (rc == SSH_AUTH_ERROR) throw fail_unreachable();
  int methods = ssh_userauth_list(s, nullptr);
  int offered = methods;
  std::vector<std::string> tried, notes;
  auto tried_add = [&tried](const char* m) {
    if (std::find(tried.begin(), tried.end(), m) == tried.end()) tried.push_back(m);
  };
  auto after = [&](int r) {
    if (r == SSH_AUTH_SUCCESS) return true;
    if (r == SSH_AUTH_ERROR) throw fail_unreachable();
    if (r == SSH_AUTH_PARTIAL) methods = offered = ssh_userauth_list(s, nullptr);
    return false;
  };
  const char* passphrase = o.passphrase.empty() ? nullptr : o.passphrase.c_str();
  if (ep.pubkey && (methods & SSH_AUTH_METHOD_PUBLICKEY)) {
    for (const auto& k : ep.keys) {
      if (!file_exists(k.path)) {
        if (!k.from_defaults) notes.push_back(fmt::format("key file {} not found", k.path));
        continue;
      }
      ssh_key key = nullptr;
      if (ssh_pki_import_privkey_file(k.path.c_str(), passphrase, nullptr, nullptr, &key) !=
          SSH_OK) {
        if (key_file_encrypted(k.path))
          notes.push_back(passphrase ? fmt::format("key file {}: wrong passphrase", k.path)
                                     : fmt::format("key file {} is encrypted: set "
                                                   "NETRES_SSH_PASSPHRASE or use --ask-passphrase",
                                                   k.path));
        else
          notes.push_back(fmt::format("cannot read key file {}", k.path));
        continue;
      }
      tried_add("publickey");
      rc = ssh_userauth_publickey(s, nullptr, key);
      ssh_key_free(key);
      if (after(rc)) return;
      if (!(methods & SSH_AUTH_METHOD_PUBLICKEY)) break;
    }
    const char* agent = std::getenv("SSH_AUTH_SOCK");
    if (!ep.identities_only && agent && *agent && (methods & SSH_AUTH_METHOD_PUBLICKEY)) {
      tried_add("publickey");
      if (after(ssh_userauth_agent(s, nullptr))) return;
    }
  }
  bool interrupted = false;  // a keyboard-interactive exchange left unfinished
  if (ep.kbdint && (methods & SSH_AUTH_METHOD_INTERACTIVE) && !o.password.empty()) {
    tried_add("keyboard-interactive");
    bool answered = false;
    rc = ssh_userauth_kbdint(s, nullptr, nullptr);
    for (int round = 0; rc == SSH_AUTH_INFO && round < 8; ++round) {
      int n = ssh_userauth_kbdint_getnprompts(s);
      if (n > 0) {
        if (answered) {
          interrupted = true;
          break;
        }
        for (int i = 0; i < n && !interrupted; ++i) {
          char echo = 0;
          const char* prompt = ssh_userauth_kbdint_getprompt(s, i, &echo);
          if (echo) {
            notes.push_back(
                fmt::format("keyboard-interactive asked '{}', which netres cannot "
                            "answer",
                            prompt ? prompt : ""));
            interrupted = true;
          } else {
            ssh_userauth_kbdint_setanswer(s, i, o.password.c_str());
          }
        }
        if (interrupted) break;
        answered = true;
      }
      rc = ssh_userauth_kbdint(s, nullptr, nullptr);
    }
    if (!interrupted && after(rc)) return;
  }
  if (!interrupted && ep.password && (methods & SSH_AUTH_METHOD_PASSWORD) && !o.password.empty()) {
    tried_add("password");
    if (after(ssh_userauth_password(s, nullptr, o.password.c_str()))) return;
  }
  if (o.password.empty() && (offered & (SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_INTERACTIVE)))
    notes.push_back("no password given (NETRES_SSH_PASSWORD or --ask-pass)");
  std::string t;
  for (const auto& m : tried) t += (t.empty() ? "" : ", ") + m;
  std::string extra;
  for (const auto& n : notes) extra += "; " + n;
  throw HostFailure(
      HostStatus::kAuthFailed,
      fmt::format("{}authentication failed for user '{}' (tried: {}; server offers: "
                  "{}){}",
                  prefix, ep.user, t.empty() ? "none" : t, methods_text(offered), extra));
}

// Connects `s` (directly, through a ProxyCommand, or over `fd`), checks its host key and
// authenticates. `prefix` names a jump host in every error.
void establish(ssh_session s, const Endpoint& ep, const ConnectOptions& o, int fd,
               const std::string& prefix) {
  apply_options(s, ep, fd);
  if (ssh_connect(s) != SSH_OK)
    throw HostFailure(HostStatus::kUnreachable, prefix + session_error(s));
  verify_host_key(s, ep, prefix);
  authenticate(s, ep, o, prefix);
}

}  // namespace

void set_libssh_verbosity(int verbosity) {
  g_verbosity = verbosity;
  // Every libssh message goes through this callback, also the ones logged before a session
  // has its own verbosity: nothing reaches stderr unless -v asked for it.
  ssh_set_log_callback(log_to_stderr);
  ssh_set_log_level(libssh_level());
}

// One jump host: its session, the direct-tcpip channel to the next hop, and the thread that
// copies bytes between that channel and the socketpair the next session runs over.
struct SshSession::Hop {
  ssh_session session = nullptr;
  ssh_channel channel = nullptr;
  int fd = -1;  // the bridge's end of the socketpair
  Nanos keepalive{};
  std::string label;
  std::atomic<bool> stop{false};
  std::thread thread;

  ~Hop() {
    stop = true;
    if (thread.joinable()) thread.join();
    release();
  }

  void release() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    if (channel) {
      if (ssh_channel_is_open(channel)) ssh_channel_close(channel);
      ssh_channel_free(channel);
      channel = nullptr;
    }
    if (session) {
      if (ssh_is_connected(session)) ssh_disconnect(session);
      ssh_free(session);
      session = nullptr;
    }
  }

  // Runs on its own thread, which owns the session from here on (libssh sessions are not
  // shared between threads). Ends when either side closes or on stop.
  void bridge() {
    g_log_host = label;
    ssh_set_log_callback(log_to_stderr);
    ssh_set_log_level(libssh_level());
    std::string to_sock;
    std::vector<char> buf(64 * 1024);
    auto last_keepalive = Clock::now();
    while (!stop) {
      bool progress = false;
      if (to_sock.empty()) {
        int n = ssh_channel_read_nonblocking(channel, buf.data(), buf.size(), 0);
        if (n == SSH_ERROR) break;
        if (n > 0) to_sock.assign(buf.data(), static_cast<size_t>(n));
      }
      if (!to_sock.empty()) {
        ssize_t w = ::send(fd, to_sock.data(), to_sock.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
          to_sock.erase(0, static_cast<size_t>(w));
          progress = true;
        } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          break;
        }
      }
      if (to_sock.empty() && (ssh_channel_is_eof(channel) || !ssh_channel_is_open(channel))) break;
      ssize_t r = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (r == 0) break;
      if (r > 0) {
        if (ssh_channel_write(channel, buf.data(), static_cast<uint32_t>(r)) != r) break;
        progress = true;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        break;
      }
      if (keepalive > Nanos(0) && Clock::now() - last_keepalive >= keepalive) {
        ssh_send_keepalive(session);
        last_keepalive = Clock::now();
      }
      if (progress) continue;
      if (to_sock.empty() && ssh_channel_poll(channel, 0) != 0) continue;
      pollfd p[2] = {{fd, static_cast<short>(POLLIN | (to_sock.empty() ? 0 : POLLOUT)), 0},
                     {ssh_get_fd(session), POLLIN, 0}};
      ::poll(p, 2, 200);
    }
    // Closing our end tells the next session its transport is gone.
    ::shutdown(fd, SHUT_RDWR);
    release();
  }
};

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

std::string default_known_hosts() { return home_dir() + "/.ssh/known_hosts"; }

SshSession::SshSession(const Host& host, const ConnectOptions& options)
    : host_(host), options_(options), s_(ssh_new()) {
  if (!s_) throw RuntimeError("libssh: cannot allocate a session");
}

SshSession::~SshSession() {
  if (ssh_is_connected(s_)) ssh_disconnect(s_);
  ssh_free(s_);
  while (!hops_.empty()) hops_.pop_back();  // last hop first: it rides on the one before
}

std::string SshSession::error() const { return ssh_get_error(s_); }

void SshSession::connect() {
  g_log_host = host_.name;
  // libssh keeps its log callback and level per thread: set them on every worker.
  ssh_set_log_callback(log_to_stderr);
  ssh_set_log_level(libssh_level());
  std::shared_ptr<const SshConfig> cfg = options_.config;
  if (!cfg) {
    try {
      cfg = std::make_shared<SshConfig>(SshConfig::load(options_.config_file, home_dir()));
    } catch (const UsageError& e) {
      throw HostFailure(HostStatus::kFailed, std::string("ssh config: ") + e.what());
    }
  }
  // Host blocks match the name ssh would be given: the inventory's address (ansible_host),
  // else the host's name.
  std::string target = host_.address.empty() ? host_.name : host_.address;
  Endpoint ep = resolve_endpoint(*cfg, options_, target, host_.port, host_.user, host_.key_file,
                                 false, proxy_jump_from_ansible_args(host_));
  keepalive_ = ep.keepalive;
  std::vector<Endpoint> hops;
  if (!ep.proxy_jump.empty()) collect_hops(*cfg, options_, ep.proxy_jump, host_.key_file, hops, 0);
  int fd = -1;
  for (size_t i = 0; i < hops.size(); ++i) {
    const Endpoint& hop = hops[i];
    const Endpoint& next = i + 1 < hops.size() ? hops[i + 1] : ep;
    std::string prefix = fmt::format("jump host {}: ", hop.label);
    auto h = std::make_unique<Hop>();
    h->label = hop.label;
    h->keepalive = hop.keepalive;
    h->session = ssh_new();
    if (!h->session) throw RuntimeError("libssh: cannot allocate a session");
    establish(h->session, hop, options_, fd, prefix);
    fd = -1;
    h->channel = ssh_channel_new(h->session);
    if (!h->channel || ssh_channel_open_forward(h->channel, next.hostname.c_str(), next.port,
                                                "127.0.0.1", 22) != SSH_OK)
      throw HostFailure(HostStatus::kUnreachable,
                        fmt::format("{}cannot open a channel to {}:{}: {}", prefix, next.hostname,
                                    next.port, session_error(h->session)));
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
      throw RuntimeError(fmt::format("socketpair: {}", std::strerror(errno)));
    h->fd = sp[0];
    fd = sp[1];
    h->thread = std::thread([raw = h.get()] { raw->bridge(); });
    hops_.push_back(std::move(h));
  }
  establish(s_, ep, options_, fd, "");
  last_keepalive_ = Clock::now();
}

void SshSession::keepalive_tick() {
  if (keepalive_ <= Nanos(0)) return;
  auto now = Clock::now();
  if (now - last_keepalive_ >= keepalive_) {
    ssh_send_keepalive(s_);
    last_keepalive_ = now;
  }
}

ExecResult SshSession::exec(const std::string& command, Nanos timeout, const OutputSink& sink) {
  ExecResult r;
  // exit-signal carries the name of the signal that ended the command (RFC 4254 6.10).
  ssh_channel_callbacks_struct callbacks{};
  ssh_callbacks_init(&callbacks);
  callbacks.userdata = &r;
  callbacks.channel_exit_signal_function = [](ssh_session, ssh_channel, const char* signal,
                                              int core, const char*, const char*, void* user) {
    auto* result = static_cast<ExecResult*>(user);
    result->exit_signal = signal ? signal : "?";
    result->core_dumped = core != 0;
  };
  Channel ch(ssh_channel_new(s_));
  if (!ch.get()) throw HostFailure(HostStatus::kFailed, "cannot open a channel: " + error());
  ssh_set_channel_callbacks(ch.get(), &callbacks);
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
