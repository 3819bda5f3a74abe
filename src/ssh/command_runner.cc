// run_command: exec (or device shell) per host on the FanOutRunner; failures become statuses.
#include "ssh/command_runner.h"

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "ssh/device_shell.h"

namespace netres::ssh {
namespace {

void write_out_dir(const std::string& dir, const HostResult& r) {
  std::string base = dir + "/" + safe_file_name(r.host);
  write_file_atomically(base + ".stdout", r.stdout_text);
  write_file_atomically(base + ".stderr", r.stderr_text);
  write_file_atomically(base + ".exit", r.exit_code ? fmt::format("{}\n", *r.exit_code)
                                                    : fmt::format("{}\n", to_string(r.status)));
}

HostResult run_on_host(const Host& host, const RunOptions& o, const LiveSink& live) {
  HostResult r;
  r.host = host.name;
  auto start = std::chrono::steady_clock::now();
  bool keep = o.keep_output || !o.out_dir.empty();
  auto sink = [&](Stream s, std::string_view chunk) {
    if (keep) (s == Stream::kStdout ? r.stdout_text : r.stderr_text).append(chunk);
    if (live) live(host.name, s, chunk);
  };
  try {
    SshSession session(host, o.connect);
    session.connect();
    if (o.shell) {
      DeviceShell shell(
          session, shell_profile_for(host.platform.empty() ? o.platform : host.platform, o.prompt),
          o.command_timeout);
      shell.open();
      std::string out = shell.send_command(o.command);
      if (!out.empty() && !out.ends_with('\n')) out.push_back('\n');
      sink(Stream::kStdout, out);
      shell.close();
      r.exit_code = std::nullopt;
      r.status = HostStatus::kOk;
      if (auto err = shell.error_in(out); !err.empty()) {
        r.status = HostStatus::kFailed;
        r.error = "device reported: " + err;
      }
    } else {
      ExecResult e = session.exec(o.command, o.command_timeout, sink);
      r.exit_code = e.exit_code;
      if (!e.exit_code) {
        r.status = HostStatus::kFailed;
        r.error = e.exit_signal.empty() ? "no exit status (killed by a signal?)"
                                        : fmt::format("killed by signal {}{}", e.exit_signal,
                                                      e.core_dumped ? " (core dumped)" : "");
      } else if (*e.exit_code != 0) {
        r.status = HostStatus::kFailed;
        r.error = fmt::format("exit status {}", *e.exit_code);
      }
    }
  } catch (const HostFailure& e) {
    r.status = e.status();
    r.error = e.what();
  }
  r.duration = std::chrono::steady_clock::now() - start;
  if (!o.out_dir.empty()) write_out_dir(o.out_dir, r);
  if (!o.keep_output) {
    r.stdout_text.clear();
    r.stderr_text.clear();
  }
  return r;
}

}  // namespace

std::vector<HostResult> run_command(const Inventory& inventory, const RunOptions& options,
                                    const LiveSink& live, const FanOutRunner::Done& done) {
  if (!options.out_dir.empty()) make_directories(options.out_dir);
  FanOutRunner runner(options.forks);
  return runner.run(
      inventory.hosts(), [&](const Host& h) { return run_on_host(h, options, live); }, done);
}

}  // namespace netres::ssh
