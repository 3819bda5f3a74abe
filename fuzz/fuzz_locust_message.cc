// locust's messages come from the network (the master, or anything that connects to the worker's
// socket): decode any bytes; only ProtocolError may come out. What decodes must re-encode to
// bytes that decode to the same message (compared through a second encoding, so NaNs and float32
// compare), and a spawn's data is read as the worker reads it.
#include <cstdint>
#include <string>
#include <string_view>

#include "load/locust_protocol.h"

using namespace netres::load::locust;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Message m;
  try {
    m = decode(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const ProtocolError&) {
    return 0;
  }
  const std::string once = encode(m);
  const std::string twice = encode(decode(once));
  if (once != twice) __builtin_trap();
  try {
    parse_spawn(m.data);
  } catch (const ProtocolError&) {
  }
  return 0;
}
