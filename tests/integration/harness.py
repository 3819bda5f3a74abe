"""Shared plumbing for integration tests: where the netres binary is, and the test runner.

Each test script is run by CTest as `python3 test_x.py --netres PATH`.
"""
import argparse
import os
import sys
import unittest

NETRES = os.environ.get("NETRES", "netres")
SOURCE_DIR = os.environ.get(
    "NETRES_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
)
FIXTURES = os.path.join(SOURCE_DIR, "tests", "fixtures")


def main():
    global NETRES
    parser = argparse.ArgumentParser()
    parser.add_argument("--netres", default=NETRES)
    args, rest = parser.parse_known_args()
    NETRES = os.path.abspath(args.netres)
    os.environ["NETRES"] = NETRES
    # Modules import `harness` and read harness.NETRES at call time.
    sys.modules["harness"].NETRES = NETRES
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
