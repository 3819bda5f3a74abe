// known_hosts files read the way OpenSSH reads them: several user and global files, host
// patterns with wildcards and negation, hashed names (|1|salt|hmac), @revoked markers,
// "[host]:port" for non-default ports, HostKeyAlias names. netres checks host keys itself (not
// with libssh's ssh_session_is_known_server) so that UserKnownHostsFile lists,
// GlobalKnownHostsFile and HostKeyAlias are honoured and errors can name the exact entry.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace netres::ssh {

struct KnownHostsCheck {
  enum Kind { kUnknown, kOk, kChanged, kOtherType, kRevoked };
  Kind kind = kUnknown;
  // For kOk/kChanged/kOtherType/kRevoked: the entry that decided it.
  std::string file;
  size_t line = 0;
  std::string entry_host;  // the host field as written (hashed entries: the name looked up)
};

// "host" for port 22, "[host]:port" otherwise (OpenSSH's put_host_port).
std::string known_hosts_name(const std::string& host, int port);

// True when a known_hosts host field (patterns or a |1| hash) matches `name`.
bool known_hosts_field_matches(std::string_view field, std::string_view name);

// Checks the key (type as "ssh-ed25519", blob in base64) for `name` against the files in
// order; missing files are skipped. A matching key wins over a mismatching one (a host may have
// several keys); @revoked wins over everything.
KnownHostsCheck check_known_hosts(const std::vector<std::string>& files, const std::string& name,
                                  const std::string& key_type, const std::string& key_b64);

// Key types recorded for `name` (to prefer those host key algorithms, as OpenSSH does).
std::vector<std::string> known_key_types(const std::vector<std::string>& files,
                                         const std::string& name);

// The hashed form of a name: "|1|" base64(salt) "|" base64(HMAC-SHA1(salt, name)).
std::string hash_known_hosts_name(const std::string& name);

// accept-new: under an exclusive flock on `path` (creating it 0600 and its directory 0700),
// re-reads the file and appends "name type blob" only if the key is still unknown there, so
// parallel connections to one host:port write one line. Returns the check done under the lock
// (kUnknown when it appended). Throws RuntimeError when the file cannot be written.
KnownHostsCheck learn_host_key(const std::string& path, const std::string& name,
                               const std::string& key_type, const std::string& key_b64,
                               bool hash_name);

}  // namespace netres::ssh
