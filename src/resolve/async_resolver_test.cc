// AsyncResolver on an io_context against a small DNS server the test runs on loopback (UDP and
// TCP on one port): answers, every failure status, retransmission, the next server, the TCP
// fallback, host lookups, an awaitable, and a loop that runs dry once the queries are done.
#include "resolve/async_resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <set>
#include <thread>

namespace netres::resolve {
namespace {

using namespace std::chrono_literals;

// Answers by the first label of the question: "nx..." NXDOMAIN; "tc..." a truncated UDP reply
// and, over TCP, an A record 10.0.0.7; "drop..." loses its first query; "v6..." an AAAA record
// (::1) for AAAA and an A for A; anything else an A record 10.0.0.N (N = label length) for A and
// NODATA for other types. With `silent` it reads nothing (every query times out).
class TestDnsServer {
 public:
  explicit TestDnsServer(bool silent = false) {
    // UDP and TCP on one port: a kernel-chosen TCP port, then UDP on the same number, again
    // with another port when that UDP port is taken (bounded).
    for (int attempt = 0; attempt < 50 && !tcp_ok_; ++attempt) {
      if (tcp_ >= 0) close(tcp_);
      if (udp_ >= 0) close(udp_);
      tcp_ = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (bind(tcp_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(tcp_, 8) != 0)
        continue;
      socklen_t len = sizeof a;
      getsockname(tcp_, reinterpret_cast<sockaddr*>(&a), &len);
      port_ = ntohs(a.sin_port);
      udp_ = socket(AF_INET, SOCK_DGRAM, 0);
      tcp_ok_ = bind(udp_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    EXPECT_TRUE(tcp_ok_);
    if (!silent) thread_ = std::thread([this] { serve(); });
  }
  ~TestDnsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(udp_);
    close(tcp_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool tcp_ok() const { return tcp_ok_; }
  int received() const { return received_; }

 private:
  static std::vector<uint8_t> answer(const uint8_t* buf, size_t n, bool over_tcp) {
    std::vector<uint8_t> reply(buf, buf + n);
    reply[2] |= 0x80;  // QR
    reply[3] = 0x80;   // RA, NOERROR
    uint8_t label_len = buf[12];
    std::string label(reinterpret_cast<const char*>(buf + 13), label_len);
    auto qtype = static_cast<uint16_t>(buf[n - 4] << 8 | buf[n - 3]);
    auto add = [&](std::initializer_list<uint8_t> rdata, uint16_t type) {
      reply[7] = static_cast<uint8_t>(reply[7] + 1);
      reply.insert(reply.end(),
                   {0xc0, 12, static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1, 0,
                    0, 0, 60, 0, static_cast<uint8_t>(rdata.size())});
      reply.insert(reply.end(), rdata);
    };
    if (label.starts_with("nx")) {
      reply[3] |= 3;
    } else if (label.starts_with("tc") && !over_tcp) {
      reply[2] |= 0x02;  // TC, no records
    } else if (label.starts_with("tc")) {
      if (qtype == kTypeA) add({10, 0, 0, 7}, kTypeA);
    } else if (label.starts_with("v6") && qtype == kTypeAaaa) {
      add({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, kTypeAaaa);
    } else if (qtype == kTypeA) {
      add({10, 0, 0, label_len}, kTypeA);
    }
    return reply;
  }

  void serve_tcp() {
    int c = accept(tcp_, nullptr, nullptr);
    if (c < 0) return;
    timeval tv{1, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t buf[600];
    size_t have = 0;
    while (have < 2 || have < 2u + (buf[0] << 8 | buf[1])) {
      ssize_t n = recv(c, buf + have, sizeof buf - have, 0);
      if (n <= 0) break;
      have += static_cast<size_t>(n);
    }
    if (have >= 2 + 17u) {
      std::vector<uint8_t> reply = answer(buf + 2, have - 2, true);
      uint8_t len[2] = {static_cast<uint8_t>(reply.size() >> 8),
                        static_cast<uint8_t>(reply.size())};
      send(c, len, 2, MSG_NOSIGNAL);
      send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    close(c);
  }

  void serve() {
    while (!stop_) {  // bounded by stop_, checked every 50 ms
      pollfd p[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
      if (poll(p, tcp_ok_ ? 2 : 1, 50) <= 0) continue;
      if (p[1].revents & POLLIN) serve_tcp();
      if (!(p[0].revents & POLLIN)) continue;
      uint8_t buf[512];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 17) continue;
      ++received_;
      std::string label(reinterpret_cast<char*>(buf + 13), buf[12]);
      if (label.starts_with("drop") && dropped_.insert(label).second) continue;
      std::vector<uint8_t> reply = answer(buf, static_cast<size_t>(n), false);
      sendto(udp_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  int udp_ = -1, tcp_ = -1;
  bool tcp_ok_ = false;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> received_{0};
  std::set<std::string> dropped_;  // only touched by the server thread
};

// A loopback UDP port nothing listens on (bound, then closed).
std::string closed_port() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

AsyncQueryOptions options_for(const std::string& servers, Nanos timeout = 300ms, int tries = 2) {
  AsyncQueryOptions o;
  o.servers = servers;
  o.timeout = timeout;
  o.tries = tries;
  return o;
}

// One query, run to completion on a fresh loop.
QueryOutcome query_one(const Query& q, const AsyncQueryOptions& o, ResolverStats* stats = nullptr) {
  asio::io_context io;
  AsyncResolver r(io);
  QueryOutcome out;
  int calls = 0;
  r.query(q, o, [&](QueryOutcome&& oc) {
    out = std::move(oc);
    ++calls;
  });
  EXPECT_EQ(calls, 0);  // never inside query()
  io.run();             // returns: nothing left to wait for once the query is done
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.pending(), 0u);
  if (stats) *stats = r.stats();
  return out;
}

TEST(AsyncResolver, ManyQueriesOnOneLoop) {
  TestDnsServer server;
  asio::io_context io;
  AsyncResolver r(io, 50);  // a window well below the number of queries
  std::vector<int> seen(2000, 0);
  for (size_t i = 0; i < seen.size(); ++i) {
    std::string label = "h" + std::to_string(i);
    r.query({label + ".test", kTypeA}, options_for(server.address(), 1s, 3),
            [&seen, i, label](QueryOutcome&& o) {
              ++seen[i];
              EXPECT_EQ(o.status, "NOERROR") << i;
              ASSERT_TRUE(o.reply);
              ASSERT_EQ(o.reply->answers.size(), 1u);
              EXPECT_EQ(o.reply->answers[0].data, "10.0.0." + std::to_string(label.size()));
            });
  }
  EXPECT_EQ(r.pending(), seen.size());
  io.run();
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_GT(r.stats().srtt.count(), 0);
}

TEST(AsyncResolver, Statuses) {
  TestDnsServer server;
  QueryOutcome nx = query_one({"nx.test", kTypeA}, options_for(server.address()));
  EXPECT_EQ(nx.status, "NXDOMAIN");
  EXPECT_EQ(nx.rcode, 3);
  EXPECT_EQ(nx.sends, 1);

  TestDnsServer silent(true);
  auto start = std::chrono::steady_clock::now();
  QueryOutcome t = query_one({"a.test", kTypeA}, options_for(silent.address(), 100ms, 2));
  EXPECT_EQ(t.status, "timeout");
  EXPECT_FALSE(t.reply);
  EXPECT_EQ(t.sends, 2);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);  // both attempts waited for

  QueryOutcome refused = query_one({"a.test", kTypeA}, options_for(closed_port(), 2s, 3));
  EXPECT_EQ(refused.status, "connrefused");
  EXPECT_LT(refused.duration, 1s);  // the ICMP error ends it, not the timeout

  for (auto [o, q] : {std::pair{options_for("not-an-address"), Query{"a.test", kTypeA}},
                      std::pair{options_for(server.address(), 1s, 0), Query{"a.test", kTypeA}},
                      std::pair{options_for(server.address(), 0s), Query{"a.test", kTypeA}},
                      std::pair{options_for(server.address()), Query{"a..test", kTypeA}}}) {
    QueryOutcome bad = query_one(q, o);
    EXPECT_EQ(bad.status, "error") << o.servers;
    EXPECT_FALSE(bad.detail.empty());
  }
}

TEST(AsyncResolver, RetransmitsAndMovesToTheNextServer) {
  TestDnsServer server;
  QueryOutcome o = query_one({"drop1.test", kTypeA}, options_for(server.address(), 200ms, 3));
  EXPECT_EQ(o.status, "NOERROR");
  EXPECT_EQ(o.sends, 2);

  // The first server never answers: after its timeout the query goes to the second.
  TestDnsServer silent(true);
  QueryOutcome next = query_one({"abc.test", kTypeA},
                                options_for(silent.address() + "," + server.address(), 150ms, 1));
  EXPECT_EQ(next.status, "NOERROR");
  EXPECT_EQ(next.sends, 2);
  EXPECT_EQ(server.received(), 3);  // drop1 twice, abc once
}

TEST(AsyncResolver, TruncatedAnswerGoesOverTcp) {
  TestDnsServer server;
  ASSERT_TRUE(server.tcp_ok());
  ResolverStats stats;
  QueryOutcome o = query_one({"tc.test", kTypeA}, options_for(server.address(), 1s), &stats);
  EXPECT_EQ(o.status, "NOERROR");
  ASSERT_TRUE(o.reply);
  ASSERT_EQ(o.reply->answers.size(), 1u);
  EXPECT_EQ(o.reply->answers[0].data, "10.0.0.7");
  EXPECT_FALSE(o.reply->truncated);
  EXPECT_EQ(stats.tcp_fallbacks, 1u);
  EXPECT_EQ(o.sends, 2);  // the UDP send and the TCP one
}

TEST(AsyncResolver, LookupHost) {
  TestDnsServer server;
  asio::io_context io;
  AsyncResolver r(io);
  std::map<std::string, HostAddresses> got;
  for (std::string name : {"v6.test", "nx.test", "192.0.2.1", "bad..name", "abcd.test"})
    r.lookup_host(name, options_for(server.address()),
                  [&got, name](HostAddresses&& h) { got[name] = std::move(h); });
  io.run();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got["v6.test"].addresses, (std::vector<std::string>{"10.0.0.2", "::1"}));
  EXPECT_EQ(got["v6.test"].error, "");
  EXPECT_EQ(got["nx.test"].error, "NXDOMAIN");
  EXPECT_EQ(got["192.0.2.1"].addresses, std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(got["bad..name"].error, "invalid name");
  EXPECT_EQ(got["abcd.test"].addresses, std::vector<std::string>{"10.0.0.4"});
}

asio::awaitable<void> await_query(AsyncResolver& r, std::string server, QueryOutcome& out,
                                  HostAddresses& host) {
  Query q{"tc.test", kTypeA};
  AsyncQueryOptions o = options_for(server, 1s);
  auto op = r.async_query(q, o, asio::use_awaitable);
  out = co_await std::move(op);
  std::string name = "v6.test";
  auto hop = r.async_lookup_host(name, o, asio::use_awaitable);
  host = co_await std::move(hop);
}

TEST(AsyncResolver, Awaitable) {
  TestDnsServer server;
  asio::io_context io;
  AsyncResolver r(io);
  QueryOutcome out;
  HostAddresses host;
  asio::co_spawn(io, await_query(r, server.address(), out, host), asio::detached);
  io.run();
  EXPECT_EQ(out.status, "NOERROR");
  EXPECT_EQ(host.addresses.size(), 2u);
}

TEST(AsyncResolver, DestroyedWithQueriesPending) {
  TestDnsServer silent(true);
  asio::io_context io;
  int calls = 0;
  {
    AsyncResolver r(io);
    for (int i = 0; i < 10; ++i)
      r.query({"a.test", kTypeA}, options_for(silent.address(), 5s),
              [&calls](QueryOutcome&&) { ++calls; });
    io.run_for(50ms);
  }
  io.run();  // the cancelled waits complete and find nobody; returns at once
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace netres::resolve
