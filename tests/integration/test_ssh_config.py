#!/usr/bin/env python3
"""netres ssh and the user's ssh config: the config-only case (UserKnownHostsFile,
GlobalKnownHostsFile, IdentityFile, User, StrictHostKeyChecking, checked against `ssh -F` itself),
precedence (flags > inventory > config, first value wins), Match originalhost, HostKeyAlias,
Include checking, libssh's log only with -v, keyboard-interactive through PAM, ProxyJump through
a bastion in a network namespace, and the smaller host-key and key-file cases."""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import harness  # noqa: E402
from harness import ndjson  # noqa: E402
from sshd_env import SshEnv, table_rows  # noqa: E402
import sshd  # noqa: E402
import sshd_jump  # noqa: E402

PASSPHRASE = "battery staple"
USER = sshd.TEST_USER


def libssh_lines(stderr):
    """Lines that look like libssh's own log (its default "[date] function: ..." format or
    anything naming a libssh function)."""
    return [l for l in stderr.splitlines() if not l.startswith("netres: ")
            and (l.startswith("[20") or "socket_callback" in l or "ssh_known_hosts" in l)]


class SshConfigTruth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = env = SshEnv("netres-ssh-cfg-")
        cls.addClassCleanup(env.cleanup)
        cls.ed = env.key("id_ed25519")
        cls.enc = env.key("id_enc", "ed25519", PASSPHRASE)
        cls.servers = [env.server(26100 + i, f"127.0.0.{20 + i}") for i in range(5)]
        cls.kbd = env.server(26106, "127.0.0.26", kbd_interactive=True)
        for s in cls.servers + [cls.kbd]:
            s.authorize(cls.ed + ".pub")
            s.start()
        # The keys live only where the config says: not in HOME, not in --known-hosts.
        cls.kh = os.path.join(env.dir, "cfg_known_hosts")
        with open(cls.kh, "w") as f:
            for s in cls.servers:
                f.write(s.known_hosts_line())
        cls.cfg = os.path.join(env.dir, "fleet_config")
        with open(cls.cfg, "w") as f:
            for i, s in enumerate(cls.servers, 1):
                f.write(f"Host h{i}\n  HostName {s.address}\n  Port {s.port}\n")
            f.write(f"Host *\n  UserKnownHostsFile {cls.kh}\n"
                    "  GlobalKnownHostsFile /dev/null\n"
                    f"  IdentityFile {cls.ed}\n  User {USER}\n"
                    "  StrictHostKeyChecking yes\n")

    def run_cfg(self, cfg, *args, env=None):
        return self.env.netres(args[0], "-F", cfg, *args[1:], env=env, config=False)

    def write(self, name, text):
        path = os.path.join(self.env.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # --- the measured case -------------------------------------------------------------------
    def test_config_only_like_openssh(self):
        hosts = [f"h{i}" for i in range(1, 6)]
        # OpenSSH itself accepts this config for h1 (the oracle).
        oracle = subprocess.run(["ssh", "-F", self.cfg, "-o", "BatchMode=yes", "h1", "true"],
                                capture_output=True, text=True, timeout=30,
                                env={"HOME": self.env.home, "PATH": os.environ["PATH"]})
        self.assertEqual(oracle.returncode, 0, oracle.stderr)
        r = self.run_cfg(self.cfg, "run", *hosts, "--", "echo ok-$USER")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for h in hosts:
            self.assertIn(f"{h} | ok-{USER}", r.stdout)
        # stderr: the summary line only, no libssh log.
        self.assertEqual(libssh_lines(r.stderr), [], r.stderr)
        self.assertEqual(r.stderr.strip().splitlines(), ["netres: ssh run: 5 hosts, 5 ok"])

    def test_verbose_shows_prefixed_libssh_log(self):
        r = self.run_cfg(self.cfg, "run", "h1", "-v", "--", "true")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.startswith("netres: libssh: h1: ")]
        self.assertTrue(lines, r.stderr)
        self.assertEqual(libssh_lines(r.stderr), [])

    # --- precedence -------------------------------------------------------------------------
    def test_flags_beat_inventory_beat_config(self):
        s = self.servers[0]
        wrong_kh = self.write("empty_kh", "")
        cfg = self.write("prec_config",
                         f"Host h1\n  HostName {s.address}\n  Port {s.port}\n  User {USER}\n"
                         # first value wins: the later Host * values must not apply
                         f"Host *\n  Port 1\n  User nobody-here\n  IdentityFile {self.ed}\n"
                         f"  UserKnownHostsFile {wrong_kh}\n  GlobalKnownHostsFile /dev/null\n")
        r = self.run_cfg(cfg, "run", "h1", "--", "true")
        self.assertEqual(table_rows(r.stdout)["h1"][0], "hostkey", r.stdout)  # config's kh file
        r = self.run_cfg(cfg, "run", "h1", "--known-hosts", self.kh, "--", "true")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)  # the flag beats the config
        # Inventory port beats the config's Port; -u beats the inventory's user.
        inv = self.write("prec_inv.yml",
                         "all:\n  hosts:\n    h1:\n"
                         f"      ansible_port: {s.port}\n      ansible_user: nobody-here\n")
        cfg2 = self.write("prec_config2",
                          f"Host h1\n  HostName {s.address}\n  Port 1\n  User nobody-here\n"
                          f"  IdentityFile {self.ed}\n  UserKnownHostsFile {self.kh}\n")
        r = self.run_cfg(cfg2, "run", "-i", inv, "-u", USER, "--json", "--", "echo $USER")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(ndjson(r.stdout)[0]["stdout"], f"{USER}\n")
        r = self.run_cfg(cfg2, "run", "-i", inv, "--", "true")
        self.assertEqual(table_rows(r.stdout)["h1"][0], "auth-failed", r.stdout)
        self.assertIn("user 'nobody-here'", r.stdout)

    def test_global_known_hosts_and_identities_only(self):
        s = self.servers[0]
        empty = self.write("empty_user_kh", "")
        cfg = self.write("global_config",
                         f"Host h1\n  HostName {s.address}\n  Port {s.port}\n  User {USER}\n"
                         f"  UserKnownHostsFile {empty}\n  GlobalKnownHostsFile {self.kh}\n"
                         "  IdentitiesOnly yes\n  IdentityFile /nonexistent/id\n")
        with self.env.agent(self.ed) as env:
            # The key is known only through GlobalKnownHostsFile; the agent holds the only
            # usable key, which IdentitiesOnly forbids.
            r = self.run_cfg(cfg, "run", "h1", "--json", "--", "true", env=env)
            obj = ndjson(r.stdout)[0]
            self.assertEqual(obj["status"], "auth-failed", r.stdout)
            self.assertIn("key file /nonexistent/id not found", obj["error"])
            cfg_agent = self.write("global_config_agent",
                                   open(cfg).read().replace("  IdentitiesOnly yes\n", ""))
            r = self.run_cfg(cfg_agent, "run", "h1", "--", "echo agent", env=env)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("h1 | agent", r.stdout)

    def test_match_originalhost_hostkeyalias_include(self):
        s = self.servers[1]
        kind, blob = s.host_public_key()
        alias_kh = self.write("alias_kh", f"lab-box {kind} {blob}\n")
        inc = self.write("inc.conf", f"  IdentityFile {self.ed}\n  User {USER}\n")
        cfg = self.write("match_config",
                         f"Match originalhost box,!nothing\n  HostName {s.address}\n"
                         f"  Port {s.port}\n  HostKeyAlias lab-box\n  Include {inc}\n"
                         "Match !originalhost box\n  Port 1\n"
                         f"Host *\n  UserKnownHostsFile {alias_kh}\n"
                         "  GlobalKnownHostsFile /dev/null\n")
        r = self.run_cfg(cfg, "run", "box", "--", "echo matched")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("box | matched", r.stdout)
        bad_inc = self.write("bad_inc.conf", "Host q\n  Prot 22\n")
        cfg = self.write("bad_include_config", f"Host never-used\n  Include {bad_inc}\n")
        r = self.run_cfg(cfg, "run", "box", "--", "true")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{bad_inc}:2: unknown ssh config keyword 'Prot'", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_strict_host_key_checking_no_needs_the_flag(self):
        s = self.servers[2]
        kh = os.path.join(self.env.dir, "kh_no")
        cfg = self.write("no_config",
                         f"Host h3\n  HostName {s.address}\n  Port {s.port}\n  User {USER}\n"
                         f"  IdentityFile {self.ed}\n  UserKnownHostsFile {kh}\n"
                         "  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n")
        r = self.run_cfg(cfg, "run", "h3", "--", "true")
        self.assertEqual(table_rows(r.stdout)["h3"][0], "hostkey", r.stdout)
        self.assertIn("--strict-host-keys no", r.stdout)
        self.assertFalse(os.path.exists(kh))
        r = self.run_cfg(cfg, "run", "h3", "--strict-host-keys", "no", "--", "true")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(kh) as f:
            self.assertIn(f"[{s.address}]:{s.port} ", f.read())

    def test_accept_new_writes_one_line_for_many_connections(self):
        s = self.servers[3]
        kh = os.path.join(self.env.dir, "kh_parallel")
        inv = self.write("same_host.yml", "all:\n  hosts:\n" + "".join(
            f"    n{i}:\n      ansible_host: {s.address}\n      ansible_port: {s.port}\n"
            for i in range(12)))
        r = self.env.netres("run", "-i", inv, "-u", USER, "--key", self.ed, "--known-hosts", kh,
                            "--accept-new", "--", "true", config=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(kh) as f:
            self.assertEqual(len(f.read().splitlines()), 1)

    # --- authentication ---------------------------------------------------------------------
    def test_keyboard_interactive_only_server(self):
        spec = self.kbd.spec
        self.env.trust(self.kbd)
        r = self.env.netres("run", "-H", spec, "--json", "--", "echo kbd-ok",
                            env={"NETRES_SSH_PASSWORD": sshd.test_user_password()})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(ndjson(r.stdout)[0]["stdout"], "kbd-ok\n")
        r = self.env.netres("run", "-H", spec, "--", "true")
        self.assertEqual(r.returncode, 1)
        self.assertIn("(tried: none; server offers: publickey, keyboard-interactive); no password",
                      r.stdout)
        r = self.env.netres("run", "-H", spec, "--json", "--", "true",
                            env={"NETRES_SSH_PASSWORD": "wrong-" + sshd.test_user_password()})
        obj = ndjson(r.stdout)[0]
        self.assertEqual(obj["status"], "auth-failed")
        self.assertIn("(tried: keyboard-interactive; server offers:", obj["error"])

    def test_key_file_problems(self):
        s = self.servers[4]
        self.env.trust(s)
        r = self.env.netres("run", "-H", s.spec, "--key", "/nonexistent/key", "--", "true")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--key", r.stderr)
        self.assertEqual(r.stdout, "")
        r = self.env.netres("run", "-H", s.spec, "--key", self.enc, "--json", "--", "true")
        obj = ndjson(r.stdout)[0]
        self.assertEqual(obj["status"], "auth-failed")
        self.assertIn("is encrypted: set NETRES_SSH_PASSPHRASE", obj["error"])
        self.assertIn("(tried: none;", obj["error"])

    def test_signal_name_and_changed_key_entry(self):
        s = self.servers[4]
        self.env.trust(s)
        r = self.env.netres("run", "-H", s.spec, "--key", self.ed, "--json", "--", "kill -KILL $$")
        obj = ndjson(r.stdout)[0]
        self.assertEqual(obj["status"], "failed")
        self.assertEqual(obj["error"], "killed by signal KILL")
        kh = self.write("kh_changed", "# first line\n[%s]:%d ssh-ed25519 %s\n" % (
            s.address, s.port,
            "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"))
        r = self.env.netres("run", "-H", s.spec, "--key", self.ed, "--known-hosts", kh, "--json",
                            "--", "true", config=False)
        err = ndjson(r.stdout)[0]["error"]
        self.assertIn("HOST KEY CHANGED", err)
        self.assertIn(f"ssh-keygen -R '[{s.address}]:{s.port}' -f {kh}", err)
        self.assertIn(f"{kh}:2", err)


class SshProxyJump(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = env = SshEnv("netres-ssh-jump-")
        cls.topo = sshd_jump.JumpTopology()
        # Class cleanups run last-in first-out, also when setUpClass fails: the servers (env)
        # stop before the namespaces they run in go.
        cls.addClassCleanup(cls.topo.teardown)
        cls.addClassCleanup(env.cleanup)
        cls.topo.setup()
        cls.ed = env.key("id_ed25519")
        cls.other = env.key("id_other")
        cls.bastion = env.server(26120, sshd_jump.BASTION_V4, netns=cls.topo.bastion,
                                 extra_config="AllowTcpForwarding yes")
        cls.hop2 = env.server(26121, sshd_jump.TARGET_V4, netns=cls.topo.target,
                              extra_config="AllowTcpForwarding yes")
        cls.target = env.server(26122, sshd_jump.TARGET_V4, netns=cls.topo.target)
        for s in (cls.bastion, cls.hop2, cls.target):
            s.authorize(cls.ed + ".pub")
            s.start()
        env.trust(cls.bastion, cls.hop2, cls.target)
        cls.cfg = os.path.join(env.dir, "jump_config")
        with open(cls.cfg, "w") as f:
            f.write(f"Host bastion\n  HostName {sshd_jump.BASTION_V4}\n"
                    f"  Port {cls.bastion.port}\n"
                    f"Host inner\n  HostName {sshd_jump.TARGET_V4}\n  Port {cls.target.port}\n"
                    "  ProxyJump bastion\n"
                    f"Host *\n  User {USER}\n  IdentityFile {cls.ed}\n"
                    f"  UserKnownHostsFile {env.known_hosts}\n"
                    "  GlobalKnownHostsFile /dev/null\n")

    def test_target_unreachable_from_host_reached_through_bastion(self):
        self.assertFalse(self.topo.host_routes_to_target_via_us())
        # No `ssh` on PATH: the jump must not be an `ssh -W` subprocess.
        r = self.env.netres("run", "-F", self.cfg, "inner", "--json", "--",
                            "set -- $SSH_CONNECTION; echo $1 $3", config=False,
                            env={"PATH": "/nonexistent"})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The target sees the bastion's inner address as the client.
        self.assertEqual(ndjson(r.stdout)[0]["stdout"],
                         f"{sshd_jump.INNER_B_V4} {sshd_jump.TARGET_V4}\n")
        self.assertEqual(libssh_lines(r.stderr), [])

    def test_jump_flag_two_hops(self):
        b = f"{USER}@{sshd_jump.BASTION_V4}:{self.bastion.port}"
        h2 = f"{USER}@{sshd_jump.TARGET_V4}:{self.hop2.port}"
        target = f"{USER}@{sshd_jump.TARGET_V4}:{self.target.port}"
        r = self.env.netres("run", "-H", target, "--key", self.ed, "--jump", f"{b},{h2}",
                            "--json", "--", "set -- $SSH_CONNECTION; echo $1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The last hop is inside the target's namespace: it connects from 198.18.30.6.
        self.assertEqual(ndjson(r.stdout)[0]["stdout"], f"{sshd_jump.TARGET_V4}\n")
        # Copy rides the same path.
        src = os.path.join(self.env.dir, "jump_payload")
        with open(src, "wb") as f:
            f.write(os.urandom(200_000))
        r = self.env.netres("copy", "-H", target, "--key", self.ed, "--jump", b, "--put", src,
                            "--to", "/tmp/netres-jump-payload", "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(ndjson(r.stdout)[0]["verified"], "sha256")

    def test_inventory_jump_from_ansible_args(self):
        inv = os.path.join(self.env.dir, "jump_inventory.yml")
        with open(inv, "w") as f:
            f.write("all:\n  vars:\n"
                    f"    ansible_user: {USER}\n"
                    f"    ansible_ssh_private_key_file: {self.ed}\n"
                    "    ansible_ssh_common_args: >-\n"
                    f"      -o ProxyJump={USER}@{sshd_jump.BASTION_V4}:{self.bastion.port}\n"
                    "  hosts:\n    behind:\n"
                    f"      ansible_host: {sshd_jump.TARGET_V4}\n"
                    f"      ansible_port: {self.target.port}\n")
        r = self.env.netres("run", "-i", inv, "--json", "--", "echo via-inventory")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(ndjson(r.stdout)[0]["stdout"], "via-inventory\n")

    def test_host_star_proxyjump_and_connect_timeout(self):
        # `Host *` naming the bastion also matches the bastion itself: it is not a loop.
        cfg = os.path.join(self.env.dir, "star_config")
        with open(cfg, "w") as f:
            # First value wins: "silent" must say ProxyJump none before Host * names bastion.
            f.write(f"Host silent\n  HostName {sshd_jump.BASTION_V4}\n  Port 26130\n"
                    "  ProxyJump none\n"
                    f"Host bastion\n  HostName {sshd_jump.BASTION_V4}\n"
                    f"  Port {self.bastion.port}\n"
                    f"Host *\n  ProxyJump bastion\n  User {USER}\n  IdentityFile {self.ed}\n"
                    f"  UserKnownHostsFile {self.env.known_hosts}\n  ConnectTimeout 1\n")
        target = f"{sshd_jump.TARGET_V4}:{self.target.port}"
        r = self.env.netres("run", "-F", cfg, target, "--", "echo star", config=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"{target} | star", r.stdout)
        # ConnectTimeout from the config bounds a connect to a port that drops SYNs.
        self.topo.bastion.drop_ports(26130, 26130)
        t0 = time.monotonic()
        r = self.env.netres("run", "-F", cfg, "silent", "--json", "--", "true", config=False)
        obj = ndjson(r.stdout)[0]
        self.assertEqual(obj["status"], "unreachable", r.stdout)
        self.assertFalse(obj["error"].startswith("jump host"), obj["error"])
        self.assertLess(time.monotonic() - t0, 8)  # generous: 1 s asked, the default is 10 s

    def test_jump_host_failures_are_named(self):
        b = f"{USER}@{sshd_jump.BASTION_V4}:{self.bastion.port}"
        target = f"{USER}@{sshd_jump.TARGET_V4}:{self.target.port}"
        # The bastion refuses our key.
        r = self.env.netres("run", "-H", target, "--key", self.other, "--jump", b, "--json",
                            "--", "true")
        obj = ndjson(r.stdout)[0]
        self.assertEqual(obj["status"], "auth-failed")
        self.assertTrue(obj["error"].startswith(f"jump host {sshd_jump.BASTION_V4}: "
                                                "authentication failed"), obj["error"])
        # The bastion cannot reach the target port.
        closed = f"{USER}@{sshd_jump.TARGET_V4}:26129"
        r = self.env.netres("run", "-H", closed, "--key", self.ed, "--jump", b, "--json",
                            "--", "true")
        obj = ndjson(r.stdout)[0]
        self.assertEqual(obj["status"], "unreachable")
        self.assertIn(f"jump host {sshd_jump.BASTION_V4}: cannot open a channel to "
                      f"{sshd_jump.TARGET_V4}:26129", obj["error"])
        # The bastion's own host key is checked like any other.
        empty = os.path.join(self.env.dir, "kh_empty")
        open(empty, "w").close()
        r = self.env.netres("run", "-H", target, "--key", self.ed, "--jump", b,
                            "--known-hosts", empty, "--json", "--", "true", config=False)
        obj = ndjson(r.stdout)[0]
        self.assertEqual(obj["status"], "hostkey")
        self.assertTrue(obj["error"].startswith(f"jump host {sshd_jump.BASTION_V4}: unknown "
                                                "host key"), obj["error"])


if __name__ == "__main__":
    harness.main()
