#include "load/load_setup.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/duration.h"
#include "common/error.h"
#include "common/option_check.h"
#include "common/shard.h"
#include "common/size.h"
#include "load/load_results.h"
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
  if (!f.shard.empty()) o.shard = parse_shard(f.shard, "--shard");
  if (!f.start_at.empty())
    o.start_at = parse_start_at(f.start_at, std::chrono::system_clock::now());
  o.keep_seconds = !f.results.empty();
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
  plan.job = quick_job(o, f.url, f.fail_if);
  return plan;
}

LoadPlan scenario_plan(const LoadFlags& f, unsigned hardware_threads) {
  if (!f.quick_given.empty())
    throw UsageError(
        fmt::format("{} is for quick mode (a URL), not with a scenario", f.quick_given.front()));
  const std::string bytes = read_scenario_bytes(f.url);
  Scenario s = parse_scenario(bytes, f.url);
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
  plan.job = scenario_job(s, bytes, o, f.fail_if);
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
  // A worker's --results is its own record (locust_worker.h); shares are the master's to make.
  if (!f.shard.empty() || !f.start_at.empty())
    throw UsageError(fmt::format(
        "--shard and --start-at are for static shards (netres merge), not with {}", flag));
  if (!f.emit_locustfile.empty() && !f.results.empty())
    throw UsageError("--results is written by a run, not with --emit-locustfile");
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
  if (!f.results.empty()) {
    w.results_path = f.results;
    w.scenario_path = f.url;
    std::ifstream in(f.url, std::ios::binary);
    w.scenario_bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  return w;
}

std::string locustfile_for(const LoadFlags& f) {
  return locustfile_text(locust_scenario(f), f.url);
}

namespace {

// "2026-12-06T09:00:00.250+01:00" -> the time; nullopt when it is not RFC 3339.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& t) {
  if (t.size() < 20) return std::nullopt;
  for (size_t i = 0; i < 19; ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(t[i]));
    if (i == 4 || i == 7 ? t[i] != '-' : i == 13 || i == 16 ? t[i] != ':' : i != 10 && !digit)
      return std::nullopt;
  }
  int year, month, day, hour, minute, second;
  char sep;
  int used = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &sep, &hour,
                  &minute, &second, &used) != 7 ||
      used != 19 || (sep != 'T' && sep != 't' && sep != ' '))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  size_t i = 19;
  std::chrono::nanoseconds fraction{0};
  if (i < t.size() && t[i] == '.') {
    int64_t scale = 100'000'000;
    size_t digits = 0;
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i, ++digits)
      if (scale > 0) {
        fraction += std::chrono::nanoseconds((t[i] - '0') * scale);
        scale /= 10;
      }
    if (digits == 0) return std::nullopt;
  }
  int offset_min = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':' &&
             std::isdigit(static_cast<unsigned char>(t[i + 1])) &&
             std::isdigit(static_cast<unsigned char>(t[i + 2])) &&
             std::isdigit(static_cast<unsigned char>(t[i + 4])) &&
             std::isdigit(static_cast<unsigned char>(t[i + 5]))) {
    int oh = (t[i + 1] - '0') * 10 + (t[i + 2] - '0'),
        om = (t[i + 4] - '0') * 10 + (t[i + 5] - '0');
    if (oh > 23 || om > 59) return std::nullopt;
    offset_min = (t[i] == '+' ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return std::nullopt;  // RFC 3339 requires the offset
  }
  if (i != t.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t secs = timegm(&tm);
  if (tm.tm_mday != day) return std::nullopt;  // 31 February rolled over
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(secs - offset_min * 60) + fraction));
}

// "1796547600" or "1796547600.25": Unix seconds.
std::optional<std::chrono::system_clock::time_point> parse_unix_seconds(const std::string& t) {
  if (t.empty() || t.size() > 30) return std::nullopt;
  size_t dot = t.find('.');
  std::string whole = t.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : t.substr(dot + 1);
  auto digits = [](const std::string& d) {
    return !d.empty() &&
           std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(whole) || (dot != std::string::npos && !digits(frac)) || whole.size() > 12)
    return std::nullopt;
  std::chrono::nanoseconds ns = std::chrono::seconds(std::stoll(whole));
  int64_t scale = 100'000'000;
  for (char c : frac) {
    ns += std::chrono::nanoseconds((c - '0') * scale);
    scale /= 10;
  }
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(ns));
}

}  // namespace

std::chrono::system_clock::time_point parse_start_at(const std::string& text,
                                                     std::chrono::system_clock::time_point now) {
  auto at = parse_unix_seconds(text);
  if (!at) at = parse_rfc3339(text);
  if (!at)
    throw UsageError(fmt::format(
        "--start-at: '{}' is not a time (RFC 3339 as 2026-12-06T09:00:00Z, or Unix seconds)",
        text));
  if (*at + kStartAtPast < now)
    throw UsageError(fmt::format(
        "--start-at: {} is {:.0f} s in the past (give every shard one time still ahead)", text,
        std::chrono::duration<double>(now - *at).count()));
  if (*at > now + kStartAtAhead)
    throw UsageError(fmt::format("--start-at: {} is more than 24 hours ahead", text));
  return *at;
}

RunDescription describe_share(const RunDescription& whole, const LoadOptions& o) {
  if (o.shard.count == 1) return whole;  // the whole job, described exactly as before
  RunDescription share = whole;
  const unsigned n = shard_share(o);
  share.connections = n;
  share.threads = std::min(o.threads, std::max(1u, n));
  if (o.scenario) {
    share.users = n;
    const unsigned peak = std::max(1u, o.connections);
    auto classes = assign_user_classes(*o.scenario, peak);
    auto mine = shard_users(classes, o.scenario->classes.size(), o.shard);
    for (auto& c : share.user_classes) c.users = 0;
    for (size_t i = 0; i < mine.size(); ++i)
      if (mine[i]) ++share.user_classes[classes[i]].users;
  } else if (whole.rate > 0) {
    share.rate = whole.rate * n / std::max(1u, o.connections);
  }
  return share;
}

std::vector<std::string> share_warnings(const RunDescription& whole, const RunDescription& share,
                                        const Shard& shard) {
  std::vector<std::string> out;
  const std::string which = fmt::format("shard {}/{}", shard.index, shard.count);
  if (share.connections == 0) {
    out.push_back(
        whole.mode == "scenario"
            ? fmt::format("{} runs none of the scenario's {} users (they are other shards'): "
                          "nothing to send",
                          which, whole.users)
            : fmt::format("{} runs none of the {} connections (they are other shards'): "
                          "nothing to send",
                          which, whole.connections));
    return out;
  }
  for (size_t i = 0; i < share.user_classes.size() && i < whole.user_classes.size(); ++i)
    if (share.user_classes[i].users == 0 && whole.user_classes[i].users > 0)
      out.push_back(fmt::format("{} runs no users of class {} (its {} users are other shards')",
                                which, share.user_classes[i].name, whole.user_classes[i].users));
  return out;
}

}  // namespace netres::load
