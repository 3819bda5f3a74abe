// The run policy: seed defaults and parsing, the window against the socket budget, threads, and
// how targets, -iL files and excludes are gathered.
#include "scan/scan_plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/error.h"
#include "scan/connect_scanner.h"

using netres::UsageError;
using namespace netres::scan;

TEST(ScanPlan, SeedAsGivenInAnyBase) {
  EXPECT_EQ(choose_seed("42", false), 42u);
  EXPECT_EQ(choose_seed("0x10", true), 16u);
  EXPECT_EQ(choose_seed("18446744073709551615", false), UINT64_MAX);
}

TEST(ScanPlan, BadSeedIsAUsageError) {
  for (const char* bad : {"-1", "12abc", "x", "99999999999999999999"}) {
    try {
      choose_seed(bad, false);
      FAIL() << bad;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("bad --seed '") + bad + "': expected a whole number");
    }
  }
}

TEST(ScanPlan, ShardsDefaultToSeedZeroSoTheyAgree) {
  EXPECT_EQ(choose_seed("", true), 0u);
  EXPECT_EQ(choose_seed("", true), 0u);
}

TEST(ScanPlan, UnshardedDefaultSeedIsRandom) {
  // Two 64-bit draws from random_device agree with probability 2^-64: a repeat means no entropy.
  EXPECT_NE(choose_seed("", false), choose_seed("", false));
}

TEST(ScanPlan, ConcurrencyDefaultsWithinBudget) {
  EXPECT_EQ(fit_concurrency(0, 100000).value, kDefaultWindow);
  EXPECT_FALSE(fit_concurrency(0, 100000).capped);
  // A low open file limit shrinks the default silently: the user asked for nothing.
  EXPECT_EQ(fit_concurrency(0, 960).value, 960u);
  EXPECT_FALSE(fit_concurrency(0, 960).capped);
}

TEST(ScanPlan, RequestedConcurrencyIsCutToBudget) {
  EXPECT_EQ(fit_concurrency(500, 960).value, 500u);
  EXPECT_FALSE(fit_concurrency(500, 960).capped);
  EXPECT_EQ(fit_concurrency(960, 960).value, 960u);
  EXPECT_FALSE(fit_concurrency(960, 960).capped);
  Concurrency c = fit_concurrency(100000, 960);
  EXPECT_EQ(c.value, 960u);
  EXPECT_TRUE(c.capped);
}

TEST(ScanPlan, ThreadsDefaultUpToTwo) {
  EXPECT_EQ(choose_threads(0, 0), 1u);  // hardware_concurrency() may not know
  EXPECT_EQ(choose_threads(0, 1), 1u);
  EXPECT_EQ(choose_threads(0, 16), 2u);
  EXPECT_EQ(choose_threads(8, 1), 8u);
}

TEST(ScanPlan, GathersArgumentsThenListFileAndExcludes) {
  char path[] = "/tmp/netres-scan-plan-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    std::ofstream f(path);
    f << "# lab hosts\n198.18.0.9, 198.18.0.10\n";
  }
  TargetTexts t = gather_targets({"198.18.0.1,198.18.0.2", "198.18.0.0/30"}, path,
                                 {"198.18.0.2", "198.18.0.3,198.18.0.10"});
  std::remove(path);
  std::vector<std::string> targets, origins, excludes, exclude_origins;
  for (const auto& x : t.targets) {
    targets.push_back(x.text);
    origins.push_back(x.origin);
  }
  for (const auto& x : t.excludes) {
    excludes.push_back(x.text);
    exclude_origins.push_back(x.origin);
  }
  EXPECT_EQ(targets, (std::vector<std::string>{"198.18.0.1", "198.18.0.2", "198.18.0.0/30",
                                               "198.18.0.9", "198.18.0.10"}));
  EXPECT_EQ(origins[0], "");
  EXPECT_EQ(origins[3], std::string(path) + ":2");
  EXPECT_EQ(excludes, (std::vector<std::string>{"198.18.0.2", "198.18.0.3", "198.18.0.10"}));
  EXPECT_EQ(exclude_origins[0], "--exclude");
}

TEST(ScanPlan, MissingListFileIsAUsageError) {
  EXPECT_THROW(gather_targets({}, "/nonexistent/netres-targets.txt", {}), UsageError);
}

namespace {

std::string plan_error(const ScanFlags& f) {
  try {
    plan_for(f, 1000, 4);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(ScanPlanFor, Defaults) {
  ScanPlan plan = plan_for(ScanFlags{}, 1000, 4);
  EXPECT_EQ(plan.ports.size(), 1000u);  // the top ports
  EXPECT_FALSE(plan.options.fixed_timeout);
  EXPECT_FALSE(plan.options.banner);
  EXPECT_EQ(plan.options.banner_timeout, std::chrono::seconds(1));
  EXPECT_EQ(plan.options.retries, 1u);
  EXPECT_EQ(plan.options.rate, 0.0);
  EXPECT_EQ(plan.options.shard.count, 1u);
  EXPECT_EQ(plan.options.threads, 2u);
  EXPECT_EQ(plan.options.concurrency, 1000u);
  EXPECT_FALSE(plan.concurrency_capped);
}

TEST(ScanPlanFor, FlagsAsGiven) {
  ScanFlags f;
  f.ports = "22,http";
  f.timeout = "200ms";
  f.banner = true;
  f.banner_timeout = "3s";
  f.retries = 0;
  f.rate = "500/s";
  f.shard = "2/4";
  f.threads = 1;
  f.concurrency = 5000;
  ScanPlan plan = plan_for(f, 1000, 4);
  EXPECT_EQ(plan.ports.size(), 2u);
  EXPECT_EQ(plan.options.fixed_timeout, std::chrono::milliseconds(200));
  EXPECT_TRUE(plan.options.banner);
  EXPECT_EQ(plan.options.banner_timeout, std::chrono::seconds(3));
  EXPECT_EQ(plan.options.retries, 0u);
  EXPECT_EQ(plan.options.rate, 500.0);
  EXPECT_EQ(plan.options.shard.index, 2u);
  EXPECT_EQ(plan.options.shard.count, 4u);
  EXPECT_EQ(plan.options.seed, 0u);  // shards agree on the order
  EXPECT_EQ(plan.options.threads, 1u);
  EXPECT_EQ(plan.options.concurrency, 1000u);  // cut to the budget, and said so
  EXPECT_TRUE(plan.concurrency_capped);
}

TEST(ScanPlanFor, TimeoutsMustBeAboveZero) {
  ScanFlags f;
  f.timeout = "0s";
  EXPECT_EQ(plan_error(f), "--timeout must be above zero");
  f = {};
  f.banner_timeout = "0s";
  EXPECT_EQ(plan_error(f), "--banner-timeout must be above zero");
  f = {};
  f.seed = "x";
  EXPECT_EQ(plan_error(f), "bad --seed 'x': expected a whole number");
  f = {};
  f.ports = "70000";
  EXPECT_THROW(plan_for(f, 1000, 4), UsageError);
  f = {};
  f.shard = "5/4";
  EXPECT_THROW(plan_for(f, 1000, 4), UsageError);
}
