// The status page: escaping of names and failure details, states, failing rows first, the
// sparkline, and that the page needs nothing from the network.
#include "monitor/status_page.h"

#include <gtest/gtest.h>

namespace netres::monitor {
namespace {

ProbeStore::Row row(std::string target, bool ok, std::string reason = {}) {
  ProbeStore::Row r;
  r.target = std::move(target);
  r.check = "http_2xx";
  r.kind = "http";
  ProbeResult p;
  p.success = ok;
  p.duration = 0.0123;
  if (!ok) p.fail(reason, "status 503");
  r.result = p;
  r.history = {0.01f, 0.02f, -1.0f, 0.015f};
  if (!ok) r.last_failure = reason + ": status 503";
  r.last_unix = 1000;
  return r;
}

TEST(StatusPage, EscapesWhatCameFromConfigsAndPeers) {
  EXPECT_EQ(html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  ProbeStore::Row r = row("<script>alert(1)</script>", false, "status");
  r.last_failure = "redirects: cannot follow Location '<img src=x>'";
  std::string page = render_status_page({r}, 1005, "m&m.yaml");
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=x&gt;"), std::string::npos);
  EXPECT_NE(page.find("m&amp;m.yaml"), std::string::npos);
}

TEST(StatusPage, StatesCountsAndFailingFirst) {
  ProbeStore::Row pending;
  pending.target = "new";
  pending.check = "t";
  pending.kind = "tcp";
  std::string page = render_status_page(
      {row("web-ok", true), row("web-bad", false, "status"), pending}, 1065, "m.yaml");
  EXPECT_NE(page.find("<title>netres monitor: 1 down, 1 up</title>"), std::string::npos);
  EXPECT_NE(page.find("1 pending"), std::string::npos);
  EXPECT_NE(page.find(">down: status<"), std::string::npos);
  EXPECT_NE(page.find("status: status 503"), std::string::npos);
  EXPECT_NE(page.find("65 s ago"), std::string::npos);
  EXPECT_LT(page.find("web-bad"), page.find("web-ok"));
  EXPECT_LT(page.find(">new<"), page.find("web-ok"));  // failing, pending, then up
  // Self-contained: no scripts, no external resources.
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_NE(page.find("name=\"viewport\""), std::string::npos);
}

TEST(StatusPage, SparklineDrawsSuccessesAndMarksFailures) {
  std::string svg = sparkline_svg({0.01f, 0.02f, -1.0f, 0.02f});
  EXPECT_NE(svg.find("points=\"0.0,12.0 40.0,2.0 120.0,2.0\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("<rect x=\"79.0\""), std::string::npos) << svg;
  EXPECT_NE(sparkline_svg({}).find("points=\"\""), std::string::npos);
}

}  // namespace
}  // namespace netres::monitor
