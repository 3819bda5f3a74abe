// Scenario loading: yaml-cpp nodes walked with a strict key list per mapping, so a typo is an
// error with its FILE:LINE:COL rather than a silently ignored setting.
#include "load/scenario.h"

#include <fmt/format.h>
#include <strings.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/strict_yaml.h"
#include "load/virtual_user.h"

namespace netres::load {
namespace {

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A bound on what std::regex would build: counted repetitions multiply the automaton.
bool regex_too_big(std::string_view p) {
  if (p.size() > 512) return true;
  double product = 1;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
      continue;
    }
    if (p[i] != '{') continue;
    unsigned long biggest = 0, n = 0;
    size_t j = i + 1;
    for (; j < p.size() && ((p[j] >= '0' && p[j] <= '9') || p[j] == ','); ++j) {
      if (p[j] == ',') {
        n = 0;
        continue;
      }
      n = std::min(n * 10 + static_cast<unsigned long>(p[j] - '0'), 1'000'000ul);
      biggest = std::max(biggest, n);
    }
    product *= static_cast<double>(std::max(biggest, 1ul));
    if (biggest > 100 || product > 10000) return true;
  }
  return false;
}

struct Use {
  int var;
  YAML::Mark mark;
};

class Loader : private StrictYaml {
 public:
  explicit Loader(const std::string& file) : StrictYaml(file) {}

  Scenario load(const YAML::Node& root);

 private:
  // fail, fields, find, text, number and duration come from StrictYaml; integer() keeps the
  // scenario's own wording ("must be at most N").
  double positive(const YAML::Node& n, std::string_view what) const {
    double v = number(n, what);
    if (v <= 0) fail(n, fmt::format("{} must be more than 0", what));
    return v;
  }
  uint64_t integer(const YAML::Node& n, std::string_view what, uint64_t max) const {
    std::string s = text(n, what);
    std::optional<uint64_t> v = whole_number(s);
    if (!v) fail(n, fmt::format("{} must be a whole number, got '{}'", what, s));
    if (*v > max) fail(n, fmt::format("{} must be at most {}", what, max));
    return *v;
  }
  Nanos duration(const YAML::Node& n, std::string_view what) const {
    std::string s = text(n, what);
    try {
      return parse_duration(s, what);
    } catch (const UsageError& e) {
      fail(n, e.what());
    }
  }
  Nanos positive_duration(const YAML::Node& n, std::string_view what) const {
    Nanos d = duration(n, what);
    if (d.count() <= 0) fail(n, fmt::format("{} must be more than 0", what));
    return d;
  }

  Nanos run_length(const YAML::Node& n, std::string_view what) const {
    Nanos d = positive_duration(n, what);
    if (d > kMaxRunTime) fail(n, fmt::format("{} must be at most a year", what));
    return d;
  }

  TextTemplate templ(const YAML::Node& n, const std::string& s, TextTemplate::Escape escape) {
    TextTemplate t;
    try {
      t = parse_template(s, scenario_.variables);
    } catch (const UsageError& e) {
      fail(n, e.what());
    }
    t.escape = escape;
    for (const auto& p : t.pieces)
      if (p.var > 0) uses_.push_back({p.var, n.Mark()});
    return t;
  }

  // One `Name: value` of a headers mapping; a later one replaces an earlier one of that name.
  void add_header(std::vector<std::pair<std::string, TextTemplate>>& headers, const YAML::Node& key,
                  const YAML::Node& value) {
    std::string name = text(key, "a header name");
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
      fail(key, fmt::format("bad header name '{}'", name));
    if (strcasecmp(name.c_str(), "content-length") == 0 ||
        strcasecmp(name.c_str(), "transfer-encoding") == 0)
      fail(key, fmt::format("{} is set by netres from the body", name));
    std::string v = value.IsNull() ? std::string() : text(value, "a header value");
    if (v.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      fail(value, "line breaks are not allowed in header values");
    std::erase_if(headers,
                  [&](const auto& kv) { return strcasecmp(kv.first.c_str(), name.c_str()) == 0; });
    headers.emplace_back(name, templ(value, v, TextTemplate::Escape::kNone));
  }

  nlohmann::json to_json(const YAML::Node& n, int depth, size_t& budget) const;
  WaitTime wait_time(const YAML::Node& n) const;
  // A request given as "METHOD /path" or a mapping; `weight` (when not null) allows a task's
  // weight beside the request's own keys.
  size_t request(const YAML::Node& n, double* weight);
  std::vector<size_t> sequence(const YAML::Node& n, std::string_view what);
  Task task(const YAML::Node& n);
  UserClass user_class(const Fields& f, const YAML::Node& at, std::string default_name);

  Scenario scenario_;
  std::vector<std::pair<std::string, TextTemplate>> default_headers_;
  std::optional<Nanos> default_timeout_;
  std::vector<Use> uses_;
  std::set<int> extracted_;
  std::map<std::pair<std::string, std::string>, size_t> row_ids_;
};

nlohmann::json Loader::to_json(const YAML::Node& n, int depth, size_t& budget) const {
  if (depth > 32) fail(n, "json: nested too deeply (at most 32 levels)");
  if (budget == 0) fail(n, "json: too many values (at most 10000)");
  --budget;
  if (n.IsMap()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) fail(kv.first, "json: keys must be strings");
      o[kv.first.Scalar()] = to_json(kv.second, depth + 1, budget);
    }
    return o;
  }
  if (n.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& v : n) a.push_back(to_json(v, depth + 1, budget));
    return a;
  }
  if (n.IsNull()) return nullptr;
  const std::string& s = n.Scalar();
  if (n.Tag() == "?") {  // plain scalars may be numbers or booleans; quoted ones are strings
    if (s == "true" || s == "True") return true;
    if (s == "false" || s == "False") return false;
    if (!s.empty() && s.size() < 40 &&
        s.find_first_not_of("0123456789+-.eE") == std::string::npos) {
      char* end = nullptr;
      if (s.find_first_of(".eE") == std::string::npos) {
        errno = 0;
        long long v = std::strtoll(s.c_str(), &end, 10);
        if (*end == '\0' && errno != ERANGE) return v;
      }
      double d = std::strtod(s.c_str(), &end);
      if (*end == '\0' && std::isfinite(d)) return d;
    }
  }
  return s;
}

WaitTime Loader::wait_time(const YAML::Node& n) const {
  Fields f =
      fields(n, "wait_time", {"constant", "between", "constant_pacing", "constant_throughput"});
  if (f.size() != 1)
    fail(n, "wait_time takes one of constant, between, constant_pacing, constant_throughput");
  const auto& [kind, v] = *f.begin();
  WaitTime w;
  if (kind == "constant") {
    w.kind = WaitTime::Kind::kConstant;
    w.a = to_seconds(duration(v, "wait_time constant"));
  } else if (kind == "between") {
    if (!v.IsSequence() || v.size() != 2)
      fail(v, "wait_time between takes two values: [low, high]");
    w.kind = WaitTime::Kind::kBetween;
    w.a = to_seconds(duration(v[0], "wait_time between"));
    w.b = to_seconds(duration(v[1], "wait_time between"));
    if (w.a > w.b) fail(v, "wait_time between: the low end is above the high end");
  } else if (kind == "constant_pacing") {
    w.kind = WaitTime::Kind::kConstantPacing;
    w.a = to_seconds(positive_duration(v, "wait_time constant_pacing"));
  } else {
    w.kind = WaitTime::Kind::kConstantPacing;
    w.a = 1.0 / positive(v, "wait_time constant_throughput");
  }
  return w;
}

size_t Loader::request(const YAML::Node& n, double* weight) {
  ScenarioRequest r;
  std::string path;
  YAML::Node path_node = n;
  Fields f;
  if (n.IsScalar()) {
    std::istringstream words(n.Scalar());
    std::string extra;
    if (!(words >> r.method >> path) || (words >> extra))
      fail(n, fmt::format("expected a request as 'METHOD /path', got '{}'", n.Scalar()));
  } else if (n.IsMap()) {
    if (weight)
      f = fields(n, "a request",
                 {"method", "path", "name", "headers", "body", "json", "expect", "extract",
                  "timeout", "weight"});
    else
      f = fields(
          n, "a request",
          {"method", "path", "name", "headers", "body", "json", "expect", "extract", "timeout"});
    r.method = "GET";
    if (auto* m = find(f, "method")) r.method = text(*m, "method");
    auto* p = find(f, "path");
    if (!p) fail(n, "a request needs a path");
    path = text(*p, "path");
    path_node = *p;
    if (weight)
      if (auto* w = find(f, "weight")) *weight = positive(*w, "weight");
  } else {
    fail(n, "a request is 'METHOD /path' or a mapping with method and path");
  }
  if (r.method.empty() || r.method.size() > 20 ||
      r.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
    fail(n, fmt::format("bad method '{}' (upper-case letters)", r.method));
  // A path may also be a variable alone (a Location header extracted before).
  if (path.empty() || (path[0] != '/' && path.rfind("${", 0) != 0))
    fail(path_node, fmt::format("path must start with '/', got '{}'", path));
  for (char c : path)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#')
      fail(path_node, "path must not contain spaces, control characters or '#'");
  r.target = templ(path_node, path, TextTemplate::Escape::kPath);
  r.name = path;
  r.head = r.method == "HEAD";
  r.idempotent = r.head || r.method == "GET" || r.method == "PUT" || r.method == "DELETE" ||
                 r.method == "OPTIONS" || r.method == "TRACE";

  auto headers = default_headers_;
  if (auto* h = find(f, "name")) r.name = text(*h, "name");
  if (r.name.empty()) fail(n, "name must not be empty");
  if (auto* h = find(f, "headers")) {
    if (!h->IsMap()) fail(*h, "headers must be a mapping of name: value");
    for (const auto& kv : *h) add_header(headers, kv.first, kv.second);
  }
  auto* body = find(f, "body");
  auto* json = find(f, "json");
  if (body && json) fail(*json, "give body or json, not both");
  if (body) {
    r.body = templ(*body, text(*body, "body"), TextTemplate::Escape::kNone);
    r.has_body = true;
  }
  if (json) {
    size_t budget = 10000;
    std::string dumped =
        to_json(*json, 0, budget).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    r.body = templ(*json, dumped, TextTemplate::Escape::kJson);
    r.has_body = true;
    bool has_type = std::any_of(headers.begin(), headers.end(), [](const auto& kv) {
      return strcasecmp(kv.first.c_str(), "content-type") == 0;
    });
    if (!has_type) {
      TextTemplate t;
      t.pieces.push_back({"application/json", -1});
      headers.emplace_back("Content-Type", std::move(t));
    }
  }
  r.headers = std::move(headers);
  r.timeout = default_timeout_;
  if (auto* t = find(f, "timeout")) r.timeout = positive_duration(*t, "timeout");
  if (auto* e = find(f, "expect")) {
    Fields ef = fields(*e, "expect", {"status", "contains"});
    if (auto* s = find(ef, "status")) {
      auto one = [&](const YAML::Node& v) {
        int code = static_cast<int>(integer(v, "expect status", 999));
        if (code < 100 || code > 599) fail(v, "expect status: codes are 100-599");
        r.expect_status.push_back(code);
      };
      if (s->IsSequence()) {
        if (s->size() == 0) fail(*s, "expect status: give at least one code");
        for (const auto& v : *s) one(v);
      } else {
        one(*s);
      }
    }
    if (auto* c = find(ef, "contains")) {
      r.expect_contains = text(*c, "expect contains");
      if (r.expect_contains->empty()) fail(*c, "expect contains: empty text");
    }
  }
  if (auto* x = find(f, "extract")) {
    if (!x->IsMap()) fail(*x, "extract must be a mapping of variable: {json|regex|header: ...}");
    for (const auto& kv : *x) {
      Extract ex;
      ex.variable = text(kv.first, "a variable name");
      if (!is_identifier(ex.variable))
        fail(kv.first, fmt::format("bad variable name '{}' (letters, digits, _)", ex.variable));
      if (ex.variable == "user_id") fail(kv.first, "user_id is built in and cannot be extracted");
      Fields xf = fields(kv.second, "extract " + ex.variable, {"json", "regex", "header"});
      if (xf.size() != 1)
        fail(kv.second, fmt::format("extract {}: give one of json, regex, header", ex.variable));
      const auto& [kind, v] = *xf.begin();
      ex.source = text(v, "extract " + kind);
      if (ex.source.empty()) fail(v, fmt::format("extract {}: empty {}", ex.variable, kind));
      if (kind == "json") {
        ex.kind = Extract::Kind::kJson;
        std::string_view rest = ex.source;
        while (true) {
          size_t dot = rest.find('.');
          std::string_view part = rest.substr(0, dot);
          if (part.empty())
            fail(v,
                 fmt::format("extract {}: empty part in JSON path '{}'", ex.variable, ex.source));
          ex.json_path.emplace_back(part);
          if (dot == std::string_view::npos) break;
          rest.remove_prefix(dot + 1);
        }
      } else if (kind == "regex") {
        ex.kind = Extract::Kind::kRegex;
        if (regex_too_big(ex.source))
          fail(v, fmt::format("extract {}: regex too long or repeats too much", ex.variable));
        try {
          auto flags = std::regex::ECMAScript;
#ifdef __GLIBCXX__
          // Thompson-style matching: time and stack bounded by the pattern, not the body.
          flags |= std::regex_constants::__polynomial;
#endif
          ex.regex = std::make_shared<const std::regex>(ex.source, flags);
        } catch (const std::regex_error& e) {
          fail(v, fmt::format("extract {}: bad regex: {}", ex.variable, e.what()));
        }
      } else {
        ex.kind = Extract::Kind::kHeader;
        if (!std::all_of(ex.source.begin(), ex.source.end(), is_token_char))
          fail(v, fmt::format("extract {}: bad header name '{}'", ex.variable, ex.source));
      }
      auto it = std::find(scenario_.variables.begin(), scenario_.variables.end(), ex.variable);
      ex.var = static_cast<int>(it - scenario_.variables.begin());
      if (it == scenario_.variables.end()) scenario_.variables.push_back(ex.variable);
      extracted_.insert(ex.var);
      r.extracts.push_back(std::move(ex));
    }
  }
  r.capture = r.expect_contains.has_value() || !r.extracts.empty();
  r.constant = r.target.constant() && r.body.constant() &&
               std::all_of(r.headers.begin(), r.headers.end(),
                           [](const auto& kv) { return kv.second.constant(); });
  auto key = std::make_pair(r.method, r.name);
  auto [it, fresh] = row_ids_.emplace(key, scenario_.rows.size());
  if (fresh) scenario_.rows.push_back({r.method, r.name});
  r.id = it->second;
  scenario_.requests.push_back(std::move(r));
  return scenario_.requests.size() - 1;
}

std::vector<size_t> Loader::sequence(const YAML::Node& n, std::string_view what) {
  std::vector<size_t> out;
  if (n.IsSequence()) {
    if (n.size() == 0) fail(n, fmt::format("{} is empty", what));
    for (const auto& r : n) out.push_back(request(r, nullptr));
  } else {
    out.push_back(request(n, nullptr));
  }
  return out;
}

Task Loader::task(const YAML::Node& n) {
  Task t;
  if (n.IsMap() && n["requests"]) {
    Fields f = fields(n, "a task", {"name", "weight", "requests"});
    if (auto* v = find(f, "weight")) t.weight = positive(*v, "weight");
    t.requests = sequence(*find(f, "requests"), "requests");
    t.name = scenario_.requests[t.requests.front()].name;
    if (auto* v = find(f, "name")) t.name = text(*v, "name");
    return t;
  }
  t.requests.push_back(request(n, &t.weight));
  t.name = scenario_.requests[t.requests.front()].name;
  return t;
}

UserClass Loader::user_class(const Fields& f, const YAML::Node& at, std::string default_name) {
  UserClass c;
  c.name = std::move(default_name);
  if (auto* v = find(f, "name")) c.name = text(*v, "name");
  if (c.name.empty()) fail(at, "a user class name must not be empty");
  if (auto* v = find(f, "weight")) c.weight = positive(*v, "weight");
  if (auto* v = find(f, "wait_time")) c.wait = wait_time(*v);
  if (auto* v = find(f, "on_start")) c.on_start = sequence(*v, "on_start");
  auto* tasks = find(f, "tasks");
  if (!tasks) fail(at, fmt::format("user class '{}' has no tasks", c.name));
  if (tasks->IsSequence()) {
    if (tasks->size() == 0) fail(*tasks, "tasks is empty");
    for (const auto& t : *tasks) c.tasks.push_back(task(t));
  } else {
    c.tasks.push_back(task(*tasks));
  }
  return c;
}

Scenario Loader::load(const YAML::Node& root) {
  if (!root.IsMap())
    fail(root.IsDefined() && !root.IsNull() ? root.Mark() : YAML::Mark(),
         "a scenario is a mapping (host, users, tasks or user_classes, ...)");
  scenario_.file = file();
  scenario_.variables = {"user_id"};
  Fields f = fields(root, "the scenario",
                    {"host", "users", "spawn_rate", "run_time", "seed", "defaults", "user_classes",
                     "wait_time", "on_start", "tasks", "stages"});
  if (auto* v = find(f, "host")) {
    std::string text_url = text(*v, "host");
    Url url;
    try {
      url = parse_url(text_url);
    } catch (const UsageError& e) {
      fail(*v, e.what());
    }
    if (url.target != "/") fail(*v, "host: only scheme, host and port (paths go in the requests)");
    scenario_.host = url;
  }
  if (auto* v = find(f, "users")) {
    scenario_.users = static_cast<unsigned>(integer(*v, "users", kMaxScenarioUsers));
    if (scenario_.users == 0) fail(*v, "users must be at least 1");
  }
  if (auto* v = find(f, "spawn_rate")) scenario_.spawn_rate = positive(*v, "spawn_rate");
  if (auto* v = find(f, "run_time")) scenario_.run_time = run_length(*v, "run_time");
  if (auto* v = find(f, "seed")) scenario_.seed = integer(*v, "seed", UINT64_MAX);
  if (auto* d = find(f, "defaults")) {
    Fields df = fields(*d, "defaults", {"headers", "timeout"});
    if (auto* t = find(df, "timeout")) default_timeout_ = positive_duration(*t, "timeout");
    if (auto* h = find(df, "headers")) {
      if (!h->IsMap()) fail(*h, "headers must be a mapping of name: value");
      for (const auto& kv : *h) add_header(default_headers_, kv.first, kv.second);
    }
  }
  if (auto* classes = find(f, "user_classes")) {
    for (const char* key : {"wait_time", "on_start", "tasks"})
      if (auto* v = find(f, key))
        fail(*v, fmt::format("{} goes inside each of user_classes when there are classes", key));
    if (!classes->IsSequence() || classes->size() == 0)
      fail(*classes, "user_classes must be a list of user classes");
    if (classes->size() > kMaxUserClasses)
      fail(*classes, fmt::format("at most {} user classes", kMaxUserClasses));
    int k = 0;
    std::set<std::string> names;
    for (const auto& c : *classes) {
      Fields cf = fields(c, "a user class", {"name", "weight", "wait_time", "on_start", "tasks"});
      scenario_.classes.push_back(user_class(cf, c, fmt::format("class{}", ++k)));
      if (!names.insert(scenario_.classes.back().name).second)
        fail(c, fmt::format("two user classes are named '{}'", scenario_.classes.back().name));
    }
  } else {
    if (!find(f, "tasks")) fail(root, "no tasks: give tasks (or user_classes)");
    Fields cf;
    for (const char* key : {"wait_time", "on_start", "tasks"})
      if (auto* v = find(f, key)) cf.emplace(key, *v);
    scenario_.classes.push_back(user_class(cf, root, "user"));
  }
  if (auto* st = find(f, "stages")) {
    if (!st->IsSequence() || st->size() == 0) fail(*st, "stages must be a list of stages");
    if (st->size() > 1000) fail(*st, "at most 1000 stages");
    Nanos total{};
    for (const auto& s : *st) {
      Fields sf = fields(s, "a stage", {"duration", "users", "spawn_rate"});
      Stage stage;
      auto* d = find(sf, "duration");
      auto* u = find(sf, "users");
      if (!d || !u) fail(s, "a stage needs duration and users");
      stage.duration = run_length(*d, "duration");
      total += stage.duration;
      if (total > kMaxRunTime) fail(*d, "the stages last more than a year");
      stage.users = static_cast<unsigned>(integer(*u, "users", kMaxScenarioUsers));
      if (auto* r = find(sf, "spawn_rate")) stage.spawn_rate = positive(*r, "spawn_rate");
      scenario_.stages.push_back(stage);
    }
    if (scenario_.peak_users() == 0) fail(*st, "stages never start a user");
  }
  for (const auto& u : uses_)
    if (!extracted_.count(u.var))
      fail(u.mark, fmt::format("variable {} is never set (no extract sets it; built in: user_id)",
                               scenario_.variables[u.var]));
  return std::move(scenario_);
}

}  // namespace

bool TextTemplate::constant() const {
  return std::all_of(pieces.begin(), pieces.end(), [](const Piece& p) { return p.var < 0; });
}

std::string TextTemplate::literal_text() const {
  std::string out;
  for (const auto& p : pieces) out += p.literal;
  return out;
}

int TextTemplate::render(const std::vector<std::optional<std::string>>& vars,
                         std::string& out) const {
  for (const auto& p : pieces) {
    if (p.var < 0) {
      out += p.literal;
      continue;
    }
    if (static_cast<size_t>(p.var) >= vars.size() || !vars[p.var]) return p.var;
    const std::string& v = *vars[p.var];
    switch (escape) {
      case Escape::kNone:
        out += v;
        break;
      case Escape::kPath:
        for (unsigned char c : v) {
          if (c <= 0x20 || c >= 0x7f || c == '#')
            out += fmt::format("%{:02X}", c);
          else
            out += static_cast<char>(c);
        }
        break;
      case Escape::kJson: {
        std::string quoted =
            nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out.append(quoted, 1, quoted.size() - 2);
        break;
      }
    }
  }
  return -1;
}

TextTemplate parse_template(std::string_view text, std::vector<std::string>& names) {
  TextTemplate t;
  std::string literal;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("${", pos);
    if (open == std::string_view::npos) {
      literal.append(text.substr(pos));
      break;
    }
    literal.append(text.substr(pos, open - pos));
    size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) throw UsageError("unterminated ${ (write ${name})");
    std::string_view name = text.substr(open + 2, close - open - 2);
    if (!is_identifier(name))
      throw UsageError(fmt::format("bad variable name '{}' (letters, digits, _)", name));
    if (!literal.empty()) t.pieces.push_back({std::move(literal), -1});
    literal.clear();
    auto it = std::find(names.begin(), names.end(), name);
    int var = static_cast<int>(it - names.begin());
    if (it == names.end()) names.emplace_back(name);
    t.pieces.push_back({"${" + std::string(name) + "}", var});
    pos = close + 1;
  }
  if (!literal.empty()) t.pieces.push_back({std::move(literal), -1});
  return t;
}

Nanos Scenario::effective_run_time() const {
  if (run_time) return *run_time;
  if (!stages.empty()) {
    Nanos total{};
    for (const auto& s : stages) total += s.duration;
    return total;
  }
  return std::chrono::minutes(1);
}

unsigned Scenario::peak_users() const {
  if (stages.empty()) return users;
  unsigned peak = 0;
  for (const auto& s : stages) peak = std::max(peak, s.users);
  return peak;
}

Scenario parse_scenario(std::string_view text, const std::string& file) {
  if (text.size() > kMaxScenarioBytes)
    throw UsageError(fmt::format("{}: scenario too large (at most 1 MiB)", file));
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw UsageError(fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  try {
    return Loader(file).load(root);
  } catch (const YAML::Exception& e) {
    throw_yaml_error(file, e);
  }
}

Scenario load_scenario_file(const std::string& path) {
  return parse_scenario(read_scenario_bytes(path), path);
}

std::string read_scenario_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("{}: cannot read the scenario", path));
  std::string text;
  text.resize(kMaxScenarioBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) throw UsageError(fmt::format("{}: cannot read the scenario", path));
  return text;  // one byte over the limit when too large: parse_scenario() refuses it
}

void prepare_scenario(Scenario& s, const std::optional<Url>& host_override) {
  if (host_override) s.host = host_override;
  if (!s.host)
    throw UsageError(fmt::format("{}: no host: set host: in the scenario or give --host", s.file));
  s.host_header = s.host->host_header();
  for (auto& r : s.requests) {
    if (!r.constant) continue;
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [k, v] : r.headers) headers.emplace_back(k, v.literal_text());
    r.wire = build_request(s.host_header, r.method, r.target.literal_text(), headers,
                           r.body.literal_text());
  }
}

}  // namespace netres::load
