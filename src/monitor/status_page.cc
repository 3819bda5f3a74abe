// Status page rendering. Everything shown that came from a configuration or a network peer
// (target names, failure details quoting a server's Location header...) is HTML-escaped.
#include "monitor/status_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace netres::monitor {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string sparkline_svg(const std::vector<float>& history) {
  constexpr int kWidth = 120, kHeight = 24;
  float top = 0;
  for (float v : history) top = std::max(top, v);
  if (top <= 0) top = 1;
  std::string points, marks;
  const size_t n = history.size();
  for (size_t i = 0; i < n; ++i) {
    double x = n > 1 ? static_cast<double>(i) * kWidth / static_cast<double>(n - 1) : kWidth / 2.0;
    if (history[i] < 0) {
      marks +=
          fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"2\" height=\"4\"/>", x - 1, kHeight - 4);
      continue;
    }
    double y = kHeight - 2 - (kHeight - 4) * history[i] / top;
    points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x, y);
  }
  return fmt::format(
      "<svg class=\"spark\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" "
      "aria-label=\"latency, last {} probes\"><polyline fill=\"none\" stroke=\"#2a6fdb\" "
      "stroke-width=\"1.5\" points=\"{}\"/><g fill=\"#c62828\">{}</g></svg>",
      kWidth, kHeight, kWidth, kHeight, n, points, marks);
}

namespace {

std::string ago(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return fmt::format("{:.0f} s ago", seconds);
  if (seconds < 7200) return fmt::format("{:.0f} min ago", seconds / 60);
  return fmt::format("{:.1f} h ago", seconds / 3600);
}

}  // namespace

std::string render_status_page(const std::vector<ProbeStore::Row>& rows, double now_unix,
                               std::string_view config_file) {
  size_t up = 0, down = 0, pending = 0;
  for (const auto& r : rows) {
    if (!r.result)
      ++pending;
    else if (r.result->success)
      ++up;
    else
      ++down;
  }
  std::string html = fmt::format(
      R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="10">
<title>netres monitor: {down} down, {up} up</title>
<style>
body{{font:15px/1.4 system-ui,sans-serif;margin:0;padding:12px;color:#1b1b1b;background:#fafafa}}
h1{{font-size:20px;margin:0 0 4px}} p.sum{{margin:0 0 12px;color:#555}}
table{{border-collapse:collapse;width:100%;background:#fff}}
th,td{{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e4e4;vertical-align:middle}}
th{{font-size:13px;color:#555}} td.num{{text-align:right;font-variant-numeric:tabular-nums}}
.st{{font-weight:600;border-radius:4px;padding:1px 6px;color:#fff}}
.up{{background:#2e7d32}} .down{{background:#c62828}} .pending{{background:#777}}
.why{{color:#8a1c1c;word-break:break-word}} .spark{{display:block}}
@media (max-width:700px){{
 thead{{display:none}} table,tbody,tr,td{{display:block;width:auto}}
 tr{{margin:0 0 10px;border:1px solid #e4e4e4;border-radius:6px;background:#fff}}
 td{{border:0;padding:3px 10px}} td[data-l]::before{{content:attr(data-l) ": ";color:#555}}
 td.num{{text-align:left}}
}}
</style></head><body>
<h1>netres monitor</h1>
<p class="sum"><span class="st down">{down} down</span> <span class="st up">{up} up</span>{pending_text} &middot; {file}</p>
<table><thead><tr><th>Target</th><th>Check</th><th>State</th><th>Latency</th><th>Last probes</th><th>Last failure</th><th>Probed</th></tr></thead><tbody>
)",
      fmt::arg("down", down), fmt::arg("up", up),
      fmt::arg("pending_text", pending ? fmt::format(" <span class=\"st pending\">{} pending"
                                                     "</span>",
                                                     pending)
                                       : std::string()),
      fmt::arg("file", html_escape(config_file)));
  // Failing rows first, then pending, then up; each in configuration order.
  std::vector<const ProbeStore::Row*> order;
  for (const auto& r : rows) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    auto rank = [](const ProbeStore::Row* r) {
      return !r->result ? 1 : r->result->success ? 2 : 0;
    };
    return rank(a) < rank(b);
  });
  for (const auto* r : order) {
    std::string state = !r->result ? "pending" : r->result->success ? "up" : "down";
    std::string state_text = state;
    if (r->result && !r->result->success) state_text = "down: " + r->result->reason;
    std::string latency = r->result ? fmt::format("{:.1f} ms", r->result->duration * 1000) : "-";
    html += fmt::format(
        "<tr class=\"{}\"><td data-l=\"Target\">{}</td><td data-l=\"Check\">{} ({})</td>"
        "<td data-l=\"State\"><span class=\"st {}\">{}</span></td>"
        "<td class=\"num\" data-l=\"Latency\">{}</td><td>{}</td>"
        "<td class=\"why\" data-l=\"Last failure\">{}</td><td data-l=\"Probed\">{}</td></tr>\n",
        state, html_escape(r->target), html_escape(r->check), html_escape(r->kind), state,
        html_escape(state_text), latency, sparkline_svg(r->history),
        html_escape(r->last_failure.empty() ? "-" : r->last_failure),
        r->last_unix > 0 ? ago(now_unix - r->last_unix) : "-");
  }
  html += "</tbody></table>\n</body></html>\n";
  return html;
}

}  // namespace netres::monitor
