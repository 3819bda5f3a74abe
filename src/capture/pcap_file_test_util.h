// Test-only helpers for unit tests that write capture files and read them back with PcapSource.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "capture/pcap_source.h"

namespace netres::capture::test_util {

// Every packet of a pcap / pcapng file through a PcapHandler-derived collector.
template <class Collector>
Collector read_back(const std::string& path) {
  PcapSource source = PcapSource::open_file(path);
  Collector c;
  while (source.dispatch(-1, c) > 0) {
  }
  return c;
}

// A directory of this test process's own under the system temp dir (made if missing).
inline std::string process_temp_dir(const std::string& prefix) {
  auto dir = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace netres::capture::test_util
