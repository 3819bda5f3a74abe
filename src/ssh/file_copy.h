// `netres ssh copy`: upload one local file to every host, or download one remote file from
// every host (into DIR/<host>/), over SFTP, verifying sizes and, where the host has
// sha256sum, SHA-256 checksums.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ssh/fan_out_runner.h"
#include "ssh/inventory.h"
#include "ssh/ssh_session.h"

namespace netres::ssh {

struct CopyOptions {
  ConnectOptions connect;
  unsigned forks = 64;
  Nanos timeout{0};
  bool upload = true;
  std::string source;  // upload: local file; download: remote path
  std::string dest;    // upload: remote path (ending '/' = directory); download: local dir
  bool checksum = true;
  FanOutRunner::Done on_host_done;  // called (serialised) as each host finishes: progress
};

struct CopyResult {
  uint64_t bytes = 0;
  std::string local_path;
  std::string remote_path;
  std::string sha256;    // hex of the local file
  std::string verified;  // "sha256" or "size" (no sha256sum on the host)
};

using CopyRun = FleetRun<CopyResult>;

// Throws UsageError for a missing local source, RuntimeError for an unwritable dest dir.
CopyRun copy_files(const Inventory& inventory, const CopyOptions& options);

// Lowercase hex SHA-256 of a local file; throws RuntimeError.
std::string sha256_file(const std::string& path);
// 'text' quoted for a POSIX shell.
std::string shell_quote(const std::string& text);

}  // namespace netres::ssh
