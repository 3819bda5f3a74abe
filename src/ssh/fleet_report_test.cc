// The ssh verbs' tables, NDJSON objects and summary lines, byte for byte.
#include "ssh/fleet_report.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace netres::ssh {
namespace {

using namespace std::chrono_literals;

// Runs `fn` with two temporary FILE*s (out, err) and returns what each got.
template <typename Fn>
std::pair<std::string, std::string> capture(Fn fn) {
  std::FILE* files[2] = {std::tmpfile(), std::tmpfile()};
  fn(files[0], files[1]);
  std::string text[2];
  for (int i = 0; i < 2; ++i) {
    std::fflush(files[i]);
    std::rewind(files[i]);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, files[i])) > 0) text[i].append(buf, n);
    std::fclose(files[i]);
  }
  return {text[0], text[1]};
}

HostResult host(std::string name, HostStatus status, std::optional<int> exit_code,
                std::string error = "") {
  HostResult r;
  r.host = std::move(name);
  r.status = status;
  r.exit_code = exit_code;
  r.duration = 1200ms;
  r.error = std::move(error);
  return r;
}

TEST(FleetReport, ResultJsonFields) {
  auto ok = result_json(host("r1", HostStatus::kOk, 0));
  EXPECT_EQ(ok.dump(),
            R"({"duration_s":1.2,"error":null,"exit_code":0,"host":"r1","status":"ok"})");
  auto down = host("r2", HostStatus::kUnreachable, std::nullopt, "connection refused");
  down.duration = 1234567us;
  EXPECT_EQ(result_json(down).dump(),
            R"({"duration_s":1.235,"error":"connection refused","exit_code":null,"host":"r2",)"
            R"("status":"unreachable"})");
  auto r = host("r3", HostStatus::kFailed, 2);
  r.stdout_text = "a\n";
  r.stderr_text = "b";
  auto j = run_json(r);
  EXPECT_EQ(j["stdout"], "a\n");
  EXPECT_EQ(j["stderr"], "b");
  EXPECT_EQ(j["exit_code"], 2);
}

TEST(FleetReport, SummaryCountsByStatusAndSetsExitCode) {
  std::vector<HostResult> all_ok = {host("a", HostStatus::kOk, 0), host("b", HostStatus::kOk, 0)};
  int rc = 0;
  auto [out, err] =
      capture([&](std::FILE*, std::FILE* e) { rc = print_summary(e, all_ok, "run"); });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(err, "netres: ssh run: 2 hosts, 2 ok\n");
  std::vector<HostResult> mixed = {host("a", HostStatus::kOk, 0),
                                   host("b", HostStatus::kTimeout, std::nullopt),
                                   host("c", HostStatus::kAuthFailed, std::nullopt)};
  std::tie(out, err) =
      capture([&](std::FILE*, std::FILE* e) { rc = print_summary(e, mixed, "copy"); });
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(err, "netres: ssh copy: 3 hosts, 1 auth-failed, 1 ok, 1 timeout\n");
}

TEST(FleetReport, RunTableAndJsonMode) {
  std::vector<HostResult> results = {host("r1", HostStatus::kOk, 0),
                                     host("r22", HostStatus::kFailed, std::nullopt, "boom")};
  int rc = 0;
  auto [out, err] =
      capture([&](std::FILE* o, std::FILE* e) { rc = print_run_results(o, e, results, false); });
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(out,
            "HOST  STATUS  EXIT  DURATION  ERROR\n"
            "r1    ok         0     1.20s\n"
            "r22   failed     -     1.20s  boom\n");
  EXPECT_EQ(err, "netres: ssh run: 2 hosts, 1 failed, 1 ok\n");
  std::tie(out, err) =
      capture([&](std::FILE* o, std::FILE* e) { print_run_results(o, e, results, true); });
  EXPECT_EQ(out, "");  // run --json wrote its objects as hosts finished
}

TEST(FleetReport, GroupBlockEndsUnterminatedOutput) {
  auto r = host("r1", HostStatus::kFailed, 3);
  r.stdout_text = "out";
  r.stderr_text = "err\n";
  auto [out, err] = capture([&](std::FILE* o, std::FILE*) { print_group_block(o, r); });
  EXPECT_EQ(out, "==> r1 (failed, exit 3) <==\nout\nerr\n\n");
  auto t = host("r2", HostStatus::kTimeout, std::nullopt);
  std::tie(out, err) = capture([&](std::FILE* o, std::FILE*) { print_group_block(o, t); });
  EXPECT_EQ(out, "==> r2 (timeout) <==\n\n");
}

TEST(FleetReport, RunOutputLiveByDefault) {
  auto [out, err] = capture([&](std::FILE* o, std::FILE* e) {
    RunOutput output(o, e, false, false, 2);
    LiveSink sink = output.live_sink();
    ASSERT_TRUE(sink);
    sink("r1", Stream::kStdout, "one\ntw");
    sink("r1", Stream::kStderr, "oops\n");
    output.host_done()(host("r1", HostStatus::kOk, 0));  // the unterminated line is printed
  });
  EXPECT_EQ(out, "r1 | one\nr1 | tw\n");
  EXPECT_EQ(err, "r1 | oops\n");
}

TEST(FleetReport, RunOutputJsonAndGroupPerHost) {
  auto r = host("r1", HostStatus::kOk, 0);
  r.stdout_text = "hi\n";
  auto [out, err] = capture([&](std::FILE* o, std::FILE* e) {
    RunOutput output(o, e, true, false, 1);
    EXPECT_FALSE(output.live_sink());
    output.host_done()(r);
  });
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["host"], "r1");
  EXPECT_EQ(j["stdout"], "hi\n");
  EXPECT_EQ(err, "");
  std::tie(out, err) = capture([&](std::FILE* o, std::FILE* e) {
    RunOutput output(o, e, false, true, 1);
    EXPECT_FALSE(output.live_sink());
    output.host_done()(r);
  });
  EXPECT_EQ(out, "==> r1 (ok, exit 0) <==\nhi\n\n");
}

TEST(FleetReport, BackupChangesCell) {
  ConfigRun run;
  run.hosts = {host("new", HostStatus::kOk, 0), host("same", HostStatus::kOk, 0),
               host("diff", HostStatus::kOk, 0), host("down", HostStatus::kUnreachable, {}, "x")};
  run.details.resize(4);
  run.details[0].first_backup = true;
  run.details[0].backup_path = "b/new/1.cfg";
  run.details[2].stat = {2, 1};
  run.details[2].diff = "-a\n+b\n+c\n";
  auto [out, err] =
      capture([&](std::FILE* o, std::FILE* e) { print_backup_results(o, e, run, false); });
  EXPECT_EQ(out,
            "-a\n+b\n+c\n"
            "HOST  STATUS       CHANGES  DURATION  BACKUP       ERROR\n"
            "new   ok           new         1.20s  b/new/1.cfg\n"
            "same  ok           none        1.20s\n"
            "diff  ok           +2 -1       1.20s\n"
            "down  unreachable  -           1.20s               x\n");
  EXPECT_EQ(err, "netres: ssh backup: 4 hosts, 3 ok, 1 unreachable\n");
  std::tie(out, err) =
      capture([&](std::FILE* o, std::FILE* e) { print_backup_results(o, e, run, true); });
  auto first = nlohmann::json::parse(out.substr(0, out.find('\n')));
  EXPECT_EQ(first["first_backup"], true);
  EXPECT_EQ(first["backup"], "b/new/1.cfg");
  EXPECT_FALSE(first.contains("exit_code"));
}

TEST(FleetReport, PushMarksEachLine) {
  ConfigRun run;
  run.hosts = {host("r1", HostStatus::kFailed, std::nullopt, "device refused a line")};
  run.details.resize(1);
  auto& d = run.details[0];
  d.sent = {"hostname r9", "bogus", "ntp server 1.1.1.1"};
  d.applied = 1;
  d.failed_line = "bogus";
  d.device_error = "% Invalid input";
  d.stat = {1, 1};
  auto [out, err] = capture(
      [&](std::FILE* o, std::FILE* e) { print_push_results(o, e, run, false, false, false); });
  EXPECT_EQ(out,
            "==> r1: 1 of 3 lines applied <==\n"
            "  ok   hostname r9\n"
            "  FAIL bogus  <- % Invalid input\n"
            "  skip ntp server 1.1.1.1\n"
            "HOST  STATUS  APPLIED  CHANGES  DURATION  ERROR\n"
            "r1    failed      1/3  +1 -1       1.20s  device refused a line\n");
  EXPECT_EQ(err, "netres: ssh push: 1 hosts, 1 failed\n");
  std::tie(out, err) = capture(
      [&](std::FILE* o, std::FILE* e) { print_push_results(o, e, run, true, false, true); });
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["applied"], nlohmann::json::array({"hostname r9"}));
  EXPECT_EQ(j["failed_line"], "bogus");
  EXPECT_EQ(j["rollback"], true);
  EXPECT_EQ(err, "netres: ssh push --rollback: 1 hosts, 1 failed\n");
  std::tie(out, err) = capture(
      [&](std::FILE* o, std::FILE* e) { print_push_results(o, e, run, true, true, false); });
  EXPECT_TRUE(nlohmann::json::parse(out)["applied"].is_null());
}

TEST(FleetReport, CopyTableAndJson) {
  CopyRun run;
  run.hosts = {host("r1", HostStatus::kOk, std::nullopt),
               host("r2", HostStatus::kFailed, std::nullopt, "no space")};
  run.details.resize(2);
  run.details[0] = {1024, "a.bin", "/tmp/a.bin", "ab12", "sha256"};
  run.details[1] = {0, "a.bin", "/tmp/a.bin", "ab12", ""};
  auto [out, err] =
      capture([&](std::FILE* o, std::FILE* e) { print_copy_results(o, e, run, false, true); });
  EXPECT_EQ(out,
            "HOST  STATUS  BYTES  VERIFIED  DURATION  ERROR\n"
            "r1    ok       1024  sha256       1.20s\n"
            "r2    failed      -  -            1.20s  no space\n");
  std::tie(out, err) =
      capture([&](std::FILE* o, std::FILE* e) { print_copy_results(o, e, run, true, false); });
  auto second = nlohmann::json::parse(out.substr(out.find('\n') + 1));
  EXPECT_EQ(second["direction"], "download");
  EXPECT_TRUE(second["verified"].is_null());
  EXPECT_EQ(second["sha256"], "ab12");
}

}  // namespace
}  // namespace netres::ssh
