"""netres monitor's iface check against real interfaces: a veth pair of a namespace host and a
dummy interface of our own. Bytes sent over the veth show in node_network_transmit_bytes_total
(at least what was sent, at most what `ip -s link` says afterwards); the link set down gives
reason `down`; a deleted interface gives reason `missing` and its series go; a glob matches
several interfaces. Also bad configurations (exit 2) and promtool on the exposition.

Port 18730 on 127.0.0.1; namespace netres-moniface-t / veth nrmoniface0 (198.18.52.0/30) and
host-only veth pair nrmoniface2/3 (interface names have at most 15 characters: "netres-moniface0" is one too
many).
"""
import json
import os
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

STATE = "/tmp/netres-monitor-iface-test"
PORT = 18730
NS, HOST_IF, NS_IF = "netres-moniface-t", "nrmoniface0", "nrmoniface1"
DUMMY, DUMMY_PEER = "nrmoniface2", "nrmoniface3"  # a host-only veth pair (no dummy module)
HOST_V4, NS_V4 = "198.18.52.1", "198.18.52.2"
UDP_PORT = 9  # discard: nothing listens in the namespace, the bytes still cross the veth

CONFIG = f"""
defaults: {{interval: 200ms, timeout: 1s}}
checks:
  nic: {{kind: iface, speed: 10mbit}}
  flows: {{kind: iface, top_flows: 2, flow_capture: 300ms}}
targets:
  - {{name: flows, address: {HOST_IF}, checks: [flows], interval: 500ms, timeout: 2s}}
  - {{name: veth, address: {HOST_IF}, checks: [nic]}}
  - {{name: ours, address: "nrmoniface*", checks: [nic]}}
  - {{name: loop, address: lo, checks: [nic]}}
"""


def metrics():
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=5) as r:
        return r.read().decode()


def samples(text, name, **labels):
    """Values of the samples `name{...}` whose labels include `labels`."""
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        if series != name and not series.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            out.append(float(value))
    return out


def one(text, name, **labels):
    v = samples(text, name, **labels)
    return v[0] if len(v) == 1 else None


def ip_stats(dev):
    out = harness.run("ip", "-j", "-s", "link", "show", "dev", dev).stdout
    return json.loads(out)[0]["stats64"]


def ip_tx_bytes(dev):
    return ip_stats(dev)["tx"]["bytes"]


def add_dummy():
    harness.run("ip", "link", "add", DUMMY, "type", "veth", "peer", "name", DUMMY_PEER)
    harness.run("ip", "link", "set", DUMMY, "up")
    harness.run("ip", "link", "set", DUMMY_PEER, "up")


def remove_dummy():
    harness.run("ip", "link", "del", DUMMY, check=False)  # takes its peer with it


@harness.require_root("ip", "promtool")
class IfaceCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(STATE, exist_ok=True)
        cls.pid_file = os.path.join(STATE, "monitor.pid")
        kill_leftover(cls.pid_file, "netres")
        remove_dummy()
        cls.tmp = tempfile.mkdtemp(prefix="netres-moniface-")
        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_V4, NS_V4, 30).setup()
        cls.proc = None
        try:
            add_dummy()
            cls.config = os.path.join(cls.tmp, "monitor.yaml")
            with open(cls.config, "w") as f:
                f.write(CONFIG)
            cls.log = open(os.path.join(STATE, "monitor.log"), "w+")
            cls.proc = subprocess.Popen(
                [harness.NETRES, "monitor", "-c", cls.config, "--listen", f"127.0.0.1:{PORT}"],
                stdout=cls.log, stderr=cls.log, stdin=subprocess.DEVNULL)
            with open(cls.pid_file, "w") as f:
                f.write(str(cls.proc.pid))
            wait_until("the veth probed", lambda: one(metrics(), "probe_success", target="veth")
                       == 1, 10)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.proc:
            stop_process(cls.proc)
            cls.log.close()
        cls.host.teardown()
        remove_dummy()
        subprocess.run(["rm", "-rf", cls.tmp])

    def test_1_bytes_sent_show_in_the_counter_and_utilisation(self):
        self.host.assert_routed_via_veth(NS_V4)  # never send anywhere but our namespace
        name = "node_network_transmit_bytes_total"
        before = one(metrics(), name, target="veth", device=HOST_IF)
        self.assertIsNotNone(before)
        count, size = 200, 1000
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(count):
                s.sendto(b"x" * size, (NS_V4, UDP_PORT))
        wait_until("the sent bytes counted", lambda: one(metrics(), name, target="veth",
                                                         device=HOST_IF) >= before + count * size,
                   10)
        after_ip = ip_tx_bytes(HOST_IF)
        text = metrics()
        seen = one(text, name, target="veth", device=HOST_IF)
        self.assertGreaterEqual(seen, before + count * size)
        self.assertLessEqual(seen, after_ip)  # the kernel's counter, read earlier
        for n in ("node_network_receive_bytes_total", "node_network_receive_packets_total",
                  "node_network_transmit_packets_total", "node_network_receive_errs_total",
                  "node_network_transmit_errs_total", "node_network_receive_drop_total",
                  "node_network_transmit_drop_total", "node_network_up"):
            self.assertIsNotNone(one(text, n, target="veth", device=HOST_IF), n)
        self.assertEqual(one(text, "node_network_up", target="veth"), 1)
        self.assertEqual(one(text, "node_network_info", target="veth", operstate="up"), 1)
        # The kernel's speed (veth: -1 on older kernels, 10000 on newer) in bytes, absent when
        # unknown; the `speed` setting (10mbit) overrides it for the utilisation.
        with open(f"/sys/class/net/{HOST_IF}/speed") as f:
            mbit = int(f.read())
        self.assertEqual(samples(text, "node_network_speed_bytes", target="veth"),
                         [mbit * 1e6 / 8] if mbit > 0 else [])
        util = one(text, "netres_iface_utilisation_ratio", target="veth", direction="transmit")
        rate = one(text, "netres_iface_transmit_bytes_per_second", target="veth")
        self.assertIsNotNone(util)
        self.assertGreaterEqual(util, 0)
        self.assertAlmostEqual(util, rate / 1.25e6)
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("# TYPE node_network_transmit_bytes_total counter", text)

    def test_1b_every_counter_between_ip_s_link_before_and_after(self):
        """Each of the eight counters lies between `ip -s link`'s reading before a probe and
        after the scrape that shows it."""
        self.host.assert_routed_via_veth(NS_V4)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # some traffic both ways:
            for _ in range(20):  # ICMP port unreachable comes back
                s.sendto(b"y" * 100, (NS_V4, UDP_PORT))
        before = ip_stats(HOST_IF)
        probes = one(metrics(), "netres_probes_total", target="veth")
        # Two more probes: the second one read /sys after `before`.
        wait_until("two more probes", lambda: one(metrics(), "netres_probes_total",
                                                  target="veth") >= probes + 2, 10)
        text = metrics()
        after = ip_stats(HOST_IF)
        pairs = {"receive_bytes": ("rx", "bytes"), "transmit_bytes": ("tx", "bytes"),
                 "receive_packets": ("rx", "packets"), "transmit_packets": ("tx", "packets"),
                 "receive_errs": ("rx", "errors"), "transmit_errs": ("tx", "errors"),
                 "receive_drop": ("rx", "dropped"), "transmit_drop": ("tx", "dropped")}
        for name, (way, field) in pairs.items():
            v = one(text, f"node_network_{name}_total", target="veth", device=HOST_IF)
            self.assertIsNotNone(v, name)
            self.assertLessEqual(before[way][field], v, name)
            self.assertLessEqual(v, after[way][field], name)
        self.assertGreater(after["rx"]["packets"], 0)  # the unreachables came back

    def test_1c_other_netdev_names_carrier_and_mtu(self):
        """node_exporter's other netdev columns are there; carrier is 1 on an up veth; the mtu
        follows `ip link set mtu`."""
        harness.run("ip", "link", "set", DUMMY, "mtu", "1400")
        mtu = json.loads(harness.run("ip", "-j", "link", "show", "dev", DUMMY).stdout)[0]["mtu"]
        self.assertEqual(mtu, 1400)
        wait_until("the new mtu probed", lambda: one(metrics(), "node_network_mtu_bytes",
                                                     target="ours", device=DUMMY) == mtu, 10)
        text = metrics()
        self.assertEqual(one(text, "node_network_carrier", target="ours", device=DUMMY), 1)
        self.assertEqual(one(text, "node_network_carrier", target="veth", device=HOST_IF), 1)
        self.assertEqual(one(text, "node_network_mtu_bytes", target="veth", device=HOST_IF),
                         json.loads(harness.run("ip", "-j", "link", "show", "dev",
                                                HOST_IF).stdout)[0]["mtu"])
        for n in ("receive_fifo", "receive_frame", "receive_compressed", "receive_multicast",
                  "transmit_fifo", "transmit_colls", "transmit_carrier", "transmit_compressed"):
            v = one(text, f"node_network_{n}_total", target="veth", device=HOST_IF)
            self.assertIsNotNone(v, n)
            self.assertGreaterEqual(v, 0, n)
            self.assertIn(f"# TYPE node_network_{n}_total counter", text)

    def test_2b_top_flows_and_other(self):
        """Three UDP flows of 20, 10 and 3 datagrams per round (dropped in the namespace, so no
        ICMP answers): the top 2 are the first two, the third is in `other`."""
        self.host.assert_routed_via_veth(NS_V4)
        self.host.exec(["iptables", "-A", "INPUT", "-p", "udp", "--dport", "12:14", "-j",
                        "DROP"])
        name = "netres_iface_flow_bytes_per_second"
        big, mid = f"{NS_V4}:12", f"{NS_V4}:13"

        def flows():
            return {line.split('flow="')[1].split('"')[0]: float(line.rpartition(" ")[2])
                    for line in metrics().splitlines()
                    if line.startswith(name + "{") and 'target="flows"' in line}

        def send_round():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for port, count, size in ((12, 20, 1000), (13, 10, 500), (14, 3, 100)):
                    for _ in range(count):
                        s.sendto(b"z" * size, (NS_V4, port))

        def seen():
            send_round()
            f = flows()
            return len(f) == 3 and any(big in k for k in f) and any(mid in k for k in f)
        wait_until("the top flows exported", seen, 10)  # bounded: 10 s of rounds
        f = flows()
        self.assertEqual(len(f), 3, f)  # 2 flows + other, never more
        self.assertIn("other", f)
        top = max(f, key=f.get)
        self.assertIn(big, top)
        self.assertTrue(top.startswith("udp "), top)
        second = [k for k in f if mid in k][0]
        self.assertGreater(f[top], f[second])
        self.assertGreaterEqual(f["other"], 0)
        self.assertEqual(one(metrics(), "probe_success", target="flows"), 1)

    def test_2_a_glob_matches_several(self):
        text = metrics()
        self.assertEqual(one(text, "probe_success", target="ours"), 1)
        for dev in (HOST_IF, DUMMY, DUMMY_PEER):
            self.assertIsNotNone(one(text, "node_network_receive_bytes_total", target="ours",
                                     device=dev), dev)
        # lo never reports operstate "up" (node_network_up 0, as node_exporter), but is not down.
        self.assertEqual(one(text, "probe_success", target="loop"), 1)
        self.assertEqual(one(text, "node_network_up", target="loop", device="lo"), 0)

    def test_3_link_down_then_deleted(self):
        harness.run("ip", "link", "set", HOST_IF, "down")
        wait_until("reason down", lambda: one(metrics(), "netres_probe_failure_info",
                                              target="veth", reason="down") == 1, 10)
        text = metrics()
        self.assertEqual(one(text, "probe_success", target="veth"), 0)
        self.assertEqual(one(text, "node_network_up", target="veth"), 0)
        self.assertEqual(one(text, "netres_probe_failure_info", target="ours", reason="down"), 1)

        # A deleted dummy: the glob's other device stays, the deleted one's series go.
        remove_dummy()
        wait_until("the dummy's series gone", lambda: samples(metrics(), "node_network_up",
                                                              device=DUMMY) == [], 10)
        # Created again: counters start from zero; no rate may come out negative.
        add_dummy()
        wait_until("the dummy back", lambda: one(metrics(), "node_network_up", target="ours",
                                                 device=DUMMY) is not None, 10)
        # The veth deleted (with its namespace peer): missing, and its series go.
        harness.run("ip", "link", "del", HOST_IF)
        wait_until("reason missing", lambda: one(metrics(), "netres_probe_failure_info",
                                                 target="veth", reason="missing") == 1, 10)
        # Every target's series of it go (the flows target is probed less often).
        wait_until("its series gone", lambda: samples(metrics(), "node_network_up",
                                                      device=HOST_IF) == [], 10)
        text = metrics()
        self.assertEqual(samples(text, "node_network_transmit_bytes_total", target="veth"), [])
        self.assertEqual(samples(text, "netres_iface_flow_bytes_per_second", device=HOST_IF), [])
        for n in ("netres_iface_receive_bytes_per_second", "netres_iface_transmit_bytes_per_second",
                  "netres_iface_utilisation_ratio"):
            for v in samples(text, n):
                self.assertGreaterEqual(v, 0, n)
        self.assertEqual(one(text, "probe_success", target="ours"), 1)  # the dummy is left

    def test_4_bad_configurations_exit_2(self):
        for address, check, expect in (
                ("a/b", "{kind: iface}", "interface name or glob"),
                ("http://x/", "{kind: iface}", "interface name or glob"),
                ("lo", "{kind: iface, speed: fast}", "speed"),
                ("lo", "{kind: iface, sped: 1gbit}", "unknown key 'sped'"),
                ("lo", "{kind: iface, top_flows: 0}", "top_flows"),
                ("lo", "{kind: iface, top_flows: 3, flow_capture: 2m}", "flow_capture")):
            path = os.path.join(self.tmp, "bad.yaml")
            with open(path, "w") as f:
                f.write(f"checks:\n  nic: {check}\ntargets:\n  - {{address: '{address}', "
                        "checks: [nic]}\n")
            r = harness.netres("monitor", "-c", path, "--once", check=False)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn(expect, r.stderr)
            self.assertIn("bad.yaml:", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    harness.main()
