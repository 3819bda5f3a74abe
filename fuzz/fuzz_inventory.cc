// libFuzzer target for the SSH inventory loaders (Ansible-style YAML, line files, host specs):
// any bytes must give an Inventory or a UsageError, never a crash or another exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "ssh/inventory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    netres::ssh::Inventory::from_yaml_text(text, "fuzz.yml");
  } catch (const netres::UsageError&) {
  }
  try {
    netres::ssh::Inventory::from_lines_text(text, "fuzz.txt");
  } catch (const netres::UsageError&) {
  }
  try {
    netres::ssh::Inventory::from_specs(text);
  } catch (const netres::UsageError&) {
  }
  return 0;
}
