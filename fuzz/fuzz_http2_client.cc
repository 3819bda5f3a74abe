// libFuzzer target for the http check's HTTP/2 client: any bytes as the server's side of the
// connection (frames, HPACK header blocks), fed whole and then again in small pieces, with the
// client's own output taken between feeds as the check does. It must end in a response or a
// failure reason, never crash, read out of bounds or keep more than its caps.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "monitor/http2_client.h"

namespace {

void run(std::string_view bytes, size_t piece) {
  netres::monitor::Http2Request req;
  req.authority = "fuzz.test";
  req.path = "/";
  req.body = "x";
  netres::monitor::Http2Client client(req, 4096);
  client.take_output();
  for (size_t pos = 0; pos < bytes.size() && !client.finished(); pos += piece) {
    client.feed(bytes.substr(pos, piece));
    client.take_output();
  }
  client.connection_closed();
  if (!client.finished()) std::abort();  // closed: a response or a reason, nothing in between
  if (client.body().size() > 4096 || client.headers().size() > 128) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  run(bytes, std::max<size_t>(size, 1));
  run(bytes, 7);
  return 0;
}
