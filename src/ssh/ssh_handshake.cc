#include "ssh/ssh_handshake.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "common/error.h"
#include "ssh/known_hosts.h"

namespace netres::ssh {
namespace {

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

void apply_options(ssh_session s, const Endpoint& ep, int fd, int log_level) {
  ssh_options_set(s, SSH_OPTIONS_HOST, ep.hostname.c_str());
  unsigned port = static_cast<unsigned>(ep.port);
  ssh_options_set(s, SSH_OPTIONS_PORT, &port);
  ssh_options_set(s, SSH_OPTIONS_USER, ep.user.c_str());
  ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &log_level);
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
    algos = preferred_host_key_algorithms(known_key_types(files, ep.known_hosts_name));
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

}  // namespace

std::string preferred_host_key_algorithms(const std::vector<std::string>& known_types) {
  if (known_types.empty()) return "";
  std::vector<std::string> order;
  auto add = [&order](const std::string& a) {
    if (std::find(order.begin(), order.end(), a) == order.end()) order.push_back(a);
  };
  for (const auto& t : known_types) {
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
  std::string algos;
  for (const auto& a : order) algos += (algos.empty() ? "" : ",") + a;
  return algos;
}

bool server_host_key(ssh_session s, ServerHostKey& out) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(s, &key) != SSH_OK) {
    out.error = "the server sent no host key";
    return false;
  }
  std::unique_ptr<ssh_key_struct, void (*)(ssh_key)> key_guard(key, ssh_key_free);
  out.type = ssh_key_type_to_char(ssh_key_type(key));
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || !b64) {
    out.error = "cannot read the server's host key";
    return false;
  }
  out.base64 = b64;
  ssh_string_free_char(b64);
  out.fingerprint = "(unknown)";
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) == 0) {
    if (char* f = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len)) {
      out.fingerprint = f;
      ssh_string_free_char(f);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  return true;
}

namespace {

void verify_host_key(ssh_session s, const Endpoint& ep, const std::string& prefix) {
  ServerHostKey k;
  if (!server_host_key(s, k)) throw HostFailure(HostStatus::kHostKey, prefix + k.error);
  const std::string& type = k.type;
  const std::string& blob = k.base64;
  const std::string& fp = k.fingerprint;
  std::vector<std::string> files = ep.user_known_hosts;
  files.insert(files.end(), ep.global_known_hosts.begin(), ep.global_known_hosts.end());
  auto changed = [&](const KnownHostsCheck& r) {
    return HostKeyFailure(
        r.kind,
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
      throw HostKeyFailure(
          r.kind, fmt::format("{}host key {} {} is marked @revoked at {}:{}. Refused", prefix, type,
                              fp, r.file, r.line));
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
    throw HostKeyFailure(
        KnownHostsCheck::kUnknown,
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

}  // namespace

std::string session_error(ssh_session s) {
  const char* e = ssh_get_error(s);
  return e && *e ? e : "connection failed";
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

// Connects `s` (directly, through a ProxyCommand, or over `fd`), checks its host key and
// authenticates. `prefix` names a jump host in every error.
void establish(ssh_session s, const Endpoint& ep, const ConnectOptions& o, int fd,
               const std::string& prefix, int log_level) {
  apply_options(s, ep, fd, log_level);
  if (ssh_connect(s) != SSH_OK)
    throw HostFailure(HostStatus::kUnreachable, prefix + session_error(s));
  verify_host_key(s, ep, prefix);
  authenticate(s, ep, o, prefix);
}

}  // namespace netres::ssh
