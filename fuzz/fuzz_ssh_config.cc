// libFuzzer target for the ssh_config reader and the known_hosts host-field matcher: any bytes
// must give a config (then resolve hosts without crashing) or a UsageError, nothing else.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "ssh/known_hosts.h"
#include "ssh/ssh_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string low = text;
  std::transform(low.begin(), low.end(), low.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Include reads the file system; the fuzzer stays in memory.
  if (low.find("include") == std::string::npos) {
    try {
      auto cfg = netres::ssh::SshConfig::from_text(text, "fuzz_config");
      for (const char* host : {"h1", "r1.lab", "10.0.0.1", ""}) {
        auto h = cfg.resolve(host, "ops", "me");
        netres::ssh::TokenContext ctx{"/home/me", h.hostname.value_or(host),    host, "ops",
                                      "me",       h.host_key_alias.value_or("")};
        for (const auto& f : h.identity_files) netres::ssh::expand_config_tokens(f, ctx);
      }
    } catch (const netres::UsageError&) {
    }
  }
  netres::ssh::parse_config_time(text);
  size_t space = text.find(' ');
  std::string field = text.substr(0, space);
  std::string name = space == std::string::npos ? "h" : text.substr(space + 1);
  netres::ssh::known_hosts_field_matches(field, name);
  return 0;
}
