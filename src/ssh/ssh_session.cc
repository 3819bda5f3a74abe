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

#include <algorithm>
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
#include "ssh/ssh_handshake.h"

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
struct JumpChain::Hop {
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

JumpChain::JumpChain() = default;

JumpChain::~JumpChain() {
  while (!hops_.empty()) hops_.pop_back();  // last hop first: it rides on the one before
}

int JumpChain::open(const std::vector<Endpoint>& hops, const std::string& host, int port,
                    const ConnectOptions& options,
                    std::optional<std::chrono::steady_clock::time_point> deadline) {
  int fd = -1;
  for (size_t i = 0; i < hops.size(); ++i) {
    Endpoint hop = hops[i];
    const std::string& next_host = i + 1 < hops.size() ? hops[i + 1].hostname : host;
    const int next_port = i + 1 < hops.size() ? hops[i + 1].port : port;
    std::string prefix = fmt::format("jump host {}: ", hop.label);
    if (deadline) {
      // libssh's timeout bounds each blocking step; what is left of the caller's budget bounds
      // each hop, so a chain of hops cannot take several budgets.
      auto left = std::chrono::duration_cast<Nanos>(*deadline - Clock::now());
      if (left <= Nanos(0))
        throw HostFailure(HostStatus::kTimeout, prefix + "no time left to connect");
      if (hop.connect_timeout <= Nanos(0) || left < hop.connect_timeout)
        hop.connect_timeout = std::max(left, Nanos(std::chrono::milliseconds(1)));
    }
    auto h = std::make_unique<Hop>();
    h->label = hop.label;
    h->keepalive = hop.keepalive;
    h->session = ssh_new();
    if (!h->session) {
      if (fd >= 0) ::close(fd);
      throw RuntimeError("libssh: cannot allocate a session");
    }
    establish(h->session, hop, options, fd, prefix, libssh_level());
    fd = -1;
    h->channel = ssh_channel_new(h->session);
    if (!h->channel || ssh_channel_open_forward(h->channel, next_host.c_str(), next_port,
                                                "127.0.0.1", 22) != SSH_OK)
      throw HostFailure(HostStatus::kUnreachable,
                        fmt::format("{}cannot open a channel to {}:{}: {}", prefix, next_host,
                                    next_port, session_error(h->session)));
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
      throw RuntimeError(fmt::format("socketpair: {}", std::strerror(errno)));
    h->fd = sp[0];
    fd = sp[1];
    h->thread = std::thread([raw = h.get()] { raw->bridge(); });
    hops_.push_back(std::move(h));
  }
  return fd;
}

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
  jumps_.reset();  // after s_: the session rides on the last hop
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
  if (!hops.empty()) {
    jumps_ = std::make_unique<JumpChain>();
    fd = jumps_->open(hops, ep.hostname, ep.port, options_);
  }
  establish(s_, ep, options_, fd, "", libssh_level());
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
