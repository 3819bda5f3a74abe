#include "monitor/config_changes.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace netres::monitor {

namespace {

constexpr std::string_view kHeader =
    "# netres monitor: running configurations seen (device<TAB>sha256<TAB>since, Unix seconds "
    "or -)\n";

std::string clean_key(std::string k) {
  for (char& c : k)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return k;
}

bool is_hex(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

ConfigSightings parse_config_sightings(std::string_view text) {
  ConfigSightings out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    size_t t1 = line.find('\t');
    if (t1 == std::string_view::npos || t1 == 0) continue;
    size_t t2 = line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) continue;
    std::string_view key = line.substr(0, t1), hash = line.substr(t1 + 1, t2 - t1 - 1),
                     since = line.substr(t2 + 1);
    if (!is_hex(hash)) continue;
    ConfigSighting s{std::string(hash), std::nullopt};
    if (since != "-") {
      double v = 0;
      auto [p, ec] = std::from_chars(since.data(), since.data() + since.size(), v);
      if (ec != std::errc() || p != since.data() + since.size() || !std::isfinite(v) || v < 0)
        continue;
      s.since = v;
    }
    out[clean_key(std::string(key))] = std::move(s);
  }
  return out;
}

std::string format_config_sightings(const ConfigSightings& seen) {
  std::string out(kHeader);
  for (const auto& [key, s] : seen)
    out += fmt::format("{}\t{}\t{}\n", clean_key(key), s.hash,
                       s.since ? fmt::format("{}", *s.since) : "-");
  return out;
}

bool observe_config(ConfigSightings& seen, const std::string& key, const std::string& hash,
                    std::optional<double> backup_time, double now) {
  auto it = seen.find(key);
  if (it == seen.end()) {
    // First sighting: the backup dates it only when it records this very configuration;
    // otherwise the change happened at some unknown time before the monitor looked.
    seen[key] = ConfigSighting{hash, backup_time};
    return true;
  }
  if (it->second.hash == hash) return false;
  it->second = ConfigSighting{hash, now};
  return true;
}

ConfigChangeLog::Result ConfigChangeLog::observe(const std::string& raw_key,
                                                 const std::string& hash,
                                                 std::optional<double> backup_time, double now) {
  const std::string key = clean_key(raw_key);
  std::lock_guard<std::mutex> lock(mu_);
  Result r;
  if (!loaded_ && !path_.empty()) {
    loaded_ = true;
    std::error_code ec;
    if (std::filesystem::exists(path_, ec)) {
      std::ifstream in(path_);
      std::stringstream ss;
      ss << in.rdbuf();
      if (in.bad() || !in.is_open())
        load_error_ = fmt::format("cannot read {}", path_);
      else
        seen_ = parse_config_sightings(ss.str());
    }
  }
  bool changed = observe_config(seen_, key, hash, backup_time, now);
  r.since = seen_[key].since;
  r.error = load_error_;
  if (changed && !path_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
    const std::string tmp = path_ + ".tmp";
    const std::string text = format_config_sightings(seen_);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0;
    if (ok) {
      size_t off = 0;
      while (ok && off < text.size()) {
        ssize_t w = ::write(fd, text.data() + off, text.size() - off);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        if (ok) off += static_cast<size_t>(w);
      }
      // Durable before the rename: a crash must leave the old state or the new, not an empty file.
      ok = ok && ::fsync(fd) == 0;
      ok = ::close(fd) == 0 && ok;
    }
    ok = ok && ::rename(tmp.c_str(), path_.c_str()) == 0;
    if (!ok) {
      r.error = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
      ::unlink(tmp.c_str());
    }
  }
  return r;
}

ConfigChangeLog& config_change_log(const std::string& state_dir) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<ConfigChangeLog>> logs;
  std::lock_guard<std::mutex> lock(mu);
  auto& log = logs[state_dir];
  if (!log)
    log = std::make_unique<ConfigChangeLog>(state_dir.empty() ? ""
                                                              : state_dir + "/config_changes.tsv");
  return *log;
}

}  // namespace netres::monitor
