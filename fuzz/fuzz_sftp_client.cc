// libFuzzer target for the SFTP client's reply handling: any bytes from a server, cut into any
// reads, must end a session with a ProtocolError, a StatusError or the end of the stream, never
// a crash, a hang or a sink write outside the requested file. The first byte picks the size
// of each read, the rest is the server's stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ssh/sftp_client.h"

namespace {

struct EndOfInput {};

class FuzzTransport : public netres::ssh::sftp::Transport {
 public:
  FuzzTransport(std::string_view bytes, size_t step) : bytes_(bytes), step_(step) {}
  void write(std::string_view) override {}
  size_t read(char* buf, size_t n, std::chrono::milliseconds) override {
    if (bytes_.empty()) throw EndOfInput{};
    size_t k = std::min({n, step_, bytes_.size()});
    std::copy(bytes_.begin(), bytes_.begin() + static_cast<long>(k), buf);
    bytes_.remove_prefix(k);
    return k;
  }

 private:
  std::string_view bytes_;
  size_t step_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace netres::ssh::sftp;
  if (size < 1) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  // The parser alone, packet after packet.
  try {
    std::string_view rest = bytes;
    while (take_reply(rest)) {
    }
  } catch (const ProtocolError&) {
  }
  // A whole client session: init, stat, a pipelined download of 20000 bytes, an upload.
  FuzzTransport transport(bytes, 1 + data[0] * 97u);
  ClientOptions options;
  options.max_in_flight = 4;  // small, so that refills and retries happen within few bytes
  options.chunk = 4096;
  Client c(transport, options);
  constexpr uint64_t kSize = 20000;
  try {
    c.init();
    c.stat("/x");
    c.read_all("h", kSize, [](uint64_t offset, std::string_view d) {
      if (offset + d.size() > kSize) std::abort();
    });
    size_t left = 30000;
    c.write_all("h", [&](char* buf, size_t n) {
      size_t k = std::min(n, left);
      std::fill(buf, buf + k, 'x');
      left -= k;
      return k;
    });
  } catch (const EndOfInput&) {
  } catch (const ProtocolError&) {
  } catch (const StatusError&) {
  }
  return 0;
}
