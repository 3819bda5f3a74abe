// The pipelined SFTP client against an in-memory SFTP v3 server: contents, how many requests
// are in flight, replies out of order, short reads, fragments, failures, malformed replies.
#include "ssh/sftp_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>

namespace netres::ssh::sftp {
namespace {

class Req {
 public:
  explicit Req(std::string_view b) : b_(b) {}
  uint8_t u8() {
    uint8_t v = static_cast<uint8_t>(b_.at(0));
    b_.remove_prefix(1);
    return v;
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(b_.at(i));
    b_.remove_prefix(4);
    return v;
  }
  uint64_t u64() {
    uint64_t hi = u32();
    return hi << 32 | u32();
  }
  std::string str() {
    uint32_t n = u32();
    std::string s(b_.substr(0, n));
    b_.remove_prefix(n);
    return s;
  }

 private:
  std::string_view b_;
};

// Answers each request as soon as it is written; the client reads the answers when it wants.
class FakeServer : public Transport {
 public:
  std::map<std::string, std::string> files;
  bool reverse_batches = false;  // answer each write()'s requests in reverse order
  size_t max_read = 1 << 20;     // bytes per DATA (short reads below the request)
  size_t fragment = 1 << 20;     // bytes per read() call
  uint64_t fail_write_at = UINT64_MAX;
  size_t extra_bytes_after_eof = 0;  // the file "grows": READs past its size still get data
  size_t max_unanswered = 0;         // the most replies ever waiting for the client
  size_t requests = 0;
  std::vector<std::string> renames;

  void write(std::string_view data) override {
    in_.append(data);
    std::vector<std::string> batch;
    while (in_.size() >= 4) {
      uint32_t len = Req(in_).u32();
      if (in_.size() < 4 + len) break;
      batch.push_back(handle(std::string_view(in_).substr(4, len)));
      in_.erase(0, 4 + len);
    }
    if (reverse_batches) std::reverse(batch.begin(), batch.end());
    for (auto& r : batch) out_.push_back(std::move(r));
    max_unanswered = std::max(max_unanswered, out_.size());
  }

  size_t read(char* buf, size_t n, std::chrono::milliseconds) override {
    if (out_.empty()) throw std::runtime_error("client waits for a reply that cannot come");
    std::string& front = out_.front();
    size_t k = std::min({n, fragment, front.size()});
    std::copy(front.data(), front.data() + k, buf);
    front.erase(0, k);
    if (front.empty()) out_.pop_front();
    return k;
  }

 private:
  static std::string packet(uint8_t type, uint32_t id, const std::string& body) {
    return encode_request(type, id, body);
  }
  static std::string status(uint32_t id, uint32_t code, const std::string& msg = "") {
    std::string b;
    put_u32(b, code);
    put_string(b, msg);
    put_string(b, "en");
    return packet(kStatus, id, b);
  }

  std::string handle(std::string_view body) {
    ++requests;
    Req r(body);
    uint8_t type = r.u8();
    if (type == kInit) {
      std::string b;
      put_u32(b, 3);
      put_string(b, "posix-rename@openssh.com");
      put_string(b, "1");
      std::string p;
      put_u32(p, static_cast<uint32_t>(1 + b.size()));
      p += static_cast<char>(kVersion);
      return p + b;
    }
    uint32_t id = r.u32();
    switch (type) {
      case kOpen: {
        std::string path = r.str();
        uint32_t flags = r.u32();
        if (!(flags & kFxfCreat) && !files.count(path)) return status(id, kNoSuchFile, "nope");
        if (flags & kFxfTrunc || !files.count(path)) files[path] = "";
        std::string b;
        put_string(b, "h:" + path);
        return packet(kHandle, id, b);
      }
      case kClose:
        return status(id, kOk);
      case kWrite: {
        std::string path = r.str().substr(2);
        uint64_t off = r.u64();
        std::string data = r.str();
        if (off >= fail_write_at) return status(id, kFailure, "disk\nfull");
        std::string& f = files[path];
        if (f.size() < off + data.size()) f.resize(off + data.size());
        f.replace(off, data.size(), data);
        return status(id, kOk);
      }
      case kRead: {
        std::string path = r.str().substr(2);
        uint64_t off = r.u64();
        uint32_t len = r.u32();
        std::string f = files[path] + std::string(extra_bytes_after_eof, 'x');
        if (off >= f.size()) return status(id, kEof);
        std::string b;
        put_string(b, f.substr(off, std::min<size_t>({len, max_read, f.size() - off})));
        return packet(kData, id, b);
      }
      case kStat:
      case kFstat: {
        std::string path = r.str();
        if (type == kFstat) path = path.substr(2);
        if (!files.count(path)) return status(id, kNoSuchFile);
        std::string b;
        put_u32(b, 0x1 | 0x4);
        put_u64(b, files[path].size());
        put_u32(b, 0100644);
        return packet(kAttrs, id, b);
      }
      case kRemove:
        return status(id, files.erase(r.str()) ? kOk : kNoSuchFile);
      case kExtended: {
        if (r.str() != "posix-rename@openssh.com") return status(id, kOpUnsupported);
        std::string from = r.str(), to = r.str();
        renames.push_back(to);
        files[to] = files[from];
        files.erase(from);
        return status(id, kOk);
      }
      default:
        return status(id, kOpUnsupported);
    }
  }

  std::string in_;
  std::deque<std::string> out_;
};

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

ClientOptions options() {
  ClientOptions o;
  o.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  return o;
}

uint64_t upload(Client& c, const std::string& path, const std::string& data) {
  std::string h = c.open(path, kFxfWrite | kFxfCreat | kFxfTrunc, 0644);
  size_t pos = 0;
  uint64_t n = c.write_all(h, [&](char* buf, size_t n) {
    size_t k = std::min(n, data.size() - pos);
    std::copy(data.data() + pos, data.data() + pos + k, buf);
    pos += k;
    return k;
  });
  c.close(h);
  return n;
}

std::string download(Client& c, const std::string& path) {
  std::string h = c.open(path, kFxfRead, std::nullopt);
  Reply a = c.fstat(h);
  std::string got(*a.size, '\0');
  c.read_all(h, *a.size, [&](uint64_t off, std::string_view d) {
    ASSERT_LE(off + d.size(), got.size());
    std::copy(d.begin(), d.end(), got.begin() + static_cast<long>(off));
  });
  c.close(h);
  return got;
}

TEST(SftpClient, UploadKeepsTheWindowFull) {
  FakeServer server;
  Client c(server, options());
  c.init();
  EXPECT_TRUE(c.has_extension("posix-rename@openssh.com"));
  std::string data = random_bytes(3 * 1024 * 1024 + 123, 1);
  EXPECT_EQ(upload(c, "/f", data), data.size());
  EXPECT_EQ(server.files["/f"], data);
  // 64 requests written before the first answer is read; refills keep at least 32 out.
  EXPECT_EQ(server.max_unanswered, 64u);
  c.posix_rename("/f", "/g");
  EXPECT_EQ(server.files["/g"], data);
  EXPECT_EQ(server.files.count("/f"), 0u);
}

TEST(SftpClient, OneInFlightWhenAskedForOne) {
  FakeServer server;
  ClientOptions o = options();
  o.max_in_flight = 1;
  Client c(server, o);
  c.init();
  std::string data = random_bytes(100000, 2);
  EXPECT_EQ(upload(c, "/f", data), data.size());
  EXPECT_EQ(server.files["/f"], data);
  EXPECT_EQ(server.max_unanswered, 1u);
}

TEST(SftpClient, EmptyFile) {
  FakeServer server;
  Client c(server, options());
  c.init();
  EXPECT_EQ(upload(c, "/e", ""), 0u);
  EXPECT_EQ(server.files["/e"], "");
  EXPECT_EQ(download(c, "/e"), "");
}

TEST(SftpClient, DownloadWithReorderedShortFragmentedReplies) {
  FakeServer server;
  server.files["/big"] = random_bytes(2 * 1024 * 1024 + 7, 3);
  server.reverse_batches = true;
  server.max_read = 10000;  // every 32 KiB request comes back short
  server.fragment = 4097;   // replies cut across packets
  Client c(server, options());
  c.init();
  EXPECT_EQ(download(c, "/big"), server.files["/big"]);
  EXPECT_GT(server.max_unanswered, 30u);
}

TEST(SftpClient, FileShorterOrLongerThanItsSize) {
  FakeServer server;
  server.files["/f"] = random_bytes(100000, 4);
  Client c(server, options());
  c.init();
  std::string h = c.open("/f", kFxfRead, std::nullopt);
  auto sink = [](uint64_t, std::string_view) {};
  try {
    c.read_all(h, 200000, sink);
    FAIL() << "no error for a short file";
  } catch (const StatusError& e) {
    EXPECT_EQ(e.code(), kEof);
    EXPECT_NE(std::string(e.what()).find("size mismatch"), std::string::npos);
  }
  server.extra_bytes_after_eof = 5;
  try {
    c.read_all(h, 100000, sink);
    FAIL() << "no error for a growing file";
  } catch (const StatusError& e) {
    EXPECT_NE(std::string(e.what()).find("grew"), std::string::npos);
  }
  server.extra_bytes_after_eof = 0;
  c.read_all(h, 100000, sink);
}

TEST(SftpClient, WriteFailureThenTheSessionStillWorks) {
  FakeServer server;
  server.fail_write_at = 500000;
  Client c(server, options());
  c.init();
  try {
    upload(c, "/f", random_bytes(1000000, 5));
    FAIL() << "no error for a failed write";
  } catch (const StatusError& e) {
    EXPECT_EQ(e.code(), kFailure);
    EXPECT_EQ(std::string(e.what()), "write: disk?full");  // one line, whatever the server sent
  }
  // Answers to the abandoned writes are skipped by the next call.
  c.remove("/f");
  EXPECT_EQ(server.files.count("/f"), 0u);
  try {
    c.stat("/f");
    FAIL();
  } catch (const StatusError& e) {
    EXPECT_EQ(e.code(), kNoSuchFile);
    EXPECT_EQ(std::string(e.what()), "stat /f: no such file");
  }
}

TEST(SftpClient, SourceFailureLeavesTheStreamClean) {
  FakeServer server;
  Client c(server, options());
  c.init();
  std::string h = c.open("/f", kFxfWrite | kFxfCreat, 0644);
  int calls = 0;
  EXPECT_THROW(c.write_all(h,
                           [&](char* buf, size_t n) -> size_t {
                             if (++calls == 3) throw std::runtime_error("local read error");
                             std::fill(buf, buf + n, 'a');
                             return n;
                           }),
               std::runtime_error);
  // The packet being built when the source failed is not sent: the next calls still parse.
  c.close(h);
  c.remove("/f");
  EXPECT_EQ(server.files.count("/f"), 0u);
}

TEST(SftpClient, OneByteAtATime) {
  FakeServer server;
  server.fragment = 1;
  server.files["/s"] = "hello";
  Client c(server, options());
  c.init();
  EXPECT_EQ(*c.stat("/s").size, 5u);
  EXPECT_EQ(download(c, "/s"), "hello");
}

TEST(SftpClient, DeadlineIsATimeout) {
  struct Silent : Transport {
    void write(std::string_view) override {}
    size_t read(char*, size_t, std::chrono::milliseconds) override { return 0; }
  } silent;
  ClientOptions o;
  o.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  int ticks = 0;
  o.tick = [&] { ++ticks; };
  Client c(silent, o);
  EXPECT_THROW(c.init(), TimeoutError);
  EXPECT_GT(ticks, 0);
}

std::optional<Reply> parse(const std::string& bytes) {
  std::string_view v(bytes);
  return take_reply(v);
}

TEST(SftpReply, Parses) {
  std::string b;
  put_u32(b, 0x1 | 0x2 | 0x4 | 0x8 | 0x80000000u);
  put_u64(b, 12345);
  put_u64(b, 0);       // uid, gid
  put_u32(b, 040755);  // a directory
  put_u64(b, 0);       // times
  put_u32(b, 1);
  put_string(b, "x@y");
  put_string(b, "z");
  std::string two = encode_request(kAttrs, 7, b) + encode_request(kAttrs, 8, b);
  std::string_view v(two);
  auto r = take_reply(v);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 7u);
  EXPECT_EQ(*r->size, 12345u);
  EXPECT_EQ(*r->permissions, 040755u);
  EXPECT_EQ(v.size(), two.size() / 2);
  // A status without message and language (some servers) is accepted.
  std::string st;
  put_u32(st, kEof);
  EXPECT_EQ(parse(encode_request(kStatus, 1, st))->status, kEof);
}

TEST(SftpReply, IncompleteIsNotYet) {
  std::string p = encode_request(kHandle, 1, std::string("\0\0\0\2hh", 6));
  for (size_t n = 0; n < p.size(); ++n) EXPECT_FALSE(parse(p.substr(0, n))) << n;
  EXPECT_EQ(parse(p)->handle, "hh");
}

TEST(SftpReply, MalformedIsAProtocolError) {
  EXPECT_THROW(parse(std::string(4, '\0')), ProtocolError);                // length 0
  EXPECT_THROW(parse(std::string("\xff\xff\xff\xff", 4)), ProtocolError);  // too long
  EXPECT_THROW(parse(encode_request(99, 1, "")), ProtocolError);           // unknown type
  EXPECT_THROW(parse(encode_request(kData, 1, std::string("\0\0\1\0ab", 6))),
               ProtocolError);  // string longer than the packet
  EXPECT_THROW(parse(encode_request(kHandle, 1, std::string(4, '\0'))), ProtocolError);
  std::string attrs;
  put_u32(attrs, 0x80000000u);
  put_u32(attrs, 0xffffffffu);  // four billion extended pairs in a few bytes
  EXPECT_THROW(parse(encode_request(kAttrs, 1, attrs)), ProtocolError);
  std::string p;
  put_u32(p, 2);
  p += static_cast<char>(kStatus);
  p += 'x';  // an id cut short
  EXPECT_THROW(parse(p), ProtocolError);
}

}  // namespace
}  // namespace netres::ssh::sftp
