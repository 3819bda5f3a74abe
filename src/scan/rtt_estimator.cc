// RFC 6298 smoothing, with the clamp a scanner needs.
#include "scan/rtt_estimator.h"

#include <algorithm>

namespace netres::scan {

RttEstimator::RttEstimator(Nanos initial, Nanos min, Nanos max)
    : min_(min), max_(max), timeout_(std::clamp(initial, min, max)) {}

void RttEstimator::add_sample(Nanos rtt) {
  if (samples_++ == 0) {
    srtt_ = rtt;
    rttvar_ = rtt / 2;
  } else {
    Nanos err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
    rttvar_ = (rttvar_ * 3 + err) / 4;  // beta = 1/4
    srtt_ = (srtt_ * 7 + rtt) / 8;      // alpha = 1/8
  }
  timeout_ = std::clamp(srtt_ + 4 * rttvar_, min_, max_);
}

}  // namespace netres::scan
