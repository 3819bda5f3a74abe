// known_hosts parsing and matching (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").
#include "ssh/known_hosts.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "ssh/ssh_pattern.h"

namespace netres::ssh {
namespace {

bool b64_decode(std::string_view in, std::string& out) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 8192) return false;
  out.assign(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return true;
}

std::string b64_encode(std::string_view in) {
  std::string out(((in.size() + 2) / 3) * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n);
  return out;
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

struct Entry {
  bool revoked = false;
  bool cert_authority = false;
  std::string hosts, type, blob;
  size_t line = 0;
};

// Splits one known_hosts line; false for comments, blank and malformed lines (skipped, as
// OpenSSH does).
bool parse_line(std::string_view l, Entry& e) {
  std::vector<std::string_view> f;
  size_t i = 0;
  while (i < l.size() && f.size() < 5) {
    while (i < l.size() && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r')) ++i;
    if (i >= l.size() || (f.empty() && l[i] == '#')) break;
    size_t j = i;
    while (j < l.size() && l[j] != ' ' && l[j] != '\t' && l[j] != '\r') ++j;
    f.push_back(l.substr(i, j - i));
    i = j;
  }
  if (!f.empty() && f[0].starts_with('@')) {
    if (f[0] == "@revoked")
      e.revoked = true;
    else if (f[0] == "@cert-authority")
      e.cert_authority = true;
    else
      return false;
    f.erase(f.begin());
  }
  if (f.size() < 3) return false;
  e.hosts = std::string(f[0]);
  e.type = std::string(f[1]);
  e.blob = std::string(f[2]);
  return true;
}

template <typename Fn>
void for_each_entry(const std::string& file, Fn&& fn) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line) && n < 10'000'000) {
    ++n;
    Entry e;
    e.line = n;
    if (parse_line(line, e)) fn(e);
  }
}

KnownHostsCheck check_one(const std::vector<std::string>& files, const std::string& name,
                          const std::string& type, const std::string& blob) {
  KnownHostsCheck ok, changed, other, revoked;
  for (const auto& file : files) {
    for_each_entry(file, [&](const Entry& e) {
      if (e.cert_authority) return;  // host certificates: not used by netres
      if (e.revoked) {
        if (e.type == type && e.blob == blob && revoked.kind == KnownHostsCheck::kUnknown)
          revoked = {KnownHostsCheck::kRevoked, file, e.line, e.hosts};
        return;
      }
      if (!known_hosts_field_matches(e.hosts, name)) return;
      std::string shown = e.hosts.starts_with("|1|") ? name : e.hosts;
      if (e.type == type && e.blob == blob) {
        if (ok.kind == KnownHostsCheck::kUnknown) ok = {KnownHostsCheck::kOk, file, e.line, shown};
      } else if (e.type == type) {
        if (changed.kind == KnownHostsCheck::kUnknown)
          changed = {KnownHostsCheck::kChanged, file, e.line, shown};
      } else if (other.kind == KnownHostsCheck::kUnknown) {
        other = {KnownHostsCheck::kOtherType, file, e.line, shown};
      }
    });
  }
  if (revoked.kind != KnownHostsCheck::kUnknown) return revoked;
  if (ok.kind != KnownHostsCheck::kUnknown) return ok;
  if (changed.kind != KnownHostsCheck::kUnknown) return changed;
  return other;
}

}  // namespace

std::string known_hosts_name(const std::string& host, int port) {
  if (port == 22 || port == 0) return host;
  return fmt::format("[{}]:{}", host, port);
}

bool known_hosts_field_matches(std::string_view field, std::string_view name_in) {
  std::string name = ascii_lower(name_in);
  if (field.starts_with("|1|")) {
    std::string_view rest = field.substr(3);
    size_t bar = rest.find('|');
    if (bar == std::string_view::npos) return false;
    std::string salt, hash;
    if (!b64_decode(rest.substr(0, bar), salt) || !b64_decode(rest.substr(bar + 1), hash))
      return false;
    return hmac_sha1(salt, name) == hash;
  }
  bool positive = false;
  size_t start = 0;
  while (start <= field.size()) {
    size_t comma = field.find(',', start);
    std::string_view p = field.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    bool neg = !p.empty() && p.front() == '!';
    if (neg) p.remove_prefix(1);
    if (!p.empty() && ssh_pattern_match(ascii_lower(p), name)) {
      if (neg) return false;
      positive = true;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return positive;
}

KnownHostsCheck check_known_hosts(const std::vector<std::string>& files, const std::string& name,
                                  const std::string& key_type, const std::string& key_b64) {
  return check_one(files, name, key_type, key_b64);
}

std::vector<std::string> known_key_types(const std::vector<std::string>& files,
                                         const std::string& name) {
  std::vector<std::string> types;
  for (const auto& file : files)
    for_each_entry(file, [&](const Entry& e) {
      if (e.revoked || e.cert_authority || !known_hosts_field_matches(e.hosts, name)) return;
      if (std::find(types.begin(), types.end(), e.type) == types.end()) types.push_back(e.type);
    });
  return types;
}

std::string hash_known_hosts_name(const std::string& name) {
  unsigned char salt[20];
  RAND_bytes(salt, sizeof salt);
  std::string s(reinterpret_cast<char*>(salt), sizeof salt);
  return "|1|" + b64_encode(s) + "|" + b64_encode(hmac_sha1(s, ascii_lower(name)));
}

KnownHostsCheck learn_host_key(const std::string& path, const std::string& name,
                               const std::string& key_type, const std::string& key_b64,
                               bool hash_name) {
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw RuntimeError(fmt::format("cannot create {}: {}", dir, std::strerror(errno)));
  }
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw RuntimeError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  // Everyone appending (netres workers, other netres runs) takes this lock, then re-reads: a
  // worker that waited sees the line the first one wrote and does not add a duplicate.
  ::flock(fd, LOCK_EX);
  KnownHostsCheck again = check_one({path}, name, key_type, key_b64);
  if (again.kind == KnownHostsCheck::kUnknown) {
    std::string text = fmt::format("{} {} {}\n", hash_name ? hash_known_hosts_name(name) : name,
                                   key_type, key_b64);
    // A file whose last line lacks its newline would glue our line onto it.
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      char last = '\n';
      if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') text.insert(0, "\n");
    }
    ssize_t n = ::write(fd, text.data(), text.size());
    ::fsync(fd);
    if (n != static_cast<ssize_t>(text.size())) {
      ::close(fd);
      throw RuntimeError(fmt::format("short write to {}", path));
    }
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  return again;
}

}  // namespace netres::ssh
