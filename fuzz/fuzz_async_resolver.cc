// libFuzzer target for AsyncResolver's handling of untrusted replies: a query goes to a loopback
// "server" run by this harness, which answers with the input's datagrams (each given the query's
// id, and optionally its question, so they reach past the id and question checks), and answers a
// TCP fallback with the input's last piece as a raw byte stream (length prefix included). The
// resolver must come to one outcome or be destroyed with the query pending, never crash.
//
// Input: byte 0 flags (bit i: datagram i gets the query's question), then pieces, each a 2-byte
// big-endian length and that many bytes (at most 4 datagrams, then the TCP stream).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "resolve/async_resolver.h"

namespace {

using namespace netres::resolve;

struct Server {
  int udp = -1, tcp = -1;
  uint16_t port = 0;
  Server() {
    for (int attempt = 0; attempt < 50 && udp < 0; ++attempt) {
      tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(tcp, 8) != 0) {
        close(tcp);
        continue;
      }
      socklen_t len = sizeof a;
      getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len);
      port = ntohs(a.sin_port);
      udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      if (bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(udp);
        close(tcp);
        udp = -1;
      }
    }
    if (udp < 0) __builtin_trap();
  }
};

Server& server() {
  static Server s;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Server& srv = server();
  uint8_t flags = data[0];
  std::vector<std::vector<uint8_t>> pieces;
  for (size_t at = 1; at + 2 <= size && pieces.size() < 5;) {
    size_t n = std::min<size_t>(data[at] << 8 | data[at + 1], size - at - 2);
    pieces.emplace_back(data + at + 2, data + at + 2 + n);
    at += 2 + n;
  }
  asio::io_context io;
  bool done = false;
  {
    AsyncResolver r(io);
    AsyncQueryOptions o;
    o.servers = "127.0.0.1:" + std::to_string(srv.port);
    o.timeout = std::chrono::seconds(5);  // never reached: the loop below is bounded instead
    o.tries = 1;
    r.query({"a.test", kTypeA}, o, [&done](QueryOutcome&&) { done = true; });
    io.poll();  // sends the query
    uint8_t q[512];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t qn = recvfrom(srv.udp, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (qn >= 12) {
      size_t datagrams = pieces.empty() ? 0 : std::min<size_t>(pieces.size(), 4);
      for (size_t i = 0; i < datagrams && !done; ++i) {
        std::vector<uint8_t> d = pieces[i];
        if (flags >> i & 1) {  // the header from the input, then our question, then the rest
          std::vector<uint8_t> with(d.begin(), d.begin() + std::min<size_t>(d.size(), 12));
          with.resize(12);
          with[5] = 1;  // QDCOUNT 1
          with.insert(with.end(), q + 12, q + qn);
          if (d.size() > 12) with.insert(with.end(), d.begin() + 12, d.end());
          d = std::move(with);
        }
        if (d.size() >= 2) std::memcpy(d.data(), q, 2);  // the query's id
        sendto(srv.udp, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        io.poll();
      }
      // A TCP fallback: the last piece as the stream, then the connection closed.
      for (int round = 0; round < 20 && !done; ++round) {
        int c = accept(srv.tcp, nullptr, nullptr);
        if (c < 0) {
          io.poll();
          usleep(100);
          continue;
        }
        if (pieces.size() == 5)
          send(c, pieces[4].data(), pieces[4].size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        close(c);
        for (int k = 0; k < 20 && !done; ++k) {
          io.poll();
          usleep(50);
        }
      }
    }
    // Drain what the server did not read (a resend would be a query of this input).
    uint8_t junk[512];
    while (recv(srv.udp, junk, sizeof junk, MSG_DONTWAIT) > 0) {
    }
  }           // destroyed, maybe with the query pending
  io.poll();  // the cancelled waits run and find nobody
  return 0;
}
