#include "scan/scan_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "common/duration.h"
#include "common/error.h"
#include "common/option_check.h"
#include "common/services.h"
#include "common/shard.h"
#include "common/size.h"
#include "scan/top_ports.h"

namespace netres::scan {

uint64_t choose_seed(const std::string& text, bool sharded) {
  if (!text.empty()) {
    try {
      size_t used = 0;
      uint64_t seed = std::stoull(text, &used, 0);
      if (used != text.size() || text[0] == '-') throw std::invalid_argument("seed");
      return seed;
    } catch (const std::exception&) {
      throw UsageError(fmt::format("bad --seed '{}': expected a whole number", text));
    }
  }
  if (sharded) return 0;
  return std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
}

Concurrency fit_concurrency(unsigned requested, unsigned budget) {
  unsigned want = requested ? requested : std::min(budget, kDefaultWindow);
  if (want > budget) return {budget, true};
  return {want, false};
}

unsigned choose_threads(unsigned requested, unsigned hardware_threads) {
  return requested ? requested : std::min(2u, std::max(1u, hardware_threads));
}

TargetTexts gather_targets(const std::vector<std::string>& args, const std::string& input_list,
                           const std::vector<std::string>& excludes) {
  TargetTexts out;
  for (const auto& t : args) {
    auto items = split_target_list(t);
    out.targets.insert(out.targets.end(), items.begin(), items.end());
  }
  if (!input_list.empty()) {
    auto items = read_target_file(input_list);
    out.targets.insert(out.targets.end(), items.begin(), items.end());
  }
  for (const auto& x : excludes) {
    auto items = split_target_list(x, "--exclude");
    out.excludes.insert(out.excludes.end(), items.begin(), items.end());
  }
  return out;
}

ScanPlan plan_for(const ScanFlags& f, unsigned socket_budget, unsigned hardware_threads) {
  ScanPlan plan;
  ScanOptions& o = plan.options;
  plan.ports = f.ports.empty() ? top_ports() : parse_port_set(f.ports, ServiceTable::system());
  if (!f.timeout.empty()) {
    Nanos t = parse_duration(f.timeout, "--timeout");
    require_above_zero(t, "--timeout");
    o.fixed_timeout = t;
  }
  o.banner = f.banner;
  o.banner_timeout = parse_duration(f.banner_timeout, "--banner-timeout");
  require_above_zero(o.banner_timeout, "--banner-timeout");
  o.retries = f.retries;
  if (!f.rate.empty()) o.rate = parse_rate(f.rate, "--rate");
  if (!f.shard.empty()) o.shard = parse_shard(f.shard, "--shard");
  o.seed = choose_seed(f.seed, !f.shard.empty());
  o.threads = choose_threads(f.threads, hardware_threads);
  Concurrency concurrency = fit_concurrency(f.concurrency, socket_budget);
  o.concurrency = concurrency.value;
  plan.concurrency_capped = concurrency.capped;
  return plan;
}

}  // namespace netres::scan
