#!/usr/bin/env python3
"""netres ssh against a fake network device (tests/fixtures/fake_device.py behind a real sshd):
--shell mode with prompts, paging and echo stripping; backup, diff, push, rollback."""
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import harness  # noqa: E402
from harness import ndjson  # noqa: E402
from sshd_env import SshEnv, table_rows  # noqa: E402
import sshd  # noqa: E402

FAKE_DEVICE = os.path.join(harness.FIXTURES, "fake_device.py")


class FakeDeviceCase(unittest.TestCase):
    """Starts fake_device.py (FLAVOR) behind a real sshd on ADDRESS:PORT for the class, with a
    key-only inventory from inventory_text(server, key)."""
    PREFIX = PORT = ADDRESS = FLAVOR = None

    @classmethod
    def inventory_text(cls, server, key):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.env = env = SshEnv(cls.PREFIX)
        cls.addClassCleanup(env.cleanup)
        cls.state = os.path.join(env.dir, "device_state")
        os.makedirs(cls.state)
        sshd.ensure_test_user()
        shutil.chown(cls.state, user=sshd.TEST_USER)
        cls.key = env.key("id_ed25519")
        cls.server = env.server(
            cls.PORT, cls.ADDRESS,
            extra_config=f"ForceCommand /usr/bin/python3 {FAKE_DEVICE} --flavor {cls.FLAVOR} "
                         f"--state {cls.state}")
        cls.server.authorize(cls.key + ".pub")
        cls.server.start()
        env.trust(cls.server)
        cls.inventory = os.path.join(env.dir, "devices.yml")
        with open(cls.inventory, "w") as f:
            f.write(cls.inventory_text(cls.server, cls.key))

    def running_config(self):
        with open(os.path.join(self.state, "running.cfg")) as f:
            return f.read().splitlines()


class Device(FakeDeviceCase):
    PREFIX, PORT, ADDRESS, FLAVOR = "netres-ssh-dev-", 26020, "127.0.0.20", "ios"

    @classmethod
    def inventory_text(cls, server, key):
        return f"""all:
  children:
    routers:
      vars:
        netres_platform: cisco_ios
        ansible_user: {sshd.TEST_USER}
        ansible_ssh_private_key_file: {key}
      hosts:
        router1:
          ansible_host: 127.0.0.20
          ansible_port: {server.port}
"""

    def test_shell_command_output_is_clean(self):
        r = self.env.netres("run", "-i", self.inventory, "--shell", "--", "show version")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = [l for l in r.stdout.splitlines() if l.startswith("router1 | ")]
        self.assertEqual(lines, ["router1 | Fake IOS Software, router1, Version 15.1(4)M",
                                 "router1 | router1 uptime is 3 days, 4 hours"])

    def test_shell_answers_more_prompts(self):
        # A bare --prompt has no paging-off command, so the device pages and netres answers.
        r = self.env.netres("run", "-i", self.inventory, "--platform", "", "--shell", "--json",
                            "--prompt", r"^router1(\(config\))?#$", "--", "show running-config")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = ndjson(r.stdout)[0]["stdout"]
        self.assertNotIn("More", out)
        self.assertNotIn("\b", out)
        self.assertNotIn("router1#", out)
        body = out.splitlines()
        self.assertEqual(body[0], "Building configuration...")
        self.assertEqual(body[4:-2], self.running_config())

    def test_exec_channel_refused_by_device(self):
        r = self.env.netres("run", "-i", self.inventory, "--", "show version")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(table_rows(r.stdout)["router1"][:2], ["failed", "1"])

    def test_shell_device_error_is_failed(self):
        r = self.env.netres("run", "-i", self.inventory, "--shell", "--", "show bogus")
        self.assertEqual(r.returncode, 1)
        self.assertIn("% Invalid input", r.stdout)


    def test_backup_push_diff_rollback(self):
        # One story, in order: first backup, unchanged backup, dry run, push stopped by an
        # error, rollback to the pre-push backup.
        d = os.path.join(self.env.dir, "backups")
        original = self.running_config()
        r = self.env.netres("backup", "-i", self.inventory, "--dir", d, "--keep", "3")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(table_rows(r.stdout)["router1"][:2], ["ok", "new"])
        files = sorted(os.listdir(os.path.join(d, "router1")))
        self.assertEqual(len(files), 1)
        self.assertRegex(files[0], r"^\d{8}T\d{6}\.\d{3}Z\.cfg$")
        with open(os.path.join(d, "router1", files[0])) as f:
            saved = f.read().splitlines()
        self.assertEqual(saved[4:-2], original)
        self.assertNotIn("--More--", "\n".join(saved))

        r = self.env.netres("backup", "-i", self.inventory, "--dir", d, "--keep", "3", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        obj = ndjson(r.stdout)[0]
        self.assertEqual((obj["status"], obj["diff"], obj["first_backup"]), ("ok", "", False))

        lines = os.path.join(self.env.dir, "change.cfg")
        with open(lines, "w") as f:
            f.write("! change 42\nntp server 192.0.2.99\nlogging host 192.0.2.50\n"
                    "bogus command here\nsnmp-server location lab\n")
        r = self.env.netres("push", "-i", self.inventory, "--dir", d, "--file", lines,
                            "--dry-run")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("would send 4 lines", r.stdout)
        self.assertIn("+ntp server 192.0.2.99", r.stdout)
        self.assertEqual(self.running_config(), original)  # a dry run touches nothing
        self.assertEqual(len(os.listdir(os.path.join(d, "router1"))), 2)

        # A real push: backup first, lines one by one, stop at the device's error.
        r = self.env.netres("push", "-i", self.inventory, "--dir", d, "--file", lines,
                            "--keep", "3")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("2 of 4 lines applied", r.stdout)
        self.assertIn("  ok   ntp server 192.0.2.99", r.stdout)
        self.assertRegex(r.stdout, r"  FAIL bogus command here  <- % Invalid input detected")
        self.assertIn("  skip snmp-server location lab", r.stdout)
        self.assertEqual(table_rows(r.stdout)["router1"][:2], ["failed", "2/4"])
        self.assertEqual(self.running_config(),
                         original + ["ntp server 192.0.2.99", "logging host 192.0.2.50"])
        self.assertEqual(len(os.listdir(os.path.join(d, "router1"))), 3)  # the pre-push backup

        # Rollback re-applies the latest backup (the one the push took).
        r = self.env.netres("push", "-i", self.inventory, "--dir", d, "--rollback")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("  ok   no ntp server 192.0.2.99", r.stdout)
        self.assertIn("-ntp server 192.0.2.99", r.stdout)
        self.assertEqual(self.running_config(), original)

        # The same again as NDJSON; --keep 3 prunes the oldest backup.
        r = self.env.netres("push", "-i", self.inventory, "--dir", d, "--file", lines, "--json",
                            "--keep", "3")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        obj = ndjson(r.stdout)[0]
        self.assertEqual(obj["status"], "failed")
        self.assertEqual(obj["applied"], ["ntp server 192.0.2.99", "logging host 192.0.2.50"])
        self.assertEqual(obj["failed_line"], "bogus command here")
        self.assertIn("% Invalid input detected", obj["device_error"])
        self.assertIn("+ntp server 192.0.2.99", obj["diff"])
        self.assertEqual(len(os.listdir(os.path.join(d, "router1"))), 3)
        r = self.env.netres("push", "-i", self.inventory, "--dir", d, "--rollback", "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(ndjson(r.stdout)[0]["status"], "ok")
        self.assertEqual(self.running_config(), original)

    def test_backup_diff_against_previous(self):
        d = os.path.join(self.env.dir, "backups2")
        r = self.env.netres("backup", "-i", self.inventory, "--dir", d)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.state, "running.cfg"), "a") as f:
            f.write("ntp server 198.51.100.7\n")
        try:
            r = self.env.netres("backup", "-i", self.inventory, "--dir", d)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"(?m)^--- .*router1/\d{8}T.*\.cfg$")
            self.assertRegex(r.stdout, r"(?m)^@@ -\d+,\d+ \+\d+,\d+ @@$")
            self.assertIn("\n+ntp server 198.51.100.7\n", r.stdout)
            self.assertEqual(table_rows(r.stdout)["router1"][:3], ["ok", "+2", "-1"])
        finally:
            cfg = self.running_config()
            cfg.remove("ntp server 198.51.100.7")
            with open(os.path.join(self.state, "running.cfg"), "w") as f:
                f.write("\n".join(cfg) + "\n")


class JunosDevice(FakeDeviceCase):
    """The Juniper-like preset against the fake device's junos flavour."""
    PREFIX, PORT, ADDRESS, FLAVOR = "netres-ssh-junos-", 26030, "127.0.0.21", "junos"

    @classmethod
    def inventory_text(cls, server, key):
        return f"""all:
  hosts:
    mx1:
      ansible_host: 127.0.0.21
      ansible_port: {server.port}
      ansible_user: {sshd.TEST_USER}
      ansible_ssh_private_key_file: {key}
      netres_platform: juniper_junos
"""

    def test_shell_backup_push_rollback(self):
        r = self.env.netres("run", "-i", self.inventory, "--shell", "--json", "--",
                            "show version")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(ndjson(r.stdout)[0]["stdout"],
                         "Hostname: router1\nModel: fake-mx\nJunos: 21.4R1\n")

        d = os.path.join(self.env.dir, "backups")
        original = self.running_config()
        r = self.env.netres("backup", "-i", self.inventory, "--dir", d, "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(ndjson(r.stdout)[0]["backup"]) as f:
            saved = f.read().splitlines()
        self.assertEqual(saved[1:], original)  # after the "## Last commit" comment

        lines = os.path.join(self.env.dir, "change.set")
        with open(lines, "w") as f:
            f.write("set system ntp server 192.0.2.99\ndelete system syslog file messages\n"
                    "set bogus-section foo bar\nset system host-name never\n")
        r = self.env.netres("push", "-i", self.inventory, "--dir", d, "--file", lines, "--json")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        obj = ndjson(r.stdout)[0]
        self.assertEqual(obj["applied"], ["set system ntp server 192.0.2.99",
                                          "delete system syslog file messages"])
        self.assertEqual(obj["failed_line"], "set bogus-section foo bar")
        self.assertEqual(obj["device_error"], "syntax error.")
        self.assertIn("set system ntp server 192.0.2.99", self.running_config())
        self.assertNotIn("set system syslog file messages any notice", self.running_config())

        r = self.env.netres("push", "-i", self.inventory, "--dir", d, "--rollback", "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(sorted(ndjson(r.stdout)[0]["sent"]),
                         ["delete system ntp server 192.0.2.99",
                          "set system syslog file messages any notice"])
        self.assertEqual(sorted(self.running_config()), sorted(original))


if __name__ == "__main__":
    harness.main()
