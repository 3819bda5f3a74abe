#!/usr/bin/env python3
"""Shards and `netres merge` end to end: a job split in N=3 shards (--shard K/3 --results FILE),
merged, gives what one run of the whole job gives. scan against a namespace host this test
creates (198.18.40.0/30: listeners for open ports, iptables DROP and REJECT for filtered ones,
nothing for closed), bandwidth on pcap files it writes, resolve against dnsmasq on loopback, ssh
run against sshd on loopback; and the refusals (mixed verbs, different jobs, a shard twice,
missing shards). Traffic goes only to loopback and that namespace (checked with `ip route get`).
"""
import json
import os
import shutil
import signal
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
from dnsmasq import Dnsmasq  # noqa: E402
from sshd_env import SshEnv, table_rows  # noqa: E402
import sshd  # noqa: E402

NS, HOST_IF, NS_IF = "netres-merge-t", "netres-merge0", "netres-merge1"
HOST_V4, TARGET_V4 = "198.18.40.1", "198.18.40.2"
OPEN = {22, 80, 443, 8080}
DROPPED = set(range(9000, 9006))
REJECTED = set(range(9100, 9104))
PORTS = "20-30,75-85,440-450,8075-8085,9000-9005,9100-9103"
N = 3


def shard_files(tmp, verb, n=N):
    return [os.path.join(tmp, f"{verb}-{k}.json") for k in range(1, n + 1)]


def check_ok(test, proc, codes=(0,)):
    test.assertIn(proc.returncode, codes, proc.stderr)
    return proc


@require_root("ip", "iptables")
class ScanShards(unittest.TestCase):
    host = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="netres-merge-scan-")
        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_V4, TARGET_V4, 30)
        cls.host.setup()
        cls.addClassCleanup(cls.host.teardown)
        cls.host.assert_routed_via_veth(TARGET_V4)
        cls.host.drop_ports(min(DROPPED), max(DROPPED))
        cls.host.reject_ports(min(REJECTED), max(REJECTED))
        listeners = cls.host.popen(
            [sys.executable, os.path.join(harness.FIXTURES, "tcp_listeners.py"),
             "--ports", ",".join(map(str, sorted(OPEN))), "--banner", "SSH-2.0-merge-test",
             "--banner-ports", "22", "--max-seconds", "120"],
            stdout=subprocess.PIPE, text=True)
        line = listeners.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"listeners did not start: {line!r}")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scan(self, *extra, ports=PORTS):
        return netres("scan", TARGET_V4, "-p", ports, "--timeout", "300ms", *extra, timeout=60)

    def test_shards_merge_to_one_run(self):
        files = shard_files(self.tmp, "scan")
        pairs = []
        for k, path in enumerate(files, 1):
            p = check_ok(self, self.scan("--shard", f"{k}/{N}", "--results", path, "--json"))
            pairs.append({(r["host"], r["port"]) for r in ndjson(p.stdout)})
        # The shards are disjoint and cover every pair.
        self.assertEqual(sum(len(s) for s in pairs), len(set().union(*pairs)))
        one = check_ok(self, self.scan("--seed", "0"))
        merged = check_ok(self, netres("merge", *files))
        self.assertEqual(merged.stdout, one.stdout)
        self.assertIn("open", merged.stdout)
        summary = [l for l in merged.stderr.splitlines() if "host" in l]
        self.assertTrue(summary and f"1 host, {len(pairs[0] | pairs[1] | pairs[2])} ports: "
                        f"{len(OPEN)} open" in summary[-1], merged.stderr)

        one_json = ndjson(check_ok(self, self.scan("--seed", "0", "--json")).stdout)
        merged_json = ndjson(check_ok(self, netres("merge", "--json", *files)).stdout)
        def states(rows, s):
            return {r["port"] for r in rows if r["state"] == s}
        for s in ("open", "closed", "filtered"):
            self.assertEqual(states(merged_json, s), states(one_json, s), s)
        self.assertEqual(states(merged_json, "open"), OPEN)
        self.assertEqual(states(merged_json, "filtered"), DROPPED | REJECTED)
        # NDJSON of a merge is in address and port order.
        self.assertEqual([r["port"] for r in merged_json], sorted(r["port"] for r in merged_json))
        # Merging the merge (written as a 1/1 file) gives the same again.
        again = os.path.join(self.tmp, "scan-merged.json")
        check_ok(self, netres("merge", *files, "--results", again))
        self.assertEqual(check_ok(self, netres("merge", again)).stdout, one.stdout)

    def test_banner_and_open_only_survive_the_merge(self):
        files = shard_files(self.tmp, "scan-banner")
        for k, path in enumerate(files, 1):
            check_ok(self, self.scan("--shard", f"{k}/{N}", "--results", path, "--banner",
                                     "--open"))
        one = check_ok(self, self.scan("--seed", "0", "--banner", "--open"))
        merged = check_ok(self, netres("merge", *files))
        self.assertEqual(merged.stdout, one.stdout)
        self.assertIn("SSH-2.0-merge-test", merged.stdout)
        self.assertNotIn("closed", merged.stdout.split("PORT", 1)[1])

    def test_ctrl_c_writes_what_was_scanned(self):
        path = os.path.join(self.tmp, "scan-interrupted.json")
        p = subprocess.Popen([harness.NETRES, "scan", TARGET_V4, "-p", PORTS, "--rate", "20/s",
                              "--shard", f"1/{N}", "--results", path],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("interrupted", err)
        with open(path) as f:
            data = json.load(f)["data"]
        self.assertTrue(data["interrupted"])
        scanned = sum(len(h["ports"]) for h in data["results"])
        self.assertTrue(0 < scanned < data["ports"] // N, data)
        merged = netres("merge", "--allow-partial", path)
        self.assertEqual(merged.returncode, 0, merged.stderr)
        self.assertIn("was interrupted", merged.stderr)

    def test_refusals(self):
        files = shard_files(self.tmp, "scan-refuse")
        for k, path in enumerate(files, 1):
            check_ok(self, self.scan("--shard", f"{k}/{N}", "--results", path,
                                     ports="22,80"))
        other = os.path.join(self.tmp, "scan-other-ports.json")
        check_ok(self, self.scan("--shard", f"3/{N}", "--results", other, ports="22,81"))
        cases = {
            "a shard twice": [files[0], files[0], files[1], files[2]],
            "missing shards": files[:2],
            "different jobs": [files[0], files[1], other],
        }
        for what, args in cases.items():
            with self.subTest(what):
                p = netres("merge", *args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertEqual(p.stdout, "")
        p = netres("merge", "--allow-partial", *files[:2])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("shard 3/3 missing", p.stderr)


def write_pcaps(directory, parts=5):
    """`parts` pcap files in time order: conversations that run across file boundaries (a
    second shared by two files too), TCP with and without the SYN in the same file, UDP, IPv6,
    ICMP and ARP. Returns their paths."""
    from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPv6, Raw, wrpcap
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    pkts = []
    t = 1_700_000_000.0
    for i in range(60):
        c, s = f"10.9.0.{1 + i % 7}", f"10.9.1.{1 + i % 3}"
        cp, sp = 41000 + i % 7, [80, 443, 22][i % 3]
        if i < 7:
            p = e / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="S")
        elif i % 2:
            p = e / IP(src=s, dst=c) / TCP(sport=sp, dport=cp, flags="PA") / Raw(b"r" * (300 + i))
        else:
            p = e / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="PA") / Raw(b"q" * (40 + i))
        pkts.append(p)
        if i % 5 == 0:
            pkts.append(e / IP(src=c, dst="10.9.2.53") / UDP(sport=33000 + i % 4, dport=53)
                        / Raw(b"d" * 30))
        if i % 9 == 0:
            pkts.append(e / IPv6(src="2001:db8::1", dst="2001:db8::2")
                        / TCP(sport=5000, dport=8080, flags="A") / Raw(b"v" * 100))
        if i % 13 == 0:
            pkts.append(e / IP(src="10.9.3.1", dst="10.9.3.2") / ICMP(type=8) / Raw(b"p" * 56))
            pkts.append(e / ARP(op=1, psrc="10.9.3.1", pdst="10.9.3.2"))
    for p in pkts:
        p.time = t
        t += 0.13
    paths = []
    per = (len(pkts) + parts - 1) // parts
    for k in range(parts):
        path = os.path.join(directory, f"part{k + 1}.pcap")
        wrpcap(path, pkts[k * per:(k + 1) * per])
        paths.append(path)
    return paths


class BandwidthShards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="netres-merge-bw-")
        cls.pcaps = write_pcaps(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def reads(self):
        return [arg for path in self.pcaps for arg in ("-r", path)]

    def test_shards_merge_to_one_run(self):
        for by in ("flow", "host", "port", "proto"):
            with self.subTest(by):
                files = shard_files(self.tmp, f"bw-{by}")
                for k, path in enumerate(files, 1):
                    check_ok(self, netres("bandwidth", *self.reads(), "--by", by, "--shard",
                                          f"{k}/{N}", "--results", path))
                one = check_ok(self, netres("bandwidth", *self.reads(), "--by", by))
                merged = check_ok(self, netres("merge", *reversed(files)))
                self.assertEqual(merged.stdout, one.stdout)
                self.assertIn("packets", merged.stdout)
                one_json = ndjson(check_ok(self, netres("bandwidth", *self.reads(), "--by", by,
                                                        "--json")).stdout)
                merged_json = ndjson(check_ok(self, netres("merge", "--json", *files)).stdout)
                self.assertEqual(merged_json, one_json)

    def test_shares_are_contiguous_files(self):
        # 5 files in 3 shares: 1, 2 and 2 files, in order.
        counts = []
        for k in range(1, N + 1):
            p = check_ok(self, netres("bandwidth", *self.reads(), "--by", "proto", "--json",
                                      "--shard", f"{k}/{N}"))
            counts.append(ndjson(p.stdout)[-1]["packets"])
        one = ndjson(check_ok(self, netres("bandwidth", *self.reads(), "--by", "proto",
                                           "--json")).stdout)[-1]
        self.assertEqual(sum(counts), one["packets"])
        self.assertTrue(all(c > 0 for c in counts), counts)
        p = netres("bandwidth", "-i", "lo", "--shard", "1/2")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--shard", p.stderr)

    def test_different_views_are_refused(self):
        a, b = os.path.join(self.tmp, "bw-a.json"), os.path.join(self.tmp, "bw-b.json")
        check_ok(self, netres("bandwidth", *self.reads(), "--shard", "1/2", "--results", a))
        check_ok(self, netres("bandwidth", *self.reads(), "--by", "host", "--shard", "2/2",
                              "--results", b))
        p = netres("merge", a, b)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("/by", p.stderr)


class ResolveShards(unittest.TestCase):
    dns = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="netres-merge-resolve-")
        records = [f"--host-record=h{i}.test,10.7.0.{i}" for i in range(1, 15)]
        records += ["--cname=www.test,alias.test", "--cname=alias.test,h1.test",
                    "--host-record=both.test,10.7.1.1,fd00::71"]
        cls.dns = Dnsmasq(records, tag="netres-merge-test", ttl=300)
        cls.dns.start()
        names = [f"h{i}.test" for i in range(1, 15)] + ["www.test", "both.test", "nx1.test",
                                                         "10.7.0.3", "nx2.test", "h2.test"]
        cls.names_file = os.path.join(cls.tmp, "names.txt")
        with open(cls.names_file, "w") as f:
            f.write("# names for the shard test\n" + "\n".join(names) + "\n")
        cls.count = len(names)

    @classmethod
    def tearDownClass(cls):
        if cls.dns is not None:
            cls.dns.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def resolve(self, *args):
        return netres("resolve", "--server", self.dns.server, "-f", self.names_file, *args,
                      timeout=30)

    def test_shards_merge_to_one_run(self):
        files = shard_files(self.tmp, "resolve")
        names = []
        for k, path in enumerate(files, 1):
            p = check_ok(self, self.resolve("--shard", f"{k}/{N}", "--results", path, "--json"),
                         codes=(0, 1))
            names.append([r["name"] for r in ndjson(p.stdout)])
        one = check_ok(self, self.resolve(), codes=(1,))
        one_json = ndjson(check_ok(self, self.resolve("--json"), codes=(1,)).stdout)
        # Contiguous shares of the input, in order, covering every name once.
        self.assertEqual(names[0] + names[1] + names[2], [r["name"] for r in one_json])
        self.assertTrue(all(names), names)
        merged = check_ok(self, netres("merge", files[2], files[0], files[1]), codes=(1,))
        self.assertEqual(merged.stdout, one.stdout)
        self.assertIn("NXDOMAIN", merged.stdout)
        summary = merged.stderr.strip().splitlines()[-1]
        self.assertIn(f"{self.count} names, {self.count - 2} ok, 2 failed", summary)

        def stable(rows):
            return [{k: v for k, v in r.items() if k != "duration_ms"} for r in rows]
        merged_json = ndjson(check_ok(self, netres("merge", "--json", *files), codes=(1,)).stdout)
        self.assertEqual(stable(merged_json), stable(one_json))

    def test_other_names_or_types_are_refused(self):
        a, b = os.path.join(self.tmp, "res-a.json"), os.path.join(self.tmp, "res-b.json")
        check_ok(self, self.resolve("--shard", "1/2", "--results", a), codes=(0, 1))
        check_ok(self, netres("resolve", "--server", self.dns.server, "h1.test", "--shard", "2/2",
                              "--results", b), codes=(0, 1))
        p = netres("merge", a, b)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("/names", p.stderr)
        check_ok(self, self.resolve("-t", "A", "--shard", "2/2", "--results", b), codes=(0, 1))
        p = netres("merge", a, b)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("/types", p.stderr)


@require_root("ssh-keygen")
class SshShards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = env = SshEnv("netres-merge-ssh-")
        cls.addClassCleanup(env.cleanup)
        key = env.key("id_ed25519")
        cls.servers = [env.server(sshd.free_port("127.0.0.1", 18610 + i, span=5))
                       for i in range(3)]
        for s in cls.servers:
            s.authorize(key + ".pub")
            s.start()
        env.trust(*cls.servers)
        down = sshd.free_port("127.0.0.1", 18640, span=5)
        hosts = [("h1", cls.servers[0].port), ("h2", cls.servers[1].port),
                 ("h3", cls.servers[2].port), ("down", down), ("h5", cls.servers[0].port)]
        cls.inventory = os.path.join(env.dir, "inventory.yml")
        with open(cls.inventory, "w") as f:
            f.write(f"all:\n  vars:\n    ansible_user: {sshd.TEST_USER}\n"
                    f"    ansible_ssh_private_key_file: {key}\n  hosts:\n")
            for name, port in hosts:
                f.write(f"    {name}:\n      ansible_host: 127.0.0.1\n"
                        f"      ansible_port: {port}\n")
        # Prints the server port it landed on; the third server's hosts exit 3.
        cls.command = ('set -- $SSH_CONNECTION; echo "out-$4"; echo "err-$4" >&2; '
                       f'[ "$4" != {cls.servers[2].port} ]')

    def run_ssh(self, *args):
        return self.env.netres("run", "-i", self.inventory, "--connect-timeout", "3s", *args,
                               "--", self.command, timeout=60)

    def test_shards_merge_to_one_run(self):
        files = shard_files(self.env.dir, "ssh")
        for k, path in enumerate(files, 1):
            check_ok(self, self.run_ssh("--shard", f"{k}/{N}", "--results", path), codes=(0, 1))
        one = check_ok(self, self.run_ssh(), codes=(1,))
        merged = check_ok(self, netres("merge", *files), codes=(1,))

        one_rows, merged_rows = table_rows(one.stdout), table_rows(merged.stdout)
        self.assertEqual(list(merged_rows), list(one_rows))
        self.assertEqual({h: r[0] for h, r in merged_rows.items()},
                         {h: r[0] for h, r in one_rows.items()})
        self.assertEqual(merged_rows["h3"][:2], ["failed", "1"])
        self.assertEqual(merged_rows["down"][0], "unreachable")
        self.assertEqual(merged.stderr.strip().splitlines()[-1],
                         one.stderr.strip().splitlines()[-1])
        self.assertIn(f"h2 | out-{self.servers[1].port}", merged.stdout)
        self.assertIn(f"h5 | err-{self.servers[0].port}", merged.stderr)
        # NDJSON: the objects of one run, in inventory order, durations aside.
        def stable(text):
            return [{k: v for k, v in o.items() if k != "duration_s"} for o in ndjson(text)]
        one_json = stable(check_ok(self, self.run_ssh("--json"), codes=(1,)).stdout)
        merged_json = stable(check_ok(self, netres("merge", "--json", *files), codes=(1,)).stdout)
        order = ["h1", "h2", "h3", "down", "h5"]
        self.assertEqual([o["host"] for o in merged_json], order)
        self.assertEqual(merged_json, sorted(one_json, key=lambda o: order.index(o["host"])))

    def test_other_command_is_refused(self):
        a, b = os.path.join(self.env.dir, "ssh-a.json"), os.path.join(self.env.dir, "ssh-b.json")
        check_ok(self, self.run_ssh("--shard", "1/2", "--results", a), codes=(0, 1))
        p = self.env.netres("run", "-i", self.inventory, "--shard", "2/2", "--results", b, "--",
                            "true", timeout=60)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        p = netres("merge", a, b)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("/command", p.stderr)


class Refusals(unittest.TestCase):
    def test_mixed_verbs_bad_files_and_no_files(self):
        tmp = tempfile.mkdtemp(prefix="netres-merge-refuse-")
        try:
            names = os.path.join(tmp, "names.txt")
            with open(names, "w") as f:
                f.write("a.test\n")
            pcaps = write_pcaps(tmp, parts=2)
            res, bw = os.path.join(tmp, "res.json"), os.path.join(tmp, "bw.json")
            # resolve against a closed loopback port: fails fast, still writes its results.
            p = netres("resolve", "--server", "127.0.0.1:18649", "--timeout", "100ms",
                       "--retries", "0", "-f", names, "--shard", "2/2", "--results", res)
            self.assertEqual(p.returncode, 1, p.stderr)
            check_ok(self, netres("bandwidth", "-r", pcaps[0], "-r", pcaps[1], "--shard", "1/2",
                                  "--results", bw))
            p = netres("merge", res, bw)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn("one verb at a time", p.stderr)
            garbage = os.path.join(tmp, "garbage.json")
            with open(garbage, "w") as f:
                f.write("{not json")
            for args in ([garbage], [os.path.join(tmp, "missing.json")], []):
                p = netres("merge", *args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertLessEqual(len(p.stderr.strip().splitlines()), 2, p.stderr)
            # A results file whose data is damaged: one line naming the file.
            with open(bw) as f:
                doc = json.load(f)
            doc["data"]["rows"][0][1] = "nonsense"
            doc["shard"] = "1/1"
            damaged = os.path.join(tmp, "damaged.json")
            with open(damaged, "w") as f:
                json.dump(doc, f)
            p = netres("merge", damaged)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn("damaged.json", p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
