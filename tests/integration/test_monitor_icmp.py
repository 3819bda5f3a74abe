"""netres monitor's icmp check against real kernels: a namespace host over a veth pair answers
every echo request, then iptables in the namespace drops every other one (loss 0.5), all of them
(loss 1, reason timeout) or rejects them (reason unreachable); IPv6 on loopback (::1). These run
from the root namespace, whose net.ipv4.ping_group_range lets no group open ping sockets, so root
uses raw sockets; inside the namespace the test allows group 0 and runs netres there against its
own loopback, so the unprivileged ping-socket path (and its error queue) is tested too.

Mostly --once; one served monitor (a free port on 127.0.0.1 the kernel picks, its pid in
/tmp/netres-monitor-icmp-test for leftover cleanup) shows the RTT histogram growing across bursts
and passes promtool check metrics. Namespace netres-monicmp-t / veth netres-monicmp0, 198.18.51.0/30.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from netns import NamespaceHost  # noqa: E402
from processes import kill_leftover, stop_process  # noqa: E402

STATE = "/tmp/netres-monitor-icmp-test"

NS, HOST_IF, NS_IF = "netres-monicmp-t", "netres-monicmp0", "netres-monicmp1"
HOST_V4, NS_V4 = "198.18.51.1", "198.18.51.2"

CONFIG = """
defaults: {interval: 5s, timeout: 1s, per_target: 1}
checks:
  ping: {kind: icmp, count: 4, interval: 20ms}
  ping_strict: {kind: icmp, count: 4, interval: 20ms, max_loss: 0.25}
  ping6: {kind: icmp, count: 3, interval: 20ms, preferred_ip_protocol: ip6}
targets:
"""


def once(config_targets, netns=None):
    """Runs `netres monitor --once --json` on a configuration; (exit code, {target/check: row})."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(CONFIG + config_targets)
        path = f.name
    try:
        cmd = [harness.NETRES, "monitor", "-c", path, "--once", "--json"]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        p = harness.run(*cmd, check=False, timeout=30)
    finally:
        os.unlink(path)
    if p.returncode not in (0, 1):
        raise AssertionError(f"exit {p.returncode}: {p.stderr}")
    rows = {f"{r['target']}/{r['check']}": r for r in harness.ndjson(p.stdout)}
    return p.returncode, rows


@harness.require_root("ip", "iptables")
class IcmpCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_V4, NS_V4, 30).setup()
        try:
            cls.host.assert_routed_via_veth(NS_V4)
            # ICMP errors for every rejected request, not the kernel's rate-limited few.
            cls.host.exec(["sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0"])
        except Exception:
            cls.host.teardown()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.host.teardown()

    def setUp(self):
        self.host.exec(["iptables", "-F", "INPUT"])

    def iptables(self, *rule):
        self.host.exec(["iptables", "-A", "INPUT", "-p", "icmp", "--icmp-type", "echo-request",
                        *rule])

    def test_all_replies_over_the_veth(self):
        code, rows = once(f"  - {{name: ns, address: {NS_V4}, checks: [ping]}}\n")
        self.assertEqual(code, 0, rows)
        r = rows["ns/ping"]
        self.assertTrue(r["success"], r)
        m = r["metrics"]
        self.assertEqual(m["netres_icmp_packets_sent"], 4)
        self.assertEqual(m["netres_icmp_packets_received"], 4)
        self.assertEqual(m["netres_icmp_loss_ratio"], 0)
        self.assertEqual(m["probe_icmp_reply_hop_limit"], 64)  # one hop, Linux's default TTL
        self.assertEqual(m["probe_ip_protocol"], 4)
        self.assertGreater(m["netres_icmp_rtt_min_seconds"], 0)
        self.assertLessEqual(m["netres_icmp_rtt_min_seconds"], m["netres_icmp_rtt_median_seconds"])
        self.assertLessEqual(m["netres_icmp_rtt_median_seconds"], m["netres_icmp_rtt_max_seconds"])
        self.assertLess(m["netres_icmp_rtt_max_seconds"], 1)
        self.assertEqual(m['probe_icmp_duration_seconds{phase="rtt"}'],
                         m["netres_icmp_rtt_median_seconds"])
        self.assertIn("raw socket", r["detail"])

    def test_every_other_request_dropped(self):
        # The nth match counts over the rule's life; per_target 1 runs the two checks one after
        # the other, each sending an even number, so each loses exactly half.
        self.iptables("-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0",
                      "-j", "DROP")
        code, rows = once(f"  - {{name: ns, address: {NS_V4}, checks: [ping, ping_strict]}}\n")
        self.assertEqual(code, 1, rows)
        lenient, strict = rows["ns/ping"], rows["ns/ping_strict"]
        for r in (lenient, strict):
            self.assertEqual(r["metrics"]["netres_icmp_loss_ratio"], 0.5, r)
            self.assertEqual(r["metrics"]["netres_icmp_packets_received"], 2, r)
        self.assertTrue(lenient["success"], lenient)  # no max_loss: replies are enough
        self.assertFalse(strict["success"], strict)
        self.assertEqual(strict["reason"], "loss")
        self.assertIn("loss 50% above max_loss 25%", strict["detail"])

    def test_all_dropped_is_a_timeout(self):
        self.iptables("-j", "DROP")
        code, rows = once(f"  - {{name: ns, address: {NS_V4}, checks: [ping]}}\n")
        self.assertEqual(code, 1)
        r = rows["ns/ping"]
        self.assertEqual(r["reason"], "timeout", r)
        self.assertEqual(r["metrics"]["netres_icmp_loss_ratio"], 1)
        self.assertNotIn("netres_icmp_rtt_median_seconds", r["metrics"])
        self.assertGreaterEqual(r["duration_s"], 0.9)  # it waited for the timeout

    def test_rejected_is_unreachable(self):
        self.iptables("-j", "REJECT", "--reject-with", "icmp-host-unreachable")
        code, rows = once(f"  - {{name: ns, address: {NS_V4}, checks: [ping]}}\n")
        self.assertEqual(code, 1)
        r = rows["ns/ping"]
        self.assertEqual(r["reason"], "unreachable", r)
        self.assertIn("destination unreachable (type 3, code 1)", r["detail"])
        self.assertLess(r["duration_s"], 0.9)  # every request answered by an error: no waiting

    def test_ipv6_loopback(self):
        code, rows = once("  - {name: lo6, address: '::1', checks: [ping6]}\n")
        self.assertEqual(code, 0, rows)
        r = rows["lo6/ping6"]
        self.assertEqual(r["metrics"]["probe_ip_protocol"], 6)
        self.assertEqual(r["metrics"]["netres_icmp_packets_received"], 3)
        self.assertEqual(r["metrics"]["probe_icmp_reply_hop_limit"], 64)
        self.assertTrue(r["success"], r)

    def test_ping_sockets_inside_the_namespace(self):
        self.host.exec(["sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 0"])
        try:
            code, rows = once("  - {name: lo4, address: 127.0.0.1, checks: [ping]}\n"
                              "  - {name: lo6, address: '::1', checks: [ping6]}\n", netns=NS)
            self.assertEqual(code, 0, rows)
            for key in ("lo4/ping", "lo6/ping6"):
                self.assertIn("ping socket", rows[key]["detail"])
                self.assertEqual(rows[key]["metrics"]["netres_icmp_loss_ratio"], 0)
                self.assertEqual(rows[key]["metrics"]["probe_icmp_reply_hop_limit"], 64)
            # An ICMP error reaches a ping socket through its error queue.
            self.host.exec(["iptables", "-A", "INPUT", "-i", "lo", "-p", "icmp", "--icmp-type",
                            "echo-request", "-j", "REJECT", "--reject-with",
                            "icmp-host-unreachable"])
            code, rows = once("  - {name: lo4, address: 127.0.0.1, checks: [ping]}\n", netns=NS)
            self.assertEqual(code, 1)
            self.assertEqual(rows["lo4/ping"]["reason"], "unreachable", rows)
            self.assertIn("ping socket", rows["lo4/ping"]["detail"])
        finally:
            self.host.exec(["sysctl", "-q", "-w", "net.ipv4.ping_group_range=1 0"])

    @unittest.skipUnless(shutil.which("promtool"), "needs promtool")
    def test_served_histogram_grows_and_passes_promtool(self):
        os.makedirs(STATE, exist_ok=True)
        pid_file = os.path.join(STATE, "monitor.pid")
        kill_leftover(pid_file, "netres")
        with socket.socket() as s:  # a free port, released just before netres binds it
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        config = os.path.join(STATE, "monitor.yaml")
        with open(config, "w") as f:
            f.write("defaults: {interval: 300ms, timeout: 250ms}\n"
                    "checks: {ping: {kind: icmp, count: 3, interval: 10ms}}\n"
                    f"targets: [{{name: ns, address: {NS_V4}, checks: [ping]}}]\n")
        proc = subprocess.Popen([harness.NETRES, "monitor", "-c", config, "--listen",
                                 f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            with open(pid_file, "w") as f:
                f.write(str(proc.pid))

            def metrics():
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    return r.read().decode()

            count = 'netres_icmp_rtt_seconds_count{target="ns",check="ping"} '

            def enough():
                text = metrics()
                for line in text.splitlines():
                    if line.startswith(count) and float(line.split()[-1]) >= 9:
                        return text
                return None

            text = wait_until("three bursts in the histogram", enough, 15)
            self.assertIn('netres_icmp_rtt_seconds_bucket{target="ns",check="ping",le="+Inf"}',
                          text)
            self.assertIn('probe_success{target="ns",check="ping"} 1', text)
            self.assertIn('netres_icmp_loss_ratio{target="ns",check="ping"} 0', text)
            r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        finally:
            stop_process(proc)
            for path in (pid_file, config):
                if os.path.exists(path):
                    os.unlink(path)

    def test_bad_settings_exit_2(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write("checks: {p: {kind: icmp, count: 20, interval: 1s}}\n"
                    "targets: [{address: 127.0.0.1, checks: [p]}]\n")
            f.flush()
            p = harness.netres("monitor", "-c", f.name, "--once", timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("longer than the timeout", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)


if __name__ == "__main__":
    harness.main()
