#!/usr/bin/env python3
"""netres resolve against a real dnsmasq on 127.0.0.1 that the test starts (tests/fixtures/
dnsmasq.py): every record type checked exactly through --json, NXDOMAIN, timeouts against a
socket that never answers, bad input, names from stdin and files. No other server is queried.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
from dnsmasq import Dnsmasq, SilentUdpServer, ns_rdata_hex  # noqa: E402

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
        return subprocess.run(
            [harness.NETRES, "resolve", "--server", server, *args],
            input=stdin, capture_output=True, text=True, timeout=timeout)

    def rows(self, *args, **kw):
        r = self.netres("--json", *args, **kw)
        rows = [json.loads(line) for line in r.stdout.splitlines()]
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
        self.assert_usage_error(["-t", "SOA", "web.test"], "bad --type 'SOA'")
        self.assert_usage_error(["--timeout", "soon", "web.test"], "bad --timeout 'soon'")
        self.assert_usage_error(["--concurrency", "0", "web.test"], "bad --concurrency")
        self.assert_usage_error([], "no names to resolve", stdin="# only a comment\n")

    def test_bad_server_exits_2(self):
        for bad in ("localhost", "127.0.0.1:0", "[::1", "1.2.3.4:99999", "127.0.0.1,"):
            r = subprocess.run([harness.NETRES, "resolve", "--server", bad, "web.test"],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            self.assertIn("bad DNS server", r.stderr)

    def test_bad_name_in_file_has_file_and_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("web.test\n# fine\nexa mple.test\n")
            f.flush()
            self.assert_usage_error(["-f", f.name], f"{f.name}:3: bad name 'exa mple.test'")


if __name__ == "__main__":
    harness.main()
