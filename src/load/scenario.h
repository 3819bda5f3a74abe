// Scenario: a locust-style load test read from YAML (user classes with weights, tasks made of
// request sequences, wait times, variables, stages), validated whole at load time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "load/url.h"

namespace netres::load {

// Text with ${variable} references, compiled once: literal pieces and variable indexes.
struct TextTemplate {
  struct Piece {
    std::string literal;  // used when var < 0
    int var = -1;         // index into Scenario::variables
  };
  std::vector<Piece> pieces;
  // How substituted values are written: as is, percent-encoded for a path, escaped inside a
  // JSON string.
  enum class Escape { kNone, kPath, kJson };
  Escape escape = Escape::kNone;

  bool constant() const;
  std::string literal_text() const;  // the text as written, ${name} included
  // Appends the text with variables filled in; on an unset variable returns its index (and
  // `out` is unspecified), else -1.
  int render(const std::vector<std::optional<std::string>>& vars, std::string& out) const;
};

// `name` is only for error messages; `names` maps variable names to indexes (and grows).
// Throws UsageError ("unterminated ${", "bad variable name").
TextTemplate parse_template(std::string_view text, std::vector<std::string>& names);

struct WaitTime {
  enum class Kind { kNone, kConstant, kBetween, kConstantPacing };
  Kind kind = Kind::kNone;
  double a = 0;  // seconds: constant, between's low end, the pacing period
  double b = 0;  // seconds: between's high end
};

struct Extract {
  enum class Kind { kJson, kRegex, kHeader };
  std::string variable;
  int var = -1;
  Kind kind = Kind::kJson;
  std::string source;                  // the path, pattern or header name as written
  std::vector<std::string> json_path;  // dotted path split ("items", "0", "id")
  std::shared_ptr<const std::regex> regex;
};

struct ScenarioRequest {
  size_t id = 0;  // stats row: one per (method, name)
  std::string method;
  std::string name;
  TextTemplate target;                                        // path and query
  std::vector<std::pair<std::string, TextTemplate>> headers;  // defaults merged, ours last
  TextTemplate body;
  bool has_body = false;
  std::optional<Nanos> timeout;    // else the run's --timeout
  std::vector<int> expect_status;  // empty: any status below 400
  std::optional<std::string> expect_contains;
  std::vector<Extract> extracts;
  bool head = false;
  // GET, HEAD, PUT, DELETE, OPTIONS, TRACE (RFC 9110 9.2.2): sent again once when a kept-alive
  // connection closes before any byte of the response (scenario_user.cc).
  bool idempotent = false;
  bool capture = false;   // keep the response's headers and body (checks or extracts need them)
  bool constant = false;  // no variables anywhere: `wire` is the request, built once
  std::string wire;
};

struct Task {
  std::string name;
  double weight = 1;
  std::vector<size_t> requests;  // indexes into Scenario::requests, run in order
};

struct UserClass {
  std::string name;
  double weight = 1;
  WaitTime wait;
  std::vector<size_t> on_start;  // request indexes
  std::vector<Task> tasks;
};

struct Stage {
  Nanos duration{};
  unsigned users = 0;
  double spawn_rate = 0;  // users started (or stopped) per second; 0: at once
};

struct StatsRow {
  std::string method;
  std::string name;
};

struct Scenario {
  std::string file;
  std::optional<Url> host;
  std::string host_header;  // set by prepare_scenario
  unsigned users = 1;
  double spawn_rate = 0;  // 0: all at once
  std::optional<Nanos> run_time;
  uint64_t seed = 0;
  std::vector<std::string> variables;  // index 0 is the built-in user_id
  std::vector<ScenarioRequest> requests;
  std::vector<StatsRow> rows;  // indexed by ScenarioRequest::id
  std::vector<UserClass> classes;
  std::vector<Stage> stages;

  // The run's length: run_time, else the stages' total, else one minute.
  Nanos effective_run_time() const;
  // The most users alive at any time (users, or the largest stage target).
  unsigned peak_users() const;
};

constexpr size_t kMaxScenarioBytes = 1024 * 1024;
constexpr unsigned kMaxScenarioUsers = 100000;
constexpr unsigned kMaxUserClasses = 1000;
constexpr Nanos kMaxRunTime = std::chrono::hours(24 * 365);  // run_time, and the stages' total

// Parses and validates a scenario; `file` names it in errors ("FILE:LINE:COL: message").
// Throws UsageError only.
Scenario parse_scenario(std::string_view text, const std::string& file);
// Reads FILE and parses it. Throws UsageError.
Scenario load_scenario_file(const std::string& path);
// FILE's bytes (at most kMaxScenarioBytes + 1, so parse_scenario() can refuse a larger file), for
// parse_scenario() and the results file's digest of them. Throws UsageError.
std::string read_scenario_bytes(const std::string& path);

// Sets the host (the file's, or the --host override) and builds the wire bytes of the requests
// without variables. Throws UsageError when there is no host.
void prepare_scenario(Scenario& s, const std::optional<Url>& host_override);

}  // namespace netres::load
