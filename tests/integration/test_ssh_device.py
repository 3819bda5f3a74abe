#!/usr/bin/env python3
"""netres ssh against a fake network device (tests/fixtures/fake_device.py behind a real sshd):
--shell mode with prompts, paging and echo stripping; backup, diff, push, rollback."""
import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import harness  # noqa: E402
from sshd_env import SshEnv, ndjson, table_rows  # noqa: E402
import sshd  # noqa: E402

FAKE_DEVICE = os.path.join(harness.FIXTURES, "fake_device.py")


class Device(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = env = SshEnv("netres-ssh-dev-")
        try:
            cls.state = os.path.join(env.dir, "device_state")
            os.makedirs(cls.state)
            sshd.ensure_test_user()
            shutil.chown(cls.state, user=sshd.TEST_USER)
            cls.key = env.key("id_ed25519")
            cls.server = env.server(
                26020, "127.0.0.20",
                extra_config=f"ForceCommand /usr/bin/python3 {FAKE_DEVICE} --state {cls.state}")
            cls.server.authorize(cls.key + ".pub")
            cls.server.start()
            env.trust(cls.server)
            cls.inventory = os.path.join(env.dir, "devices.yml")
            with open(cls.inventory, "w") as f:
                f.write(f"""all:
  children:
    routers:
      vars:
        netres_platform: cisco_ios
        ansible_user: {sshd.TEST_USER}
        ansible_ssh_private_key_file: {cls.key}
      hosts:
        router1:
          ansible_host: 127.0.0.20
          ansible_port: {cls.server.port}
""")
        except BaseException:
            env.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.cleanup()

    def running_config(self):
        with open(os.path.join(self.state, "running.cfg")) as f:
            return f.read().splitlines()

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


if __name__ == "__main__":
    harness.main()
