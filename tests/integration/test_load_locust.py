#!/usr/bin/env python3
"""netres load as a locust worker (docs/load.md, "Locust worker"; docs/distributed.md) against
Debian's real locust master (python3-locust 2.12.1) and a real nginx on loopback
(tests/fixtures/nginx_scenario.conf, whose access log is the oracle).

Two master starts: a headless one (`--expect-workers 2 -u 20 -r 100 -t 6s --csv`) for the
counts (the master's CSV == the sum of the workers' == nginx's log) and the class split; and one
driven through its web API on 127.0.0.1 for ramp up, ramp down, stop and restart, a worker killed
mid-run (reported missing while the other goes on) and the master going away (the worker exits
within a bound). Ports: 18500-18549 on 127.0.0.1 (docs/development.md)."""
import collections
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
import nginx_load  # noqa: E402

PYTHON = "/usr/bin/python3"  # Debian's python3-locust, whatever python3 is first on PATH
HEADLESS_PORT = 18500
WEB_MASTER_PORT = 18501
WEB_UI_PORT = 18502
RESTART_MASTER_PORT = 18503
RESTART_UI_PORT = 18504
SCRIPTED_MASTER_PORT = 18505

SCENARIO = """host: http://127.0.0.1:%d
user_classes:
  - name: alpha
    weight: 3
    wait_time: {between: [0.05, 0.15]}
    on_start:
      - method: GET
        path: /token
        extract: {token: {json: access_token}}
    tasks:
      - method: GET
        path: /a
        headers: {Authorization: "${token}"}
  - name: beta
    weight: 1
    wait_time: {constant: 0.1}
    on_start:
      - method: GET
        path: /token
        extract: {token: {json: access_token}}
    tasks:
      - method: GET
        path: /b
        headers: {Authorization: "${token}"}
"""


def kill_leftovers():
    """An interrupted earlier run may have left a master or workers on our ports."""
    out = subprocess.run(["pgrep", "-f", "-a", "locust -f .*--master-bind-port 185"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        pid = int(line.split()[0])
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class LocustWorker(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        kill_leftovers()
        cls.tmp = tempfile.mkdtemp(prefix="netres-locust-")
        cls.nginx = nginx_load.NginxLoad(conf="nginx_scenario.conf").__enter__()
        cls.scenario = os.path.join(cls.tmp, "shop.yaml")
        with open(cls.scenario, "w") as f:
            f.write(SCENARIO % cls.nginx.port)
        cls.master_py = os.path.join(cls.tmp, "master.py")
        r = harness.netres("load", cls.scenario, "--emit-locustfile", cls.master_py)
        assert r.returncode == 0, r.stderr
        cls.procs = []

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        cls.nginx.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- plumbing -------------------------------------------------------------------------

    def start(self, cmd, name):
        out = open(os.path.join(self.tmp, name + ".out"), "w")
        err = open(os.path.join(self.tmp, name + ".err"), "w")
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=self.tmp)
        out.close()
        err.close()
        self.procs.append(p)
        return p

    def read(self, name):
        with open(os.path.join(self.tmp, name)) as f:
            return f.read()

    def worker(self, port, name, *extra):
        return self.start([harness.NETRES, "load", self.scenario, "--locust-master",
                           "127.0.0.1:%d" % port, "--json", "-t", "1", *extra], name)

    def log(self):
        lines = []
        with open(self.nginx.access_path()) as f:
            for text in f:
                t, method, uri, status, rid, auth = text.rstrip("\n").split("\t")[:6]
                lines.append((float(t), method, uri, int(status), auth))
        return lines

    def active_tokens(self, seconds=1.0):
        """{path: set of Authorization tokens} of the requests in the last `seconds`."""
        now = time.time()
        out = collections.defaultdict(set)
        for t, method, uri, status, auth in self.log():
            if now - t <= seconds and uri in ("/a", "/b"):
                out[uri].add(auth)
        return out

    def wait_for(self, what, check, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.2)
        self.fail("timed out waiting for " + what)

    def web(self, path, form=None, port=WEB_UI_PORT):
        url = "http://127.0.0.1:%d%s" % (port, path)
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        with urllib.request.urlopen(url, data=data, timeout=5) as r:
            return json.loads(r.read().decode() or "null")

    def worker_states(self, port=WEB_UI_PORT):
        return sorted(w["state"] for w in (self.stats(port) or {}).get("workers", []))

    def stats(self, port=WEB_UI_PORT):
        try:
            return self.web("/stats/requests", port=port)
        except OSError:
            return None

    # --- tests ----------------------------------------------------------------------------

    def test_1_headless_master_counts_and_classes(self):
        self.nginx.truncate_log()
        pct = os.path.join(self.tmp, "pct.json")
        master = self.start([PYTHON, "-m", "locust", "-f", self.master_py, "--master",
                             "--master-bind-host", "127.0.0.1", "--master-bind-port",
                             str(HEADLESS_PORT), "--headless", "--expect-workers", "2",
                             "-u", "20", "-r", "100", "-t", "6s", "--csv", "out",
                             "--netres-percentiles", pct], "master1")
        results = os.path.join(self.tmp, "w1.results.json")
        w1 = self.worker(HEADLESS_PORT, "w1", "--results", results)
        w2 = self.worker(HEADLESS_PORT, "w2")
        self.assertEqual(master.wait(timeout=40), 0, self.read("master1.err"))
        # The master said quit: both workers end on their own, promptly.
        self.assertEqual(w1.wait(timeout=10), 0, self.read("w1.err"))
        self.assertEqual(w2.wait(timeout=10), 0, self.read("w2.err"))

        runs = [json.loads(line) for name in ("w1.out", "w2.out")
                for line in self.read(name).splitlines()]
        self.assertEqual(len(runs), 2)
        by_name = collections.Counter()
        for r in runs:
            for s in r["stats"]:
                by_name[s["name"]] += s["requests"]
        with open(os.path.join(self.tmp, "out_stats.csv")) as f:
            rows = {row["Name"]: row for row in csv.DictReader(f)}
        logged = collections.Counter(uri for _, _, uri, _, _ in self.log())
        self.assertGreater(logged["/a"], 100)
        for name in ("/token", "/a", "/b"):
            self.assertEqual(int(rows[name]["Request Count"]), by_name[name], name)
            self.assertEqual(logged[name], by_name[name], name)
        self.assertEqual(int(rows["Aggregated"]["Request Count"]), sum(by_name.values()))
        self.assertEqual(int(rows["Aggregated"]["Failure Count"]), 0)
        # Users per class follow the weights 3:1, as the master saw them from the workers.
        self.assertIn('All users spawned: {"alpha": 15, "beta": 5} (20 total users)',
                      self.read("master1.err"))
        peak = collections.Counter()
        for r in runs:
            peak.update(r["user_classes"])
        self.assertEqual(dict(peak), {"alpha": 15, "beta": 5})
        # 20 users, each its own login token.
        tokens = {auth for _, _, uri, _, auth in self.log() if uri in ("/a", "/b")}
        self.assertEqual(len(tokens), 20)
        # The worker's results file holds its run's exact counts and histograms.
        with open(results) as f:
            doc = json.load(f)
        self.assertEqual(doc["verb"], "load")
        self.assertEqual(doc["job"]["mode"], "locust-worker")
        w1_run = json.loads(self.read("w1.out"))
        self.assertEqual(sum(s["requests"] for s in doc["data"]["stats"]),
                         w1_run["totals"]["requests"])
        self.assertEqual(sum(s["latency"]["count"] for s in doc["data"]["stats"]),
                         w1_run["totals"]["responses"])
        # The exact percentiles merged from both workers' histograms cover every request.
        with open(pct) as f:
            merged = json.load(f)
        self.assertEqual(merged["workers"], 2)
        self.assertEqual(merged["total"]["count"], sum(by_name.values()))
        exact = {r["name"]: r for r in merged["requests"]}
        self.assertEqual(exact["/a"]["count"], by_name["/a"])
        self.assertLessEqual(exact["/a"]["p50"], exact["/a"]["p99"])

    def test_2_web_master_ramp_stop_restart_missing_and_gone(self):
        self.nginx.truncate_log()
        master = self.start([PYTHON, "-m", "locust", "-f", self.master_py, "--master",
                             "--master-bind-host", "127.0.0.1", "--master-bind-port",
                             str(WEB_MASTER_PORT), "--web-host", "127.0.0.1", "--web-port",
                             str(WEB_UI_PORT)], "master2")
        w1 = self.worker(WEB_MASTER_PORT, "w3", "--locust-timeout", "3s")
        w2 = self.worker(WEB_MASTER_PORT, "w4", "--locust-timeout", "3s")
        self.wait_for("two workers", lambda: len(self.worker_states()) == 2)

        def users(n):
            return lambda: (self.stats() or {}).get("user_count") == n

        # Start 8 users (6 alpha, 2 beta), then ramp up to 16: the first 8 keep running.
        self.web("/swarm", {"user_count": 8, "spawn_rate": 100})
        self.wait_for("8 users", users(8))
        time.sleep(1.5)
        first = self.active_tokens()
        self.assertEqual((len(first["/a"]), len(first["/b"])), (6, 2))
        self.web("/swarm", {"user_count": 16, "spawn_rate": 100})
        self.wait_for("16 users", users(16))
        time.sleep(1.5)
        up = self.active_tokens()
        self.assertEqual((len(up["/a"]), len(up["/b"])), (12, 4))
        self.assertLessEqual(first["/a"] | first["/b"], up["/a"] | up["/b"])
        # Ramp down to 4 (3 alpha, 1 beta): the rest of the running users carry on.
        self.web("/swarm", {"user_count": 4, "spawn_rate": 100})
        self.wait_for("4 users", users(4))
        time.sleep(1.5)
        down = self.active_tokens()
        self.assertEqual((len(down["/a"]), len(down["/b"])), (3, 1))
        self.assertLessEqual(down["/a"] | down["/b"], up["/a"] | up["/b"])

        # Stop: no request after the workers said stopped; both workers are ready again.
        self.web("/stop")
        self.wait_for("stopped", lambda: (self.stats() or {}).get("state") == "stopped")
        self.wait_for("workers ready", lambda: self.worker_states() == ["ready", "ready"])
        time.sleep(0.5)
        count = len(self.log())
        time.sleep(1.5)
        self.assertEqual(len(self.log()), count, "requests after stop")

        # Restart: new users (new tokens) run, and the master counts them (locust4j #28: a
        # worker's stats stopped after a stop and a start).
        def master_total():
            rows = (self.stats() or {}).get("stats", [])
            return sum(r["num_requests"] for r in rows if r["name"] == "Aggregated")
        before_restart = master_total()
        self.web("/swarm", {"user_count": 4, "spawn_rate": 100})
        self.wait_for("4 users again", users(4))
        time.sleep(1.5)
        again = self.active_tokens()
        self.assertEqual(len(again["/a"] | again["/b"]), 4)
        self.assertFalse((again["/a"] | again["/b"]) & (up["/a"] | up["/b"]))
        self.wait_for("the master counting the restarted run",
                      lambda: master_total() > before_restart + 10)

        # A worker killed mid-run is reported missing; the other keeps sending.
        w1.kill()
        w1.wait(timeout=10)
        self.wait_for("a missing worker",
                      lambda: self.worker_states() == ["missing", "running"], timeout=15)
        before = len(self.log())
        time.sleep(1.5)
        self.assertGreater(len(self.log()), before + 5)

        # The master goes away: the remaining worker stops its users and exits within its
        # --locust-timeout (3 s) plus a margin, saying why (exit 1).
        master.send_signal(signal.SIGKILL)
        master.wait(timeout=10)
        gone = time.monotonic()
        rc = w2.wait(timeout=20)
        self.assertLess(time.monotonic() - gone, 15)
        self.assertEqual(rc, 1, self.read("w4.err"))
        self.assertIn("master lost", self.read("w4.err"))
        time.sleep(0.5)
        count = len(self.log())
        time.sleep(1)
        self.assertEqual(len(self.log()), count, "requests after the worker left")

    def test_3_master_restarted_within_the_timeout(self):
        """A master that comes back on the same address gets the worker back (client_ready
        again), runs users through it, and its quit ends the worker with 0."""
        self.nginx.truncate_log()

        def master():
            return self.start([PYTHON, "-m", "locust", "-f", self.master_py, "--master",
                               "--master-bind-host", "127.0.0.1", "--master-bind-port",
                               str(RESTART_MASTER_PORT), "--web-host", "127.0.0.1",
                               "--web-port", str(RESTART_UI_PORT)], "master3")

        def one_worker():
            return self.worker_states(RESTART_UI_PORT) == ["ready"]

        first = master()
        w = self.worker(RESTART_MASTER_PORT, "w5", "--locust-timeout", "30s")
        self.wait_for("the worker", one_worker)
        first.kill()
        first.wait(timeout=10)
        second = master()
        self.wait_for("the worker again", one_worker, timeout=30)
        self.web("/swarm", {"user_count": 2, "spawn_rate": 100}, port=RESTART_UI_PORT)
        self.wait_for("requests", lambda: len(self.log()) > 10)
        second.send_signal(signal.SIGTERM)  # the master quits and tells its workers
        second.wait(timeout=20)
        self.assertEqual(w.wait(timeout=15), 0, self.read("w5.err"))
        self.assertIn("connection to the master is back", self.read("w5.err"))

    def test_4_scripted_master_edge_cases(self):
        """What Debian's master never sends on demand, from a ROUTER socket speaking locust's
        protocol (python3-zmq, python3-msgpack): a stale spawn, an unknown message type, bytes
        that are not a message, a class the scenario lacks, and master heartbeats that stop."""
        import msgpack
        import zmq
        ctx = zmq.Context()
        router = ctx.socket(zmq.ROUTER)
        router.setsockopt(zmq.LINGER, 0)
        router.bind("tcp://127.0.0.1:%d" % SCRIPTED_MASTER_PORT)
        w = None
        try:
            w = self.worker(SCRIPTED_MASTER_PORT, "w6", "--locust-timeout", "2s")
            got = []

            def recv(want, timeout=10):
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    if router.poll(200):
                        ident, frame = router.recv_multipart()
                        msg = msgpack.loads(frame, raw=False, strict_map_key=False)
                        got.append(msg)
                        if msg[0] == want:
                            return ident, msg
                self.fail("no %s from the worker; got %s" % (want, [m[0] for m in got]))

            def send(ident, kind, data=None):
                router.send_multipart([ident, msgpack.dumps((kind, data, ident.decode()))])

            ident, ready = recv("client_ready")
            self.assertEqual(ready[1], -1)
            self.assertEqual(ready[2], ident.decode())
            send(ident, "ack", {"index": 0})
            spawn = {"timestamp": 100.0, "user_classes_count": {"alpha": 2, "beta": 0, "nosuch": 1},
                     "host": "http://elsewhere:1", "stop_timeout": None, "parsed_options": {}}
            send(ident, "spawn", spawn)
            _, done = recv("spawning_complete")
            self.assertEqual(done[1], {"user_classes_count": {"alpha": 2, "beta": 0},
                                       "user_count": 2})
            # Stale: an older timestamp is answered with spawning, and nothing else changes.
            send(ident, "spawn", dict(spawn, timestamp=50.0,
                                      user_classes_count={"alpha": 5, "beta": 5}))
            recv("spawning")
            for _ in range(2):
                send(ident, "no_such_type", {"x": 1})
                router.send_multipart([ident, b"\xc1 not msgpack"])
            _, stats = recv("stats", timeout=10)
            self.assertEqual(stats[1]["user_count"], 2)
            self.assertEqual(stats[1]["user_classes_count"], {"alpha": 2, "beta": 0})
            self.assertTrue(stats[1]["stats"], "a report with requests")
            self.assertFalse(any(m[0] == "spawning_complete" for m in got[got.index(done) + 1:]))
            _, hb = recv("heartbeat")
            self.assertEqual(hb[1]["state"], "running")
            self.assertIn("current_memory_usage", hb[1])
            # Master heartbeats (locust >= 2.15), then none: the worker leaves after 2 s.
            for _ in range(3):
                send(ident, "heartbeat")
                time.sleep(0.5)
            t0 = time.monotonic()
            self.assertEqual(w.wait(timeout=15), 1)
            self.assertLess(time.monotonic() - t0, 10)
            err = self.read("w6.err")
            self.assertIn("no heartbeat from the master", err)
            self.assertEqual(err.count("ignoring messages of type 'no_such_type'"), 1, err)
            self.assertEqual(err.count("not locust's"), 1, err)
            self.assertEqual(err.count("class 'nosuch'"), 1, err)
            self.assertIn("ignoring a spawn message older than the last one", err)
            self.assertIn("the master's host http://elsewhere:1 is not used", err)
        finally:
            if w and w.poll() is None:
                w.kill()
            router.close()
            ctx.term()

    def test_5_bad_usage_and_no_master(self):
        r = harness.netres("load", "http://127.0.0.1:1/", "--locust-master", "127.0.0.1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs a scenario file", r.stderr)
        r = harness.netres("load", self.scenario, "--locust-master", "127.0.0.1", "--users", "3")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--users is the master's to decide", r.stderr)
        r = harness.netres("load", self.scenario, "--locust-master", "127.0.0.1:0")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.splitlines()), 1)
        # Nothing listens on 18549: no answer within --locust-timeout, a runtime error.
        t0 = time.monotonic()
        r = harness.netres("load", self.scenario, "--locust-master", "127.0.0.1:18549",
                           "--locust-timeout", "1s", timeout=30)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("no answer from the locust master at 127.0.0.1:18549", r.stderr)
        self.assertLess(time.monotonic() - t0, 10)


if __name__ == "__main__":
    harness.main()
