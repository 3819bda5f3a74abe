// Shaper: egress rate limits on one interface through netlink (libnl-route-3): a tbf root
// qdisc, or htb with a class per matched port and u32 filters; show and clear what is there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace netres::capture {

struct TokenBucketSpec {
  uint64_t rate_bits = 0;       // bits per second
  uint32_t burst = 0;           // bytes; 0 picks a default from the rate
  uint32_t latency_us = 50000;  // how long a packet may queue; sets the queue limit
};

struct PortShapeSpec {
  std::vector<uint16_t> ports;     // matched as source or destination port (TCP/UDP over IPv4)
  uint64_t rate_bits = 0;          // for the matched traffic
  uint64_t default_rate_bits = 0;  // everything else; 0: not limited
  uint32_t burst = 0;
};

// One line of --show: a qdisc or a class on the interface.
struct ShapeEntry {
  std::string type;        // "qdisc" or "class"
  std::string kind;        // "tbf", "htb", "noqueue", "fq_codel", ...
  std::string handle;      // "1:" for qdiscs, "1:10" for classes
  std::string parent;      // "root" or a handle
  uint64_t rate_bits = 0;  // 0 when the kind has no rate
  uint64_t ceil_bits = 0;  // htb classes
  uint32_t burst = 0;      // bytes
  uint32_t limit = 0;      // tbf: queue bytes
};

// Parameter checks shared with the CLI; throw UsageError.
void validate(const TokenBucketSpec& spec);
void validate(const PortShapeSpec& spec);
// The burst used when none is given: 10 ms at the rate, at least 16 KiB.
uint32_t default_burst(uint64_t rate_bits);

class Shaper {
 public:
  // Throws RuntimeError for a missing interface ("no such interface 'x'") or no netlink.
  explicit Shaper(const std::string& interface);
  ~Shaper();
  Shaper(const Shaper&) = delete;
  Shaper& operator=(const Shaper&) = delete;

  // Replace the root qdisc. Throw RuntimeError (naming CAP_NET_ADMIN when refused).
  void set_token_bucket(const TokenBucketSpec& spec);
  void set_port_shaping(const PortShapeSpec& spec);
  // Removes the root qdisc; false when there was none of ours to remove.
  bool clear();
  std::vector<ShapeEntry> show();

  const std::string& interface() const { return interface_; }

 private:
  struct Netlink;
  std::string interface_;
  std::unique_ptr<Netlink> nl_;
};

}  // namespace netres::capture
