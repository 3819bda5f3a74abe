// backup / push / rollback per host on the FanOutRunner, through DeviceShell (or an exec
// channel for hosts without a device platform).
#include "ssh/config_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>

#include "common/error.h"
#include "common/text.h"
#include "ssh/config_store.h"
#include "ssh/device_shell.h"

namespace netres::ssh {
namespace {

std::string platform_of(const Host& h, const ConfigOptions& o) {
  return h.platform.empty() ? o.platform : h.platform;
}

bool uses_shell(const Host& h, const ConfigOptions& o) {
  std::string p = platform_of(h, o);
  return (!p.empty() && p != "linux") || !o.prompt.empty();
}

// One connected host: the session, and the device shell when the platform needs one.
struct Target {
  Target(const Host& host, const ConfigOptions& o) : options(o), session(host, o.connect) {
    session.connect();
    if (uses_shell(host, o)) {
      shell = std::make_unique<DeviceShell>(
          session, shell_profile_for(platform_of(host, o), o.prompt), o.timeout);
      shell->open();
    }
  }
  ~Target() {
    if (shell) shell->close();
  }

  std::string fetch_config() {
    std::string command = !options.command.empty() ? options.command
                          : shell                  ? shell->profile().show_config
                                                   : "";
    std::string text;
    if (shell) {
      text = shell->send_command(command);
      if (auto err = shell->error_in(text); !err.empty())
        throw HostFailure(HostStatus::kFailed, fmt::format("'{}': {}", command, err));
    } else {
      std::string err;
      auto r = session.exec(command, options.timeout, [&](Stream s, std::string_view chunk) {
        (s == Stream::kStdout ? text : err).append(chunk);
      });
      if (!r.exit_code || *r.exit_code != 0)
        throw HostFailure(HostStatus::kFailed,
                          fmt::format("'{}' failed: {}", command, trim(err).substr(0, 200)));
    }
    if (!text.empty() && !text.ends_with('\n')) text.push_back('\n');
    return text;
  }

  const ConfigOptions& options;
  SshSession session;
  std::unique_ptr<DeviceShell> shell;
};

template <typename PerHost>
ConfigRun fan_out(const Inventory& inventory, const ConfigOptions& o, PerHost per_host) {
  return fan_out_with_details<ConfigResult>(inventory.hosts(), o.forks, o.on_host_done, per_host);
}

// Saves the fetched text as a backup; returns the diff against the previous one.
void store_backup(ConfigStore& store, const Host& h, const std::string& text, ConfigResult& d) {
  auto previous = store.latest_path(h.name);
  d.backup_path = store.save(h.name, text, std::chrono::system_clock::now());
  d.first_backup = !previous;
  if (previous) {
    auto a = split_lines(ConfigStore::read(*previous));
    auto b = split_lines(text);
    d.diff = unified_diff(a, b, *previous, d.backup_path);
    d.stat = diff_stat(diff_lines(a, b));
  }
}

// Junos-style configurations are "set a b c" lines, removed by "delete a b c"; IOS-style lines
// are removed by "no " + line.
bool set_style(const std::string& negate_prefix) { return negate_prefix == "delete "; }

std::string negate_line(const std::string& line, const std::string& negate_prefix) {
  std::string t(trim(line));
  if (set_style(negate_prefix) && t.starts_with("set ")) return "delete " + t.substr(4);
  return negate_prefix + t;
}

}  // namespace

std::vector<std::string> push_lines_from_text(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(text)) {
    std::string t(trim(line));
    if (t.empty() || t.front() == '!' || t.front() == '#') continue;
    std::string l = line;
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.pop_back();
    out.push_back(l);
  }
  return out;
}

std::vector<std::string> config_body_lines(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(text)) {
    std::string t(trim(line));
    if (t.empty() || t.front() == '!' || t == "end" || t.starts_with("## ") ||
        t.starts_with("Building configuration") || t.starts_with("Current configuration"))
      continue;
    std::string l = line;
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.pop_back();
    out.push_back(l);
  }
  return out;
}

std::vector<std::string> rollback_commands(const std::vector<std::string>& current,
                                           const std::vector<std::string>& target,
                                           const std::string& negate_prefix) {
  std::set<std::string> in_target(target.begin(), target.end());
  std::set<std::string> in_current(current.begin(), current.end());
  std::vector<std::string> out;
  for (const auto& l : current)
    if (!in_target.count(l)) out.push_back(negate_line(l, negate_prefix));
  for (const auto& l : target)
    if (!in_current.count(l)) out.push_back(l);
  return out;
}

std::vector<std::string> preview_push(const std::vector<std::string>& body,
                                      const std::vector<std::string>& lines,
                                      const std::string& negate_prefix) {
  std::vector<std::string> out = body;
  for (const auto& line : lines) {
    std::string t(trim(line));
    if (!negate_prefix.empty() && t.starts_with(negate_prefix)) {
      std::string target(trim(t.substr(negate_prefix.size())));
      if (set_style(negate_prefix)) target = "set " + target;
      out.erase(std::remove_if(out.begin(), out.end(),
                               [&](const std::string& l) { return trim(l) == target; }),
                out.end());
    } else if (std::find(out.begin(), out.end(), line) == out.end()) {
      out.push_back(line);
    }
  }
  return out;
}

void check_config_options(const Inventory& inventory, const ConfigOptions& o,
                          bool needs_config_mode) {
  for (const auto& h : inventory.hosts()) {
    if (!uses_shell(h, o)) {
      if (needs_config_mode)
        throw UsageError(fmt::format(
            "host '{}' has no device platform with a configuration mode (set netres_platform "
            "or --platform)",
            h.name));
      if (o.command.empty())
        throw UsageError(fmt::format(
            "host '{}': no device platform, so give --command to fetch its configuration", h.name));
      continue;
    }
    auto profile = shell_profile_for(platform_of(h, o), o.prompt);
    if (o.command.empty() && profile.show_config.empty())
      throw UsageError(
          fmt::format("platform '{}' of host '{}' has no show-config command; give "
                      "--command",
                      profile.platform, h.name));
    if (needs_config_mode && profile.config_enter.empty())
      throw UsageError(fmt::format("platform '{}' of host '{}' has no configuration mode",
                                   profile.platform, h.name));
  }
}

ConfigRun backup_configs(const Inventory& inventory, const ConfigOptions& o) {
  check_config_options(inventory, o, false);
  ConfigStore store(o.dir, o.keep);
  return fan_out(inventory, o, [&](const Host& h, ConfigResult& d, HostResult& r) {
    Target t(h, o);
    store_backup(store, h, t.fetch_config(), d);
    r.status = HostStatus::kOk;
  });
}

ConfigRun push_configs(const Inventory& inventory, const ConfigOptions& o,
                       const std::vector<std::string>& lines, bool dry_run) {
  check_config_options(inventory, o, true);
  ConfigStore store(o.dir, o.keep);
  if (dry_run) {
    // Nothing is contacted: the preview is the latest backup with the lines applied.
    ConfigRun run;
    for (const auto& h : inventory.hosts()) {
      HostResult r;
      r.host = h.name;
      ConfigResult d;
      d.sent = lines;
      auto latest = store.latest_path(h.name);
      if (latest) {
        auto profile = shell_profile_for(platform_of(h, o), o.prompt);
        auto body = config_body_lines(ConfigStore::read(*latest));
        auto after = preview_push(body, lines, profile.negate_prefix);
        d.diff = unified_diff(body, after, *latest, "after push (preview)");
        d.stat = diff_stat(diff_lines(body, after));
      } else {
        r.error = "no backup to compare with";
      }
      run.hosts.push_back(r);
      run.details.push_back(d);
    }
    return run;
  }
  return fan_out(inventory, o, [&](const Host& h, ConfigResult& d, HostResult& r) {
    Target t(h, o);
    std::string before = t.fetch_config();
    store_backup(store, h, before, d);
    d.diff.clear();
    d.stat = {};
    d.sent = lines;
    std::string failed_output;
    d.applied = t.shell->send_config(lines, &failed_output);
    std::string after = t.fetch_config();
    auto a = config_body_lines(before), b = config_body_lines(after);
    d.diff = unified_diff(a, b, "before", "after");
    d.stat = diff_stat(diff_lines(a, b));
    if (d.applied < lines.size()) {
      d.failed_line = lines[d.applied];
      d.device_error = t.shell->error_in(failed_output);
      r.status = HostStatus::kFailed;
      r.error = fmt::format("line {} '{}' rejected: {}; {} of {} lines applied", d.applied + 1,
                            d.failed_line, d.device_error, d.applied, lines.size());
    }
  });
}

ConfigRun rollback_configs(const Inventory& inventory, const ConfigOptions& o) {
  check_config_options(inventory, o, true);
  ConfigStore store(o.dir, o.keep);
  for (const auto& h : inventory.hosts())
    if (!store.latest_path(h.name))
      throw UsageError(fmt::format("no backup of '{}' under {} to roll back to", h.name, o.dir));
  return fan_out(inventory, o, [&](const Host& h, ConfigResult& d, HostResult& r) {
    Target t(h, o);
    d.backup_path = *store.latest_path(h.name);
    auto target = config_body_lines(ConfigStore::read(d.backup_path));
    auto current = config_body_lines(t.fetch_config());
    d.sent = rollback_commands(current, target, t.shell->profile().negate_prefix);
    if (d.sent.empty()) return;
    std::string failed_output;
    d.applied = t.shell->send_config(d.sent, &failed_output);
    auto after = config_body_lines(t.fetch_config());
    d.diff = unified_diff(current, after, "before", "after");
    d.stat = diff_stat(diff_lines(current, after));
    if (d.applied < d.sent.size()) {
      d.failed_line = d.sent[d.applied];
      d.device_error = t.shell->error_in(failed_output);
      r.status = HostStatus::kFailed;
      r.error = fmt::format("rollback line '{}' rejected: {}", d.failed_line, d.device_error);
    } else if (std::multiset(after.begin(), after.end()) !=
               std::multiset(target.begin(), target.end())) {
      r.status = HostStatus::kFailed;
      r.error = "configuration still differs from the backup after rollback";
    }
  });
}

}  // namespace netres::ssh
