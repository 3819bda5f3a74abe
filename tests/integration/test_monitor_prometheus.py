"""The issue's "done when": a real Prometheus (2.42) scrapes netres monitor with every check kind
live, and each fails for the right reason. One monitor probes, every second:

    tcp    a TCP listener in a namespace host       -> iptables DROP on its port: timeout
    tls    openssl s_server (tcp with tls)          -> a certificate for another name: tls_verify
    https  the same s_server (http check)           -> the same: tls_verify
    http   nginx                                    -> nginx stopped: refused
    dns    dnsmasq                                  -> the name removed (NXDOMAIN): rcode
    icmp   the namespace host                       -> every other echo request dropped:
                                                       loss 0.5 above max_loss 0.25: loss
    ssh    OpenSSH sshd, host key in known_hosts    -> sshd restarted with a new host key on the
                                                       same port: hostkey_changed, never accepted
                                                       (known_hosts unchanged byte for byte)
    iface  the namespace host's veth                -> counters between `ip -s link` readings;
                                                       set down: down

Everything is read back through Prometheus's HTTP API (/api/v1/query), which also evaluates a
copy of examples/monitor/alerts.yml with every `for:` cut to 1s: the alerts fire for the failures.

Ports 18830-18849 on 127.0.0.1 (18830 netres monitor, 18831 Prometheus, 18832 s_server, 18833
sshd, 18834 the listener in the namespace); namespace netres-monprom-t / veth nrmonprom0,
198.18.53.0/30. nginx and dnsmasq take free ports of their own.
"""
import calendar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from dnsmasq import Dnsmasq  # noqa: E402
from netns import NamespaceHost  # noqa: E402
from nginx_load import NginxLoad  # noqa: E402
from processes import kill_leftover, stop_process  # noqa: E402
from prometheus_server import MonitorProcess, Prometheus, write  # noqa: E402
from sshd import SshdServer  # noqa: E402

STATE = "/tmp/netres-monitor-prometheus-test"
MONITOR_PORT, PROM_PORT, TLS_PORT, SSH_PORT, NS_PORT = 18830, 18831, 18832, 18833, 18834
NS, HOST_IF, NS_IF = "netres-monprom-t", "nrmonprom0", "nrmonprom1"
HOST_V4, NS_V4 = "198.18.53.1", "198.18.53.2"
DNS_NAME, DNS_ADDR = "www.monprom.test", "198.18.53.9"  # only an answer; nothing is sent to it
DNS_RE = DNS_ADDR.replace(".", "[.]")
UDP_DISCARD = 9  # nothing listens in the namespace; the datagrams still cross the veth
TARGETS = ("tcp", "tls", "https", "http", "dns", "icmp", "ssh", "iface")
# What each target fails with once its failure is switched on (test_3).
EXPECTED = {"tcp": "timeout", "tls": "tls_verify", "https": "tls_verify", "http": "refused",
            "dns": "rcode", "icmp": "loss", "ssh": "hostkey_changed"}
BOUND = 15  # seconds: two 1 s intervals plus the probe's timeout, and slack for a loaded machine


def openssl_cert(directory, name, san, ca=None, days=30):
    """A P-256 key and certificate valid `days`: self-signed CA when ca is None, else a leaf
    for `san` signed by ca (a (cert, key) pair). Returns (cert, key)."""
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    args = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", str(days), "-subj",
            f"/CN=netres-monprom-{name}", "-keyout", key, "-out", cert]
    if ca:
        args += ["-CA", ca[0], "-CAkey", ca[1], "-addext", "basicConstraints=critical,CA:FALSE",
                 "-addext", f"subjectAltName={san}"]
    harness.run(*args)
    return cert, key


def not_after(cert):
    """A certificate's notAfter as Unix seconds."""
    out = harness.run("openssl", "x509", "-in", cert, "-noout", "-enddate").stdout.strip()
    return calendar.timegm(time.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z"))


def poll(what, fn, seconds, state):
    """wait_until(what, fn, seconds), whose timeout message also shows state() (what was seen
    so far): fn must return a false value until done."""
    try:
        return wait_until(what, fn, seconds)
    except AssertionError as e:
        raise AssertionError(f"{e}; seen: {state()!r}") from None


def ip_stats(dev):
    return json.loads(harness.run("ip", "-j", "-s", "link", "show", "dev", dev).stdout)[0][
        "stats64"]


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@harness.require_root("prometheus", "openssl", "iptables", "ip", "sshd", "ssh-keygen")
class EveryKindUnderPrometheus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(STATE, exist_ok=True)
        cls.s_server_pid = os.path.join(STATE, "s_server.pid")
        kill_leftover(cls.s_server_pid, "openssl")
        cls.tmp = tempfile.mkdtemp(prefix="netres-monprom-")
        os.chmod(cls.tmp, 0o755)
        cls.stack = []
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_V4, NS_V4, 30).setup()
        cls.stack.append(cls.host.teardown)
        cls.host.assert_routed_via_veth(NS_V4)  # nothing of this test may leave the machine
        listener = cls.host.popen(
            [sys.executable, os.path.join(harness.FIXTURES, "tcp_listeners.py"), "--ports",
             str(NS_PORT), "--max-seconds", "120"], stdout=subprocess.PIPE, text=True)
        if listener.stdout.readline().strip() != "ready":
            raise RuntimeError("tcp_listeners.py did not start")

        cls.nginx = NginxLoad().__enter__()
        cls.stack.append(lambda: cls.nginx.__exit__(None, None, None))

        # dnsmasq re-reads --addn-hosts on SIGHUP: the name is taken away without a restart
        # (which would move it to another free port).
        cls.dns_hosts = os.path.join(cls.tmp, "hosts")
        write(cls.dns_hosts, f"{DNS_ADDR} {DNS_NAME}\n")
        cls.dns = Dnsmasq([], tag="netres-monprom", extra_args=[f"--addn-hosts={cls.dns_hosts}"])
        cls.dns.start()
        cls.stack.append(cls.dns.stop)

        # One CA; the server's certificate for 127.0.0.1 first (30 days: no CertificateExpiresSoon
        # alert), then one for another name that also expires within the alert's 14 days.
        cls.ca = openssl_cert(cls.tmp, "ca", None)
        cls.good = openssl_cert(cls.tmp, "good", "IP:127.0.0.1", cls.ca)
        cls.wrong = openssl_cert(cls.tmp, "wrong", "DNS:wrong.monprom.test", cls.ca, days=3)
        cls.s_server = None
        cls.start_s_server(cls.good)
        cls.stack.append(cls.stop_s_server)

        cls.sshd = SshdServer(SSH_PORT).start()
        cls.stack.append(cls.sshd.cleanup)
        cls.known_hosts = os.path.join(cls.tmp, "known_hosts")
        write(cls.known_hosts, cls.sshd.known_hosts_line())
        with open(cls.known_hosts, "rb") as f:
            cls.known_hosts_bytes = f.read()

        cls.config = os.path.join(cls.tmp, "monitor.yaml")
        write(cls.config, f"""\
defaults: {{interval: 1s, timeout: 800ms}}
checks:
  port: {{kind: tcp}}
  port_tls: {{kind: tcp, tls: true, ca_file: {cls.ca[0]}}}
  dns_www: {{kind: dns, query_name: {DNS_NAME}, expect_answers: ["^{DNS_RE}$"]}}
  http_2xx: {{kind: http, fail_if_body_not_matches: ["netres load test"]}}
  https_2xx: {{kind: http, ca_file: {cls.ca[0]}}}
  ping: {{kind: icmp, count: 4, interval: 20ms, max_loss: 0.25}}
  ssh_hostkey: {{kind: ssh, known_hosts: {cls.known_hosts}}}
  link: {{kind: iface}}
targets:
  - {{name: tcp, address: "{NS_V4}:{NS_PORT}", checks: [port]}}
  - {{name: tls, address: "127.0.0.1:{TLS_PORT}", checks: [port_tls]}}
  - {{name: https, address: "https://127.0.0.1:{TLS_PORT}/", checks: [https_2xx]}}
  - {{name: http, address: "{cls.nginx.url('/index.html')}", checks: [http_2xx]}}
  - {{name: dns, address: "{cls.dns.server}", checks: [dns_www]}}
  - {{name: icmp, address: {NS_V4}, checks: [ping]}}
  - {{name: ssh, address: "127.0.0.1:{cls.sshd.port}", checks: [ssh_hostkey]}}
  - {{name: iface, address: {HOST_IF}, checks: [link]}}
""")
        cls.monitor = MonitorProcess(cls.config, MONITOR_PORT, STATE, "monitor")
        cls.stack.append(cls.monitor.stop)

        # The shipped alert rules, with every `for:` cut to 1s so they fire within the test.
        with open(os.path.join(harness.SOURCE_DIR, "examples", "monitor", "alerts.yml")) as f:
            rules = f.read()
        cls.rule_count = len(re.findall(r"^\s*- alert:", rules, re.M))
        cls.rules = os.path.join(cls.tmp, "alerts.yml")
        write(cls.rules, re.sub(r"^(\s*)for: \S+$", r"\1for: 1s", rules, flags=re.M))
        cls.prom = Prometheus(STATE, cls.tmp, PROM_PORT, [f"127.0.0.1:{MONITOR_PORT}"],
                              rule_files=[cls.rules]).start()
        cls.stack.append(cls.prom.stop)

    @classmethod
    def start_s_server(cls, cert):
        cls.s_server = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{TLS_PORT}", "-cert", cert[0], "-key",
             cert[1], "-www", "-quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        write(cls.s_server_pid, str(cls.s_server.pid))
        wait_until("s_server to listen", lambda: cls.s_server.poll() is None and
                   listening(TLS_PORT), 10)

    @classmethod
    def stop_s_server(cls):
        cls.s_server = stop_process(cls.s_server)

    @classmethod
    def tearDownClass(cls):
        for stop in reversed(cls.stack):
            try:
                stop()
            except Exception as e:  # keep cleaning up
                print("cleanup:", e, file=sys.stderr)
        cls.stack = []
        harness.run("rm", "-rf", cls.tmp, check=False)

    def value(self, promql):
        return self.prom.value(promql)

    def test_1_every_kind_succeeds(self):
        target = wait_until("Prometheus to scrape netres monitor", self.prom.scraped_up, 20)
        self.assertEqual(target["scrapeUrl"], f"http://127.0.0.1:{MONITOR_PORT}/metrics")

        def up():
            return {m["target"]: v for m, v in self.prom.query("probe_success")}
        poll("probe_success 1 for every kind",
             lambda: all(up().get(t) == 1 for t in TARGETS), 20, up)
        kinds = {m["target"]: m["check"] for m, _ in self.prom.query("probe_success")}
        self.assertEqual(set(kinds), set(TARGETS))
        self.assertEqual(self.value('probe_http_status_code{target="http"}'), 200)
        self.assertEqual(self.value('probe_http_status_code{target="https"}'), 200)
        self.assertEqual(self.value('netres_probe_ssl_verified{target="https"}'), 1)
        self.assertEqual(self.value('netres_probe_ssl_verified{target="tls"}'), 1)
        self.assertEqual(self.value('probe_dns_answer_rrs{target="dns"}'), 1)
        self.assertEqual(self.value('netres_probe_dns_rcode_info{target="dns",rcode="NOERROR"}'),
                         1)
        self.assertEqual(self.value('netres_icmp_loss_ratio{target="icmp"}'), 0)
        self.assertEqual(self.value('netres_icmp_packets_received{target="icmp"}'), 4)
        self.assertEqual(self.value('netres_ssh_hostkey_ok{target="ssh"}'), 1)
        fp = harness.run("ssh-keygen", "-l", "-E", "sha256", "-f",
                         self.sshd.host_key + ".pub").stdout.split()[1]
        self.assertEqual(self.value(f'netres_ssh_info{{target="ssh",fingerprint="{fp}"}}'), 1)
        self.assertEqual(self.value(f'node_network_up{{target="iface",device="{HOST_IF}"}}'), 1)
        self.assertEqual(self.value(
            f'node_network_info{{target="iface",device="{HOST_IF}",operstate="up"}}'), 1)
        for m, v in self.prom.query("netres_probe_failure_info"):
            self.fail(f"a failure while everything is up: {m}")

        # Every rule of the shipped file loaded and evaluates; none holds while all is well. An
        # evaluation after the scrapes above sees their series, and a rule whose expression holds
        # then has an ALERTS series (pending first).
        groups = self.prom.api("/api/v1/rules")["groups"]
        self.assertEqual(len([r for g in groups for r in g["rules"]]), self.rule_count)
        scraped = time.time()
        wait_until("the rules evaluated again", lambda: self.prom.rules_evaluated_since(scraped),
                   10)
        self.assertEqual(self.prom.query("ALERTS"), [])

    def test_2_iface_counters_follow_ip_s_link(self):
        """Datagrams sent over the veth show in node_network_transmit_bytes_total in
        Prometheus, and every counter of the probe that saw them lies between `ip -s link`'s
        readings before the send and after the query."""
        self.host.assert_routed_via_veth(NS_V4)
        sel = f'target="iface",device="{HOST_IF}"'
        start = self.value(f"node_network_transmit_bytes_total{{{sel}}}")
        self.assertIsNotNone(start)
        before = ip_stats(HOST_IF)
        count, size = 200, 1000
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(count):
                s.sendto(b"x" * size, (NS_V4, UDP_DISCARD))

        def counted():
            # One query: the samples of one scrape (Prometheus's isolation), so one probe.
            got = {m["__name__"]: v for m, v in self.prom.query(
                f'{{__name__=~"node_network_.*_total",{sel}}}')}
            return got if got.get("node_network_transmit_bytes_total", 0) >= \
                start + count * size else None
        got = wait_until("the datagrams counted in Prometheus", counted, BOUND)
        after = ip_stats(HOST_IF)
        pairs = {"receive_bytes": ("rx", "bytes"), "transmit_bytes": ("tx", "bytes"),
                 "receive_packets": ("rx", "packets"), "transmit_packets": ("tx", "packets"),
                 "receive_errs": ("rx", "errors"), "transmit_errs": ("tx", "errors"),
                 "receive_drop": ("rx", "dropped"), "transmit_drop": ("tx", "dropped"),
                 "receive_multicast": ("rx", "multicast")}
        # node_exporter's netdev names that `ip -s link` does not show (nothing to compare with).
        others = {"receive_fifo", "receive_frame", "receive_compressed", "transmit_fifo",
                  "transmit_colls", "transmit_carrier", "transmit_compressed"}
        self.assertEqual(set(got), {f"node_network_{n}_total" for n in [*pairs, *others]})
        for name, (way, field) in pairs.items():
            v = got[f"node_network_{name}_total"]
            self.assertLessEqual(before[way][field], v, name)
            self.assertLessEqual(v, after[way][field], name)
        self.assertGreaterEqual(got["node_network_transmit_packets_total"] -
                                before["tx"]["packets"], 0)
        self.assertGreaterEqual(after["tx"]["packets"] - before["tx"]["packets"], count)

    def test_3_failures_each_with_its_reason(self):
        def failures(target, reason):
            return self.value(f'netres_probe_failures_total{{target="{target}",'
                              f'reason="{reason}"}}') or 0
        counted_before = {t: failures(t, r) for t, r in EXPECTED.items()}

        # Every failure at once: they are independent of each other.
        def restart_s_server():
            self.stop_s_server()
            self.start_s_server(self.wrong)

        def remove_name():
            write(self.dns_hosts, "")
            os.kill(self.dns.process.pid, signal.SIGHUP)

        def drop_every_other_echo_request():
            self.host.exec(["iptables", "-A", "INPUT", "-p", "icmp", "--icmp-type",
                            "echo-request", "-m", "statistic", "--mode", "nth", "--every", "2",
                            "--packet", "0", "-j", "DROP"])

        port = self.sshd.port

        def new_host_key():
            self.sshd.stop()
            self.sshd.new_host_key()
            self.sshd.start()

        changed_at = {}
        for targets, change in ((("http",), self.nginx.stop),
                                (("tls", "https"), restart_s_server),
                                (("dns",), remove_name),
                                (("tcp",), lambda: self.host.drop_ports(NS_PORT, NS_PORT)),
                                (("icmp",), drop_every_other_echo_request),
                                (("ssh",), new_host_key)):
            change()
            for t in targets:
                changed_at[t] = time.monotonic()
        self.assertEqual(self.sshd.port, port)

        seen = {}

        def all_failed():
            down = {m["target"] for m, v in self.prom.query("probe_success == 0")}
            info = {m["target"]: m["reason"] for m, _ in
                    self.prom.query("netres_probe_failure_info == 1")}
            for target, reason in EXPECTED.items():
                if target not in seen and target in down and info.get(target) == reason and \
                        failures(target, reason) > counted_before[target]:
                    seen[target] = round(time.monotonic() - changed_at[target], 1)
            last[:] = [seen, info]
            return len(seen) == len(EXPECTED)
        last = []
        poll("every target failing with its reason in Prometheus", all_failed, BOUND,
             lambda: last)
        print(f"\nseconds from the change to Prometheus showing the reason: {seen}",
              file=sys.stderr)

        self.assertEqual(self.value('netres_icmp_loss_ratio{target="icmp"}'), 0.5)
        self.assertEqual(self.value('netres_icmp_packets_sent{target="icmp"}'), 4)
        self.assertEqual(self.value('netres_icmp_packets_received{target="icmp"}'), 2)
        self.assertEqual(self.value('netres_probe_dns_rcode_info{target="dns",rcode="NXDOMAIN"}'),
                         1)
        for target in ("https", "tls"):
            # A certificate that failed verification still shows its expiry.
            self.assertEqual(self.value(f'netres_probe_ssl_verified{{target="{target}"}}'), 0)
            self.assertEqual(self.value(f'probe_ssl_earliest_cert_expiry{{target="{target}"}}'),
                             not_after(self.wrong[0]))
        self.assertEqual(self.value('netres_ssh_hostkey_ok{target="ssh"}'), 0)
        new_fp = harness.run("ssh-keygen", "-l", "-E", "sha256", "-f",
                             self.sshd.host_key + ".pub").stdout.split()[1]
        self.assertEqual(self.value(f'netres_ssh_info{{target="ssh",fingerprint="{new_fp}"}}'),
                         1)
        self.assertEqual(self.value('probe_success{target="iface"}'), 1)

        # The new host key is never accepted: more probes, all failing, known_hosts untouched.
        changed = failures("ssh", "hostkey_changed")
        wait_until("two more hostkey_changed probes",
                   lambda: failures("ssh", "hostkey_changed") >= changed + 2, BOUND)
        self.assertEqual(self.value('max_over_time(probe_success{target="ssh"}[2s])'), 0)
        with open(self.known_hosts, "rb") as f:
            self.assertEqual(f.read(), self.known_hosts_bytes)

        # The shipped rules fire for them (every `for:` cut to 1s).
        want = {("SshHostKeyChanged", "ssh"), ("ProbeTargetDown", "http"),
                ("ProbeTargetDown", "ssh"), ("CertificateNotVerified", "https"),
                ("CertificateNotVerified", "tls"), ("PacketLoss", "icmp"),
                ("CertificateExpiresSoon", "https"), ("CertificateExpiresSoon", "tls")}
        poll("the alerts to fire", lambda: want <= self.prom.firing(), BOUND, self.prom.firing)

    def test_4_iface_down(self):
        harness.run("ip", "link", "set", HOST_IF, "down")
        sel = f'target="iface",device="{HOST_IF}"'
        wait_until("iface failing with reason down", lambda: self.value(
            'netres_probe_failure_info{target="iface",reason="down"}') == 1, BOUND)
        wait_until("the series to show it", lambda: self.value(
            f'node_network_up{{{sel}}}') == 0 and self.value(
            f'node_network_info{{{sel},operstate="down"}}') == 1, BOUND)
        self.assertEqual(self.value('probe_success{target="iface"}'), 0)
        self.assertGreater(self.value(
            'netres_probe_failures_total{target="iface",reason="down"}') or 0, 0)


if __name__ == "__main__":
    harness.main()
