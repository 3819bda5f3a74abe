// shape's mode and flag checks, the specs they produce, and the lines it prints.
#include "capture/shape_setup.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "common/error.h"
#include "common/test_util.h"

namespace netres::capture {
namespace {

using Mode = ShapePlan::Mode;

using test_util::usage_error;

ShapeFlags flags(std::string rate) {
  ShapeFlags f;
  f.interface = "eth0";
  f.rate = std::move(rate);
  return f;
}

std::string printed_show(const std::vector<ShapeEntry>& entries, bool json) {
  return test_util::printed([&](std::FILE* f) { print_show(f, "eth0", entries, json); });
}

TEST(ShapePlan, OneModeAndItsFlags) {
  EXPECT_EQ(usage_error([] { plan_for(ShapeFlags{}); }), "give one of --rate, --show or --clear");
  ShapeFlags f = flags("1mbit");
  f.show = true;
  EXPECT_EQ(usage_error([&] { plan_for(f); }), "give one of --rate, --show or --clear");
  f = flags("");
  f.clear = true;
  EXPECT_EQ(plan_for(f).mode, Mode::kClear);
  f.burst = "32k";
  EXPECT_EQ(usage_error([&] { plan_for(f); }),
            "--burst, --latency, --match and --default-rate go with --rate");
  f = flags("");
  f.show = true;
  EXPECT_EQ(plan_for(f).mode, Mode::kShow);
  f = flags("1mbit");
  f.default_rate = "5mbit";
  EXPECT_EQ(usage_error([&] { plan_for(f); }), "--default-rate goes with --match");
}

TEST(ShapePlan, TokenBucket) {
  ShapeFlags f = flags("10mbit");
  ShapePlan plan = plan_for(f);
  EXPECT_EQ(plan.mode, Mode::kTokenBucket);
  EXPECT_EQ(plan.token_bucket.rate_bits, 10'000'000u);
  EXPECT_EQ(plan.token_bucket.burst, 0u);
  EXPECT_EQ(plan.token_bucket.latency_us, 50000u);
  f.burst = "32k";
  f.latency = "20ms";
  plan = plan_for(f);
  EXPECT_EQ(plan.token_bucket.burst, 32u * 1024);
  EXPECT_EQ(plan.token_bucket.latency_us, 20000u);
  f.burst = "8G";
  EXPECT_EQ(usage_error([&] { plan_for(f); }), "--burst must be 2k-256M");
  f.burst = "100";  // validate()'s own range
  EXPECT_THROW(plan_for(f), UsageError);
}

TEST(ShapePlan, PortMatch) {
  ShapeFlags f = flags("2mbit");
  f.match = {"port", "80"};
  f.default_rate = "50mbit";
  ShapePlan plan = plan_for(f);
  EXPECT_EQ(plan.mode, Mode::kPorts);
  EXPECT_EQ(plan.ports.ports, (std::vector<uint16_t>{80}));
  EXPECT_EQ(plan.ports.rate_bits, 2'000'000u);
  EXPECT_EQ(plan.ports.default_rate_bits, 50'000'000u);
  f.match = {"host", "80"};
  EXPECT_EQ(usage_error([&] { plan_for(f); }), "--match takes 'port N', e.g. --match port 80");
  for (const char* bad : {"0", "65536", "80x", "http", "-1"}) {
    f.match = {"port", bad};
    EXPECT_EQ(usage_error([&] { plan_for(f); }),
              fmt::format("--match port: bad port '{}': ports are 1-65535", bad));
  }
}

TEST(ShapeText, ConfirmationLines) {
  EXPECT_EQ(applied_text("eth0", TokenBucketSpec{10'000'000, 0, 50000}),
            "eth0: egress limited to 10mbit (tbf, burst 16384 bytes, latency 50ms)");
  EXPECT_EQ(applied_text("eth0", TokenBucketSpec{1'000'000, 32768, 20000}),
            "eth0: egress limited to 1mbit (tbf, burst 32768 bytes, latency 20ms)");
  EXPECT_EQ(applied_text("eth0", PortShapeSpec{{80}, 2'000'000, 0, 0}),
            "eth0: port 80 limited to 2mbit, other traffic unlimited (htb)");
  EXPECT_EQ(applied_text("eth0", PortShapeSpec{{443}, 2'000'000, 50'000'000, 0}),
            "eth0: port 443 limited to 2mbit, other traffic 50mbit (htb)");
  EXPECT_EQ(cleared_text("eth0", true), "eth0: root qdisc removed");
  EXPECT_EQ(cleared_text("eth0", false), "eth0: no root qdisc to remove (nothing changed)");
}

TEST(ShapeShow, TableAndNdjson) {
  std::vector<ShapeEntry> entries = {
      {"qdisc", "tbf", "8001:", "root", 10'000'000, 0, 125000, 62500},
      {"class", "htb", "1:10", "1:", 0, 0, 0, 0}};
  EXPECT_EQ(printed_show(entries, false),
            "type   kind  handle  parent    rate  ceil   burst  limit\n"
            "qdisc  tbf   8001:   root    10mbit     -  125000  62500\n"
            "class  htb   1:10    1:           -     -       -      -\n");
  EXPECT_EQ(printed_show(entries, true),
            "{\"burst\":125000,\"handle\":\"8001:\",\"interface\":\"eth0\",\"kind\":\"tbf\","
            "\"limit\":62500,\"parent\":\"root\",\"rate_bits\":10000000,\"type\":\"qdisc\"}\n"
            "{\"handle\":\"1:10\",\"interface\":\"eth0\",\"kind\":\"htb\",\"parent\":\"1:\","
            "\"type\":\"class\"}\n");
}

}  // namespace
}  // namespace netres::capture
