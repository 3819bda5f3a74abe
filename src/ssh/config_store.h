// ConfigStore: configuration backups on disk, DIR/<host>/<UTC timestamp>.cfg, each written
// atomically, the newest N kept per host.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netres::ssh {

class ConfigStore {
 public:
  ConfigStore(std::string dir, size_t keep);  // keep == 0: keep everything

  // Paths of the host's backups, oldest first.
  std::vector<std::string> list(const std::string& host) const;
  std::optional<std::string> latest_path(const std::string& host) const;
  // Reads a backup; throws RuntimeError when unreadable.
  static std::string read(const std::string& path);
  // Writes a new backup named after `now` (millisecond UTC, unique per host), prunes old ones,
  // returns its path.
  std::string save(const std::string& host, std::string_view config,
                   std::chrono::system_clock::time_point now);

 private:
  std::string host_dir(const std::string& host) const;
  std::string dir_;
  size_t keep_;
};

// "20261128T041502.123Z": sorts as time does.
std::string backup_timestamp(std::chrono::system_clock::time_point t);

}  // namespace netres::ssh
