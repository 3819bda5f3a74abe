// Locust-compatible CSV files and the HTML report. The CSV follows locust 2.x's StatsCSV
// (columns, row order, "N/A" percentiles, ints where locust writes ints) so that scripts and
// dashboards made for locust's --csv read ours; the HTML page draws its charts itself from the
// embedded --json object, so it opens with no network.
#include "load/load_export.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "common/atomic_file.h"
#include "common/duration.h"
#include "common/error.h"

namespace netres::load {
namespace {

using Row = std::vector<std::string>;

// RFC 4180 (and Python's csv.writer with QUOTE_MINIMAL, which locust uses): quote a field only
// when it holds a comma, a quote or a line break; double the quotes inside.
void append_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_row(std::string& out, const Row& row) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) out += ',';
    append_field(out, row[i]);
  }
  out += "\r\n";  // csv.writer's line terminator
}

// A float as Python's str() writes it (shortest round trip, always with a dot or exponent),
// so that readers that tell locust's ints from its floats see the same types.
std::string py_float(double v) {
  if (!std::isfinite(v)) v = 0;
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

// Locust keeps response times in whole milliseconds for its percentiles and median.
std::string ms_int(double ms) { return std::to_string(std::llround(ms)); }
double us_to_ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

Row percentile_headers() {
  Row r;
  for (double p : kLocustPercentiles) r.push_back(fmt::format("{:g}%", p));
  return r;
}

Row concat(Row a, const Row& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Row& stats_header() {
  static const Row header =
      concat({"Type", "Name", "Request Count", "Failure Count", "Median Response Time",
              "Average Response Time", "Min Response Time", "Max Response Time",
              "Average Content Size", "Requests/s", "Failures/s"},
             percentile_headers());
  return header;
}

const Row& history_header() {
  static const Row header =
      concat(concat({"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"},
                    percentile_headers()),
             {"Total Request Count", "Total Failure Count", "Total Median Response Time",
              "Total Average Response Time", "Total Min Response Time", "Total Max Response Time",
              "Total Average Content Size"});
  return header;
}

const Row& failures_header() {
  static const Row header = {"Method", "Name", "Error", "Occurrences"};
  return header;
}

Row not_available() { return Row(kLocustPercentiles.size(), "N/A"); }

// One _stats.csv row. Where locust has nothing to report (no response time measured) it writes
// int 0 for min/max/median/size, 0.0 for the average and "N/A" for the percentiles.
Row stats_row(const std::string& type, const RequestStats& s, double seconds) {
  const HdrHistogram& h = s.latency;
  const bool timed = h.count() > 0;
  Row r = {type,
           s.name,
           std::to_string(s.requests),
           std::to_string(s.failures),
           timed ? ms_int(us_to_ms(h.value_at_percentile(50))) : "0",
           py_float(h.mean() / 1000.0),
           timed ? py_float(us_to_ms(h.min())) : "0",
           timed ? py_float(us_to_ms(h.max())) : "0",
           s.requests ? py_float(static_cast<double>(s.body_bytes) / s.requests) : "0",
           py_float(static_cast<double>(s.requests) / seconds),
           py_float(static_cast<double>(s.failures) / seconds)};
  if (!timed) return concat(r, not_available());
  for (double p : kLocustPercentiles) r.push_back(ms_int(us_to_ms(h.value_at_percentile(p))));
  return r;
}

// Locust keys its rows by (name, method) and writes them sorted by that key; templates that
// share a method and name (scenario tasks) are one row, as in locust.
std::string stats_csv(const LoadResult& result, double seconds) {
  std::map<std::pair<std::string, std::string>, RequestStats> rows;
  for (const auto& s : result.stats.requests) {
    auto [it, fresh] = rows.try_emplace({s.name, s.method});
    if (fresh) {
      it->second.method = s.method;
      it->second.name = s.name;
    }
    it->second.merge(s);
  }
  std::string out;
  append_row(out, stats_header());
  for (const auto& [key, s] : rows) append_row(out, stats_row(s.method, s, seconds));
  append_row(out, stats_row("", result.stats.total(), seconds));
  return out;
}

// One Aggregated row per second of history, as locust writes without --csv-full-history.
std::string history_csv(const LoadResult& result) {
  const double start_s =
      std::chrono::duration<double>(result.started_at.time_since_epoch()).count();
  std::string out;
  append_row(out, history_header());
  double previous_t = 0;
  for (const auto& s : result.history) {
    const double dt = s.t - previous_t;
    previous_t = s.t;
    auto per_second = [&](uint64_t n) {
      return fmt::format("{:2f}", dt > 0 ? static_cast<double>(n) / dt : 0.0);
    };
    Row r = {std::to_string(static_cast<int64_t>(std::floor(start_s + s.t))),
             std::to_string(s.users),
             "",
             "Aggregated",
             per_second(s.requests),
             per_second(s.failures)};
    // Locust's "N/A": no response in the window to take percentiles of (failures before a
    // response, such as refused connections, have no latency).
    const bool any = s.total_responses > 0;
    if (s.window_responses > 0) {
      for (double ms : s.window_ms) r.push_back(ms_int(ms));
    } else {
      r = concat(r, not_available());
    }
    r = concat(
        r, {std::to_string(s.total_requests), std::to_string(s.total_failures),
            ms_int(s.total_p50_ms), py_float(s.total_avg_ms), any ? py_float(s.total_min_ms) : "0",
            any ? py_float(s.total_max_ms) : "0",
            s.total_requests ? py_float(static_cast<double>(s.total_body_bytes) / s.total_requests)
                             : "0"});
    append_row(out, r);
  }
  return out;
}

std::string failures_csv(const LoadResult& result) {
  std::string out;
  append_row(out, failures_header());
  for (const auto& [key, n] : result.stats.failures)
    append_row(out, {key.method, key.name, key.reason, std::to_string(n)});
  return out;
}

void write_report_file(const std::string& flag, const std::string& path, std::string_view data) {
  try {
    write_file_atomically(path, data);
  } catch (const RuntimeError& e) {
    throw RuntimeError(fmt::format("{}: {}", flag, e.what()));
  }
}

// The page around the data. The CSP forbids every fetch, so the report provably needs no network;
// the script only reads the embedded JSON and builds DOM nodes (text goes in as textContent).
constexpr std::string_view kReportPageHead = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>netres load report</title>
<style>
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2933; background: #f5f7fa; }
main, header, footer { max-width: 1180px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 20px; }
h1 { font-size: 1.5em; margin: 0 0 4px; }
h2 { font-size: 1.15em; margin: 28px 0 10px; }
.subtitle { color: #52606d; margin: 0; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-top: 16px; }
.card { background: #fff; border: 1px solid #e4e7eb; border-radius: 8px; padding: 10px 12px; }
.card .label { color: #616e7c; font-size: 0.82em; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 1.35em; font-weight: 600; font-variant-numeric: tabular-nums; }
.card.bad .value { color: #c62828; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); gap: 14px; }
figure.chart { margin: 0; background: #fff; border: 1px solid #e4e7eb; border-radius: 8px; padding: 10px 12px 8px; min-width: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.plot { width: 100%; }
.plot svg { display: block; width: 100%; height: auto; }
.plot text { font: 11px system-ui, sans-serif; fill: #52606d; }
.plot text.axis-title { font-weight: 600; fill: #3e4c59; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.85em; color: #3e4c59; }
.legend span::before { content: ""; display: inline-block; width: 14px; height: 3px; margin: 0 6px 3px 0; background: var(--c); vertical-align: middle; }
.legend span.dash::before { background: repeating-linear-gradient(90deg, var(--c) 0 4px, transparent 4px 7px); }
.readout { font-size: 0.82em; color: #616e7c; min-height: 1.4em; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; background: #fff; border: 1px solid #e4e7eb; border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { padding: 6px 8px; text-align: left; border-bottom: 1px solid #eef0f3; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
td.name.long { white-space: normal; overflow-wrap: anywhere; min-width: 16em; }
th { background: #f0f3f7; font-weight: 600; color: #3e4c59; }
tr:last-child td { border-bottom: 0; }
tr.total td { font-weight: 600; background: #fafbfc; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #2e7d32; font-weight: 600; }
.failed { color: #c62828; font-weight: 600; }
.note { color: #52606d; font-size: 0.9em; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff; border: 1px solid #e4e7eb; border-radius: 8px; padding: 12px 14px; margin: 0; }
dl.run dt { color: #616e7c; }
dl.run dd { margin: 0; overflow-wrap: anywhere; }
footer { color: #7b8794; font-size: 0.8em; padding: 24px 16px 32px; }
@media (max-width: 560px) { body { font-size: 14px; } th, td { padding: 5px 7px; } }
</style>
</head>
<body data-rendered="no">
<header>
<h1>netres load report</h1>
<p class="subtitle" id="subtitle"></p>
</header>
<main id="report">
<noscript><p>The charts and tables of this report are drawn by a small inline script: allow
JavaScript for this file to see them. The raw results are in the element
<code>script#netres-results</code> (the object <code>netres load --json</code> prints).</p></noscript>
</main>
<footer id="render-status"></footer>
)page";

constexpr std::string_view kReportPageScript = R"page(<script>
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = { requests: "#2563eb", failures: "#dc2626", p50: "#059669", p95: "#0284c7",
                 p99: "#d97706", window99: "#7c3aed", users: "#0891b2", planned: "#64748b" };
  var charts = [];
  var tables = 0;

  function h(tag, attrs, children) {
    var e = document.createElement(tag);
    attrs = attrs || {};
    Object.keys(attrs).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined) return;
      if (k === "text") e.textContent = String(attrs[k]); else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
    return e;
  }
  function s(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function num(v) { return typeof v === "number" && isFinite(v) ? v : 0; }
  function has(v) { return typeof v === "number" && isFinite(v); }
  // null (nothing measured: no response) prints as a dash, never as a fast 0.
  function ms(v) { if (!has(v)) return "-"; return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
  function msu(v) { return has(v) ? ms(v) + " ms" : "-"; }
  function count(v) { return Math.round(num(v)).toLocaleString("en-US"); }
  function rate(v) { return num(v).toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 }); }
  function short(v) {
    v = num(v);
    var a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return +(v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return +(v / 1e3).toFixed(1) + "k";
    return String(+v.toFixed(a >= 10 ? 0 : a >= 1 ? 1 : 2));
  }

  // 1, 2, 2.5 or 5 times a power of ten, so that about `n` steps cover [0, max].
  function niceStep(max, n) {
    if (!(max > 0)) max = 1;
    var raw = max / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
  }
  function timeLabel(t, span) {
    if (span >= 600) return +(t / 60).toFixed(1) + "m";
    return +t.toFixed(1) + "s";
  }

  function section(title, id) {
    var sec = h("section", { id: id }, [h("h2", { text: title })]);
    document.getElementById("report").appendChild(sec);
    return sec;
  }
  function table(headers, rows, numeric, rowClass) {
    tables++;
    var thead = h("thead", {}, [h("tr", {}, headers.map(function (t, i) {
      return h("th", { "class": numeric[i] ? "num" : null, text: t });
    }))]);
    var tbody = h("tbody", {}, rows.map(function (r, j) {
      return h("tr", { "class": rowClass ? rowClass(j) : null }, r.map(function (c, i) {
        var cls = numeric[i] ? "num" : headers[i] === "Name" ? (String(c).length > 40 ? "name long" : "name") : null;
        if (c && typeof c === "object") { c.cls = c.cls || cls; return h("td", { "class": c.cls, text: c.text }); }
        return h("td", { "class": cls, text: c });
      }));
    }));
    return h("div", { "class": "scroll" }, [h("table", {}, [thead, tbody])]);
  }

  // A line chart; drawn (and redrawn on resize) at the width it has, so text stays legible.
  // `axes` names the y axes: { left: "title", right: "title" } (series with right: true use
  // the right one); null values leave a gap; `opts.marks` are dotted vertical lines (stage ends).
  function chart(title, xs, series, unit, axes, opts) {
    var holder = h("div", { "class": "plot" });
    var readout = h("div", { "class": "readout", text: "\u00a0" });
    var legend = h("div", { "class": "legend" }, series.map(function (se) {
      var item = h("span", { "class": se.dash ? "dash" : null, text: se.label });
      item.style.setProperty("--c", se.color);
      return item;
    }));
    var c = { xs: xs, series: series, unit: unit, holder: holder, readout: readout,
              axes: axes || { left: unit }, opts: opts || {} };
    charts.push(c);
    return h("figure", { "class": "chart" }, [h("figcaption", { text: title }), holder, legend, readout]);
  }

  function draw(c) {
    var width = Math.max(260, Math.floor(c.holder.clientWidth || 600));
    var height = width < 480 ? 210 : 250;
    var right = c.series.some(function (se) { return se.right; });
    var m = { l: 62, r: right ? 62 : 14, t: 12, b: 40 };
    var pw = width - m.l - m.r, ph = height - m.t - m.b;
    var xMax = c.xs.reduce(function (a, t) { return Math.max(a, t); }, 1);
    (c.opts.marks || []).forEach(function (t) { xMax = Math.max(xMax, t); });
    function scale(isRight) {
      var yMax = 0;
      c.series.forEach(function (se) {
        if (!!se.right !== isRight) return;
        (se.values || []).forEach(function (v) { if (has(v)) yMax = Math.max(yMax, v); });
        (se.points || []).forEach(function (p) { yMax = Math.max(yMax, num(p[1])); });
      });
      var step = niceStep(yMax, width < 480 ? 3 : 4);
      if (c.opts.integer) step = Math.max(1, Math.round(step));  // no half users
      return { step: step, top: Math.max(step, Math.ceil(yMax / step - 1e-9) * step) };
    }
    var L = scale(false), R = right ? scale(true) : null;
    var xStep = niceStep(xMax, width < 480 ? 4 : 8);
    function X(t) { return m.l + (t / xMax) * pw; }
    function Y(v, isRight) { var top = isRight ? R.top : L.top; return m.t + ph - (num(v) / top) * ph; }
    var svg = s("svg", { "class": "chart-svg", viewBox: "0 0 " + width + " " + height,
                         width: width, height: height, role: "img" });
    for (var y = 0; y <= L.top + L.step / 1e6; y += L.step) {
      svg.appendChild(s("line", { x1: m.l, x2: m.l + pw, y1: Y(y), y2: Y(y),
                                  stroke: y === 0 ? "#9aa5b1" : "#e4e7eb" }));
      svg.appendChild(s("text", { x: m.l - 6, y: Y(y) + 4, "text-anchor": "end" }, short(y)));
    }
    if (R) for (var yr = 0; yr <= R.top + R.step / 1e6; yr += R.step) {
      svg.appendChild(s("text", { x: m.l + pw + 6, y: Y(yr, true) + 4, "text-anchor": "start",
                                  fill: COLORS.failures }, short(yr)));
    }
    for (var t = 0; t <= xMax + xStep / 1e6; t += xStep) {
      svg.appendChild(s("line", { x1: X(t), x2: X(t), y1: m.t + ph, y2: m.t + ph + 4, stroke: "#9aa5b1" }));
      svg.appendChild(s("text", { x: X(t), y: m.t + ph + 16, "text-anchor": "middle" }, timeLabel(t, xMax)));
    }
    // Axis titles: time below, each y axis's quantity along it.
    svg.appendChild(s("text", { "class": "axis-title", x: m.l + pw / 2, y: height - 4, "text-anchor": "middle" },
                      "time since start (" + (xMax >= 600 ? "min" : "s") + ")"));
    svg.appendChild(s("text", { "class": "axis-title", "text-anchor": "middle",
                                transform: "translate(14," + (m.t + ph / 2) + ") rotate(-90)" }, c.axes.left));
    if (R) svg.appendChild(s("text", { "class": "axis-title", "text-anchor": "middle", fill: COLORS.failures,
                                       transform: "translate(" + (width - 10) + "," + (m.t + ph / 2) + ") rotate(90)" },
                             c.axes.right));
    (c.opts.marks || []).forEach(function (t) {
      svg.appendChild(s("line", { "class": "stage-mark", x1: X(t), x2: X(t), y1: m.t, y2: m.t + ph,
                                  stroke: "#94a3b8", "stroke-dasharray": "1 3" }));
    });
    c.series.forEach(function (se) {
      var g = s("g", { "class": "series" });
      g.appendChild(s("title", {}, se.label));
      var attrs = function (pts) {
        var a = { points: pts.join(" "), fill: "none", stroke: se.color,
                  "stroke-width": se.width || 2, "stroke-linejoin": "round" };
        if (se.dash) a["stroke-dasharray"] = "5 4";
        return a;
      };
      if (se.points) {  // its own (t, value) points, e.g. the planned users of the stages
        g.appendChild(s("polyline", attrs(se.points.map(function (p) {
          return X(p[0]).toFixed(1) + "," + Y(p[1], se.right).toFixed(1);
        }))));
      } else {
        // One polyline per run of measured values: a second without data is a gap, not a 0.
        var run = [];
        var flush = function () { if (run.length) g.appendChild(s("polyline", attrs(run))); run = []; };
        c.xs.forEach(function (t, i) {
          var v = se.values[i];
          if (!has(v)) { flush(); return; }
          run.push(X(t).toFixed(1) + "," + Y(v, se.right).toFixed(1));
          if (c.xs.length <= 40) g.appendChild(s("circle", { cx: X(t), cy: Y(v, se.right), r: 2.5, fill: se.color }));
        });
        flush();
      }
      svg.appendChild(g);
    });
    var guide = s("line", { y1: m.t, y2: m.t + ph, stroke: "#52606d", "stroke-dasharray": "2 3", visibility: "hidden" });
    svg.appendChild(guide);
    svg.addEventListener("mousemove", function (ev) {
      var box = svg.getBoundingClientRect();
      var x = (ev.clientX - box.left) * (width / box.width);
      var best = 0;
      c.xs.forEach(function (t, i) { if (Math.abs(X(t) - x) < Math.abs(X(c.xs[best]) - x)) best = i; });
      guide.setAttribute("x1", X(c.xs[best]));
      guide.setAttribute("x2", X(c.xs[best]));
      guide.setAttribute("visibility", "visible");
      c.readout.textContent = timeLabel(c.xs[best], 0) + ": " + c.series.filter(function (se) { return !se.points; }).map(function (se) {
        var v = se.values[best];
        return se.label + " " + (c.unit === "ms" ? ms(v) : has(v) ? short(v) : "-");
      }).join(" \u00b7 ");
    });
    svg.addEventListener("mouseleave", function () { guide.setAttribute("visibility", "hidden"); });
    while (c.holder.firstChild) c.holder.removeChild(c.holder.firstChild);
    c.holder.appendChild(svg);
  }

  // The users the stages ask for over time: at once, or one at the stage's start and then one
  // every 1/spawn_rate seconds (the line joins the corners of that staircase).
  function plannedUsers(stages) {
    var pts = [[0, 0]], users = 0, t0 = 0;
    stages.forEach(function (st) {
      var target = num(st.users), end = num(st.end_s), rate = num(st.spawn_rate);
      if (target !== users) {
        var dir = Math.sign(target - users), n = Math.abs(target - users);
        if (rate > 0 && n > 1) {
          var done = Math.min(n, 1 + Math.floor((end - t0) * rate + 1e-9));
          pts.push([t0, users + dir]);
          users += dir * done;
          pts.push([Math.min(end, t0 + (done - 1) / rate), users]);
        } else {
          pts.push([t0, target]);
          users = target;
        }
      }
      pts.push([end, users]);
      t0 = end;
    });
    return pts;
  }

  function render(data) {
    var totals = data.totals || {};
    var history = Array.isArray(data.history) ? data.history : [];
    var stats = Array.isArray(data.stats) ? data.stats : [];
    var failures = Array.isArray(data.failures) ? data.failures : [];
    var thresholds = Array.isArray(data.thresholds) ? data.thresholds : [];
    var elapsed = num(data.elapsed_s) || 1;

    var what = data.scenario ? data.scenario + " against " + (data.host || data.url || "")
                             : (data.method || "GET") + " " + (data.url || "");
    var how = [];
    var scenario = data.mode === "scenario";
    if (!scenario && data.model) how.push(data.model + " model" + (data.model === "open" ? " at " + rate(data.rate) + " requests/s" : ""));
    if (!scenario && data.connections) how.push(data.connections + " connections");
    if (scenario && data.users) how.push(data.users + " users at most");
    how.push(+elapsed.toFixed(2) + " s measured");
    if (data.started_at) how.push(data.started_at.replace("T", " ") + " to " + String(data.ended_at || "").replace(/^.*T/, ""));
    document.getElementById("subtitle").textContent = [what].concat(how).filter(Boolean).join(" \u00b7 ");
    document.title = "netres load report: " + what;

    var lat = totals.latency_ms || {};
    var cards = [["Requests", count(totals.requests)],
                 ["Failures", count(totals.failures) + " (" + (num(totals.fail_ratio) * 100).toFixed(2) + "%)", num(totals.failures) > 0],
                 ["Requests/s", rate(totals.rps)],
                 ["Median", msu(lat.p50)], ["p99", msu(lat.p99)], ["Max", msu(lat.max)]];
    var failedThresholds = thresholds.filter(function (t) { return t.failed; }).length;
    if (thresholds.length) cards.push(["Thresholds", failedThresholds ? failedThresholds + " failed" : "all ok", failedThresholds > 0]);
    document.getElementById("report").appendChild(h("div", { "class": "cards" }, cards.map(function (c) {
      return h("div", { "class": "card" + (c[2] ? " bad" : "") }, [h("div", { "class": "label", text: c[0] }), h("div", { "class": "value", text: c[1] })]);
    })));

    var sec = section("Over time", "charts");
    if (history.length === 0) {
      sec.appendChild(h("p", { "class": "note", text: "No per-second samples: the run was shorter than a second." }));
    } else {
      var xs = history.map(function (p) { return num(p.t); });
      var prev = 0, dts = xs.map(function (t) { var d = t - prev; prev = t; return d > 0 ? d : 1; });
      var perSecond = function (key) { return history.map(function (p, i) { return num(p[key]) / dts[i]; }); };
      var win = function (key) { return history.map(function (p) { return (p.window_ms || {})[key]; }); };
      var stages = Array.isArray(data.stages) ? data.stages : [];
      var userSeries = [{ label: scenario ? "users" : "users (connections)", color: COLORS.users,
                          values: history.map(function (p) { return p.users; }) }];
      if (stages.length)
        userSeries.push({ label: "stages (planned users)", color: COLORS.planned, dash: true, points: plannedUsers(stages) });
      sec.appendChild(h("div", { "class": "charts" }, [
        // Failures on their own axis: 36 refused connections must not vanish against 2000 req/s.
        chart("Requests and failures per second", xs, [
          { label: "requests/s", color: COLORS.requests, width: 3.5, values: perSecond("requests") },
          { label: "failures/s (right axis)", color: COLORS.failures, right: true, values: perSecond("failures") }], "req/s",
          { left: "requests per second", right: "failures per second" }),
        chart("Response time percentiles", xs, [
          { label: "p50 (that second)", color: COLORS.p50, values: history.map(function (p) { return p.p50_ms; }) },
          { label: "p95 (that second)", color: COLORS.p95, values: history.map(function (p) { return p.p95_ms; }) },
          { label: "p99 (that second)", color: COLORS.p99, values: history.map(function (p) { return p.p99_ms; }) },
          { label: "p99 (last 10 s)", color: COLORS.window99, dash: true, values: win("99") }], "ms",
          { left: "response time (ms)" }),
        chart("Users", xs, userSeries, "users", { left: scenario ? "virtual users" : "connections" },
              { integer: true, marks: stages.map(function (st) { return num(st.end_s); }) })]));
    }

    sec = section("Statistics", "stats");
    var statRow = function (type, name, st) {
      var l = st.latency_ms || {};
      return [type, name, count(st.requests), count(st.failures), ms(l.p50), ms(l.p90), ms(l.p95), ms(l.p99),
              ms(l["p99.9"]), ms(l.avg), ms(l.min), ms(l.max),
              count(num(st.requests) ? num(st.body_bytes) / num(st.requests) : 0), rate(st.rps), rate(st.failures_per_s)];
    };
    var rows = stats.map(function (st) { return statRow(st.method || "", st.name || "", st); });
    rows.push(statRow("", "Aggregated", totals));
    sec.appendChild(table(["Type", "Name", "# Requests", "# Fails", "Median", "90%ile", "95%ile", "99%ile", "99.9%ile",
                           "Average", "Min", "Max", "Average size (bytes)", "Requests/s", "Failures/s"],
                          rows, [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
                          function (j) { return j === rows.length - 1 ? "total" : null; }));
    var notes = ["Response times in milliseconds" + (data.model === "open" ? ", measured from when each request was due (open model)." : ".")];
    if (data.model === "open" && totals.service_time_ms) {
      var sv = totals.service_time_ms;
      notes.push("Service time (from send, uncorrected): median " + ms(sv.p50) + " ms, p99 " + ms(sv.p99) + " ms, max " + ms(sv.max) + " ms.");
    }
    if (num(totals.cancelled_at_deadline) > 0)
      notes.push(count(totals.cancelled_at_deadline) + " requests were still in flight when the drain after the deadline ended (cancelled at deadline, not counted above).");
    notes.forEach(function (n) { sec.appendChild(h("p", { "class": "note", text: n })); });

    // Locust's percentile table, per name.
    var PCT = ["50", "66", "75", "80", "90", "95", "98", "99", "99.9", "100"];
    var pctRow = function (type, name, st) {
      var p = st.percentiles_ms || {};
      return [type, name].concat(PCT.map(function (k) { return ms(p[k]); }));
    };
    var prow = stats.map(function (st) { return pctRow(st.method || "", st.name || "", st); });
    prow.push(pctRow("", "Aggregated", totals));
    sec = section("Response time percentiles (ms)", "percentiles");
    sec.appendChild(table(["Type", "Name"].concat(PCT.map(function (k) { return k + "%"; })), prow,
                          [0, 0].concat(PCT.map(function () { return 1; })),
                          function (j) { return j === prow.length - 1 ? "total" : null; }));

    var codes = [];
    stats.forEach(function (st) {
      Object.keys(st.status_codes || {}).forEach(function (code) {
        codes.push([st.method || "", st.name || "", code, count(st.status_codes[code])]);
      });
    });
    if (codes.length) {
      sec = section("Status codes", "status-codes");
      sec.appendChild(table(["Type", "Name", "Status", "# Responses"], codes, [0, 0, 1, 1]));
    }

    sec = section("Failures", "failures");
    if (failures.length === 0) {
      sec.appendChild(h("p", { "class": "note", text: "No failures." }));
    } else {
      var sorted = failures.slice().sort(function (a, b) { return num(b.count) - num(a.count); });
      sec.appendChild(table(["# Occurrences", "Method", "Name", "Reason"],
                            sorted.map(function (f) { return [count(f.count), f.method || "", f.name || "", f.reason || ""]; }),
                            [1, 0, 0, 0]));
    }

    sec = section("Thresholds", "thresholds");
    if (thresholds.length === 0) {
      sec.appendChild(h("p", { "class": "note", text: "No thresholds (--fail-if) were set." }));
    } else {
      sec.appendChild(table(["Result", "Condition", "Measured"], thresholds.map(function (t) {
        var measured = !has(t.value) ? "no data: " + (t.reason || "nothing measured")
                     : t.unit === "ms" ? ms(t.value) + " ms"
                     : t.unit === "req/s" ? rate(t.value) + " req/s"
                     : String(+t.value.toPrecision(4)) + (t.unit ? " (" + t.unit + ")" : "");
        return [{ text: t.failed ? "FAILED" : "ok", cls: t.failed ? "failed" : "ok" }, t.expression || "", measured];
      }), [0, 0, 0]));
    }

    if (Array.isArray(data.user_classes) && data.user_classes.length) {
      sec = section("User classes", "user-classes");
      sec.appendChild(table(["Class", "Weight", "Users"], data.user_classes.map(function (u) {
        return [u.name || "", count(u.weight), count(u.users)];
      }), [0, 1, 1]));
    }

    sec = section("Run", "run");
    var labels = { mode: "Mode", scenario: "Scenario", url: "URL", host: "Host", method: "Method",
                   model: "Model", rate: "Rate (requests/s)", connections: "Connections", users: "Users (at most)",
                   spawn_rate: "Spawn rate (users/s)", threads: "Threads", duration_s: "Duration (s)",
                   pipeline: "Pipeline", elapsed_s: "Measured window (s)", started_at: "Started (UTC)",
                   ended_at: "Ended (UTC)" };
    // Only what applies to the mode: a scenario has users, not connections, a method or a model.
    var keys = scenario
        ? ["mode", "scenario", "host", "users", "spawn_rate", "threads", "duration_s", "elapsed_s", "started_at", "ended_at"]
        : ["mode", "url", "method", "model", "rate", "connections", "threads", "duration_s", "pipeline", "elapsed_s",
           "started_at", "ended_at"];
    var dl = h("dl", { "class": "run" });
    keys.forEach(function (k) {
      var v = data[k];
      if (v === undefined || v === null || v === "" || typeof v === "object" || (k === "rate" && data.model !== "open") ||
          (k === "spawn_rate" && Array.isArray(data.stages) && data.stages.length)) return;
      dl.appendChild(h("dt", { text: labels[k] || k }));
      dl.appendChild(h("dd", { text: typeof v === "number" ? String(+v.toFixed(3)) : String(v) }));
    });
    sec.appendChild(dl);
  }

  var status = document.getElementById("render-status");
  try {
    var data = JSON.parse(document.getElementById("netres-results").textContent);
    render(data);
    charts.forEach(draw);
    var resizeTimer = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { charts.forEach(draw); }, 150);
    });
    var svgs = document.querySelectorAll("svg.chart-svg").length;
    document.body.dataset.charts = String(svgs);
    document.body.dataset.tables = String(tables);
    status.textContent = "Drawn from the embedded results: " + svgs + " charts, " + tables +
        " tables. Made by netres load (--html); the same data as --json.";
    document.body.dataset.rendered = "ok";
  } catch (e) {
    document.body.dataset.rendered = "error";
    status.textContent = "This report could not be drawn: " + e;
  }
})();
</script>
</body>
</html>
)page";

// The results as a JavaScript-safe JSON text: nothing in it can close the <script> element or
// start an HTML comment, and it parses to the same value (the escapes are JSON escapes).
std::string embeddable_json(const nlohmann::json& results) {
  // The same text --json prints (invalid UTF-8 replaced the same way).
  std::string text = results.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + 64);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
      // U+2028 / U+2029: line terminators to older JavaScript parsers.
      out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void write_csv_files(const std::string& prefix, const RunDescription&, const LoadResult& result) {
  double seconds = to_seconds(result.elapsed);
  if (seconds <= 0) seconds = 1;  // as the tables: rates over the measured window
  write_report_file("--csv", prefix + "_stats.csv", stats_csv(result, seconds));
  write_report_file("--csv", prefix + "_stats_history.csv", history_csv(result));
  write_report_file("--csv", prefix + "_failures.csv", failures_csv(result));
}

void write_html_report(const std::string& path, const nlohmann::json& results) {
  std::string page;
  page += kReportPageHead;
  page += R"(<script type="application/json" id="netres-results">)";
  page += embeddable_json(results);
  page += "</script>\n";
  page += kReportPageScript;
  write_report_file("--html", path, page);
}

}  // namespace netres::load
