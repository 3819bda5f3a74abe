#!/usr/bin/env python3
"""netres ssh run against real sshd servers on loopback: fan-out, statuses, host keys,
authentication (keys, encrypted key, password), ssh config, output modes and bad input."""
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

PASSPHRASE = "correct horse"
# One command for every host; what it does depends on the server port it landed on.
# One command for every host; what it does depends on the server address it landed on
# (ports may move if another suite holds one; addresses are ours).
COMMAND = (
    'set -- $SSH_CONNECTION; p=$3; echo "out-$p"; echo "err-$p" >&2; '
    'case $p in 127.0.0.3) exit 3;; 127.0.0.7) sleep 30;; '
    '127.0.0.8) echo started; sleep 0.3; kill -9 $PPID; sleep 5;; esac'
)


class SshRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = env = SshEnv("netres-ssh-run-")
        cls.addClassCleanup(env.cleanup)
        cls.ed = env.key("id_ed25519")
        cls.rsa = env.key("id_rsa", "rsa")
        cls.ecdsa = env.key("id_ecdsa_enc", "ecdsa", PASSPHRASE)
        cls.wrong = env.key("id_wrong")
        cls.good = [env.server(26000 + i, f"127.0.0.{i}", password_auth=(i == 4))
                    for i in range(1, 6)]
        cls.changed = env.server(26006, "127.0.0.6")
        cls.slow = env.server(26007, "127.0.0.7")
        cls.killed = env.server(26008, "127.0.0.8")
        for s in env.servers:
            s.authorize(cls.ed + ".pub")
        cls.good[1].authorize(cls.rsa + ".pub")
        cls.good[2].authorize(cls.ecdsa + ".pub")
        for s in env.servers:
            s.start()
        down_port = sshd.free_port("127.0.0.9", 26009)
        env.trust(*cls.good, cls.slow, cls.killed)
        # A stale key for the "changed" host: what a man in the middle would look like.
        stale = sshd.make_key(os.path.join(env.dir, "stale_host_key"))
        with open(stale + ".pub") as f:
            kind, blob = f.read().split()[:2]
        with open(env.known_hosts, "a") as f:
            f.write(f"[127.0.0.6]:{cls.changed.port} {kind} {blob}\n")
        cls.inventory = os.path.join(env.dir, "inventory.yml")
        keys = {1: cls.ed, 2: cls.rsa, 3: cls.ecdsa, 4: None, 5: cls.ed}
        with open(cls.inventory, "w") as f:
            f.write("all:\n  vars:\n    ansible_user: %s\n  children:\n" % sshd.TEST_USER)
            f.write("    fleet:\n      hosts:\n")
            for i in range(1, 6):
                f.write(f"        h{i}:\n          ansible_host: 127.0.0.{i}\n"
                        f"          ansible_port: {cls.good[i - 1].port}\n")
                if keys[i]:
                    f.write(f"          ansible_ssh_private_key_file: {keys[i]}\n")
            f.write("    trouble:\n      vars:\n"
                    f"        ansible_ssh_private_key_file: {cls.ed}\n      hosts:\n")
            for name, addr, port, key in (
                    ("down", "127.0.0.9", down_port, cls.ed),
                    ("wrongkey", "127.0.0.1", cls.good[0].port, cls.wrong),
                    ("changed", "127.0.0.6", cls.changed.port, cls.ed),
                    ("slow", "127.0.0.7", cls.slow.port, cls.ed),
                    ("killed", "127.0.0.8", cls.killed.port, cls.ed)):
                f.write(f"        {name}:\n          ansible_host: {addr}\n"
                        f"          ansible_port: {port}\n"
                        f"          ansible_ssh_private_key_file: {key}\n")

    def secrets_env(self):
        return {"NETRES_SSH_PASSWORD": sshd.test_user_password(),
                "NETRES_SSH_PASSPHRASE": PASSPHRASE}

    def test_fleet_every_status(self):
        out_dir = os.path.join(self.env.dir, "out")
        t0 = time.monotonic()
        r = self.env.netres("run", "-i", self.inventory, "--timeout", "2s",
                            "--connect-timeout", "3s", "--out-dir", out_dir, "--", COMMAND,
                            env=self.secrets_env())
        elapsed = time.monotonic() - t0
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertLess(elapsed, 15)
        rows = table_rows(r.stdout)
        for i in (1, 2, 4, 5):
            self.assertEqual(rows[f"h{i}"][:2], ["ok", "0"], r.stdout)
            self.assertIn(f"h{i} | out-127.0.0.{i}", r.stdout)
            self.assertIn(f"h{i} | err-127.0.0.{i}", r.stderr)
        self.assertEqual(rows["h3"][:2], ["failed", "3"])
        self.assertEqual(rows["down"][0], "unreachable")
        self.assertEqual(rows["wrongkey"][0], "auth-failed")
        self.assertEqual(rows["changed"][0], "hostkey")
        self.assertEqual(rows["slow"][0], "timeout")
        self.assertEqual(rows["killed"][0], "failed")
        self.assertIn("killed | started", r.stdout)
        self.assertIn("connection lost", r.stdout)
        self.assertIn("HOST KEY CHANGED", r.stdout)
        # Result files, written atomically, one set per host.
        with open(os.path.join(out_dir, "h2.stdout")) as f:
            self.assertEqual(f.read(), "out-127.0.0.2\n")
        with open(os.path.join(out_dir, "h2.stderr")) as f:
            self.assertEqual(f.read(), "err-127.0.0.2\n")
        with open(os.path.join(out_dir, "h3.exit")) as f:
            self.assertEqual(f.read(), "3\n")
        with open(os.path.join(out_dir, "down.exit")) as f:
            self.assertEqual(f.read(), "unreachable\n")
        self.assertFalse([n for n in os.listdir(out_dir) if ".tmp" in n])
        # Secrets never show up.
        self.assertNotIn(sshd.test_user_password(), r.stdout + r.stderr)
        self.assertNotIn(PASSPHRASE, r.stdout + r.stderr)

    def test_json(self):
        r = self.env.netres("run", "-i", self.inventory, "--limit", "fleet,!h4", "--json", "--",
                            COMMAND, env=self.secrets_env())
        self.assertEqual(r.returncode, 1, r.stderr)
        objs = {o["host"]: o for o in ndjson(r.stdout)}
        self.assertEqual(sorted(objs), ["h1", "h2", "h3", "h5"])
        self.assertEqual(objs["h1"]["stdout"], "out-127.0.0.1\n")
        self.assertEqual(objs["h1"]["stderr"], "err-127.0.0.1\n")
        self.assertEqual(objs["h1"]["exit_code"], 0)
        self.assertEqual(objs["h3"]["status"], "failed")
        self.assertEqual(objs["h3"]["exit_code"], 3)
        self.assertIsInstance(objs["h1"]["duration_s"], float)
        self.assertIsNone(objs["h1"]["error"])

    def test_group_blocks(self):
        r = self.env.netres("run", "-i", self.inventory, "--limit", "h1,h2", "--group", "--",
                            "echo a; echo b", env=self.secrets_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("==> h1 (ok, exit 0) <==\na\nb\n", r.stdout)
        self.assertIn("==> h2 (ok, exit 0) <==\na\nb\n", r.stdout)

    def test_all_ok_exit_zero_and_host_specs(self):
        specs = ",".join(s.spec for s in (self.good[0], self.good[4]))
        r = self.env.netres("run", specs, "--key", self.ed, "--", "echo", "hi")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"127.0.0.1:{self.good[0].port} | hi", r.stdout)
        self.assertIn(f"127.0.0.5:{self.good[4].port} | hi", r.stdout)

    def test_unknown_host_refused_then_accept_new(self):
        kh = os.path.join(self.env.dir, "kh_fresh")
        base = ["run", "-H", self.good[0].spec, "--key", self.ed]
        r = self.env.netres(*base, "--", "true")
        r = self.env.netres(base[0], "--known-hosts", kh, *base[1:], "--", "true", config=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("hostkey", r.stdout)
        self.assertIn("SHA256:", r.stdout)
        self.assertIn("--accept-new", r.stdout)
        self.assertFalse(os.path.exists(kh))
        r = self.env.netres(base[0], "--known-hosts", kh, "--accept-new", *base[1:], "--", "true",
                            config=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Without -F, /etc/ssh/ssh_config applies too (Debian's says HashKnownHosts yes): the
        # entry may be hashed, as ssh would write it; ssh-keygen -F finds it either way.
        found = subprocess.run(["ssh-keygen", "-F", f"[127.0.0.1]:{self.good[0].port}", "-f", kh],
                               capture_output=True, text=True)
        self.assertIn("ssh-ed25519 ", found.stdout)
        r = self.env.netres(base[0], "--known-hosts", kh, *base[1:], "--", "true", config=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_ssh_config_alias(self):
        cfg = os.path.join(self.env.dir, "alias_config")
        with open(cfg, "w") as f:
            f.write(f"Host box5\n  HostName 127.0.0.5\n  Port {self.good[4].port}\n"
                    f"  User {sshd.TEST_USER}\n"
                    f"  IdentityFile {self.ed}\n")
        r = self.env.netres("run", "-F", cfg, "--known-hosts", self.env.known_hosts, "box5", "--",
                            "echo via-config", config=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("box5 | via-config", r.stdout)

    def test_backup_over_exec_channel(self):
        # A host without a device platform: --command runs on an exec channel.
        d = os.path.join(self.env.dir, "exec_backups")
        args = ["backup", "-H", self.good[0].spec, "--key", self.ed, "--dir", d]
        r = self.env.netres(*args, "--command", "printf 'a\\nb\\n'")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.env.netres(*args, "--command", "printf 'a\\nc\\n'", "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        obj = ndjson(r.stdout)[0]
        self.assertIn("\n-b\n+c\n", obj["diff"])
        with open(obj["backup"]) as f:
            self.assertEqual(f.read(), "a\nc\n")
        r = self.env.netres(*args)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--command", r.stderr)

    def test_shell_mode_linux_preset(self):
        r = self.env.netres("run", "-H", self.good[0].spec, "--key", self.ed, "--shell",
                            "--platform", "linux", "--json", "--timeout", "10s", "--",
                            "echo hello; echo world")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(ndjson(r.stdout)[0]["stdout"], "hello\nworld\n")

    def test_ipv6_loopback(self):
        server = self.env.server(26010, "::1")
        server.authorize(self.ed + ".pub")
        server.start()
        self.env.trust(server)
        spec = f"{sshd.TEST_USER}@[::1]:{server.port}"
        r = self.env.netres("run", "-H", spec, "--key", self.ed, "--", "echo v6")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"[::1]:{server.port} | v6", r.stdout)

    def test_agent_authentication(self):
        with self.env.agent(self.rsa) as env:
            # No --key and no key files in HOME: only the agent holds the RSA key.
            r = self.env.netres("run", "-H", self.good[1].spec, "--", "echo agent-ok", env=env)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("| agent-ok", r.stdout)

    def test_password_host_without_password_is_auth_failed(self):
        r = self.env.netres("run", "-H", self.good[3].spec, "--", "true")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(table_rows(r.stdout)[f"127.0.0.4:{self.good[3].port}"][0], "auth-failed")

    def test_malformed_ssh_config_is_usage_error(self):
        cfg = os.path.join(self.env.dir, "bad_config")
        with open(cfg, "w") as f:
            f.write("Host x\n  Port 22\n  Prot 23\n")
        r = self.env.netres("run", "-F", cfg, "-H", self.good[0].spec, "--", "touch /tmp/nope",
                            config=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{cfg}:3: unknown ssh config keyword 'Prot'", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_malformed_inventories_are_usage_errors(self):
        bad_yaml = os.path.join(self.env.dir, "bad.yml")
        with open(bad_yaml, "w") as f:
            f.write("all:\n  hosts:\n    r1:\n      ansible_port: many\n")
        r = self.env.netres("run", "-i", bad_yaml, "--", "true")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{bad_yaml}:3:", r.stderr)
        bad_lines = os.path.join(self.env.dir, "hosts.txt")
        with open(bad_lines, "w") as f:
            f.write("# fleet\n127.0.0.1:22\n127.0.0.2:99999\n")
        r = self.env.netres("run", "-i", bad_lines, "--", "true")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{bad_lines}:3: bad port '99999'", r.stderr)
        self.assertEqual(r.stdout, "")
        r = self.env.netres("run", "-i", self.inventory, "--limit", "nosuch*", "--", "true")
        self.assertEqual(r.returncode, 2)
        r = self.env.netres("run", "-H", self.good[0].spec)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no command", r.stderr)
        for verb in ("run", "backup", "push", "copy"):
            r = self.env.netres(verb, "-H", self.good[0].spec, "--no-such-flag", "--", "true")
            self.assertEqual(r.returncode, 2, verb)
            self.assertIn("--no-such-flag", r.stderr, verb)
            self.assertEqual(r.stdout, "", verb)


    def test_copy_upload_and_download(self):
        remote_dir = os.path.join(self.env.dir, "remote")
        os.makedirs(remote_dir)
        os.chmod(remote_dir, 0o777)  # the servers write as the test user
        payload = os.urandom(300_000)
        src = os.path.join(self.env.dir, "payload.bin")
        with open(src, "wb") as f:
            f.write(payload)
        r = self.env.netres("copy", "-i", self.inventory, "--limit", "h1,h2", "--put", src,
                            "--to", remote_dir + "/", "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        objs = ndjson(r.stdout)
        self.assertEqual([o["verified"] for o in objs], ["sha256", "sha256"])
        self.assertEqual({o["bytes"] for o in objs}, {len(payload)})
        with open(os.path.join(remote_dir, "payload.bin"), "rb") as f:
            self.assertEqual(f.read(), payload)
        self.assertFalse([n for n in os.listdir(remote_dir) if "tmp" in n])

        local = os.path.join(self.env.dir, "fetched")
        r = self.env.netres("copy", "-i", self.inventory, "--limit", "h1,h5", "--get",
                            os.path.join(remote_dir, "payload.bin"), "--to", local)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rows = table_rows(r.stdout)
        self.assertEqual(rows["h1"][:3], ["ok", str(len(payload)), "sha256"])
        for host in ("h1", "h5"):
            with open(os.path.join(local, host, "payload.bin"), "rb") as f:
                self.assertEqual(f.read(), payload)

        r = self.env.netres("copy", "-i", self.inventory, "--limit", "h1", "--get",
                            "/nonexistent/file", "--to", local)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(table_rows(r.stdout)["h1"][0], "failed")
        r = self.env.netres("copy", "-i", self.inventory, "--put", "/nonexistent", "--to", "/tmp/")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    harness.main()
