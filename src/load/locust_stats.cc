// locust's StatsEntry arithmetic (log, extend, serialize) and its error keys, over the requests
// the engine's threads report.
#include "load/locust_stats.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <chrono>
#include <cmath>

// g++ 12 warns "may be used uninitialized" inside std::variant's copy of a Value built in a
// braced Map (a known false positive of its variant analysis at -O2).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace netres::load::locust {
namespace {

Value int_map(const std::map<int64_t, uint64_t>& m) {
  Map out;
  out.reserve(m.size());
  for (const auto& [k, n] : m) out.emplace_back(Value(k), Value(n));
  return Value(std::move(out));
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

int64_t round_response_time(double ms) {
  // nearbyint rounds half to even in the default rounding mode, as Python's round() does.
  if (ms < 100) return static_cast<int64_t>(std::nearbyint(ms));
  double unit = ms < 1000 ? 10 : ms < 10000 ? 100 : 1000;
  return static_cast<int64_t>(std::nearbyint(ms / unit) * unit);
}

void Entry::log(std::optional<double> response_time_ms, uint64_t content_length, bool failed,
                double now) {
  const auto second = static_cast<int64_t>(std::floor(now));
  ++num_requests;
  ++num_reqs_per_sec[second];
  last_request_timestamp = now;
  if (response_time_ms) {
    const double rt = *response_time_ms;
    total_response_time += rt;
    min_response_time = min_response_time ? std::min(*min_response_time, rt) : rt;
    max_response_time = std::max(max_response_time, rt);
    ++response_times[round_response_time(rt)];
  } else {
    ++num_none_requests;
  }
  total_content_length += content_length;
  if (failed) {
    ++num_failures;
    ++num_fail_per_sec[second];
  }
}

void Entry::extend(const Entry& o) {
  if (o.last_request_timestamp)
    last_request_timestamp = last_request_timestamp
                                 ? std::max(*last_request_timestamp, *o.last_request_timestamp)
                                 : *o.last_request_timestamp;
  num_requests += o.num_requests;
  num_none_requests += o.num_none_requests;
  num_failures += o.num_failures;
  total_response_time += o.total_response_time;
  max_response_time = std::max(max_response_time, o.max_response_time);
  if (o.min_response_time)
    min_response_time = min_response_time ? std::min(*min_response_time, *o.min_response_time)
                                          : *o.min_response_time;
  total_content_length += o.total_content_length;
  for (const auto& [k, n] : o.response_times) response_times[k] += n;
  for (const auto& [k, n] : o.num_reqs_per_sec) num_reqs_per_sec[k] += n;
  for (const auto& [k, n] : o.num_fail_per_sec) num_fail_per_sec[k] += n;
}

Value Entry::to_value(const std::string& name, const std::string& method, double start_time) const {
  // The keys of locust's StatsEntryDict, which the master's StatsEntry.unserialize reads.
  return Value(Map{
      {"name", Value(name)},
      {"method", Value(method)},
      {"last_request_timestamp", last_request_timestamp ? Value(*last_request_timestamp) : Value()},
      {"start_time", Value(start_time)},
      {"num_requests", Value(num_requests)},
      {"num_none_requests", Value(num_none_requests)},
      {"num_failures", Value(num_failures)},
      {"total_response_time", Value(total_response_time)},
      {"max_response_time", Value(max_response_time)},
      {"min_response_time", min_response_time ? Value(*min_response_time) : Value()},
      {"total_content_length", Value(total_content_length)},
      {"response_times", int_map(response_times)},
      {"num_reqs_per_sec", int_map(num_reqs_per_sec)},
      {"num_fail_per_sec", int_map(num_fail_per_sec)},
  });
}

std::string python_repr(const std::string& s) {
  // CPython: single quotes unless the text has a ' and no ", then double quotes.
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == quote || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);  // UTF-8 of printable characters stays as it is
    }
  }
  out += quote;
  return out;
}

std::string error_key(const std::string& method, const std::string& name,
                      const std::string& reason) {
  // parse_error(error) is repr(error); create_key formats that with !r once more.
  const std::string key = fmt::format("{}.{}.{}", method, name, python_repr(python_repr(reason)));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

void StatsCollector::prepare(unsigned threads) {
  std::lock_guard lock(shards_mutex_);
  while (shards_.size() < threads) shards_.push_back(std::make_unique<Shard>());
}

void StatsCollector::on_request(unsigned thread, const RequestEvent& e) {
  record(thread, e, unix_now());
}

void StatsCollector::record(unsigned thread, const RequestEvent& e, double now) {
  Shard& shard = *shards_.at(thread);
  std::lock_guard lock(shard.mutex);
  if (shard.rows.size() <= e.id) shard.rows.resize(e.id + 1);
  Row& row = shard.rows[e.id];
  if (row.name.empty() && row.method.empty()) {
    row.name = e.name;
    row.method = e.method;
  }
  std::optional<double> rt;
  if (e.responded) rt = static_cast<double>(e.latency_us) / 1000.0;
  row.entry.log(rt, e.body_bytes, !e.failure.empty(), now);
  if (!e.failure.empty()) ++shard.errors[{e.id, e.failure}];
}

Value StatsCollector::take_report(double since) {
  std::vector<Row> rows;
  std::map<std::pair<size_t, std::string>, uint64_t> errors;
  {
    std::lock_guard lock(shards_mutex_);
    for (auto& shard : shards_) {
      std::lock_guard shard_lock(shard->mutex);
      if (rows.size() < shard->rows.size()) rows.resize(shard->rows.size());
      for (size_t i = 0; i < shard->rows.size(); ++i) {
        Row& r = shard->rows[i];
        if (r.entry.empty()) continue;
        if (rows[i].name.empty() && rows[i].method.empty()) {
          rows[i].name = r.name;
          rows[i].method = r.method;
        }
        rows[i].entry.extend(r.entry);
        r.entry = Entry{};
      }
      for (const auto& [k, n] : shard->errors) errors[k] += n;
      shard->errors.clear();
    }
  }
  Array stats;
  Entry total;
  for (const auto& r : rows) {
    if (r.entry.empty()) continue;
    stats.push_back(r.entry.to_value(r.name, r.method, since));
    total.extend(r.entry);
  }
  Map error_map;
  for (const auto& [k, n] : errors) {
    const Row& r = rows.at(k.first);
    // StatsErrorDict: the error as the master shows it is repr(reason), as locust's
    // parse_error leaves a string failure.
    error_map.emplace_back(Value(error_key(r.method, r.name, k.second)),
                           Value(Map{{"name", Value(r.name)},
                                     {"method", Value(r.method)},
                                     {"error", Value(python_repr(k.second))},
                                     {"occurrences", Value(n)}}));
  }
  return Value(Map{{"stats", Value(std::move(stats))},
                   {"stats_total", total.to_value("Aggregated", "", since)},
                   {"errors", Value(std::move(error_map))}});
}

}  // namespace netres::load::locust

namespace netres::load::locust {
namespace {
Value histogram_value(const std::string& name, const std::string& method, const HdrHistogram& h) {
  Array buckets;
  for (const auto& b : h.buckets()) buckets.push_back(Value(Array{Value(b.upper), Value(b.count)}));
  return Value(Map{{"name", Value(name)},
                   {"method", Value(method)},
                   {"count", Value(h.count())},
                   {"min", Value(h.min())},
                   {"max", Value(h.max())},
                   {"sum", Value(h.mean() * static_cast<double>(h.count()))},
                   {"buckets", Value(std::move(buckets))}});
}
}  // namespace

Value histograms_report(const LoadStats& stats, unsigned run) {
  Array names;
  for (const auto& r : stats.requests)
    if (r.requests > 0) names.push_back(histogram_value(r.name, r.method, r.latency));
  return Value(Map{{"run", Value(run)},
                   {"unit", Value("us")},
                   {"names", Value(std::move(names))},
                   {"total", histogram_value("Aggregated", "", stats.total().latency)}});
}
}  // namespace netres::load::locust
