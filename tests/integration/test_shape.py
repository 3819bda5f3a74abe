#!/usr/bin/env python3
"""netres shape end to end on a veth pair into a network namespace this test creates: a tbf
limit measured with a bulk TCP transfer, --show against `tc qdisc show`, --clear back to full
speed, and the errors (missing interface, no CAP_NET_ADMIN, bad rate or burst).

Only the test's own veth is shaped; traffic goes only to 198.18.21.2 inside the namespace,
after `ip route get` proved the route.
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import ndjson, netres, require_root, run  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
from netns import NamespaceHost  # noqa: E402

NS = "nrshape-t"
HOST_IF, NS_IF = "nrshape0", "nrshape1"
HOST_ADDR, NS_ADDR = "198.18.21.1", "198.18.21.2"
PORT = 5301
LIMIT_BITS = 8_000_000
# Wire bytes per TCP payload byte: 1514-byte frames (tbf counts the Ethernet header) carry
# 1448 bytes of payload with timestamps.
WIRE_PER_PAYLOAD = 1514 / 1448

RECEIVER = r"""
import json, socket, sys, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2])))
srv.listen(1)
srv.settimeout(15)
print("ready", flush=True)
conn, _ = srv.accept()
conn.settimeout(10)
first = None
skip = float(sys.argv[3])  # the first moments ride on the bucket's burst and the queue
counted = 0
start = end = None
while True:
    data = conn.recv(1 << 16)
    if not data:
        break
    now = time.monotonic()
    if first is None:
        first = now
    if now - first >= skip:
        if start is None:
            start = now
        else:
            counted += len(data)
        end = now
print(json.dumps({"bytes": counted, "seconds": (end - start) if start and end else 0}), flush=True)
"""


def transfer_bits_per_second(seconds, skip, port=PORT):
    """Bulk TCP from the root namespace to the receiver in NS for `seconds`: payload bits/s."""
    recv = subprocess.Popen(["ip", "netns", "exec", NS, sys.executable, "-c", RECEIVER, NS_ADDR,
                             str(port), str(skip)], stdout=subprocess.PIPE, text=True)
    try:
        assert recv.stdout.readline().strip() == "ready"
        import socket
        s = socket.create_connection((NS_ADDR, port), timeout=5)
        s.settimeout(5)
        chunk = b"\0" * 65536
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            s.send(chunk)
        s.close()
        out, _ = recv.communicate(timeout=20)
    finally:
        recv.kill()
        recv.wait()
    result = json.loads(out)
    assert result["seconds"] > 0.5, result
    return result["bytes"] * 8 / result["seconds"]


@require_root("ip", "tc")
class ShapeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_ADDR, NS_ADDR, 30).setup()
        cls.addClassCleanup(cls.host.teardown)
        cls.host.assert_routed_via_veth(NS_ADDR)

    def tearDown(self):
        subprocess.run(["tc", "qdisc", "del", "dev", HOST_IF, "root"], capture_output=True,
                       timeout=10)

    def test_tbf_limits_shows_and_clears(self):
        r = netres("shape", HOST_IF, "--rate", "8mbit", "--burst", "16k")
        self.assertEqual(r.returncode, 0, r.stderr)
        tc = run("tc", "qdisc", "show", "dev", HOST_IF).stdout
        self.assertIn("tbf 1: root", tc)
        self.assertIn("rate 8Mbit", tc)
        self.assertIn("burst 16Kb", tc)

        shown = netres("shape", HOST_IF, "--show", "--json")
        self.assertEqual(shown.returncode, 0, shown.stderr)
        rows = ndjson(shown.stdout)
        root = [q for q in rows if q["type"] == "qdisc" and q["parent"] == "root"]
        self.assertEqual(len(root), 1, rows)
        self.assertEqual(root[0]["kind"], "tbf")
        self.assertEqual(root[0]["rate_bits"], LIMIT_BITS)
        self.assertEqual(root[0]["burst"], 16384)
        text = netres("shape", HOST_IF, "--show")
        self.assertRegex(text.stdout, r"qdisc\s+tbf\s+1:\s+root\s+8mbit")

        payload_bps = transfer_bits_per_second(3.0, 0.5)
        wire_bps = payload_bps * WIRE_PER_PAYLOAD
        print(f"\n  tbf 8mbit: {wire_bps / 1e6:.2f} Mbit/s on the wire", file=sys.stderr)
        self.assertLess(abs(wire_bps - LIMIT_BITS) / LIMIT_BITS, 0.10,
                        f"measured {wire_bps / 1e6:.2f} Mbit/s on the wire")

        r = netres("shape", HOST_IF, "--clear")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("tbf", run("tc", "qdisc", "show", "dev", HOST_IF).stdout)
        fast = transfer_bits_per_second(1.0, 0.2)
        print(f"  after --clear: {fast / 1e6:.0f} Mbit/s", file=sys.stderr)
        self.assertGreater(fast, 10 * LIMIT_BITS, f"{fast / 1e6:.1f} Mbit/s after --clear")

    def test_htb_limits_the_matched_port_only(self):
        r = netres("shape", HOST_IF, "--match", "port", str(PORT), "--rate", "4mbit")
        self.assertEqual(r.returncode, 0, r.stderr)
        classes = run("tc", "class", "show", "dev", HOST_IF).stdout
        self.assertIn("class htb 1:10", classes)
        self.assertIn("rate 4Mbit", classes)
        filters = run("tc", "filter", "show", "dev", HOST_IF).stdout
        self.assertIn(f"match {PORT:04x}0000/ffff0000 at 20", filters)  # source port
        self.assertIn(f"match 0000{PORT:04x}/0000ffff at 20", filters)  # destination port
        shown = ndjson(netres("shape", HOST_IF, "--show", "--json").stdout)
        self.assertIn(("htb", "1:10", 4_000_000),
                      [(e["kind"], e["handle"], e.get("rate_bits")) for e in shown])

        matched = transfer_bits_per_second(3.0, 0.5) * WIRE_PER_PAYLOAD
        print(f"\n  htb port {PORT} at 4mbit: {matched / 1e6:.2f} Mbit/s", file=sys.stderr)
        self.assertLess(abs(matched - 4_000_000) / 4_000_000, 0.10)
        other = transfer_bits_per_second(1.0, 0.2, port=PORT + 1)
        print(f"  other port: {other / 1e6:.0f} Mbit/s", file=sys.stderr)
        self.assertGreater(other, 10 * 4_000_000)

        # Applying again replaces the setup instead of failing on the existing one.
        r = netres("shape", HOST_IF, "--match", "port", "80", "--rate", "2mbit", "--default-rate",
                   "50mbit")
        self.assertEqual(r.returncode, 0, r.stderr)
        classes = run("tc", "class", "show", "dev", HOST_IF).stdout
        self.assertIn("rate 2Mbit", classes)
        self.assertIn("rate 50Mbit", classes)
        self.assertNotIn("rate 4Mbit", classes)
        self.assertIn("default 0x10020", run("tc", "qdisc", "show", "dev", HOST_IF).stdout)

    def test_rate_can_be_replaced(self):
        self.assertEqual(netres("shape", HOST_IF, "--rate", "8mbit").returncode, 0)
        r = netres("shape", HOST_IF, "--rate", "2mbit", "--latency", "100ms")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rate 2Mbit", run("tc", "qdisc", "show", "dev", HOST_IF).stdout)

    def test_clear_without_qdisc_is_fine(self):
        r = netres("shape", HOST_IF, "--clear")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_missing_interface_exits_3(self):
        for args in (["nrshape-none0", "--rate", "1mbit"], ["nrshape-none0", "--show"]):
            r = netres("shape", *args)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn("no such interface 'nrshape-none0'", r.stderr)

    def test_without_privileges_exits_3_naming_cap_net_admin(self):
        r = netres("shape", HOST_IF, "--rate", "1mbit", user=65534, group=65534, extra_groups=[])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("CAP_NET_ADMIN", r.stderr)
        self.assertNotIn("tbf", run("tc", "qdisc", "show", "dev", HOST_IF).stdout)

    def test_bad_flags_exit_2(self):
        for args in ([HOST_IF, "--rate", "fast"], [HOST_IF, "--rate", "0mbit"],
                     [HOST_IF, "--rate", "1mbit", "--burst", "10"],
                     [HOST_IF, "--rate", "1mbit", "--burst", "lots"],
                     [HOST_IF, "--rate", "1mbit", "--latency", "-1s"],
                     [HOST_IF, "--rate", "1mbit", "--show"], [HOST_IF],
                     [HOST_IF, "--burst", "32k"],
                     [HOST_IF, "--rate", "1mbit", "--match", "host", "x"],
                     [HOST_IF, "--rate", "1mbit", "--match", "port", "70000"]):
            r = netres("shape", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
        self.assertNotIn("tbf", run("tc", "qdisc", "show", "dev", HOST_IF).stdout)


if __name__ == "__main__":
    harness.main()
