// Pipelining: requests are queued in one buffer and handed to the transport together, so an SSH
// channel carries them in full-size packets; refills start when half the window has been
// answered, so at least half of it is always in flight while the next batch is built.
#include "ssh/sftp_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <deque>

namespace netres::ssh::sftp {
namespace {

using Clock = std::chrono::steady_clock;

// Attribute flags (filexfer-02 section 5).
constexpr uint32_t kAttrSize = 0x1, kAttrUidGid = 0x2, kAttrPermissions = 0x4, kAttrAcModTime = 0x8,
                   kAttrExtended = 0x80000000;

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool empty() const { return b_.empty(); }
  uint8_t u8() {
    need(1);
    uint8_t v = static_cast<uint8_t>(b_[0]);
    b_.remove_prefix(1);
    return v;
  }
  uint32_t u32() {
    need(4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(b_[i]);
    b_.remove_prefix(4);
    return v;
  }
  uint64_t u64() {
    uint64_t hi = u32();
    return hi << 32 | u32();
  }
  std::string_view str() {
    uint32_t n = u32();
    need(n);
    std::string_view s = b_.substr(0, n);
    b_.remove_prefix(n);
    return s;
  }

 private:
  void need(size_t n) const {
    if (b_.size() < n) throw ProtocolError("truncated SFTP reply");
  }
  std::string_view b_;
};

// Server text goes into one-line error messages: no control characters, bounded length.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

void put_u32_at(std::string& out, size_t pos, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[pos + i] = static_cast<char>(v >> (24 - 8 * i));
}

}  // namespace

void put_u32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}
void put_u64(std::string& out, uint64_t v) {
  put_u32(out, static_cast<uint32_t>(v >> 32));
  put_u32(out, static_cast<uint32_t>(v));
}
void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

std::string encode_init() {
  std::string p;
  put_u32(p, 5);
  p += static_cast<char>(kInit);
  put_u32(p, 3);
  return p;
}

std::string encode_request(uint8_t type, uint32_t id, std::string_view body) {
  std::string p;
  p.reserve(9 + body.size());
  put_u32(p, static_cast<uint32_t>(5 + body.size()));
  p += static_cast<char>(type);
  put_u32(p, id);
  p.append(body);
  return p;
}

std::string status_text(uint32_t code) {
  switch (code) {
    case kOk:
      return "ok";
    case kEof:
      return "end of file";
    case kNoSuchFile:
      return "no such file";
    case kPermissionDenied:
      return "permission denied";
    case kFailure:
      return "failure";
    case kBadMessage:
      return "bad message";
    case 6:
      return "no connection";
    case 7:
      return "connection lost";
    case kOpUnsupported:
      return "operation unsupported";
    default:
      return fmt::format("status {}", code);
  }
}

std::optional<Reply> take_reply(std::string_view& buffer) {
  if (buffer.size() < 4) return std::nullopt;
  uint32_t len = Reader(buffer.substr(0, 4)).u32();
  if (len < 1 || len > kMaxPacket)
    throw ProtocolError(fmt::format("bad SFTP packet length {}", len));
  if (buffer.size() - 4 < len) return std::nullopt;
  Reader rd(buffer.substr(4, len));
  buffer.remove_prefix(4 + static_cast<size_t>(len));
  Reply r;
  r.type = rd.u8();
  if (r.type == kVersion) {
    r.version = rd.u32();
    while (!rd.empty()) {
      std::string name(rd.str());
      r.extensions[name] = std::string(rd.str());
    }
    return r;
  }
  r.id = rd.u32();
  switch (r.type) {
    case kStatus:
      r.status = rd.u32();
      // Version 3 adds message and language; some servers send neither.
      if (!rd.empty()) r.message = printable(rd.str());
      break;
    case kHandle:
      r.handle = std::string(rd.str());
      if (r.handle.empty() || r.handle.size() > 256) throw ProtocolError("bad SFTP handle");
      break;
    case kData:
      r.data = rd.str();
      break;
    case kAttrs: {
      uint32_t flags = rd.u32();
      if (flags & kAttrSize) r.size = rd.u64();
      if (flags & kAttrUidGid) rd.u64();
      if (flags & kAttrPermissions) r.permissions = rd.u32();
      if (flags & kAttrAcModTime) rd.u64();
      if (flags & kAttrExtended) {
        uint32_t count = rd.u32();
        // Each pair takes at least 8 bytes, so a bogus count ends in a truncation error.
        for (uint32_t i = 0; i < count; ++i) {
          rd.str();
          rd.str();
        }
      }
      break;
    }
    case kExtendedReply:
      break;
    default:
      throw ProtocolError(fmt::format("unexpected SFTP reply type {}", r.type));
  }
  return r;
}

Client::Client(Transport& transport, ClientOptions options)
    : transport_(transport), options_(std::move(options)) {
  options_.chunk = std::clamp<uint32_t>(options_.chunk, 1, kMaxPacket - 1024);
  options_.max_in_flight = std::max(1u, options_.max_in_flight);
}

void Client::send(std::string packet) { out_ += packet; }

void Client::flush() {
  if (out_.empty()) return;
  transport_.write(out_);
  out_.clear();
}

Reply Client::wait_reply() {
  flush();
  for (;;) {
    std::string_view view(in_.data() + in_start_, in_end_ - in_start_);
    size_t before = view.size();
    if (auto r = take_reply(view)) {
      in_start_ += before - view.size();
      return std::move(*r);
    }
    if (in_start_ > 0) {  // keep only the partial packet; earlier views are dead by now
      std::memmove(in_.data(), in_.data() + in_start_, in_end_ - in_start_);
      in_end_ -= in_start_;
      in_start_ = 0;
    }
    // A packet is at most kMaxPacket bytes, so this stays under twice that.
    if (in_.size() - in_end_ < 65536) in_.resize(std::max<size_t>(in_.size() * 2, 262144));
    auto now = Clock::now();
    if (now >= options_.deadline) throw TimeoutError("SFTP server did not answer in time");
    auto wait = std::chrono::milliseconds(1000);
    if (options_.deadline != Clock::time_point::max())
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(options_.deadline - now));
    size_t n = transport_.read(in_.data() + in_end_, in_.size() - in_end_, wait);
    in_end_ += n;
    if (n == 0 && options_.tick) options_.tick();
  }
}

// A reply to a request sent before `first` (one abandoned by an earlier failure).
bool Client::stale(const Reply& r, uint32_t first) const {
  return r.type != kVersion && r.id < first;
}

Reply Client::call(std::string packet, uint32_t id) {
  send(std::move(packet));
  // Replies to requests abandoned by a failed transfer may still arrive first: skip them.
  for (;;) {
    Reply r = wait_reply();
    if (r.type != kVersion && r.id == id) return r;
  }
}

void Client::expect_ok(const Reply& r, const std::string& what) {
  if (r.type != kStatus) throw ProtocolError(fmt::format("unexpected SFTP reply to {}", what));
  if (r.status != kOk)
    throw StatusError(r.status, fmt::format("{}: {}", what,
                                            r.message.empty() ? status_text(r.status) : r.message));
}

void Client::init() {
  send(encode_init());
  Reply r = wait_reply();
  if (r.type != kVersion) throw ProtocolError("SFTP server did not answer INIT with VERSION");
  if (r.version < 3)
    throw ProtocolError(fmt::format("SFTP server speaks version {}, 3 needed", r.version));
  extensions_ = std::move(r.extensions);
}

std::string Client::open(const std::string& path, uint32_t flags, std::optional<uint32_t> mode) {
  uint32_t id = next_id();
  std::string body;
  put_string(body, path);
  put_u32(body, flags);
  put_u32(body, mode ? kAttrPermissions : 0);
  if (mode) put_u32(body, *mode);
  Reply r = call(encode_request(kOpen, id, body), id);
  if (r.type == kHandle) return r.handle;
  expect_ok(r, "open " + printable(path));
  throw ProtocolError("SFTP OPEN answered without a handle");
}

void Client::close(const std::string& handle) {
  uint32_t id = next_id();
  std::string body;
  put_string(body, handle);
  expect_ok(call(encode_request(kClose, id, body), id), "close");
}

Reply Client::stat(const std::string& path) {
  uint32_t id = next_id();
  std::string body;
  put_string(body, path);
  Reply r = call(encode_request(kStat, id, body), id);
  if (r.type != kAttrs) expect_ok(r, "stat " + printable(path));
  if (r.type != kAttrs) throw ProtocolError("SFTP STAT answered without attributes");
  return r;
}

Reply Client::fstat(const std::string& handle) {
  uint32_t id = next_id();
  std::string body;
  put_string(body, handle);
  Reply r = call(encode_request(kFstat, id, body), id);
  if (r.type != kAttrs) expect_ok(r, "fstat");
  if (r.type != kAttrs) throw ProtocolError("SFTP FSTAT answered without attributes");
  return r;
}

void Client::remove(const std::string& path) {
  uint32_t id = next_id();
  std::string body;
  put_string(body, path);
  expect_ok(call(encode_request(kRemove, id, body), id), "remove " + printable(path));
}

void Client::rename(const std::string& from, const std::string& to) {
  uint32_t id = next_id();
  std::string body;
  put_string(body, from);
  put_string(body, to);
  expect_ok(call(encode_request(kRename, id, body), id), "rename to " + printable(to));
}

void Client::posix_rename(const std::string& from, const std::string& to) {
  uint32_t id = next_id();
  std::string body;
  put_string(body, "posix-rename@openssh.com");
  put_string(body, from);
  put_string(body, to);
  expect_ok(call(encode_request(kExtended, id, body), id), "rename to " + printable(to));
}

uint64_t Client::write_all(const std::string& handle, const Source& source) {
  std::map<uint32_t, uint32_t> pending;  // request id -> bytes
  uint64_t offset = 0;
  bool eof = false;
  const unsigned max = options_.max_in_flight;
  const uint32_t first = last_id_ + 1;
  while (!eof || !pending.empty()) {
    if (!eof && pending.size() <= max / 2) {
      while (!eof && pending.size() < max) {
        // Built in place: header, then the data read straight into the packet.
        size_t start = out_.size();
        uint32_t id = next_id();
        put_u32(out_, 0);
        out_ += static_cast<char>(kWrite);
        put_u32(out_, id);
        put_string(out_, handle);
        put_u64(out_, offset);
        size_t len_pos = out_.size();
        put_u32(out_, 0);
        out_.resize(len_pos + 4 + options_.chunk);
        size_t n = 0;
        try {
          while (n < options_.chunk) {
            size_t got = source(out_.data() + len_pos + 4 + n, options_.chunk - n);
            if (got == 0) {
              eof = true;
              break;
            }
            n += got;
          }
        } catch (...) {
          out_.resize(start);  // a half-built packet would garble every later request
          throw;
        }
        if (n == 0) {
          out_.resize(start);
          break;
        }
        out_.resize(len_pos + 4 + n);
        put_u32_at(out_, len_pos, static_cast<uint32_t>(n));
        put_u32_at(out_, start, static_cast<uint32_t>(out_.size() - start - 4));
        pending.emplace(id, static_cast<uint32_t>(n));
        offset += n;
      }
      flush();
    }
    if (pending.empty()) break;
    Reply r = wait_reply();
    auto it = pending.find(r.id);
    if (it == pending.end() && stale(r, first)) continue;
    if (r.type == kVersion || it == pending.end())
      throw ProtocolError("SFTP reply to an unknown request");
    expect_ok(r, "write");
    pending.erase(it);
  }
  return offset;
}

void Client::read_all(const std::string& handle, uint64_t size, const Sink& sink) {
  struct Range {
    uint64_t offset;
    uint32_t length;
  };
  std::map<uint32_t, Range> pending;
  std::deque<Range> retry;  // the rest of short reads
  uint64_t next = 0;
  const unsigned max = options_.max_in_flight;
  const uint32_t first = last_id_ + 1;
  auto more = [&] { return !retry.empty() || next < size; };
  auto request = [&](Range q) {
    uint32_t id = next_id();
    std::string body;
    put_string(body, handle);
    put_u64(body, q.offset);
    put_u32(body, q.length);
    send(encode_request(kRead, id, body));
    pending.emplace(id, q);
  };
  while (more() || !pending.empty()) {
    if (more() && pending.size() <= max / 2) {
      while (more() && pending.size() < max) {
        Range q;
        if (!retry.empty()) {
          q = retry.front();
          retry.pop_front();
        } else {
          q = {next, static_cast<uint32_t>(std::min<uint64_t>(options_.chunk, size - next))};
          next += q.length;
        }
        request(q);
      }
      flush();
    }
    Reply r = wait_reply();
    auto it = pending.find(r.id);
    if (it == pending.end() && stale(r, first)) continue;
    if (r.type == kVersion || it == pending.end())
      throw ProtocolError("SFTP reply to an unknown request");
    Range q = it->second;
    pending.erase(it);
    if (r.type == kStatus && r.status == kEof)
      throw StatusError(kEof, fmt::format("size mismatch: the remote file ends before byte {} of "
                                          "the {} its size said",
                                          q.offset + 1, size));
    if (r.type != kData) {
      expect_ok(r, "read");
      throw ProtocolError("SFTP READ answered with neither data nor an error");
    }
    if (r.data.empty() || r.data.size() > q.length)
      throw ProtocolError(
          fmt::format("SFTP READ of {} bytes answered with {}", q.length, r.data.size()));
    sink(q.offset, r.data);
    if (r.data.size() < q.length)
      retry.push_back({q.offset + r.data.size(), static_cast<uint32_t>(q.length - r.data.size())});
  }
  // The size came from a stat: a file still being written has more.
  uint32_t id = next_id();
  std::string body;
  put_string(body, handle);
  put_u64(body, size);
  put_u32(body, 1);
  Reply r = call(encode_request(kRead, id, body), id);
  if (r.type == kData)
    throw StatusError(kFailure, fmt::format("size mismatch: the remote file grew past its {} "
                                            "bytes during the download",
                                            size));
  if (r.status != kEof) expect_ok(r, "read");
}

}  // namespace netres::ssh::sftp
