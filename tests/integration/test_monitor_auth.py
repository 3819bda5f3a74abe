"""netres monitor's endpoint secured by an exporter-toolkit web config (--web-config): a real
Prometheus (2.42) scrapes it over https with basic_auth password_file and tls_config ca_file (up),
and with a wrong password (down, 401); curl with and without credentials; client certificates
required (none, an unknown CA's, the right one); a TLS 1.2-only endpoint refuses a TLS 1.3-only
client; client_allowed_sans and cipher_suites in force after a reload; bad web configs exit 2 with one line; a second monitor on the port exits 3; a reload
rotates the password (the old one refused, the new one taken; a bad new file keeps the old).

Certificates are made by the test with openssl. Ports 18820-18829 on 127.0.0.1, no namespace.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from processes import kill_leftover, stop_process  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libxcrypt, as netres itself: bcrypt hashes as htpasswd -B makes them

STATE = "/tmp/netres-monitor-auth-test"
MONITOR_PORT = 18820   # TLS + basic auth, scraped by Prometheus
PROM_PORT = 18821
MTLS_PORT = 18822      # client certificates required, TLS 1.2 only
RELOAD_PORT = 18823    # plain HTTP + basic auth, reloaded
SPARE_PORT = 18829     # for monitors that must fail to start; nothing listens


def bcrypt(password, cost=10):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << cost))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def curl(url, *args):
    """(HTTP status or 0 when no response came, headers+body text) from a real curl."""
    r = subprocess.run(["curl", "-sS", "-i", "--max-time", "5", *args, url], capture_output=True,
                       text=True, timeout=15)
    first = r.stdout.split("\n", 1)[0].split()
    status = int(first[1]) if r.returncode == 0 and len(first) > 1 else 0
    return status, r.stdout + r.stderr


def openssl(*args):
    harness.run("openssl", *args)


class Certs:
    """A CA, a server certificate for 127.0.0.1 and a client certificate signed by it, and a
    client certificate of another (unknown) CA."""

    def __init__(self, d):
        self.d = d
        self.ca, self.ca_key = self.path("ca.pem"), self.path("ca.key")
        self.self_signed("ca", self.ca, self.ca_key)
        self.server, self.server_key = self.signed("server", "subjectAltName=IP:127.0.0.1")
        self.client, self.client_key = self.signed(
            "client", "extendedKeyUsage=clientAuth\nsubjectAltName=DNS:prometheus.test")
        self.rogue, self.rogue_key = self.path("rogue.pem"), self.path("rogue.key")
        self.self_signed("rogue", self.rogue, self.rogue_key)

    def path(self, name):
        return os.path.join(self.d, name)

    def self_signed(self, cn, cert, key):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "2", "-subj", f"/CN=netres-auth-{cn}", "-keyout", key,
                "-out", cert)

    def signed(self, cn, ext):
        cert, key, csr = self.path(f"{cn}.pem"), self.path(f"{cn}.key"), self.path(f"{cn}.csr")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-subj", f"/CN=netres-auth-{cn}", "-keyout", key, "-out", csr)
        extfile = write(self.path(f"{cn}.ext"), ext + "\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                "-CAcreateserial", "-days", "2", "-extfile", extfile, "-out", cert)
        return cert, key


class Monitor:
    """netres monitor with a web config, as a child process (pid in STATE for leftovers)."""

    def __init__(self, config, port, name, web_config, ready_args=()):
        self.pid_file = os.path.join(STATE, f"{name}.pid")
        kill_leftover(self.pid_file, "netres")
        self.log = open(os.path.join(STATE, f"{name}.log"), "w+")
        # The web config through the environment for this one, as a service unit would set it.
        env = dict(os.environ, NETRES_MONITOR_WEB_CONFIG=web_config)
        self.proc = subprocess.Popen([harness.NETRES, "monitor", "-c", config, "--listen",
                                      f"127.0.0.1:{port}"], stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, env=env)
        write(self.pid_file, str(self.proc.pid))
        self.port = port
        wait_until(f"netres monitor on {port} to listen",
                   lambda: self.proc.poll() is None and "listening on" in self.stderr(), 10)

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        self.proc = stop_process(self.proc)
        self.log.close()


def monitor_config(tmp):
    # One cheap check: the monitor's endpoint port itself is probed by TCP connect.
    return write(os.path.join(tmp, "monitor.yaml"), f"""\
defaults: {{interval: 1s, timeout: 800ms}}
checks: {{port: {{kind: tcp}}}}
targets:
  - {{name: self, address: "127.0.0.1:{MONITOR_PORT}", checks: [port]}}
""")


@harness.require_root("prometheus", "openssl", "curl")
class PrometheusOverTlsWithBasicAuth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(STATE, exist_ok=True)
        kill_leftover(os.path.join(STATE, "prometheus.pid"), "prometheus")
        cls.tmp = tempfile.mkdtemp(prefix="netres-monitor-auth-")
        cls.stack = []
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        cls.certs = Certs(cls.tmp)
        cls.web = write(os.path.join(cls.tmp, "web.yml"), f"""\
tls_server_config:
  cert_file: server.pem     # relative to this file's directory
  key_file: server.key
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
basic_auth_users:
  prometheus: {bcrypt("scrape-pass")}
""")
        cls.monitor = Monitor(monitor_config(cls.tmp), MONITOR_PORT, "monitor", cls.web)
        cls.stack.append(cls.monitor.stop)
        cls.url = f"https://127.0.0.1:{MONITOR_PORT}"

        good = write(os.path.join(cls.tmp, "good.pass"), "scrape-pass\n")
        bad = write(os.path.join(cls.tmp, "bad.pass"), "not-the-pass\n")
        prom_config = write(os.path.join(cls.tmp, "prometheus.yml"), f"""\
global: {{scrape_interval: 1s, scrape_timeout: 1s}}
scrape_configs:
  - job_name: netres_auth
    scheme: https
    basic_auth: {{username: prometheus, password_file: {good}}}
    tls_config: {{ca_file: {cls.certs.ca}}}
    static_configs: [{{targets: ["127.0.0.1:{MONITOR_PORT}"]}}]
  - job_name: netres_wrong_password
    scheme: https
    basic_auth: {{username: prometheus, password_file: {bad}}}
    tls_config: {{ca_file: {cls.certs.ca}}}
    static_configs: [{{targets: ["127.0.0.1:{MONITOR_PORT}"]}}]
""")
        cls.prom_log = open(os.path.join(STATE, "prometheus.log"), "w")
        cls.prom = subprocess.Popen(
            ["prometheus", f"--config.file={prom_config}",
             f"--storage.tsdb.path={os.path.join(cls.tmp, 'prometheus')}",
             f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
            stdout=cls.prom_log, stderr=cls.prom_log, stdin=subprocess.DEVNULL)
        write(os.path.join(STATE, "prometheus.pid"), str(cls.prom.pid))
        cls.stack.append(lambda: stop_process(cls.prom))
        cls.stack.append(cls.prom_log.close)

    @classmethod
    def tearDownClass(cls):
        for stop in reversed(cls.stack):
            try:
                stop()
            except Exception as e:  # keep cleaning up
                print("cleanup:", e, file=sys.stderr)
        cls.stack = []
        harness.run("rm", "-rf", cls.tmp, check=False)

    def targets(self):
        status, text = curl(f"http://127.0.0.1:{PROM_PORT}/api/v1/targets")
        body = text.split("\n\n", 1)[1]
        return {t["labels"]["job"]: t for t in json.loads(body)["data"]["activeTargets"]}

    def test_1_prometheus_scrapes_with_the_password_and_not_without(self):
        def scraped():
            t = self.targets()
            ok = t["netres_auth"]["health"] == "up" and t["netres_wrong_password"]["health"] == "down"
            return t if ok else None
        t = wait_until("both jobs scraped", scraped, 30)
        self.assertEqual(t["netres_auth"]["lastError"], "")
        self.assertEqual(t["netres_auth"]["scrapeUrl"], f"{self.url}/metrics")
        self.assertIn("401", t["netres_wrong_password"]["lastError"])

    def test_2_curl_without_credentials_is_401_with_them_200(self):
        ca = ("--cacert", self.certs.ca)
        for path in ("/metrics", "/-/healthy", "/", "/probe?target=127.0.0.1:1&module=port",
                     "/no-such-path"):
            status, text = curl(self.url + path, *ca)
            self.assertEqual(status, 401, text)
            self.assertIn('WWW-Authenticate: Basic realm="netres monitor"', text)
            self.assertIn("X-Content-Type-Options: nosniff", text)
        status, text = curl(self.url + "/-/reload", *ca, "-X", "POST")
        self.assertEqual(status, 401, text)
        for user in ("prometheus:wrong", "prometheus:", "someone:scrape-pass",
                     "Prometheus:scrape-pass"):
            status, text = curl(self.url + "/metrics", *ca, "-u", user)
            self.assertEqual(status, 401, user)
        status, text = curl(self.url + "/metrics", *ca, "-u", "prometheus:scrape-pass")
        self.assertEqual(status, 200, text)
        self.assertIn("X-Content-Type-Options: nosniff", text)
        self.assertIn("netres_monitor_targets 1", text)
        # The certificate is checked by curl: without the CA there is no response at all.
        status, text = curl(self.url + "/metrics", "-u", "prometheus:scrape-pass")
        self.assertEqual(status, 0, text)
        # Plain HTTP on the TLS port gets no page.
        status, text = curl(f"http://127.0.0.1:{MONITOR_PORT}/metrics")
        self.assertNotEqual(status, 200, text)

    def test_3_second_monitor_on_the_tls_port_exits_3(self):
        env = dict(os.environ, NETRES_MONITOR_WEB_CONFIG=self.web)
        r = harness.netres("monitor", "-c", monitor_config(self.tmp), "--listen",
                           f"127.0.0.1:{MONITOR_PORT}", timeout=30, env=env)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stderr, f"netres: monitor: cannot listen on 127.0.0.1:{MONITOR_PORT}: "
                                   "Address already in use\n")


@harness.require_root("openssl", "curl")
class ClientCertificatesVersionsAndReload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(STATE, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="netres-monitor-auth-2-")
        cls.certs = Certs(cls.tmp)
        cls.config = monitor_config(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        harness.run("rm", "-rf", cls.tmp, check=False)

    def start(self, port, name, web_text):
        web = write(os.path.join(self.tmp, f"{name}.yml"), web_text)
        mon = Monitor(self.config, port, name, web)
        self.addCleanup(mon.stop)
        return mon, web

    def test_client_certificates_tls12_only_sans_and_ciphers(self):
        c = self.certs
        web_text = f"""\
tls_server_config:
  cert_file: {c.server}
  key_file: {c.server_key}
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: {c.ca}
  max_version: TLS12
"""
        mon, web = self.start(MTLS_PORT, "mtls", web_text)
        url = f"https://127.0.0.1:{MTLS_PORT}/metrics"
        status, text = curl(url, "--cacert", c.ca)
        self.assertEqual(status, 0, text)
        status, text = curl(url, "--cacert", c.ca, "--cert", c.rogue, "--key", c.rogue_key)
        self.assertEqual(status, 0, text)
        status, text = curl(url, "--cacert", c.ca, "--cert", c.client, "--key", c.client_key)
        self.assertEqual(status, 200, text)
        self.assertIn("netres_monitor_targets 1", text)

        def s_client(*version):
            return subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{MTLS_PORT}", *version,
                 "-CAfile", c.ca, "-cert", c.client, "-key", c.client_key, "-brief"],
                input="", capture_output=True, text=True, timeout=15)
        r = s_client("-tls1_3")
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("protocol version", r.stderr)
        r = s_client("-tls1_2")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Protocol version: TLSv1.2", r.stderr)

        # client_allowed_sans, set by a reload: a verified certificate without one of them ends
        # the handshake (no response at all), as in exporter-toolkit.
        client = ("--cacert", c.ca, "--cert", c.client, "--key", c.client_key)
        for sans, expected in (("[other.test]", 0), ("[other.test, prometheus.test]", 200)):
            write(web, web_text + f"  client_allowed_sans: {sans}\n")
            mon.proc.send_signal(signal.SIGHUP)
            wait_until(f"{sans} in force", lambda: curl(url, *client)[0] == expected, 10)

        # cipher_suites (IANA names) for TLS 1.2: only the listed suite is negotiated.
        write(web, web_text + "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n")
        mon.proc.send_signal(signal.SIGHUP)
        wait_until("cipher_suites in force",
                   lambda: s_client("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
                   .returncode != 0, 10)
        r = s_client("-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Ciphersuite: ECDHE-ECDSA-AES256-GCM-SHA384", r.stderr)

    def test_reload_rotates_the_password(self):
        user = "ops"
        head = f"tls_server_config: {{cert_file: {self.certs.server}, key_file: {self.certs.server_key}}}\n"
        mon, web = self.start(RELOAD_PORT, "reload", f"{head}basic_auth_users:\n  {user}: {bcrypt('old-pass', 4)}\n")
        url = f"https://127.0.0.1:{RELOAD_PORT}"
        ca = ("--cacert", self.certs.ca)
        self.assertEqual(curl(url + "/metrics", *ca, "-u", f"{user}:old-pass")[0], 200)

        write(web, f"{head}basic_auth_users:\n  {user}: {bcrypt('new-pass', 4)}\n")
        mon.proc.send_signal(signal.SIGHUP)
        wait_until("the new password taken", lambda: curl(
            url + "/metrics", *ca, "-u", f"{user}:new-pass")[0] == 200, 10)
        self.assertEqual(curl(url + "/metrics", *ca, "-u", f"{user}:old-pass")[0], 401)

        # A bad new file (a password instead of its hash) is refused; the running users stay.
        write(web, f"{head}basic_auth_users:\n  {user}: newer-pass\n")
        status, text = curl(url + "/-/reload", *ca, "-X", "POST", "-u", f"{user}:new-pass")
        self.assertEqual(status, 500, text)
        self.assertIn(f"{web}:3:8: user '{user}': not a bcrypt hash", text)
        self.assertNotIn("newer-pass", text + mon.stderr())
        self.assertIn("reload refused, keeping the running configuration", mon.stderr())
        status, text = curl(url + "/metrics", *ca, "-u", f"{user}:new-pass")
        self.assertEqual(status, 200)
        self.assertIn("netres_monitor_config_last_reload_successful 0", text)
        self.assertEqual(mon.proc.poll(), None)

        # Turning TLS off needs a restart: refused the same way.
        write(web, f"basic_auth_users:\n  {user}: {bcrypt('new-pass', 4)}\n")
        status, text = curl(url + "/-/reload", *ca, "-X", "POST", "-u", f"{user}:new-pass")
        self.assertEqual(status, 500, text)
        self.assertIn("turning TLS off needs a restart", text)

    def test_bad_web_configs_exit_2_with_one_line(self):
        c = self.certs
        cases = {
            "typo.yml": ("tls_server_config:\n  cert_file: x\n  keyfile: y\n",
                         ":3:3: unknown key 'keyfile' in tls_server_config"),
            "hash.yml": ("basic_auth_users:\n  alice: hunter2\n",
                         ":2:10: user 'alice': not a bcrypt hash"),
            "nocert.yml": (f"tls_server_config: {{cert_file: absent.pem, key_file: {c.server_key}}}\n",
                           f": cannot read cert_file {self.tmp}/absent.pem: No such file or directory"),
            "mismatch.yml": (f"tls_server_config: {{cert_file: {c.server}, key_file: {c.client_key}}}\n",
                             f": key {c.client_key} does not match cert {c.server}"),
        }
        for name, (text, expected) in cases.items():
            path = write(os.path.join(self.tmp, name), text)
            r = harness.netres("monitor", "-c", self.config, "--listen", f"127.0.0.1:{SPARE_PORT}",
                               "--web-config", path, timeout=30)
            self.assertEqual(r.returncode, 2, name + ": " + r.stderr)
            self.assertTrue(r.stderr.startswith(f"netres: monitor: {path}{expected}"), r.stderr)
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            self.assertNotIn("hunter2", r.stderr)
        r = harness.netres("monitor", "-c", self.config, "--web-config", "/nonexistent/web.yml",
                           "--listen", f"127.0.0.1:{SPARE_PORT}", timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        r = harness.netres("monitor", "-c", self.config, "--once", "--web-config",
                           os.path.join(self.tmp, "hash.yml"))
        self.assertEqual(r.returncode, 2, r.stderr)


if __name__ == "__main__":
    harness.main()
