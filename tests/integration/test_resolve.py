#!/usr/bin/env python3
"""netres resolve against a real dnsmasq and a real unbound on 127.0.0.1 that the test starts
(tests/fixtures/dnsmasq.py, unbound.py): every record type checked exactly through --json (the
newer ones against dig's own rendering of the same answer), NXDOMAIN, timeouts against a socket
that never answers (and what waiting costs in CPU), a closed port, loss and duplication through
a relay, bad input, names from stdin and files. No other server is queried.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import ndjson, netres  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
from dnsmasq import Dnsmasq, LossyRelay, SilentUdpServer, closed_udp_port, ns_rdata_hex  # noqa: E402
from unbound import Unbound  # noqa: E402

TTL = 300
RECORDS = [
    "--host-record=web.test,10.1.2.3",  # also the PTR 3.2.1.10.in-addr.arpa -> web.test
    "--host-record=v6.test,fd00::5",
    "--host-record=both.test,10.1.2.4,fd00::4",
    "--cname=www.test,alias.test",  # two hops: www -> alias -> web
    "--cname=alias.test,web.test",
    "--mx-host=mx.test,mail.test,10",
    "--txt-record=txt.test,v=spf1 -all,second string",
    f"--dns-rr=ns.test,2,{ns_rdata_hex('ns1.test')}",
    "--ptr-record=9.9.9.10.in-addr.arpa,ptr.test",
]


class Resolve(unittest.TestCase):
    dns = None

    @classmethod
    def setUpClass(cls):
        cls.dns = Dnsmasq(RECORDS, tag="netres-resolve-test", ttl=TTL)
        cls.dns.start()

    @classmethod
    def tearDownClass(cls):
        if cls.dns is not None:
            cls.dns.stop()

    def netres(self, *args, stdin=None, server=None, timeout=20):
        server = server or self.dns.server
        return netres("resolve", "--server", server, *args, input=stdin, timeout=timeout)

    def rows(self, *args, **kw):
        r = self.netres("--json", *args, **kw)
        rows = ndjson(r.stdout)
        return r, rows

    def check_row(self, row, name, type_, status, answers, chain=(), qname=None):
        """Compares every field; duration_ms only for being a sane number."""
        self.assertIsInstance(row.pop("duration_ms"), (int, float))
        rcode = {"NOERROR": 0, "NXDOMAIN": 3}.get(status)
        want_ttl = TTL if answers or chain else None
        self.assertEqual(row, {
            "name": name, "type": type_, "qname": qname or name, "status": status, "rcode": rcode,
            "answers": [{"type": type_, "data": d, "ttl": TTL} for d in answers],
            "cname_chain": list(chain), "ttl": want_ttl, "server": self.dns.server,
        })

    def test_addresses_and_cname_chain(self):
        r, rows = self.rows("web.test", "v6.test", "both.test", "www.test")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(rows), 8)
        self.check_row(rows[0], "web.test", "A", "NOERROR", ["10.1.2.3"])
        self.check_row(rows[1], "web.test", "AAAA", "NOERROR", [])
        self.check_row(rows[2], "v6.test", "A", "NOERROR", [])
        self.check_row(rows[3], "v6.test", "AAAA", "NOERROR", ["fd00::5"])
        self.check_row(rows[4], "both.test", "A", "NOERROR", ["10.1.2.4"])
        self.check_row(rows[5], "both.test", "AAAA", "NOERROR", ["fd00::4"])
        self.check_row(rows[6], "www.test", "A", "NOERROR", ["10.1.2.3"],
                       chain=["alias.test", "web.test"])
        self.check_row(rows[7], "www.test", "AAAA", "NOERROR", [], chain=["alias.test", "web.test"])

    def test_mx_txt_ns_cname(self):
        r, rows = self.rows("--type", "MX", "mx.test")
        self.check_row(rows[0], "mx.test", "MX", "NOERROR", ["10 mail.test"])
        r, rows = self.rows("-t", "txt", "txt.test")
        self.check_row(rows[0], "txt.test", "TXT", "NOERROR", ['"v=spf1 -all" "second string"'])
        r, rows = self.rows("-t", "NS", "ns.test")
        self.check_row(rows[0], "ns.test", "NS", "NOERROR", ["ns1.test"])
        r, rows = self.rows("-t", "CNAME", "www.test")
        self.check_row(rows[0], "www.test", "CNAME", "NOERROR", ["alias.test"])
        self.assertEqual(r.returncode, 0, r.stderr)
        # Comma lists and repeated flags combine; one row per name and type, in that order.
        r, rows = self.rows("-t", "mx,txt", "-t", "A", "mx.test")
        self.assertEqual([x["type"] for x in rows], ["MX", "TXT", "A"])

    def test_ptr_for_addresses(self):
        r, rows = self.rows("10.1.2.3", "10.9.9.9", "fd00::5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_row(rows[0], "10.1.2.3", "PTR", "NOERROR", ["web.test"],
                       qname="3.2.1.10.in-addr.arpa")
        self.check_row(rows[1], "10.9.9.9", "PTR", "NOERROR", ["ptr.test"],
                       qname="9.9.9.10.in-addr.arpa")
        v6_reverse = ".".join(reversed("fd00" + "0" * 27 + "5")) + ".ip6.arpa"
        self.check_row(rows[2], "fd00::5", "PTR", "NOERROR", ["v6.test"], qname=v6_reverse)

    def test_nxdomain_is_a_result_and_exit_1(self):
        r, rows = self.rows("web.test", "nope.test")
        self.assertEqual(r.returncode, 1)
        self.assertEqual([x["status"] for x in rows], ["NOERROR", "NOERROR", "NXDOMAIN", "NXDOMAIN"])
        self.check_row(rows[2], "nope.test", "A", "NXDOMAIN", [])
        self.assertIn("2 names, 1 ok, 1 failed", r.stderr)

    def test_table_shows_chain(self):
        r = self.netres("www.test", "nope.test", "-t", "A")
        self.assertEqual(r.returncode, 1)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "TYPE", "STATUS", "TTL", "ANSWERS"])
        self.assertEqual(lines[1].split(None, 4),
                         ["www.test", "A", "NOERROR", "300", "www.test -> alias.test -> web.test -> 10.1.2.3"])
        self.assertEqual(lines[2].split(), ["nope.test", "A", "NXDOMAIN", "-", "-"])
        # stderr is a pipe here: no progress line, just the summary.
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertRegex(r.stderr, r"^netres: resolve: 2 names, 1 ok, 1 failed, 2 queries in \S+ "
                                   r"\(\d+ queries/s\)\n$")

    def test_timeouts_are_results_not_hangs(self):
        with SilentUdpServer() as silent:
            names = [f"n{i}.test" for i in range(20)]
            start = time.monotonic()
            r, rows = self.rows("--timeout", "200ms", "--retries", "1", *names, server=silent.server)
            took = time.monotonic() - start
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(rows), 40)
        self.assertTrue(all(x["status"] == "timeout" and x["rcode"] is None for x in rows), rows[0])
        # Two attempts of 200 ms each: far under this bound.
        self.assertLess(took, 8)
        self.assertIn("20 names, 0 ok, 20 failed", r.stderr)

    def test_waiting_costs_no_cpu(self):
        # One name, a server that never answers: 3 attempts' worth of waiting (6 s). Before, this
        # polled epoll with a zero timeout and burned 2.6 s of CPU; now it sleeps in epoll_wait.
        with SilentUdpServer() as silent:
            start = time.monotonic()
            proc = subprocess.Popen(
                [harness.NETRES, "resolve", "--server", silent.server, "--timeout", "2s",
                 "--retries", "2", "-t", "A", "--json", "silent.test"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                out, err = proc.communicate(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
            took = time.monotonic() - start
            # communicate() reaped it: its CPU is in our children's rusage.
        import resource
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.assertEqual(proc.returncode, 1, err)
        self.assertEqual(json.loads(out)["status"], "timeout")
        self.assertGreater(took, 5.5)  # the whole budget was waited out, not cut short
        cpu = usage.ru_utime + usage.ru_stime - self.children_cpu_before
        self.assertLess(cpu, 0.3, f"{cpu:.2f} s of CPU for a {took:.1f} s wait")

    def setUp(self):
        import resource
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.children_cpu_before = usage.ru_utime + usage.ru_stime

    def test_closed_port_fails_every_query_at_once(self):
        # Nothing listens: the kernel answers each datagram with an ICMP port unreachable. All 20
        # queries in flight fail as "connrefused" at once, none waits out the 5 s timeout.
        port = closed_udp_port()
        names = [f"n{i}.test" for i in range(20)]
        start = time.monotonic()
        r, rows = self.rows("--timeout", "5s", "-t", "A", *names, server=f"127.0.0.1:{port}")
        took = time.monotonic() - start
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual([x["status"] for x in rows], ["connrefused"] * 20)
        self.assertTrue(all(x["rcode"] is None for x in rows))
        self.assertLess(took, 3)  # far under one 5 s timeout, with room for a loaded machine

    def test_loss_and_duplicates_through_a_relay(self):
        # Every 5th question loses its first datagram and every answer arrives twice. All names
        # resolve, each exactly once, long before a 5 s timeout would have fired.
        names = [f"h{i}.test" if i % 4 else "web.test" for i in range(200)]
        with LossyRelay(self.dns.port, drop_every=5) as relay:
            start = time.monotonic()
            r, rows = self.rows("-t", "A", "--timeout", "5s", "--stats",
                                stdin="\n".join(names) + "\n", server=relay.server)
            took = time.monotonic() - start
            dropped = relay.dropped
        self.assertEqual([x["name"] for x in rows], names)
        self.assertEqual(sum(x["status"] == "NXDOMAIN" for x in rows), 150)
        self.assertEqual(sum(x["status"] == "NOERROR" for x in rows), 50)
        self.assertGreaterEqual(dropped, 30)  # every 5th of 151 distinct questions
        engine = re.search(r"engine: (\d+) sent, (\d+) retransmitted, (\d+) late", r.stderr)
        self.assertIsNotNone(engine, r.stderr)
        sent, retransmitted, late = map(int, engine.groups())
        self.assertGreaterEqual(retransmitted, dropped)
        self.assertEqual(sent, 200 + retransmitted)
        self.assertGreaterEqual(late, 1)
        # The first datagrams go out before any RTT is known (RTO 1 s); a fixed 5 s timeout per
        # lost datagram is what this rules out.
        self.assertLess(took, 4.5)

    def test_names_from_stdin(self):
        r, rows = self.rows("-t", "A", stdin="web.test\n# comment\n\nboth.test\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([(x["name"], x["answers"][0]["data"]) for x in rows],
                         [("web.test", "10.1.2.3"), ("both.test", "10.1.2.4")])
        r, rows = self.rows("-t", "A", "-f", "-", stdin="web.test\n")
        self.assertEqual([x["name"] for x in rows], ["web.test"])

    def test_names_from_file_with_arguments(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("# hosts\nboth.test  \n\n   10.1.2.3 # web\n")
            f.flush()
            r, rows = self.rows("-t", "A", "web.test", "-f", f.name)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([(x["name"], x["type"]) for x in rows],
                         [("web.test", "A"), ("both.test", "A"), ("10.1.2.3", "PTR")])

    def test_many_names_in_order(self):
        # Thousands of queries through a small window: every row once, in input order.
        names = [f"h{i}.test" if i % 10 else "web.test" for i in range(3000)]
        r, rows = self.rows("-t", "A", "--concurrency", "64", stdin="\n".join(names) + "\n")
        self.assertEqual(r.returncode, 1)
        self.assertEqual([x["name"] for x in rows], names)
        self.assertEqual(sum(x["status"] == "NXDOMAIN" for x in rows), 2700)
        self.assertEqual(sum(x["answers"] == [{"type": "A", "data": "10.1.2.3", "ttl": TTL}]
                             for x in rows), 300)

    def assert_usage_error(self, args, expect_in, stdin=None):
        r = self.netres(*args, stdin=stdin)
        self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertTrue(r.stderr.startswith("netres: resolve: "), r.stderr)
        self.assertIn(expect_in, r.stderr)
        self.assertEqual(r.stdout, "")

    def test_bad_input_exits_2_with_one_line(self):
        self.assert_usage_error([""], "bad name '': empty name")
        self.assert_usage_error(["a" * 64 + ".test"], "over the 63 byte limit")
        self.assert_usage_error([".".join(["a" * 60] * 5)], "over the 253 byte limit")
        self.assert_usage_error(["bad_name!.test"], "bad character '!'")
        self.assert_usage_error(["a..test"], "empty label")
        self.assert_usage_error(["-f", "/nonexistent/names"], "cannot read names from '/nonexistent/names'")
        self.assert_usage_error(["-t", "BOGUS", "web.test"], "bad --type 'BOGUS'")
        self.assert_usage_error(["-t", "TYPE0", "web.test"], "bad --type 'TYPE0'")
        self.assert_usage_error(["-t", "TYPE65536", "web.test"], "bad --type 'TYPE65536'")
        self.assert_usage_error(["--timeout", "soon", "web.test"], "bad --timeout 'soon'")
        self.assert_usage_error(["--concurrency", "0", "web.test"], "bad --concurrency")
        self.assert_usage_error([], "no names to resolve", stdin="# only a comment\n")

    def test_bad_server_exits_2(self):
        for bad in ("localhost", "127.0.0.1:0", "[::1", "1.2.3.4:99999", "127.0.0.1,"):
            r = netres("resolve", "--server", bad, "web.test", timeout=20)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            self.assertIn("bad DNS server", r.stderr)

    def test_bad_name_in_file_has_file_and_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("web.test\n# fine\nexa mple.test\n")
            f.flush()
            self.assert_usage_error(["-f", f.name], f"{f.name}:3: bad name 'exa mple.test'")


def dig_short(server, name, qtype):
    """`dig +short` for one question to our own server, names without their trailing dot (the
    form netres uses throughout)."""
    host, port = server.rsplit(":", 1)
    out = subprocess.run(["dig", "+short", "+norecurse", "+time=2", "+tries=1", "-p", port,
                          f"@{host}", name, qtype],
                         capture_output=True, text=True, timeout=20, check=True).stdout
    lines = []
    for line in out.splitlines():
        text, quoted, i = [], False, 0
        while i < len(line):
            c = line[i]
            if c == "\\" and quoted:
                text.append(line[i:i + 2])
                i += 2
                continue
            if c == '"':
                quoted = not quoted
            # A name's trailing dot: '.' ending a token that is not the root itself.
            if (c == "." and not quoted and (i + 1 == len(line) or line[i + 1] == " ")
                    and i > 0 and line[i - 1] != " "):
                i += 1
                continue
            text.append(c)
            i += 1
        lines.append("".join(text))
    return lines


UNBOUND_DATA = [
    "test. 300 IN SOA ns1.test. hostmaster.test. 2024010101 3600 900 604800 300",
    "web.test. 300 IN A 10.1.2.3",
    "_sip._tcp.test. 300 IN SRV 10 60 5060 sip.test.",
    "_sip._tcp.test. 300 IN SRV 20 0 5061 sip2.test.",
    'test. 300 IN CAA 0 issue "letsencrypt.org"',
    'test. 300 IN CAA 128 iodef "mailto:sec@example.test"',
    'naptr.test. 300 IN NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.test!" .',
    'svc.test. 300 IN HTTPS 1 . alpn="h2,h3" ipv4hint=10.1.2.3 ipv6hint=fd00::5 port=8443',
    "svc.test. 300 IN SVCB 0 web.test.",
    'svc2.test. 300 IN SVCB 2 svc.test. mandatory=alpn alpn="h2" no-default-alpn ech=AAEC '
    'key65333="hi"',
    r"raw.test. 300 IN TYPE65400 \# 4 0a000001",
    r"raw2.test. 300 IN TYPE65401 \# 40 000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
    "1c1d1e1f2021222324252627",
    'txt.test. 300 IN TXT "a \\"quoted\\" string" "semi;colon"',
    # Over 512 bytes: without EDNS the UDP answer is truncated and netres asks again over TCP.
    "big.test. 300 IN TXT " + " ".join(f'"{c * 200}"' for c in "xyz"),
]


@unittest.skipUnless(os.path.exists("/usr/sbin/unbound"), "unbound not installed")
class ResolveUnbound(unittest.TestCase):
    """The newer record types, served by unbound, rendered as dig renders them."""
    dns = None

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="netres-resolve-unbound-data-")
        # A bulk zone too, from a file unbound includes: 2000 names for a lossless bulk run.
        cls.bulk_file = os.path.join(cls.work, "bulk.conf")
        with open(cls.bulk_file, "w") as f:
            for i in range(2000):
                f.write(f'local-data: "b{i}.bulk.test. 300 IN A 10.7.{i >> 8}.{i & 255}"\n')
        os.chmod(cls.work, 0o755)
        cls.dns = Unbound(UNBOUND_DATA, zones=("test.",), local_data_file=cls.bulk_file)
        cls.dns.start()

    @classmethod
    def tearDownClass(cls):
        if cls.dns is not None:
            cls.dns.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def rows(self, *args):
        r = netres("resolve", "--server", self.dns.server, "--json", *args, timeout=60)
        return r, ndjson(r.stdout)

    @unittest.skipUnless(shutil.which("dig"), "dig not installed")
    def test_types_render_as_dig_shows_them(self):
        cases = [("test", "SOA"), ("_sip._tcp.test", "SRV"), ("test", "CAA"),
                 ("naptr.test", "NAPTR"), ("svc.test", "HTTPS"), ("svc.test", "SVCB"),
                 ("svc2.test", "SVCB"), ("raw.test", "TYPE65400"), ("raw2.test", "TYPE65401"),
                 ("txt.test", "TXT"), ("web.test", "A")]
        for name, qtype in cases:
            with self.subTest(name=name, type=qtype):
                r, rows = self.rows("-t", qtype, name)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(len(rows), 1)
                row = rows[0]
                self.assertEqual((row["status"], row["type"], row["ttl"]), ("NOERROR", qtype, 300))
                self.assertTrue(all(a["type"] == qtype and a["ttl"] == 300 for a in row["answers"]))
                want = dig_short(self.dns.server, name, qtype)
                self.assertTrue(want)  # dig saw records: the comparison is not vacuous
                # unbound rotates the order of an RRset between answers: compare as sets.
                self.assertEqual(sorted(a["data"] for a in row["answers"]), sorted(want))

    def test_exact_values_and_table(self):
        r, rows = self.rows("-t", "SRV,SOA", "_sip._tcp.test")
        self.assertEqual(sorted(a["data"] for a in rows[0]["answers"]),
                         ["10 60 5060 sip.test", "20 0 5061 sip2.test"])
        # SOA at a name below the apex: NODATA, with the SOA in the authority section only.
        self.assertEqual((rows[1]["status"], rows[1]["answers"]), ("NOERROR", []))
        r = netres("resolve", "--server", self.dns.server, "-t", "caa", "test", timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[1].split(None, 4)[:4],
                         ["test", "CAA", "NOERROR", "300"])
        self.assertEqual(sorted(r.stdout.splitlines()[1].split(None, 4)[4].split(", ")),
                         ['0 issue "letsencrypt.org"', '128 iodef "mailto:sec@example.test"'])
        r, rows = self.rows("-t", "HTTPS", "svc.test")
        self.assertEqual(rows[0]["answers"][0]["data"],
                         '1 . alpn="h2,h3" port=8443 ipv4hint=10.1.2.3 ipv6hint=fd00::5')
        r, rows = self.rows("-t", "TYPE65400", "raw.test", "nope.test")
        self.assertEqual(rows[0]["answers"][0]["data"], r"\# 4 0A000001")
        self.assertEqual(rows[1]["status"], "NXDOMAIN")
        self.assertEqual(r.returncode, 1)

    def test_truncated_answer_is_fetched_over_tcp(self):
        r = netres("resolve", "--server", self.dns.server, "--json", "--stats", "-t", "TXT",
                   "big.test", timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        row = json.loads(r.stdout)
        self.assertEqual(row["answers"][0]["data"],
                         " ".join(f'"{c * 200}"' for c in "xyz"))
        self.assertIn(" 1 over TCP,", r.stderr)

    def test_bulk_names_none_lost(self):
        names = [f"b{i}.bulk.test" for i in range(2000)]
        r = netres("resolve", "--server", self.dns.server, "--json", "-t", "A", "-c", "1000",
                   "--stats", input="\n".join(names) + "\n", timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = ndjson(r.stdout)
        self.assertEqual([x["name"] for x in rows], names)
        self.assertEqual([x["answers"][0]["data"] for x in rows],
                         [f"10.7.{i >> 8}.{i & 255}" for i in range(2000)])


if __name__ == "__main__":
    harness.main()
