#!/usr/bin/env python3
"""netres bandwidth end to end on a pcap this test writes with scapy: per-conversation totals
against tshark's conversation tables (conv,tcp and conv,udp), the host / port / proto views
against the flow view, eviction with a small --max-flows, and usage errors.

Live: a short run on loopback only, counting UDP datagrams this test sends to 127.0.0.1.
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import socket
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


def netres(*args, timeout=60):
    return subprocess.run([harness.NETRES, "bandwidth", *args], capture_output=True, text=True,
                          timeout=timeout)


def build_pcap(path):
    """A few dozen conversations over several seconds, both directions, v4 and v6, TCP with and
    without the handshake, UDP, ICMP and ARP. Per-direction bytes stay under 10 kB where tshark
    prints exact byte counts (it rounds to kB above)."""
    from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, Raw, wrpcap
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    pkts = []
    t = 1_700_000_000.0

    def add(p):
        nonlocal t
        p.time = t
        t += 0.05
        pkts.append(p)

    for i in range(12):  # TCP with handshake, initiated by the higher address sometimes
        c, s = f"10.2.{i % 3}.{10 + i}", f"10.2.9.{1 + i % 4}"
        cp, sp = 40000 + i, [80, 443, 22][i % 3]
        add(e / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="S"))
        add(e / IP(src=s, dst=c) / TCP(sport=sp, dport=cp, flags="SA"))
        for k in range(i % 4 + 1):
            add(e / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="PA") / Raw(b"q" * (50 + k)))
            add(e / IP(src=s, dst=c) / TCP(sport=sp, dport=cp, flags="PA") / Raw(b"r" * (900 + i)))
        add(e / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="FA"))
    for i in range(6):  # mid-stream TCP (no SYN seen) and IPv6
        a, b = f"2001:db8::{i + 1:x}", "2001:db8::ff"
        add(e / IPv6(src=a, dst=b) / TCP(sport=5000 + i, dport=8080, flags="A") / Raw(b"v" * 300))
        add(e / IPv6(src=b, dst=a) / TCP(sport=8080, dport=5000 + i, flags="A") / Raw(b"w" * 70))
    for i in range(8):  # UDP request/response
        c = f"10.3.0.{i + 1}"
        add(e / IP(src=c, dst="10.3.1.1") / UDP(sport=33000 + i, dport=53) / Raw(b"d" * 40))
        add(e / IP(src="10.3.1.1", dst=c) / UDP(sport=53, dport=33000 + i) / Raw(b"D" * 120))
        add(e / IPv6(src=f"2001:db8:1::{i + 1:x}", dst="2001:db8:1::53")
            / UDP(sport=34000 + i, dport=53) / Raw(b"x" * 30))
    for i in range(3):
        add(e / IP(src="10.4.0.1", dst="10.4.0.2") / ICMP(type=8, id=1, seq=i) / Raw(b"p" * 56))
        add(e / IP(src="10.4.0.2", dst="10.4.0.1") / ICMP(type=0, id=1, seq=i) / Raw(b"p" * 56))
    add(e / ARP(op=1, psrc="10.4.0.1", pdst="10.4.0.2"))
    wrpcap(path, pkts)
    return pkts


def parse_bytes(text):
    """tshark prints '1234 bytes' exactly, larger values as '43 kB' (rounded): (value, slack)."""
    m = re.fullmatch(r"(\d+) (bytes|kB|MB)", text)
    scale = {"bytes": 1, "kB": 1000, "MB": 1000000}[m.group(2)]
    return int(m.group(1)) * scale, scale


def tshark_conversations(pcap, proto):
    """{frozenset(endpoints): {endpoint: (frames_from, bytes_from, slack)}} from -z conv."""
    out = subprocess.run(["tshark", "-q", "-r", pcap, "-z", f"conv,{proto}", "-o",
                          "tcp.desegment_tcp_streams:FALSE"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    row = re.compile(r"^(\S+)\s+<->\s+(\S+)\s+(\d+) (\d+ \w+)\s+(\d+) (\d+ \w+)\s+(\d+) (\d+ \w+)")
    convs = {}
    for line in out.splitlines():
        m = row.match(line)
        if not m:
            continue
        a, b = m.group(1), m.group(2)
        # The "<-" columns count frames from B to A, the "->" columns A to B.
        ba_bytes, ba_slack = parse_bytes(m.group(4))
        ab_bytes, ab_slack = parse_bytes(m.group(6))
        convs[frozenset((a, b))] = {a: (int(m.group(5)), ab_bytes, ab_slack),
                                    b: (int(m.group(3)), ba_bytes, ba_slack)}
    return convs


def endpoint(addr, port):
    return f"{addr}:{port}"


class BandwidthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="netres-bw-")
        cls.pcap = os.path.join(cls.tmp.name, "mixed.pcap")
        cls.pkts = build_pcap(cls.pcap)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def rows(self, *args):
        r = netres("-r", self.pcap, "--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        objs = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(objs[-1]["type"], "summary")
        return objs[:-1], objs[-1]

    def test_flow_totals_match_tshark_conversations(self):
        rows, summary = self.rows("--by", "flow")
        self.assertEqual(summary["packets"], len(self.pkts))
        self.assertEqual(summary["bytes"], sum(len(p) for p in self.pkts))
        self.assertEqual(summary["non_ip_packets"], 1)
        self.assertEqual(summary["evicted"], 0)
        for proto in ("tcp", "udp"):
            convs = tshark_conversations(self.pcap, proto)
            mine = [r for r in rows if r["proto"] == proto]
            self.assertEqual(len(mine), len(convs), proto)
            self.assertGreater(len(convs), 5)
            for r in mine:
                a, b = endpoint(r["a"], r["a_port"]), endpoint(r["b"], r["b_port"])
                conv = convs.get(frozenset((a, b)))
                self.assertIsNotNone(conv, f"{a} <-> {b} not in tshark's {proto} table")
                for src, pk, by in ((a, "packets_a_to_b", "bytes_a_to_b"),
                                    (b, "packets_b_to_a", "bytes_b_to_a")):
                    frames, nbytes, slack = conv[src]
                    self.assertEqual(r[pk], frames, f"{a} <-> {b} from {src}")
                    self.assertLess(abs(r[by] - nbytes), slack, f"{a} <-> {b} from {src}")

    def test_tcp_initiator_is_a(self):
        rows, _ = self.rows("--by", "flow", "tcp")
        handshakes = [r for r in rows if r["b_port"] in (80, 443, 22)]
        self.assertEqual(len(handshakes), 12)
        for r in handshakes:
            self.assertTrue(r["a"].startswith("10.2.") and r["a_port"] >= 40000, r)

    def test_views_are_consistent_with_flows(self):
        flows, summary = self.rows("--by", "flow")
        sent = collections.Counter()
        received = collections.Counter()
        ports_sent = collections.Counter()
        ports_received = collections.Counter()
        protos = collections.Counter()
        for r in flows:
            sent[r["a"]] += r["bytes_a_to_b"]
            received[r["b"]] += r["bytes_a_to_b"]
            sent[r["b"]] += r["bytes_b_to_a"]
            received[r["a"]] += r["bytes_b_to_a"]
            if "a_port" in r:
                pa, pb = (r["proto"], r["a_port"]), (r["proto"], r["b_port"])
                ports_sent[pa] += r["bytes_a_to_b"]
                ports_received[pb] += r["bytes_a_to_b"]
                ports_sent[pb] += r["bytes_b_to_a"]
                ports_received[pa] += r["bytes_b_to_a"]
            protos[r["proto"]] += r["bytes"]
        hosts, hs = self.rows("--by", "host")
        self.assertEqual(hs["bytes"], summary["bytes"])
        self.assertEqual({h["host"]: h["bytes_sent"] for h in hosts if h["bytes_sent"]},
                         dict(+sent))
        self.assertEqual({h["host"]: h["bytes_received"] for h in hosts if h["bytes_received"]},
                         dict(+received))
        ports, _ = self.rows("--by", "port")
        got_sent = {(p["proto"], p["port"]): p["bytes_sent"] for p in ports
                    if p["bytes_sent"] and p["proto"] in ("tcp", "udp")}
        got_received = {(p["proto"], p["port"]): p["bytes_received"] for p in ports
                        if p["bytes_received"] and p["proto"] in ("tcp", "udp")}
        self.assertEqual(got_sent, dict(+ports_sent))
        self.assertEqual(got_received, dict(+ports_received))
        by_proto, _ = self.rows("--by", "proto")
        self.assertEqual({p["proto"]: p["bytes"] for p in by_proto}, dict(protos))
        self.assertEqual(sum(p["packets"] for p in by_proto) + 1, summary["packets"])

    def test_busiest_second(self):
        _, summary = self.rows()
        per_second = collections.Counter()
        for p in self.pkts:
            per_second[int(p.time)] += len(p)
        second, nbytes = per_second.most_common(1)[0]
        self.assertEqual(summary["peak_bytes"], nbytes)
        self.assertEqual(summary["peak_second"], second)

    def test_small_table_evicts_and_counts(self):
        rows, summary = self.rows("--max-flows", "4")
        self.assertLessEqual(len(rows), 4)
        self.assertGreater(summary["evicted"], 20)
        self.assertEqual(summary["packets"], len(self.pkts))
        r = netres("-r", self.pcap, "--max-flows", "4")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("evicted", r.stderr)
        self.assertIn("evicted", r.stdout)

    def test_top_limits_offline_rows_to_the_busiest(self):
        everything, _ = self.rows()
        top, summary = self.rows("--top", "3")
        self.assertGreater(len(everything), 3)
        self.assertEqual(len(top), 3)
        busiest = sorted((row["bytes"] for row in everything), reverse=True)[:3]
        self.assertEqual(sorted((row["bytes"] for row in top), reverse=True), busiest)
        self.assertEqual(summary["packets"], len(self.pkts))

    def test_filter_and_text_output(self):
        r = netres("-r", self.pcap, "udp", "and", "port", "53")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("udp 10.3.0.1:33000 <=> 10.3.1.1:53", r.stdout)
        self.assertNotIn("tcp", r.stdout)
        self.assertIn("busiest second", r.stdout)

    def test_live_snapshots_and_totals_on_loopback(self):
        port = 39871
        proc = subprocess.Popen([harness.NETRES, "bandwidth", "-i", "lo", "--duration", "3500ms",
                                 "--json", "--interval", "1s", "udp", "and", "port", str(port),
                                 "and", "port", str(port + 1)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 5
            # Wait for "listening" so no datagram is sent before the capture is open.
            while time.monotonic() < deadline and "listening" not in proc.stderr.readline():
                pass
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            # A fixed source port too: other tests running in parallel send UDP from ephemeral
            # ports on lo, and one of them could be `port`.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port + 1))
            for _ in range(50):
                sock.sendto(b"b" * 972, ("127.0.0.1", port))  # 1014-byte frames on lo
                time.sleep(0.03)
            sock.close()
            out, err = proc.communicate(timeout=15)
        finally:
            proc.kill()
            proc.wait()
        self.assertEqual(proc.returncode, 0, err)
        objs = [json.loads(line) for line in out.splitlines()]
        snapshots = [o for o in objs if o["type"] == "snapshot"]
        self.assertGreaterEqual(len(snapshots), 2)
        # Which side is A depends on the ephemeral port (no TCP initiator here): either way.
        self.assertTrue(any(row["bps_2s_a_to_b"] + row["bps_2s_b_to_a"] > 0
                            for s in snapshots for row in s["rows"]))
        flows = [o for o in objs if o["type"] == "flow"]
        self.assertEqual(len(flows), 1)
        self.assertEqual(flows[0]["packets_a_to_b"] + flows[0]["packets_b_to_a"], 50)
        self.assertEqual(flows[0]["bytes"], 50 * 1014)
        self.assertEqual(objs[-1]["type"], "summary")

    def test_bad_flags_exit_2(self):
        for args in (["-r", self.pcap, "--by", "mac"], ["-r", self.pcap, "--max-flows", "0"],
                     ["-r", self.pcap, "--interval", "soon"], ["-r", self.pcap, "--top", "x"],
                     ["-r", self.pcap, "-i", "lo"], ["-r", "/nonexistent.pcap"],
                     ["-r", self.pcap, "not a filter ((("]):
            r = netres(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn("netres", r.stderr)


if __name__ == "__main__":
    harness.main()
