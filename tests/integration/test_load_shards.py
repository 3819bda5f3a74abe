#!/usr/bin/env python3
"""netres load --shard K/N --start-at --results and netres merge (docs/distributed.md, "load:
shards and merge") against a real nginx on 127.0.0.1:18551 (tests/fixtures/nginx_scenario.conf):
N shards run at once, started together, and their merge must count what nginx's access log
counts, split users per class and the open model's rate exactly, and refuse files that are not
the shards of one job. Loopback only."""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
import nginx_load  # noqa: E402

PORT = 18551  # docs/development.md: 18550-18599 are this file's

SCENARIO = """host: http://127.0.0.1:%d
users: 10
spawn_rate: 20
run_time: 3s
user_classes:
  - name: shopper
    weight: 3
    wait_time: {constant: 0.1}
    tasks: [GET /a, GET /c]
  - name: idler
    weight: 1
    wait_time: {constant: 0.2}
    tasks: [GET /b]
""" % PORT


def one_line_error(test, r):
    test.assertEqual(r.returncode, 2, r.stdout + r.stderr)
    test.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
    test.assertTrue(r.stderr.startswith("netres: merge: "), r.stderr)


class LoadShards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="netres-load-shards-")
        cls.nginx = nginx_load.NginxLoad(conf="nginx_scenario.conf", port=PORT).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def run_shards(self, target, args, n=3, tag="s", lead=2.0):
        """Runs the N shards of one job at once, started together; returns (results files,
        [(returncode, --json object, stderr)])."""
        start_at = "%.3f" % (time.time() + lead)
        files = [self.path("%s%d.json" % (tag, k)) for k in range(1, n + 1)]
        procs = [subprocess.Popen(
            [harness.NETRES, "load", target, *args, "--shard", "%d/%d" % (k, n), "--start-at",
             start_at, "--results", files[k - 1], "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for k in range(1, n + 1)]
        out = []
        try:
            for p in procs:
                stdout, stderr = p.communicate(timeout=60)
                out.append((p.returncode, json.loads(stdout), stderr))
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        return files, out

    def merge(self, *args):
        return harness.netres("merge", *args, timeout=60)

    def merged_json(self, *files):
        r = self.merge(*files, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        return json.loads(lines[0])

    def log_counts(self):
        return collections.Counter(fields[2] for fields in
                                   (line.split("\t") for line in self.access_text().splitlines()))

    def access_text(self):
        time.sleep(0.3)  # the last lines of the drain
        with open(self.nginx.access_path()) as f:
            return f.read()

    def test_scenario_shards_merge_to_what_nginx_served(self):
        scenario = self.write("shop.yaml", SCENARIO)
        self.nginx.truncate_log()
        files, shards = self.run_shards(scenario, [])
        for rc, j, stderr in shards:
            self.assertEqual(rc, 0, stderr)
        # Started together: one wall-clock start for every shard.
        self.assertEqual(len({j["started_at"] for _, j, _ in shards}), 1)
        # Users of each class: the shards' shares sum to the job's (3:1 of 10 = 8 and 2).
        whole = {"shopper": 8, "idler": 2}
        for name, users in whole.items():
            shares = [next(c["users"] for c in j["user_classes"] if c["name"] == name)
                      for _, j, _ in shards]
            self.assertEqual(sum(shares), users, shares)
            self.assertLessEqual(max(shares) - min(shares), 1, shares)
        self.assertEqual(sum(j["users"] for _, j, _ in shards), 10)
        # Shard 1 has none of idler's 2 users (portions 0, 1, 1) and says so.
        self.assertIn("shard 1/3 runs no users of class idler", shards[0][2])

        merged = self.merged_json(*files)
        counts = self.log_counts()
        self.assertGreater(sum(counts.values()), 50)
        by_name = {s["name"]: s["requests"] for s in merged["stats"]}
        self.assertEqual(by_name, {"/a": counts["/a"], "/c": counts["/c"], "/b": counts["/b"]})
        self.assertEqual(merged["totals"]["requests"], sum(counts.values()))
        self.assertEqual(merged["totals"]["requests"],
                         sum(j["totals"]["requests"] for _, j, _ in shards))
        self.assertEqual(merged["totals"]["failures"], 0)
        # The merge describes the whole job: its users per class, one start, the history of all.
        self.assertEqual({c["name"]: c["users"] for c in merged["user_classes"]}, whole)
        self.assertEqual(merged["users"], 10)
        self.assertEqual(merged["started_at"], shards[0][1]["started_at"])
        self.assertEqual(sum(h["requests"] for h in merged["history"]),
                         merged["totals"]["requests"])
        for k, row in enumerate(merged["history"]):
            self.assertEqual(row["users"], sum(j["history"][k]["users"] for _, j, _ in shards
                                               if k < len(j["history"])))
        self.assertEqual(merged["history"][1]["users"], 10)  # all spawned by then (20/s)
        # Exact histograms: the merged maximum is the largest of the shards'.
        self.assertEqual(merged["totals"]["latency_ms"]["max"],
                         max(j["totals"]["latency_ms"]["max"] for _, j, _ in shards))

        # The tables, CSV and HTML of the merge; --results writes a 1/1 file that merges again
        # to the same object.
        r = self.merge(*files, "--csv", self.path("m"), "--html", self.path("m.html"),
                       "--results", self.path("merged.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Aggregated", r.stdout)
        self.assertRegex(r.stdout, r"GET\s+/a\s+%d\s" % counts["/a"])
        with open(self.path("m_stats.csv")) as f:
            self.assertIn("\n,Aggregated,%d,0," % sum(counts.values()), f.read())
        self.assertTrue(os.path.getsize(self.path("m.html")) > 1000)
        self.assertEqual(self.merged_json(self.path("merged.json")), merged)

    def test_quick_rate_split_three_ways_gives_the_whole_rate(self):
        self.nginx.truncate_log()
        url = "http://127.0.0.1:%d/a" % PORT
        files, shards = self.run_shards(url, ["-c", "6", "--rate", "60/s", "-d", "3s"], tag="q")
        for rc, j, stderr in shards:
            self.assertEqual(rc, 0, stderr)
            self.assertEqual(j["connections"], 2)
            self.assertEqual(j["model"], "open")
        self.assertAlmostEqual(sum(j["rate"] for _, j, _ in shards), 60.0, places=9)
        merged = self.merged_json(*files)
        self.assertEqual(merged["rate"], 60.0)
        self.assertEqual(merged["connections"], 6)
        served = self.log_counts()["/a"]
        self.assertEqual(merged["totals"]["requests"], served)
        # 3 s at 60/s: the schedule's 180 requests (the whole rate, not a third of it), give or
        # take the ones due at the very end.
        self.assertGreaterEqual(served, 170)
        self.assertLessEqual(served, 186)

    def test_one_user_in_four_shards_and_refusals(self):
        one = self.write("one.yaml", SCENARIO.replace("users: 10", "users: 1"))
        other = self.write("other.yaml", SCENARIO.replace("users: 10", "users: 1").replace(
            "GET /b", "GET /health"))
        files = {}
        for name, scenario, k in (("one", one, 1), ("one", one, 2), ("one", one, 3),
                                  ("other", other, 2)):
            files[(name, k)] = self.path("%s%d.json" % (name, k))
            r = harness.netres("load", scenario, "--shard", "%d/4" % k, "--json", "--results",
                               files[(name, k)], timeout=30)
            # Shards 1-3 of one user run nothing, say so, and still write their (empty) share.
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("shard %d/4 runs none of the scenario's 1 users" % k, r.stderr)
            j = json.loads(r.stdout)
            self.assertEqual((j["users"], j["totals"]["requests"]), (0, 0))
            self.assertTrue(os.path.exists(files[(name, k)]))
        # Another scenario's shard.
        r = self.merge(files[("one", 1)], files[("one", 3)], files[("other", 2)])
        one_line_error(self, r)
        self.assertIn("not shards of one job", r.stderr)
        # A shard given twice.
        r = self.merge(files[("one", 1)], files[("one", 2)], files[("one", 2)], files[("one", 3)])
        one_line_error(self, r)
        self.assertIn("given twice", r.stderr)
        # A missing shard (4/4 was never run).
        r = self.merge(files[("one", 1)], files[("one", 2)], files[("one", 3)])
        one_line_error(self, r)
        self.assertIn("shard 4/4 missing", r.stderr)
        # Not a results file at all.
        r = self.merge(one)
        one_line_error(self, r)


if __name__ == "__main__":
    harness.main()
