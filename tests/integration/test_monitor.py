"""netres monitor against real things: a real Prometheus (2.42) scrapes it; nginx, dnsmasq, an
openssl s_server with a certificate of known expiry and a TCP listener in a namespace host are
probed; then nginx stops and the namespace drops the port, and each shows 0 with its reason.
Also --once (table, NDJSON, Nagios) exit codes, bad configuration files, /probe, and reloads
(a bad file keeps the running configuration; a removed target's series disappear).

Ports 18700-18799 on 127.0.0.1; namespace netres-mon-t / veth netres-mon0, 198.18.50.0/30.
"""
import calendar
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from dnsmasq import Dnsmasq  # noqa: E402
from netns import NamespaceHost  # noqa: E402
from nginx_load import NginxLoad  # noqa: E402
from processes import kill_leftover, stop_process  # noqa: E402
from prometheus_server import (MonitorProcess, Prometheus, http_get, metric_value,  # noqa: E402
                               write)

STATE = "/tmp/netres-monitor-test"
MONITOR_PORT = 18700
PROM_PORT = 18701
TLS_PORT = 18702
RELOAD_PORT = 18703
BLACKBOX_PORT = 18704
NS, HOST_IF, NS_IF = "netres-mon-t", "netres-mon0", "netres-mon1"
HOST_V4, NS_V4 = "198.18.50.1", "198.18.50.2"
NS_PORT = 18720
INTERVAL = 1.0  # seconds, the monitor's probe interval in the Prometheus test
DNS_ADDR = "198.18.50.9"  # only an answer in dnsmasq's records; nothing is sent to it


def cert_not_after(cert):
    out = harness.run("openssl", "x509", "-in", cert, "-noout", "-enddate").stdout.strip()
    stamp = out.split("=", 1)[1]  # "Dec  8 07:30:00 2026 GMT"
    return calendar.timegm(time.strptime(stamp, "%b %d %H:%M:%S %Y %Z"))


@harness.require_root("prometheus", "promtool", "openssl", "iptables", "ip")
class PrometheusScrapesMonitor(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(STATE, exist_ok=True)
        kill_leftover(os.path.join(STATE, "s_server.pid"), "openssl")
        cls.tmp = tempfile.mkdtemp(prefix="netres-monitor-")
        cls.stack = []
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        cls.nginx = NginxLoad().__enter__()
        cls.stack.append(lambda: cls.nginx.__exit__(None, None, None))
        cls.dns = Dnsmasq([f"--host-record=www.mon.test,{DNS_ADDR}"], tag="netres-monitor").start()
        cls.stack.append(cls.dns.stop)

        # A certificate for 127.0.0.1 valid for 3 days: its notAfter is what
        # probe_ssl_earliest_cert_expiry must say.
        cls.cert = os.path.join(cls.tmp, "cert.pem")
        key = os.path.join(cls.tmp, "key.pem")
        harness.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3", "-subj",
                    "/CN=netres-monitor-test", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cls.cert)
        cls.expiry = cert_not_after(cls.cert)
        cls.s_server = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{TLS_PORT}", "-cert", cls.cert,
             "-key", key, "-www", "-quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        write(os.path.join(STATE, "s_server.pid"), str(cls.s_server.pid))
        cls.stack.append(lambda: stop_process(cls.s_server))

        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_V4, NS_V4, 30)
        cls.host.setup()
        cls.stack.append(cls.host.teardown)
        cls.host.assert_routed_via_veth(NS_V4)
        listener = cls.host.popen(
            [sys.executable, os.path.join(harness.FIXTURES, "tcp_listeners.py"), "--ports",
             str(NS_PORT), "--banner", "SSH-2.0-netres-monitor", "--max-seconds", "120"],
            stdout=subprocess.PIPE, text=True)
        if listener.stdout.readline().strip() != "ready":
            raise RuntimeError("tcp_listeners.py did not start")

        cls.config = os.path.join(cls.tmp, "monitor.yaml")
        write(cls.config, f"""\
defaults:
  interval: {INTERVAL}s
  timeout: 800ms
checks:
  http_2xx:
    kind: http
    fail_if_body_not_matches: ["netres load test"]
  tls_cert:
    kind: http
    ca_file: {cls.cert}
  tls_system_ca:   # only through /probe: the test certificate is not trusted by the system
    kind: http
  tls_insecure:
    kind: http
    insecure: true
  dns_www:
    kind: dns
    query_name: www.mon.test
    expect_answers: ["^{DNS_ADDR.replace('.', '[.]')}$"]
  ssh_banner:
    kind: tcp
    banner: "^SSH-2[.]0-"
targets:
  - {{name: web, address: "{cls.nginx.url('/index.html')}", checks: [http_2xx], labels: {{site: lab}}}}
  - {{name: tls, address: "https://127.0.0.1:{TLS_PORT}/", checks: [tls_cert]}}
  - {{name: dns, address: "{cls.dns.server}", checks: [dns_www]}}
  - {{name: nshost, address: "{NS_V4}:{NS_PORT}", checks: [ssh_banner]}}
""")
        cls.monitor = MonitorProcess(cls.config, MONITOR_PORT, STATE, "monitor")
        cls.stack.append(cls.monitor.stop)

        cls.prom = Prometheus(STATE, cls.tmp, PROM_PORT, [f"127.0.0.1:{MONITOR_PORT}"]).start()
        cls.stack.append(cls.prom.stop)

    @classmethod
    def tearDownClass(cls):
        for stop in reversed(cls.stack):
            try:
                stop()
            except Exception as e:  # keep cleaning up
                print("cleanup:", e, file=sys.stderr)
        cls.stack = []
        harness.run("rm", "-rf", cls.tmp, check=False)

    def query(self, promql):
        """Prometheus's instant query: [(labels, value)] for a vector result."""
        return self.prom.query(promql)

    def value(self, promql):
        return self.prom.value(promql)

    def test_1_scraped_up_and_every_probe_succeeds(self):
        target = wait_until("Prometheus to scrape netres monitor", self.prom.scraped_up, 20)
        self.assertEqual(target["scrapeUrl"], f"http://127.0.0.1:{MONITOR_PORT}/metrics")
        for name in ("web", "tls", "dns", "nshost"):
            wait_until(f"probe_success{{target={name}}} == 1 in Prometheus",
                       lambda: self.value(f'probe_success{{target="{name}"}}') == 1, 20)
        self.assertEqual(self.value('probe_success{target="web",site="lab"}'), 1)
        self.assertEqual(self.value('probe_http_status_code{target="web"}'), 200)
        self.assertEqual(self.value('probe_ssl_earliest_cert_expiry{target="tls"}'), self.expiry)
        self.assertEqual(self.value('netres_probe_ssl_leaf_cert_expiry{target="tls"}'),
                         self.expiry)
        self.assertEqual(self.value('netres_probe_ssl_verified{target="tls"}'), 1)
        self.assertEqual(self.value('probe_dns_answer_rrs{target="dns"}'), 1)
        self.assertIsNotNone(self.value('probe_tls_version_info{target="tls",version="TLS 1.3"}'))
        self.assertGreater(self.value('netres_probes_total{target="nshost"}'), 0)
        buckets = self.query('netres_probe_duration_seconds_bucket{target="web"}')
        self.assertGreater(len(buckets), 10)

    def test_2_exposition_passes_promtool_in_both_formats(self):
        text = self.monitor.metrics()
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('probe_success{target="web",check="http_2xx",site="lab"} 1', text)
        status, ctype, om = http_get(self.monitor.base + "/metrics", headers={
            "Accept": "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"})
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("application/openmetrics-text"), ctype)
        self.assertTrue(om.endswith("# EOF\n"))
        self.assertIn("# TYPE netres_probes counter", om)

    def test_3_probe_endpoint_as_blackbox_exporter(self):
        target = urllib.parse.quote(self.nginx.url("/index.html"), safe="")
        status, _, body = http_get(f"{self.monitor.base}/probe?target={target}&module=http_2xx")
        self.assertEqual(status, 200, body)
        self.assertEqual(metric_value(body, "probe_success", {}), 1)
        self.assertEqual(metric_value(body, "probe_http_status_code", {}), 200)
        self.assertNotIn('target="', body)
        tls = urllib.parse.quote(f"https://127.0.0.1:{TLS_PORT}/", safe="")
        _, _, body = http_get(f"{self.monitor.base}/probe?target={tls}&module=tls_system_ca")
        self.assertEqual(metric_value(body, "probe_success", {}), 0, body)
        self.assertEqual(metric_value(body, "netres_probe_failure_info", {"reason": "tls_verify"}),
                         1, body)
        _, _, body = http_get(f"{self.monitor.base}/probe?target={tls}&module=tls_insecure")
        self.assertEqual(metric_value(body, "probe_success", {}), 1, body)
        self.assertEqual(metric_value(body, "netres_probe_ssl_verified", {}), 0, body)
        self.assertEqual(metric_value(body, "probe_ssl_earliest_cert_expiry", {}), self.expiry)
        status, _, body = http_get(f"{self.monitor.base}/probe?target=x&module=nope")
        self.assertEqual(status, 400)
        self.assertIn("Unknown module", body)
        status, _, body = http_get(f"{self.monitor.base}/probe?module=http_2xx")
        self.assertEqual(status, 400)

    def test_3b_blackbox_exporter_agrees_on_shared_names(self):
        """Debian's prometheus-blackbox-exporter probes the same targets with the same modules:
        the metrics both export have the same values."""
        if not os.path.exists("/usr/bin/prometheus-blackbox-exporter"):
            self.skipTest("needs prometheus-blackbox-exporter")
        config = os.path.join(self.tmp, "blackbox.yml")
        write(config, f"""\
modules:
  http_2xx:
    prober: http
    timeout: 2s
    http: {{fail_if_body_not_matches_regexp: ["netres load test"], preferred_ip_protocol: ip4}}
  tls_cert:
    prober: http
    timeout: 2s
    http: {{tls_config: {{ca_file: "{self.cert}"}}, preferred_ip_protocol: ip4}}
  dns_www:
    prober: dns
    timeout: 2s
    dns: {{query_name: www.mon.test, query_type: A, preferred_ip_protocol: ip4}}
  ssh_banner:
    prober: tcp
    timeout: 2s
    tcp: {{query_response: [{{expect: "^SSH-2.0-"}}], preferred_ip_protocol: ip4}}
""")
        pid_file = os.path.join(STATE, "blackbox.pid")
        kill_leftover(pid_file, "blackbox")
        log = open(os.path.join(STATE, "blackbox.log"), "w")
        bb = subprocess.Popen(["/usr/bin/prometheus-blackbox-exporter", f"--config.file={config}",
                               f"--web.listen-address=127.0.0.1:{BLACKBOX_PORT}"],
                              stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        write(pid_file, str(bb.pid))
        try:
            bb_base = f"http://127.0.0.1:{BLACKBOX_PORT}"
            wait_until("blackbox_exporter to listen",
                       lambda: http_get(bb_base + "/-/healthy")[0] == 200, 10)
            cases = [
                (self.nginx.url("/index.html"), "http_2xx",
                 ["probe_success", "probe_http_status_code", "probe_http_ssl",
                  "probe_http_redirects", "probe_http_version", "probe_failed_due_to_regex",
                  "probe_http_content_length"]),
                (f"https://127.0.0.1:{TLS_PORT}/", "tls_cert",
                 ["probe_success", "probe_http_status_code", "probe_http_ssl",
                  "probe_ssl_earliest_cert_expiry"]),
                (self.dns.server, "dns_www",
                 ["probe_success", "probe_dns_answer_rrs", "probe_dns_authority_rrs",
                  "probe_dns_additional_rrs", "probe_dns_query_succeeded"]),
                (f"{NS_V4}:{NS_PORT}", "ssh_banner", ["probe_success", "probe_ip_protocol"]),
            ]
            for target, module, names in cases:
                query = urllib.parse.urlencode({"target": target, "module": module})
                _, _, ours = http_get(f"{self.monitor.base}/probe?{query}")
                _, _, theirs = http_get(f"{bb_base}/probe?{query}")
                for name in names:
                    self.assertIsNotNone(metric_value(theirs, name, {}), (module, name, theirs))
                    self.assertEqual(metric_value(ours, name, {}), metric_value(theirs, name, {}),
                                     (module, name, ours, theirs))
        finally:
            stop_process(bb)
            log.close()

    @unittest.skipUnless(shutil.which("chromium"), "the status page check needs chromium")
    def test_3c_status_page_renders_in_a_headless_browser(self):
        """The page at / is self-contained: saved to a file and opened from there (no network),
        it shows every target's state and a sparkline."""
        status, ctype, page = http_get(self.monitor.base + "/")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/html"), ctype)
        home = tempfile.mkdtemp(prefix="netres-chromium-", dir=self.tmp)
        path = os.path.join(home, "status.html")
        write(path, page)
        env = dict(os.environ, HOME=home)
        r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-background-networking", "--disable-extensions",
                            "--no-first-run", "--window-size=390,844",
                            "--user-data-dir=" + os.path.join(home, "profile"),
                            "--dump-dom", "file://" + path],
                           capture_output=True, text=True, timeout=90, env=env)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        dom = r.stdout
        self.assertIn("<h1>netres monitor</h1>", dom)
        for name in ("web", "tls", "dns", "nshost"):
            self.assertRegex(dom, r'<tr class="up"><td data-l="Target">%s</td>' % name)
        self.assertEqual(len(re.findall(r'<svg class="spark"', dom)), 4)
        self.assertRegex(dom, r'<polyline [^>]*points="[\d.]+,[\d.]+')

    def test_4_failures_show_within_two_intervals_with_their_reason(self):
        wait_until("web and nshost up first",
                   lambda: metric_value(self.monitor.metrics(), "probe_success",
                                        {"target": "nshost"}) == 1, 10)
        self.nginx.stop()
        self.host.drop_ports(NS_PORT, NS_PORT)
        changed = time.monotonic()
        # Two intervals plus the probe's own timeout; the rest is slack for a loaded machine.
        bound = 2 * INTERVAL + 0.8 + 5

        def failed(name, reason):
            text = self.monitor.metrics()
            return (metric_value(text, "probe_success", {"target": name}) == 0 and
                    metric_value(text, "netres_probe_failure_info",
                                 {"target": name, "reason": reason}) == 1)
        wait_until("web to fail with reason refused", lambda: failed("web", "refused"), bound)
        wait_until("nshost to fail with reason timeout", lambda: failed("nshost", "timeout"),
                   max(0.5, bound - (time.monotonic() - changed)))
        # And through Prometheus, with the failures counter's reason label.
        wait_until("Prometheus to see web down",
                   lambda: self.value('probe_success{target="web"}') == 0, 15)
        wait_until("Prometheus to see nshost down",
                   lambda: self.value('probe_success{target="nshost"}') == 0, 15)
        self.assertGreater(self.value(
            'netres_probe_failures_total{target="web",reason="refused"}') or 0, 0)
        wait_until("the timeout counter in Prometheus", lambda: (self.value(
            'netres_probe_failures_total{target="nshost",reason="timeout"}') or 0) > 0, 15)
        # The others keep succeeding.
        self.assertEqual(self.value('probe_success{target="tls"}'), 1)
        self.assertEqual(self.value('probe_success{target="dns"}'), 1)


@harness.require_root("openssl")
class OnceAndConfig(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(STATE, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="netres-monitor-once-")
        cls.nginx = NginxLoad().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.__exit__(None, None, None)
        harness.run("rm", "-rf", cls.tmp, check=False)

    def config(self, name, text):
        path = os.path.join(self.tmp, name)
        write(path, text)
        return path

    def good(self):
        return self.config("good.yaml", f"""\
checks:
  web: {{kind: http, valid_status_codes: [200]}}
  port: {{kind: tcp}}
targets:
  - {{name: nginx, address: "{self.nginx.url('/index.html')}", checks: [web, port]}}
""")

    def bad_target(self):
        # 18799 is ours and nothing listens there: refused at once.
        return self.config("bad.yaml", f"""\
checks:
  web: {{kind: http}}
  port: {{kind: tcp}}
targets:
  - {{name: nginx, address: "{self.nginx.url('/index.html')}", checks: [web]}}
  - {{name: closed, address: "127.0.0.1:18799", checks: [port]}}
  - {{name: missing, address: "{self.nginx.url('/no-such-page')}", checks: [web]}}
  - {{name: byname, address: "http://localhost:{self.nginx.port}/index.html", checks: [web]}}
""")

    def test_once_table_and_exit_codes(self):
        r = harness.netres("monitor", "-c", self.good(), "--once")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["TARGET", "CHECK", "KIND", "RESULT", "TIME", "DETAIL"])
        self.assertEqual([ln.split()[3] for ln in lines[1:]], ["ok", "ok"])
        r = harness.netres("monitor", "-c", self.bad_target(), "--once")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"closed\s+port\s+tcp\s+refused")
        self.assertRegex(r.stdout, r"missing\s+web\s+http\s+status\s.*status 404")

    def test_once_json(self):
        r = harness.netres("monitor", "-c", self.bad_target(), "--once", "--json")
        self.assertEqual(r.returncode, 1, r.stderr)
        rows = {row["target"]: row for row in harness.ndjson(r.stdout)}
        self.assertEqual(set(rows), {"nginx", "closed", "missing", "byname"})
        self.assertTrue(rows["byname"]["success"], rows["byname"])  # through /etc/hosts
        self.assertTrue(rows["nginx"]["success"])
        self.assertEqual(rows["nginx"]["metrics"]["probe_http_status_code"], 200)
        self.assertEqual(rows["closed"]["reason"], "refused")
        self.assertEqual(rows["missing"]["reason"], "status")
        self.assertEqual(rows["missing"]["metrics"]["probe_http_status_code"], 404)

    def test_nagios_format_and_exit_codes(self):
        r = harness.netres("monitor", "-c", self.good(), "--once", "--format", "nagios")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stdout, r"^OK - 2 checks passed \| 'nginx/web'=[0-9.]+s;;;0 "
                                   r"'nginx/port'=[0-9.]+s;;;0\n$")
        r = harness.netres("monitor", "-c", self.bad_target(), "--once", "--format", "nagios")
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertTrue(r.stdout.startswith("CRITICAL - 2 of 4 checks failed: "), r.stdout)
        self.assertIn("closed/port: refused", r.stdout)
        r = harness.netres("monitor", "-c", self.config("broken.yaml", "checks: [\n"), "--once",
                           "--format", "nagios")
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertTrue(r.stdout.startswith("UNKNOWN - "), r.stdout)

    def test_bad_config_is_exit_2_with_file_line_col(self):
        path = self.config("typo.yaml", "checks:\n  web:\n    kind: http\n    valid_status: [200]\n"
                                        "targets: []\n")
        for extra in ((), ("--once",)):
            r = harness.netres("monitor", "-c", path, *extra, "--listen", "127.0.0.1:18798")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertTrue(r.stderr.startswith(
                f"netres: monitor: {path}:4:5: unknown key 'valid_status' in check 'web'"),
                r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = harness.netres("monitor", "-c", os.path.join(self.tmp, "absent.yaml"), "--once")
        self.assertEqual(r.returncode, 2)

    def test_reload_keeps_running_config_on_bad_file_and_drops_removed_series(self):
        path = self.config("reload.yaml", f"""\
defaults: {{interval: 500ms, timeout: 400ms}}
checks:
  web: {{kind: http}}
targets:
  - {{name: one, address: "{self.nginx.url('/index.html')}", checks: [web]}}
  - {{name: two, address: "{self.nginx.url('/index.html')}", checks: [web]}}
""")
        mon = MonitorProcess(path, RELOAD_PORT, STATE, "monitor-reload")
        try:
            for name in ("one", "two"):
                wait_until(f"{name} probed", lambda: metric_value(
                    mon.metrics(), "probe_success", {"target": name}) == 1, 10)
            write(path, "checks: {web: {kind: http}}\ntargets:\n  - {address: 1\n")
            status, _, body = http_get(mon.base + "/-/reload", method="POST")
            self.assertEqual(status, 500)
            self.assertIn(f"{path}:", body)
            self.assertIn("reload refused, keeping the running configuration", mon.stderr())
            text = mon.metrics()
            self.assertEqual(metric_value(text, "netres_monitor_config_last_reload_successful",
                                          {}), 0)
            self.assertEqual(metric_value(text, "probe_success", {"target": "two"}), 1)
            self.assertEqual(mon.proc.poll(), None)

            # SIGHUP with target two removed and three added: two's series go, three's come.
            write(path, f"""\
defaults: {{interval: 500ms, timeout: 400ms}}
checks:
  web: {{kind: http}}
targets:
  - {{name: one, address: "{self.nginx.url('/index.html')}", checks: [web]}}
  - {{name: three, address: "{self.nginx.url('/index.html')}", checks: [web]}}
""")
            mon.proc.send_signal(signal.SIGHUP)
            wait_until("three probed after SIGHUP", lambda: metric_value(
                mon.metrics(), "probe_success", {"target": "three"}) == 1, 10)
            text = mon.metrics()
            self.assertNotIn('target="two"', text)
            self.assertEqual(metric_value(text, "netres_monitor_config_last_reload_successful",
                                          {}), 1)
            self.assertEqual(metric_value(text, "netres_monitor_targets", {}), 2)
            status, _, _ = http_get(mon.base + "/-/reload")
            self.assertEqual(status, 405)
            # A second monitor on the same port fails (no silent port sharing).
            r = harness.netres("monitor", "-c", path, "--listen", f"127.0.0.1:{RELOAD_PORT}",
                               timeout=30)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertEqual(r.stderr, f"netres: monitor: cannot listen on 127.0.0.1:{RELOAD_PORT}: "
                                       "Address already in use\n")
        finally:
            mon.stop()


@harness.require_root("promtool")
class AlertRules(unittest.TestCase):
    """The shipped alert rules load and behave as their unit tests say."""

    def test_promtool_checks_and_tests_the_rules(self):
        examples = os.path.join(harness.SOURCE_DIR, "examples", "monitor")
        r = harness.run("promtool", "check", "rules", os.path.join(examples, "alerts.yml"),
                        check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = harness.run("promtool", "test", "rules", "alerts_test.yml", check=False,
                        cwd=examples)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)


if __name__ == "__main__":
    harness.main()
