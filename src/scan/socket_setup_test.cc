// Socket setup helpers: sockaddr building, source addresses chosen up front, local port binding.
#include "scan/socket_setup.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

using netres::Family;
using netres::IpAddress;
using netres::PortSet;
using namespace netres::scan;

TEST(SocketSetup, SocketAddressV4AndV6) {
  SocketAddress a = socket_address(*netres::parse_ip("198.18.0.7"), 8080);
  ASSERT_EQ(a.length, sizeof(sockaddr_in));
  const auto* sin = reinterpret_cast<const sockaddr_in*>(a.get());
  EXPECT_EQ(sin->sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin->sin_port), 8080);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), (198u << 24) | (18u << 16) | 7u);

  SocketAddress b = socket_address(*netres::parse_ip("::1"), 22);
  ASSERT_EQ(b.length, sizeof(sockaddr_in6));
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(b.get());
  EXPECT_EQ(sin6->sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(sin6->sin6_port), 22);
  EXPECT_EQ(sin6->sin6_addr.s6_addr[15], 1);
}

TEST(SocketSetup, LoopbackHostGetsLoopbackSource) {
  // Finding the source is a UDP connect: nothing is sent.
  TargetSpace one({*netres::parse_address_spec("127.0.0.1")}, PortSet({80}));
  auto sources = bind_sources(one);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0], netres::uint128{0x7f000001});
}

TEST(SocketSetup, LargeSpacesSkipTheLookup) {
  TargetSpace big({*netres::parse_address_spec("127.1.0.0/16")}, PortSet({80}));
  EXPECT_TRUE(bind_sources(big).empty());
}

TEST(SocketSetup, BindsLocalPortsRoundRobin) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  uint32_t next = 12345;
  bind_local_port(fd, Family::kV4, 0x7f000001, next);
  EXPECT_GT(next, 12345u);  // took at least one port from the counter
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  EXPECT_EQ(ntohl(a.sin_addr.s_addr), 0x7f000001u);
  EXPECT_GE(ntohs(a.sin_port), 1024);
  ::close(fd);
}

TEST(SocketSetup, NoQueuedErrorOnAFreshSocket) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(queued_icmp_error(fd), 0);
  ::close(fd);
}
