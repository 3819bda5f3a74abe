"""Helpers the monitor benchmarks share (bench/monitor*.sh import it): HTTP GET and wait for a
server, a process's CPU seconds and resident memory from /proc."""
import os
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait(url, seconds=30):
    """Until `url` answers, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            get(url, 2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("no answer from " + url)


def cpu_seconds(pid):
    """utime + stime of the process (not its children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
