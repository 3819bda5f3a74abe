"""netres monitor's ssh check through a bastion (ProxyJump) and the time a device's running
configuration last changed.

    host --veth 198.18.54.1/30 -- 198.18.54.2 [netres-monjmp-b] (bastion sshd :18890)
                                  198.18.54.5 --veth-- 198.18.54.6 [netres-monjmp-t] (target :18891)

The host has an `unreachable` route for 198.18.54.4/30 while the test runs, so a direct probe of
the target fails at once and nothing is ever sent off the machine; through the bastion (its
direct-tcpip channel, from inside the namespaces) the target is ok. A known_hosts with another key
for the bastion is hostkey_changed naming the hop (the file is never written); a closed bastion
port is `jump`, a closed target port behind it `refused`. Then drift through the bastion: the
configuration changes on the device, the last-change time moves to the probe's time and
survives a monitor restart (state_dir).

Ports 18890-18899 (18890 bastion, 18891 target, 18899 kept closed on the bastion and target).
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import harness  # noqa: E402
from netns import run  # noqa: E402
from sshd_env import SshEnv  # noqa: E402
import sshd  # noqa: E402
import sshd_jump  # noqa: E402

USER = sshd.TEST_USER
HOST_V4, BASTION_V4 = "198.18.54.1", "198.18.54.2"
INNER_B_V4, TARGET_V4 = "198.18.54.5", "198.18.54.6"
TARGET_NET = "198.18.54.4/30"
BASTION_PORT, TARGET_PORT, CLOSED_PORT = 18890, 18891, 18899


def read(path):
    with open(path) as f:
        return f.read()


def drop_unreachable_route():
    run(["ip", "route", "del", "unreachable", TARGET_NET], check=False)


@harness.require_root("sshd", "ssh-keygen", "ip")
class MonitorSshJump(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.topo = sshd_jump.JumpTopology(
            "netres-monjmp-b", "netres-monjmp-t",
            ifs=("nrmonjb0", "nrmonjb1", "nrmonjt0", "nrmonjt1"),
            addrs=(HOST_V4, BASTION_V4, INNER_B_V4, TARGET_V4))
        cls.env = env = SshEnv("netres-monjmp-")
        # Class cleanups run last-in first-out, also when setUpClass fails: the servers (env)
        # stop before the namespaces they run in go.
        drop_unreachable_route()  # a leftover of an interrupted run
        cls.addClassCleanup(drop_unreachable_route)
        cls.addClassCleanup(cls.topo.teardown)
        cls.addClassCleanup(env.cleanup)
        cls.topo.setup()
        run(["ip", "route", "add", "unreachable", TARGET_NET])
        cls.key = env.key("id_monjmp")
        cls.bastion = env.server(BASTION_PORT, BASTION_V4, netns=cls.topo.bastion,
                                 extra_config="AllowTcpForwarding yes")
        cls.target = env.server(TARGET_PORT, TARGET_V4, netns=cls.topo.target)
        for s in (cls.bastion, cls.target):
            s.authorize(cls.key + ".pub")
            s.start()
        env.trust(cls.bastion, cls.target)
        with open(env.known_hosts) as f:
            cls.known_before = f.read()
        cls.hop = f"{USER}@{BASTION_V4}:{BASTION_PORT}"

    def write(self, name, text):
        path = os.path.join(self.env.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def once(self, cfg):
        r = harness.netres("monitor", "-c", cfg, "--once", "--json", timeout=60)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return {(o["target"], o["check"]): o for o in harness.ndjson(r.stdout)}, r

    def test_through_the_bastion_only(self):
        # Safety first: the target's addresses are unreachable from the host itself.
        self.assertNotEqual(run(["ip", "route", "get", TARGET_V4], check=False).returncode, 0)
        kh = self.env.known_hosts
        cfg = self.write("jump.yaml",
                         "defaults: {timeout: 5s}\n"
                         "checks:\n"
                         f"  jump: {{kind: ssh, known_hosts: {kh}, jump: ['{self.hop}'], "
                         f"jump_key_file: {self.key}}}\n"
                         f"  direct: {{kind: ssh, known_hosts: {kh}}}\n"
                         "targets:\n"
                         f"  - {{name: t, address: '{TARGET_V4}:{TARGET_PORT}', "
                         "checks: [jump, direct]}\n"
                         f"  - {{name: closed, address: '{TARGET_V4}:{CLOSED_PORT}', "
                         "checks: [jump]}\n")
        got, r = self.once(cfg)
        self.assertEqual(r.returncode, 1, r.stdout)
        ok = got[("t", "jump")]
        self.assertTrue(ok["success"], ok)
        m = ok["metrics"]
        self.assertEqual(m["netres_ssh_hostkey_ok"], 1)
        self.assertGreater(m["netres_ssh_jump_seconds"], 0)
        self.assertGreater(m["netres_ssh_handshake_seconds"], 0)
        self.assertLessEqual(m["netres_ssh_jump_seconds"] + m["netres_ssh_handshake_seconds"],
                             ok["duration_s"] + 0.001)
        self.assertNotIn("netres_probe_tcp_connect_seconds", m)  # no TCP connect of our own
        fp = harness.run("ssh-keygen", "-l", "-E", "sha256", "-f",
                         self.target.host_key + ".pub").stdout.split()[1]
        self.assertTrue(any(fp in k for k in m), m)
        self.assertEqual(got[("t", "direct")]["reason"], "unreachable", got[("t", "direct")])
        closed = got[("closed", "jump")]
        self.assertEqual(closed["reason"], "refused", closed)
        self.assertIn(f"jump host {BASTION_V4}: cannot open a channel to {TARGET_V4}:"
                      f"{CLOSED_PORT}", closed["detail"])

    def test_ssh_config_proxyjump_and_proxycommand(self):
        """The check's ssh_config names the hops per target: ProxyJump with the bastion's own
        block (HostName, Port, User, IdentityFile), or a ProxyCommand (OpenSSH's ssh -W)."""
        kh = self.env.known_hosts
        jump_cfg = self.write("ssh_config_jump",
                              f"Host {TARGET_V4}\n  ProxyJump bastion\n"
                              f"Host bastion\n  HostName {BASTION_V4}\n  Port {BASTION_PORT}\n"
                              f"  User {USER}\n  IdentityFile {self.key}\n")
        cmd_cfg = self.write("ssh_config_cmd",
                             f"Host {TARGET_V4}\n  ProxyCommand ssh -F /dev/null -i {self.key} "
                             f"-o BatchMode=yes -o StrictHostKeyChecking=yes "
                             f"-o UserKnownHostsFile={kh} -o GlobalKnownHostsFile=/dev/null "
                             f"-p {BASTION_PORT} -W %h:%p {USER}@{BASTION_V4}\n")
        cfg = self.write("sshcfg.yaml",
                         "defaults: {timeout: 5s}\n"
                         "checks:\n"
                         f"  cfgjump: {{kind: ssh, known_hosts: {kh}, ssh_config: {jump_cfg}}}\n"
                         f"  cfgcmd: {{kind: ssh, known_hosts: {kh}, ssh_config: {cmd_cfg}}}\n"
                         f"targets: [{{name: t, address: '{TARGET_V4}:{TARGET_PORT}', "
                         "checks: [cfgjump, cfgcmd]}]\n")
        got, r = self.once(cfg)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for check in ("cfgjump", "cfgcmd"):
            self.assertEqual(got[("t", check)]["metrics"]["netres_ssh_hostkey_ok"], 1)
        self.assertIn("netres_ssh_jump_seconds", got[("t", "cfgjump")]["metrics"])

    def test_hop_failures(self):
        # known_hosts records another key for the bastion (the target's): as if its key changed.
        kind, blob = self.target.host_public_key()
        bad_kh = self.write("known_hosts_bad",
                            f"[{BASTION_V4}]:{BASTION_PORT} {kind} {blob}\n"
                            + self.target.known_hosts_line())
        only_target = self.write("known_hosts_target", self.target.known_hosts_line())
        before = read(bad_kh)
        addr = f"{TARGET_V4}:{TARGET_PORT}"
        cfg = self.write("hops.yaml",
                         "defaults: {timeout: 5s}\n"
                         "checks:\n"
                         f"  changed: {{kind: ssh, known_hosts: {bad_kh}, jump: '{self.hop}', "
                         f"jump_key_file: {self.key}}}\n"
                         f"  unknown: {{kind: ssh, known_hosts: {only_target}, "
                         f"jump: '{self.hop}', jump_key_file: {self.key}}}\n"
                         f"  down: {{kind: ssh, known_hosts: {self.env.known_hosts}, "
                         f"jump: '{USER}@{BASTION_V4}:{CLOSED_PORT}', "
                         f"jump_key_file: {self.key}}}\n"
                         f"  nokey: {{kind: ssh, known_hosts: {self.env.known_hosts}, "
                         f"jump: '{self.hop}', jump_key_file: {self.env.key('id_other')}}}\n"
                         f"targets: [{{name: t, address: '{addr}', "
                         "checks: [changed, unknown, down, nokey]}]\n")
        got, r = self.once(cfg)
        self.assertEqual(r.returncode, 1, r.stdout)
        reasons = {k[1]: o["reason"] for k, o in got.items()}
        self.assertEqual(reasons, {"changed": "hostkey_changed", "unknown": "hostkey_unknown",
                                   "down": "jump", "nokey": "jump"}, r.stdout)
        for check in ("changed", "unknown", "down", "nokey"):
            self.assertTrue(got[("t", check)]["detail"].startswith(f"jump host {BASTION_V4}: "),
                            got[("t", check)])
            # The target's key was never reached.
            self.assertNotIn("netres_ssh_hostkey_ok", got[("t", check)]["metrics"])
        self.assertIn("HOST KEY CHANGED", got[("t", "changed")]["detail"])
        self.assertIn("authentication", got[("t", "nokey")]["detail"])
        # Never learned, never written.
        self.assertEqual(read(bad_kh), before)
        self.assertEqual(read(only_target), self.target.known_hosts_line())
        self.assertEqual(read(self.env.known_hosts), self.known_before)

    def test_config_last_change_survives_restart(self):
        running = self.write("running.cfg", "hostname core1\ninterface eth0\n ip address "
                             "198.18.0.1/24\n")
        os.chmod(running, 0o644)
        backups = os.path.join(self.env.dir, "backups")
        b = self.env.netres("backup", "-H", self.target.spec, "--key", self.key, "--jump",
                            self.hop, "--command", f"cat {running}", "--dir", backups, "--json")
        self.assertEqual(b.returncode, 0, b.stdout + b.stderr)
        (host_dir,) = os.listdir(backups)
        (saved,) = os.listdir(os.path.join(backups, host_dir))
        backup_time = os.path.getmtime(os.path.join(backups, host_dir, saved))
        state = os.path.join(self.env.dir, "state")
        drift = (f"backups: {backups}, name: '{host_dir}', user: {USER}, key_file: {self.key}, "
                 f"command: 'cat {running}'")
        cfg = self.write("drift.yaml",
                         "defaults: {timeout: 5s}\n"
                         "checks:\n"
                         f"  d: {{kind: ssh, known_hosts: {self.env.known_hosts}, "
                         f"jump: '{self.hop}', jump_key_file: {self.key}, "
                         f"drift: {{{drift}, state_dir: {state}}}}}\n"
                         f"  mem: {{kind: ssh, known_hosts: {self.env.known_hosts}, "
                         f"jump: '{self.hop}', drift: {{{drift}}}}}\n"
                         f"targets: [{{name: t, address: '{TARGET_V4}:{TARGET_PORT}', "
                         "checks: [d, mem]}]\n")

        def probe():
            got, r = self.once(cfg)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            return got[("t", "d")]["metrics"], got[("t", "mem")]["metrics"]

        # First sighting, equal to the backup: the backup dates it.
        m, mem = probe()
        self.assertEqual(m["netres_config_drift"], 0, m)
        self.assertAlmostEqual(m["netres_config_last_change_timestamp_seconds"], backup_time,
                               delta=0.01)
        # The device's configuration changes: dated by the probe that saw it.
        with open(running, "a") as f:
            f.write("interface eth1\n")
        before = time.time()
        m, mem = probe()
        after = time.time()
        self.assertEqual(m["netres_config_drift"], 1, m)
        changed = m["netres_config_last_change_timestamp_seconds"]
        self.assertGreaterEqual(changed, before - 0.01)
        self.assertLessEqual(changed, after + 0.01)
        # Without a state_dir each --once is a new monitor: a first sighting that differs from
        # the backup has no known change time.
        self.assertEqual(mem["netres_config_drift"], 1, mem)
        self.assertNotIn("netres_config_last_change_timestamp_seconds", mem)
        # A restart (another --once process) keeps it; so does a new backup of the same lines.
        time.sleep(0.05)
        b = self.env.netres("backup", "-H", self.target.spec, "--key", self.key, "--jump",
                            self.hop, "--command", f"cat {running}", "--dir", backups, "--json")
        self.assertEqual(b.returncode, 0, b.stdout + b.stderr)
        m, _ = probe()
        self.assertEqual(m["netres_config_drift"], 0, m)
        self.assertEqual(m["netres_config_last_change_timestamp_seconds"], changed)
        with open(os.path.join(state, "config_changes.tsv")) as f:
            self.assertEqual(sum(1 for line in f if line.startswith(host_dir)), 1)
        self.assertFalse(os.path.exists(os.path.join(state, "config_changes.tsv.tmp")))


if __name__ == "__main__":
    harness.main()
