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
#include "monitor/config_changes.h"
#include "ssh/config_ops.h"
#include "ssh/config_store.h"
#include "ssh/device_shell.h"
#include "ssh/known_hosts.h"
#include "ssh/ssh_config.h"
#include "ssh/ssh_endpoint.h"
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
  std::string proxy_command;  // with fd -1: libssh runs it and speaks over its stdin/stdout
  SshOutcome operator()() const {
    SshOutcome o;
    ssh_session s = ssh_new();
    if (!s) {
      if (fd >= 0) ::close(fd);
      o.error = "cannot create an ssh session";
      return o;
    }
    std::unique_ptr<ssh_session_struct, void (*)(ssh_session)> guard(s, ssh_free);
    if (fd >= 0) {
      socket_t sock = fd;
      ssh_options_set(s, SSH_OPTIONS_FD, &sock);
    } else {
      ssh_options_set(s, SSH_OPTIONS_PROXYCOMMAND, proxy_command.c_str());
    }
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

// The ssh config a check names (its hops' HostName, Port, User, IdentityFile; a target's
// ProxyJump), or an empty one: never ~/.ssh/config, which belongs to whoever runs the monitor.
std::shared_ptr<const ssh::SshConfig> load_ssh_config(const std::string& file) {
  if (file.empty())
    return std::make_shared<ssh::SshConfig>(ssh::SshConfig::from_text("", "(none)"));
  return std::make_shared<ssh::SshConfig>(ssh::SshConfig::load(file, ssh::home_dir()));
}

std::string join_hops(const std::vector<std::string>& hops) {
  std::string out;
  for (const auto& h : hops) out += (out.empty() ? "" : ",") + h;
  return out;
}

// Every hop's host key is checked against the check's own known_hosts, strictly, as the
// target's: never the system's files, never learned.
ssh::ConnectOptions jump_options(const CheckSpec& c, Nanos budget) {
  ssh::ConnectOptions o;
  o.config = load_ssh_config(c.ssh_config);
  o.known_hosts = c.known_hosts;
  o.strict_host_keys = "yes";
  o.jump = join_hops(c.jump);
  o.connect_timeout = budget;
  o.connect_timeout_set = true;
  o.keepalive = Nanos(0);
  o.keepalive_set = true;
  return o;
}

// A failure of the hop chain as a probe reason: the hop's host key by the target's rules, the
// final channel by what the bastion's connect said, anything else `jump` (the detail names the
// hop).
std::string jump_reason(const ssh::HostFailure& e, const std::string& host, int port) {
  if (auto* k = dynamic_cast<const ssh::HostKeyFailure*>(&e))
    return std::string(hostkey_reason(k->kind()));
  if (e.status() == ssh::HostStatus::kTimeout) return "timeout";
  std::string_view what = e.what();
  if (what.find(fmt::format("cannot open a channel to {}:{}:", host, port)) !=
      std::string_view::npos) {
    if (what.find("refused") != std::string_view::npos) return "refused";
    return "unreachable";
  }
  return "jump";
}

struct JumpOutcome {
  bool direct = false;        // no hop for this target (its ssh_config says none)
  std::string reason, error;  // a hop failed
  double jump_seconds = 0;    // every hop's connect, handshake and login, and the channel opened
  SshOutcome ssh;             // the target's banner and key exchange through the last hop
};

// The hops, then the target's handshake over the last hop's channel (SshJob, as a direct
// probe's), all blocking libssh: on the pool. The chain lives until the handshake is done.
struct JumpJob {
  CheckSpec c;
  std::string host;
  int port = 22;
  Clock::time_point deadline;
  std::string host_key_algorithms;
  JumpOutcome operator()() const {
    JumpOutcome o;
    try {
      auto opts = jump_options(c, std::chrono::duration_cast<Nanos>(deadline - Clock::now()));
      opts.identity_file = c.jump_key_file;
      ssh::Endpoint ep = ssh::resolve_endpoint(*opts.config, opts, host, port, "", "", false);
      if (ep.proxy_jump.empty() && !ep.proxy_command.empty()) {
        // The config's ProxyCommand (ssh -W through a bastion, a serial console server's
        // helper): libssh runs it; the handshake time includes the command's own connect.
        SshJob job;
        job.host = host;
        job.port = static_cast<unsigned>(port);
        job.budget = std::chrono::duration_cast<Nanos>(deadline - Clock::now());
        job.host_key_algorithms = host_key_algorithms;
        job.proxy_command = ep.proxy_command;
        o.ssh = job();
        return o;
      }
      if (ep.proxy_jump.empty()) {
        o.direct = true;
        return o;
      }
      std::vector<ssh::Endpoint> hops;
      // A hop's keys: jump_key_file, its ssh_config IdentityFile, then the drift login's key
      // (one key often opens the bastion too), as the drift login's own hops try them.
      ssh::collect_hops(*opts.config, opts, ep.proxy_jump, c.drift ? c.drift->key_file : "", hops,
                        0);
      for (auto& h : hops) h.global_known_hosts.clear();
      ssh::JumpChain chain;
      auto start = Clock::now();
      int fd = chain.open(hops, host, port, opts, deadline);
      o.jump_seconds = seconds_since(start);
      SshJob job;
      job.fd = fd;
      job.host = host;
      job.port = static_cast<unsigned>(port);
      job.budget = std::chrono::duration_cast<Nanos>(deadline - Clock::now());
      job.host_key_algorithms = host_key_algorithms;
      o.ssh = job();
    } catch (const ssh::HostFailure& e) {
      o.reason = jump_reason(e, host, port);
      o.error = e.what();
    } catch (const std::exception& e) {  // the ssh config (UsageError), a socketpair
      o.reason = "error";
      o.error = e.what();
    }
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
  CheckSpec c;  // its drift, known_hosts and jump settings
  std::string host;
  int port = 22;
  Nanos budget{};
  DriftOutcome operator()() const {
    DriftOutcome o;
    const CheckSpec::SshDrift& d = *c.drift;
    try {
      // Through the same hops as the handshake (SshSession's own ProxyJump); a hop tries the
      // drift login's key, its ssh_config IdentityFile, then jump_key_file.
      ssh::ConnectOptions opts = jump_options(c, budget);
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
      h.key_file = c.jump_key_file;
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
      std::string_view what = e.what();
      if (dynamic_cast<const ssh::HostKeyFailure*>(&e) || what.starts_with("jump host ")) {
        o.reason = jump_reason(e, host, port);
        o.error = e.what();
        return o;
      }
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

// The target's banner and key exchange over a direct TCP connection: the connect on the event
// loop (where the deadline can close it), the handshake on the pool. Sets `handshake_seconds`
// (connect included); false when the probe already failed.
asio::awaitable<bool> direct_handshake(ProbeContext& ctx, const HostPort& hp,
                                       const std::string& host_key_algorithms,
                                       Clock::time_point deadline_at, ProbeResult& r,
                                       SshOutcome& out, double& handshake_seconds) {
  asio::ip::tcp::socket sock(ctx.io());
  Deadline deadline(ctx.io(), deadline_at, [&sock] {
    std::error_code ignored;
    sock.close(ignored);
  });
  auto endpoints = co_await resolve_for_probe(ctx, hp.host, hp.port, deadline_at, deadline, r);
  if (endpoints.empty()) co_return false;
  auto connect_start = Clock::now();
  std::error_code ec;
  co_await asio::async_connect(sock, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    auto [why, text] = transport_reason(ec, deadline.fired());
    r.fail(why, "connect: " + text);
    co_return false;
  }
  r.set("netres_probe_tcp_connect_seconds", seconds_since(connect_start));
  sock.set_option(asio::ip::tcp::no_delay(true), ec);
  SshJob job;
  job.host = hp.host;
  job.port = hp.port;
  job.budget = std::chrono::duration_cast<Nanos>(deadline_at - Clock::now());
  job.host_key_algorithms = host_key_algorithms;
  // From here libssh owns the descriptor; the deadline can no longer close it (libssh's own
  // timeout bounds the handshake instead).
  deadline.set_action([] {});
  job.fd = sock.release(ec);
  if (ec) {
    r.fail("error", "cannot hand the socket to libssh: " + ec.message());
    co_return false;
  }
  auto op = on_pool<SshOutcome>(ctx.pool(), std::move(job));
  out = co_await std::move(op);
  handshake_seconds = seconds_since(connect_start);
  co_return true;
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
  // known_hosts is read on the loop: small, local, and the key types it lists order the host
  // key algorithms the server is asked for.
  const std::string name =
      c.host_key_alias.empty() ? ssh::known_hosts_name(hp.host, hp.port) : c.host_key_alias;
  const std::vector<std::string> files{c.known_hosts};
  const std::string algos = ssh::preferred_host_key_algorithms(ssh::known_key_types(files, name));

  SshOutcome out;
  double handshake_seconds = 0;
  bool jumped = false;
  if (!c.jump.empty() || !c.ssh_config.empty()) {
    // Through the hops: the target's name is resolved by the last hop, not here.
    JumpJob jj{c, hp.host, hp.port, deadline_at, algos};
    auto jop = on_pool<JumpOutcome>(ctx.pool(), std::move(jj));
    JumpOutcome jo = co_await std::move(jop);
    if (!jo.direct) {
      jumped = true;
      if (!jo.reason.empty()) {
        // A key verdict stands even when it came late; other hop failures past the deadline are
        // the deadline's.
        const bool late = Clock::now() >= deadline_at && !jo.reason.starts_with("hostkey_");
        r.fail(late ? "timeout" : jo.reason, jo.error);
        co_return r;
      }
      if (jo.jump_seconds > 0) r.set("netres_ssh_jump_seconds", jo.jump_seconds);
      out = std::move(jo.ssh);
      handshake_seconds = out.kex_seconds;
    }
  }
  if (!jumped && !co_await direct_handshake(ctx, hp, algos, deadline_at, r, out, handshake_seconds))
    co_return r;
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
  r.set("netres_ssh_handshake_seconds", handshake_seconds);
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
    DriftJob dj{c, hp.host, hp.port, std::chrono::duration_cast<Nanos>(deadline_at - Clock::now())};
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
    std::optional<double> backup_time;
    std::error_code fec;
    auto mtime = std::filesystem::last_write_time(*latest, fec);
    if (!fec) {
      auto sys = std::chrono::file_clock::to_sys(mtime);
      backup_time = std::chrono::duration<double>(sys.time_since_epoch()).count();
      r.set("netres_config_backup_timestamp_seconds", *backup_time);
    }
    const std::string running_hash = body_hash(got.running);
    const bool same = running_hash == body_hash(saved);
    r.set("netres_config_drift", same ? 0 : 1);
    // When the running configuration last changed, as far as this monitor has seen: per
    // device and show command, so two checks showing different things do not mix.
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto change = config_change_log(d.state_dir)
                      .observe(host_dir + " " + (d.command.empty() ? d.platform : d.command),
                               running_hash, same ? backup_time : std::nullopt, now);
    if (change.since) r.set("netres_config_last_change_timestamp_seconds", *change.since);
    if (!change.error.empty()) r.detail = "state_dir: " + change.error;
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
