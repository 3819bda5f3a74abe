#!/usr/bin/env python3
"""netres ssh copy against real servers on loopback: OpenSSH's sshd, an sftp-only sshd account
(ForceCommand internal-sftp: no shell, so no sha256sum) and dropbear (OpenSSH's sftp-server
behind another SSH implementation). Files larger than the pipelining window both ways, atomic
replacement, permission bits, directories as targets, and the failures a user meets."""
import os
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import harness  # noqa: E402
from harness import ndjson  # noqa: E402
from sshd_env import SshEnv, table_rows  # noqa: E402
import sshd  # noqa: E402
from dropbear import DropbearServer  # noqa: E402

SIZE = 6 * 1024 * 1024 + 12345  # three times the 64 x 32 KiB window, not a multiple of it


class SshCopy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = env = SshEnv("netres-ssh-copy-")
        cls.addClassCleanup(env.cleanup)
        key = env.key("id_ed25519")
        cls.openssh = env.server(26210, "127.0.0.1")
        cls.sftponly = env.server(26211, "127.0.0.1", extra_config="ForceCommand internal-sftp")
        # An "SFTP server" that never answers: ForceCommand replaces subsystems too.
        cls.stalled = env.server(26212, "127.0.0.1", extra_config="ForceCommand /bin/sleep 8")
        for s in env.servers:
            s.authorize(key + ".pub")
            s.start()
        env.trust(*env.servers)
        cls.dropbear = DropbearServer(26220, "127.0.0.1").start()
        cls.addClassCleanup(cls.dropbear.cleanup)
        with open(env.known_hosts, "a") as f:
            f.write(cls.dropbear.known_hosts_line())
        cls.inventory = os.path.join(env.dir, "inventory.yml")
        with open(cls.inventory, "w") as f:
            f.write(f"all:\n  vars:\n    ansible_user: {sshd.TEST_USER}\n  hosts:\n")
            for name, server, k in (("openssh", cls.openssh, key),
                                    ("sftponly", cls.sftponly, key),
                                    ("stalled", cls.stalled, key),
                                    ("dropbear", cls.dropbear, None)):
                f.write(f"    {name}:\n      ansible_host: {server.address}\n"
                        f"      ansible_port: {server.port}\n")
                if k:
                    f.write(f"      ansible_ssh_private_key_file: {k}\n")
        cls.payload = os.urandom(SIZE)
        cls.src = os.path.join(env.dir, "payload.bin")
        with open(cls.src, "wb") as f:
            f.write(cls.payload)

    def copy(self, *args):
        return self.env.netres("copy", "-i", self.inventory, "--timeout", "60s", *args,
                               env={"NETRES_SSH_PASSWORD": sshd.test_user_password()})

    def remote_dir(self, name, mode=0o777):
        d = os.path.join(self.env.dir, name)
        os.makedirs(d)
        os.chmod(d, mode)  # the servers write as the test user
        return d

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def assert_no_temp_files(self, directory):
        self.assertEqual([n for n in os.listdir(directory) if "netres-tmp" in n], [])

    def test_upload_then_download_every_server(self):
        for host in ("openssh", "sftponly", "dropbear"):
            with self.subTest(host=host):
                remote = self.remote_dir("up-" + host)
                r = self.copy("--limit", host, "--put", self.src, "--to", remote + "/", "--json")
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                (obj,) = ndjson(r.stdout)
                self.assertEqual(obj["bytes"], SIZE)
                # No shell on the sftp-only account: sizes only, and no hang waiting for one.
                self.assertEqual(obj["verified"], "size" if host == "sftponly" else "sha256", r.stderr)
                self.assertEqual(obj["remote_path"], os.path.join(remote, "payload.bin"))
                self.assertEqual(self.read(os.path.join(remote, "payload.bin")), self.payload)
                self.assert_no_temp_files(remote)

                local = os.path.join(self.env.dir, "down-" + host)
                r = self.copy("--limit", host, "--get", os.path.join(remote, "payload.bin"),
                              "--to", local)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertEqual(table_rows(r.stdout)[host][:3],
                                 ["ok", str(SIZE), "size" if host == "sftponly" else "sha256"])
                got_dir = os.path.join(local, host)
                self.assertEqual(self.read(os.path.join(got_dir, "payload.bin")), self.payload)
                self.assert_no_temp_files(got_dir)

    def test_fleet_upload_to_one_path(self):
        # Three hosts, one machine, one target path: each writes its own temporary file and
        # renames it over the target, so the target is always one whole copy.
        remote = self.remote_dir("fleet")
        r = self.copy("--limit", "openssh,sftponly,dropbear", "--put", self.src, "--to",
                      remote + "/same.bin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual({row[0] for row in table_rows(r.stdout).values()}, {"ok"})
        self.assertEqual(self.read(os.path.join(remote, "same.bin")), self.payload)
        self.assert_no_temp_files(remote)

    def test_replace_is_atomic_and_keeps_permission_bits(self):
        remote = self.remote_dir("replace")
        target = os.path.join(remote, "tool.sh")
        with open(target, "w") as f:
            f.write("old\n")
        os.chmod(target, 0o666)
        old_inode = os.stat(target).st_ino
        script = os.path.join(self.env.dir, "tool.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho new\n")
        os.chmod(script, 0o750)
        r = self.copy("--limit", "openssh", "--put", script, "--to", target)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        st = os.stat(target)
        self.assertNotEqual(st.st_ino, old_inode)  # renamed over, never rewritten in place
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o750)
        self.assertEqual(self.read(target), b"#!/bin/sh\necho new\n")
        # A directory as the target, without a trailing slash: the file goes inside, as scp.
        r = self.copy("--limit", "openssh", "--put", script, "--to", remote, "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(ndjson(r.stdout)[0]["remote_path"], target)
        self.assert_no_temp_files(remote)
        # A name of 250 bytes: its temporary name must still fit in NAME_MAX.
        long_name = os.path.join(remote, "n" * 250)
        r = self.copy("--limit", "openssh", "--put", script, "--to", long_name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.read(long_name), b"#!/bin/sh\necho new\n")
        self.assert_no_temp_files(remote)

    def test_failures_are_reported_per_host(self):
        locked = self.remote_dir("locked", 0o755)  # root's: the test user cannot write there
        r = self.copy("--limit", "openssh,dropbear", "--put", self.src, "--to", locked + "/")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        rows = table_rows(r.stdout)
        for host in ("openssh", "dropbear"):
            self.assertEqual(rows[host][0], "failed")
        self.assertIn("permission denied", r.stdout.lower())
        self.assertEqual(os.listdir(locked), [])

        local = os.path.join(self.env.dir, "fail-down")
        for path, text in ((self.env.dir, "is a directory"),
                           (os.path.join(self.env.dir, "no-such-file"), "no such file")):
            r = self.copy("--limit", "openssh", "--get", path, "--to", local)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertEqual(table_rows(r.stdout)["openssh"][0], "failed")
            self.assertIn(text, r.stdout.lower())
            self.assertEqual(len(r.stdout.strip().splitlines()), 2)  # header + one line
            self.assertEqual(os.listdir(os.path.join(local, "openssh")), [])

    def test_stalled_server_is_a_timeout(self):
        remote = self.remote_dir("stalled")
        r = self.env.netres("copy", "-i", self.inventory, "--limit", "stalled", "--timeout", "2s",
                            "--put", self.src, "--to", remote + "/")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        row = table_rows(r.stdout)["stalled"]
        self.assertEqual(row[0], "timeout")
        self.assertLess(float(row[3].rstrip("s")), 6)  # generous: the deadline, not the server
        self.assertIn("transfer still running after 2.00s", r.stdout)


if __name__ == "__main__":
    harness.main()
