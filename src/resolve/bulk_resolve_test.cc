// The engine and bulk layer against a tiny DNS server on loopback, run by the test itself:
// ordering, concurrency limits, every status, and the per-name verdict.
#include "resolve/bulk_resolve.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "common/error.h"
#include "resolve/lookup.h"
#include "resolve/resolver.h"
#include "resolve/rtt_window.h"

namespace netres::resolve {
namespace {

using namespace std::chrono_literals;

// Answers on 127.0.0.1 by the first label of the question:
//   "nx..." -> NXDOMAIN, "sf..." -> SERVFAIL, "junk..." -> a garbled reply, "cn..." -> a CNAME to
//   "t.test" plus its A record, "none..." -> NOERROR without records, anything else -> an A
//   record 10.0.0.N (N = the label length) for A queries and NODATA for other types. "drop..."
//   names lose their first query; "dup..." names are answered twice; "late..." 300 ms late.
// With `silent` it reads nothing, so every query times out.
class FakeDnsServer {
 public:
  explicit FakeDnsServer(bool silent = false) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (!silent) thread_ = std::thread([this] { serve(); });
  }
  ~FakeDnsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int received() const { return received_; }

 private:
  void serve() {
    // Bounded by stop_, checked at least every 50 ms.
    while (!stop_) {
      auto now = std::chrono::steady_clock::now();
      for (auto it = held_.begin(); it != held_.end();) {
        if (it->due > now) {
          ++it;
          continue;
        }
        sendto(fd_, it->reply.data(), it->reply.size(), 0,
               reinterpret_cast<const sockaddr*>(&it->to), sizeof it->to);
        it = held_.erase(it);
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, held_.empty() ? 50 : 2) <= 0) continue;
      uint8_t buf[512];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 17) continue;
      ++received_;
      std::vector<uint8_t> reply(buf, buf + n);
      reply[2] |= 0x80;  // QR
      reply[3] = 0x80;   // RA, NOERROR
      uint8_t label_len = buf[12];
      std::string label(reinterpret_cast<char*>(buf + 13), label_len);
      // "drop..." names lose their first query, as a server with a full buffer would.
      if (label.starts_with("drop") && dropped_.insert(label).second) continue;
      uint16_t qtype = static_cast<uint16_t>(buf[n - 4] << 8 | buf[n - 3]);
      auto add_a = [&](uint8_t last) {
        reply[7] = static_cast<uint8_t>(reply[7] + 1);
        reply.insert(reply.end(), {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, last});
      };
      if (label.starts_with("nx")) {
        reply[3] |= 3;
      } else if (label.starts_with("sf")) {
        reply[3] |= 2;
      } else if (label.starts_with("junk")) {
        reply[7] = 5;  // claims five answers, has none
      } else if (label.starts_with("cn") && qtype == kTypeA) {
        reply[7] = 2;
        // CNAME at the question name -> "t.test" (1 't' + 4 "test" + 0), then t.test A.
        size_t target = reply.size() + 12;
        reply.insert(reply.end(),
                     {0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 30, 0, 8, 1, 't', 4, 't', 'e', 's', 't', 0});
        reply.insert(reply.end(), {0xc0, static_cast<uint8_t>(target), 0, 1, 0, 1, 0, 0, 0, 90, 0,
                                   4, 10, 9, 9, 9});
      } else if (label.starts_with("none")) {
      } else if (qtype == kTypeA) {
        add_a(label_len);
      }
      // "late..." names are answered 300 ms after each query, as a server that stalls would.
      if (label.starts_with("late")) {
        held_.push_back({std::chrono::steady_clock::now() + 300ms, reply, from});
        continue;
      }
      sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      // "dup..." names get every answer twice, as a network that duplicates datagrams would.
      if (label.starts_with("dup"))
        sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> received_{0};
  std::set<std::string> dropped_;  // only touched by the server thread
  struct Held {
    std::chrono::steady_clock::time_point due;
    std::vector<uint8_t> reply;
    sockaddr_in to;
  };
  std::vector<Held> held_;  // only touched by the server thread
};

ResolverConfig config_for(const FakeDnsServer& server) {
  ResolverConfig c;
  c.servers = server.address();
  c.timeout = 200ms;
  c.tries = 1;
  return c;
}

TEST(ParseServers, Shapes) {
  auto s = parse_servers("127.0.0.1, 127.0.0.1:5353,[::1]:53,::1,[fe80::1]");
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].text, "127.0.0.1:53");
  EXPECT_EQ(s[1].text, "127.0.0.1:5353");
  EXPECT_EQ(s[2].text, "[::1]:53");
  EXPECT_EQ(s[3].text, "[::1]:53");
  EXPECT_EQ(s[4].text, "[fe80::1]:53");
  for (const char* bad : {"", "1.2.3", "localhost", "1.2.3.4:0", "1.2.3.4:70000",
                          "1.2.3.4:", "[::1", "[::1]x", "[1.2.3.4]:53", "1.2.3.4,", "1.2.3.4:5x"})
    EXPECT_THROW(parse_servers(bad), UsageError) << bad;
  try {
    parse_servers("1.2.3.4:99999");
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "bad DNS server '1.2.3.4:99999': port must be a number 1-65535");
  }
}

TEST(Resolver, RejectsBadConfig) {
  ResolverConfig c;
  c.servers = "127.0.0.1:1";
  c.concurrency = 0;
  EXPECT_THROW(Resolver{c}, UsageError);
  c.concurrency = 1;
  c.tries = 0;
  EXPECT_THROW(Resolver{c}, UsageError);
}

TEST(Resolver, ManyQueriesFewInFlight) {
  FakeDnsServer server;
  ResolverConfig c = config_for(server);
  c.concurrency = 7;
  Resolver r(c);
  EXPECT_EQ(r.servers(), server.address());
  std::vector<Query> queries;
  for (int i = 0; i < 3000; ++i) queries.push_back({"h" + std::to_string(i) + ".test", kTypeA});
  std::vector<int> seen(queries.size(), 0);
  r.run(queries, [&](size_t i, QueryOutcome&& o) {
    ++seen[i];
    EXPECT_EQ(o.status, "NOERROR") << i;
    ASSERT_TRUE(o.reply);
    ASSERT_EQ(o.reply->answers.size(), 1u);
    // label "h<i>" has 1 + digits bytes
    EXPECT_EQ(o.reply->answers[0].data, "10.0.0." + std::to_string(1 + std::to_string(i).size()));
  });
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
}

TEST(BulkResolve, StatusesVerdictsAndOrder) {
  FakeDnsServer server;
  ResolveOptions options;
  options.resolver = config_for(server);
  std::vector<std::string> names = {"ok.test", "nx.test",   "sf.test", "junk.test",
                                    "cn.test", "none.test", "10.0.0.1"};
  std::vector<ResolveRow> rows;
  auto summary = resolve_names(names, options, [&](std::vector<ResolveRow>& mine) {
    rows.insert(rows.end(), mine.begin(), mine.end());
  });
  // A and AAAA per name, one PTR for the address; in input order.
  ASSERT_EQ(rows.size(), 13u);
  EXPECT_EQ(rows[0].name, "ok.test");
  EXPECT_EQ(rows[0].type, kTypeA);
  EXPECT_EQ(rows[0].status, "NOERROR");
  EXPECT_EQ(rows[0].answers.at(0).data, "10.0.0.2");
  EXPECT_EQ(rows[0].ttl, 60u);
  EXPECT_EQ(rows[0].server, server.address());
  EXPECT_EQ(rows[1].type, kTypeAaaa);
  EXPECT_TRUE(rows[1].answers.empty());  // NODATA for AAAA ...
  EXPECT_TRUE(rows[0].name_ok);          // ... is fine when A has records
  EXPECT_EQ(rows[2].status, "NXDOMAIN");
  EXPECT_EQ(rows[2].rcode, 3);
  EXPECT_FALSE(rows[2].name_ok);
  EXPECT_EQ(rows[4].status, "SERVFAIL");
  EXPECT_EQ(rows[6].status, "badreply");
  EXPECT_EQ(rows[6].rcode, -1);
  EXPECT_EQ(rows[8].cname_chain, std::vector<std::string>{"t.test"});
  EXPECT_EQ(rows[8].answers.at(0).data, "10.9.9.9");
  EXPECT_EQ(rows[8].ttl, 30u);
  EXPECT_TRUE(rows[8].name_ok);
  EXPECT_FALSE(rows[10].name_ok);  // NOERROR everywhere but no records at all
  EXPECT_EQ(rows[12].type, kTypePtr);
  EXPECT_EQ(rows[12].qname, "1.0.0.10.in-addr.arpa");
  EXPECT_EQ(summary.names, 7u);
  EXPECT_EQ(summary.ok, 2u);
  EXPECT_EQ(summary.failed, 5u);
  EXPECT_EQ(summary.queries, 13u);
}

TEST(BulkResolve, TimeoutsAreResultsAndBounded) {
  FakeDnsServer silent(/*silent=*/true);
  ResolveOptions options;
  options.resolver = config_for(silent);
  options.resolver.timeout = 100ms;
  options.resolver.tries = 2;
  options.types = {kTypeMx};
  std::vector<std::string> names;
  for (int i = 0; i < 50; ++i) names.push_back("n" + std::to_string(i) + ".test");
  size_t timeouts = 0;
  auto start = std::chrono::steady_clock::now();
  auto summary = resolve_names(names, options, [&](std::vector<ResolveRow>& rows) {
    for (auto& row : rows) timeouts += row.status == "timeout";
  });
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(timeouts, 50u);
  EXPECT_EQ(summary.failed, 50u);
  EXPECT_LT(took, 3s);  // two attempts of 100 ms, with generous slack
}

TEST(BulkResolve, RetriesRecoverLostQueries) {
  FakeDnsServer server;
  ResolveOptions options;
  options.resolver = config_for(server);
  options.resolver.timeout = 100ms;
  options.resolver.tries = 2;
  options.types = {kTypeA};
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("drop" + std::to_string(i) + ".test");
  size_t ok = 0;
  auto summary = resolve_names(names, options, [&](std::vector<ResolveRow>& rows) {
    for (auto& row : rows) {
      ok += row.status == "NOERROR" && row.answers.size() == 1;
      // Counted from the first attempt, so at least one RTO: 100 ms before the first answer,
      // but once a resend is answered the RTT sample re-arms the queries still on their first
      // attempt to the minimum RTO (a loaded machine sends the 40 over milliseconds).
      EXPECT_GE(row.duration, kMinRto);
    }
  });
  EXPECT_EQ(ok, 40u);
  EXPECT_EQ(summary.failed, 0u);
  EXPECT_EQ(server.received(), 80);

  // With a single try, the same loss is final.
  FakeDnsServer again;
  options.resolver = config_for(again);
  options.resolver.timeout = 100ms;
  summary = resolve_names(names, options, [](auto&) {});
  EXPECT_EQ(summary.failed, 40u);
}

// Once the engine has measured the server's RTT, a lost query is resent after a few RTTs, not
// after the whole --timeout.
TEST(Resolver, LostQueryIsResentAfterTheMeasuredRtt) {
  FakeDnsServer server;
  ResolverConfig config = config_for(server);
  config.timeout = 5s;
  config.tries = 2;
  Resolver resolver(config);
  std::vector<Query> warm;
  for (int i = 0; i < 30; ++i) warm.push_back({"w" + std::to_string(i) + ".test", kTypeA});
  size_t ok = 0;
  resolver.run(warm, [&](size_t, QueryOutcome&& o) { ok += o.status == "NOERROR"; });
  ASSERT_EQ(ok, 30u);
  EXPECT_GT(resolver.stats().srtt, 0ns);
  EXPECT_LT(resolver.stats().rto, 1s);

  std::vector<Query> lossy;
  for (int i = 0; i < 20; ++i) lossy.push_back({"drop" + std::to_string(i) + ".test", kTypeA});
  ok = 0;
  Nanos slowest{0};
  resolver.run(lossy, [&](size_t, QueryOutcome&& o) {
    ok += o.status == "NOERROR";
    EXPECT_EQ(o.sends, 2);
    slowest = std::max(slowest, o.duration);
  });
  EXPECT_EQ(ok, 20u);
  EXPECT_EQ(resolver.stats().retransmitted, 20u);
  // A fixed timeout would have waited 5 s; the RTO on loopback is tens of milliseconds. The
  // bound is loose on purpose: the machine may be busy.
  EXPECT_LT(slowest, 2500ms);
}

// A server that suddenly takes 300 ms where it took microseconds: the first resends are
// spurious, the answers to the first sends turn up, and the engine learns the longer RTT.
TEST(Resolver, SpuriousTimeoutsTeachTheRto) {
  FakeDnsServer server;
  ResolverConfig config = config_for(server);
  config.timeout = 5s;
  config.tries = 2;
  Resolver resolver(config);
  std::vector<Query> warm;
  for (int i = 0; i < 30; ++i) warm.push_back({"w" + std::to_string(i) + ".test", kTypeA});
  resolver.run(warm, [](size_t, QueryOutcome&&) {});
  ASSERT_LT(resolver.stats().rto, 100ms);

  std::vector<Query> late;
  for (int i = 0; i < 10; ++i) late.push_back({"late" + std::to_string(i) + ".test", kTypeA});
  size_t ok = 0;
  resolver.run(late, [&](size_t, QueryOutcome&& o) { ok += o.status == "NOERROR"; });
  EXPECT_EQ(ok, 10u);
  EXPECT_GE(resolver.stats().spurious, 1u);
  EXPECT_GE(resolver.stats().rto, 150ms);  // srtt moved toward 300 ms
}

TEST(Resolver, DuplicateRepliesAreDropped) {
  FakeDnsServer server;
  Resolver resolver(config_for(server));
  std::vector<Query> queries;
  for (int i = 0; i < 30; ++i) queries.push_back({"dup" + std::to_string(i) + ".test", kTypeA});
  std::vector<int> seen(queries.size());
  resolver.run(queries, [&](size_t index, QueryOutcome&& o) {
    ++seen[index];
    EXPECT_EQ(o.status, "NOERROR");
  });
  EXPECT_EQ(seen, std::vector<int>(queries.size(), 1));
  // The second copies arrive after their query is done (or while it is): none is taken for an
  // answer to another query.
  EXPECT_EQ(resolver.stats().mismatched, 0u);
  EXPECT_GE(resolver.stats().late_replies, 1u);
  EXPECT_EQ(resolver.stats().sent, 30u);
}

TEST(ParseResolvConf, NameserversInOrder) {
  auto servers = parse_resolv_conf(
      "# comment\nsearch example.test\nnameserver 10.0.0.53\nnameserver ::1\n"
      "nameserver not-an-address\noptions ndots:2\n  nameserver   192.0.2.1  # trailing\n"
      "nameserver fe80::1%no-such-interface\n");
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(servers[0].text, "10.0.0.53:53");
  EXPECT_EQ(servers[1].text, "[::1]:53");
  EXPECT_EQ(servers[1].family, AF_INET6);
  EXPECT_EQ(servers[2].text, "192.0.2.1:53");
  EXPECT_TRUE(parse_resolv_conf("").empty());
}

TEST(BulkResolve, BadNameIsUsageError) {
  ResolveOptions options;
  options.resolver.servers = "127.0.0.1:9";
  EXPECT_THROW(resolve_names({"ok.test", "bad..name"}, options, [](auto&) {}), UsageError);
}

TEST(LookupHosts, AddressesAndErrors) {
  FakeDnsServer server;
  auto hosts = lookup_hosts({"abc.test", "nx.test", "192.0.2.7", "fd00::0:1", "bad..x", "cn.test"},
                            config_for(server));
  ASSERT_EQ(hosts.size(), 6u);
  EXPECT_EQ(hosts[0].addresses, std::vector<std::string>{"10.0.0.3"});
  EXPECT_EQ(hosts[0].error, "");
  EXPECT_EQ(hosts[1].error, "NXDOMAIN");
  EXPECT_EQ(hosts[2].addresses, std::vector<std::string>{"192.0.2.7"});
  EXPECT_EQ(hosts[3].addresses, std::vector<std::string>{"fd00::1"});
  EXPECT_EQ(hosts[4].error, "invalid name");
  EXPECT_EQ(hosts[5].addresses, std::vector<std::string>{"10.9.9.9"});
}

}  // namespace
}  // namespace netres::resolve
