// When a device's running configuration last changed, as the ssh check's drift probes observe
// it: the hash each probe saw per device, and since when. A hash that differs from the one seen
// before is a change at that probe's time; a first sighting is dated only when it equals the
// newest backup's (the backup's time), else unknown. Kept in a small state file so a restart of
// the monitor does not reset it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace netres::monitor {

struct ConfigSighting {
  std::string hash;             // SHA-256 of the configuration's lines, hex
  std::optional<double> since;  // Unix seconds the hash became the running one; none: unknown
};
using ConfigSightings = std::map<std::string, ConfigSighting>;

// The state file's text: a comment line, then "key<TAB>hash<TAB>since" per device, since in
// Unix seconds or "-". Lines that do not fit are skipped (the file is ours, but a truncated or
// hand-edited one must not stop the monitor). Keys cannot hold tabs or newlines (replaced).
ConfigSightings parse_config_sightings(std::string_view text);
std::string format_config_sightings(const ConfigSightings& s);

// The decision alone: `seen` updated for `hash` observed at `now`; `backup_time` is the newest
// backup's time when its hash equals `hash`. Returns whether `seen` changed.
bool observe_config(ConfigSightings& seen, const std::string& key, const std::string& hash,
                    std::optional<double> backup_time, double now);

class ConfigChangeLog {
 public:
  // `path` empty: kept in memory only (for this process's lifetime).
  explicit ConfigChangeLog(std::string path) : path_(std::move(path)) {}
  struct Result {
    std::optional<double> since;
    std::string error;  // the state file could not be read or written (the time is still kept)
  };
  // observe_config under a lock; the file is read at first use and written (a temporary file
  // renamed over it, so a crash leaves the old or the new state, never half) when it changed.
  Result observe(const std::string& key, const std::string& hash, std::optional<double> backup_time,
                 double now);

 private:
  std::string path_;
  std::mutex mu_;
  bool loaded_ = false;
  std::string load_error_;
  ConfigSightings seen_;
};

// One log per state directory ("" for none), shared by every probe of the process and kept
// across reloads. The file is STATE_DIR/config_changes.tsv.
ConfigChangeLog& config_change_log(const std::string& state_dir);

}  // namespace netres::monitor
