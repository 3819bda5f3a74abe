// libFuzzer target for the DNS message parser: replies are untrusted bytes from the network.
// Also feeds what parses into the CNAME-chain summary, and the raw bytes into name checks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "resolve/dns_message.h"
#include "resolve/dns_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto message = netres::resolve::parse_dns_message({data, size}, &error);
  if (message) {
    for (const auto& q : message->questions) {
      auto summary = netres::resolve::summarize_answers(*message, q.name, q.type);
      (void)summary;
    }
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (netres::resolve::name_problem(text).empty()) {
    auto query = netres::resolve::build_dns_query(text, netres::resolve::kTypeA, 1);
    if (query.empty() || !netres::resolve::parse_dns_message(query)) __builtin_trap();
  }
  return 0;
}
