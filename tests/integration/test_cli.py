#!/usr/bin/env python3
"""The shared command-line conventions: help, version, exit codes, one-line errors."""
import sys
import unittest

sys.path.insert(0, __import__("os").path.dirname(__file__))
import harness  # noqa: E402
from harness import netres  # noqa: E402


class Cli(unittest.TestCase):
    def run_netres(self, *args):
        return netres(*args, timeout=30)

    def test_version(self):
        r = self.run_netres("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.strip(), r"^netres \d+\.\d+\.\d+$")

    def test_help_lists_verbs(self):
        r = self.run_netres("--help")
        self.assertEqual(r.returncode, 0)
        for verb in ("resolve", "scan"):
            self.assertIn(verb, r.stdout)

    def test_verb_help(self):
        for verb in ("resolve", "scan"):
            r = self.run_netres(verb, "--help")
            self.assertEqual(r.returncode, 0, verb)
            self.assertIn("--json", r.stdout, verb)

    def test_no_verb_is_usage_error(self):
        r = self.run_netres()
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("netres: "))

    def test_unknown_flag_is_one_line_usage_error(self):
        r = self.run_netres("scan", "--no-such-flag")
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("netres: scan: "), r.stderr)

    def test_unknown_verb(self):
        r = self.run_netres("teleport")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    harness.main()
