// The resolver's engine state (Resolver::Impl), shared by its two halves: resolver.cc keeps the
// query bookkeeping (ids, timers, retries over the servers, outcomes and the run loop),
// resolver_transport.cc the transport (connected UDP sockets, batched reads, the TCP fallback).
// Pacing (RTT estimates, the congestion window) is in rtt_window.h. Internal to those files.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <queue>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "resolve/resolver.h"
#include "resolve/rtt_window.h"
#include "resolve/server_address.h"
#include "resolve/udp_batch.h"

namespace netres::resolve {

struct Resolver::Impl {
  using Clock = std::chrono::steady_clock;
  static constexpr int kRecvBatch = 64;
  // epoll data: which kind of socket, and its index (a server) or file descriptor (a TCP query).
  static constexpr uint64_t kTagUdp = 1ull << 32;
  static constexpr uint64_t kTagTcp = 2ull << 32;

  enum class State : uint8_t { kWaiting, kUdp, kQueued, kTcp, kDone };

  struct Server {
    ServerAddress address;
    sockaddr_storage sa{};
    socklen_t sa_len = 0;
    int fd = -1;
    bool blocked = false;  // the socket buffer was full; waiting for EPOLLOUT
    RttEstimate rtt;
  };

  struct Pending {
    Clock::time_point start;      // first send
    Clock::time_point sent;       // latest send
    Clock::time_point prev_sent;  // the send before it
    Clock::time_point give_up;    // start + tries x servers x timeout
    uint64_t refused = 0;         // servers that answered with ICMP port unreachable
    uint32_t timer_seq = 0;       // to recognize stale heap entries
    uint32_t fly_pos = 0;         // index in `flying` while in kUdp/kTcp
    uint16_t id = 0;              // of the latest send
    uint16_t prev_id = 0;         // of the send before it, while sends > 1
    uint16_t sends = 0;
    uint8_t server = 0;  // of the latest send
    uint8_t prev_server = 0;
    State state = State::kWaiting;
    int tcp_fd = -1;
  };

  struct TcpConn {
    size_t index;
    std::vector<uint8_t> out;  // length-prefixed query
    size_t out_done = 0;
    std::vector<uint8_t> in;
  };

  struct Timer {
    Clock::time_point when;
    uint32_t index;
    uint32_t seq;
    bool operator>(const Timer& o) const { return when > o.when; }
  };

  std::vector<Server> servers;
  std::string servers_text;
  size_t concurrency = 1;
  int tries = 1;
  Nanos cap{0};  // --timeout
  int epoll_fd = -1;

  // Congestion control, shared by all servers (in practice one server takes the load).
  CongestionWindow cwnd;

  // State of the current run().
  const std::vector<Query>* queries = nullptr;
  const OnOutcome* on_outcome = nullptr;
  const std::function<void()>* on_tick = nullptr;
  std::vector<Pending> pending;
  std::vector<uint32_t> flying;  // queries in kUdp or kTcp
  std::deque<uint32_t> retry_queue;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::unordered_map<int, TcpConn> tcp;
  size_t next = 0;
  size_t remaining = 0;
  std::exception_ptr callback_error;
  Clock::time_point last_tick;
  ResolverStats stats;

  // Each send gets its own id, chosen at random (harder to spoof) and probed if taken, and a
  // query holds the ids of its latest two sends. So an answer says which send it answers: every
  // answer is an exact RTT sample (no Karn ambiguity), an answer to the send before a resend
  // proves that timeout spurious, and a late answer to the previous send still completes the
  // query. At most 2 x 30,000 ids are held, within the 65,536.
  std::vector<int32_t> id_owner = std::vector<int32_t>(65536, -1);
  std::mt19937 rng{std::random_device{}()};

  UdpBatch<kRecvBatch> udp_batch;

  ~Impl();

  Nanos rto(const Server& s) const { return s.rtt.rto(cap); }

  // This send's wait (rtt_window.h's attempt_timeout).
  Nanos attempt_timeout(const Pending& p) const {
    return resolve::attempt_timeout(servers[p.server].rtt, cap, tries, p.sends, servers.size());
  }

  // The first RTT sample replaces the 1 s initial RTO with milliseconds: the queries already in
  // flight to that server get the shorter wait too. Otherwise those lost in the very first burst
  // (a burst that overflows the server is most likely then) hold the run for a whole second.
  void rearm_flying(size_t si);

  void arm(uint32_t index, Clock::time_point when) {
    Pending& p = pending[index];
    timers.push({when, index, ++p.timer_seq});
  }

  void fly(uint32_t index) {
    pending[index].fly_pos = static_cast<uint32_t>(flying.size());
    flying.push_back(index);
  }
  void land(uint32_t index) {
    uint32_t pos = pending[index].fly_pos;
    uint32_t last = flying.back();
    flying[pos] = last;
    pending[last].fly_pos = pos;
    flying.pop_back();
  }

  uint16_t take_id(uint32_t index) {
    auto id = static_cast<uint16_t>(rng());
    while (id_owner[id] >= 0) ++id;  // wraps at 65536; concurrency is capped far below that
    id_owner[id] = static_cast<int32_t>(index);
    return id;
  }

  // Query bookkeeping (resolver.cc): a query's outcome, once; its ids, timer and TCP socket go.
  void finish(uint32_t index, QueryOutcome&& o);
  void finish_status(uint32_t index, std::string status, std::string detail = {});
  void finish_reply(uint32_t index, std::span<const uint8_t> bytes);

  // Sends one datagram for queries[index] to its current server. Returns false when the socket
  // buffer is full: the query goes back to the head of the retry queue and sending pauses.
  bool send_udp(uint32_t index);

  // Fills the window: retries first, then new queries.
  void feed();

  // The next server for a query after `current`, skipping those that refused it; -1 if none.
  int next_server(const Pending& p) const;

  // ICMP port unreachable from server `si`: nothing listens there. Every query waiting on it
  // moves to its next server at once, or fails with "connrefused" if none is left.
  void refused(size_t si);

  // A timer fired for queries[index].
  void expire(uint32_t index, Clock::time_point now);

  // A datagram from server `si`: matched to its query and send by id and question, an RTT
  // sample, the window told; a truncated answer goes over to TCP.
  void handle_udp_reply(size_t si, std::span<const uint8_t> bytes);

  // on_tick about every 100 ms.
  void maybe_tick();

  // Transport (resolver_transport.cc): the server's connected UDP socket and its epoll entry.
  void open_socket(Server& s, size_t index);
  // The socket buffer is full: wait for EPOLLOUT before sending more to this server (and back).
  void block(Server& s);
  void unblock(Server& s);
  // Batches of datagrams from server `si`, each handed to handle_udp_reply.
  void read_udp(size_t si);
  // A truncated UDP answer: ask the same server again over TCP (RFC 7766), same id.
  void start_tcp(uint32_t index, size_t si);
  void tcp_event(int fd, uint32_t events);
  void close_tcp(Pending& p);
  void close_tcp_all();
};

}  // namespace netres::resolve
