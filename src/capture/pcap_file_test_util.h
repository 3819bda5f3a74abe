// Test-only helpers for unit tests that write capture files and read them back with PcapSource.
#pragma once

#include <signal.h>
#include <sys/resource.h>
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

// RLIMIT_FSIZE lowered to `bytes` (SIGXFSZ ignored, so writes past it fail with EFBIG the way a
// full disk fails them) for the life of this object; ok() says whether it took.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    if (getrlimit(RLIMIT_FSIZE, &old_) != 0) return;
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit limit = old_;
    limit.rlim_cur = bytes;
    ok_ = setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() {
    if (ok_) setrlimit(RLIMIT_FSIZE, &old_);
    if (old_handler_ != SIG_ERR) signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  sighandler_t old_handler_ = SIG_ERR;
  bool ok_ = false;
};

}  // namespace netres::capture::test_util
