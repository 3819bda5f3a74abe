// Load results files: writing a run's exact results, reading them back, merging shards.
#include "load/load_results.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "common/error.h"

namespace netres::load {
namespace {

using nlohmann::json;
using std::chrono::nanoseconds;

int64_t ns(Nanos d) { return std::chrono::duration_cast<nanoseconds>(d).count(); }

constexpr int64_t kLatestStartNs = int64_t{4'102'444'800} * 1'000'000'000;  // 2100-01-01

json common_job(const LoadOptions& o, const std::vector<std::string>& fail_if) {
  return {{"timeout_ns", ns(o.timeout)},
          {"connect_timeout_ns", ns(o.connect_timeout)},
          {"insecure", o.insecure},
          {"fail_if", fail_if}};
}

// Reading untrusted data: each accessor throws UsageError naming the file and the field.
struct Reader {
  const std::string& where;

  [[noreturn]] void fail(std::string_view why) const {
    throw UsageError(fmt::format("{}: not load results written by netres ({})", where, why));
  }
  const json& field(const json& o, const char* key) const {
    if (!o.is_object()) fail(fmt::format("an object was expected where \"{}\" is", key));
    auto it = o.find(key);
    if (it == o.end()) fail(fmt::format("no \"{}\"", key));
    return *it;
  }
  uint64_t count(const json& o, const char* key) const {
    const json& v = field(o, key);
    if (!v.is_number_unsigned()) fail(fmt::format("\"{}\" is not a whole number >= 0", key));
    return v.get<uint64_t>();
  }
  unsigned small(const json& o, const char* key) const {
    uint64_t v = count(o, key);
    if (v > UINT32_MAX) fail(fmt::format("\"{}\" is too large", key));
    return static_cast<unsigned>(v);
  }
  int64_t integer(const json& o, const char* key) const {
    const json& v = field(o, key);
    if (!v.is_number_integer()) fail(fmt::format("\"{}\" is not a whole number", key));
    return v.get<int64_t>();
  }
  double number(const json& o, const char* key) const {
    const json& v = field(o, key);
    if (!v.is_number()) fail(fmt::format("\"{}\" is not a number", key));
    return v.get<double>();
  }
  std::string text(const json& o, const char* key) const {
    const json& v = field(o, key);
    if (!v.is_string()) fail(fmt::format("\"{}\" is not a string", key));
    return v.get<std::string>();
  }
  bool flag(const json& o, const char* key) const {
    const json& v = field(o, key);
    if (!v.is_boolean()) fail(fmt::format("\"{}\" is not true or false", key));
    return v.get<bool>();
  }
  const json& list(const json& o, const char* key) const {
    const json& v = field(o, key);
    if (!v.is_array()) fail(fmt::format("\"{}\" is not a list", key));
    return v;
  }
  HdrHistogram histogram(const json& o, const char* key) const {
    try {
      HdrHistogram h = HdrHistogram::from_json(field(o, key));
      if (h.max_value() != kMaxLatencyUs) fail(fmt::format("\"{}\" has another range", key));
      return h;
    } catch (const std::invalid_argument& e) {
      fail(fmt::format("\"{}\": {}", key, e.what()));
    }
  }
};

// One file's data: everything but the history, which is merged second by second.
LoadResult read_result(const Reader& r, const json& data) {
  LoadResult out;
  // Bounded so that start + elapsed stays far from overflowing: 1970 to 2100, at most 2 years.
  const int64_t started = r.integer(data, "started_at_ns");
  if (started < 0 || started > kLatestStartNs) r.fail("\"started_at_ns\" is not 1970-2100");
  out.started_at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(nanoseconds(started)));
  const int64_t elapsed = r.integer(data, "elapsed_ns");
  if (elapsed < 0 || elapsed > 2 * ns(kMaxRunTime)) r.fail("\"elapsed_ns\" is not 0-2 years");
  out.elapsed = Nanos(elapsed);
  out.interrupted = r.flag(data, "interrupted");
  out.stats.cancelled = r.count(data, "cancelled");
  out.stats.connects = r.count(data, "connects");
  out.stats.retried =
      data.contains("retried") ? r.count(data, "retried") : 0;  // files of older netres
  for (const json& s : r.list(data, "stats")) {
    RequestStats row;
    row.method = r.text(s, "method");
    row.name = r.text(s, "name");
    row.requests = r.count(s, "requests");
    row.failures = r.count(s, "failures");
    row.body_bytes = r.count(s, "body_bytes");
    row.latency = r.histogram(s, "latency");
    row.service = r.histogram(s, "service");
    const json& codes = r.field(s, "status_codes");
    if (!codes.is_object()) r.fail("\"status_codes\" is not an object");
    for (const auto& [code, n] : codes.items()) {
      int c = 0;
      auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), c);
      if (ec != std::errc() || end != code.data() + code.size() || c < 0 || c > 999 ||
          !n.is_number_unsigned())
        r.fail("bad \"status_codes\" entry");
      row.status_codes[c] = n.get<uint64_t>();
    }
    out.stats.requests.push_back(std::move(row));
  }
  for (const json& f : r.list(data, "failures"))
    out.stats.failures[FailureKey{r.text(f, "method"), r.text(f, "name"), r.text(f, "reason")}] +=
        r.count(f, "count");
  return out;
}

RunDescription read_run(const Reader& r, const json& j) {
  RunDescription run;
  run.url = r.text(j, "url");
  run.method = r.text(j, "method");
  run.connections = r.small(j, "connections");
  run.threads = r.small(j, "threads");
  run.duration_s = r.number(j, "duration_s");
  run.rate = r.number(j, "rate");
  run.pipeline = r.small(j, "pipeline");
  run.mode = r.text(j, "mode");
  if (run.mode != "quick" && run.mode != "scenario") r.fail("\"mode\" is not quick or scenario");
  run.scenario = r.text(j, "scenario");
  run.host = r.text(j, "host");
  run.users = r.small(j, "users");
  run.spawn_rate = r.number(j, "spawn_rate");
  for (const json& c : r.list(j, "user_classes"))
    run.user_classes.push_back({r.text(c, "name"), r.number(c, "weight"), r.small(c, "users")});
  for (const json& st : r.list(j, "stages"))
    run.stages.push_back({r.number(st, "end_s"), r.small(st, "users"), r.number(st, "spawn_rate")});
  return run;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    throw RuntimeError("sha256: OpenSSL refused to compute a digest");
  std::string hex;
  for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

nlohmann::json scenario_job(const Scenario& s, std::string_view file_bytes, const LoadOptions& o,
                            const std::vector<std::string>& fail_if) {
  json stages = json::array();
  for (const auto& st : s.stages) stages.push_back({ns(st.duration), st.users, st.spawn_rate});
  json job = {{"mode", "scenario"},
              {"scenario_sha256", sha256_hex(file_bytes)},
              {"host", (o.url.tls ? "https://" : "http://") + o.url.host_header()},
              {"users", s.users},
              {"spawn_rate", s.spawn_rate},
              {"run_time_ns", ns(o.duration)},
              {"seed", s.seed},
              {"stages", stages}};
  job.update(common_job(o, fail_if));
  return job;
}

nlohmann::json quick_job(const LoadOptions& o, const std::string& url,
                         const std::vector<std::string>& fail_if) {
  std::string request;
  for (const auto& r : o.requests) request += r.wire;
  json job = {{"mode", "quick"},
              {"url", url},
              {"request_sha256", sha256_hex(request)},
              {"connections", o.connections},
              {"duration_ns", ns(o.duration)},
              {"rate", o.rate},
              {"pipeline", o.pipeline}};
  job.update(common_job(o, fail_if));
  return job;
}

nlohmann::json run_description_json(const RunDescription& run) {
  json classes = json::array();
  for (const auto& c : run.user_classes)
    classes.push_back({{"name", c.name}, {"weight", c.weight}, {"users", c.users}});
  json stages = json::array();
  for (const auto& st : run.stages)
    stages.push_back({{"end_s", st.end_s}, {"users", st.users}, {"spawn_rate", st.spawn_rate}});
  return {{"url", run.url},
          {"method", run.method},
          {"connections", run.connections},
          {"threads", run.threads},
          {"duration_s", run.duration_s},
          {"rate", run.rate},
          {"pipeline", run.pipeline},
          {"mode", run.mode},
          {"scenario", run.scenario},
          {"host", run.host},
          {"users", run.users},
          {"spawn_rate", run.spawn_rate},
          {"user_classes", classes},
          {"stages", stages}};
}

RunDescription run_description_from_json(const nlohmann::json& j) {
  static const std::string where = "run";
  return read_run(Reader{where}, j);
}

nlohmann::json results_data(const RunDescription& whole, const LoadResult& result) {
  json stats = json::array();
  for (const auto& s : result.stats.requests) {
    json codes = json::object();
    for (const auto& [code, n] : s.status_codes) codes[std::to_string(code)] = n;
    stats.push_back({{"method", s.method},
                     {"name", s.name},
                     {"requests", s.requests},
                     {"failures", s.failures},
                     {"body_bytes", s.body_bytes},
                     {"latency", s.latency.to_json()},
                     {"service", s.service.to_json()},
                     {"status_codes", codes}});
  }
  json failures = json::array();
  for (const auto& [key, n] : result.stats.failures)
    failures.push_back(
        {{"method", key.method}, {"name", key.name}, {"reason", key.reason}, {"count", n}});
  json history = json::array();
  for (size_t i = 0; i < result.history.size(); ++i) {
    const SecondSample& s = result.history[i];
    history.push_back(
        {{"t", s.t},
         {"users", s.users},
         {"requests", s.requests},
         {"failures", s.failures},
         {"body_bytes", s.body_bytes},
         {"latency", i < result.second_latencies.size() ? json::parse(result.second_latencies[i])
                                                        : HdrHistogram(kMaxLatencyUs).to_json()}});
  }
  return {{"run", run_description_json(whole)},
          {"started_at_ns", ns(result.started_at.time_since_epoch())},
          {"elapsed_ns", ns(result.elapsed)},
          {"interrupted", result.interrupted},
          {"cancelled", result.stats.cancelled},
          {"connects", result.stats.connects},
          {"retried", result.stats.retried},
          {"stats", stats},
          {"failures", failures},
          {"history", history}};
}

LoadRun merge_load_results(const std::vector<ResultsFile>& files) {
  if (files.empty()) throw UsageError("no results files to merge");
  LoadRun out;
  std::vector<const json*> histories;
  bool any_started = false;
  for (const ResultsFile& f : files) {
    Reader r{f.path};
    const json& data = f.data;
    RunDescription run = read_run(r, r.field(data, "run"));
    LoadResult one = read_result(r, data);
    histories.push_back(&r.list(data, "history"));
    if (&f == &files.front()) {
      out.run = run;
      out.run.threads = 0;
      for (const auto& row : one.stats.requests) {
        out.result.stats.requests.emplace_back();
        out.result.stats.requests.back().method = row.method;
        out.result.stats.requests.back().name = row.name;
      }
      for (const json& e : r.list(f.job, "fail_if")) {
        if (!e.is_string()) r.fail("\"fail_if\" holds a non-string");
        out.fail_if.push_back(e.get<std::string>());
      }
    }
    out.run.threads += run.threads;
    if (one.stats.requests.size() != out.result.stats.requests.size())
      r.fail(fmt::format("it has {} request rows where {} has {}", one.stats.requests.size(),
                         files.front().path, out.result.stats.requests.size()));
    for (size_t i = 0; i < one.stats.requests.size(); ++i) {
      const RequestStats& a = out.result.stats.requests[i];
      const RequestStats& b = one.stats.requests[i];
      if (a.method != b.method || a.name != b.name)
        r.fail(fmt::format("row {} is {} {} where {} has {} {}", i + 1, b.method, b.name,
                           files.front().path, a.method, a.name));
    }
    out.result.stats.merge(one.stats);
    // The earliest start of the shards that ran (one with nothing to run did not start).
    const bool ran = one.elapsed.count() > 0;
    if ((ran && !any_started) || &f == &files.front() ||
        (ran == any_started && one.started_at < out.result.started_at))
      out.result.started_at = one.started_at;
    any_started = any_started || ran;
    out.result.elapsed = std::max(out.result.elapsed, one.elapsed);
    out.result.interrupted = out.result.interrupted || one.interrupted;
  }

  // History: row k of every shard is the same second of the job (they started together).
  size_t rows = 0;
  for (const json* h : histories) rows = std::max(rows, h->size());
  HistoryBuilder builder;
  IntervalStats interval;
  for (size_t k = 0; k < rows; ++k) {
    interval.reset();
    double t = 0;
    unsigned users = 0;
    for (size_t f = 0; f < files.size(); ++f) {
      if (k >= histories[f]->size()) continue;
      Reader r{files[f].path};
      const json& row = (*histories[f])[k];
      const double row_t = r.number(row, "t");
      if (!(row_t >= 0 && row_t <= 2 * to_seconds(kMaxRunTime)))
        r.fail("a history row's \"t\" is not 0-2 years");
      t = std::max(t, row_t);
      users += r.small(row, "users");
      interval.requests += r.count(row, "requests");
      interval.failures += r.count(row, "failures");
      interval.body_bytes += r.count(row, "body_bytes");
      interval.latency.merge(r.histogram(row, "latency"));
    }
    out.result.second_latencies.push_back(interval.latency.to_json().dump());
    out.result.history.push_back(builder.add(t, users, interval));
  }
  return out;
}

}  // namespace netres::load
