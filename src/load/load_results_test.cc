#include "load/load_results.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

#include "common/error.h"
#include "load/scenario_runtime.h"

namespace netres::load {
namespace {

// Users of each class each shard of `n` runs, from shard_users().
std::vector<std::vector<unsigned>> class_counts(const std::vector<double>& weights, unsigned users,
                                                uint64_t n) {
  auto classes = assign_user_classes(weights, users);
  std::vector<std::vector<unsigned>> out;
  for (uint64_t k = 1; k <= n; ++k) {
    auto mine = shard_users(classes, weights.size(), Shard{k, n});
    std::vector<unsigned> counts(weights.size(), 0);
    for (size_t i = 0; i < mine.size(); ++i)
      if (mine[i]) ++counts[classes[i]];
    out.push_back(counts);
  }
  return out;
}

TEST(ShardUsers, EachClassSplitsByPortion) {
  struct Case {
    std::vector<double> weights;
    unsigned users;
    uint64_t shards;
  };
  for (const Case& c : std::vector<Case>{{{1}, 10, 3},
                                         {{3, 1}, 10, 3},
                                         {{2, 3, 5}, 7, 4},
                                         {{1.5, 1}, 101, 7},
                                         {{1}, 1, 4},
                                         {{1, 1, 1}, 2, 3},
                                         {{7, 1}, 1000, 16}}) {
    auto classes = assign_user_classes(c.weights, c.users);
    std::vector<unsigned> whole(c.weights.size(), 0);
    for (unsigned cl : classes) ++whole[cl];
    auto counts = class_counts(c.weights, c.users, c.shards);
    for (size_t cl = 0; cl < c.weights.size(); ++cl) {
      unsigned sum = 0;
      for (uint64_t k = 1; k <= c.shards; ++k) {
        EXPECT_EQ(counts[k - 1][cl], Shard(k, c.shards).portion(whole[cl]))
            << "class " << cl << " shard " << k << "/" << c.shards;
        sum += counts[k - 1][cl];
      }
      EXPECT_EQ(sum, whole[cl]);
    }
  }
}

TEST(ShardUsers, TenUsersInThreeShards) {
  auto counts = class_counts({1}, 10, 3);
  EXPECT_EQ(counts, (std::vector<std::vector<unsigned>>{{3}, {3}, {4}}));
}

TEST(ShardUsers, OneUserInFourShardsLeavesThreeEmpty) {
  auto counts = class_counts({1}, 1, 4);
  EXPECT_EQ(counts, (std::vector<std::vector<unsigned>>{{0}, {0}, {0}, {1}}));
}

// Whatever the live count (a ramp, a stage's target), the shards' live users sum to it, and each
// class's users are spread so no shard is more than one user ahead of another.
TEST(ShardUsers, EveryPrefixSumsAndStaysBalanced) {
  const std::vector<double> weights = {3, 2, 1.5};
  const unsigned users = 97;
  const uint64_t n = 5;
  auto classes = assign_user_classes(weights, users);
  std::vector<std::vector<bool>> mine;
  for (uint64_t k = 1; k <= n; ++k) mine.push_back(shard_users(classes, weights.size(), {k, n}));
  for (unsigned live = 0; live <= users; ++live) {
    unsigned total = 0;
    for (size_t cl = 0; cl < weights.size(); ++cl) {
      unsigned lo = UINT32_MAX, hi = 0;
      for (uint64_t k = 0; k < n; ++k) {
        unsigned c = 0;
        for (unsigned i = 0; i < live; ++i) c += mine[k][i] && classes[i] == cl;
        lo = std::min(lo, c);
        hi = std::max(hi, c);
        total += c;
      }
      EXPECT_LE(hi - lo, 1u) << "live " << live << " class " << cl;
    }
    EXPECT_EQ(total, live);
  }
}

TEST(ShardUsers, OneShardRunsEveryone) {
  auto classes = assign_user_classes({1, 2}, 9);
  auto mine = shard_users(classes, 2, Shard{});
  EXPECT_EQ(std::count(mine.begin(), mine.end(), true), 9);
}

TEST(ShardShare, QuickConnectionsSumToTheJob) {
  for (unsigned c : {1u, 2u, 10u, 11u, 1000u}) {
    unsigned sum = 0;
    for (uint64_t k = 1; k <= 3; ++k) {
      LoadOptions o;
      o.connections = c;
      o.shard = {k, 3};
      sum += shard_share(o);
    }
    EXPECT_EQ(sum, c);
  }
}

// --- results files ---

RunDescription sample_run() {
  RunDescription run;
  run.url = "http://127.0.0.1:18550";
  run.mode = "scenario";
  run.scenario = "shop.yaml";
  run.host = run.url;
  run.connections = run.users = 10;
  run.threads = 2;
  run.duration_s = 4;
  run.user_classes = {{"a", 3, 7}, {"b", 1, 3}};
  run.stages = {{2, 10, 5}, {4, 0, 0}};
  return run;
}

// A run of `seconds` seconds whose requests are `samples` (row, second, latency us, status).
struct Sample {
  size_t row;
  size_t second;
  uint64_t us;
  int status;
};

LoadResult run_of(const std::vector<Sample>& samples, size_t seconds, int64_t started_s,
                  unsigned users = 3) {
  LoadResult r;
  r.stats.requests.resize(2);
  r.stats.requests[0].method = "GET";
  r.stats.requests[0].name = "/a";
  r.stats.requests[1].method = "POST";
  r.stats.requests[1].name = "/b";
  std::vector<IntervalStats> intervals(seconds);
  for (const Sample& s : samples) {
    RequestStats& row = r.stats.requests[s.row];
    ++row.requests;
    row.latency.record(s.us);
    row.service.record(s.us / 2);
    row.body_bytes += 10;
    ++row.status_codes[s.status];
    IntervalStats& in = intervals[s.second];
    ++in.requests;
    in.body_bytes += 10;
    in.latency.record(s.us);
    if (s.status >= 400) {
      ++row.failures;
      ++in.failures;
      ++r.stats.failures[{row.method, row.name, fmt::format("HTTP {}", s.status)}];
    }
  }
  HistoryBuilder h;
  for (size_t k = 0; k < seconds; ++k) {
    r.history.push_back(h.add(static_cast<double>(k + 1), users, intervals[k]));
    r.second_latencies.push_back(intervals[k].latency.to_json().dump());
  }
  r.started_at = std::chrono::system_clock::time_point(std::chrono::seconds(started_s));
  r.elapsed = std::chrono::seconds(seconds);
  r.stats.connects = users;
  r.stats.retried = 2 * users;
  return r;
}

ResultsFile file_of(const RunDescription& run, const LoadResult& r, Shard shard,
                    const std::string& path) {
  ResultsFile f;
  f.verb = kLoadVerb;
  f.shard = shard;
  f.job = {{"mode", "scenario"}, {"fail_if", {"p99>1s"}}};
  // Through text, as a file carries it.
  f.data = nlohmann::json::parse(results_data(run, r).dump());
  f.path = path;
  return f;
}

void expect_same_history(const SecondSample& a, const SecondSample& b) {
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.failures, b.failures);
  EXPECT_EQ(a.body_bytes, b.body_bytes);
  EXPECT_EQ(a.responses, b.responses);
  EXPECT_EQ(a.p50_ms, b.p50_ms);
  EXPECT_EQ(a.p95_ms, b.p95_ms);
  EXPECT_EQ(a.p99_ms, b.p99_ms);
  EXPECT_EQ(a.window_ms, b.window_ms);
  EXPECT_EQ(a.window_responses, b.window_responses);
  EXPECT_EQ(a.total_requests, b.total_requests);
  EXPECT_EQ(a.total_p50_ms, b.total_p50_ms);
  EXPECT_EQ(a.total_avg_ms, b.total_avg_ms);
  EXPECT_EQ(a.total_min_ms, b.total_min_ms);
  EXPECT_EQ(a.total_max_ms, b.total_max_ms);
}

TEST(LoadResults, MergedShardsEqualOneRunOfAllRequests) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> latency(7.0, 1.5);
  const size_t seconds = 14;  // more than the 10 s window
  std::vector<Sample> all;
  for (int i = 0; i < 30000; ++i)
    all.push_back({rng() % 2, rng() % seconds, static_cast<uint64_t>(latency(rng)),
                   rng() % 50 == 0 ? 503 : 200});
  std::vector<std::vector<Sample>> parts(3);
  for (const Sample& s : all) parts[rng() % 3].push_back(s);

  const RunDescription run = sample_run();
  LoadResult whole = run_of(all, seconds, 1000, 9);
  std::vector<ResultsFile> files;
  for (uint64_t k = 1; k <= 3; ++k)
    files.push_back(
        file_of(run, run_of(parts[k - 1], seconds, 1000), {k, 3}, fmt::format("s{}.json", k)));
  std::swap(files[0], files[2]);  // any order

  LoadRun merged = merge_load_results(files);
  ASSERT_EQ(merged.result.stats.requests.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const RequestStats& a = merged.result.stats.requests[i];
    const RequestStats& b = whole.stats.requests[i];
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.requests, b.requests);
    EXPECT_EQ(a.failures, b.failures);
    EXPECT_EQ(a.body_bytes, b.body_bytes);
    EXPECT_TRUE(a.latency == b.latency);
    EXPECT_TRUE(a.service == b.service);
    EXPECT_EQ(a.status_codes, b.status_codes);
  }
  ASSERT_EQ(merged.result.stats.failures.size(), whole.stats.failures.size());
  for (auto a = merged.result.stats.failures.begin(), b = whole.stats.failures.begin();
       b != whole.stats.failures.end(); ++a, ++b) {
    EXPECT_EQ(a->first.name, b->first.name);
    EXPECT_EQ(a->first.reason, b->first.reason);
    EXPECT_EQ(a->second, b->second);
  }
  EXPECT_EQ(merged.result.stats.connects, 9u);
  EXPECT_EQ(merged.result.stats.retried, 18u);
  ASSERT_EQ(merged.result.history.size(), seconds);
  for (size_t k = 0; k < seconds; ++k) {
    expect_same_history(merged.result.history[k], whole.history[k]);
    EXPECT_EQ(merged.result.history[k].users, 9u);
    EXPECT_EQ(merged.result.second_latencies[k], whole.second_latencies[k]);
  }
  EXPECT_EQ(merged.result.elapsed, whole.elapsed);
  EXPECT_EQ(merged.result.started_at, whole.started_at);
  EXPECT_EQ(merged.run.threads, 6u);
  EXPECT_EQ(merged.run.user_classes.size(), 2u);
  EXPECT_EQ(merged.run.stages.size(), 2u);
  EXPECT_EQ(merged.fail_if, std::vector<std::string>{"p99>1s"});
  // The reports print the same bytes.
  std::vector<ThresholdVerdict> none;
  RunDescription one = run;
  one.threads = 6;
  EXPECT_EQ(to_json(merged.run, merged.result, none), to_json(one, whole, none));
}

TEST(LoadResults, MergedMergeIsTheSame) {
  // merge --results writes a 1/1 file: merging it alone gives the same again.
  std::vector<Sample> s = {{0, 0, 120, 200}, {1, 1, 90000, 404}, {0, 1, 7, 200}};
  LoadRun once = merge_load_results({file_of(sample_run(), run_of(s, 2, 5), {}, "a")});
  LoadRun twice = merge_load_results({file_of(once.run, once.result, {}, "b")});
  EXPECT_EQ(to_json(once.run, once.result, {}), to_json(twice.run, twice.result, {}));
}

TEST(LoadResults, DescriptionRoundTrips) {
  RunDescription run = sample_run();
  RunDescription back = run_description_from_json(run_description_json(run));
  EXPECT_EQ(run_description_json(back), run_description_json(run));
}

TEST(LoadResults, BadDataIsOneLineUsageError) {
  std::vector<Sample> s = {{0, 0, 120, 200}};
  ResultsFile good = file_of(sample_run(), run_of(s, 1, 5), {}, "r.json");
  auto refused = [&](const std::function<void(nlohmann::json&)>& spoil) {
    ResultsFile f = good;
    spoil(f.data);
    try {
      merge_load_results({f});
      ADD_FAILURE() << "accepted " << f.data.dump().substr(0, 200);
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      EXPECT_EQ(std::string(e.what()).rfind("r.json: ", 0), 0u) << e.what();
    }
  };
  refused([](auto& d) { d.erase("stats"); });
  refused([](auto& d) { d["stats"][0]["latency"]["count"] = 5; });
  refused([](auto& d) { d["stats"][0]["status_codes"]["2x0"] = 1; });
  refused([](auto& d) { d["history"][0]["latency"] = "none"; });
  refused([](auto& d) { d["run"]["mode"] = "turbo"; });
  refused([](auto& d) { d["elapsed_ns"] = -1; });
  refused([](auto& d) { d["elapsed_ns"] = INT64_MAX; });
  refused([](auto& d) { d["started_at_ns"] = INT64_MAX; });
  refused([](auto& d) { d["history"][0]["t"] = 1e300; });
  refused([](auto& d) { d["stats"][0]["latency"]["max_value"] = 1000; });
  // Shards whose rows differ are not of one scenario.
  ResultsFile other = good;
  other.data["stats"][1]["name"] = "/c";
  other.shard = {2, 2};
  good.shard = {1, 2};
  EXPECT_THROW(merge_load_results({good, other}), UsageError);
}

TEST(LoadResults, Sha256) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace netres::load
