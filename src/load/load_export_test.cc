// The CSV files read back with an RFC 4180 reader (locust's columns, values, quoting) and the
// HTML report's embedded JSON, on a hand-made result written to a temporary directory.
#include "load/load_export.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "load/report_html.h"

namespace netres::load {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// RFC 4180: fields separated by commas, records by CRLF (LF accepted); a quoted field may hold
// commas, line breaks and doubled quotes. Fails the test on malformed input.
Rows parse_csv(const std::string& text) {
  Rows rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      EXPECT_TRUE(field.empty() && !was_quoted) << "quote inside an unquoted field at " << i;
      quoted = was_quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r') {
        EXPECT_TRUE(i + 1 < text.size() && text[i + 1] == '\n') << "bare CR at " << i;
        ++i;
      }
      row.push_back(std::move(field));
      field.clear();
      was_quoted = false;
      rows.push_back(std::move(row));
      row.clear();
    } else {
      EXPECT_FALSE(was_quoted) << "text after a closing quote at " << i;
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  EXPECT_TRUE(field.empty() && row.empty()) << "last record without a line break";
  return rows;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Rows read_csv(const std::string& path) { return parse_csv(read_file(path)); }

// locust 2.12's StatsCSV / StatsCSVFileWriter columns (locust/stats.py), written out by hand.
const std::vector<std::string> kPercentileColumns = {"50%", "66%", "75%",   "80%",    "90%", "95%",
                                                     "98%", "99%", "99.9%", "99.99%", "100%"};
std::vector<std::string> with_percentiles(std::vector<std::string> before,
                                          const std::vector<std::string>& after = {}) {
  before.insert(before.end(), kPercentileColumns.begin(), kPercentileColumns.end());
  before.insert(before.end(), after.begin(), after.end());
  return before;
}
const std::vector<std::string> kLocustStatsColumns =
    with_percentiles({"Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                      "Average Response Time", "Min Response Time", "Max Response Time",
                      "Average Content Size", "Requests/s", "Failures/s"});
const std::vector<std::string> kLocustHistoryColumns =
    with_percentiles({"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"},
                     {"Total Request Count", "Total Failure Count", "Total Median Response Time",
                      "Total Average Response Time", "Total Min Response Time",
                      "Total Max Response Time", "Total Average Content Size"});
const std::vector<std::string> kLocustFailuresColumns = {"Method", "Name", "Error", "Occurrences"};

const std::string kTrickyName = "/search?q=\"a,b\"";
constexpr int64_t kStart = 1'700'000'000;

// Templates in the order: /z (100 requests of 1..100 ms, 612 bytes each), /a (10 connection
// failures, no response time), a tricky name (2 requests, 404) and /z again under another id
// (as a scenario task that shares the name: one row in locust). Run of 10 s.
LoadResult sample_result() {
  LoadResult r;
  r.stats.requests.resize(4);
  auto& z = r.stats.requests[0];
  z.method = "GET";
  z.name = "/z";
  for (uint64_t ms = 1; ms <= 100; ++ms) {
    ++z.requests;
    z.body_bytes += 612;
    z.latency.record(ms * 1000);
    z.service.record(ms * 1000);
    ++z.status_codes[200];
  }
  auto& a = r.stats.requests[1];
  a.method = "GET";
  a.name = "/a";
  a.requests = a.failures = 10;
  r.stats.failures[FailureKey{"GET", "/a", "connection refused"}] = 10;
  auto& t = r.stats.requests[2];
  t.method = "POST";
  t.name = kTrickyName;
  t.requests = t.failures = 2;
  t.latency.record(3000);
  t.latency.record(5000);
  t.status_codes[404] = 2;
  r.stats.failures[FailureKey{"POST", kTrickyName, "HTTP 404, \"not found\""}] = 2;
  auto& z2 = r.stats.requests[3];
  z2.method = "GET";
  z2.name = "/z";
  z2.requests = 1;
  z2.latency.record(200'000);
  r.elapsed = std::chrono::seconds(10);
  r.started_at = std::chrono::system_clock::time_point(std::chrono::seconds(kStart));

  SecondSample s0;  // nothing answered yet
  s0.t = 1;
  s0.users = 4;
  r.history.push_back(s0);
  SecondSample s1;
  s1.t = 2;
  s1.users = 8;
  s1.requests = 110;
  s1.failures = 10;
  s1.body_bytes = 61200;
  s1.p50_ms = 50;
  s1.p99_ms = 99;
  for (size_t i = 0; i < kLocustPercentiles.size(); ++i) s1.window_ms[i] = kLocustPercentiles[i];
  s1.window_ms[8] = 99.6;  // rounds up, as locust's whole milliseconds
  s1.responses = 100;
  s1.window_responses = 100;
  s1.total_responses = 100;
  s1.total_requests = 110;
  s1.total_failures = 10;
  s1.total_body_bytes = 61200;
  s1.total_p50_ms = 50.4;
  s1.total_avg_ms = 50.5;
  s1.total_min_ms = 1;
  s1.total_max_ms = 100;
  r.history.push_back(s1);
  SecondSample s2 = s1;  // the short interval of the drain: 0.5 s
  s2.t = 2.5;
  s2.requests = 3;
  s2.failures = 1;
  s2.total_requests = 113;
  s2.total_failures = 11;
  r.history.push_back(s2);
  return r;
}

RunDescription quick_run() {
  RunDescription run;
  run.url = "http://127.0.0.1:1/z";
  run.method = "GET";
  run.connections = 4;
  run.threads = 2;
  run.duration_s = 10;
  return run;
}

class LoadExport : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netres-export-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_))
      names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string dir_;
  RunDescription run_ = quick_run();
};

TEST_F(LoadExport, StatsCsvHasLocustColumnsRowsAndValues) {
  write_csv_files(dir_ + "/run", run_, sample_result());
  EXPECT_EQ(files(), (std::vector<std::string>{"run_failures.csv", "run_stats.csv",
                                               "run_stats_history.csv"}));
  Rows rows = read_csv(dir_ + "/run_stats.csv");
  ASSERT_EQ(rows.size(), 5u);  // header, 3 (method, name) rows, Aggregated
  EXPECT_EQ(rows[0], kLocustStatsColumns);
  for (const auto& r : rows) EXPECT_EQ(r.size(), kLocustStatsColumns.size());
  // Sorted by (name, method) as locust's sort_stats; the two /z templates are one row.
  EXPECT_EQ(rows[1][1], "/a");
  EXPECT_EQ(rows[2][1], "/search?q=\"a,b\"");
  EXPECT_EQ(rows[2][0], "POST");
  EXPECT_EQ(rows[3][1], "/z");

  // /a: requests but no response time measured: locust's zeros and N/A percentiles.
  EXPECT_EQ(std::vector<std::string>(rows[1].begin(), rows[1].begin() + 11),
            (std::vector<std::string>{"GET", "/a", "10", "10", "0", "0.0", "0", "0", "0.0", "1.0",
                                      "1.0"}));
  for (size_t i = 11; i < rows[1].size(); ++i) EXPECT_EQ(rows[1][i], "N/A");

  // /z: 1..100 ms plus one of 200 ms (101 requests).
  const auto& z = rows[3];
  EXPECT_EQ(z[0], "GET");
  EXPECT_EQ(z[2], "101");
  EXPECT_EQ(z[3], "0");
  EXPECT_EQ(z[4], "51");  // median as an int
  EXPECT_NEAR(std::stod(z[5]), (5050.0 + 200) / 101, 1e-9);
  EXPECT_EQ(z[6], "1.0");  // min and max as floats, as locust's
  EXPECT_EQ(z[7], "200.0");
  EXPECT_NEAR(std::stod(z[8]), 61200.0 / 101, 1e-9);
  EXPECT_EQ(z[9], "10.1");
  EXPECT_EQ(z[10], "0.0");
  EXPECT_EQ(std::vector<std::string>(z.begin() + 11, z.end()),
            (std::vector<std::string>{"51", "67", "76", "81", "91", "96", "99", "100", "200", "200",
                                      "200"}));

  // The tricky name: quoted in the file, intact when read back.
  const std::string raw = read_file(dir_ + "/run_stats.csv");
  EXPECT_NE(raw.find("POST,\"/search?q=\"\"a,b\"\"\",2,2,"), std::string::npos) << raw;
  EXPECT_EQ(rows[2][4], "3");  // the lower of two, as locust's median
  EXPECT_EQ(rows[2][6], "3.0");
  EXPECT_EQ(rows[2][7], "5.0");

  // Aggregated: empty Type, everything.
  const auto& total = rows[4];
  EXPECT_EQ(total[0], "");
  EXPECT_EQ(total[1], "Aggregated");
  EXPECT_EQ(total[2], "113");
  EXPECT_EQ(total[3], "12");
  EXPECT_EQ(total[9], "11.3");
  EXPECT_EQ(total[10], "1.2");
  EXPECT_EQ(total.back(), "200");
  // Lines end in CRLF, as Python's csv.writer writes them.
  EXPECT_EQ(raw.substr(raw.size() - 2), "\r\n");
}

TEST_F(LoadExport, HistoryCsvHasOneAggregatedRowPerSecond) {
  write_csv_files(dir_ + "/run", run_, sample_result());
  Rows rows = read_csv(dir_ + "/run_stats_history.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], kLocustHistoryColumns);
  for (const auto& r : rows) EXPECT_EQ(r.size(), kLocustHistoryColumns.size());
  // Before the first answer: N/A percentiles, zeros.
  std::vector<std::string> expected = {
      std::to_string(kStart + 1), "4", "", "Aggregated", "0.000000", "0.000000"};
  expected.resize(17, "N/A");
  for (const char* v : {"0", "0", "0", "0.0", "0", "0", "0"}) expected.push_back(v);
  EXPECT_EQ(rows[1], expected);
  const auto& r = rows[2];
  EXPECT_EQ(r[0], std::to_string(kStart + 2));
  EXPECT_EQ(r[1], "8");
  EXPECT_EQ(r[2], "");
  EXPECT_EQ(r[3], "Aggregated");
  EXPECT_EQ(r[4], "110.000000");  // locust's f"{current_rps:2f}"
  EXPECT_EQ(r[5], "10.000000");
  EXPECT_EQ(std::vector<std::string>(r.begin() + 6, r.begin() + 17),
            (std::vector<std::string>{"50", "66", "75", "80", "90", "95", "98", "99", "100", "100",
                                      "100"}));
  EXPECT_EQ(
      std::vector<std::string>(r.begin() + 17, r.end()),
      (std::vector<std::string>{"110", "10", "50", "50.5", "1.0", "100.0", "556.3636363636364"}));
  // The half-second interval at the end: rates per second of that interval.
  EXPECT_EQ(rows[3][0], std::to_string(kStart + 2));
  EXPECT_EQ(rows[3][4], "6.000000");
  EXPECT_EQ(rows[3][5], "2.000000");
  EXPECT_EQ(rows[3][17], "113");
  EXPECT_EQ(rows[3][18], "11");
}

TEST_F(LoadExport, FailuresCsv) {
  write_csv_files(dir_ + "/run", run_, sample_result());
  Rows rows = read_csv(dir_ + "/run_failures.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], kLocustFailuresColumns);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"GET", "/a", "connection refused", "10"}));
  EXPECT_EQ(rows[2],
            (std::vector<std::string>{"POST", kTrickyName, "HTTP 404, \"not found\"", "2"}));
}

TEST_F(LoadExport, EmptyRunStillWritesHeadersAndAggregated) {
  LoadResult r;
  write_csv_files(dir_ + "/empty", run_, r);
  Rows stats = read_csv(dir_ + "/empty_stats.csv");
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[1][1], "Aggregated");
  EXPECT_EQ(stats[1][2], "0");
  EXPECT_EQ(stats[1][11], "N/A");
  EXPECT_EQ(read_csv(dir_ + "/empty_stats_history.csv").size(), 1u);
  EXPECT_EQ(read_csv(dir_ + "/empty_failures.csv").size(), 1u);
}

// What lies between the data element's start tag and the next "</script": the JSON text.
std::string embedded_json(const std::string& page) {
  const std::string open = R"(<script type="application/json" id="netres-results">)";
  size_t start = page.find(open);
  EXPECT_NE(start, std::string::npos);
  if (start == std::string::npos) return "";
  start += open.size();
  size_t end = page.find("</script", start);
  EXPECT_NE(end, std::string::npos);
  return page.substr(start, end - start);
}

TEST_F(LoadExport, HtmlEmbedsTheResultsSafely) {
  LoadResult r = sample_result();
  const std::string hostile = "/x</script><script>alert(1)</script><!--\xe2\x80\xa8&amp;";
  r.stats.requests[2].name = hostile;
  nlohmann::json results = to_json(run_, r, {});
  const std::string path = dir_ + "/report.html";
  write_html_report(path, results);
  EXPECT_EQ(files(), std::vector<std::string>{"report.html"});
  const std::string page = read_file(path);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  const std::string text = embedded_json(page);
  // The block ends only at its own end tag, and the name's markup did not survive as markup.
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(text.find('<'), std::string::npos);
  EXPECT_EQ(text.find('>'), std::string::npos);
  EXPECT_EQ(text.find("\xe2\x80\xa8"), std::string::npos);
  nlohmann::json back = nlohmann::json::parse(text);
  EXPECT_EQ(back, results);
  EXPECT_EQ(back["stats"][2]["name"], hostile);
  // Self-contained: no external resources.
  for (const char* external : {"<link", " src=", "@import", "url(", "https://"})
    EXPECT_EQ(page.find(external), std::string::npos) << external;
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page.find("dataset.rendered = \"ok\""), std::string::npos);
}

TEST_F(LoadExport, HtmlIsTheEmbeddedReportPageWithTheResultsInIt) {
  nlohmann::json results = to_json(run_, sample_result(), {});
  const std::string path = dir_ + "/page.html";
  write_html_report(path, results);
  const std::string page = read_file(path);
  const std::string text = embedded_json(page);
  const size_t at = page.find(text);
  ASSERT_NE(at, std::string::npos);
  // Everything around the data is src/load/report.html byte for byte ("{}" is its placeholder).
  EXPECT_EQ(page.substr(0, at) + "{}" + page.substr(at + text.size()), std::string(kReportPage));
  EXPECT_TRUE(page.ends_with("</html>\n"));
}

TEST_F(LoadExport, UnwritablePathsAreRuntimeErrors) {
  const std::string missing = dir_ + "/no-such-dir/run";
  EXPECT_THROW(write_csv_files(missing, run_, sample_result()), RuntimeError);
  EXPECT_THROW(write_html_report(missing + ".html", nlohmann::json::object()), RuntimeError);
  try {
    write_csv_files(missing, run_, sample_result());
  } catch (const RuntimeError& e) {
    std::string what = e.what();
    EXPECT_EQ(what.rfind("--csv: ", 0), 0u) << what;
    EXPECT_NE(what.find("no-such-dir"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_TRUE(files().empty());
}

}  // namespace
}  // namespace netres::load
