#!/usr/bin/env python3
"""netres scan end to end, against a host in a network namespace this test creates (veth pair,
198.18.10.0/30 and fd00:6e72:10::/64), with listeners on known ports, iptables DROP and REJECT
on others; nmap -sT is the oracle for the open set. Traffic goes only to that namespace (checked
with `ip route get` before any scan) or, for bad-input cases, nowhere.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import ndjson, netres, require_root  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
from netns import NamespaceHost  # noqa: E402

NS, HOST_IF, NS_IF = "nrscan-t", "nrscan0", "nrscan1"
HOST_V4, TARGET_V4 = "198.18.10.1", "198.18.10.2"
HOST_V6, TARGET_V6 = "fd00:6e72:10::1", "fd00:6e72:10::2"
OPEN = {22, 80, 443, 3306, 31337}
DROPPED = set(range(5000, 5050))
REJECTED = set(range(6000, 6005))
PORTS = "20-30,75-85,440-450,3300-3310,31330-31340,5000-5049"
ALL = set()
for item in PORTS.split(","):
    lo, hi = map(int, item.split("-"))
    ALL |= set(range(lo, hi + 1))
CLOSED = ALL - OPEN - DROPPED
BANNER = "SSH-2.0-netres-test"
HTTP_PORTS = (8080, 31400)  # outside PORTS, so the exact-set checks above are unaffected


def ports_with(rows, state):
    return {r["port"] for r in rows if r["state"] == state}


@require_root("ip")
class Scan(unittest.TestCase):
    host = None

    @classmethod
    def setUpClass(cls):
        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_V4, TARGET_V4, 30, HOST_V6, TARGET_V6)
        cls.host.setup()
        cls.addClassCleanup(cls.host.teardown)
        for target in (TARGET_V4, TARGET_V6):
            cls.host.assert_routed_via_veth(target)
        cls.host.drop_ports(min(DROPPED), max(DROPPED))
        cls.host.reject_ports(min(REJECTED), max(REJECTED))
        listeners = cls.host.popen(
            [sys.executable, os.path.join(harness.FIXTURES, "tcp_listeners.py"),
             "--ports", ",".join(map(str, sorted(OPEN))), "--banner", BANNER,
             "--banner-ports", "22", "--max-seconds", "240"],
            stdout=subprocess.PIPE, text=True)
        line = listeners.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"listeners did not start: {line!r}")
        # Web servers for the banner probe: one on a web port (probed at once), one on a
        # port netres does not know as a web port (probed when it stays silent).
        for port in HTTP_PORTS:
            cls.host.popen([sys.executable, "-m", "http.server", "--bind", "::", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           cwd=tempfile.gettempdir())
        deadline = time.monotonic() + 10
        for port in HTTP_PORTS:
            while True:
                try:
                    socket.create_connection((TARGET_V4, port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"http.server on {port} did not start")
                    time.sleep(0.1)

    def netres(self, *args, timeout=60):
        return netres("scan", *args, timeout=timeout)

    def scan_json(self, *args):
        r = self.netres(*args, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return ndjson(r.stdout), r

    # --- states -------------------------------------------------------------------------------
    def check_states(self, target):
        rows, r = self.scan_json(target, "-p", PORTS)
        self.assertEqual(len(rows), len(ALL))
        self.assertEqual(sorted(r["port"] for r in rows), sorted(ALL))  # each port exactly once
        self.assertEqual(ports_with(rows, "open"), OPEN)
        self.assertEqual(ports_with(rows, "filtered"), DROPPED)
        self.assertEqual(ports_with(rows, "closed"), CLOSED)
        for row in rows:
            self.assertEqual(row["host"], target)
            self.assertEqual(set(row) - {"banner"},
                             {"host", "port", "state", "service", "reason", "rtt_ms", "attempts"})
            if row["state"] == "open":
                self.assertEqual((row["reason"], row["attempts"]), ("syn-ack", 1), row)
                self.assertIsInstance(row["rtt_ms"], float)
            elif row["state"] == "closed":
                self.assertEqual(row["reason"], "conn-refused", row)
                self.assertIsInstance(row["rtt_ms"], float)
            else:
                # One retry by default: two attempts, then no-response.
                self.assertEqual((row["reason"], row["attempts"], row["rtt_ms"]),
                                 ("no-response", 2, None), row)
        by_port = {row["port"]: row for row in rows}
        self.assertEqual(by_port[22]["service"], "ssh")
        self.assertEqual(by_port[443]["service"], "https")
        self.assertIsNone(by_port[31337]["service"])
        self.assertIn(f"{len(OPEN)} open, {len(CLOSED)} closed, {len(DROPPED)} filtered",
                      r.stderr)

    def test_ipv4_states(self):
        self.check_states(TARGET_V4)

    def test_ipv6_states(self):
        self.check_states(TARGET_V6)

    def test_icmp_unreachable_is_filtered_and_exit_1(self):
        for target in (TARGET_V4, TARGET_V6):
            r = self.netres(target, "-p", "6000-6004", "--json")
            self.assertEqual(r.returncode, 1, r.stderr)
            rows = ndjson(r.stdout)
            self.assertEqual({(x["state"], x["reason"]) for x in rows},
                             {("filtered", "host-unreach")}, target)
            self.assertIn("unreachable", r.stderr)
        # Mixed with answering ports, the host is reachable: exit 0.
        r = self.netres(TARGET_V4, "-p", "22,6000-6004", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)

    # --- oracle -------------------------------------------------------------------------------
    @unittest.skipUnless(shutil.which("nmap"), "nmap not installed")
    def test_open_set_matches_nmap(self):
        for target, extra in ((TARGET_V4, []), (TARGET_V6, ["-6"])):
            out = subprocess.run(["nmap", "-sT", "-n", "-Pn", *extra, "-p", PORTS, "-oG", "-",
                                  target], capture_output=True, text=True, timeout=120).stdout
            nmap_open = {int(p.split("/")[0]) for p in out.split() if "/open/" in p}
            rows, _ = self.scan_json(target, "-p", PORTS, "--open")
            self.assertEqual({r["port"] for r in rows}, nmap_open, target)
            self.assertEqual(nmap_open, OPEN, target)

    # --- output -------------------------------------------------------------------------------
    def test_open_flag(self):
        rows, _ = self.scan_json(TARGET_V4, "-p", PORTS, "--open")
        self.assertEqual({r["port"] for r in rows}, OPEN)
        self.assertEqual({r["state"] for r in rows}, {"open"})
        r = self.netres(TARGET_V4, "-p", PORTS, "--open")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn(f"netres scan report for {TARGET_V4}", lines[0])
        self.assertEqual(lines[1], f"Not shown: {len(CLOSED)} closed, {len(DROPPED)} filtered")
        self.assertEqual(lines[2].split(), ["PORT", "STATE", "SERVICE"])
        self.assertEqual([line.split()[0] for line in lines[3:]],
                         [f"{p}/tcp" for p in sorted(OPEN)])
        self.assertTrue(all(line.split()[1] == "open" for line in lines[3:]))

    def test_table_lists_few_closed_ports(self):
        r = self.netres(TARGET_V4, "-p", "20-23")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [line.split() for line in r.stdout.splitlines()[2:]]
        self.assertEqual(rows, [["20/tcp", "closed", "ftp-data"], ["21/tcp", "closed", "ftp"],
                                ["22/tcp", "open", "ssh"], ["23/tcp", "closed", "telnet"]])

    def test_banner(self):
        rows, _ = self.scan_json(TARGET_V4, "-p", "22,80,81", "--banner", "--banner-timeout",
                                 "2s")
        by_port = {r["port"]: r for r in rows}
        self.assertEqual(by_port[22]["banner"], BANNER + "\r\n")
        self.assertEqual(by_port[80]["banner"], "")  # listener closes without a word
        self.assertNotIn("banner", by_port[81])  # closed ports carry no banner field
        r = self.netres(TARGET_V6, "-p", "22", "--banner")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"22/tcp\s+open\s+ssh\s+" + BANNER + r"\n")

    def test_http_banner_probe_and_fallback(self):
        start = time.monotonic()
        rows, _ = self.scan_json(TARGET_V4, "-p", "8080", "--banner")
        self.assertTrue(rows[0]["banner"].startswith("HTTP/1.0 "), rows[0])
        self.assertLess(time.monotonic() - start, 5)  # probed at once (a generous bound)
        rows, _ = self.scan_json(TARGET_V6, "-p", "31400", "--banner", "--banner-timeout", "1s")
        self.assertTrue(rows[0]["banner"].startswith("HTTP/1.0 "), rows[0])
        self.assertIn("Server: SimpleHTTP", rows[0]["banner"])

    # --- order and shards ---------------------------------------------------------------------
    def test_shards_cover_the_scan_exactly_once(self):
        full, _ = self.scan_json(TARGET_V4, TARGET_V6, "-p", PORTS, "--seed", "7")
        full_pairs = {(r["host"], r["port"], r["state"]) for r in full}
        self.assertEqual(len(full_pairs), 2 * len(ALL))
        seen = []
        for k in (1, 2, 3):
            rows, r = self.scan_json(TARGET_V4, TARGET_V6, "-p", PORTS, "--seed", "7",
                                     "--shard", f"{k}/3")
            self.assertIn(f"shard {k}/3", r.stderr)
            seen.extend((x["host"], x["port"], x["state"]) for x in rows)
        self.assertEqual(len(seen), len(set(seen)), "shards overlap")
        self.assertEqual(set(seen), full_pairs)

    def test_input_list_and_excludes(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(f"# test hosts\n{TARGET_V4}\n{TARGET_V6}  {HOST_V4}\n")
        try:
            rows, _ = self.scan_json("-iL", f.name, "--exclude", HOST_V4, "-p", "22,23")
        finally:
            os.unlink(f.name)
        self.assertEqual({(r["host"], r["port"], r["state"]) for r in rows},
                         {(TARGET_V4, 22, "open"), (TARGET_V4, 23, "closed"),
                          (TARGET_V6, 22, "open"), (TARGET_V6, 23, "closed")})

    def test_fixed_timeout_and_retries(self):
        start = time.monotonic()
        rows, _ = self.scan_json(TARGET_V4, "-p", "5000-5009", "--timeout", "300ms",
                                 "--retries", "0")
        elapsed = time.monotonic() - start
        self.assertEqual({(r["state"], r["attempts"]) for r in rows}, {("filtered", 1)})
        self.assertGreater(elapsed, 0.25)
        self.assertLess(elapsed, 10)

    # --- hostnames (through our own dnsmasq, never the system resolver) ----------------------
    @unittest.skipUnless(os.path.exists("/usr/sbin/dnsmasq"), "dnsmasq not installed")
    def test_hostname_targets(self):
        from dnsmasq import Dnsmasq
        records = [f"--host-record=scan-target.test,{TARGET_V4},{TARGET_V6}"]
        with Dnsmasq(records, tag="netres-scan-test") as dns:
            rows, _ = self.scan_json("scan-target.test", "-p", "22", "--dns-server", dns.server)
            self.assertEqual({(r["host"], r.get("hostname"), r["state"]) for r in rows},
                             {(TARGET_V4, "scan-target.test", "open"),
                              (TARGET_V6, "scan-target.test", "open")})
            r = self.netres("scan-target.test", "nx.test", "-p", "22", "--dns-server", dns.server)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("netres: scan: cannot resolve 'nx.test'", r.stderr)
            self.assertIn("netres scan report for scan-target.test (198.18.10.2)", r.stdout)
            r = self.netres("nx.test", "-p", "22", "--dns-server", dns.server)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(r.stdout, "")


class BadInput(unittest.TestCase):
    """Usage errors exit 2 with one line on stderr, before any packet is sent."""

    def check(self, args, message=None):
        r = netres("scan", *args, timeout=30)
        self.assertEqual(r.returncode, 2, (args, r.stderr))
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        self.assertTrue(lines and lines[0].startswith("netres: scan: "), r.stderr)
        if message is not None:
            self.assertEqual(lines[0], "netres: scan: " + message)
        return lines[0]

    def test_ports(self):
        self.check(["127.0.0.1", "-p", "70000-1"],
                   "bad port range '70000-1': ports are 1-65535")
        self.check(["127.0.0.1", "-p", "100-1"], "bad port range '100-1': start is above end")
        self.check(["127.0.0.1", "-p", "0"], "bad port '0': ports are 1-65535")
        self.check(["127.0.0.1", "-p", "22,,80"])
        self.check(["127.0.0.1", "-p", "nosuchservice"])

    def test_targets(self):
        self.check(["10.0.0.0/33", "-p", "22"],
                   "bad CIDR prefix in '10.0.0.0/33': IPv4 prefixes are 0-32")
        self.check(["fd00::/129", "-p", "22"],
                   "bad CIDR prefix in 'fd00::/129': IPv6 prefixes are 0-128")
        self.check(["10.0.0.9-1", "-p", "22"], "bad range '10.0.0.9-1': start is above end")
        self.check(["what?", "-p", "22"])
        self.assertIn("too large", self.check(["fd00::/64", "-p", "22"]))
        self.check(["-p", "22"])  # no targets at all
        self.check(["127.0.0.1", "--exclude", "127.0.0.0/8", "-p", "22"],
                   "no targets left after --exclude")

    def test_input_list(self):
        self.check(["-iL", "/nonexistent/targets.txt", "-p", "22"],
                   "cannot read target list '/nonexistent/targets.txt': No such file or directory")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("127.0.0.1\n\n10.0.0.0/40\n")
        try:
            self.check(["-iL", f.name, "-p", "22"],
                       f"{f.name}:3: bad CIDR prefix in '10.0.0.0/40': IPv4 prefixes are 0-32")
        finally:
            os.unlink(f.name)

    def test_shard_and_flags(self):
        for bad in ("0/4", "5/4", "x/y", "1/0", "3"):
            self.check(["127.0.0.1", "-p", "22", "--shard", bad])
        self.check(["127.0.0.1", "-p", "22", "--timeout", "soon"])
        self.check(["127.0.0.1", "-p", "22", "--rate", "0/s"])
        self.check(["127.0.0.1", "-p", "22", "--retries", "99"])
        self.check(["127.0.0.1", "-p", "22", "--seed", "abc"])


class RuntimeErrors(unittest.TestCase):
    def test_too_few_file_descriptors_is_exit_3(self):
        import resource

        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))

        r = netres("scan", "127.0.0.1", "-p", "1", timeout=30, preexec_fn=low_limit)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertRegex(r.stderr, r"^netres: scan: the open file limit is 40")

    def test_small_fd_limit_still_scans_loopback(self):
        import resource

        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (120, 120))

        r = netres("scan", "127.0.0.1", "-p", "1-2000", "--json", "--concurrency", "5000",
                   timeout=60, preexec_fn=limit)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 2000)
        self.assertIn("exceeds the open file limit", r.stderr)


if __name__ == "__main__":
    harness.main()
