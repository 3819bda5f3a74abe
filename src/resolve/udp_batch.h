// Batched, non-blocking UDP reads (recvmmsg) into fixed 4096-byte slots: one per socket read
// loop of the batch Resolver and of the AsyncResolver.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace netres::resolve {

template <int N>
class UdpBatch {
 public:
  // Up to N datagrams waiting on `fd`; recvmmsg's result (-1 with errno set, EAGAIN when none).
  int read(int fd) {
    for (int i = 0; i < N; ++i) {
      iov_[i] = {buffers_.data() + i * kSlot, kSlot};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    return recvmmsg(fd, msgs_, N, MSG_DONTWAIT, nullptr);
  }
  // Datagram i of the last read. One over 4096 bytes was cut (MSG_TRUNC): the parser sees it as
  // truncated or bad, which it is for a resolver that asked without EDNS.
  std::span<const uint8_t> datagram(int i) const {
    return {buffers_.data() + i * kSlot, std::min<size_t>(msgs_[i].msg_len, kSlot)};
  }
  static constexpr int size() { return N; }

 private:
  static constexpr size_t kSlot = 4096;
  std::vector<uint8_t> buffers_ = std::vector<uint8_t>(N * kSlot);
  mmsghdr msgs_[N];
  iovec iov_[N];
};

}  // namespace netres::resolve
