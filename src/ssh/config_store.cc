// ConfigStore: names sort by time, so "latest" is the greatest name; pruning removes the oldest.
#include "ssh/config_store.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace netres::ssh {

namespace fs = std::filesystem;

std::string backup_timestamp(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

ConfigStore::ConfigStore(std::string dir, size_t keep) : dir_(std::move(dir)), keep_(keep) {}

std::string ConfigStore::host_dir(const std::string& host) const {
  return dir_ + "/" + safe_file_name(host);
}

std::vector<std::string> ConfigStore::list(const std::string& host) const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(host_dir(host), ec)) {
    auto name = e.path().filename().string();
    if (e.is_regular_file() && name.ends_with(".cfg") && name.find(".tmp") == std::string::npos)
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> ConfigStore::latest_path(const std::string& host) const {
  auto all = list(host);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::string ConfigStore::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError(fmt::format("cannot read backup {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ConfigStore::save(const std::string& host, std::string_view config,
                              std::chrono::system_clock::time_point now) {
  std::string dir = host_dir(host);
  make_directories(dir);
  std::string path;
  // Two backups within one millisecond must not overwrite each other: step forward.
  for (int i = 0; i < 1000; ++i) {
    path = fmt::format("{}/{}.cfg", dir, backup_timestamp(now + std::chrono::milliseconds(i)));
    if (auto latest = latest_path(host); !fs::exists(path) && (!latest || *latest < path)) break;
  }
  write_file_atomically(path, config);
  if (keep_ > 0) {
    auto all = list(host);
    for (size_t i = 0; i + keep_ < all.size(); ++i) {
      std::error_code ec;
      fs::remove(all[i], ec);
    }
  }
  return path;
}

}  // namespace netres::ssh
