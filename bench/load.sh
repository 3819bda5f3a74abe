#!/usr/bin/env bash
# netres load against wrk, hey, h2load --h1 and locust (those installed) on the same work: a
# real nginx with one worker pinned to CPU 0 serving a small static file, the load generator
# pinned to CPU 1, 50 connections, 10 s. Prints requests/s and the generator's CPU seconds per
# 100,000 requests. ROUNDS=N (default 3) runs the tools N times in turns and gives min / median /
# max. Then the scenario-mode part (bench/load_scenario.sh): 1000 locust-style users against
# locust. Run as: flock /tmp/netres-bench.lock bench/load.sh [build-dir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
netres=$build/src/cli/netres
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }

/usr/bin/python3 - "$here/../tests/fixtures" "$netres" <<'PY'
import os, re, resource, shutil, statistics, subprocess, sys, tempfile
sys.path.insert(0, sys.argv[1])
import nginx_load

NETRES = sys.argv[2]
CONNS, SECONDS = 50, 10
ROUNDS = int(os.environ.get("ROUNDS", "3"))  # in turns, so a busy spell hits every tool


def pin(pid, cpu):
    subprocess.run(["taskset", "-acp", str(cpu), str(pid)], capture_output=True, check=True)


def run(cmd, env=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(["taskset", "-c", "1", *cmd], capture_output=True, text=True, env=env,
                       timeout=SECONDS * 6)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return r.stdout + r.stderr, cpu


def count_requests(n):
    return len(n.access_lines())


results = []
with nginx_load.NginxLoad(workers=1) as n:
    pin(n.proc.pid, 0)
    for child in subprocess.run(["pgrep", "-P", str(n.proc.pid)], capture_output=True,
                                text=True).stdout.split():
        pin(int(child), 0)
    url = n.url("/index.html")
    tools = [("netres load", [NETRES, "load", url, "-c", str(CONNS), "-t", "1", "-d",
                              "%ds" % SECONDS])]
    if shutil.which("wrk"):
        tools.append(("wrk", ["wrk", "-c", str(CONNS), "-t", "1", "-d", "%ds" % SECONDS, url]))
    if shutil.which("hey"):
        tools.append(("hey", ["hey", "-c", str(CONNS), "-z", "%ds" % SECONDS, url]))
    if shutil.which("h2load"):
        tools.append(("h2load --h1", ["h2load", "--h1", "-c", str(CONNS), "-t", "1", "-D",
                                      str(SECONDS), url]))
    locust = shutil.which("locust")
    work = tempfile.mkdtemp(prefix="netres-bench-load-")
    if locust:
        with open(os.path.join(work, "locustfile.py"), "w") as f:
            f.write("from locust import task\nfrom locust.contrib.fasthttp import FastHttpUser\n"
                    "class U(FastHttpUser):\n    @task\n    def index(self):\n"
                    "        self.client.get('/index.html')\n")
        tools.append(("locust (FastHttpUser)",
                      [locust, "-f", os.path.join(work, "locustfile.py"), "--headless", "-u",
                       str(CONNS), "-r", str(CONNS), "-t", "%ds" % SECONDS, "-H",
                       "http://127.0.0.1:%d" % n.port, "--only-summary"]))
    for name, cmd in [t for _ in range(ROUNDS) for t in tools]:
        n.truncate_log()
        out, cpu = run(cmd)
        served = count_requests(n)  # nginx's access log: the same count for every tool
        results.append((name, served, cpu))
    shutil.rmtree(work, ignore_errors=True)

print("nginx 1 worker on CPU 0, generator on CPU 1, %d connections, %d s, small static file"
      % (CONNS, SECONDS))
print("   load average now: " + " ".join(open("/proc/loadavg").read().split()[:3]))
print("%-24s %12s %10s %22s" % ("tool (round by round)", "requests/s", "CPU s",
                                "CPU s / 100k requests"))
for name, served, cpu in results:
    print("%-24s %12.0f %10.2f %22.2f" % (name, served / SECONDS, cpu,
                                          cpu / served * 100000 if served else float("nan")))


def mmm(xs, fmt):
    return " / ".join(fmt % x for x in (min(xs), statistics.median(xs), max(xs)))


print("summary over %d rounds, min / median / max:" % ROUNDS)
for name, _ in tools:
    rows = [r for r in results if r[0] == name]
    print("%-24s requests/s %s, CPU s / 100k requests %s" % (
        name, mmm([r[1] / SECONDS for r in rows], "%.0f"),
        mmm([r[2] / r[1] * 100000 if r[1] else float("nan") for r in rows], "%.2f")))
PY

echo
"$here/load_scenario.sh" "$build"
