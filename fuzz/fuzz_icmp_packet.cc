// libFuzzer target for the icmp check's reply parser: any bytes, read as each kind of socket
// returns them (IPv4 with and without the IP header, IPv6), must parse or be refused, never read
// out of bounds. The statistics of what it found are computed too.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "monitor/icmp_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  std::vector<double> rtts;
  for (int mode = 0; mode < 3; ++mode) {
    auto m = netres::monitor::parse_icmp(bytes, mode == 2, mode == 1);
    if (m && m->kind == netres::monitor::IcmpMessage::Kind::kEchoReply)
      rtts.push_back(m->seq / 1000.0);
  }
  netres::monitor::burst_stats(3, rtts);
  netres::monitor::internet_checksum(bytes);
  return 0;
}
