// libFuzzer target for the packet decoder: the first byte picks a link type, the rest is a frame;
// each input is decoded, summarised and written as JSON, which must stay in bounds.
#include <cstddef>
#include <cstdint>

#include "capture/packet_text.h"
#include "capture/packet_view.h"

namespace {

constexpr int kLinkTypes[] = {
    netres::capture::linktype::kEthernet,  netres::capture::linktype::kLinuxSll,
    netres::capture::linktype::kLinuxSll2, netres::capture::linktype::kNull,
    netres::capture::linktype::kLoop,      netres::capture::linktype::kRaw,
    netres::capture::linktype::kIpv4,      netres::capture::linktype::kIpv6,
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  int lt = kLinkTypes[data[0] % (sizeof kLinkTypes / sizeof kLinkTypes[0])];
  // libFuzzer's buffer ends exactly at `size`, so any over-read hits ASan's redzone.
  std::span<const uint8_t> frame(data + 1, size - 1);
  netres::capture::PacketView view;
  netres::capture::decode_packet(lt, frame, static_cast<uint32_t>(frame.size()), view);
  netres::capture::TextBuffer out;
  netres::capture::append_summary(out, view);
  netres::capture::append_json(out, view, {1700000000, 1});
  netres::capture::append_hex_dump(
      out, view.bytes.first(view.bytes.size() < 64 ? view.bytes.size() : 64));
  return 0;
}
