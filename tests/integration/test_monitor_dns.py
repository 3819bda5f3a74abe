"""netres monitor's dns checks on the resolver's asynchronous entry (resolve::AsyncResolver on the
monitor's event loop), against a real dnsmasq:

    500 dns targets at a 2 s interval, all on one dnsmasq      -> all succeed, with --once and
                                                                  while serving
    a UDP port that is bound but never read                    -> reason timeout, within the
                                                                  probe's timeout
    a UDP port where nothing listens                           -> reason refused (ICMP)
    a TXT record too big for 512 bytes (no EDNS is sent)       -> dnsmasq truncates the UDP
                                                                  answer; the check gets the
                                                                  whole record over TCP

Ports 18850-18859 on 127.0.0.1: 18850 netres monitor, 18851 the silent UDP socket, 18852 kept
closed. dnsmasq takes a free port of its own (tests/fixtures/dnsmasq.py).
"""
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from dnsmasq import Dnsmasq, build_query  # noqa: E402
from prometheus_server import MonitorProcess, write  # noqa: E402

STATE = "/tmp/netres-monitor-dns-test"
MONITOR_PORT, SILENT_PORT, CLOSED_PORT = 18850, 18851, 18852
TARGETS = 500
NAME, ADDR = "www.mondns.test", "192.0.2.54"  # only data in an answer: nothing is sent to it
BIG = "big.mondns.test"
# Three 200-byte strings: the answer is over 600 bytes, beyond plain DNS's 512 over UDP.
BIG_STRINGS = [c * 200 for c in "abc"]


def many_targets_config(dns):
    targets = "".join(f'  - {{name: t{i:03d}, address: "{dns.server}", checks: [www]}}\n'
                      for i in range(TARGETS))
    return ("defaults: {interval: 2s, timeout: 1500ms, concurrency: 1000}\n"
            "checks:\n"
            f"  www: {{kind: dns, query_name: {NAME}, expect_answers: ['^{re.escape(ADDR)}$']}}\n"
            f"targets:\n{targets}")


class MonitorDns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(STATE, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="netres-mondns-")
        txt = ",".join(f'"{s}"' for s in BIG_STRINGS)
        cls.dns = Dnsmasq([f"--host-record={NAME},{ADDR}", f"--txt-record={BIG},{txt}"],
                          tag="netres-mondns").start()
        # Bound and never read: every query to it waits for its timeout. Bound before the tests
        # so a leftover of an interrupted run (a process, not a socket) cannot hold it.
        cls.silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            cls.silent.bind(("127.0.0.1", SILENT_PORT))
        except OSError:
            cls.silent.close()
            cls.dns.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.silent.close()
        cls.dns.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def config(self, name, text):
        path = os.path.join(self.tmp, name)
        write(path, text)
        return path

    def test_500_targets_once(self):
        path = self.config("many.yaml", many_targets_config(self.dns))
        start = time.monotonic()
        r = harness.netres("monitor", "-c", path, "--once", "--json", timeout=60)
        took = time.monotonic() - start
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout[-2000:])
        rows = harness.ndjson(r.stdout)
        self.assertEqual(len(rows), TARGETS)
        self.assertEqual({row["target"] for row in rows}, {f"t{i:03d}" for i in range(TARGETS)})
        failed = [row for row in rows if not row["success"]]
        self.assertEqual(failed, [])
        for row in rows:
            self.assertEqual(row["metrics"]["probe_dns_answer_rrs"], 1, row)
        # All at once on one socket: far below one timeout each (a generous bound, not a speed
        # assertion: 500 probes one after another would take minutes were any to time out).
        self.assertLess(took, 30)

    def test_500_targets_served(self):
        path = self.config("serve.yaml", many_targets_config(self.dns))
        mon = MonitorProcess(path, MONITOR_PORT, STATE, "monitor-dns")
        try:
            def all_up():
                text = mon.metrics()
                up = re.findall(r'^probe_success\{[^}]*target="t\d{3}"[^}]*\} 1$', text, re.M)
                return len(up) == TARGETS and text
            # The first round is spread over the 2 s interval; a loaded machine gets slack.
            wait_until("every target's first success", all_up, 20)
            # Two more intervals: every target probed again, still no failure of any kind.
            time.sleep(4.5)
            text = all_up()
            self.assertTrue(text, "a target stopped succeeding")
            failures = [line for line in text.splitlines()
                        if line.startswith("netres_probe_failures_total{")
                        and not line.endswith(" 0")]
            self.assertEqual(failures, [])
            self.assertIsNone(mon.proc.poll(), mon.stderr())
        finally:
            mon.stop()

    def test_failure_reasons_and_tcp_fallback(self):
        # The UDP answer for BIG really is truncated (TC set), so success below needs TCP.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.sendto(build_query(BIG, 16), ("127.0.0.1", self.dns.port))
            reply, _ = s.recvfrom(4096)
        self.assertTrue(reply[2] & 0x02, "dnsmasq did not truncate the UDP answer")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
            closed.bind(("127.0.0.1", CLOSED_PORT))  # fails if anything holds it: then not closed
        path = self.config("reasons.yaml", f"""\
defaults: {{timeout: 600ms}}
checks:
  www: {{kind: dns, query_name: {NAME}}}
  big: {{kind: dns, query_name: {BIG}, query_type: TXT, min_answers: 1,
         expect_answers: ['{BIG_STRINGS[2]}']}}
targets:
  - {{name: silent, address: "127.0.0.1:{SILENT_PORT}", checks: [www]}}
  - {{name: closed, address: "127.0.0.1:{CLOSED_PORT}", checks: [www]}}
  - {{name: big, address: "{self.dns.server}", checks: [big]}}
""")
        r = harness.netres("monitor", "-c", path, "--once", "--json", timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        rows = {row["target"]: row for row in harness.ndjson(r.stdout)}
        self.assertEqual(set(rows), {"silent", "closed", "big"})
        self.assertEqual(rows["silent"]["reason"], "timeout", rows["silent"])
        self.assertGreaterEqual(rows["silent"]["duration_s"], 0.5)  # both tries waited for
        self.assertLess(rows["silent"]["duration_s"], 5)
        self.assertEqual(rows["closed"]["reason"], "refused", rows["closed"])
        self.assertTrue(rows["big"]["success"], rows["big"])
        self.assertEqual(rows["big"]["metrics"]["probe_dns_answer_rrs"], 1)


if __name__ == "__main__":
    harness.main()
