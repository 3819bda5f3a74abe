// A small SFTP version 3 client (draft-ietf-secsh-filexfer-02, as OpenSSH speaks it) whose
// bulk transfers keep many READ or WRITE requests in flight. libssh 0.10's sftp_write waits for
// each 32 KB write's acknowledgement (one round trip, plus Nagle and delayed ACK, per request)
// and its async API only reads; sftp_aio_* arrives in libssh 0.11. Only the calls `netres ssh
// copy` needs are here. The byte stream is abstracted (Transport) so the pipelining and the
// reply parser are unit-tested against an in-memory server and fuzzed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace netres::ssh::sftp {

// Packet types (filexfer-02 section 3) and status codes (section 7).
enum : uint8_t {
  kInit = 1,
  kVersion = 2,
  kOpen = 3,
  kClose = 4,
  kRead = 5,
  kWrite = 6,
  kFstat = 8,
  kRemove = 13,
  kStat = 17,
  kRename = 18,
  kStatus = 101,
  kHandle = 102,
  kData = 103,
  kAttrs = 105,
  kExtended = 200,
  kExtendedReply = 201,
};
enum : uint32_t {
  kOk = 0,
  kEof = 1,
  kNoSuchFile = 2,
  kPermissionDenied = 3,
  kFailure = 4,
  kBadMessage = 5,
  kOpUnsupported = 8,
};
// SSH_FXF_* open flags.
enum : uint32_t { kFxfRead = 1, kFxfWrite = 2, kFxfCreat = 8, kFxfTrunc = 0x10, kFxfExcl = 0x20 };

// The largest reply accepted: OpenSSH caps its messages at 256 KiB; a bigger length is garbage.
inline constexpr uint32_t kMaxPacket = 1u << 20;

// The peer broke the protocol (malformed or unexpected reply).
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The server answered a request with a failure status.
class StatusError : public std::runtime_error {
 public:
  StatusError(uint32_t code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  uint32_t code() const { return code_; }

 private:
  uint32_t code_;
};
// No reply within the deadline.
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One parsed reply. `id` is 0 for VERSION.
struct Reply {
  uint8_t type = 0;
  uint32_t id = 0;
  uint32_t status = 0;           // kStatus
  std::string message;           // kStatus
  std::string handle;            // kHandle
  std::string_view data;         // kData: points into the parser's buffer, valid until next parse
  std::optional<uint64_t> size;  // kAttrs
  std::optional<uint32_t> permissions;            // kAttrs
  uint32_t version = 0;                           // kVersion
  std::map<std::string, std::string> extensions;  // kVersion
};

// Takes one complete packet off the front of `buffer` (advancing it) and parses it; nullopt
// when the buffer does not hold a whole packet yet. Throws ProtocolError on malformed bytes.
std::optional<Reply> take_reply(std::string_view& buffer);

// Human text for a status code ("no such file", ...).
std::string status_text(uint32_t code);

// The byte stream under the protocol (an SSH channel running the sftp subsystem).
class Transport {
 public:
  virtual ~Transport() = default;
  // Sends all of `data`; throws on a broken link.
  virtual void write(std::string_view data) = 0;
  // Reads at most `n` bytes, waiting up to `wait`: 0 when nothing came in that time. Throws on
  // end of stream or a broken link.
  virtual size_t read(char* buf, size_t n, std::chrono::milliseconds wait) = 0;
};

struct ClientOptions {
  uint32_t chunk = 32768;       // bytes per READ/WRITE request (every server accepts 32 KiB)
  unsigned max_in_flight = 64;  // requests outstanding at once (OpenSSH's sftp/scp default)
  // Whole-operation deadline for each call; max(): none.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::function<void()> tick;  // called while waiting (keepalives)
};

class Client {
 public:
  Client(Transport& transport, ClientOptions options);

  // INIT / VERSION exchange; records the server's extensions.
  void init();
  bool has_extension(const std::string& name) const { return extensions_.count(name) != 0; }

  std::string open(const std::string& path, uint32_t flags, std::optional<uint32_t> mode);
  void close(const std::string& handle);
  // Size of a path / an open file (nullopt if the server did not send one), permissions too.
  Reply stat(const std::string& path);
  Reply fstat(const std::string& handle);
  void remove(const std::string& path);
  // SSH_FXP_RENAME: refuses an existing target on OpenSSH (filexfer-02 leaves it open).
  void rename(const std::string& from, const std::string& to);
  // posix-rename@openssh.com: rename(2), atomically replacing `to`.
  void posix_rename(const std::string& from, const std::string& to);

  // Writes everything `source` yields (it fills the buffer, returns 0 at its end) to `handle`
  // from offset 0, with up to max_in_flight WRITEs outstanding. Returns the bytes written.
  using Source = std::function<size_t(char* buf, size_t n)>;
  uint64_t write_all(const std::string& handle, const Source& source);

  // Reads `size` bytes from `handle` with up to max_in_flight READs outstanding; each piece
  // goes to `sink` with its offset (pieces may arrive out of order after a short read). Throws
  // StatusError when the file ends before `size` (kEof) or still has bytes after it (kFailure).
  using Sink = std::function<void(uint64_t offset, std::string_view data)>;
  void read_all(const std::string& handle, uint64_t size, const Sink& sink);

 private:
  uint32_t next_id() { return ++last_id_ ? last_id_ : ++last_id_; }
  void send(std::string packet);
  void flush();
  // Blocks until one whole reply is available and returns it (data views stay valid until the
  // next call).
  Reply wait_reply();
  Reply call(std::string packet, uint32_t id);
  bool stale(const Reply& r, uint32_t first) const;
  void expect_ok(const Reply& r, const std::string& what);

  Transport& transport_;
  ClientOptions options_;
  uint32_t last_id_ = 0;
  std::map<std::string, std::string> extensions_;
  std::string out_;       // requests not yet handed to the transport
  std::vector<char> in_;  // received bytes: [in_start_, in_end_) not parsed yet
  size_t in_start_ = 0;
  size_t in_end_ = 0;
};

// Request encoders (exposed for the unit test's server and the fuzzer's seeds).
std::string encode_init();
std::string encode_request(uint8_t type, uint32_t id, std::string_view body);
void put_u32(std::string& out, uint32_t v);
void put_u64(std::string& out, uint64_t v);
void put_string(std::string& out, std::string_view s);

}  // namespace netres::ssh::sftp
