#!/usr/bin/env python3
"""netres capture end to end: decoded fields against tshark, filter counts against tcpdump, and
live captures on a veth pair into a network namespace this test creates (exact counts, SIGINT
during -w, -C rotation, a full disk, -Z, permission and usage errors).

Scapy builds the test files in this process only; netres, tshark and tcpdump read them.
Traffic goes only to 198.18.20.2, inside the namespace, after `ip route get` proved it.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import ndjson, netres, require_root, run  # noqa: E402
from live_capture import LiveCapture  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
from netns import NamespaceHost  # noqa: E402

NS = "nrcap-t"
HOST_IF, NS_IF = "nrcap0", "nrcap1"
HOST_ADDR, NS_ADDR = "198.18.20.1", "198.18.20.2"


def build_pcaps(directory):
    """Writes the oracle files; returns {name: path}."""
    from scapy.all import (ARP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether,
                           ICMPv6EchoReply, ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt,
                           IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw,
                           fragment, wrpcap, CookedLinux)
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    a, b = "10.1.0.1", "10.1.0.2"
    v6a, v6b = "2001:db8::1", "2001:db8::2"
    opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (12345, 0)), ("NOP", None),
            ("WScale", 7)]
    pkts = [
        e / IP(src=a, dst=b) / TCP(sport=51234, dport=80, flags="S", seq=1000, window=64240,
                                   options=opts),
        e / IP(src=b, dst=a) / TCP(sport=80, dport=51234, flags="SA", seq=5000, ack=1001,
                                   window=65160, options=[("MSS", 1400), ("WScale", 2)]),
        e / IP(src=a, dst=b) / TCP(sport=51234, dport=80, flags="A", seq=1001, ack=5001),
        e / IP(src=a, dst=b) / TCP(sport=51234, dport=80, flags="PA", seq=1001, ack=5001)
        / Raw(b"GET /index.html?q=1 HTTP/1.1\r\nHost: example\r\n\r\n"),
        e / IP(src=a, dst=b) / TCP(sport=40000, dport=8080, flags="PA", seq=7, ack=9)
        / Raw(b"POST /api/v1/items HTTP/1.0\r\nContent-Length: 0\r\n\r\n"),
        e / IP(src=a, dst=b) / TCP(sport=51234, dport=80, flags="FA", seq=1050, ack=5001),
        e / IP(src=a, dst=b) / TCP(sport=51234, dport=80, flags="R", seq=1051),
        e / IP(src=a, dst=b) / TCP(sport=1, dport=2, flags="SEC", seq=3),
        e / Dot1Q(vlan=100) / IP(src=a, dst=b) / TCP(sport=1111, dport=22, flags="S", seq=77),
        e / Dot1Q(vlan=100) / IP(src=a, dst=b) / UDP(sport=5000, dport=9000) / Raw(b"x" * 10),
        e / Dot1AD(vlan=300) / Dot1Q(vlan=200) / IP(src=a, dst=b) / UDP(sport=1, dport=2)
        / Raw(b"qinq"),
        e / Dot1AD(vlan=300) / Dot1Q(vlan=201) / IP(src=a, dst=b) / TCP(sport=3, dport=80,
                                                                        flags="S"),
        e / IP(src=a, dst="9.9.9.9") / UDP(sport=33000, dport=53)
        / DNS(id=0x1111, rd=1, qd=DNSQR(qname="www.example.com", qtype="A")),
        e / IP(src="9.9.9.9", dst=a) / UDP(sport=53, dport=33000)
        / DNS(id=0x1111, qr=1, ra=1, qd=DNSQR(qname="www.example.com", qtype="A"),
              an=DNSRR(rrname="www.example.com", rdata="93.184.216.34")
              / DNSRR(rrname="www.example.com", rdata="93.184.216.35")),
        e / IP(src=a, dst="9.9.9.9") / UDP(sport=33001, dport=53)
        / DNS(id=2, rd=1, qd=DNSQR(qname="mail.example.org", qtype="MX")),
        e / IPv6(src=v6a, dst="2001:db8::53") / UDP(sport=33002, dport=53)
        / DNS(id=3, rd=1, qd=DNSQR(qname="v6.example.net", qtype="AAAA")),
        e / IP(src=a, dst=b) / ICMP(type=8, id=7, seq=1) / Raw(b"ping"),
        e / IP(src=b, dst=a) / ICMP(type=0, id=7, seq=1) / Raw(b"ping"),
        e / IP(src=b, dst=a) / ICMP(type=3, code=3) / IP(src=a, dst=b) / UDP(sport=5, dport=6),
        e / ARP(op=1, hwsrc="02:00:00:00:00:01", psrc=a, pdst=b),
        e / ARP(op=2, hwsrc="02:00:00:00:00:02", psrc=b, hwdst="02:00:00:00:00:01", pdst=a),
        e / IPv6(src=v6a, dst=v6b) / IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting(addresses=[])
        / IPv6ExtHdrDestOpt() / TCP(sport=2000, dport=443, flags="S", seq=42),
        e / IPv6(src=v6a, dst=v6b) / ICMPv6EchoRequest(id=9, seq=2),
        e / IPv6(src=v6b, dst=v6a) / ICMPv6EchoReply(id=9, seq=2),
        e / IPv6(src=v6a, dst=v6b) / IPv6ExtHdrFragment(offset=0, m=1, id=0xabcd, nh=17)
        / UDP(sport=7000, dport=7001, len=2000) / Raw(b"f" * 64),
        e / IPv6(src=v6a, dst=v6b) / IPv6ExtHdrFragment(offset=9, m=0, id=0xabcd, nh=17)
        / Raw(b"g" * 48),
    ]
    big = IP(src=a, dst=b, id=4242) / UDP(sport=6000, dport=6001) / Raw(b"z" * 3000)
    pkts += [e / f for f in fragment(big, fragsize=1400)]
    files = {"mixed": os.path.join(directory, "mixed.pcap")}
    wrpcap(files["mixed"], pkts)
    files["cooked"] = os.path.join(directory, "cooked.pcap")
    wrpcap(files["cooked"], [CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x02" * 6,
                                         proto=0x0800) / IP(src=a, dst=b) / UDP(sport=9, dport=10),
                             CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=b"\x02" * 6,
                                         proto=0x86dd) / IPv6(src=v6a, dst=v6b)
                             / TCP(sport=11, dport=12, flags="S")])
    files["raw"] = os.path.join(directory, "raw.pcap")
    wrpcap(files["raw"], [IP(src=a, dst=b) / TCP(sport=13, dport=80, flags="S"),
                          IPv6(src=v6a, dst=v6b) / UDP(sport=14, dport=53)
                          / DNS(id=4, qd=DNSQR(qname="raw.example", qtype="TXT"))],
           linktype=101)
    return files


# tshark field -> how to read the same value from a netres JSON object (None: absent).
def _get(obj, *path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def _tcp_flags(j):
    raw = _get(j, "tcp", "flags_raw")
    return None if raw is None else "0x%04x" % raw


def _ack(j):
    # tshark prints the raw ack only when the ACK flag is set... and sometimes otherwise; compare
    # it where it means something.
    return _get(j, "tcp", "ack") if (_get(j, "tcp", "flags_raw") or 0) & 0x10 else "skip"


def _vlan_ids(tpid):
    # tshark names 802.1Q tags vlan.id and 802.1ad (QinQ outer) tags ieee8021ad.id.
    def get(j):
        ids = [str(t["id"]) for t in j.get("vlan", []) if t["tpid"] == tpid]
        return ",".join(ids) if ids else None
    return get


def _bool(v):
    return None if v is None else ("1" if v else "0")


def _div8(v):
    return None if v is None else v // 8


def _hex(digits, *path):
    # tshark prints identifiers in hex.
    return lambda j: None if _get(j, *path) is None else "0x%0*x" % (digits, _get(j, *path))


FIELDS = [
    ("frame.len", lambda j: j["len"]),
    ("frame.cap_len", lambda j: j["caplen"]),
    ("vlan.id", _vlan_ids(0x8100)),
    ("ieee8021ad.id", _vlan_ids(0x88a8)),
    ("ip.src", lambda j: _get(j, "ip", "src")),
    ("ip.dst", lambda j: _get(j, "ip", "dst")),
    ("ip.proto", lambda j: _get(j, "ip", "proto")),
    ("ip.id", _hex(4, "ip", "id")),
    ("ip.flags.mf", lambda j: _bool(_get(j, "ip", "mf"))),
    # tshark 4.0 counts fragment offsets in 8-byte units; netres in bytes.
    ("ip.frag_offset", lambda j: _div8(_get(j, "ip", "frag_offset"))),
    ("ipv6.src", lambda j: _get(j, "ipv6", "src")),
    ("ipv6.dst", lambda j: _get(j, "ipv6", "dst")),
    ("ipv6.fraghdr.ident", _hex(8, "ipv6", "frag", "id")),
    ("ipv6.fraghdr.offset", lambda j: _div8(_get(j, "ipv6", "frag", "offset"))),
    ("ipv6.fraghdr.more", lambda j: _bool(_get(j, "ipv6", "frag", "more"))),
    ("tcp.srcport", lambda j: _get(j, "tcp", "sport")),
    ("tcp.dstport", lambda j: _get(j, "tcp", "dport")),
    ("tcp.seq_raw", lambda j: _get(j, "tcp", "seq")),
    ("tcp.ack_raw", _ack),
    ("tcp.flags", _tcp_flags),
    ("tcp.window_size_value", lambda j: _get(j, "tcp", "win")),
    ("tcp.len", lambda j: _get(j, "tcp", "len")),
    ("tcp.options.mss_val", lambda j: _get(j, "tcp", "options", "mss")),
    ("tcp.options.wscale.shift", lambda j: _get(j, "tcp", "options", "wscale")),
    ("tcp.options.timestamp.tsval", lambda j: (_get(j, "tcp", "options", "ts") or [None])[0]),
    ("udp.srcport", lambda j: _get(j, "udp", "sport")),
    ("udp.dstport", lambda j: _get(j, "udp", "dport")),
    ("udp.length", lambda j: _get(j, "udp", "len")),
    ("dns.id", _hex(4, "dns", "id")),
    ("dns.flags.response", lambda j: _bool(_get(j, "dns", "response"))),
    ("dns.qry.name", lambda j: _get(j, "dns", "qname")),
    ("dns.qry.type", lambda j: _get(j, "dns", "qtype")),
    ("dns.count.answers", lambda j: _get(j, "dns", "ancount")),
    ("icmp.type", lambda j: _get(j, "icmp", "type")),
    ("icmp.code", lambda j: _get(j, "icmp", "code")),
    ("icmpv6.type", lambda j: _get(j, "icmpv6", "type")),
    ("icmpv6.echo.identifier", _hex(4, "icmpv6", "id")),
    ("arp.opcode", lambda j: _get(j, "arp", "op")),
    ("arp.src.proto_ipv4", lambda j: _get(j, "arp", "sender_ip")),
    ("arp.dst.proto_ipv4", lambda j: _get(j, "arp", "target_ip")),
    ("http.request.method", lambda j: _get(j, "http", "method")),
    ("http.request.uri", lambda j: _get(j, "http", "path")),
    ("http.request.version", lambda j: _get(j, "http", "version")),
]


def tshark_rows(path):
    cmd = ["tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=\t", "-E",
           "occurrence=a", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE"]
    for name, _ in FIELDS:
        cmd += ["-e", name]
    out = run(*cmd, timeout=60).stdout
    rows = []
    for line in out.splitlines():
        rows.append(line.split("\t"))
    return rows


def normalise(value):
    if value is None or value == "":
        return None
    return str(value)


class Oracle(unittest.TestCase):
    """Files: netres --json against tshark, netres filters against tcpdump."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="nrcap-oracle-")
        cls.files = build_pcaps(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def netres_json(self, path, *args):
        r = netres("capture", "-r", path, "--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return ndjson(r.stdout)

    def test_fields_match_tshark(self):
        for name, path in self.files.items():
            ours = self.netres_json(path)
            theirs = tshark_rows(path)
            self.assertEqual(len(ours), len(theirs), name)
            for number, (j, row) in enumerate(zip(ours, theirs), 1):
                self.assertNotIn("malformed", j, (name, number, j))
                self.assertNotIn("truncated", j, (name, number, j))
                for (field, getter), value in zip(FIELDS, row):
                    mine = getter(j)
                    if mine == "skip":
                        continue
                    # tshark also dissects the headers quoted inside an ICMP error; we don't.
                    if mine is None and "icmp" in j and field.split(".")[0] in ("tcp", "udp"):
                        continue
                    # tshark dissects ICMP errors' inner headers too: compare the outer one.
                    value = value.split(",")[0] if not field.endswith("vlan.id") else value
                    self.assertEqual(normalise(mine), normalise(value),
                                     f"{name} packet {number} field {field}: {j['summary']}")

    def test_summaries_cover_every_layer(self):
        text = netres("capture", "-r", self.files["mixed"], "-t").stdout
        for expected in [
            "IP 10.1.0.1:51234 > 10.1.0.2:80 TCP [S] seq 1000 win 64240 options [mss 1460,"
            "wscale 7,sackOK,TS val 12345 ecr 0] len 0",
            "HTTP GET /index.html?q=1 HTTP/1.1",
            "HTTP POST /api/v1/items HTTP/1.0",
            "vlan 300,200 IP 10.1.0.1:1 > 10.1.0.2:2 UDP len 4",
            "DNS response id 4369 A www.example.com ans 2",
            "DNS query id 2 MX mail.example.org",
            "ICMP echo-request id 7 seq 1",
            "ARP who-has 10.1.0.2 tell 10.1.0.1",
            "ARP reply 10.1.0.2 is-at 02:00:00:00:00:02",
            "IP6 [2001:db8::1]:2000 > [2001:db8::2]:443 TCP [S] seq 42",
            "ICMP6 echo-request id 9 seq 2",
            "frag id 43981 off 72",
            "UDP len 3000 frag id 4242 off 0+",
            "IP 10.1.0.1 > 10.1.0.2 UDP len 1400 frag id 4242 off 1400+",
        ]:
            self.assertIn(expected, text)
        self.assertNotIn("[truncated]", text)
        self.assertNotIn("[malformed", text)

    def test_filter_counts_match_tcpdump(self):
        path = self.files["mixed"]
        for flt in ["", "tcp", "udp port 53", "tcp and port 80", "vlan", "vlan and tcp",
                    "vlan 100", "vlan and vlan 200", "ip6", "arp", "icmp or icmp6",
                    "ip[6:2] & 0x1fff != 0", "tcp[tcpflags] & tcp-syn != 0", "not ip"]:
            args = flt.split() if flt else []
            ours = netres("capture", "-r", path, *args)
            self.assertEqual(ours.returncode, 0, (flt, ours.stderr))
            theirs = run("tcpdump", "-nr", path, *args)
            self.assertEqual(len(ours.stdout.splitlines()), len(theirs.stdout.splitlines()), flt)
            self.assertIn(f"{len(ours.stdout.splitlines())} packets captured", ours.stderr)

    def test_count_hex_and_stdout_only_packets(self):
        r = netres("capture", "-r", self.files["mixed"], "-c", "3", "-x")
        self.assertEqual(r.returncode, 0)
        lines = r.stdout.splitlines()
        self.assertEqual(sum(1 for x in lines if not x.startswith("\t")), 3)
        self.assertTrue(any(x.startswith("\t0x0000:  0200 0000 0002") for x in lines))
        self.assertNotIn("packets captured", r.stdout)

    def test_write_reads_back_identically(self):
        out = os.path.join(self.dir, "copy.pcap")
        r = netres("capture", "-r", self.files["mixed"], "-w", out, "tcp")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(run("tcpdump", "-nr", out).stdout,
                         run("tcpdump", "-nr", self.files["mixed"], "tcp").stdout)

    def test_errors(self):
        r = netres("capture", "-r", self.files["mixed"], "tcp", "and", "bogus-token")
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("netres: capture: bad filter"), r.stderr)
        r = netres("capture", "-r", os.path.join(self.dir, "missing.pcap"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.pcap", r.stderr)
        junk = os.path.join(self.dir, "junk.pcap")
        with open(junk, "wb") as f:
            f.write(os.urandom(100))
        r = netres("capture", "-r", junk)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("netres: capture: cannot read", r.stderr)
        # A capture cut mid-record: packets before the cut print, then a clear error.
        cut = os.path.join(self.dir, "cut.pcap")
        with open(self.files["mixed"], "rb") as f:
            data = f.read()
        with open(cut, "wb") as f:
            f.write(data[:300])
        r = netres("capture", "-r", cut)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertGreater(len(r.stdout.splitlines()), 0)
        self.assertIn("truncated", r.stderr)
        r = netres("capture", "-i", "nrcap-none0", "-c", "1")
        self.assertEqual(r.returncode, 3)
        self.assertIn("no such interface 'nrcap-none0'", r.stderr)
        r = netres("capture", "-r", self.files["mixed"], "-i", "lo")
        self.assertEqual(r.returncode, 2)
        r = netres("capture", "-r", self.files["mixed"], "-C", "1M")
        self.assertEqual(r.returncode, 2)

    def test_live_capture_without_permission(self):
        r = netres("capture", "-i", "lo", "-c", "1", timeout=30, user=65534, group=65534,
                   extra_groups=[])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("CAP_NET_RAW", r.stderr)


# Fields compared on cut packets besides FIELDS: header fields tshark shows one by one.
PREFIX_FIELDS = FIELDS + [
    ("eth.dst", lambda j: _get(j, "eth", "dst")),
    ("eth.src", lambda j: _get(j, "eth", "src")),
    ("ip.hdr_len", lambda j: _get(j, "ip", "hdr_len")),
    ("ip.len", lambda j: _get(j, "ip", "len")),
    ("ip.ttl", lambda j: _get(j, "ip", "ttl")),
    ("ipv6.plen", lambda j: _get(j, "ipv6", "plen")),
    ("ipv6.nxt", lambda j: _get(j, "ipv6", "nxt")),
    ("ipv6.hlim", lambda j: _get(j, "ipv6", "hlim")),
    ("tcp.hdr_len", lambda j: _get(j, "tcp", "hdr_len")),
    ("tcp.urgent_pointer", lambda j: _get(j, "tcp", "urg")),
    ("dns.count.queries", lambda j: _get(j, "dns", "qdcount")),
    ("dns.count.auth_rr", lambda j: _get(j, "dns", "nscount")),
    ("dns.count.add_rr", lambda j: _get(j, "dns", "arcount")),
    ("dns.qry.class", _hex(4, "dns", "qclass")),
    ("icmp.ident", lambda j: _get(j, "icmp", "id")),
    ("icmp.seq", lambda j: _get(j, "icmp", "seq")),
    ("icmpv6.code", lambda j: _get(j, "icmpv6", "code")),
    ("icmpv6.echo.sequence_number", lambda j: _get(j, "icmpv6", "seq")),
]


def prefix_packets():
    """Packets whose every prefix the truncation test reads: TCP with options (v4 and v6 after
    extension headers), UDP, DNS query and response, ICMP and ICMPv6 echo, a VLAN tag and an
    IPv6 fragment header."""
    from scapy.all import (DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Dot1Q, Ether,
                           ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                           IPv6ExtHdrHopByHop, Raw)
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    a, b = "10.1.0.1", "10.1.0.2"
    v6a, v6b = "2001:db8::1", "2001:db8::2"
    opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (12345, 0)), ("NOP", None),
            ("WScale", 7)]
    return [
        e / IP(src=a, dst=b) / TCP(sport=51234, dport=80, flags="S", seq=1000, window=64240,
                                   options=opts),
        e / IP(src=b, dst=a) / TCP(sport=80, dport=51234, flags="A", seq=5000, ack=1001,
                                   window=509, urgptr=3) / Raw(b"data"),
        e / Dot1Q(vlan=100) / IP(src=a, dst=b) / UDP(sport=5000, dport=9000) / Raw(b"x" * 10),
        e / IP(src=a, dst="9.9.9.9") / UDP(sport=33000, dport=53)
        / DNS(id=0x1111, rd=1, qd=DNSQR(qname="www.example.com", qtype="A")),
        e / IP(src="9.9.9.9", dst=a) / UDP(sport=53, dport=33000)
        / DNS(id=0x1111, qr=1, ra=1, qd=DNSQR(qname="www.example.com", qtype="A"),
              an=DNSRR(rrname="www.example.com", rdata="93.184.216.34")),
        e / IP(src=a, dst=b) / ICMP(type=8, id=7, seq=1) / Raw(b"ping"),
        e / IPv6(src=v6a, dst=v6b) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
        / TCP(sport=2000, dport=443, flags="S", seq=42, options=[("MSS", 1220)]),
        e / IPv6(src=v6a, dst=v6b) / ICMPv6EchoRequest(id=9, seq=2),
        e / IPv6(src=v6a, dst=v6b) / IPv6ExtHdrFragment(offset=0, m=1, id=0xabcd, nh=17)
        / UDP(sport=7000, dport=7001, len=2000) / Raw(b"f" * 16),
        e / IPv6(src=v6a, dst="2001:db8::53") / UDP(sport=33002, dport=53)
        / DNS(id=3, rd=1, qd=DNSQR(qname="v6.example.net", qtype="AAAA")),
    ]


def write_prefixes(path, frames, whole_only=False):
    """Every prefix (1 byte .. whole) of every frame, as records whose wire length is the whole
    frame's, the way a short snap length writes them. Returns [(frame index, caplen)]."""
    import struct
    index = []
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            for n in range(len(frame) if whole_only else 1, len(frame) + 1):
                f.write(struct.pack("<IIII", 1_700_000_000 + i, n, n, len(frame)) + frame[:n])
                index.append((i, n))
    return index


def flatten(obj, path=""):
    out = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{path}/{key}"))
        else:
            out[f"{path}/{key}"] = value
    return out


class Truncation(unittest.TestCase):
    """Every prefix of a set of packets (a snap length cutting each header at every byte):
    every field tshark shows, netres shows with the same value, and netres shows no value the
    whole packet does not have."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="nrcap-trunc-")
        cls.frames = [bytes(p) for p in prefix_packets()]
        cls.path = os.path.join(cls.dir, "prefixes.pcap")
        cls.index = write_prefixes(cls.path, cls.frames)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def netres_json(self, path):
        r = netres("capture", "-r", path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return ndjson(r.stdout)

    def test_every_prefix_against_tshark_fields(self):
        ours = self.netres_json(self.path)
        self.assertEqual(len(ours), len(self.index))
        cmd = ["tshark", "-r", self.path, "-n", "-T", "fields", "-E", "separator=\t", "-E",
               "occurrence=a", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
               "-o", "tcp.desegment_tcp_streams:FALSE", "-o",
               "tcp.analyze_sequence_numbers:FALSE"]
        for name, _ in PREFIX_FIELDS:
            cmd += ["-e", name]
        theirs = [line.split("\t") for line in run(*cmd, timeout=120).stdout.splitlines()]
        self.assertEqual(len(theirs), len(self.index))
        whole = {i: flatten(j) for (i, n), j in zip(self.index, ours) if n == len(self.frames[i])}
        compared = 0
        for (i, n), j, row in zip(self.index, ours, theirs):
            where = f"packet {i} cut at {n} of {len(self.frames[i])}: {j['summary']}"
            self.assertNotIn("malformed", j, where)
            self.assertEqual(j.get("truncated", False), n < len(self.frames[i]), where)
            if n < len(self.frames[i]):
                self.assertIn("[truncated]", j["summary"], where)
            for (field, getter), value in zip(PREFIX_FIELDS, row):
                if not value:
                    continue
                mine = getter(j)
                if mine == "skip":
                    continue
                self.assertEqual(normalise(mine), normalise(value), f"{field}, {where}")
                compared += 1
            full = whole[i]
            for key, value in flatten(j).items():
                if key in ("/ts", "/caplen", "/summary", "/truncated"):
                    continue
                self.assertIn(key, full, where)
                if isinstance(value, list):
                    self.assertEqual(value, full[key][:len(value)], f"{key}, {where}")
                else:
                    self.assertEqual(value, full[key], f"{key}, {where}")
        self.assertGreater(compared, 5000)

    def test_snaplen_38_keeps_the_tcp_ports_like_tcpdump(self):
        cut = os.path.join(self.dir, "snap38.pcap")
        whole = os.path.join(self.dir, "whole.pcap")
        write_prefixes(whole, self.frames[:1], whole_only=True)
        run("editcap", "-s", "38", whole, cut)
        [j] = self.netres_json(cut)
        self.assertEqual(j["caplen"], 38)
        self.assertEqual(j["tcp"], {"sport": 51234, "dport": 80})
        self.assertTrue(j["truncated"])
        text = netres("capture", "-r", cut, "-t").stdout
        self.assertIn("IP 10.1.0.1:51234 > 10.1.0.2:80 TCP [truncated]", text)
        # tcpdump shows the same two ports.
        self.assertIn("10.1.0.1.51234 > 10.1.0.2.80", run("tcpdump", "-nr", cut).stdout)


def captured(stderr):
    m = re.search(r"^(\d+) packets captured$", stderr, re.M)
    assert m, stderr
    return int(m.group(1))


def send_udp(count, port, size=32):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(count):
            sock.sendto(bytes([i % 256]) * size, (NS_ADDR, port))
            time.sleep(0.002)
    finally:
        sock.close()


def tcpdump_count(path):
    r = run("tcpdump", "-nr", path)
    return len(r.stdout.splitlines())


@require_root("ip")
class Live(unittest.TestCase):
    """Live captures on the host end of a veth pair whose other end is in our namespace."""

    @classmethod
    def setUpClass(cls):
        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_ADDR, NS_ADDR, 30).setup()
        cls.addClassCleanup(cls.host.teardown)
        # SAFETY: nothing is sent unless the target is reached through our own veth.
        cls.host.assert_routed_via_veth(NS_ADDR)
        # A TCP listener in the namespace that accepts and closes, for a bounded time.
        cls.host.popen(
            [sys.executable, "-c",
             "import socket,time\n"
             "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             f"s.bind(('{NS_ADDR}', 8080)); s.listen(64); s.settimeout(1)\n"
             "end=time.time()+120\n"
             "while time.time()<end:\n"
             "  try: c,_=s.accept(); c.close()\n"
             "  except OSError: pass\n"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if f"{NS_ADDR}:8080" in cls.host.exec(["ss", "-ltn"]).stdout:
                break
            time.sleep(0.05)
        # Resolve the neighbour once so ARP does not race the first counted packet.
        send_udp(1, 9)
        time.sleep(0.2)
        cls.dir = tempfile.mkdtemp(prefix="nrcap-live-")
        os.chmod(cls.dir, 0o777)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["umount", os.path.join(cls.dir, "full")], capture_output=True)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def capture_udp(self, port, count, size, *args, sig=signal.SIGINT):
        """Captures `count` datagrams to `port` with `args`; stops with `sig` once they are out."""
        cap = LiveCapture("-i", HOST_IF, *args, "udp", "and", "dst", "port", str(port))
        send_udp(count, port, size=size)
        time.sleep(0.5)
        rc, out, err = cap.finish(sig)
        self.assertEqual(rc, 0, err)
        return out, err

    def test_count_stops_after_exactly_n(self):
        cap = LiveCapture("-i", HOST_IF, "-c", "20", "--json", "udp", "and", "dst", "host",
                          NS_ADDR, "and", "dst", "port", "9999")
        send_udp(30, 9999)
        rc, out, err = cap.finish(timeout=15)
        self.assertEqual(rc, 0, err)
        lines = ndjson(out)
        self.assertEqual(len(lines), 20)
        self.assertTrue(all(j["udp"]["dport"] == 9999 and j["ip"]["dst"] == NS_ADDR
                            for j in lines))
        self.assertEqual(captured(err), 20)
        self.assertIn("packets received by filter", err)
        self.assertIn("0 packets dropped by kernel", err)

    def test_duration_and_tcp_connections(self):
        cap = LiveCapture("-i", HOST_IF, "--duration", "3s", "--immediate",
                          "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0 and "
                          f"dst host {NS_ADDR} and dst port 8080")
        started = time.monotonic()
        for _ in range(7):
            with socket.create_connection((NS_ADDR, 8080), timeout=5):
                pass
        rc, out, err = cap.finish(timeout=15)
        elapsed = time.monotonic() - started
        self.assertEqual(rc, 0, err)
        self.assertLess(elapsed, 10)
        self.assertEqual(len(out.splitlines()), 7, out)
        self.assertTrue(all(" TCP [S] " in x for x in out.splitlines()))

    def test_sigint_during_write_leaves_a_complete_file(self):
        path = os.path.join(self.dir, "sigint.pcap")
        out, err = self.capture_udp(9997, 40, 32, "-w", path)
        self.assertEqual(out, "")
        self.assertEqual(captured(err), 40)
        self.assertEqual(tcpdump_count(path), 40)

    def test_pcapng_by_name_reads_back_with_tshark(self):
        path = os.path.join(self.dir, "live.pcapng")
        _, err = self.capture_udp(9993, 50, 150, "-w", path, "-C", "8k")
        self.assertEqual(captured(err), 50)
        files = sorted(f for f in os.listdir(self.dir) if f.startswith("live.pcapng"))
        self.assertGreaterEqual(len(files), 2, files)
        rows = []
        for f in files:
            full = os.path.join(self.dir, f)
            with open(full, "rb") as fh:
                self.assertEqual(fh.read(4), b"\x0a\x0d\x0d\x0a", f)  # a Section Header Block
            r = run("tshark", "-r", full, "-T", "fields", "-e", "frame.interface_name",
                    "-e", "udp.dstport", "-e", "frame.cap_len")
            rows += [line.split("\t") for line in r.stdout.splitlines()]
            self.assertEqual(len(r.stdout.splitlines()), tcpdump_count(full), f)
        self.assertEqual(len(rows), 50)
        self.assertTrue(all(row == [HOST_IF, "9993", "192"] for row in rows), rows[:3])

    def test_pcapng_flag_any_name(self):
        path = os.path.join(self.dir, "flag.cap")
        self.capture_udp(9992, 10, 150, "-w", path, "--pcapng", "-s", "60", sig=signal.SIGTERM)
        self.assertIn("pcapng", run("capinfos", "-t", path).stdout)
        r = run("tshark", "-r", path, "-T", "fields", "-e", "frame.cap_len", "-e", "frame.len")
        self.assertEqual(r.stdout.splitlines(), ["60\t192"] * 10)

    def test_size_rotation_files_are_all_valid(self):
        path = os.path.join(self.dir, "rot.pcap")
        _, err = self.capture_udp(9996, 60, 200, "-w", path, "-C", "4k", sig=signal.SIGTERM)
        files = sorted(f for f in os.listdir(self.dir) if f.startswith("rot.pcap"))
        self.assertGreaterEqual(len(files), 3, files)
        total = 0
        for f in files:
            full = os.path.join(self.dir, f)
            self.assertLessEqual(os.path.getsize(full), 4096)
            total += tcpdump_count(full)
        self.assertEqual(total, 60)
        self.assertEqual(captured(err), 60)

    def test_full_disk_keeps_what_was_written(self):
        mount = os.path.join(self.dir, "full")
        os.mkdir(mount)
        run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount)
        try:
            path = os.path.join(mount, "full.pcap")
            cap = LiveCapture("-i", HOST_IF, "-w", path, "-U", "udp", "and", "dst", "port", "9995")
            send_udp(120, 9995, size=1000)
            rc, out, err = cap.finish(timeout=15)
            self.assertEqual(rc, 3, err)
            self.assertIn("No space left on device", err)
            m = re.search(r"^(\d+) packets written", err, re.M)
            self.assertTrue(m, err)
            written = int(m.group(1))
            self.assertGreater(written, 10)
            self.assertEqual(tcpdump_count(path), written)
        finally:
            run("umount", mount, check=False)

    def test_any_interface_and_drop_privileges(self):
        cap = LiveCapture("-i", "any", "-Z", "nobody", "-c", "3", "--json", "udp", "and", "dst",
                          "port", "9994")
        with open(f"/proc/{cap.proc.pid}/status") as f:
            uid_line = next(x for x in f if x.startswith("Uid:"))
        self.assertEqual(uid_line.split()[1:], ["65534"] * 4)
        send_udp(3, 9994)
        rc, out, err = cap.finish(timeout=15)
        self.assertEqual(rc, 0, err)
        lines = ndjson(out)
        self.assertEqual(len(lines), 3)
        self.assertIn(lines[0]["linktype"], (113, 276))
        self.assertEqual(lines[0]["ip"]["dst"], NS_ADDR)


if __name__ == "__main__":
    harness.main()
