// Round-trip time estimation for connect attempts, after RFC 6298: smoothed RTT and variance
// from completed handshakes and RSTs give the timeout for silent ports.
#pragma once

#include "common/duration.h"

namespace netres::scan {

class RttEstimator {
 public:
  RttEstimator(Nanos initial, Nanos min, Nanos max);

  // A measured round trip: SYN to SYN-ACK or RST.
  void add_sample(Nanos rtt);
  // srtt + 4 * rttvar clamped to [min, max]; `initial` until the first sample.
  Nanos timeout() const { return timeout_; }
  Nanos srtt() const { return srtt_; }
  bool has_samples() const { return samples_ > 0; }

 private:
  Nanos min_, max_, timeout_;
  Nanos srtt_{0}, rttvar_{0};
  uint64_t samples_ = 0;
};

}  // namespace netres::scan
