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
