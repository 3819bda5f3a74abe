// The scanner against real sockets on loopback (the only place a unit test may send traffic).
#include "scan/connect_scanner.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>

using namespace netres::scan;

namespace {

// A listening socket on 127.0.0.1 with a kernel-chosen port.
struct Listener {
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd, 64), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
  int fd;
  uint16_t port;
};

// A port nothing listens on: bound then released (nothing else should grab it this quickly).
uint16_t closed_port() {
  Listener l;
  return l.port;
}

TargetSpace loopback(std::vector<uint16_t> ports) {
  return TargetSpace({*netres::parse_address_spec("127.0.0.1")}, netres::PortSet(ports));
}

}  // namespace

TEST(ConnectScanner, OpenAndClosedOnLoopback) {
  Listener a, b;
  std::vector<uint16_t> closed;
  for (int i = 0; i < 20; ++i) closed.push_back(closed_port());
  std::vector<uint16_t> ports = closed;
  ports.push_back(a.port);
  ports.push_back(b.port);
  TargetSpace space = loopback(ports);
  ScanOptions options;
  options.seed = 5;
  options.concurrency = 8;
  std::map<uint16_t, PortResult> seen;
  auto counts = ConnectScanner(space, options).run([&](const PortResult& r) {
    EXPECT_TRUE(seen.emplace(r.port, r).second) << "port reported twice: " << r.port;
  });
  ASSERT_EQ(seen.size(), space.ports().size());
  EXPECT_EQ(seen[a.port].state, PortState::kOpen);
  EXPECT_EQ(seen[a.port].reason, Reason::kSynAck);
  EXPECT_EQ(seen[b.port].state, PortState::kOpen);
  EXPECT_GE(seen[a.port].rtt.count(), 0);
  for (uint16_t p : closed) {
    if (p == a.port || p == b.port) continue;
    EXPECT_EQ(seen[p].state, PortState::kClosed) << p;
    EXPECT_EQ(seen[p].reason, Reason::kConnRefused) << p;
    EXPECT_EQ(seen[p].attempts, 1);
  }
  EXPECT_EQ(counts.open, 2u);
  EXPECT_EQ(counts.pairs_done, space.pair_count());
}

TEST(ConnectScanner, ShardsSplitTheWork) {
  std::vector<uint16_t> ports;
  for (int i = 0; i < 50; ++i) ports.push_back(closed_port());
  TargetSpace space = loopback(ports);
  std::multiset<uint16_t> all;
  for (uint64_t k = 1; k <= 3; ++k) {
    ScanOptions options;
    options.seed = 11;
    options.shard = {k, 3};
    options.threads = 2;
    auto counts =
        ConnectScanner(space, options).run([&](const PortResult& r) { all.insert(r.port); });
    EXPECT_EQ(counts.pairs_total, options.shard.share_of(space.pair_count()));
  }
  EXPECT_EQ(all.size(), space.pair_count());
  for (uint16_t p : space.ports().ports()) EXPECT_EQ(all.count(p), 1u) << p;
}

TEST(ConnectScanner, RateCapSlowsTheScan) {
  std::vector<uint16_t> ports;
  for (int i = 0; i < 20; ++i) ports.push_back(closed_port());
  TargetSpace space = loopback(ports);
  ScanOptions options;
  options.rate = 100;  // 20 attempts at 100/s: at least ~0.19 s
  auto counts = ConnectScanner(space, options).run([](const PortResult&) {});
  EXPECT_GE(counts.elapsed, std::chrono::milliseconds(150));
  EXPECT_EQ(counts.attempts, space.ports().size());
}

TEST(ConnectScanner, SocketBudgetRaisesLimit) {
  unsigned budget = socket_budget();
  EXPECT_GT(budget, 16u);
  EXPECT_LE(default_concurrency(), budget);
}
