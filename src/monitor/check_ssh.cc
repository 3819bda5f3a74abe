// The ssh check: TCP connect on the event loop, then the SSH banner and key exchange with libssh
// on the pool, and the server's host key checked against a known_hosts file (never learned or
// accepted: a changed key is a failure, not a prompt). With `drift:`, a second, authenticated
// connection shows the running configuration and compares it with netres ssh's last backup.
#include "monitor/check_ssh.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libssh/libssh.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio/connect.hpp>
#include <asio/redirect_error.hpp>
#include <filesystem>
#include <fstream>
#include <memory>

#include "monitor/checks.h"
#include "ssh/config_ops.h"
#include "ssh/config_store.h"
#include "ssh/device_shell.h"
#include "ssh/known_hosts.h"
#include "ssh/ssh_config.h"
#include "ssh/ssh_handshake.h"
#include "ssh/ssh_session.h"

namespace netres::monitor {

namespace {

struct SshOutcome {
  bool connected = false;
  std::string error;  // libssh's, when not connected
  double kex_seconds = 0;
  std::string banner;
  ssh::ServerHostKey key;
};

// The banner exchange and key exchange over an already connected socket. libssh's
// ssh_connect blocks until both are done (or its timeout), so this runs on the pool, never on
// the event loop: one slow or silent server would otherwise stall every other probe. libssh
// owns `fd` from here on and closes it in ssh_free.
struct SshJob {
  int fd = -1;
  std::string host;
  unsigned port = 22;
  Nanos budget{};
  std::string host_key_algorithms;
  SshOutcome operator()() const {
    SshOutcome o;
    ssh_session s = ssh_new();
    if (!s) {
      ::close(fd);
      o.error = "cannot create an ssh session";
      return o;
    }
    std::unique_ptr<ssh_session_struct, void (*)(ssh_session)> guard(s, ssh_free);
    socket_t sock = fd;
    ssh_options_set(s, SSH_OPTIONS_FD, &sock);
    ssh_options_set(s, SSH_OPTIONS_HOST, host.c_str());
    ssh_options_set(s, SSH_OPTIONS_PORT, &port);
    bool no = false;
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
    // The key is checked against the check's own known_hosts below, never libssh's files.
    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
    int quiet = SSH_LOG_NOLOG;
    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &quiet);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(budget).count();
    if (us < 1000) us = 1000;
    long secs = static_cast<long>(us / 1000000), usecs = static_cast<long>(us % 1000000);
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &secs);
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usecs);
    if (!host_key_algorithms.empty())
      ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, host_key_algorithms.c_str());
    auto start = Clock::now();
    int rc = ssh_connect(s);
    o.kex_seconds = seconds_since(start);
    if (const char* b = ssh_get_serverbanner(s)) o.banner = b;
    if (rc != SSH_OK) {
      o.error = ssh::session_error(s);
      return o;
    }
    o.connected = true;
    if (!ssh::server_host_key(s, o.key)) o.error = o.key.error;
    ssh_disconnect(s);
    return o;
  }
};

// SHA-256 of the configuration's body lines (config_body_lines: no banners, timestamps of
// "Building configuration...", "end"), so a device's cosmetic output does not count as drift.
std::string body_hash(const std::string& text) {
  std::string body;
  for (const auto& line : ssh::config_body_lines(text)) body += line + "\n";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(body.data(), body.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

struct DriftOutcome {
  std::string reason, error;  // reason empty: `running` holds the configuration
  std::string running;
};

// Logs in (the host key checked again, strictly, against the same file) and shows the running
// configuration, as `netres ssh backup` does: an exec channel for linux / a command, the
// platform's PTY shell otherwise. Blocking libssh again, hence on the pool.
struct DriftJob {
  CheckSpec::SshDrift d;
  std::string known_hosts, host;
  int port = 22;
  Nanos budget{};
  DriftOutcome operator()() const {
    DriftOutcome o;
    try {
      ssh::ConnectOptions opts;
      opts.config = std::make_shared<ssh::SshConfig>(ssh::SshConfig::from_text("", "(none)"));
      opts.known_hosts = known_hosts;
      opts.strict_host_keys = "yes";
      opts.connect_timeout = budget;
      opts.connect_timeout_set = true;
      opts.keepalive = Nanos(0);
      opts.keepalive_set = true;
      opts.identity_file = d.key_file;
      if (!d.password_file.empty()) {
        std::ifstream in(d.password_file);
        if (!in || !std::getline(in, opts.password)) {
          o.reason = "error";
          o.error = "cannot read password_file " + d.password_file;
          return o;
        }
      }
      ssh::Host h;
      h.name = host;
      h.address = host;
      h.port = port;
      h.user = d.user;
      h.key_file = d.key_file;
      ssh::SshSession session(h, opts);
      session.connect();
      const bool shell = !d.platform.empty() && d.platform != "linux";
      std::string text;
      if (shell) {
        ssh::DeviceShell sh(session, ssh::shell_profile_for(d.platform, ""), budget);
        sh.open();
        const std::string cmd = d.command.empty() ? sh.profile().show_config : d.command;
        text = sh.send_command(cmd);
        if (auto err = sh.error_in(text); !err.empty()) {
          o.reason = "config_fetch";
          o.error = fmt::format("'{}': {}", cmd, err);
        }
        sh.close();
      } else {
        const std::string& cmd = d.command;  // the loader requires it without a device preset
        std::string err;
        auto r = session.exec(cmd, budget, [&](ssh::Stream st, std::string_view chunk) {
          (st == ssh::Stream::kStdout ? text : err).append(chunk);
        });
        if (!r.exit_code || *r.exit_code != 0) {
          o.reason = "config_fetch";
          o.error = fmt::format("'{}' failed: {}", cmd, err.substr(0, 200));
        }
      }
      o.running = std::move(text);
    } catch (const ssh::HostFailure& e) {
      switch (e.status()) {
        case ssh::HostStatus::kAuthFailed:
          o.reason = "auth";
          break;
        case ssh::HostStatus::kTimeout:
          o.reason = "timeout";
          break;
        case ssh::HostStatus::kHostKey:
          o.reason = "hostkey_changed";
          break;
        default:
          o.reason = "config_fetch";
      }
      o.error = e.what();
    } catch (const std::exception& e) {
      o.reason = "error";
      o.error = e.what();
    }
    return o;
  }
};

bool readable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), R_OK) == 0;
}

}  // namespace

asio::awaitable<ProbeResult> probe_ssh(ProbeContext& ctx, const CheckSpec& c,
                                       const std::string& address, Clock::time_point deadline_at) {
  ProbeResult r;
  HostPort hp = split_address(address, 22);
  if (hp.port == 0 || hp.host.empty()) {
    r.fail("error", "address needs a host (host or host:port), got '" + address + "'");
    co_return r;
  }
  if (!readable_file(c.known_hosts)) {
    r.fail("error", "cannot read known_hosts file " + c.known_hosts);
    co_return r;
  }
  asio::ip::tcp::socket sock(ctx.io());
  Deadline deadline(ctx.io(), deadline_at, [&sock] {
    std::error_code ignored;
    sock.close(ignored);
  });
  auto endpoints = co_await resolve_for_probe(ctx, hp.host, hp.port, deadline_at, deadline, r);
  if (endpoints.empty()) co_return r;
  auto connect_start = Clock::now();
  std::error_code ec;
  co_await asio::async_connect(sock, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    auto [why, text] = transport_reason(ec, deadline.fired());
    r.fail(why, "connect: " + text);
    co_return r;
  }
  r.set("netres_probe_tcp_connect_seconds", seconds_since(connect_start));
  sock.set_option(asio::ip::tcp::no_delay(true), ec);

  // known_hosts is read on the loop: small, local, and the key types it lists order the host
  // key algorithms the server is asked for.
  const std::string name =
      c.host_key_alias.empty() ? ssh::known_hosts_name(hp.host, hp.port) : c.host_key_alias;
  const std::vector<std::string> files{c.known_hosts};
  SshJob job;
  job.host = hp.host;
  job.port = hp.port;
  job.budget = std::chrono::duration_cast<Nanos>(deadline_at - Clock::now());
  job.host_key_algorithms = ssh::preferred_host_key_algorithms(ssh::known_key_types(files, name));
  // From here libssh owns the descriptor; the deadline can no longer close it (libssh's own
  // timeout bounds the handshake instead).
  deadline.set_action([] {});
  job.fd = sock.release(ec);
  if (ec) {
    r.fail("error", "cannot hand the socket to libssh: " + ec.message());
    co_return r;
  }
  auto op = on_pool<SshOutcome>(ctx.pool(), std::move(job));
  SshOutcome out = co_await std::move(op);
  if (!out.connected || !out.error.empty()) {
    // A server that sent its banner and then failed the key exchange still says what it is.
    if (!out.banner.empty()) r.set("netres_ssh_info", 1, {{"banner", out.banner}});
    // libssh gives only text; its socket errors carry strerror's words.
    if (Clock::now() >= deadline_at)
      r.fail("timeout", "ssh handshake: " + out.error);
    else if (out.error.find("reset by peer") != std::string::npos)
      r.fail("reset", "ssh handshake: " + out.error);
    else if (out.error.find("disconnected") != std::string::npos)
      r.fail("eof", "ssh handshake: the server closed the connection (" + out.error + ")");
    else
      r.fail("protocol", "ssh handshake: " + out.error);
    co_return r;
  }
  r.set("netres_ssh_handshake_seconds", seconds_since(connect_start));
  r.set("netres_ssh_info", 1,
        {{"banner", out.banner}, {"key_type", out.key.type}, {"fingerprint", out.key.fingerprint}});
  ssh::KnownHostsCheck verdict = ssh::check_known_hosts(files, name, out.key.type, out.key.base64);
  std::string_view why = hostkey_reason(verdict.kind);
  r.set("netres_ssh_hostkey_ok", why.empty() ? 1 : 0);
  if (why.empty() && !c.drift) {
    r.success = true;
    co_return r;
  }
  if (why.empty()) {
    const auto& d = *c.drift;
    const std::string host_dir = d.name.empty() ? hp.host : d.name;
    DriftJob dj{d, c.known_hosts, hp.host, hp.port,
                std::chrono::duration_cast<Nanos>(deadline_at - Clock::now())};
    auto dop = on_pool<DriftOutcome>(ctx.pool(), std::move(dj));
    DriftOutcome got = co_await std::move(dop);
    if (!got.reason.empty()) {
      r.fail(Clock::now() >= deadline_at ? "timeout" : got.reason, "drift: " + got.error);
      co_return r;
    }
    ssh::ConfigStore store(d.backups, 0);
    auto latest = store.latest_path(host_dir);
    if (!latest) {
      r.fail("error", fmt::format("drift: no backup of {} in {} (netres ssh backup --dir {})",
                                  host_dir, d.backups, d.backups));
      co_return r;
    }
    std::string saved;
    try {
      saved = ssh::ConfigStore::read(*latest);
    } catch (const std::exception& e) {
      r.fail("error", std::string("drift: ") + e.what());
      co_return r;
    }
    std::error_code fec;
    auto mtime = std::filesystem::last_write_time(*latest, fec);
    if (!fec) {
      auto sys = std::chrono::file_clock::to_sys(mtime);
      r.set("netres_config_backup_timestamp_seconds",
            std::chrono::duration<double>(sys.time_since_epoch()).count());
    }
    r.set("netres_config_drift", body_hash(got.running) == body_hash(saved) ? 0 : 1);
    // Drift is exported, not a failed probe: the device answers; the alert rule decides.
    r.success = true;
    co_return r;
  }
  if (verdict.kind == ssh::KnownHostsCheck::kUnknown)
    r.fail(std::string(why), fmt::format("host key {} {} for {} is not in {}", out.key.type,
                                         out.key.fingerprint, name, c.known_hosts));
  else if (verdict.kind == ssh::KnownHostsCheck::kRevoked)
    r.fail(std::string(why), fmt::format("host key {} {} is marked @revoked at {}:{}", out.key.type,
                                         out.key.fingerprint, verdict.file, verdict.line));
  else
    r.fail(
        std::string(why),
        fmt::format("HOST KEY CHANGED: {} now offers {} {}, which does not match {}:{}{}", name,
                    out.key.type, out.key.fingerprint, verdict.file, verdict.line,
                    verdict.kind == ssh::KnownHostsCheck::kOtherType ? " (another key type)" : ""));
  co_return r;
}

}  // namespace netres::monitor
