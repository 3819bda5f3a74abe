// OpenSSH client configuration, read and evaluated the way ssh(1) does (ssh_config(5)): Host
// and Match blocks (host, originalhost, user, localuser, all, final, negations), Include with
// globs (relative to ~/.ssh or /etc/ssh), the first value of a keyword wins, IdentityFile
// accumulates. netres reads the files itself instead of letting libssh do it: libssh 0.10 skips
// what it does not understand, has no HostKeyAlias or Match originalhost, and turns ProxyJump
// into a `ssh -W` subprocess.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netres::ssh {

// What the config says for one host. Unset optionals: the config is silent (defaults apply).
// Paths and HostName are raw (tokens like %h and ~ unexpanded): see expand_config_tokens.
struct HostConfig {
  std::string original_host;  // the name as given, matched by Host and Match originalhost
  std::optional<std::string> hostname;
  std::optional<int> port;
  std::optional<std::string> user;
  std::vector<std::string> identity_files;  // every IdentityFile, in order
  std::optional<bool> identities_only;
  std::optional<std::vector<std::string>> user_known_hosts;    // "none" -> empty list
  std::optional<std::vector<std::string>> global_known_hosts;  // "none" -> empty list
  std::optional<std::string> strict_host_key_checking;         // yes, accept-new, no (ask -> yes)
  std::string strict_where;                                    // file:line of that value
  std::optional<long> connect_timeout_s;
  std::optional<long> server_alive_interval_s;
  std::optional<std::string> proxy_jump;  // "none" or a comma-separated hop list
  std::optional<std::string> proxy_command;
  std::optional<std::string> host_key_alias;
  std::optional<bool> hash_known_hosts;
  std::optional<bool> pubkey_authentication;
  std::optional<bool> kbd_interactive_authentication;
  std::optional<bool> password_authentication;
  std::optional<std::string> host_key_algorithms;
  std::optional<std::string> ciphers;
  std::optional<std::string> kex_algorithms;
  std::optional<std::string> macs;
};

class SshConfig {
 public:
  // -F FILE: only that file, which must exist. Otherwise ~/.ssh/config (when present) then
  // /etc/ssh/ssh_config (when present), as ssh(1). Throws UsageError "file:line: ..." for
  // unknown keywords (unless IgnoreUnknown), missing or bad values, Include loops; every
  // Include'd file is read and checked up front, whichever block it sits in.
  static SshConfig load(const std::string& explicit_file, const std::string& home);
  // One config from text (unit tests, check_ssh_config_text). Relative Includes resolve
  // against `include_dir`.
  static SshConfig from_text(std::string_view text, std::string_view file,
                             const std::string& include_dir = "");

  // The settings for `host` (the name as given). `user_hint` is the remote user known before
  // the config is read (inventory or user@), used by `Match user`; `local_user` by localuser.
  HostConfig resolve(const std::string& host, const std::string& user_hint,
                     const std::string& local_user) const;

  struct Line {
    std::string keyword;  // lower case
    std::vector<std::string> args;
    std::string where;          // file:line
    std::vector<size_t> files;  // Include: indexes into files_
  };
  struct File {
    std::string path;
    std::vector<Line> lines;
  };

 private:
  void walk(size_t file, bool final_pass, HostConfig& out, const std::string& local_user,
            const std::string& user_hint) const;
  size_t parse_file(const std::string& path, std::string_view text, bool system, int depth,
                    std::vector<std::string>& ignore_unknown);
  std::vector<File> files_;
  std::vector<size_t> roots_;
  bool has_final_ = false;
  std::string home_;
};

// Expands ~ and the %-tokens OpenSSH allows in IdentityFile / UserKnownHostsFile: %% %d (local
// home) %h (remote host name) %n (original name) %p (port) %r (remote user) %u (local user)
// %i (uid) %l (local host name) %k (host key alias or original name).
struct TokenContext {
  std::string home, hostname, original, remote_user, local_user, host_key_alias;
  int port = 22;
};
std::string expand_config_tokens(const std::string& text, const TokenContext& ctx);

// OpenSSH time values: "30", "30s", "1m30s", "2h" (seconds by default). nullopt when malformed.
std::optional<long> parse_config_time(std::string_view text);

// The local login name (getpwuid, then $USER).
std::string local_user_name();

}  // namespace netres::ssh
