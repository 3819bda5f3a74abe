#!/usr/bin/env python3
"""netres load against a real nginx (its access log is the oracle for request counts) and a
misbehaving server (tests/fixtures/bad_http_server.py): failures counted by reason, runs end on
time, and the open model's latencies show a stalling server. Loopback only."""
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import netres  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
from terminal import redraws, run_on_terminal  # noqa: E402
import nginx_load  # noqa: E402


def run_load(*args, timeout=60, env=None):
    started = time.monotonic()
    r = netres("load", *args, timeout=timeout, env=env)
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

    def test_table_says_which_status_codes_came_back(self):
        r = run_load(self.nginx.url("/missing"), "-c", "1", "-t", "1", "-d", "1s")
        self.assertEqual(r.returncode, 1)
        header, row = r.stdout.splitlines()[0], r.stdout.splitlines()[1]
        self.assertTrue(header.endswith("Status codes"), header)
        n = int(row.split()[2])
        self.assertGreater(n, 0)
        self.assertTrue(row.endswith("404:%d" % n), row)

    def test_live_line_shows_elapsed_of_total_and_fits_the_terminal(self):
        """Run on a pseudo-terminal 32 columns wide: every redraw of the live line is cut to
        31 columns (no wrapping into a stack of lines) and starts with elapsed/total."""
        rc, out, seen = run_on_terminal([harness.NETRES, "load", self.nginx.url("/index.html"),
                                         "-c", "2", "-t", "1", "-d", "3s", "--json"], columns=32)
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out)["totals"]["failures"], 0)
        text = seen.decode()
        self.assertNotIn("\n", text.replace("\r\n", ""))
        lines = redraws(seen)
        self.assertGreaterEqual(len(lines), 2, repr(text))
        for line in lines:
            self.assertLessEqual(len(line), 31, repr(line))
            self.assertRegex(line, r"^[12]s/3s  \d+ req/s", repr(line))

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

    def test_kept_alive_connection_closed_unanswered(self):
        # /first-only answers a connection's first request only and closes it on the next one
        # without a byte. An idempotent request is then sent again once on a new connection
        # (RFC 9110 9.2.2) and succeeds; a POST is not sent again: it fails.
        tmp = tempfile.mkdtemp(prefix="netres-load-retry-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        for method in ("GET", "POST"):
            path = os.path.join(tmp, method + ".yaml")
            with open(path, "w") as f:
                f.write("users: 2\nspawn_rate: 100\nrun_time: 1s\nwait_time: {constant: 0.05}\n"
                        "tasks:\n  - {method: %s, path: /first-only}\n" % method)
            r, j = load_json(path, "--host", self.server.url(""))
            t = j["totals"]
            self.assertGreater(t["requests"], 10, (method, j))
            if method == "GET":
                self.assertEqual(r.returncode, 0, (method, j))
                self.assertEqual(t["failures"], 0, j)
                # Every request but each user's first met a closed connection and was retried.
                self.assertEqual(t["retried_on_new_connection"], t["requests"] - 2, j)
                self.assertEqual(t["connections_opened"], t["requests"], j)
                self.assertIn("sent again on a new connection",
                              run_load(path, "--host", self.server.url("")).stdout)
            else:
                self.assertEqual(r.returncode, 1, (method, j))
                self.assertEqual(t["retried_on_new_connection"], 0, j)
                self.assertEqual({f["reason"] for f in j["failures"]},
                                 {"connection closed before response"}, j)
                # Each failure closes the connection: the next request opens a new one, is
                # answered, and the one after fails again.
                self.assertLessEqual(abs(t["failures"] - (t["requests"] - t["failures"])), 2, j)

    def test_timeout_after_fast_exchanges_on_one_connection(self):
        # The watchdog stays armed across a keep-alive connection's exchanges (one timer
        # operation per timeout, not per request): a stall after a fast answer on the same
        # connection must still time out at its own deadline, whether that is earlier (300 ms
        # after a 2 s exchange) or later (600 ms after a 300 ms one) than the timer was armed for.
        with tempfile.TemporaryDirectory(prefix="netres-load-") as tmp:
            path = os.path.join(tmp, "stall.yaml")
            with open(path, "w") as f:
                f.write("host: %s\nusers: 2\nrun_time: 3s\nwait_time: {constant: 0.2}\n"
                        "tasks:\n"
                        "  - {requests: [{method: GET, path: /ok, timeout: 2s},\n"
                        "                {method: GET, path: /stall, timeout: 300ms}]}\n"
                        "  - {requests: [{method: GET, path: /ok, timeout: 300ms},\n"
                        "                {method: GET, path: /stall, timeout: 600ms}]}\n"
                        % self.server.url(""))
            r, j = load_json(path, "--seed", "3")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertLess(r.elapsed, 9)
        stats = {s["name"]: s for s in j["stats"]}
        self.assertEqual(stats["/ok"]["failures"], 0)
        self.assertGreaterEqual(stats["/stall"]["failures"], 4)
        self.assertEqual(stats["/stall"]["failures"], stats["/stall"]["requests"])
        self.assertEqual({f["reason"] for f in j["failures"]}, {"timeout"})
        self.assertEqual(j["totals"]["cancelled_at_deadline"], 0)

    def test_connection_refused(self):
        port = nginx_load.free_port()
        r, j = load_json("http://127.0.0.1:%d/" % port, "-c", "2", "-t", "1", "-d", "1s")
        self.assertEqual(r.returncode, 1)
        self.assertEqual([f["reason"] for f in j["failures"]], ["connection refused"])
        self.assertEqual(j["totals"]["failures"], j["totals"]["requests"])

    def test_latency_threshold_fails_when_nothing_was_answered(self):
        """A CI gate must not pass a dead service: refused connections and responses that
        stall past the timeout leave no latency to compare, and the threshold fails saying so."""
        refused = "http://127.0.0.1:%d/" % nginx_load.free_port()
        for url, extra in ((refused, []), (self.server.url("/stall"), ["--timeout", "300ms"])):
            r, j = load_json(url, "-c", "2", "-t", "1", "-d", "1s", "--fail-if", "p99>200ms",
                             "--fail-if", "avg<10s", "--fail-if", "rps<1000000", *extra)
            self.assertEqual(r.returncode, 1, url)
            self.assertGreater(j["totals"]["requests"], 0, url)
            p99, avg, rps = j["thresholds"]
            for t in (p99, avg):
                self.assertTrue(t["failed"], t)
                self.assertIsNone(t["value"], t)
                self.assertEqual(t["unit"], "ms")
                self.assertIn("got a response", t["reason"])
            self.assertTrue(rps["failed"])
            self.assertEqual(rps["unit"], "req/s")
            self.assertGreater(rps["value"], 0)
            self.assertIsNone(j["totals"]["latency_ms"]["p99"])
            # The table: dashes for latencies never measured, and the verdicts say why.
            r = run_load(url, "-c", "1", "-t", "1", "-d", "1s", "--fail-if", "p99>200ms",
                         "--fail-if", "rps<1000000", *extra)
            self.assertEqual(r.returncode, 1)
            row = [x for x in r.stdout.splitlines() if "Aggregated" in x][0].split()
            self.assertEqual(row[3:11], ["-"] * 8, row)
            self.assertRegex(r.stdout, r"FAILED  p99>200ms  \(no data: none of the \d+ requests "
                                       r"got a response")
            self.assertRegex(r.stdout, r"FAILED  rps<1000000  \(rps is [\d.]+ req/s\)")
        # With responses: the value and its unit.
        r = run_load(self.server.url("/ok"), "-c", "1", "-t", "1", "-d", "1s", "--fail-if",
                     "p99>10s")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stdout, r"ok      p99>10s  \(p99 is [\d.]+ ms over \d+ responses\)")

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


def make_certificates(directory):
    """Three certificates made with the openssl command: self-signed for localhost, one for
    another name, and one for localhost that expired in 2020. Returns {kind: (cert, key)}."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)
    key_args = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *key_args, "-keyout", "self.key", "-out", "self.pem", "-days", "2",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost")
    run("req", "-x509", *key_args, "-keyout", "wrong.key", "-out", "wrong.pem", "-days", "2",
        "-subj", "/CN=wrong.example", "-addext", "subjectAltName=DNS:wrong.example")
    # openssl req cannot date a certificate in the past; openssl ca can.
    os.mkdir(os.path.join(directory, "db"))
    open(os.path.join(directory, "db", "index.txt"), "w").close()
    with open(os.path.join(directory, "db", "serial"), "w") as f:
        f.write("01\n")
    with open(os.path.join(directory, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = db/index.txt\nnew_certs_dir = db\n"
                "serial = db/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n"
                "unique_subject = no\n[p]\ncommonName = supplied\n")
    run("req", "-new", *key_args, "-keyout", "expired.key", "-out", "expired.csr", "-subj",
        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost")
    run("ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "expired.key", "-in",
        "expired.csr", "-out", "expired.pem", "-notext", "-startdate", "20200101000000Z",
        "-enddate", "20200102000000Z")
    return {k: (os.path.join(directory, k + ".pem"), os.path.join(directory, k + ".key"))
            for k in ("self", "wrong", "expired")}


def wait_for_port(port, proc, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError("server on port %d exited" % port)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on 127.0.0.1:%d" % port)


# This file's own loopback ports (the verb's range 18400-18499).
TLS_PORT = 18410
H2_PORT = 18411


def kill_listener(port):
    """A server left behind by an interrupted run of this file would hold the port."""
    r = subprocess.run(["ss", "-Hltnp", "sport = :%d" % port], capture_output=True, text=True)
    for pid in set(re.findall(r"pid=(\d+)", r.stdout)):
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass


class TlsFailureReasons(unittest.TestCase):
    """openssl s_server (bound to 127.0.0.1) with each bad certificate: the failure says which
    check failed and how to get past it."""

    @classmethod
    def setUpClass(cls):
        kill_listener(TLS_PORT)
        cls.tmp = tempfile.mkdtemp(prefix="netres-tls-")
        cls.certs = make_certificates(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def reason(self, kind, host, trust):
        cert, key = self.certs[kind]
        server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % TLS_PORT,
                                   "-cert", cert, "-key", key, "-www", "-quiet"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_for_port(TLS_PORT, server)
            env = dict(os.environ, SSL_CERT_FILE=cert) if trust else None
            r, j = load_json("https://%s:%d/" % (host, TLS_PORT), "-c", "1", "-t", "1", "-d",
                             "1s", env=env)
        finally:
            server.terminate()
            server.wait(timeout=10)
        self.assertEqual(r.returncode, 1, j)
        reasons = [f["reason"] for f in j["failures"]]
        self.assertEqual(len(reasons), 1, reasons)
        self.assertEqual(j["failures"][0]["count"], j["totals"]["requests"])
        return reasons[0]

    def test_self_signed(self):
        reason = self.reason("self", "localhost", trust=False)
        self.assertIn("certificate verify failed: self-signed certificate", reason)
        self.assertIn("--insecure", reason)
        self.assertIn("SSL_CERT_FILE", reason)

    def test_name_mismatch(self):
        reason = self.reason("wrong", "localhost", trust=True)
        self.assertIn("name mismatch, the certificate is not for localhost", reason)
        self.assertIn("--insecure", reason)

    def test_expired(self):
        reason = self.reason("expired", "localhost", trust=True)
        self.assertIn("certificate expired", reason)
        self.assertIn("--insecure", reason)


class Http2OnlyServer(unittest.TestCase):
    """A server that speaks only HTTP/2 answers an HTTP/1.1 request with its SETTINGS frame and
    a GOAWAY, as nghttpd --no-tls does: the failure names HTTP/2, not a "bad status line"."""

    def setUp(self):
        kill_listener(H2_PORT)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", H2_PORT))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def tearDown(self):
        self.stop.set()
        self.thread.join(timeout=10)
        self.listener.close()

    def serve(self):
        settings = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # empty SETTINGS, stream 0
        goaway = bytes([0, 0, 8, 7, 0, 0, 0, 0, 0]) + bytes(4) + (1).to_bytes(4, "big")
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(4096)
                    conn.sendall(settings + goaway)
                except OSError:
                    pass

    def test_named_as_http2(self):
        r, j = load_json("http://127.0.0.1:%d/" % H2_PORT, "-c", "1", "-t", "1", "-d", "1s")
        self.assertEqual(r.returncode, 1)
        reasons = [f["reason"] for f in j["failures"]]
        self.assertEqual(len(reasons), 1, reasons)
        self.assertIn("answered with HTTP/2 frames", reasons[0])


if __name__ == "__main__":
    harness.main()
