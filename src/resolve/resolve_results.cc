// resolve results files: rows to JSON and back (strictly), name shares, and the merge.
#include "resolve/resolve_results.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "resolve/dns_message.h"

namespace netres::resolve {
namespace {

// FNV-1a over the names, each ended by '\n': stable across builds and machines, unlike
// std::hash, so shards built anywhere agree.
std::string names_digest(const std::vector<std::string>& names) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (const auto& name : names) {
    for (unsigned char c : name) mix(c);
    mix('\n');
  }
  return fmt::format("{:016x}", h);
}

nlohmann::json row_json(const PositionedRow& p) {
  const ResolveRow& r = p.row;
  nlohmann::json answers = nlohmann::json::array();
  for (const auto& a : r.answers)
    answers.push_back(
        {{"name", a.name}, {"type", a.type}, {"class", a.klass}, {"ttl", a.ttl}, {"data", a.data}});
  return {{"position", p.position},
          {"name", r.name},
          {"type", r.type},
          {"qname", r.qname},
          {"status", r.status},
          {"rcode", r.rcode},
          {"cname_chain", r.cname_chain},
          {"answers", std::move(answers)},
          {"ttl", r.ttl ? nlohmann::json(*r.ttl) : nlohmann::json(nullptr)},
          {"duration_ns", r.duration.count()},
          {"server", r.server},
          {"name_ok", r.name_ok}};
}

PositionedRow row_from(const nlohmann::json& j) {
  PositionedRow p;
  ResolveRow& r = p.row;
  p.position = j.at("position").get<uint64_t>();
  r.name = j.at("name").get<std::string>();
  r.type = j.at("type").get<uint16_t>();
  r.qname = j.at("qname").get<std::string>();
  r.status = j.at("status").get<std::string>();
  r.rcode = j.at("rcode").get<int>();
  r.cname_chain = j.at("cname_chain").get<std::vector<std::string>>();
  for (const auto& a : j.at("answers")) {
    DnsRecord rec;
    rec.name = a.at("name").get<std::string>();
    rec.type = a.at("type").get<uint16_t>();
    rec.klass = a.at("class").get<uint16_t>();
    rec.ttl = a.at("ttl").get<uint32_t>();
    rec.data = a.at("data").get<std::string>();
    r.answers.push_back(std::move(rec));
  }
  if (!j.at("ttl").is_null()) r.ttl = j["ttl"].get<uint32_t>();
  r.duration = Nanos(j.at("duration_ns").get<int64_t>());
  r.server = j.at("server").get<std::string>();
  r.name_ok = j.at("name_ok").get<bool>();
  return p;
}

}  // namespace

NameShare share_of(std::vector<std::string> names, const Shard& shard) {
  NameShare s;
  s.first = shard.begin_of(names.size());
  auto begin = names.begin() + static_cast<ptrdiff_t>(s.first);
  s.names.assign(
      std::make_move_iterator(begin),
      std::make_move_iterator(begin + static_cast<ptrdiff_t>(shard.portion(names.size()))));
  return s;
}

nlohmann::json resolve_job_json(const std::vector<std::string>& all_names,
                                const std::vector<uint16_t>& types, const std::string& servers) {
  nlohmann::json t = nlohmann::json::array();
  for (uint16_t type : types) t.push_back(type_name(type));
  if (types.empty()) t = {"A", "AAAA"};
  return {{"types", t},
          {"servers", servers},
          {"names", all_names.size()},
          {"names_fnv1a64", names_digest(all_names)}};
}

nlohmann::json resolve_data_json(const ResolveRun& run) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : run.rows) rows.push_back(row_json(row));
  const ResolveSummary& s = run.summary;
  return {{"names", s.names},
          {"ok", s.ok},
          {"failed", s.failed},
          {"queries", s.queries},
          {"elapsed_ns", s.elapsed.count()},
          {"servers", s.servers},
          {"rows", std::move(rows)}};
}

ResolveRun resolve_run_from_json(const nlohmann::json& data, const std::string& path) {
  ResolveRun run;
  try {
    if (!data.is_object()) throw std::invalid_argument("\"data\" is not an object");
    ResolveSummary& s = run.summary;
    s.names = data.at("names").get<size_t>();
    s.ok = data.at("ok").get<size_t>();
    s.failed = data.at("failed").get<size_t>();
    s.queries = data.at("queries").get<size_t>();
    s.elapsed = Nanos(data.at("elapsed_ns").get<int64_t>());
    s.servers = data.at("servers").get<std::string>();
    for (const auto& row : data.at("rows")) run.rows.push_back(row_from(row));
  } catch (const std::exception& e) {  // nlohmann's errors name the key or the wrong type
    std::string why = e.what();
    std::replace(why.begin(), why.end(), '\n', ' ');
    throw UsageError(fmt::format("{}: bad resolve results: {}", path, why));
  }
  return run;
}

ResolveRun merge_resolve_runs(const std::vector<ResolveRun>& runs) {
  ResolveRun out;
  for (const auto& run : runs) {
    out.rows.insert(out.rows.end(), run.rows.begin(), run.rows.end());
    out.summary.names += run.summary.names;
    out.summary.ok += run.summary.ok;
    out.summary.failed += run.summary.failed;
    out.summary.queries += run.summary.queries;
    out.summary.elapsed = std::max(out.summary.elapsed, run.summary.elapsed);
    if (out.summary.servers.empty()) out.summary.servers = run.summary.servers;
  }
  std::stable_sort(
      out.rows.begin(), out.rows.end(),
      [](const PositionedRow& a, const PositionedRow& b) { return a.position < b.position; });
  return out;
}

}  // namespace netres::resolve
