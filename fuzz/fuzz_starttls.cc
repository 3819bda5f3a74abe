// libFuzzer target for the STARTTLS dialogues' reply parsers: the first byte picks the protocol
// and how the rest is split into reads (as a server's bytes arrive), the rest is what the server
// sends. Every input must end in a go-ahead, a failure or a wait for more, within the limits, never
// read out of bounds; the dialogue's invariants are checked (nothing unread at the go-ahead,
// nothing accepted after the end).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "monitor/starttls.h"

using netres::monitor::StarttlsDialogue;
using netres::monitor::StarttlsProtocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto proto = static_cast<StarttlsProtocol>(data[0] % 7);
  const size_t piece = 1 + (data[0] >> 3) * 7;  // 1 .. 218 bytes a read
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  StarttlsDialogue d(proto, "mail.example", "[127.0.0.1]");
  StarttlsDialogue::Action a = d.start();
  while (!rest.empty() && a.state == StarttlsDialogue::State::kRead) {
    std::string_view chunk = rest.substr(0, piece);
    rest.remove_prefix(chunk.size());
    a = d.feed(chunk);
    if (a.state == StarttlsDialogue::State::kRead && !a.send.empty()) a = d.feed({});
  }
  if (a.state == StarttlsDialogue::State::kFail && d.reason() != "starttls" &&
      d.reason() != "protocol")
    std::abort();
  if (a.state != StarttlsDialogue::State::kRead &&
      d.feed("x").state != StarttlsDialogue::State::kFail)
    std::abort();
  return 0;
}
