"""netres monitor's http check over HTTP/2: Debian's nginx with `listen ... ssl http2` and a
test certificate answers by ALPN h2 (probe_http_version 2, status, body regex, redirects, the
certificate's facts), an h1-only nginx server is spoken to in HTTP/1.1, valid_http_versions
[HTTP/2.0] fails there with reason http_version, and a stream nginx resets (`return 444`) or a
server that sends GOAWAY fails with http2_reset / http2_goaway. blackbox_exporter 0.23 probes
the same h2 target and agrees on the version and status.

Ports 18880-18889 on 127.0.0.1: 18880 nginx (TLS, h2), 18881 nginx (TLS, HTTP/1.1 only), 18882
a TLS server that answers every request with GOAWAY (in this process), 18883 blackbox_exporter,
18884 nginx (cleartext HTTP/2 only: h2c with prior knowledge), 18889 a TLS server that chooses h2
and then never answers (in this process). 18885-18888 are bench/monitor_http2.sh's.
"""
import calendar
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from processes import kill_leftover, stop_process  # noqa: E402

STATE = "/tmp/netres-monitor-http2-test"
H2_PORT, H1_PORT, GOAWAY_PORT, BLACKBOX_PORT, H2C_PORT = 18880, 18881, 18882, 18883, 18884
SILENT_PORT = 18889
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {state}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    ssl_certificate {tmp}/cert.pem;
    ssl_certificate_key {tmp}/key.pem;
    server {{
        listen 127.0.0.1:{h2} ssl http2;
        root {tmp}/www;
        location = /redirect {{ return 302 /index.html; }}
        # In HTTP/2 nginx answers 444 ("close the connection") with RST_STREAM.
        location = /reset {{ return 444; }}
    }}
    server {{
        listen 127.0.0.1:{h1} ssl;
        root {tmp}/www;
    }}
    server {{
        listen 127.0.0.1:{h2c} http2;
        root {tmp}/www;
    }}
}}
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


class RawH2Server:
    """TLS with ALPN h2 that reads the client's preface and request, then sends its SETTINGS
    and GOAWAY (last stream 0, ENHANCE_YOUR_CALM): the request was refused unprocessed; or, when
    `silent`, nothing at all until the client gives up. Raw frames, so the server's behaviour is
    exactly this and nothing else."""

    def __init__(self, port, cert, key, silent=False):
        self.silent = silent
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["h2"])
        self.ctx = ctx
        self.sock = socket.create_server(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(3)
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    data = b""
                    # The preface (24 bytes), then frames until a HEADERS frame (type 1) is in.
                    while True:
                        chunk = tls.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                        pos, seen = 24, False
                        while len(data) >= pos + 9:
                            length = int.from_bytes(data[pos:pos + 3], "big")
                            seen |= data[pos + 3] == 1
                            pos += 9 + length
                        if seen or len(data) > 65536:
                            break
                    if self.silent:
                        tls.recv(4096)  # until the client closes (or 3 s)
                        continue
                    tls.sendall(frame(4, 0, 0) +  # SETTINGS
                                frame(7, 0, 0, (0).to_bytes(4, "big") + (0xb).to_bytes(4, "big")))
                    time.sleep(0.05)
            except (OSError, ssl.SSLError):
                pass

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


@harness.require_root("openssl")
class MonitorHttp2(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(STATE, exist_ok=True)
        kill_leftover(os.path.join(STATE, "nginx.pid"), "nginx")
        kill_leftover(os.path.join(STATE, "blackbox.pid"), "blackbox")
        cls.tmp = tempfile.mkdtemp(prefix="netres-monitor-http2-")
        cls.stack = []
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        os.chmod(cls.tmp, 0o755)  # nginx's worker runs as www-data
        os.makedirs(os.path.join(cls.tmp, "www"))
        write(os.path.join(cls.tmp, "www", "index.html"), "<html>netres http2 test</html>\n")
        cls.cert, key = os.path.join(cls.tmp, "cert.pem"), os.path.join(cls.tmp, "key.pem")
        harness.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3", "-subj",
                    "/CN=netres-monitor-http2", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cls.cert)
        end = harness.run("openssl", "x509", "-in", cls.cert, "-noout", "-enddate").stdout
        cls.expiry = float(calendar.timegm(time.strptime(end.strip().split("=", 1)[1],
                                                         "%b %d %H:%M:%S %Y GMT")))
        conf = os.path.join(cls.tmp, "nginx.conf")
        write(conf, NGINX_CONF.format(state=STATE, tmp=cls.tmp, h2=H2_PORT, h1=H1_PORT,
                                     h2c=H2C_PORT))
        cls.nginx = subprocess.Popen([NGINX, "-p", cls.tmp, "-c", conf, "-e",
                                      os.path.join(cls.tmp, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.stack.append(lambda: stop_process(cls.nginx))
        cls.goaway = RawH2Server(GOAWAY_PORT, cls.cert, key)
        cls.stack.append(cls.goaway.stop)
        cls.silent = RawH2Server(SILENT_PORT, cls.cert, key, silent=True)
        cls.stack.append(cls.silent.stop)

        def listening():
            for port in (H2_PORT, H1_PORT, H2C_PORT):
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        wait_until("nginx to listen", listening, 10)

        cls.config = os.path.join(cls.tmp, "monitor.yaml")
        ca = cls.cert
        write(cls.config, f"""\
defaults: {{timeout: 5s}}
checks:
  h2:
    kind: http
    ca_file: {ca}
    valid_http_versions: [HTTP/2.0]
    fail_if_body_not_matches: ["netres http2 test"]
    fail_if_header_not_matches: [{{header: Content-Type, regexp: "text/html"}}]
  any: {{kind: http, ca_file: {ca}}}
  no_h2: {{kind: http, ca_file: {ca}, enable_http2: false}}
  h2c: {{kind: http, http2_prior_knowledge: true, valid_http_versions: [HTTP/2.0]}}
  quick: {{kind: http, ca_file: {ca}, timeout: 1s}}
targets:
  - {{name: h2, address: "https://127.0.0.1:{H2_PORT}/index.html", checks: [h2, no_h2]}}
  - {{name: redirect, address: "https://127.0.0.1:{H2_PORT}/redirect", checks: [h2]}}
  - {{name: missing, address: "https://127.0.0.1:{H2_PORT}/nothing", checks: [any]}}
  - {{name: reset, address: "https://127.0.0.1:{H2_PORT}/reset", checks: [any]}}
  - {{name: h1, address: "https://127.0.0.1:{H1_PORT}/index.html", checks: [h2, any]}}
  - {{name: goaway, address: "https://127.0.0.1:{GOAWAY_PORT}/", checks: [any]}}
  - {{name: cleartext, address: "http://127.0.0.1:{H2C_PORT}/index.html", checks: [h2c]}}
  - {{name: silent, address: "https://127.0.0.1:{SILENT_PORT}/", checks: [quick]}}
""")
        r = harness.netres("monitor", "-c", cls.config, "--once", "--json", timeout=30)
        cls.rows = {(o["target"], o["check"]): o for o in harness.ndjson(r.stdout)}
        cls.once_exit = r.returncode

    @classmethod
    def tearDownClass(cls):
        for undo in reversed(cls.stack):
            undo()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def row(self, target, check):
        self.assertIn((target, check), self.rows, self.rows.keys())
        return self.rows[(target, check)]

    def test_h2_by_alpn(self):
        o = self.row("h2", "h2")
        self.assertTrue(o["success"], o)
        m = o["metrics"]
        self.assertEqual(m["probe_http_version"], 2)
        self.assertEqual(m["probe_http_status_code"], 200)
        self.assertEqual(m["probe_http_ssl"], 1)
        self.assertEqual(m["probe_failed_due_to_regex"], 0)
        self.assertEqual(m["probe_http_content_length"], 31)
        self.assertEqual(m["probe_http_uncompressed_body_length"], 31)
        self.assertEqual(m["probe_ssl_earliest_cert_expiry"], self.expiry)
        self.assertEqual(m["netres_probe_ssl_verified"], 1)
        # The phases: the first frame of the stream came after the request, the body after it.
        self.assertGreater(m['probe_http_duration_seconds{phase="processing"}'], 0)
        self.assertGreater(m['probe_http_duration_seconds{phase="tls"}'], 0)

    def test_h2_redirect_and_status(self):
        o = self.row("redirect", "h2")
        self.assertTrue(o["success"], o)
        self.assertEqual(o["metrics"]["probe_http_redirects"], 1)
        self.assertEqual(o["metrics"]["probe_http_version"], 2)
        o = self.row("missing", "any")
        self.assertEqual((o["success"], o["reason"]), (False, "status"), o)
        self.assertEqual(o["metrics"]["probe_http_status_code"], 404)
        self.assertEqual(o["metrics"]["probe_http_version"], 2)

    def test_h2c_with_prior_knowledge(self):
        o = self.row("cleartext", "h2c")
        self.assertTrue(o["success"], o)
        self.assertEqual(o["metrics"]["probe_http_version"], 2)
        self.assertEqual(o["metrics"]["probe_http_ssl"], 0)
        self.assertEqual(o["metrics"]["probe_http_uncompressed_body_length"], 31)

    def test_http2_disabled_and_h1_only_server_speak_http11(self):
        for key in (("h2", "no_h2"), ("h1", "any")):
            o = self.row(*key)
            self.assertTrue(o["success"], o)
            self.assertEqual(o["metrics"]["probe_http_version"], 1.1, key)
            self.assertEqual(o["metrics"]["probe_http_status_code"], 200, key)

    def test_required_h2_against_h1_only_fails_with_reason(self):
        o = self.row("h1", "h2")
        self.assertEqual((o["success"], o["reason"]), (False, "http_version"), o)
        self.assertIn("HTTP/1.1 not accepted", o["detail"])
        self.assertEqual(self.once_exit, 1)

    def test_rst_stream_and_goaway_are_reasons(self):
        o = self.row("reset", "any")
        self.assertEqual((o["success"], o["reason"]), (False, "http2_reset"), o)
        self.assertIn("RST_STREAM", o["detail"])
        self.assertEqual(o["metrics"]["probe_http_status_code"], 0)
        o = self.row("goaway", "any")
        self.assertEqual((o["success"], o["reason"]), (False, "http2_goaway"), o)
        self.assertIn("ENHANCE_YOUR_CALM", o["detail"])

    def test_silent_h2_server_is_timeout(self):
        o = self.row("silent", "quick")
        self.assertEqual((o["success"], o["reason"]), (False, "timeout"), o)
        self.assertGreaterEqual(o["duration_s"], 0.9)
        self.assertLess(o["duration_s"], 3)  # the probe's deadline, not the server's 3 s

    def test_blackbox_exporter_agrees(self):
        """blackbox_exporter 0.23 (HTTP/2 on by default, as here) on the same targets: the same
        version, status, success and certificate expiry."""
        if not os.path.exists(BLACKBOX):
            self.skipTest("needs prometheus-blackbox-exporter")
        config = os.path.join(self.tmp, "blackbox.yml")
        write(config, f"""\
modules:
  h2:
    prober: http
    timeout: 3s
    http:
      tls_config: {{ca_file: "{self.cert}"}}
      preferred_ip_protocol: ip4
      valid_http_versions: [HTTP/2.0]
      fail_if_body_not_matches_regexp: ["netres http2 test"]
""")
        log = open(os.path.join(STATE, "blackbox.log"), "w")
        bb = subprocess.Popen([BLACKBOX, f"--config.file={config}",
                               f"--web.listen-address=127.0.0.1:{BLACKBOX_PORT}"],
                              stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        write(os.path.join(STATE, "blackbox.pid"), str(bb.pid))
        try:
            base = f"http://127.0.0.1:{BLACKBOX_PORT}"
            wait_until("blackbox_exporter to listen",
                       lambda: urllib.request.urlopen(base + "/-/healthy", timeout=2).status == 200,
                       10)
            for target, ours in ((f"https://127.0.0.1:{H2_PORT}/index.html", ("h2", "h2")),
                                 (f"https://127.0.0.1:{H1_PORT}/index.html", ("h1", "h2"))):
                query = urllib.parse.urlencode({"target": target, "module": "h2"})
                with urllib.request.urlopen(f"{base}/probe?{query}", timeout=10) as resp:
                    theirs = {}
                    for line in resp.read().decode().splitlines():
                        if line and not line.startswith("#") and " " in line:
                            name, value = line.rsplit(" ", 1)
                            theirs[name] = float(value)
                m = self.row(*ours)["metrics"]
                for name in ("probe_success", "probe_http_version", "probe_http_status_code",
                             "probe_http_ssl", "probe_ssl_earliest_cert_expiry"):
                    self.assertIn(name, theirs, (target, theirs))
                    mine = float(self.row(*ours)["success"]) if name == "probe_success" else m[name]
                    self.assertEqual(mine, theirs[name], (target, name, m, theirs))
            # On the h2 target both say HTTP/2.
            self.assertEqual(self.row("h2", "h2")["metrics"]["probe_http_version"], 2)
        finally:
            stop_process(bb)
            log.close()


if __name__ == "__main__":
    harness.main()
