// libFuzzer target for what netres monitor's endpoint reads from outside: the web config file
// (any bytes give a WebConfig or a UsageError, never a crash, a hang or another exception) and
// the Authorization header every request brings (parsed, never crashing; bcrypt is not run here,
// it is slow by design and its input is only what the parser returns).
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "monitor/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto c = netres::monitor::parse_basic_authorization(text)) {
    // The user never contains the separator.
    if (c->user.find(':') != std::string::npos) __builtin_trap();
  }
  netres::monitor::is_bcrypt_hash(text);
  try {
    netres::monitor::WebConfig c = netres::monitor::parse_web_config(text, "fuzz.yml");
    for (const auto& [user, hash] : c.users)
      if (!netres::monitor::is_bcrypt_hash(hash) || user.find(':') != std::string::npos)
        __builtin_trap();
  } catch (const netres::UsageError&) {
  }
  return 0;
}
