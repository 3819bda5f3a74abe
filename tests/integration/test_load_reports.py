#!/usr/bin/env python3
"""netres load --csv PREFIX and --html FILE against a real nginx: the CSV files have locust's
columns and agree with --json, the HTML page embeds exactly the --json object, and (when chromium
is installed) the page draws its charts in a headless browser with no network. Loopback only."""
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import netres  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
import nginx_load  # noqa: E402

# locust 2.12's StatsCSV columns (locust/stats.py), written out by hand.
PERCENTILES = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
STATS_COLUMNS = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                 "Average Response Time", "Min Response Time", "Max Response Time",
                 "Average Content Size", "Requests/s", "Failures/s", *PERCENTILES]
HISTORY_COLUMNS = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s",
                   *PERCENTILES, "Total Request Count", "Total Failure Count",
                   "Total Median Response Time", "Total Average Response Time",
                   "Total Min Response Time", "Total Max Response Time",
                   "Total Average Content Size"]
FAILURES_COLUMNS = ["Method", "Name", "Error", "Occurrences"]


def half_up(x):
    """Rounding as netres's CSV (llround), not Python's round-half-to-even."""
    return math.floor(x + 0.5)


def run_load(*args, timeout=60):
    return netres("load", *args, timeout=timeout)


def one_json(r):
    lines = r.stdout.strip().splitlines()
    if len(lines) != 1:
        raise AssertionError("expected one JSON line, got %r (stderr %r)" % (r.stdout, r.stderr))
    return json.loads(lines[0])


def read_csv(path, columns):
    """All rows as dicts; fails unless every row has exactly the header's fields."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f, strict=True))
    if not rows or rows[0] != columns:
        raise AssertionError("%s: header %r, want %r" % (path, rows[:1], columns))
    for row in rows[1:]:
        if len(row) != len(columns):
            raise AssertionError("%s: row of %d fields: %r" % (path, len(row), row))
    return [dict(zip(columns, row)) for row in rows[1:]]


def embedded_json(html):
    m = re.search(r'<script type="application/json" id="netres-results">(.*?)</script>', html,
                  re.S)
    if not m:
        raise AssertionError("no netres-results block in the page")
    return json.loads(m.group(1))


class Reports(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="netres-reports-")
        cls.nginx = nginx_load.NginxLoad().__enter__()
        cls.prefix = os.path.join(cls.tmp, "ok")
        cls.html = os.path.join(cls.tmp, "ok.html")
        started = time.time()
        cls.ok = run_load(cls.nginx.url("/index.html"), "-c", "4", "-t", "2", "-d", "3s", "--json",
                          "--csv", cls.prefix, "--html", cls.html)
        cls.finished = time.time()
        cls.started = started
        cls.missing_prefix = os.path.join(cls.tmp, "missing")
        cls.missing = run_load(cls.nginx.url("/missing"), "-c", "2", "-t", "1", "-d", "1s",
                               "--json", "--csv", cls.missing_prefix)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.ok.returncode, 0, self.ok.stderr)
        self.j = one_json(self.ok)
        self.assertGreater(self.j["totals"]["requests"], 100)

    def test_stats_csv_counts_equal_json(self):
        rows = read_csv(self.prefix + "_stats.csv", STATS_COLUMNS)
        self.assertEqual([r["Name"] for r in rows], ["/index.html", "Aggregated"])
        per_name, aggregated = rows[0], rows[1]
        stats = self.j["stats"][0]
        self.assertEqual(per_name["Type"], "GET")
        self.assertEqual(int(per_name["Request Count"]), stats["requests"])
        self.assertEqual(int(per_name["Failure Count"]), stats["failures"])
        self.assertEqual(aggregated["Type"], "")
        self.assertEqual(int(aggregated["Request Count"]), self.j["totals"]["requests"])
        self.assertEqual(int(aggregated["Failure Count"]), 0)
        for row in rows:
            # Types as locust writes them: ints for counts, median and percentiles.
            for column in ["Median Response Time", *PERCENTILES]:
                self.assertRegex(row[column], r"^\d+$", column)
            for column in ("Average Response Time", "Min Response Time", "Max Response Time",
                           "Average Content Size", "Requests/s", "Failures/s"):
                self.assertRegex(row[column], r"^\d+\.\d+(e[-+]\d+)?$", column)
            self.assertAlmostEqual(float(row["Requests/s"]), self.j["totals"]["rps"], places=6)
            self.assertAlmostEqual(float(row["Max Response Time"]),
                                   self.j["totals"]["latency_ms"]["max"], places=6)
            self.assertEqual(int(row["99%"]), half_up(self.j["totals"]["latency_ms"]["p99"]))
            # Percentiles never decrease along the columns.
            values = [int(row[c]) for c in PERCENTILES]
            self.assertEqual(values, sorted(values))
        body = stats["body_bytes"] / stats["requests"]
        self.assertAlmostEqual(float(per_name["Average Content Size"]), body, places=6)

    def test_history_csv_has_a_row_per_json_second(self):
        rows = read_csv(self.prefix + "_stats_history.csv", HISTORY_COLUMNS)
        history = self.j["history"]
        # One row per second of the 3 s run; what the drain brought in is in the last one.
        self.assertEqual([h["t"] for h in history], [1.0, 2.0, 3.0])
        self.assertEqual(sum(h["requests"] for h in history), self.j["totals"]["requests"])
        self.assertEqual(len(rows), len(history))
        previous_t = 0
        for row, second in zip(rows, history):
            self.assertEqual((row["Type"], row["Name"]), ("", "Aggregated"))
            self.assertEqual(int(row["User Count"]), second["users"])
            self.assertEqual(int(row["Total Request Count"]), second["total"]["requests"])
            self.assertEqual(int(row["Total Failure Count"]), second["total"]["failures"])
            self.assertAlmostEqual(float(row["Requests/s"]),
                                   second["requests"] / (second["t"] - previous_t), places=3)
            if second["window_ms"]["99"] is not None:
                self.assertEqual(int(row["99%"]), half_up(second["window_ms"]["99"]))
            else:  # nothing answered in the window: locust's "N/A"
                self.assertEqual(row["99%"], "N/A")
            timestamp = int(row["Timestamp"])
            self.assertGreaterEqual(timestamp, int(self.started))
            self.assertLessEqual(timestamp, self.finished + 1)
            previous_t = second["t"]
        self.assertEqual(int(rows[-1]["Total Request Count"]), self.j["totals"]["requests"])
        self.assertEqual(read_csv(self.prefix + "_failures.csv", FAILURES_COLUMNS), [])

    def test_failures_csv_equals_json(self):
        self.assertEqual(self.missing.returncode, 1, self.missing.stderr)
        j = one_json(self.missing)
        rows = read_csv(self.missing_prefix + "_failures.csv", FAILURES_COLUMNS)
        self.assertEqual(rows, [{"Method": "GET", "Name": "/missing", "Error": "HTTP 404",
                                 "Occurrences": str(j["totals"]["failures"])}])
        stats = read_csv(self.missing_prefix + "_stats.csv", STATS_COLUMNS)
        self.assertEqual(int(stats[-1]["Failure Count"]), j["totals"]["failures"])
        self.assertEqual(int(stats[-1]["Failure Count"]), int(stats[-1]["Request Count"]))

    def test_html_embeds_the_stdout_json(self):
        with open(self.html, encoding="utf-8") as f:
            page = f.read()
        self.assertEqual(embedded_json(page), self.j)
        self.assertNotRegex(page, r"<(link|img|iframe)\b|\bsrc=|url\(")
        # Only the report and nothing else: written atomically, no temp files left over.
        self.assertEqual(sorted(os.listdir(self.tmp)),
                         ["missing_failures.csv", "missing_stats.csv",
                          "missing_stats_history.csv", "ok.html", "ok_failures.csv",
                          "ok_stats.csv", "ok_stats_history.csv"])

    def test_unwritable_report_is_exit_3_after_the_results(self):
        for flag, path in (("--csv", "/nonexistent-dir/x"), ("--html", "/nonexistent-dir/x.html")):
            r = run_load(self.nginx.url("/index.html"), "-c", "1", "-t", "1", "-d", "1s", "--json",
                         flag, path)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertGreater(one_json(r)["totals"]["requests"], 0)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertRegex(lines[0], r"^netres: load: %s: .*/nonexistent-dir/" % flag)

    @unittest.skipUnless(shutil.which("chromium"), "chromium is not on PATH: the headless "
                         "rendering check of the HTML report needs it")
    def test_html_draws_its_charts_in_a_headless_browser(self):
        home = tempfile.mkdtemp(prefix="netres-chromium-")
        try:
            env = dict(os.environ, HOME=home)
            base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-extensions", "--no-first-run",
                    "--user-data-dir=" + os.path.join(home, "profile")]

            def dump_dom(path):
                r = subprocess.run(base + ["--dump-dom", "file://" + os.path.abspath(path)],
                                   capture_output=True, text=True, timeout=90, env=env)
                self.assertEqual(r.returncode, 0, r.stderr[-2000:])
                return r.stdout

            dom = dump_dom(self.html)
            self.assertRegex(dom, r'<body[^>]*data-rendered="ok"', dom[:2000])
            self.assertRegex(dom, r'<body[^>]*data-charts="3"')
            charts = re.findall(r'<svg class="chart-svg".*?</svg>', dom, re.S)
            self.assertEqual(len(charts), 3)
            for svg in charts:
                self.assertRegex(svg, r"<polyline [^>]*points=\"[\d.]+,[\d.]+ [\d.]+,[\d.]+")
            self.assertIn("Drawn from the embedded results: 3 charts", dom)
            self.assertIn("/index.html", dom)  # the stats table
            # Axis titles; failures on their own (right) axis; a p95 line; locust's percentile
            # table per name; the run's start and end; a run block for quick mode only.
            self.assertEqual(len(re.findall(r'<text class="axis-title"', dom)), 7)
            self.assertIn("failures per second</text>", dom)
            self.assertIn("p95 (that second)", dom)
            self.assertIn("<th class=\"num\">66%</th>", dom)
            self.assertIn("<th class=\"num\">99.9%</th>", dom)
            self.assertIn("Started (UTC)", dom)
            self.assertIn(self.j["started_at"], dom)
            self.assertIn("<dt>Connections</dt>", dom)
            self.assertNotIn("<dt>Users (at most)</dt>", dom)

            # The same page with other data: scenario-mode fields, no history, hostile names.
            with open(self.html, encoding="utf-8") as f:
                page = f.read()
            other = dict(self.j, mode="scenario", scenario="shop.yaml", host="http://127.0.0.1:1",
                         users=5, user_classes=[{"name": "shopper", "weight": 3, "users": 4}],
                         history=[], thresholds=[{"expression": "p99>1ms", "value": 2.5,
                                                  "unit": "ms", "failed": True},
                                                 {"expression": "p50>1ms", "value": None,
                                                  "unit": "ms", "failed": True,
                                                  "reason": "none of the 3 requests got a "
                                                            "response"}],
                         failures=[{"method": "GET", "name": "</script><b id=injected>x</b>",
                                    "reason": "HTTP 500", "count": 3}])
            text = json.dumps(other)
            for c, e in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
                text = text.replace(c, e)
            start = page.index('id="netres-results">') + len('id="netres-results">')
            end = page.index("</script>", start)
            other_path = os.path.join(home, "other.html")
            with open(other_path, "w", encoding="utf-8") as f:
                f.write(page[:start] + text + page[end:])
            dom = dump_dom(other_path)
            self.assertRegex(dom, r'<body[^>]*data-rendered="ok"', dom[:2000])
            self.assertRegex(dom, r'<body[^>]*data-charts="0"')
            self.assertIn("shop.yaml against http://127.0.0.1:1", dom)
            self.assertIn("shopper", dom)
            self.assertIn("FAILED", dom)
            self.assertNotIn('id="injected"', dom)  # names are text, never markup
            self.assertIn("&lt;/script&gt;&lt;b id=injected&gt;", dom)
            self.assertNotIn("<dt>Connections</dt>", dom)  # a scenario has users, not connections
            self.assertIn("<dt>Users (at most)</dt>", dom)
            self.assertIn("no data: none of the 3 requests", dom)

            # A scenario with stages, and a second in which nothing was answered: the planned
            # users are drawn with the stage ends, and the latency lines have a gap there
            # instead of dropping to 0.
            history = [dict(h) for h in self.j["history"]]
            history[1].update(p50_ms=None, p95_ms=None, p99_ms=None, responses=0)
            staged = dict(other, history=history, stages=[
                {"end_s": 1.0, "users": 4, "spawn_rate": 4.0},
                {"end_s": 3.0, "users": 0, "spawn_rate": 0.0}])
            text = json.dumps(staged)
            for c, e in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
                text = text.replace(c, e)
            with open(other_path, "w", encoding="utf-8") as f:
                f.write(page[:start] + text + page[end:])
            dom = dump_dom(other_path)
            self.assertRegex(dom, r'<body[^>]*data-rendered="ok"', dom[:2000])
            self.assertRegex(dom, r'<body[^>]*data-charts="3"')
            self.assertIn("stages (planned users)", dom)
            self.assertEqual(len(re.findall(r'class="stage-mark"', dom)), 2)
            series = re.findall(r'<g class="series"><title>([^<]*)</title>(.*?)</g>', dom, re.S)
            by_label = {label: body.count("<polyline") for label, body in series}
            self.assertEqual(by_label["p50 (that second)"], 2, by_label)  # the gap splits it
            self.assertEqual(by_label["requests/s"], 1, by_label)

            shot = os.environ.get("NETRES_REPORT_SCREENSHOT")
            if shot:  # for people: keep a picture of the page
                subprocess.run(base + ["--screenshot=" + shot, "--window-size=1280,2000",
                                       "file://" + os.path.abspath(self.html)],
                               capture_output=True, timeout=90, env=env, check=True)
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
