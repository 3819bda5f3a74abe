// SFTP transfers to a temporary name, size check, rename into place, then an optional
// sha256sum over an exec channel compared with the local digest.
#include "ssh/file_copy.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libssh/sftp.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include "common/atomic_file.h"
#include "common/error.h"

namespace netres::ssh {
namespace {

struct SftpDeleter {
  void operator()(sftp_session s) const { sftp_free(s); }
};
using Sftp = std::unique_ptr<sftp_session_struct, SftpDeleter>;

std::string basename_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

Sftp open_sftp(SshSession& session) {
  Sftp sftp(sftp_new(session.raw()));
  if (!sftp || sftp_init(sftp.get()) != SSH_OK)
    throw HostFailure(HostStatus::kFailed, "SFTP refused: " + session.error());
  return sftp;
}

uint64_t remote_size(sftp_session sftp, const std::string& path) {
  sftp_attributes a = sftp_stat(sftp, path.c_str());
  if (!a) throw HostFailure(HostStatus::kFailed, fmt::format("cannot stat remote {}", path));
  uint64_t size = a->size;
  sftp_attributes_free(a);
  return size;
}

// The remote digest, or empty when the host has no working sha256sum.
std::string remote_sha256(SshSession& session, const std::string& path, Nanos timeout) {
  std::string out;
  auto r = session.exec("sha256sum -- " + shell_quote(path), timeout,
                        [&](Stream s, std::string_view chunk) {
                          if (s == Stream::kStdout && out.size() < 4096) out.append(chunk);
                        });
  if (!r.exit_code || *r.exit_code != 0 || out.size() < 64) return "";
  return out.substr(0, 64);
}

// SFTP v3 rename refuses an existing target and libssh 0.10 has no posix-rename@openssh.com
// call, so an existing file is replaced by `mv -f` (rename(2), atomic) over an exec channel;
// only hosts without a shell fall back to unlink + rename.
bool replace_remote(SshSession& session, sftp_session sftp, const std::string& tmp,
                    const std::string& dest, Nanos timeout) {
  if (sftp_rename(sftp, tmp.c_str(), dest.c_str()) == SSH_OK) return true;
  try {
    auto r =
        session.exec("mv -f -- " + shell_quote(tmp) + " " + shell_quote(dest), timeout, nullptr);
    if (r.exit_code && *r.exit_code == 0) return true;
  } catch (const HostFailure&) {
  }
  sftp_unlink(sftp, dest.c_str());
  return sftp_rename(sftp, tmp.c_str(), dest.c_str()) == SSH_OK;
}

void upload(SshSession& session, const CopyOptions& o, CopyResult& d) {
  Sftp sftp = open_sftp(session);
  d.local_path = o.source;
  d.remote_path = o.dest.ends_with('/') ? o.dest + basename_of(o.source) : o.dest;
  // Unique per transfer: two inventory entries may well be the same machine.
  std::string tmp =
      fmt::format("{}.netres-tmp.{}.{:x}", d.remote_path, ::getpid(), std::random_device{}());
  std::ifstream in(o.source, std::ios::binary);
  if (!in) throw HostFailure(HostStatus::kFailed, "cannot read " + o.source);
  sftp_file f = sftp_open(sftp.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!f)
    throw HostFailure(HostStatus::kFailed,
                      fmt::format("cannot create remote {}: {}", tmp, session.error()));
  std::vector<char> buf(32768);
  uint64_t sent = 0;
  while (in) {
    in.read(buf.data(), buf.size());
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    if (sftp_write(f, buf.data(), n) != n) {
      sftp_close(f);
      sftp_unlink(sftp.get(), tmp.c_str());
      throw HostFailure(HostStatus::kFailed, fmt::format("write to remote {} failed", tmp));
    }
    sent += n;
  }
  sftp_close(f);
  if (remote_size(sftp.get(), tmp) != sent) {
    sftp_unlink(sftp.get(), tmp.c_str());
    throw HostFailure(HostStatus::kFailed, "size mismatch after upload");
  }
  if (!replace_remote(session, sftp.get(), tmp, d.remote_path, o.timeout)) {
    sftp_unlink(sftp.get(), tmp.c_str());
    throw HostFailure(HostStatus::kFailed,
                      fmt::format("cannot rename into {}: {}", d.remote_path, session.error()));
  }
  d.bytes = sent;
}

void download(SshSession& session, const CopyOptions& o, const Host& host, CopyResult& d) {
  Sftp sftp = open_sftp(session);
  d.remote_path = o.source;
  std::string dir = o.dest + "/" + safe_file_name(host.name);
  make_directories(dir);
  d.local_path = dir + "/" + basename_of(o.source);
  uint64_t expected = remote_size(sftp.get(), o.source);
  sftp_file f = sftp_open(sftp.get(), o.source.c_str(), O_RDONLY, 0);
  if (!f) throw HostFailure(HostStatus::kFailed, fmt::format("cannot open remote {}", o.source));
  std::string data;
  std::vector<char> buf(32768);
  for (;;) {
    ssize_t n = sftp_read(f, buf.data(), buf.size());
    if (n < 0) {
      sftp_close(f);
      throw HostFailure(HostStatus::kFailed, fmt::format("read of remote {} failed", o.source));
    }
    if (n == 0) break;
    data.append(buf.data(), n);
  }
  sftp_close(f);
  if (data.size() != expected)
    throw HostFailure(
        HostStatus::kFailed,
        fmt::format("size mismatch: {} bytes read, remote says {}", data.size(), expected));
  write_file_atomically(d.local_path, data);
  d.bytes = data.size();
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError("cannot read " + path);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(65536);
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), in.gcount());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

CopyRun copy_files(const Inventory& inventory, const CopyOptions& o) {
  if (o.source.empty() || o.dest.empty()) throw UsageError("copy needs a source and --to");
  if (o.upload) {
    struct stat st {};
    if (::stat(o.source.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      throw UsageError(fmt::format("'{}' is not a readable regular file", o.source));
  } else {
    make_directories(o.dest);
  }
  std::string local_digest = o.upload && o.checksum ? sha256_file(o.source) : "";
  CopyRun run;
  const auto& hosts = inventory.hosts();
  run.details.resize(hosts.size());
  FanOutRunner runner(o.forks);
  run.hosts = runner.run(
      hosts,
      [&](const Host& h) {
        HostResult r;
        CopyResult& d = run.details[&h - hosts.data()];
        SshSession session(h, o.connect);
        session.connect();
        if (o.upload)
          upload(session, o, d);
        else
          download(session, o, h, d);
        d.verified = "size";
        if (o.checksum) {
          d.sha256 = o.upload ? local_digest : sha256_file(d.local_path);
          std::string remote = remote_sha256(session, d.remote_path, o.timeout);
          if (!remote.empty()) {
            if (remote != d.sha256)
              throw HostFailure(
                  HostStatus::kFailed,
                  fmt::format("sha256 mismatch: local {}, remote {}", d.sha256, remote));
            d.verified = "sha256";
          }
        }
        return r;
      },
      o.on_host_done);
  return run;
}

}  // namespace netres::ssh
