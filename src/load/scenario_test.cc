// Scenario loading (the documented example, every kind of bad input with its position),
// templates, extraction, response checks, wait times, weighted choices, class assignment, the
// user schedule, and the parser's body capture.
#include "load/scenario.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "load/http_response_parser.h"
#include "load/scenario_runtime.h"

namespace netres::load {
namespace {

using namespace std::chrono_literals;

// The example of docs/load.md, "Scenario mode".
const char* kExample =
    R"yaml(host: http://127.0.0.1:8080   # every request goes here (--host overrides); http or https
users: 100                    # virtual users in total (--users overrides); default 1
spawn_rate: 10                # users started per second (--spawn-rate); default: all at once
run_time: 5m                  # (--run-time overrides); default: the stages' total, else 1m
defaults:                     # optional, for every request
  headers: {Accept: application/json}
  timeout: 5s

# One user class can be written at the top level (wait_time, on_start, tasks); several go in
# user_classes, each with a weight (users are assigned to classes in proportion, as locust).
user_classes:
  - name: shopper
    weight: 3
    wait_time: {between: [5, 10]}     # seconds; or "500ms"-style durations
    on_start:                          # run once per user before its first task
      - method: POST
        path: /login
        json: {username: "user${user_id}", password: secret}
        expect: {status: 200}
        extract:
          token: {json: access_token}  # dotted path, array indexes allowed: data.items.0.id
    tasks:
      - name: browse                   # optional label
        weight: 5                      # default 1
        requests:                      # a sequence, run in order
          - GET /api/items             # shorthand: "METHOD PATH"
          - method: GET
            path: /api/items
            name: /api/items (first id)
            extract:
              item: {json: items.0.id}
          - method: GET
            path: /api/items/${item}
            name: /api/items/[id]      # stats row; default: the path as written (with ${})
            headers: {Authorization: "Bearer ${token}"}
            expect: {status: [200, 404], contains: '"id"'}
            extract:
              csrf: {regex: 'name="csrf" value="([^"]+)"'}   # first capture group, else whole match
              next: {header: Location}
            timeout: 2s
      - GET /api/myendpoint            # a task may be a single request (string or mapping)
  - name: idler
    weight: 1
    wait_time: {constant: 1}
    tasks: [GET /health]

stages:                               # optional load shape (locust LoadTestShape semantics)
  - {duration: 30s, users: 10, spawn_rate: 5}   # during this stage: ramp to 10 users at 5/s
  - {duration: 1m, users: 50}                   # spawn_rate default: at once
  - {duration: 30s, users: 0}                   # users above the target stop
)yaml";

Scenario load(const std::string& text) { return parse_scenario(text, "s.yaml"); }

std::string error_of(const std::string& text) {
  try {
    load(text);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ScenarioLoader, AcceptsTheDocumentedExample) {
  Scenario s = load(kExample);
  ASSERT_TRUE(s.host);
  EXPECT_EQ(s.host->port, 8080);
  EXPECT_EQ(s.users, 100u);
  EXPECT_EQ(s.spawn_rate, 10);
  EXPECT_EQ(s.run_time, Nanos(5min));
  EXPECT_EQ(s.effective_run_time(), Nanos(5min));
  ASSERT_EQ(s.classes.size(), 2u);
  const UserClass& shopper = s.classes[0];
  EXPECT_EQ(shopper.name, "shopper");
  EXPECT_EQ(shopper.weight, 3);
  EXPECT_EQ(shopper.wait.kind, WaitTime::Kind::kBetween);
  EXPECT_EQ(shopper.wait.a, 5);
  EXPECT_EQ(shopper.wait.b, 10);
  ASSERT_EQ(shopper.on_start.size(), 1u);
  const ScenarioRequest& login = s.requests[shopper.on_start[0]];
  EXPECT_EQ(login.method, "POST");
  EXPECT_EQ(login.name, "/login");
  EXPECT_EQ(login.expect_status, std::vector<int>{200});
  ASSERT_EQ(login.extracts.size(), 1u);
  EXPECT_EQ(login.extracts[0].kind, Extract::Kind::kJson);
  EXPECT_FALSE(login.constant);  // ${user_id} in the JSON body
  EXPECT_EQ(login.body.literal_text(), R"({"password":"secret","username":"user${user_id}"})");
  ASSERT_EQ(shopper.tasks.size(), 2u);
  const Task& browse = shopper.tasks[0];
  EXPECT_EQ(browse.name, "browse");
  EXPECT_EQ(browse.weight, 5);
  ASSERT_EQ(browse.requests.size(), 3u);
  const ScenarioRequest& list = s.requests[browse.requests[0]];
  EXPECT_TRUE(list.constant);
  EXPECT_FALSE(list.capture);
  EXPECT_EQ(list.timeout, Nanos(5s));  // from defaults
  const ScenarioRequest& item = s.requests[browse.requests[2]];
  EXPECT_EQ(item.name, "/api/items/[id]");
  EXPECT_EQ(item.expect_status, (std::vector<int>{200, 404}));
  EXPECT_EQ(item.expect_contains, "\"id\"");
  EXPECT_EQ(item.timeout, Nanos(2s));
  EXPECT_TRUE(item.capture);
  ASSERT_EQ(item.headers.size(), 2u);  // Accept (defaults) and Authorization
  EXPECT_EQ(item.headers[0].first, "Accept");
  EXPECT_EQ(item.headers[1].first, "Authorization");
  EXPECT_EQ(shopper.tasks[1].weight, 1);
  EXPECT_EQ(s.classes[1].wait.kind, WaitTime::Kind::kConstant);
  // Stats rows: one per (method, name); the shorthand and the mapping share /api/items? No:
  // the second has its own name.
  std::vector<std::string> names;
  for (const auto& r : s.rows) names.push_back(r.method + " " + r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"POST /login", "GET /api/items",
                                             "GET /api/items (first id)", "GET /api/items/[id]",
                                             "GET /api/myendpoint", "GET /health"}));
  ASSERT_EQ(s.stages.size(), 3u);
  EXPECT_EQ(s.stages[0].spawn_rate, 5);
  EXPECT_EQ(s.stages[1].spawn_rate, 0);
  EXPECT_EQ(s.peak_users(), 50u);
  EXPECT_EQ(s.variables.front(), "user_id");
}

TEST(ScenarioLoader, SameMethodAndNameShareAStatsRow) {
  Scenario s = load("host: http://h\ntasks: [GET /a, GET /a, POST /a, {path: /b, name: /a}]\n");
  ASSERT_EQ(s.rows.size(), 2u);
  EXPECT_EQ(s.requests[0].id, s.requests[1].id);
  EXPECT_EQ(s.requests[0].id, s.requests[3].id);
  EXPECT_NE(s.requests[0].id, s.requests[2].id);
  EXPECT_EQ(s.effective_run_time(), Nanos(1min));
  EXPECT_EQ(s.classes[0].name, "user");
}

TEST(ScenarioLoader, ShorthandsAndDefaults) {
  Scenario s = load(R"(
tasks:
  - {method: POST, path: /p, body: "x=1", weight: 2}
  - GET /q
wait_time: {constant_throughput: 4}
)");
  EXPECT_FALSE(s.host);
  EXPECT_EQ(s.users, 1u);
  EXPECT_EQ(s.spawn_rate, 0);
  EXPECT_EQ(s.classes[0].tasks[0].weight, 2);
  EXPECT_EQ(s.classes[0].wait.kind, WaitTime::Kind::kConstantPacing);
  EXPECT_DOUBLE_EQ(s.classes[0].wait.a, 0.25);
  EXPECT_THROW(prepare_scenario(s, std::nullopt), UsageError);  // no host anywhere
  prepare_scenario(s, parse_url("http://127.0.0.1:9"));
  EXPECT_EQ(s.requests[0].wire,
            "POST /p HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUser-Agent: netres-load\r\n"
            "Content-Length: 3\r\n\r\nx=1");
}

struct BadCase {
  const char* yaml;
  const char* error;  // the whole message after "s.yaml:"
};

TEST(ScenarioLoader, RejectsBadInputWithItsPosition) {
  const BadCase cases[] = {
      {"host: http://h\nwiat_time: {constant: 1}\ntasks: [GET /]\n",
       "2:1: unknown key 'wiat_time' in the scenario (expected host, users, spawn_rate, run_time, "
       "seed, defaults, user_classes, wait_time, on_start, tasks, stages)"},
      {"tasks:\n  - {path: /a, wieght: 2}\n",
       "2:16: unknown key 'wieght' in a request (expected method, path, name, headers, body, "
       "json, expect, extract, timeout, weight)"},
      {"user_classes:\n  - {weight: 0, tasks: [GET /]}\n", "2:14: weight must be more than 0"},
      {"tasks: [{requests: [GET /], weight: -1}]\n", "1:37: weight must be more than 0"},
      {"wait_time: {between: [10, 5]}\ntasks: [GET /]\n",
       "1:22: wait_time between: the low end is above the high end"},
      {"wait_time: {between: [1]}\ntasks: [GET /]\n",
       "1:22: wait_time between takes two values: [low, high]"},
      {"wait_time: {constant: 1, between: [1, 2]}\ntasks: [GET /]\n",
       "1:12: wait_time takes one of constant, between, constant_pacing, constant_throughput"},
      {"wait_time: {constant: soon}\ntasks: [GET /]\n",
       "1:23: bad wait_time constant 'soon': expected a number followed by us, ms, s, m or h"},
      {"tasks:\n  - {path: /a, body: x, json: {a: 1}}\n", "2:31: give body or json, not both"},
      {"tasks:\n  - GET /a/${item}\n",
       "2:5: variable item is never set (no extract sets it; built in: user_id)"},
      {"tasks:\n  - GET /a/${item\n", "2:5: unterminated ${ (write ${name})"},
      {"tasks:\n  - GET /a/${1x}\n", "2:5: bad variable name '1x' (letters, digits, _)"},
      {"tasks: [GET]\n", "1:9: expected a request as 'METHOD /path', got 'GET'"},
      {"tasks: [GET /a extra]\n", "1:9: expected a request as 'METHOD /path', got 'GET /a extra'"},
      {"tasks: [get /a]\n", "1:9: bad method 'get' (upper-case letters)"},
      {"tasks: [GET a]\n", "1:9: path must start with '/', got 'a'"},
      {"tasks: [{method: GET}]\n", "1:9: a request needs a path"},
      {"tasks: [{path: /a, expect: {status: 700}}]\n", "1:37: expect status: codes are 100-599"},
      {"tasks: [{path: /a, expect: {code: 200}}]\n",
       "1:29: unknown key 'code' in expect (expected status, contains)"},
      {"tasks: [{path: /a, extract: {x: {regex: '(a'}}}]\n",
       "1:41: extract x: bad regex: Mismatched '(' and ')' in regular expression"},
      {"tasks: [{path: /a, extract: {x: {json: a..b}}}]\n",
       "1:40: extract x: empty part in JSON path 'a..b'"},
      {"tasks: [{path: /a, extract: {x: {json: a, header: B}}}]\n",
       "1:33: extract x: give one of json, regex, header"},
      {"tasks: [{path: /a, extract: {user_id: {json: a}}}]\n",
       "1:30: user_id is built in and cannot be extracted"},
      {"tasks: [{path: /a, headers: {'Bad Name': x}}]\n", "1:30: bad header name 'Bad Name'"},
      {"defaults: {headers: {content-length: 3}}\ntasks: [GET /]\n",
       "1:22: content-length is set by netres from the body"},
      {"tasks: [{path: /a, headers: {X: [1]}}]\n", "1:33: a header value must be a string"},
      {"tasks: [{path: /a, timeout: 0s}]\n", "1:29: timeout must be more than 0"},
      {"host: ftp://h\ntasks: [GET /]\n",
       "1:7: bad URL 'ftp://h': scheme must be http:// or https://"},
      {"host: http://h/api\ntasks: [GET /]\n",
       "1:7: host: only scheme, host and port (paths go in the requests)"},
      {"users: 0\ntasks: [GET /]\n", "1:8: users must be at least 1"},
      {"users: many\ntasks: [GET /]\n", "1:8: users must be a whole number, got 'many'"},
      {"users: 100001\ntasks: [GET /]\n", "1:8: users must be at most 100000"},
      {"spawn_rate: 0\ntasks: [GET /]\n", "1:13: spawn_rate must be more than 0"},
      {"host: http://h\n", "1:1: no tasks: give tasks (or user_classes)"},
      {"tasks: []\n", "1:8: tasks is empty"},
      {"- GET /\n", "1:1: a scenario is a mapping (host, users, tasks or user_classes, ...)"},
      {"", "1:1: a scenario is a mapping (host, users, tasks or user_classes, ...)"},
      {"tasks: [GET /]\ntasks: [GET /b]\n", "2:1: duplicate key 'tasks' in the scenario"},
      {"user_classes: [{tasks: [GET /]}]\ntasks: [GET /]\n",
       "2:8: tasks goes inside each of user_classes when there are classes"},
      {"user_classes: [{name: a, tasks: [GET /]}, {name: a, tasks: [GET /]}]\n",
       "1:43: two user classes are named 'a'"},
      {"user_classes: [{name: a}]\n", "1:16: user class 'a' has no tasks"},
      {"tasks: [GET /]\nstages: [{duration: 10s}]\n", "2:10: a stage needs duration and users"},
      {"tasks: [GET /]\nstages: [{duration: 10s, users: 0}]\n", "2:9: stages never start a user"},
      {"run_time: 400d\ntasks: [GET /]\n",
       "1:11: bad run_time '400d': unknown unit (use us, ms, s, m or h)"},
      {"run_time: 9000h\ntasks: [GET /]\n", "1:11: run_time must be at most a year"},
      {"tasks: [GET /]\nstages: [{duration: 8000h, users: 1}, {duration: 800h, users: 1}]\n",
       "2:50: the stages last more than a year"},
      {"tasks: [GET /]\nstages: [{duration: 10s, users: 2, ramp: 1}]\n",
       "2:36: unknown key 'ramp' in a stage (expected duration, users, spawn_rate)"},
      {"tasks: [GET /\n", "2:1: end of sequence flow not found"},
      {"tasks: {requests: [GET /], name: [x]}\n", "1:34: name must be a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(error_of(c.yaml), std::string("s.yaml:") + c.error);
  }
}

TEST(ScenarioLoader, RefusesHugeAndDeepInput) {
  std::string big = "tasks: [GET /]\n# " + std::string(kMaxScenarioBytes, 'x') + "\n";
  EXPECT_EQ(error_of(big), "s.yaml: scenario too large (at most 1 MiB)");
  std::string deep(5000, '[');
  EXPECT_NE(error_of("tasks: " + deep).find("s.yaml:1:"), std::string::npos);
  std::string nested_json = "tasks: [{method: POST, path: /, json: " + std::string(40, '[') +
                            std::string(40, ']') + "}]\n";
  EXPECT_EQ(error_of(nested_json), "s.yaml:1:72: json: nested too deeply (at most 32 levels)");
}

TEST(ScenarioLoader, ReadsFiles) {
  EXPECT_THROW(load_scenario_file("/nonexistent/s.yaml"), UsageError);
  try {
    load_scenario_file("/nonexistent/s.yaml");
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/s.yaml: cannot read the scenario");
  }
}

TEST(TextTemplate, Substitutes) {
  std::vector<std::string> names = {"user_id"};
  TextTemplate t = parse_template("/u/${user_id}/x/${token}$/{a}", names);
  EXPECT_EQ(names, (std::vector<std::string>{"user_id", "token"}));
  EXPECT_FALSE(t.constant());
  EXPECT_EQ(t.literal_text(), "/u/${user_id}/x/${token}$/{a}");
  Variables vars = {"7", std::nullopt};
  std::string out;
  EXPECT_EQ(t.render(vars, out), 1);  // token is not set
  vars[1] = "a b#c";
  out.clear();
  t.escape = TextTemplate::Escape::kPath;
  EXPECT_EQ(t.render(vars, out), -1);
  EXPECT_EQ(out, "/u/7/x/a%20b%23c$/{a}");
  TextTemplate j = parse_template(R"({"n":"x${token}"})", names);
  j.escape = TextTemplate::Escape::kJson;
  vars[1] = "say \"hi\"\n";
  out.clear();
  EXPECT_EQ(j.render(vars, out), -1);
  EXPECT_EQ(out, R"({"n":"xsay \"hi\"\n"})");
  EXPECT_TRUE(parse_template("plain $ text", names).constant());
}

TEST(ScenarioRuntime, RendersRequestsWithVariables) {
  Scenario s = load(R"(
host: http://127.0.0.1:8080
defaults: {headers: {Accept: text/plain}}
tasks:
  - method: POST
    path: /login
    json: {user: "u${user_id}", n: 3, ok: true, name: "${name}"}
    extract: {name: {header: X-Name}}
  - method: GET
    path: /p/${name}
    headers: {Authorization: "Bearer ${name}", Accept: "*/*"}
)");
  prepare_scenario(s, std::nullopt);
  const ScenarioRequest& login = s.requests[0];
  Variables vars(s.variables.size());
  vars[0] = "3";
  std::string wire;
  EXPECT_EQ(render_request(s, login, vars, wire), "variable name is not set");
  vars[1] = "A\"B";
  ASSERT_EQ(render_request(s, login, vars, wire), "");
  std::string body = R"({"n":3,"name":"A\"B","ok":true,"user":"u3"})";
  EXPECT_EQ(wire,
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: netres-load\r\n"
            "Content-Length: " +
                std::to_string(body.size()) +
                "\r\nAccept: text/plain\r\nContent-Type: application/json\r\n\r\n" + body);
  const ScenarioRequest& get = s.requests[1];
  ASSERT_EQ(render_request(s, get, vars, wire), "");
  EXPECT_EQ(wire,
            "GET /p/A\"B HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: netres-load\r\n"
            "Authorization: Bearer A\"B\r\nAccept: */*\r\n\r\n");
  vars[1] = "x\r\nEvil: 1";
  EXPECT_EQ(render_request(s, get, vars, wire), "variable name is not a valid header value");
}

TEST(ScenarioRuntime, ExtractsJsonByDottedPath) {
  const std::string body = R"({"data": {"items": [{"id": 17, "n": "a"}, {"id": "x"}]},
                               "token": "t0k", "flag": true, "nothing": null})";
  auto get = [&](std::vector<std::string> path) { return extract_json(body, path, nullptr); };
  EXPECT_EQ(get({"token"}), "t0k");
  EXPECT_EQ(get({"data", "items", "0", "id"}), "17");
  EXPECT_EQ(get({"data", "items", "1", "id"}), "x");
  EXPECT_EQ(get({"data", "items", "0"}), R"({"id":17,"n":"a"})");
  EXPECT_EQ(get({"flag"}), "true");
  EXPECT_EQ(get({"nothing"}), "null");
  EXPECT_EQ(get({"data", "items", "2", "id"}), std::nullopt);
  EXPECT_EQ(get({"data", "items", "x"}), std::nullopt);
  EXPECT_EQ(get({"token", "x"}), std::nullopt);
  EXPECT_EQ(get({"missing"}), std::nullopt);
  bool not_json = false;
  EXPECT_EQ(extract_json("<html>", {"a"}, &not_json), std::nullopt);
  EXPECT_TRUE(not_json);
}

TEST(ScenarioRuntime, ExtractsByRegex) {
  std::regex group(R"re(name="csrf" value="([^"]+)")re");
  EXPECT_EQ(extract_regex(R"(<input name="csrf" value="abc123">)", group), "abc123");
  EXPECT_EQ(extract_regex("nothing here", group), std::nullopt);
  EXPECT_EQ(extract_regex("order 42 shipped", std::regex("[0-9]+")), "42");
}

TEST(ScenarioRuntime, ChecksResponses) {
  Scenario s = load(R"(
tasks:
  - method: GET
    path: /a
    expect: {status: [200, 404], contains: '"id"'}
    extract:
      token: {json: access_token}
      csrf: {regex: 'csrf=(\w+)'}
      next: {header: location}
  - GET /b
  - {path: /c, expect: {status: 302}}
)");
  const ScenarioRequest& a = s.requests[0];
  Variables vars(s.variables.size());
  std::vector<std::pair<std::string, std::string>> headers = {{"Location", "/next"}};
  auto check = [&](const ScenarioRequest& r, int status, std::string_view body) {
    return check_response(r, ResponseView{status, body, &headers}, vars);
  };
  EXPECT_EQ(check(a, 500, ""), "expected status 200 or 404, got 500");
  EXPECT_EQ(check(a, 200, "{}"), "body does not contain '\"id\"'");
  EXPECT_EQ(check(a, 404, R"({"id": 1})"), "extract token: no JSON field 'access_token'");
  EXPECT_EQ(check(a, 404, R"("id")"), "extract token: no JSON field 'access_token'");
  EXPECT_EQ(check(a, 200, R"(<"id">)"), "extract token: response is not JSON");
  EXPECT_EQ(check(a, 200, R"({"id": 1, "access_token": "T"})"), "extract csrf: no regex match");
  EXPECT_EQ(check(a, 200, R"({"id": 1, "access_token": "T", "x": "csrf=Q1"})"), "");
  EXPECT_EQ(vars[1], "T");
  EXPECT_EQ(vars[2], "Q1");
  EXPECT_EQ(vars[3], "/next");
  headers.clear();
  EXPECT_EQ(check(a, 200, R"({"id": 1, "access_token": "T", "x": "csrf=Q1"})"),
            "extract next: no header 'location'");
  EXPECT_EQ(check(s.requests[1], 200, ""), "");
  EXPECT_EQ(check(s.requests[1], 302, ""), "");
  EXPECT_EQ(check(s.requests[1], 404, ""), "HTTP 404");
  EXPECT_EQ(check(s.requests[2], 200, ""), "expected status 302, got 200");
  EXPECT_EQ(check(s.requests[2], 302, ""), "");
}

TEST(ScenarioRuntime, WaitTimes) {
  Prng rng(1, 2);
  WaitTime none;
  EXPECT_EQ(wait_after(none, rng, 1s), Nanos(0));
  WaitTime constant{WaitTime::Kind::kConstant, 1.5, 0};
  EXPECT_EQ(wait_after(constant, rng, 10s), Nanos(1500ms));
  WaitTime between{WaitTime::Kind::kBetween, 5, 10};
  double lo = 1e9, hi = 0, sum = 0;
  for (int i = 0; i < 10000; ++i) {
    double w = to_seconds(wait_after(between, rng, 0s));
    ASSERT_GE(w, 5);
    ASSERT_LE(w, 10);
    lo = std::min(lo, w);
    hi = std::max(hi, w);
    sum += w;
  }
  EXPECT_LT(lo, 5.01);
  EXPECT_GT(hi, 9.99);
  EXPECT_NEAR(sum / 10000, 7.5, 0.1);
  // constant_pacing 2s: a task of 0.5 s waits 1.5 s; one of 3 s does not wait.
  WaitTime pacing{WaitTime::Kind::kConstantPacing, 2, 0};
  EXPECT_EQ(wait_after(pacing, rng, 500ms), Nanos(1500ms));
  EXPECT_EQ(wait_after(pacing, rng, 3s), Nanos(0));
  // constant_throughput 4/s is pacing 0.25 s.
  Scenario s = load("wait_time: {constant_throughput: 4}\ntasks: [GET /]\n");
  EXPECT_EQ(wait_after(s.classes[0].wait, rng, 100ms), Nanos(150ms));
  Scenario ms = load("wait_time: {between: [500ms, 1s]}\ntasks: [GET /]\n");
  EXPECT_EQ(ms.classes[0].wait.a, 0.5);
  EXPECT_EQ(ms.classes[0].wait.b, 1.0);
}

TEST(ScenarioRuntime, WakeSlotsCoalesceLongWaitsOnly) {
  // The largest of 1, 2, 4, 8 ms within 1/100 of the wait; short waits stay exact.
  EXPECT_EQ(wake_slot(0s), Nanos(0));
  EXPECT_EQ(wake_slot(99ms), Nanos(0));
  EXPECT_EQ(wake_slot(100ms), Nanos(1ms));
  EXPECT_EQ(wake_slot(399ms), Nanos(2ms));
  EXPECT_EQ(wake_slot(500ms), Nanos(4ms));
  EXPECT_EQ(wake_slot(800ms), Nanos(8ms));
  EXPECT_EQ(wake_slot(1h), Nanos(8ms));
  // Nearest multiple, halves up, negative times too.
  EXPECT_EQ(round_to_slot(12, Nanos(0)), 12);
  EXPECT_EQ(round_to_slot(12, Nanos(8)), 16);
  EXPECT_EQ(round_to_slot(11, Nanos(8)), 8);
  EXPECT_EQ(round_to_slot(-3, Nanos(8)), 0);
  EXPECT_EQ(round_to_slot(-5, Nanos(8)), -8);
  EXPECT_EQ(round_to_slot(16, Nanos(8)), 16);
  // Rounding to the nearest keeps the mean wait: waits of between(0.5, 1.5) s from scattered
  // start times move by at most half a slot and by ~0 on average.
  Prng rng(7, 1);
  WaitTime between{WaitTime::Kind::kBetween, 0.5, 1.5};
  double sum_shift = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    int64_t now = static_cast<int64_t>(rng.next() >> 20);
    Nanos w = wait_after(between, rng, 0s);
    int64_t at = now + w.count();
    int64_t shift = round_to_slot(at, wake_slot(w)) - at;
    ASSERT_LE(std::abs(shift), wake_slot(w).count() / 2);
    sum_shift += static_cast<double>(shift);
  }
  EXPECT_LT(std::abs(sum_shift / n), 0.1e6);  // under 0.1 ms against a mean slot of ~6 ms
}

TEST(ScenarioRuntime, PrngIsReproduciblePerUser) {
  Prng a(42, 0), b(42, 0), c(42, 1), d(43, 0);
  uint64_t x = a.next();
  EXPECT_EQ(x, b.next());
  EXPECT_NE(x, c.next());
  EXPECT_NE(x, d.next());
  for (int i = 0; i < 1000; ++i) {
    double u = a.uniform();
    ASSERT_GE(u, 0);
    ASSERT_LT(u, 1);
  }
}

TEST(ScenarioRuntime, WeightedPickFollowsWeights) {
  Prng rng(7, 0);
  std::vector<double> weights = {5, 1, 4};
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 100000; ++i) ++counts[pick_weighted(weights, rng)];
  EXPECT_NEAR(counts[0] / 100000.0, 0.5, 0.01);
  EXPECT_NEAR(counts[1] / 100000.0, 0.1, 0.01);
  EXPECT_NEAR(counts[2] / 100000.0, 0.4, 0.01);
  // The same seed makes the same choices.
  Prng r1(7, 3), r2(7, 3);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(pick_weighted(weights, r1), pick_weighted(weights, r2));
  std::vector<double> one = {2};
  EXPECT_EQ(pick_weighted(one, rng), 0u);
}

TEST(ScenarioRuntime, UserClassesByWeight) {
  auto count = [](const std::vector<unsigned>& classes, size_t n) {
    std::vector<unsigned> c(n, 0);
    for (unsigned k : classes) ++c[k];
    return c;
  };
  auto a = assign_user_classes({3, 1}, 100);
  EXPECT_EQ(count(a, 2), (std::vector<unsigned>{75, 25}));
  // Interleaved: the first four users started are already 3:1.
  EXPECT_EQ(std::vector<unsigned>(a.begin(), a.begin() + 4), (std::vector<unsigned>{0, 0, 1, 0}));
  EXPECT_EQ(count(assign_user_classes({3, 1}, 4), 2), (std::vector<unsigned>{3, 1}));
  EXPECT_EQ(count(assign_user_classes({1, 1, 1}, 10), 3), (std::vector<unsigned>{4, 3, 3}));
  // Every class gets a user when there are enough, even a light one.
  EXPECT_EQ(count(assign_user_classes({100, 1}, 5), 2), (std::vector<unsigned>{4, 1}));
  EXPECT_EQ(count(assign_user_classes({1, 100}, 1), 2), (std::vector<unsigned>{0, 1}));
  EXPECT_EQ(assign_user_classes({3, 1}, 100), a);  // deterministic
  EXPECT_TRUE(assign_user_classes({1}, 0).empty());
}

TEST(ScenarioRuntime, StageTargets) {
  std::vector<Stage> stages = {{30s, 10, 5}, {1min, 50, 0}, {30s, 0, 0}};
  EXPECT_EQ(stage_target_at(stages, 0s), 10u);
  EXPECT_EQ(stage_target_at(stages, 29s), 10u);
  EXPECT_EQ(stage_target_at(stages, 30s), 50u);
  EXPECT_EQ(stage_target_at(stages, 89s), 50u);
  EXPECT_EQ(stage_target_at(stages, 90s), 0u);
  EXPECT_EQ(stage_target_at(stages, 10min), 0u);
}

std::vector<std::pair<double, unsigned>> steps_of(const Scenario& s) {
  std::vector<std::pair<double, unsigned>> out;
  UserSchedule plan(s);
  for (int i = 0; i < 100000; ++i) {
    auto step = plan.next();
    if (!step) break;
    out.push_back({to_seconds(step->at), step->users});
  }
  return out;
}

TEST(ScenarioRuntime, ScheduleSpawnsAtTheRate) {
  Scenario s = load("users: 4\nspawn_rate: 2\nrun_time: 10s\ntasks: [GET /]\n");
  EXPECT_EQ(steps_of(s),
            (std::vector<std::pair<double, unsigned>>{{0.0, 1}, {0.5, 2}, {1.0, 3}, {1.5, 4}}));
  Scenario at_once = load("users: 4\ntasks: [GET /]\n");
  EXPECT_EQ(steps_of(at_once), (std::vector<std::pair<double, unsigned>>{{0.0, 4}}));
  // A run shorter than the ramp stops scheduling at its end.
  Scenario short_run = load("users: 100\nspawn_rate: 1\nrun_time: 3s\ntasks: [GET /]\n");
  EXPECT_EQ(steps_of(short_run).size(), 3u);
}

TEST(ScenarioRuntime, ScheduleFollowsStages) {
  Scenario s = load(R"(
tasks: [GET /]
stages:
  - {duration: 2s, users: 3, spawn_rate: 2}
  - {duration: 2s, users: 5}
  - {duration: 2s, users: 1, spawn_rate: 1}
  - {duration: 1s, users: 0}
)");
  EXPECT_EQ(s.effective_run_time(), Nanos(7s));
  EXPECT_EQ(steps_of(s),
            (std::vector<std::pair<double, unsigned>>{
                {0.0, 1}, {0.5, 2}, {1.0, 3}, {2.0, 5}, {4.0, 4}, {5.0, 3}, {6.0, 0}}));
  // A stage too short for its ramp hands the next stage the count it reached.
  Scenario cut = load(R"(
tasks: [GET /]
stages:
  - {duration: 1s, users: 10, spawn_rate: 2}
  - {duration: 1s, users: 10}
)");
  EXPECT_EQ(steps_of(cut),
            (std::vector<std::pair<double, unsigned>>{{0.0, 1}, {0.5, 2}, {1.0, 10}}));
}

TEST(HttpResponseParserCapture, KeepsHeadersAndDecodedBody) {
  const std::string response =
      "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nLocation: /x\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n";
  for (size_t piece : {response.size(), size_t{1}, size_t{3}, size_t{7}}) {
    SCOPED_TRACE(piece);
    HttpResponseParser p;
    p.reset(false, true);
    size_t pos = 0;
    HttpResponseParser::Status st = HttpResponseParser::Status::kNeedMore;
    while (pos < response.size() && st == HttpResponseParser::Status::kNeedMore) {
      size_t used = 0;
      st = p.feed(std::string_view(response).substr(pos, piece), used);
      pos += used;
    }
    ASSERT_EQ(st, HttpResponseParser::Status::kComplete);
    EXPECT_EQ(p.body(), "hello world");
    EXPECT_EQ(p.body_bytes(), 11u);
    ASSERT_EQ(p.headers().size(), 2u);  // the interim response's are gone
    EXPECT_EQ(p.headers()[1].first, "Location");
    EXPECT_EQ(p.headers()[1].second, "/x");
  }
  // Without capture nothing is kept; with it, bodies are capped.
  HttpParserLimits limits;
  limits.max_captured_body = 4;
  HttpResponseParser p(limits);
  const std::string r2 = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
  size_t used = 0;
  p.reset(false, false);
  ASSERT_EQ(p.feed(r2, used), HttpResponseParser::Status::kComplete);
  EXPECT_TRUE(p.body().empty());
  EXPECT_TRUE(p.headers().empty());
  p.reset(false, true);
  ASSERT_EQ(p.feed(r2, used), HttpResponseParser::Status::kComplete);
  EXPECT_EQ(p.body(), "0123");
  EXPECT_EQ(p.body_bytes(), 10u);
}

}  // namespace
}  // namespace netres::load
