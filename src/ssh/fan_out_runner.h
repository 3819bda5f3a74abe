// FanOutRunner: runs one job per host on a fixed pool of worker threads (--forks). Each worker
// owns the sessions it opens, so no libssh object is ever shared between threads.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "ssh/host_status.h"
#include "ssh/inventory.h"
#include "ssh/ssh_session.h"

namespace netres::ssh {

// What every verb reports per host.
struct HostResult {
  std::string host;
  HostStatus status = HostStatus::kOk;
  std::optional<int> exit_code;
  Nanos duration{0};
  std::string error;  // one line; empty when ok
  std::string stdout_text;
  std::string stderr_text;
};

class FanOutRunner {
 public:
  using Job = std::function<HostResult(const Host&)>;
  using Done = std::function<void(const HostResult&)>;

  explicit FanOutRunner(unsigned forks) : forks_(forks ? forks : 1) {}
  // Runs `job` for every host, at most `forks` at a time; `done` is called (serialised) as each
  // host finishes. HostFailure thrown by a job becomes that host's status; results keep the
  // inventory order.
  std::vector<HostResult> run(const std::vector<Host>& hosts, const Job& job,
                              const Done& done = nullptr);

 private:
  unsigned forks_;
};

// The hosts' results of a fleet verb and, in the same order, the verb's own details per host
// (backup paths and diffs, copy digests).
template <class Detail>
struct FleetRun {
  std::vector<HostResult> hosts;
  std::vector<Detail> details;  // same order as hosts
};

// FanOutRunner::run with a detail slot per host: `per_host(host, detail, result)` fills both
// (a HostFailure it throws becomes the host's status, as in run()).
template <class Detail, class PerHost>
FleetRun<Detail> fan_out_with_details(const std::vector<Host>& hosts, unsigned forks,
                                      const FanOutRunner::Done& done, PerHost per_host) {
  FleetRun<Detail> run;
  run.details.resize(hosts.size());
  run.hosts = FanOutRunner(forks).run(
      hosts,
      [&](const Host& h) {
        HostResult r;
        per_host(h, run.details[&h - hosts.data()], r);
        return r;
      },
      done);
  return run;
}

// Output lines as they arrive, "host | line", from many threads: the hosts' stdout onto `out`,
// their stderr onto `err`. Partial lines wait in a per-host buffer so two hosts never share a
// printed line.
class LivePrefixWriter {
 public:
  LivePrefixWriter(std::FILE* out, std::FILE* err) : out_(out), err_(err) {}
  void write(const std::string& host, Stream stream, std::string_view chunk);
  // Prints whatever is left in the host's buffers (a last line without a newline).
  void finish(const std::string& host);

 private:
  std::FILE* out_;
  std::FILE* err_;
  std::mutex mu_;
  std::map<std::pair<std::string, int>, std::string> partial_;
};

}  // namespace netres::ssh
