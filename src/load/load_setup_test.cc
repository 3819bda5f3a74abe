// The decisions moved out of the CLI: mode detection, -m and -H checks, and the scenario run's
// description (stages, class shares that match the engine's assignment).
#include "load/load_setup.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/error.h"
#include "common/test_util.h"
#include "load/scenario_runtime.h"
#include "load/url.h"
#include "load/virtual_user.h"

namespace netres::load {
namespace {

using namespace std::chrono_literals;

using test_util::usage_error;

TEST(LoadSetup, ModeFromTheTarget) {
  EXPECT_FALSE(is_scenario_argument("http://127.0.0.1:8080/"));
  EXPECT_FALSE(is_scenario_argument("https://localhost/x.yaml"));  // a URL, whatever its path
  EXPECT_TRUE(is_scenario_argument("missing.yaml"));               // by name, even if absent
  EXPECT_TRUE(is_scenario_argument("dir/missing.yml"));
  EXPECT_FALSE(is_scenario_argument("127.0.0.1:8080"));  // no such file: quick mode's URL error
  // An existing regular file with any name is a scenario; a directory is not.
  char path[] = "/tmp/netres-load-setup-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  EXPECT_TRUE(is_scenario_argument(path));
  std::remove(path);
  EXPECT_FALSE(is_scenario_argument(path));
  EXPECT_FALSE(is_scenario_argument("/tmp"));
}

TEST(LoadSetup, Method) {
  EXPECT_NO_THROW(check_method("GET"));
  EXPECT_NO_THROW(check_method("PROPFIND"));
  EXPECT_EQ(usage_error([] { check_method("get"); }), "-m: bad method 'get'");
  EXPECT_EQ(usage_error([] { check_method("GE T"); }), "-m: bad method 'GE T'");
  EXPECT_EQ(usage_error([] { check_method("GET\r\n"); }), "-m: bad method 'GET\r\n'");
}

TEST(LoadSetup, Header) {
  EXPECT_EQ(parse_header("X-A: 1"), (std::pair<std::string, std::string>{"X-A", "1"}));
  EXPECT_EQ(parse_header("X-A:\t  two words "),
            (std::pair<std::string, std::string>{"X-A", "two words "}));
  EXPECT_EQ(parse_header("X-Empty:"), (std::pair<std::string, std::string>{"X-Empty", ""}));
  EXPECT_EQ(parse_header("Url: http://h:1/"),
            (std::pair<std::string, std::string>{"Url", "http://h:1/"}));  // first colon splits
  EXPECT_EQ(usage_error([] { parse_header("no colon"); }),
            "-H: expected 'Name: value', got 'no colon'");
  EXPECT_EQ(usage_error([] { parse_header(": v"); }), "-H: expected 'Name: value', got ': v'");
  EXPECT_EQ(usage_error([] { parse_header("A: b\r\nEvil: 1"); }),
            "-H: line breaks are not allowed in headers");
  EXPECT_EQ(usage_error([] { parse_header("A: b\n"); }),
            "-H: line breaks are not allowed in headers");
  EXPECT_EQ(usage_error([] { parse_header("Bad Name: v"); }), "-H: bad header name 'Bad Name'");
  EXPECT_EQ(usage_error([] { parse_header("Tab\t: v"); }), "-H: bad header name 'Tab\t'");
}

TEST(LoadSetup, Body) {
  EXPECT_EQ(read_body(""), "");
  EXPECT_EQ(read_body("a=1&b=2"), "a=1&b=2");
  char path[] = "/tmp/netres-load-body-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path, std::ios::binary) << std::string("x\0y\n", 4);
  EXPECT_EQ(read_body(std::string("@") + path), std::string("x\0y\n", 4));
  std::remove(path);
  EXPECT_EQ(usage_error([&] { read_body(std::string("@") + path); }),
            std::string("--body: cannot read '") + path + "'");
}

TEST(LoadSetup, QuickRequest) {
  LoadOptions o;
  o.url = parse_url("http://127.0.0.1:8080/p?q=1");
  set_quick_request(o, "HEAD", {{"X-A", "1"}}, "");
  ASSERT_EQ(o.requests.size(), 1u);
  EXPECT_EQ(o.requests[0].id, 0u);
  EXPECT_EQ(o.requests[0].method, "HEAD");
  EXPECT_EQ(o.requests[0].name, "/p");
  EXPECT_TRUE(o.requests[0].head);
  EXPECT_EQ(o.requests[0].wire, build_request(o.url, "HEAD", {{"X-A", "1"}}, ""));
  EXPECT_NE(o.requests[0].wire.find("X-A: 1\r\n"), std::string::npos);
  ASSERT_TRUE(o.make_user);
  EXPECT_NE(o.make_user(3, o.requests), nullptr);
}

Scenario prepared(const std::string& text) {
  Scenario s = parse_scenario(text, "s.yaml");
  prepare_scenario(s, std::nullopt);
  return s;
}

const char* kTwoClasses = R"yaml(host: http://127.0.0.1:8080
users: 10
spawn_rate: 4
run_time: 30s
user_classes:
  - {name: heavy, weight: 3, tasks: [GET /a]}
  - {name: light, weight: 1, tasks: [GET /b]}
)yaml";

TEST(LoadSetup, ClassSharesAreTheEnginesAssignment) {
  Scenario s = prepared(kTwoClasses);
  for (unsigned users : {1u, 2u, 4u, 7u, 10u, 1000u}) {
    auto shares = user_class_shares(s, users);
    ASSERT_EQ(shares.size(), 2u);
    std::vector<unsigned> counted(2, 0);
    for (unsigned c : assign_user_classes(s, users)) ++counted[c];
    EXPECT_EQ(shares[0].users, counted[0]) << users;
    EXPECT_EQ(shares[1].users, counted[1]) << users;
    EXPECT_EQ(shares[0].users + shares[1].users, users);
  }
  auto shares = user_class_shares(s, 10);
  EXPECT_EQ(shares[0].name, "heavy");
  EXPECT_EQ(shares[0].weight, 3);
  EXPECT_EQ(shares[0].users, 8u);  // 7.5 and 2.5: largest remainder, ties to the first
  EXPECT_EQ(shares[1].users, 2u);
  EXPECT_EQ(user_class_shares(s, 2)[1].users, 1u);  // every class gets a user when it can
  EXPECT_TRUE(user_class_shares(Scenario{}, 5).empty());
}

TEST(LoadSetup, ScenarioRunDescription) {
  Scenario s = prepared(kTwoClasses);
  LoadOptions o;
  o.url = *s.host;
  o.connections = s.peak_users();
  o.threads = 16;
  o.duration = s.effective_run_time();
  RunDescription run = describe_scenario_run(s, o, "dir/s.yaml");
  EXPECT_EQ(run.mode, "scenario");
  EXPECT_EQ(run.scenario, "dir/s.yaml");
  EXPECT_EQ(run.host, "http://127.0.0.1:8080");
  EXPECT_EQ(run.url, run.host);
  EXPECT_EQ(run.connections, 10u);
  EXPECT_EQ(run.users, 10u);
  EXPECT_EQ(run.threads, 10u);  // no more threads than users
  EXPECT_DOUBLE_EQ(run.duration_s, 30);
  EXPECT_DOUBLE_EQ(run.spawn_rate, 4);
  EXPECT_TRUE(run.stages.empty());
  ASSERT_EQ(run.user_classes.size(), 2u);
  EXPECT_EQ(run.user_classes[0].users, 8u);

  // With stages: their ends accumulate, and the top-level spawn rate is not reported.
  Scenario staged = prepared(R"yaml(host: https://localhost:8443
tasks: [GET /]
stages:
  - {duration: 30s, users: 10, spawn_rate: 5}
  - {duration: 1m, users: 50}
  - {duration: 30s, users: 0}
)yaml");
  o.url = *staged.host;
  o.connections = staged.peak_users();
  o.threads = 2;
  o.duration = staged.effective_run_time();
  run = describe_scenario_run(staged, o, "s.yaml");
  EXPECT_EQ(run.host, "https://localhost:8443");
  EXPECT_EQ(run.users, 50u);
  EXPECT_EQ(run.threads, 2u);
  EXPECT_DOUBLE_EQ(run.duration_s, 120);
  EXPECT_DOUBLE_EQ(run.spawn_rate, 0);
  ASSERT_EQ(run.stages.size(), 3u);
  EXPECT_DOUBLE_EQ(run.stages[0].end_s, 30);
  EXPECT_EQ(run.stages[0].users, 10u);
  EXPECT_DOUBLE_EQ(run.stages[0].spawn_rate, 5);
  EXPECT_DOUBLE_EQ(run.stages[1].end_s, 90);
  EXPECT_DOUBLE_EQ(run.stages[2].end_s, 120);
  EXPECT_EQ(run.stages[2].users, 0u);
  ASSERT_EQ(run.user_classes.size(), 1u);
  EXPECT_EQ(run.user_classes[0].users, 50u);
}

TEST(LoadSetup, OverridesApplyOverTheFile) {
  Scenario s = parse_scenario(kTwoClasses, "s.yaml");
  ScenarioOverrides ov;
  ov.host = "https://example.test:8443";
  ov.users = 20;
  ov.spawn_rate = "5/s";
  ov.run_time = "2m";
  ov.seed = 7;
  apply_overrides(s, ov);
  EXPECT_EQ(s.host->host, "example.test");
  EXPECT_EQ(s.host->port, 8443);
  EXPECT_TRUE(s.host->tls);
  EXPECT_EQ(s.users, 20u);
  EXPECT_DOUBLE_EQ(s.spawn_rate, 5);
  EXPECT_EQ(s.effective_run_time(), Nanos(120s));
  EXPECT_EQ(s.seed, 7u);

  Scenario untouched = parse_scenario(kTwoClasses, "s.yaml");
  apply_overrides(untouched, {});
  EXPECT_EQ(untouched.users, 10u);
  EXPECT_EQ(untouched.host->port, 8080);
}

TEST(LoadSetup, BadOverrides) {
  auto error = [](const char* yaml, ScenarioOverrides ov) {
    Scenario s = parse_scenario(yaml, "s.yaml");
    return usage_error([&] { apply_overrides(s, ov); });
  };
  const char* staged = "host: http://h\ntasks: [GET /]\nstages: [{duration: 1s, users: 1}]\n";
  EXPECT_EQ(error(kTwoClasses, {.host = "http://h/path"}),
            "--host: only scheme, host and port (paths go in the requests)");
  EXPECT_EQ(error(kTwoClasses, {.users = 0}), "--users: 1 to 100000");
  EXPECT_EQ(error(kTwoClasses, {.users = 100001}), "--users: 1 to 100000");
  EXPECT_EQ(error(staged, {.users = 3}), "--users cannot be combined with stages");
  EXPECT_EQ(error(staged, {.spawn_rate = "1/s"}), "--spawn-rate cannot be combined with stages");
  EXPECT_EQ(error(kTwoClasses, {.run_time = "0s"}), "--run-time: more than 0, at most a year");
  EXPECT_EQ(error(kTwoClasses, {.run_time = "9000h"}), "--run-time: more than 0, at most a year");
  EXPECT_NE(error(kTwoClasses, {.run_time = "soon"}), "(no error)");
  EXPECT_NE(error(kTwoClasses, {.spawn_rate = "fast"}), "(no error)");
  // The host is checked first, as the CLI always did.
  EXPECT_EQ(error(staged, {.host = "http://h/x", .users = 3}),
            "--host: only scheme, host and port (paths go in the requests)");
}

TEST(LoadPlan, QuickModeDefaults) {
  LoadFlags f;
  f.url = "http://127.0.0.1:8080/p";
  LoadPlan plan = plan_for(f, 4);
  const LoadOptions& o = plan.options;
  EXPECT_EQ(o.url.host, "127.0.0.1");
  EXPECT_EQ(o.connections, 10u);
  EXPECT_EQ(o.threads, 4u);
  EXPECT_EQ(o.duration, Nanos(10s));
  EXPECT_EQ(o.timeout, Nanos(5s));
  EXPECT_EQ(o.connect_timeout, Nanos(2s));
  EXPECT_EQ(o.drain, Nanos(2s));  // the timeout, at most 2 s
  EXPECT_EQ(o.pipeline, 1u);
  ASSERT_EQ(o.requests.size(), 1u);
  EXPECT_TRUE(plan.thresholds.empty());
  EXPECT_EQ(plan.run.mode, "quick");
  EXPECT_EQ(plan.run.url, f.url);
  EXPECT_EQ(plan.run.method, "GET");
  EXPECT_EQ(plan.run.threads, 4u);  // no more threads than connections
  EXPECT_DOUBLE_EQ(plan.run.duration_s, 10);
  f.connections = 2;
  f.timeout = "500ms";
  f.fail_if = {"p99>1s"};
  plan = plan_for(f, 4);
  EXPECT_EQ(plan.run.threads, 2u);
  EXPECT_EQ(plan.options.drain, Nanos(500ms));
  ASSERT_EQ(plan.thresholds.size(), 1u);
  EXPECT_EQ(plan.thresholds[0].text, "p99>1s");
}

TEST(LoadPlan, QuickModeRefusals) {
  LoadFlags f;
  f.url = "http://127.0.0.1:8080/";
  f.scenario_given = {"--users"};
  EXPECT_EQ(usage_error([&] { plan_for(f, 1); }),
            "--users needs a scenario file (quick mode takes a URL)");
  f.scenario_given.clear();
  f.connections = 0;
  EXPECT_EQ(usage_error([&] { plan_for(f, 1); }), "-c must be at least 1");
  f.connections = 1;
  f.pipeline = 0;
  EXPECT_EQ(usage_error([&] { plan_for(f, 1); }), "--pipeline must be at least 1");
  f.pipeline = 4;
  f.rate = "100/s";
  EXPECT_EQ(usage_error([&] { plan_for(f, 1); }), "--pipeline cannot be combined with --rate");
  f.pipeline = 1;
  f.duration = "0s";
  EXPECT_EQ(usage_error([&] { plan_for(f, 1); }), "--duration must be above zero");
  f.duration = "1s";
  f.connect_timeout = "0s";
  EXPECT_EQ(usage_error([&] { plan_for(f, 1); }), "--connect-timeout must be above zero");
  f.connect_timeout = "1s";
  f.fail_if = {"p99"};
  EXPECT_THROW(plan_for(f, 1), UsageError);
  f.fail_if.clear();
  EXPECT_EQ(plan_for(f, 1).options.rate, 100.0);
}

TEST(LoadPlan, ScenarioMode) {
  char path[] = "/tmp/netres-load-plan-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << kTwoClasses;
  LoadFlags f;
  f.url = path;
  f.threads = 3;
  f.users = 4;
  f.scenario_given = {"--users"};
  LoadPlan plan = plan_for(f, 8);
  EXPECT_EQ(plan.run.mode, "scenario");
  EXPECT_EQ(plan.run.scenario, path);
  EXPECT_EQ(plan.run.users, 4u);
  EXPECT_EQ(plan.options.connections, 4u);
  EXPECT_EQ(plan.options.threads, 3u);
  EXPECT_EQ(plan.options.duration, Nanos(30s));
  ASSERT_TRUE(plan.options.scenario);
  EXPECT_EQ(plan.options.scenario->users, 4u);
  f.quick_given = {"--rate"};
  EXPECT_EQ(usage_error([&] { plan_for(f, 8); }),
            "--rate is for quick mode (a URL), not with a scenario");
  std::remove(path);
}

}  // namespace
}  // namespace netres::load

namespace netres::load {
namespace {

using std::chrono::system_clock;

system_clock::time_point unix_s(int64_t s) {
  return system_clock::time_point(std::chrono::seconds(s));
}

TEST(StartAt, Rfc3339AndUnixSeconds) {
  const auto now = unix_s(1796547590);  // 2026-12-06T08:59:50Z
  EXPECT_EQ(parse_start_at("2026-12-06T09:00:00Z", now), unix_s(1796547600));
  EXPECT_EQ(parse_start_at("2026-12-06t09:00:00z", now), unix_s(1796547600));
  EXPECT_EQ(parse_start_at("2026-12-06T10:00:00+01:00", now), unix_s(1796547600));
  EXPECT_EQ(parse_start_at("2026-12-06T08:30:00-00:30", now), unix_s(1796547600));
  EXPECT_EQ(parse_start_at("2026-12-06T09:00:00.250Z", now),
            unix_s(1796547600) + std::chrono::milliseconds(250));
  EXPECT_EQ(parse_start_at("1796547600", now), unix_s(1796547600));
  EXPECT_EQ(parse_start_at("1796547600.5", now),
            unix_s(1796547600) + std::chrono::milliseconds(500));
  // A few seconds late is allowed (shards started by hand); more is refused, as is far ahead.
  EXPECT_EQ(parse_start_at("1796547587", now), unix_s(1796547587));
}

TEST(StartAt, Refused) {
  const auto now = unix_s(1796547590);
  for (const char* bad :
       {"", "soon", "2026-12-06T09:00:00", "2026-12-06 09:00", "2026-02-31T09:00:00Z",
        "2026-12-06T25:00:00Z", "+1796547600", "1796547600.", "-5", "2026-12-06T09:00:00+1:00",
        "2026-12-06T09:00:00Zjunk", "１７９６５４７６００"})
    EXPECT_NE(usage_error([&] { parse_start_at(bad, now); }).find("--start-at: "),
              std::string::npos)
        << bad;
  EXPECT_EQ(usage_error([&] { parse_start_at("1796547580", now); }),
            "--start-at: 1796547580 is 10 s in the past (give every shard one time still ahead)");
  EXPECT_EQ(usage_error([&] { parse_start_at("2026-12-08T09:00:00Z", now); }),
            "--start-at: 2026-12-08T09:00:00Z is more than 24 hours ahead");
}

TEST(Share, UnshardedIsTheWholeJob) {
  LoadOptions o;
  o.connections = 3;
  o.threads = 8;
  RunDescription whole{"http://127.0.0.1:1/", "GET", 3, 3, 3, 0.7, 1};
  RunDescription share = describe_share(whole, o);
  EXPECT_EQ(share.rate, 0.7);  // not 0.7 * 3 / 3
  EXPECT_EQ(share.connections, 3u);
  EXPECT_EQ(share.threads, 3u);
}

TEST(Share, QuickModeConnectionsAndRate) {
  LoadOptions o;
  o.connections = 10;
  o.threads = 4;
  RunDescription whole{"http://127.0.0.1:1/", "GET", 10, 4, 3, 90, 1};
  double rate = 0;
  unsigned connections = 0;
  for (uint64_t k = 1; k <= 3; ++k) {
    o.shard = {k, 3};
    RunDescription share = describe_share(whole, o);
    connections += share.connections;
    rate += share.rate;
    EXPECT_TRUE(share_warnings(whole, share, o.shard).empty());
  }
  EXPECT_EQ(connections, 10u);
  EXPECT_DOUBLE_EQ(rate, 90);
  o.connections = 1;
  whole.connections = 1;
  o.shard = {1, 4};
  RunDescription none = describe_share(whole, o);
  EXPECT_EQ(none.connections, 0u);
  EXPECT_EQ(none.rate, 0);
  EXPECT_EQ(share_warnings(whole, none, o.shard),
            std::vector<std::string>{"shard 1/4 runs none of the 1 connections (they are other "
                                     "shards'): nothing to send"});
}

TEST(Share, ScenarioUsersOfEachClass) {
  Scenario s = parse_scenario(R"(
host: http://127.0.0.1:1
users: 10
user_classes:
  - {name: a, weight: 3, tasks: [GET /a]}
  - {name: b, weight: 1, tasks: [GET /b]}
)",
                              "s.yaml");
  prepare_scenario(s, std::nullopt);
  LoadOptions o;
  o.url = *s.host;
  o.connections = s.peak_users();
  o.threads = 2;
  RunDescription whole = describe_scenario_run(s, o, "s.yaml");
  o.scenario = std::make_shared<const Scenario>(s);
  std::vector<unsigned> per_class(2, 0);
  unsigned users = 0;
  std::vector<std::string> warnings;
  for (uint64_t k = 1; k <= 3; ++k) {
    o.shard = {k, 3};
    RunDescription share = describe_share(whole, o);
    users += share.users;
    for (size_t c = 0; c < 2; ++c) per_class[c] += share.user_classes[c].users;
    for (auto& w : share_warnings(whole, share, o.shard)) warnings.push_back(w);
  }
  EXPECT_EQ(users, 10u);
  EXPECT_EQ(per_class[0], whole.user_classes[0].users);
  EXPECT_EQ(per_class[1], whole.user_classes[1].users);
  // b's 2 users: portions 0, 1, 1.
  EXPECT_EQ(warnings, std::vector<std::string>{
                          "shard 1/3 runs no users of class b (its 2 users are other shards')"});
}

}  // namespace
}  // namespace netres::load
