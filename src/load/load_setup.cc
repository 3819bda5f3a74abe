#include "load/load_setup.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "common/error.h"
#include "load/scenario_runtime.h"

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

}  // namespace netres::load
