#include "ssh/fleet_report.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <string>

#include "common/duration.h"
#include "common/error.h"
#include "common/output.h"

namespace netres::ssh {
namespace {

std::string exit_cell(const HostResult& r) {
  return r.exit_code ? std::to_string(*r.exit_code) : "-";
}

std::string changes_cell(const ConfigResult& d) {
  if (d.first_backup) return "new";
  if (d.stat.added + d.stat.removed == 0) return "none";
  return fmt::format("+{} -{}", d.stat.added, d.stat.removed);
}

nlohmann::json config_json(const HostResult& r, const ConfigResult& d) {
  auto j = result_json(r);
  j.erase("exit_code");
  j["backup"] = d.backup_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.backup_path);
  j["diff"] = d.diff;
  j["added"] = d.stat.added;
  j["removed"] = d.stat.removed;
  return j;
}

void write_text(std::FILE* out, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), out);
}

// Output that does not end its last line gets a newline, so the next block starts cleanly.
void write_block(std::FILE* out, const std::string& text) {
  write_text(out, text);
  if (!text.empty() && !text.ends_with('\n')) fmt::print(out, "\n");
}

// push: "==> HOST: 2 of 3 lines applied <==" and each line marked ok, FAIL or skip.
void print_sent_lines(std::FILE* out, const HostResult& r, const ConfigResult& d, bool dry_run) {
  fmt::print(out, "==> {}: {} <==\n", r.host,
             dry_run ? fmt::format("would send {} lines", d.sent.size())
                     : fmt::format("{} of {} lines applied", d.applied, d.sent.size()));
  for (size_t k = 0; k < d.sent.size(); ++k) {
    const char* mark = dry_run ? "send" : k < d.applied ? "ok" : k == d.applied ? "FAIL" : "skip";
    fmt::print(
        out, "  {:<4} {}{}\n", mark, d.sent[k],
        !dry_run && k == d.applied && !d.device_error.empty() ? "  <- " + d.device_error : "");
  }
}

}  // namespace

nlohmann::json result_json(const HostResult& r) {
  nlohmann::json j;
  j["host"] = r.host;
  j["status"] = std::string(to_string(r.status));
  j["exit_code"] = r.exit_code ? nlohmann::json(*r.exit_code) : nlohmann::json(nullptr);
  j["duration_s"] = std::round(to_seconds(r.duration) * 1000) / 1000;
  j["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
  return j;
}

nlohmann::json run_json(const HostResult& r) {
  auto j = result_json(r);
  j["stdout"] = r.stdout_text;
  j["stderr"] = r.stderr_text;
  return j;
}

void print_group_block(std::FILE* out, const HostResult& r) {
  fmt::print(out, "==> {} ({}{}) <==\n", r.host, to_string(r.status),
             r.exit_code ? fmt::format(", exit {}", *r.exit_code) : "");
  write_block(out, r.stdout_text);
  write_block(out, r.stderr_text);
  fmt::print(out, "\n");
  std::fflush(out);
}

int print_summary(std::FILE* err, const std::vector<HostResult>& results, std::string_view verb) {
  size_t bad = 0;
  std::map<std::string, size_t> by_status;
  for (const auto& r : results) {
    ++by_status[std::string(to_string(r.status))];
    if (r.status != HostStatus::kOk) ++bad;
  }
  std::string summary;
  for (const auto& [status, n] : by_status) summary += fmt::format(", {} {}", n, status);
  fmt::print(err, "netres: ssh {}: {} hosts{}\n", verb, results.size(), summary);
  return bad ? kExitFailed : kExitOk;
}

int print_run_results(std::FILE* out, std::FILE* err, const std::vector<HostResult>& results,
                      bool json) {
  if (!json) {
    Table table({{"HOST"}, {"STATUS"}, {"EXIT", true}, {"DURATION", true}, {"ERROR"}});
    for (const auto& r : results)
      table.add_row({r.host, std::string(to_string(r.status)), exit_cell(r),
                     format_duration(r.duration), r.error});
    table.print(out);
  }
  return print_summary(err, results, "run");
}

int print_backup_results(std::FILE* out, std::FILE* err, const ConfigRun& run, bool json) {
  NdjsonWriter ndjson(out);
  Table table({{"HOST"}, {"STATUS"}, {"CHANGES"}, {"DURATION", true}, {"BACKUP"}, {"ERROR"}});
  for (size_t i = 0; i < run.hosts.size(); ++i) {
    const auto& r = run.hosts[i];
    const auto& d = run.details[i];
    if (json) {
      auto j = config_json(r, d);
      j["first_backup"] = d.first_backup;
      ndjson.write(j);
      continue;
    }
    write_text(out, d.diff);
    table.add_row({r.host, std::string(to_string(r.status)),
                   r.status == HostStatus::kOk ? changes_cell(d) : "-", format_duration(r.duration),
                   d.backup_path, r.error});
  }
  if (!json) table.print(out);
  return print_summary(err, run.hosts, "backup");
}

int print_push_results(std::FILE* out, std::FILE* err, const ConfigRun& run, bool json,
                       bool dry_run, bool rollback) {
  NdjsonWriter ndjson(out);
  Table table(
      {{"HOST"}, {"STATUS"}, {"APPLIED", true}, {"CHANGES"}, {"DURATION", true}, {"ERROR"}});
  for (size_t i = 0; i < run.hosts.size(); ++i) {
    const auto& r = run.hosts[i];
    const auto& d = run.details[i];
    if (json) {
      auto j = config_json(r, d);
      j["dry_run"] = dry_run;
      j["rollback"] = rollback;
      j["sent"] = d.sent;
      j["applied"] = dry_run ? nlohmann::json(nullptr)
                             : nlohmann::json(std::vector<std::string>(d.sent.begin(),
                                                                       d.sent.begin() + d.applied));
      j["failed_line"] =
          d.failed_line.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.failed_line);
      j["device_error"] =
          d.device_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.device_error);
      ndjson.write(j);
      continue;
    }
    if (!d.sent.empty() || dry_run) print_sent_lines(out, r, d, dry_run);
    write_text(out, d.diff);
    table.add_row({r.host, std::string(to_string(r.status)),
                   dry_run ? "-" : fmt::format("{}/{}", d.applied, d.sent.size()),
                   fmt::format("+{} -{}", d.stat.added, d.stat.removed),
                   format_duration(r.duration), r.error});
  }
  if (!json) table.print(out);
  return print_summary(err, run.hosts, rollback ? "push --rollback" : "push");
}

int print_copy_results(std::FILE* out, std::FILE* err, const CopyRun& run, bool json, bool upload) {
  NdjsonWriter ndjson(out);
  Table table({{"HOST"}, {"STATUS"}, {"BYTES", true}, {"VERIFIED"}, {"DURATION", true}, {"ERROR"}});
  for (size_t i = 0; i < run.hosts.size(); ++i) {
    const auto& r = run.hosts[i];
    const auto& d = run.details[i];
    bool ok = r.status == HostStatus::kOk;
    if (json) {
      auto j = result_json(r);
      j.erase("exit_code");
      j["direction"] = upload ? "upload" : "download";
      j["local_path"] = d.local_path;
      j["remote_path"] = d.remote_path;
      j["bytes"] = d.bytes;
      j["sha256"] = d.sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.sha256);
      j["verified"] = ok ? nlohmann::json(d.verified) : nlohmann::json(nullptr);
      ndjson.write(j);
      continue;
    }
    table.add_row({r.host, std::string(to_string(r.status)), ok ? std::to_string(d.bytes) : "-",
                   ok ? d.verified : "-", format_duration(r.duration), r.error});
  }
  if (!json) table.print(out);
  return print_summary(err, run.hosts, "copy");
}

FanOutRunner::Done FleetProgress::callback() {
  return [this](const HostResult&) {
    progress_.update(fmt::format("ssh {}: {}/{} hosts done", verb_, ++done_, total_));
  };
}

RunOutput::RunOutput(std::FILE* out, std::FILE* err, bool json, bool group, size_t hosts)
    : out_(out),
      json_(json),
      group_(group),
      live_(out, err),
      ndjson_(out),
      progress_("run", hosts),
      tick_(progress_.callback()) {}

LiveSink RunOutput::live_sink() {
  if (json_ || group_) return {};
  return [this](const std::string& host, Stream s, std::string_view chunk) {
    live_.write(host, s, chunk);
  };
}

FanOutRunner::Done RunOutput::host_done() {
  return [this](const HostResult& r) {
    progress_.clear();
    if (json_) {
      ndjson_.write(run_json(r));
      ndjson_.flush();
    } else if (group_) {
      print_group_block(out_, r);
    } else {
      live_.finish(r.host);
    }
    if (json_ || group_) tick_(r);
  };
}

}  // namespace netres::ssh
