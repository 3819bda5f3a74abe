#!/usr/bin/env python3
"""netres bandwidth end to end on a pcap this test writes with scapy: per-conversation totals
against tshark's conversation tables (conv,tcp and conv,udp), the host / port / proto views
against the flow view, eviction with a small --max-flows, and usage errors.

Live: a short run on loopback only, counting UDP datagrams this test sends to 127.0.0.1.
"""
import collections
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
from harness import ndjson, netres  # noqa: E402


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


LIVE_DEFAULT_MAX_FLOWS = 100000


def build_many_flows_pcap(path, singles=LIVE_DEFAULT_MAX_FLOWS + 1500, long_flows=150):
    """More flows than the live table holds, written with struct (scapy would take minutes).
    `long_flows` TCP and UDP conversations send at the start and again at the end of the file,
    with every single-packet flow in between, so an LRU table of the live size would have
    evicted them (and split each into two rows). Returns (packets, bytes, non-IP packets)."""
    import struct

    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"

    def ip4(i):
        return bytes([10, 64 + (i >> 16), (i >> 8) & 255, i & 255])

    def frame(src, dst, proto, sport, dport, payload):
        if proto == 6:
            l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x18, 64240, 0, 0)
        else:
            l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
        l4 += payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0, src,
                         dst)
        return eth + b"\x08\x00" + ip + l4

    server = bytes([10, 250, 0, 1])
    records = []
    total = 0

    def add(data):
        nonlocal total
        n = len(records)
        records.append(struct.pack("<IIII", 1_700_000_000 + n // 20000, n % 20000 * 50,
                                   len(data), len(data)) + data)
        total += len(data)

    def conversation(k, rounds):
        proto = 6 if k % 2 == 0 else 17
        c = ip4(200000 + k)
        for r in range(rounds):
            add(frame(c, server, proto, 20000 + k, 443, b"q" * (10 + r + k % 7)))
            add(frame(server, c, proto, 443, 20000 + k, b"r" * (300 + k % 50)))

    for k in range(long_flows):
        conversation(k, 2)
    for i in range(singles):
        proto = 6 if i % 3 else 17
        add(frame(ip4(i), server, proto, 1024 + i % 50000, 80 if proto == 6 else 53,
                  b"x" * (i % 40)))
    for k in range(long_flows):
        conversation(k, 1)
    arp = eth + b"\x08\x06" + bytes(28)
    add(arp)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        f.write(b"".join(records))
    return len(records), total, 1


def parse_bytes(text):
    """tshark prints '1234 bytes' exactly, larger values as '43 kB' (rounded): (value, slack)."""
    m = re.fullmatch(r"(\d+) (bytes|kB|MB)", text)
    scale = {"bytes": 1, "kB": 1000, "MB": 1000000}[m.group(2)]
    return int(m.group(1)) * scale, scale


def tshark_conversations(pcap, proto, timeout=60):
    """{frozenset(endpoints): {endpoint: (frames_from, bytes_from, slack)}} from -z conv."""
    return tshark_all_conversations(pcap, (proto,), timeout)[proto]


def tshark_all_conversations(pcap, protos, timeout=60):
    """{proto: conversations} for several protocols from one tshark pass over the file."""
    cmd = ["tshark", "-q", "-r", pcap, "-o", "tcp.desegment_tcp_streams:FALSE"]
    for proto in protos:
        cmd += ["-z", f"conv,{proto}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         timeout=timeout).stdout
    row = re.compile(r"^(\S+)\s+<->\s+(\S+)\s+(\d+) (\d+ \w+)\s+(\d+) (\d+ \w+)\s+(\d+) (\d+ \w+)")
    result = {proto: {} for proto in protos}
    convs = None
    for line in out.splitlines():
        if line.endswith(" Conversations"):
            convs = result.get(line.split()[0].lower())
            continue
        m = row.match(line)
        if not m or convs is None:
            continue
        a, b = m.group(1), m.group(2)
        # The "<-" columns count frames from B to A, the "->" columns A to B.
        ba_bytes, ba_slack = parse_bytes(m.group(4))
        ab_bytes, ab_slack = parse_bytes(m.group(6))
        convs[frozenset((a, b))] = {a: (int(m.group(5)), ab_bytes, ab_slack),
                                    b: (int(m.group(3)), ba_bytes, ba_slack)}
    return result


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
        r = netres("bandwidth", "-r", self.pcap, "--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        objs = ndjson(r.stdout)
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

    def test_file_with_more_flows_than_the_live_table_matches_tshark(self):
        pcap = os.path.join(self.tmp.name, "many.pcap")
        packets, nbytes, non_ip = build_many_flows_pcap(pcap)
        r = netres("bandwidth", "-r", pcap, "--json", timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("evicted", r.stderr)
        objs = ndjson(r.stdout)
        summary = objs[-1]
        rows = [o for o in objs if o["type"] == "flow"]
        self.assertEqual(summary["type"], "summary")
        self.assertEqual(summary["evicted"], 0)
        self.assertEqual((summary["packets"], summary["bytes"]), (packets, nbytes))
        self.assertGreater(len(rows), LIVE_DEFAULT_MAX_FLOWS)
        self.assertEqual(sum(o["bytes"] for o in rows) + summary["non_ip_bytes"], nbytes)
        self.assertEqual(summary["non_ip_packets"], non_ip)
        mine = {}
        for o in rows:
            a, b = endpoint(o["a"], o["a_port"]), endpoint(o["b"], o["b_port"])
            key = (o["proto"], frozenset((a, b)))
            self.assertNotIn(key, mine, "a conversation split into two rows")
            mine[key] = {a: (o["packets_a_to_b"], o["bytes_a_to_b"]),
                         b: (o["packets_b_to_a"], o["bytes_b_to_a"])}
        theirs = {}
        for proto, convs in tshark_all_conversations(pcap, ("tcp", "udp"), 300).items():
            for ends, sides in convs.items():
                theirs[(proto, ends)] = {e: (v[0], v[1]) for e, v in sides.items()}
                self.assertTrue(all(v[2] == 1 for v in sides.values()), "tshark rounded")
        self.assertEqual(len(mine), len(theirs))
        self.assertEqual(mine, theirs)

        # A bound the user sets still holds, and the rows plus "other / evicted" add up.
        r = netres("bandwidth", "-r", pcap, "--json", "--max-flows", "1000", timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("evicted", r.stderr)
        objs = ndjson(r.stdout)
        rows = [o for o in objs if o["type"] == "flow"]
        other = [o for o in objs if o["type"] == "other"]
        self.assertEqual(len(rows), 1000)
        self.assertEqual(len(other), 1)
        self.assertEqual(other[0]["reason"], "evicted")
        self.assertEqual(other[0]["entries"], objs[-1]["evicted"])
        self.assertEqual(sum(o["bytes"] for o in rows) + other[0]["bytes"]
                         + objs[-1]["non_ip_bytes"], nbytes)
        self.assertEqual(sum(o["packets"] for o in rows) + other[0]["packets"] + non_ip, packets)

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
        self.assertLessEqual(len([o for o in rows if o["type"] == "flow"]), 4)
        self.assertGreater(summary["evicted"], 20)
        self.assertEqual(summary["packets"], len(self.pkts))
        r = netres("bandwidth", "-r", self.pcap, "--max-flows", "4")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("evicted", r.stderr)
        self.assertIn("other / evicted", r.stdout)
        # The rows and the "other" row add up to the totals, in every view.
        for view in ("flow", "host", "port"):
            rows, summary = self.rows("--max-flows", "4", "--by", view)
            other = [o for o in rows if o["type"] == "other"]
            self.assertEqual(len(other), 1, view)
            key = "bytes" if view == "flow" else "bytes_sent"
            self.assertEqual(sum(o[key] for o in rows) + summary["non_ip_bytes"],
                             summary["bytes"], view)

    def test_top_limits_offline_rows_to_the_busiest(self):
        everything, _ = self.rows()
        top, summary = self.rows("--top", "3")
        self.assertGreater(len(everything), 3)
        self.assertEqual(len(top), 3)
        busiest = sorted((row["bytes"] for row in everything), reverse=True)[:3]
        self.assertEqual(sorted((row["bytes"] for row in top), reverse=True), busiest)
        self.assertEqual(summary["packets"], len(self.pkts))

    def test_filter_and_text_output(self):
        r = netres("bandwidth", "-r", self.pcap, "udp", "and", "port", "53")
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
        objs = ndjson(out)
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
            r = netres("bandwidth", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn("netres", r.stderr)


if __name__ == "__main__":
    harness.main()
