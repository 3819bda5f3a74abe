#!/usr/bin/env python3
"""netres load against a real nginx (its access log is the oracle for request counts) and a
misbehaving server (tests/fixtures/bad_http_server.py): failures counted by reason, runs end on
time, and the open model's latencies show a stalling server. Loopback only."""
import collections
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
import nginx_load  # noqa: E402


def run_load(*args, timeout=60, env=None):
    started = time.monotonic()
    r = subprocess.run([harness.NETRES, "load", *args], capture_output=True, text=True,
                       timeout=timeout, env=env)
    r.elapsed = time.monotonic() - started
    return r


def load_json(*args, env=None):
    r = run_load(*args, "--json", env=env)
    lines = r.stdout.strip().splitlines()
    if len(lines) != 1:
        raise AssertionError("expected one JSON line, got: %r (stderr %r)" % (r.stdout, r.stderr))
    return r, json.loads(lines[0])


class BadServer:
    def __init__(self, lifetime=120):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(harness.FIXTURES, "bad_http_server.py"),
             "--lifetime", str(lifetime)], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


class AgainstNginx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nginx = nginx_load.NginxLoad().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.__exit__(None, None, None)

    def test_counts_match_access_log(self):
        self.nginx.truncate_log()  # other tests share this nginx
        reported = collections.Counter()
        runs = [("/index.html", ["-c", "8", "-t", "2", "-d", "2s"]),
                ("/index.html?pipelined=1", ["-c", "4", "-t", "2", "-d", "1s", "--pipeline", "8"]),
                ("/missing", ["-c", "4", "-t", "1", "-d", "1s"]),
                ("/broken", ["-c", "2", "-t", "2", "-d", "1s", "--rate", "300/s"]),
                ("/chunked", ["-c", "3", "-t", "1", "-d", "1s", "-m", "POST", "--body", "x=1",
                                  "-H", "Accept-Encoding: gzip"])]
        for target, flags in runs:
            r, j = load_json(self.nginx.url(target), *flags)
            self.assertEqual(j["totals"]["cancelled_at_deadline"], 0, target)
            self.assertGreater(j["totals"]["requests"], 50, target)
            for s in j["stats"]:
                for code, n in s["status_codes"].items():
                    reported[(s["method"], target, code)] += n
            failures = sum(f["count"] for f in j["failures"])
            self.assertEqual(failures, j["totals"]["failures"])
            bad = target in ("/missing", "/broken")
            self.assertEqual(r.returncode, 1 if bad else 0, r.stderr)
            self.assertEqual(j["totals"]["failures"], j["totals"]["requests"] if bad else 0)
        # nginx writes the log line when it has sent the response; give the last ones a moment.
        logged = collections.Counter()
        for _ in range(50):
            logged = collections.Counter((m, uri, status)
                                         for status, m, uri in self.nginx.access_lines())
            if logged == reported:
                break
            time.sleep(0.1)
        self.assertEqual(logged, reported)

    def test_tls(self):
        trusted = dict(os.environ, SSL_CERT_FILE=self.nginx.cert_path())
        # Verified: the name matches the certificate and the certificate is trusted.
        r, j = load_json(self.nginx.tls_url("/index.html", "localhost"), "-c", "2", "-t", "1",
                         "-d", "1s", env=trusted)
        self.assertEqual(r.returncode, 0, j["failures"])
        self.assertGreater(j["stats"][0]["status_codes"]["200"], 10)
        # Trusted certificate, but not issued for 127.0.0.1: refused.
        r, j = load_json(self.nginx.tls_url("/index.html"), "-c", "1", "-t", "1", "-d", "1s",
                         env=trusted)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(j["totals"]["failures"], j["totals"]["requests"])
        self.assertIn("certificate verify failed", j["failures"][0]["reason"])
        # Untrusted certificate: refused, unless --insecure.
        r, j = load_json(self.nginx.tls_url("/index.html", "localhost"), "-c", "1", "-t", "1",
                         "-d", "1s")
        self.assertEqual(r.returncode, 1)
        self.assertIn("certificate verify failed", j["failures"][0]["reason"])
        r, j = load_json(self.nginx.tls_url("/index.html"), "-c", "2", "-t", "1", "-d", "1s",
                         "--insecure")
        self.assertEqual(r.returncode, 0, j["failures"])
        self.assertEqual(j["totals"]["failures"], 0)

    def test_table_in_locust_shape(self):
        r = run_load(self.nginx.url("/index.html"), "-c", "2", "-t", "1", "-d", "1s")
        self.assertEqual(r.returncode, 0, r.stderr)
        header = r.stdout.splitlines()[0].split()
        self.assertEqual(header[:2], ["Type", "Name"])
        for column in ("reqs", "fails", "Avg", "Min", "Max", "Median", "p90", "p95", "p99",
                       "p99.9", "req/s", "failures/s"):
            self.assertIn(column, header)
        self.assertIn("Aggregated", r.stdout)
        self.assertEqual(r.stderr, "")  # no progress line when stderr is not a terminal

    def test_thresholds_decide_exit_code(self):
        r, j = load_json(self.nginx.url("/index.html"), "-c", "2", "-t", "1", "-d", "1s",
                         "--fail-if", "p99>10s", "--fail-if", "fail_ratio>0.5")
        self.assertEqual(r.returncode, 0)
        self.assertEqual([t["failed"] for t in j["thresholds"]], [False, False])
        r, j = load_json(self.nginx.url("/index.html"), "-c", "2", "-t", "1", "-d", "1s",
                         "--fail-if", "rps<1000000000")
        self.assertEqual(r.returncode, 1)
        self.assertTrue(j["thresholds"][0]["failed"])
        self.assertEqual(len(j["history"]) >= 1, True)

    def test_ctrl_c_ends_early_with_a_report(self):
        self.nginx.truncate_log()
        started = time.monotonic()
        proc = subprocess.Popen([harness.NETRES, "load", self.nginx.url("/index.html"), "-c", "4",
                                 "-t", "2", "-d", "30s", "--json"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("interrupted", err)
        j = json.loads(out)
        self.assertLess(j["elapsed_s"], 5)
        ok = j["stats"][0]["status_codes"]["200"]
        for _ in range(50):
            if len(self.nginx.access_lines()) == ok:
                break
            time.sleep(0.1)
        self.assertEqual(len(self.nginx.access_lines()), ok)

    def test_usage_errors(self):
        for args in (["ftp://127.0.0.1/"], ["http://127.0.0.1:0/"],
                     [self.nginx.url("/"), "--fail-if", "p99>fast"],
                     [self.nginx.url("/"), "-d", "soon"],
                     [self.nginx.url("/"), "-H", "no colon"],
                     [self.nginx.url("/"), "--rate", "10/s", "--pipeline", "2"]):
            r = run_load(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertTrue(r.stderr.startswith("netres: load: "), r.stderr)


class AgainstBadServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = BadServer()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_failures_counted_by_reason(self):
        expected = {"/reset": "connection reset",
                    "/close": "connection closed before response",
                    "/stall": "timeout",
                    "/midbody": "connection closed mid-body",
                    "/garbage": "malformed response: bad status line"}
        for path, reason in expected.items():
            r, j = load_json(self.server.url(path), "-c", "2", "-t", "2", "-d", "1s",
                             "--timeout", "400ms")
            self.assertEqual(r.returncode, 1, path)
            self.assertLess(r.elapsed, 6, path)
            self.assertGreater(j["totals"]["failures"], 0, path)
            self.assertEqual(j["totals"]["failures"], j["totals"]["requests"], path)
            reasons = {f["reason"]: f["count"] for f in j["failures"]}
            self.assertEqual(list(reasons), [reason], path)
            self.assertEqual(reasons[reason], j["totals"]["failures"], path)

    def test_connection_refused(self):
        port = nginx_load.free_port()
        r, j = load_json("http://127.0.0.1:%d/" % port, "-c", "2", "-t", "1", "-d", "1s")
        self.assertEqual(r.returncode, 1)
        self.assertEqual([f["reason"] for f in j["failures"]], ["connection refused"])
        self.assertEqual(j["totals"]["failures"], j["totals"]["requests"])

    def test_in_flight_at_deadline_is_cancelled_not_dropped(self):
        # A 5 s timeout outlives the 2 s drain: both stalled requests are reported cancelled.
        r, j = load_json(self.server.url("/stall"), "-c", "2", "-t", "1", "-d", "1s")
        self.assertLess(r.elapsed, 8)
        self.assertEqual(j["totals"]["cancelled_at_deadline"], 2)
        self.assertEqual(j["totals"]["requests"], 0)
        r = run_load(self.server.url("/stall"), "-c", "2", "-t", "1", "-d", "1s")
        self.assertIn("cancelled at deadline", r.stdout)

    def test_server_dying_mid_run(self):
        server = BadServer()
        try:
            proc = subprocess.Popen([harness.NETRES, "load", server.url("/ok"), "-c", "4", "-t",
                                     "2", "-d", "3s", "--json"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            time.sleep(1.2)
            server.stop()
            out, err = proc.communicate(timeout=30)
        finally:
            server.stop()
        self.assertEqual(proc.returncode, 1, err)
        j = json.loads(out)
        ok = j["stats"][0]["status_codes"].get("200", 0)
        self.assertGreater(ok, 10)
        reasons = {f["reason"] for f in j["failures"]}
        self.assertIn("connection refused", reasons)
        self.assertEqual(j["totals"]["requests"], ok + j["totals"]["failures"])

    def test_open_model_shows_stalls(self):
        # The server stalls 1 s in every 3 s. Measured from when each request was due, about a
        # third of the requests waited behind a stall; measured from the send, very few did.
        r, j = load_json(self.server.url("/periodic"), "-c", "4", "-t", "2", "-d", "6s",
                         "--rate", "100/s")
        self.assertEqual(r.returncode, 0, r.stderr)
        latency = j["totals"]["latency_ms"]
        service = j["totals"]["service_time_ms"]
        self.assertGreaterEqual(latency["p99"], 500)
        self.assertGreaterEqual(latency["p90"], 300)
        self.assertLess(service["p90"], 100)
        self.assertGreater(j["totals"]["requests"], 400)
        self.assertLessEqual(j["totals"]["requests"], 601)


if __name__ == "__main__":
    harness.main()
