// Helpers for the unit tests of every library (test code only; header-only, no gtest needed).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/error.h"

namespace netres::test_util {

// The message of the UsageError that `f()` throws, or "(no error)" when it throws none, so a
// test can compare the exact wording a user sees.
template <typename F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

// Everything `print(FILE*)` writes, for byte-for-byte checks of tables and lines.
template <typename F>
std::string printed(F&& print) {
  char* data = nullptr;
  size_t size = 0;
  std::FILE* f = ::open_memstream(&data, &size);
  print(f);
  std::fclose(f);
  std::string out(data, size);
  std::free(data);
  return out;
}

}  // namespace netres::test_util
