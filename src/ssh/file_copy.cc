// Pipelined SFTP transfers (sftp_client.h) to a temporary name, size check, rename into place,
// then an optional sha256sum over an exec channel compared with the local digest.
#include "ssh/file_copy.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <random>

#include "common/atomic_file.h"
#include "common/error.h"
#include "ssh/sftp_client.h"

namespace netres::ssh {
namespace {

using Clock = std::chrono::steady_clock;

std::string basename_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string temp_name(const std::string& path) {
  // Unique per transfer: two inventory entries may well be the same machine. The name part is
  // cut so that a target near NAME_MAX (255) still has a temporary name that fits.
  auto slash = path.rfind('/');
  size_t base = slash == std::string::npos ? 0 : slash + 1;
  std::string head = path.substr(0, base) + path.substr(base, 200);
  return fmt::format("{}.netres-tmp.{}.{:x}", head, ::getpid(), std::random_device{}());
}

// An SSH channel running the sftp subsystem, as the SFTP client's byte stream.
class ChannelTransport : public sftp::Transport {
 public:
  ChannelTransport(SshSession& session, Clock::time_point deadline)
      : session_(session), deadline_(deadline), ch_(ssh_channel_new(session.raw())) {
    if (!ch_.get() || ssh_channel_open_session(ch_.get()) != SSH_OK)
      throw HostFailure(HostStatus::kFailed, "cannot open a session channel: " + session.error());
    if (ssh_channel_request_subsystem(ch_.get(), "sftp") != SSH_OK)
      throw HostFailure(HostStatus::kFailed, "SFTP refused: " + session.error());
  }

  void write(std::string_view data) override {
    while (!data.empty()) {
      // Blocks while the server's window is full; returns short only on its own timeout.
      int n = ssh_channel_write(ch_.get(), data.data(),
                                static_cast<uint32_t>(std::min<size_t>(data.size(), 1 << 20)));
      if (n < 0 || !ssh_channel_is_open(ch_.get())) lost();
      if (n == 0 && Clock::now() >= deadline_)
        throw sftp::TimeoutError("SFTP server did not take the data in time");
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // A graceful end: EOF, then the server's EOF once its SFTP server has exited (at most a
  // second). Freeing a channel the server has not finished closing made the next channel open
  // fail now and then on dropbear.
  ~ChannelTransport() override {
    if (abandoned_ || !ssh_channel_is_open(ch_.get()) || ssh_channel_send_eof(ch_.get()) != SSH_OK)
      return;
    auto until = Clock::now() + std::chrono::seconds(1);
    char buf[4096];
    while (!ssh_channel_is_eof(ch_.get()) && Clock::now() < until)
      if (ssh_channel_read_timeout(ch_.get(), buf, sizeof buf, 0, 100) < 0) break;
  }

  // After a timeout: the server is not answering, so no graceful end is waited for.
  void abandon() { abandoned_ = true; }

  size_t read(char* buf, size_t n, std::chrono::milliseconds wait) override {
    int got = ssh_channel_read_timeout(ch_.get(), buf,
                                       static_cast<uint32_t>(std::min<size_t>(n, 1 << 20)), 0,
                                       static_cast<int>(wait.count()));
    if (got < 0) lost();
    if (got == 0 && (ssh_channel_is_eof(ch_.get()) || !ssh_channel_is_open(ch_.get())))
      throw HostFailure(HostStatus::kFailed, "the server closed the SFTP channel");
    return static_cast<size_t>(got);
  }

 private:
  [[noreturn]] void lost() {
    throw HostFailure(HostStatus::kFailed,
                      "connection lost during the SFTP transfer: " + session_.error());
  }
  SshSession& session_;
  Clock::time_point deadline_;
  Channel ch_;
  bool abandoned_ = false;
};

// `sha256sum PATH` on the host, started now and read by result(). A download starts it before
// the data streams: the file is not changing, and the remote hashing then costs no wall time.
class RemoteDigest {
 public:
  RemoteDigest(SshSession& session, const std::string& path) : session_(session) {
    std::string command = "sha256sum -- " + shell_quote(path);
    for (int attempt = 0; attempt < 2 && !ch_.get(); ++attempt) {
      Channel ch(ssh_channel_new(session.raw()));
      if (!ch.get() || ssh_channel_open_session(ch.get()) != SSH_OK) continue;
      // Refused: a server without exec (some devices) has no sha256sum to offer either.
      if (ssh_channel_request_exec(ch.get(), command.c_str()) != SSH_OK) return;
      // Nothing to send: an sftp-only account (ForceCommand internal-sftp) runs its SFTP
      // server for this command instead, and that ends at EOF rather than waiting forever.
      ssh_channel_send_eof(ch.get());
      ch_ = std::move(ch);
    }
    if (!ch_.get())
      throw HostFailure(HostStatus::kFailed,
                        "cannot open a channel for sha256sum: " + session.error());
  }

  // The hex digest, or empty when the host has no working sha256sum.
  std::string result(Nanos timeout) {
    if (!ch_.get()) return "";
    auto deadline = timeout > Nanos(0) ? Clock::now() + timeout : Clock::time_point::max();
    std::string out;
    char buf[4096];
    auto drain = [&](int is_stderr) {
      for (int i = 0; i < 64; ++i) {
        int n = ssh_channel_read_nonblocking(ch_.get(), buf, sizeof buf, is_stderr);
        if (n <= 0) break;
        if (!is_stderr && out.size() < 4096) out.append(buf, static_cast<size_t>(n));
      }
    };
    // ssh_channel_is_eof stays false while output is still buffered.
    while (!ssh_channel_is_eof(ch_.get())) {
      int n = ssh_channel_read_timeout(ch_.get(), buf, sizeof buf, 0, 200);
      if (n < 0) throw HostFailure(HostStatus::kFailed, "connection lost while sha256sum ran");
      if (n > 0 && out.size() < 4096) out.append(buf, static_cast<size_t>(n));
      drain(1);  // its error text is not needed; a full window would stall it
      if (n == 0 && !ssh_channel_is_open(ch_.get())) break;
      if (Clock::now() >= deadline) {
        ssh_channel_request_send_signal(ch_.get(), "TERM");
        throw HostFailure(HostStatus::kTimeout, fmt::format("sha256sum still running after {}",
                                                            format_duration(timeout)));
      }
      session_.keepalive_tick();
    }
    drain(0);
    int status = ssh_channel_get_exit_status(ch_.get());
    if (status != 0 || out.size() < 64) return "";
    return out.substr(0, 64);
  }

 private:
  SshSession& session_;
  Channel ch_;
};

// rename(2) over the target: posix-rename@openssh.com where the server has it (OpenSSH).
// Plain SFTP v3 rename refuses an existing target, so without the extension an existing file
// is replaced by `mv -f` (also rename(2)) over an exec channel; only hosts without a shell fall
// back to remove + rename, which leaves a moment without the file.
void replace_remote(SshSession& session, sftp::Client& c, const std::string& tmp,
                    const std::string& dest, Nanos timeout) {
  if (c.has_extension("posix-rename@openssh.com")) {
    c.posix_rename(tmp, dest);
    return;
  }
  try {
    c.rename(tmp, dest);
    return;
  } catch (const sftp::StatusError&) {
  }
  try {
    auto r =
        session.exec("mv -f -- " + shell_quote(tmp) + " " + shell_quote(dest), timeout, nullptr);
    if (r.exit_code && *r.exit_code == 0) return;
  } catch (const HostFailure&) {
  }
  try {
    c.remove(dest);
  } catch (const sftp::StatusError&) {
  }
  c.rename(tmp, dest);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release_close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

void upload(SshSession& session, sftp::Client& c, const CopyOptions& o, CopyResult& d) {
  d.local_path = o.source;
  d.remote_path = o.dest;
  if (o.dest.ends_with('/')) {
    d.remote_path += basename_of(o.source);
  } else {
    // An existing directory gets the file inside it, as with scp.
    try {
      auto a = c.stat(o.dest);
      if (a.permissions && S_ISDIR(*a.permissions)) d.remote_path += "/" + basename_of(o.source);
    } catch (const sftp::StatusError&) {
    }
  }
  Fd in(::open(o.source.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (in.get() < 0 || ::fstat(in.get(), &st) != 0)
    throw HostFailure(HostStatus::kFailed,
                      fmt::format("cannot read {}: {}", o.source, std::strerror(errno)));
  std::string tmp = temp_name(d.remote_path);
  // The local file's permission bits, as scp gives a new file (the server applies its umask).
  std::string handle =
      c.open(tmp, sftp::kFxfWrite | sftp::kFxfCreat | sftp::kFxfExcl, st.st_mode & 0777);
  bool open = true;
  try {
    uint64_t sent = c.write_all(handle, [&](char* buf, size_t n) -> size_t {
      for (;;) {
        ssize_t r = ::read(in.get(), buf, n);
        if (r >= 0) return static_cast<size_t>(r);
        if (errno != EINTR)
          throw HostFailure(HostStatus::kFailed,
                            fmt::format("cannot read {}: {}", o.source, std::strerror(errno)));
      }
    });
    open = false;
    c.close(handle);  // reports write errors the server saw late (e.g. a full disk on NFS)
    auto a = c.stat(tmp);
    if (!a.size || *a.size != sent)
      throw HostFailure(HostStatus::kFailed,
                        fmt::format("size mismatch after upload: {} bytes sent, remote has {}",
                                    sent, a.size ? std::to_string(*a.size) : "no size"));
    replace_remote(session, c, tmp, d.remote_path, o.timeout);
    d.bytes = sent;
  } catch (...) {
    // Best effort: the link may be what failed.
    try {
      if (open) c.close(handle);
    } catch (const std::exception&) {
    }
    try {
      c.remove(tmp);
    } catch (const std::exception&) {
    }
    throw;
  }
}

void download(SshSession& session, sftp::Client& c, const CopyOptions& o, const Host& host,
              CopyResult& d, std::optional<RemoteDigest>& digest) {
  d.remote_path = o.source;
  std::string dir = o.dest + "/" + safe_file_name(host.name);
  make_directories(dir);
  d.local_path = dir + "/" + basename_of(o.source);
  std::string handle = c.open(o.source, sftp::kFxfRead, std::nullopt);
  struct Closer {
    sftp::Client& c;
    const std::string& h;
    ~Closer() {
      try {
        c.close(h);
      } catch (const std::exception&) {
      }
    }
  } closer{c, handle};
  // The size of the file opened, not of whatever the path names a moment later.
  auto a = c.fstat(handle);
  if (a.permissions && S_ISDIR(*a.permissions))
    throw HostFailure(HostStatus::kFailed, fmt::format("remote {} is a directory", o.source));
  if (!a.size)
    throw HostFailure(HostStatus::kFailed, fmt::format("no size for remote {}", o.source));
  if (o.checksum) digest.emplace(session, o.source);
  // Streamed to a temporary file beside the target, then renamed: the target is either the old
  // file or the whole new one, and memory stays flat whatever the size.
  std::string tmp = temp_name(d.local_path);
  Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (out.get() < 0)
    throw HostFailure(HostStatus::kFailed,
                      fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  auto fail = [&](const std::string& what) {
    int e = errno;
    out.reset();
    ::unlink(tmp.c_str());
    throw HostFailure(HostStatus::kFailed, fmt::format("{} {}: {}", what, tmp, std::strerror(e)));
  };
  try {
    c.read_all(handle, *a.size, [&](uint64_t off, std::string_view data) {
      while (!data.empty()) {
        ssize_t n = ::pwrite(out.get(), data.data(), data.size(), static_cast<off_t>(off));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("cannot write");
        data.remove_prefix(static_cast<size_t>(n));
        off += static_cast<uint64_t>(n);
      }
    });
  } catch (...) {
    out.reset();
    ::unlink(tmp.c_str());
    throw;
  }
  if (::fsync(out.get()) != 0 || out.release_close() != 0) fail("cannot sync");
  if (::rename(tmp.c_str(), d.local_path.c_str()) != 0) fail("cannot rename");
  // The rename is durable only once the directory entry is.
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
  d.bytes = *a.size;
}

// One host's transfer; SFTP client errors become the host's status.
void transfer(SshSession& session, const CopyOptions& o, const Host& host, CopyResult& d,
              std::optional<RemoteDigest>& digest) {
  auto deadline = o.timeout > Nanos(0) ? Clock::now() + o.timeout : Clock::time_point::max();
  ChannelTransport transport(session, deadline);
  sftp::ClientOptions co;
  co.deadline = deadline;
  co.tick = [&] { session.keepalive_tick(); };
  sftp::Client c(transport, co);
  try {
    c.init();
    if (o.upload)
      upload(session, c, o, d);
    else
      download(session, c, o, host, d, digest);
  } catch (const sftp::TimeoutError&) {
    transport.abandon();
    throw HostFailure(HostStatus::kTimeout,
                      fmt::format("transfer still running after {}", format_duration(o.timeout)));
  } catch (const sftp::ProtocolError& e) {
    throw HostFailure(HostStatus::kFailed, std::string("SFTP protocol error: ") + e.what());
  } catch (const sftp::StatusError& e) {
    throw HostFailure(HostStatus::kFailed, e.what());
  }
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
  // Hashed while the hosts connect and upload, not before: a large image costs no wall time.
  std::shared_future<std::string> local_digest;
  if (o.upload && o.checksum)
    local_digest = std::async(std::launch::async, sha256_file, o.source).share();
  return fan_out_with_details<CopyResult>(
      inventory.hosts(), o.forks, o.on_host_done, [&](const Host& h, CopyResult& d, HostResult&) {
        SshSession session(h, o.connect);
        session.connect();
        std::optional<RemoteDigest> digest;
        transfer(session, o, h, d, digest);
        d.verified = "size";
        if (o.checksum) {
          d.sha256 = o.upload ? local_digest.get() : sha256_file(d.local_path);
          if (!digest) digest.emplace(session, d.remote_path);
          std::string remote = digest->result(o.timeout);
          if (!remote.empty()) {
            if (remote != d.sha256)
              throw HostFailure(
                  HostStatus::kFailed,
                  fmt::format("sha256 mismatch: local {}, remote {}", d.sha256, remote));
            d.verified = "sha256";
          }
        }
      });
}

}  // namespace netres::ssh
