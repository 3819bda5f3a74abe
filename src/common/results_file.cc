// Results file envelope: reading, writing and the checks every merge makes first.
#include "common/results_file.h"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace netres {
namespace {

std::string shard_text(const Shard& s) { return fmt::format("{}/{}", s.index, s.count); }

// The first key (as a JSON pointer) where two job descriptions differ, "" if equal.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b) {
  auto patch = nlohmann::json::diff(a, b);
  if (patch.empty()) return "";
  std::string where = patch.front().value("path", "");
  return where.empty() ? "/" : where;
}

}  // namespace

void write_results_file(const std::string& path, const ResultsFile& r) {
  nlohmann::json doc = {{"netres_results", kResultsFormat},
                        {"verb", r.verb},
                        {"shard", shard_text(r.shard)},
                        {"job", r.job},
                        {"data", r.data}};
  write_file_atomically(path, doc.dump() + "\n");
}

ResultsFile read_results_file(const std::string& path) {
  auto bad = [&](std::string_view why) { return UsageError(fmt::format("{}: {}", path, why)); };
  std::ifstream in(path, std::ios::binary);
  if (!in) throw bad("cannot open");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception&) {
    throw bad("not a netres results file (not JSON)");
  }
  if (!doc.is_object() || !doc.contains("netres_results"))
    throw bad("not a netres results file (no \"netres_results\" field)");
  if (doc["netres_results"] != kResultsFormat)
    throw bad(fmt::format("results format {} is not {} (written by another netres version)",
                          doc["netres_results"].dump(), kResultsFormat));
  for (const char* key : {"verb", "shard", "job", "data"})
    if (!doc.contains(key)) throw bad(fmt::format("results file has no \"{}\"", key));
  if (!doc["verb"].is_string() || !doc["shard"].is_string())
    throw bad("\"verb\" and \"shard\" must be strings");
  ResultsFile r;
  r.verb = doc["verb"].get<std::string>();
  try {
    r.shard = parse_shard(doc["shard"].get<std::string>(), "shard");
  } catch (const UsageError& e) {
    throw bad(e.what());
  }
  r.job = std::move(doc["job"]);
  r.data = std::move(doc["data"]);
  r.path = path;
  return r;
}

std::vector<std::string> check_mergeable(const std::vector<ResultsFile>& files,
                                         bool allow_partial) {
  if (files.empty()) throw UsageError("no results files to merge");
  const ResultsFile& first = files.front();
  std::set<uint64_t> seen;
  for (const auto& f : files) {
    if (f.verb != first.verb)
      throw UsageError(fmt::format("{} holds {} results but {} holds {}: merge one verb at a time",
                                   f.path, f.verb, first.path, first.verb));
    if (f.shard.count != first.shard.count)
      throw UsageError(fmt::format("{} is shard {} but {} is shard {}: shards of one job share N",
                                   f.path, shard_text(f.shard), first.path,
                                   shard_text(first.shard)));
    if (std::string where = first_difference(first.job, f.job); !where.empty())
      throw UsageError(fmt::format("{} and {} are not shards of one job (they differ at {})",
                                   first.path, f.path, where));
    if (!seen.insert(f.shard.index).second)
      throw UsageError(fmt::format("shard {} is given twice ({}): shares would overlap",
                                   shard_text(f.shard), f.path));
  }
  std::vector<std::string> missing;
  for (uint64_t k = 1; k <= first.shard.count && missing.size() < 1000; ++k)
    if (!seen.count(k)) missing.push_back(fmt::format("shard {}/{} missing", k, first.shard.count));
  if (!missing.empty() && !allow_partial)
    throw UsageError(fmt::format("{} of {} shards given ({}); --allow-partial merges them anyway",
                                 seen.size(), first.shard.count, missing.front()));
  return missing;
}

}  // namespace netres
