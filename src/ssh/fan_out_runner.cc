// FanOutRunner and LivePrefixWriter: the thread pool and the line-atomic live printer.
#include "ssh/fan_out_runner.h"

#include <fmt/format.h>
#include <libssh/libssh.h>

#include <atomic>
#include <thread>

namespace netres::ssh {

std::vector<HostResult> FanOutRunner::run(const std::vector<Host>& hosts, const Job& job,
                                          const Done& done) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { ssh_init(); });
  std::vector<HostResult> results(hosts.size());
  std::atomic<size_t> next{0};
  std::mutex done_mu;
  auto worker = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= hosts.size()) return;
      auto start = std::chrono::steady_clock::now();
      HostResult r;
      try {
        r = job(hosts[i]);
      } catch (const HostFailure& e) {
        r.status = e.status();
        r.error = e.what();
      } catch (const std::exception& e) {
        r.status = HostStatus::kFailed;
        r.error = e.what();
      }
      r.host = hosts[i].name;
      if (r.duration == Nanos(0)) r.duration = std::chrono::steady_clock::now() - start;
      results[i] = std::move(r);
      if (done) {
        std::lock_guard lock(done_mu);
        done(results[i]);
      }
    }
  };
  size_t n = std::min<size_t>(forks_, hosts.size());
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return results;
}

void LivePrefixWriter::write(const std::string& host, Stream stream, std::string_view chunk) {
  std::lock_guard lock(mu_);
  auto& buf = partial_[{host, static_cast<int>(stream)}];
  buf.append(chunk);
  size_t start = 0;
  for (;;) {
    size_t nl = buf.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(buf.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fmt::print(stream == Stream::kStderr ? err_ : out_, "{} | {}\n", host, line);
    start = nl + 1;
  }
  buf.erase(0, start);
  std::fflush(stream == Stream::kStderr ? err_ : out_);
}

void LivePrefixWriter::finish(const std::string& host) {
  std::lock_guard lock(mu_);
  for (int s = 0; s < 2; ++s) {
    auto it = partial_.find({host, s});
    if (it == partial_.end()) continue;
    if (!it->second.empty()) fmt::print(s == 1 ? err_ : out_, "{} | {}\n", host, it->second);
    partial_.erase(it);
  }
  std::fflush(out_);
  std::fflush(err_);
}

}  // namespace netres::ssh
