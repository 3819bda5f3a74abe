#include "load/load_setup.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/duration.h"
#include "common/error.h"
#include "common/option_check.h"
#include "common/size.h"
#include "load/locust_locustfile.h"
#include "load/scenario_runtime.h"
#include "load/virtual_user.h"

namespace netres::load {

bool is_scenario_argument(const std::string& target) {
  if (target.starts_with("http://") || target.starts_with("https://")) return false;
  struct stat st {};
  return target.ends_with(".yaml") || target.ends_with(".yml") ||
         (stat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode));
}

void check_method(const std::string& method) {
  for (char c : method)
    if (c < 'A' || c > 'Z') throw UsageError(fmt::format("-m: bad method '{}'", method));
}

std::pair<std::string, std::string> parse_header(const std::string& text) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0)
    throw UsageError(fmt::format("-H: expected 'Name: value', got '{}'", text));
  if (text.find_first_of("\r\n") != std::string::npos)
    throw UsageError("-H: line breaks are not allowed in headers");
  std::string name = text.substr(0, colon);
  if (name.find_first_of(" \t") != std::string::npos)
    throw UsageError(fmt::format("-H: bad header name '{}'", name));
  std::string value = text.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  return {name, value};
}

std::string read_body(const std::string& flag) {
  if (flag.empty() || flag[0] != '@') return flag;
  std::ifstream in(flag.substr(1), std::ios::binary);
  if (!in) throw UsageError(fmt::format("--body: cannot read '{}'", flag.substr(1)));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void set_quick_request(LoadOptions& o, const std::string& method,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& body) {
  RequestTemplate request;
  request.id = 0;
  request.method = method;
  request.name = o.url.path;
  request.head = method == "HEAD";
  request.wire = build_request(o.url, method, headers, body);
  o.requests.push_back(request);
  o.make_user = [](unsigned, const std::vector<RequestTemplate>& requests) {
    return std::make_unique<FixedRequestUser>(requests.front());
  };
}

void apply_overrides(Scenario& s, const ScenarioOverrides& ov) {
  std::optional<Url> host;
  if (ov.host) {
    host = parse_url(*ov.host);
    if (host->target != "/")
      throw UsageError("--host: only scheme, host and port (paths go in the requests)");
  }
  if (ov.users) {
    if (!s.stages.empty()) throw UsageError("--users cannot be combined with stages");
    if (*ov.users < 1 || *ov.users > kMaxScenarioUsers)
      throw UsageError(fmt::format("--users: 1 to {}", kMaxScenarioUsers));
    s.users = *ov.users;
  }
  if (ov.spawn_rate) {
    if (!s.stages.empty()) throw UsageError("--spawn-rate cannot be combined with stages");
    s.spawn_rate = parse_rate(*ov.spawn_rate, "--spawn-rate");
  }
  if (ov.run_time) {
    s.run_time = parse_duration(*ov.run_time, "--run-time");
    if (s.run_time->count() == 0 || *s.run_time > kMaxRunTime)
      throw UsageError("--run-time: more than 0, at most a year");
  }
  if (ov.seed) s.seed = *ov.seed;
  prepare_scenario(s, host);
}

std::vector<RunDescription::UserClassShare> user_class_shares(const Scenario& s, unsigned users) {
  std::vector<unsigned> per_class(s.classes.size(), 0);
  for (unsigned c : assign_user_classes(s, users)) ++per_class[c];
  std::vector<RunDescription::UserClassShare> out;
  for (size_t i = 0; i < s.classes.size(); ++i)
    out.push_back({s.classes[i].name, s.classes[i].weight, per_class[i]});
  return out;
}

RunDescription describe_scenario_run(const Scenario& s, const LoadOptions& o,
                                     const std::string& path) {
  RunDescription run;
  run.mode = "scenario";
  run.scenario = path;
  run.host = (o.url.tls ? "https://" : "http://") + o.url.host_header();
  run.url = run.host;
  run.connections = o.connections;
  run.threads = std::min(o.threads, o.connections);
  run.duration_s = to_seconds(o.duration);
  run.users = o.connections;
  run.spawn_rate = s.stages.empty() ? s.spawn_rate : 0;
  double stage_end = 0;
  for (const auto& st : s.stages) {
    stage_end += to_seconds(st.duration);
    run.stages.push_back({stage_end, st.users, st.spawn_rate});
  }
  run.user_classes = user_class_shares(s, o.connections);
  return run;
}

namespace {

// Timeouts, threads and TLS checks: the same in both modes.
void set_common_options(const LoadFlags& f, unsigned hardware_threads, LoadOptions& o) {
  o.threads = f.threads ? f.threads : std::max(1u, hardware_threads);
  o.timeout = parse_duration(f.timeout, "--timeout");
  o.connect_timeout = parse_duration(f.connect_timeout, "--connect-timeout");
  require_above_zero(o.timeout, "--timeout");
  require_above_zero(o.connect_timeout, "--connect-timeout");
  o.drain = std::min<Nanos>(o.timeout, std::chrono::seconds(2));
  o.insecure = f.insecure;
}

std::vector<Threshold> parse_thresholds(const std::vector<std::string>& texts) {
  std::vector<Threshold> thresholds;
  for (const auto& t : texts) thresholds.push_back(parse_threshold(t));
  return thresholds;
}

LoadPlan quick_plan(const LoadFlags& f, unsigned hardware_threads) {
  if (!f.scenario_given.empty())
    throw UsageError(
        fmt::format("{} needs a scenario file (quick mode takes a URL)", f.scenario_given.front()));
  LoadPlan plan;
  LoadOptions& o = plan.options;
  o.url = parse_url(f.url);
  check_method(f.method);
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& h : f.headers) headers.push_back(parse_header(h));
  require_at_least(f.connections, "-c", 1);
  require_at_least(f.pipeline, "--pipeline", 1);
  o.connections = f.connections;
  set_common_options(f, hardware_threads, o);
  o.duration = parse_duration(f.duration, "--duration");
  require_above_zero(o.duration, "--duration");
  o.pipeline = f.pipeline;
  if (!f.rate.empty()) {
    o.rate = parse_rate(f.rate, "--rate");
    if (o.pipeline > 1) throw UsageError("--pipeline cannot be combined with --rate");
  }
  plan.thresholds = parse_thresholds(f.fail_if);  // bad usage before any traffic
  set_quick_request(o, f.method, headers, read_body(f.body));
  plan.run = {
      f.url,  f.method,  o.connections, std::min(o.threads, o.connections), to_seconds(o.duration),
      o.rate, o.pipeline};
  return plan;
}

LoadPlan scenario_plan(const LoadFlags& f, unsigned hardware_threads) {
  if (!f.quick_given.empty())
    throw UsageError(
        fmt::format("{} is for quick mode (a URL), not with a scenario", f.quick_given.front()));
  Scenario s = load_scenario_file(f.url);
  auto given = [&](std::string_view flag) {
    return std::find(f.scenario_given.begin(), f.scenario_given.end(), flag) !=
           f.scenario_given.end();
  };
  ScenarioOverrides ov;
  if (given("--host")) ov.host = f.host;
  if (given("--users")) ov.users = f.users;
  if (given("--spawn-rate")) ov.spawn_rate = f.spawn_rate;
  if (given("--run-time")) ov.run_time = f.run_time;
  if (given("--seed")) ov.seed = f.seed;
  apply_overrides(s, ov);
  LoadPlan plan;
  plan.thresholds = parse_thresholds(f.fail_if);

  LoadOptions& o = plan.options;
  o.url = *s.host;
  o.connections = s.peak_users();
  set_common_options(f, hardware_threads, o);
  o.duration = s.effective_run_time();
  plan.run = describe_scenario_run(s, o, f.url);
  o.scenario = std::make_shared<const Scenario>(std::move(s));
  return plan;
}

}  // namespace

LoadPlan plan_for(const LoadFlags& f, unsigned hardware_threads) {
  return is_scenario_argument(f.url) ? scenario_plan(f, hardware_threads)
                                     : quick_plan(f, hardware_threads);
}

bool is_locust_run(const LoadFlags& f) {
  return !f.locust_master.empty() || !f.emit_locustfile.empty();
}

namespace {

// The scenario with --host/--seed applied: the flags a worker and the locustfile take.
Scenario locust_scenario(const LoadFlags& f) {
  const char* flag = f.emit_locustfile.empty() ? "--locust-master" : "--emit-locustfile";
  if (!f.locust_master.empty() && !f.emit_locustfile.empty())
    throw UsageError("--emit-locustfile and --locust-master are separate runs");
  if (!is_scenario_argument(f.url))
    throw UsageError(fmt::format("{} needs a scenario file, not a URL", flag));
  for (const auto& given : f.scenario_given)
    if (given != "--host" && given != "--seed")
      throw UsageError(fmt::format("{} is the master's to decide, not with {}", given, flag));
  if (!f.quick_given.empty())
    throw UsageError(
        fmt::format("{} is for quick mode (a URL), not with {}", f.quick_given.front(), flag));
  if (!f.fail_if.empty() || !f.csv.empty() || !f.html.empty())
    throw UsageError(
        fmt::format("--fail-if, --csv and --html are the master's, not with {}", flag));
  Scenario s = load_scenario_file(f.url);
  ScenarioOverrides ov;
  auto given = [&](std::string_view name) {
    return std::find(f.scenario_given.begin(), f.scenario_given.end(), name) !=
           f.scenario_given.end();
  };
  if (given("--host")) ov.host = f.host;
  if (given("--seed")) ov.seed = f.seed;
  apply_overrides(s, ov);
  return s;
}

}  // namespace

LocustWorkerOptions locust_worker_plan(const LoadFlags& f, unsigned hardware_threads) {
  LocustWorkerOptions w;
  Scenario s = locust_scenario(f);
  parse_locust_master(f.locust_master, w);
  w.master_timeout = parse_duration(f.locust_timeout, "--locust-timeout");
  require_above_zero(w.master_timeout, "--locust-timeout");
  w.load.url = *s.host;
  set_common_options(f, hardware_threads, w.load);
  w.load.scenario = std::make_shared<const Scenario>(std::move(s));
  return w;
}

std::string locustfile_for(const LoadFlags& f) {
  return locustfile_text(locust_scenario(f), f.url);
}

}  // namespace netres::load
