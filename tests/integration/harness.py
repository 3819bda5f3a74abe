"""Shared plumbing for integration tests: where the netres binary is, the test runner, and the
few helpers every test file uses (run netres, run a command, parse NDJSON, wait for a condition,
skip without root).

Each test script is run by CTest as `python3 test_x.py --netres PATH`.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

NETRES = os.environ.get("NETRES", "netres")
SOURCE_DIR = os.environ.get(
    "NETRES_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
)
FIXTURES = os.path.join(SOURCE_DIR, "tests", "fixtures")


def netres(*args, timeout=60, **kw):
    """Runs `netres ARGS...` to completion (text, both streams captured, bounded in time)."""
    # NETRES is read at call time: main() sets it after the test modules are imported.
    return subprocess.run([NETRES, *args], capture_output=True, text=True, timeout=timeout, **kw)


def run(*cmd, check=True, timeout=30, **kw):
    """Runs a helper command (ip, tc, tshark...); raises on a non-zero exit unless check=False."""
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=timeout, **kw)


def ndjson(text):
    """One object per line; a line that is not JSON (a blank one too) fails the test."""
    return [json.loads(line) for line in text.splitlines()]


def wait_until(what, fn, seconds):
    """Polls fn() every 0.2 s, at most `seconds`, until it returns a true value, which it returns;
    an OSError, ValueError, KeyError or IndexError (a server not answering yet, half-written
    JSON) counts as "not yet". Raises AssertionError naming `what` and the last value or error."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError, KeyError, IndexError) as e:
            last = e
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}; last: {last!r}")


def require_root(*tools):
    """Class or test decorator: skips unless running as root with each of `tools` on PATH."""
    missing = [t for t in tools if not shutil.which(t)]
    if os.geteuid() != 0:
        return unittest.skip("needs root")
    if missing:
        return unittest.skip("needs " + ", ".join(missing))
    return lambda f: f


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
