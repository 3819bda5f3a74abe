#!/usr/bin/env bash
# Scenario mode (locust-style users) against locust on the same work: bench/load_scenario.yaml
# and bench/locustfile_scenario.py describe 1000 users, started at 1000/s, each requesting a
# small static file and then waiting between 0.5 and 1.5 s, for 30 s. A real nginx (one worker)
# is pinned to CPU 0, the generator to CPU 1. Prints the rate nginx logged against the ideal
# (1000 users / 1 s mean wait = 1000 requests/s, less the response times) and the generator's
# CPU seconds (user + system). Each round also runs netres's quick mode (50 connections, 10 s,
# the wrk-like flood of bench/load.sh) on the same nginx, so scenario mode's CPU per request is
# compared with quick mode's measured beside it. bench/load.sh runs it after the quick-mode part;
# alone:
#   flock /tmp/netres-bench.lock bench/load_scenario.sh [build-dir]
# ROUNDS=N runs each tool N times, in turns (default 3); the summary gives min / median / max.
# BEFORE=path/to/older/netres adds that binary's scenario mode to each round (before/after).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
netres=$build/src/cli/netres
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }

exec /usr/bin/python3 - "$here" "$netres" <<'PY'
import csv, json, os, resource, shutil, statistics, subprocess, sys, tempfile
here, NETRES = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(here, "..", "tests", "fixtures"))
import nginx_load

USERS, SECONDS, MEAN_WAIT = 1000, 30, 1.0
QUICK_CONNS, QUICK_SECONDS = 50, 10
ROUNDS = int(os.environ.get("ROUNDS", "3"))  # the tools take turns, so a busy spell hits all


def pin(pid, cpu):
    subprocess.run(["taskset", "-acp", str(cpu), str(pid)], capture_output=True, check=True)


def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(["taskset", "-c", "1", *cmd], capture_output=True, text=True,
                       timeout=SECONDS * 4)  # quick mode's runs are shorter
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode not in (0, 1):
        sys.exit("%s failed (exit %d): %s" % (cmd[0], r.returncode, r.stderr[-2000:]))
    return r, cpu


print("== load: scenario mode, %d users, wait between(0.5, 1.5) s, spawned at %d/s, %d s"
      % (USERS, USERS, SECONDS))
print("   load average before: " + " ".join(open("/proc/loadavg").read().split()[:3]))
versions = [subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()]
if shutil.which("locust"):  # Debian's locust reports no __version__: ask dpkg
    versions.append("locust " + subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "python3-locust"], capture_output=True,
        text=True).stdout.strip())
print("   " + "; ".join(versions))
# nginx_scenario.conf: 4096 worker connections and listen backlog for 1000 users at once.
results = []
with nginx_load.NginxLoad(workers=1, conf="nginx_scenario.conf") as n:
    pin(n.proc.pid, 0)
    for child in subprocess.run(["pgrep", "-P", str(n.proc.pid)], capture_output=True,
                                text=True).stdout.split():
        pin(int(child), 0)
    host = "http://127.0.0.1:%d" % n.port
    tools = [("netres load (scenario, -t 1)",
              [NETRES, "load", os.path.join(here, "load_scenario.yaml"), "--host", host,
               "-t", "1", "--seed", "1", "--json"]),
             ("netres load (quick, -c %d)" % QUICK_CONNS,
              [NETRES, "load", host + "/index.html", "-c", str(QUICK_CONNS), "-t", "1", "-d",
               "%ds" % QUICK_SECONDS, "--json"])]
    if os.environ.get("BEFORE"):
        tools.append(("netres BEFORE (scenario)",
                      [os.environ["BEFORE"], "load", os.path.join(here, "load_scenario.yaml"),
                       "--host", host, "-t", "1", "--seed", "1", "--json"]))
    locust = shutil.which("locust")
    work = tempfile.mkdtemp(prefix="netres-bench-scenario-")
    if locust:
        for cls, label in (("FastUser", "locust FastHttpUser"),
                           ("RequestsUser", "locust HttpUser")):
            tools.append((label, [locust, "-f", os.path.join(here, "locustfile_scenario.py"), cls,
                                  "--headless", "-u", str(USERS), "-r", str(USERS),
                                  "-t", "%ds" % SECONDS, "--host", host, "--only-summary",
                                  "--csv", os.path.join(work, cls)]))
    for name, cmd in [t for _ in range(ROUNDS) for t in tools]:
        n.truncate_log()
        r, cpu = run(cmd)
        served = len(n.access_lines())  # nginx's access log: the same count for every tool
        seconds = QUICK_SECONDS if "quick" in name else SECONDS
        if "netres" in name:  # each tool's own figures, as a check on the generator
            j = json.loads(r.stdout)["totals"]
            own = "counted %d, %d failed, p50 %.2f ms, p99 %.2f ms" % (
                j["requests"], j["failures"], j["latency_ms"]["p50"], j["latency_ms"]["p99"])
        else:
            with open(cmd[cmd.index("--csv") + 1] + "_stats.csv") as f:
                row = [x for x in csv.DictReader(f) if x["Name"] == "Aggregated"][0]
            own = "counted %s, %s failed, p50 %s ms, p99 %s ms" % (
                row["Request Count"], row["Failure Count"], row["50%"], row["99%"])
        results.append((name, served, cpu, own, seconds))
    shutil.rmtree(work, ignore_errors=True)

ideal = USERS / MEAN_WAIT
print("   ideal: %d users / %.1f s mean wait = %.0f requests/s (less the response times)"
      % (USERS, MEAN_WAIT, ideal))
print("   %-30s %11s %9s %8s %15s %10s" % ("tool (round by round)", "requests/s", "of ideal",
                                           "CPU s", "CPU s/100k req", "CPU ratio"))
for i, (name, served, cpu, own, seconds) in enumerate(results):
    rate = served / seconds
    base_cpu = results[i - i % len(tools)][2]  # netres scenario in the same round
    ratio = "-" if "quick" in name else "%.1fx" % (cpu / base_cpu if base_cpu else float("nan"))
    of_ideal = "-" if "quick" in name else "%.1f%%" % (100 * rate / ideal)  # a flood: no ideal
    print("   %-30s %11.0f %9s %8.2f %15.2f %10s" % (
        name, rate, of_ideal, cpu, cpu / served * 100000 if served else float("nan"), ratio))
for name, served, cpu, own, seconds in results:
    print("   %s: %s" % (name, own))


def mmm(xs):
    return "%.2f / %.2f / %.2f" % (min(xs), statistics.median(xs), max(xs))


print("   summary over %d rounds, min / median / max:" % ROUNDS)
per_req = {}
for name, _ in tools:
    rows = [r for r in results if r[0] == name]
    us = [r[2] / r[1] * 1e6 if r[1] else float("nan") for r in rows]
    per_req[name] = us
    print("   %-30s requests/s %s, CPU us per request %s" % (
        name, mmm([r[1] / r[4] for r in rows]), mmm(us)))
scen, quick = per_req[tools[0][0]], per_req[tools[1][0]]
pairs = [s / q for s, q in zip(scen, quick)]
print("   scenario / quick CPU per request: ratio of medians %.2fx; round by round %s"
      % (statistics.median(scen) / statistics.median(quick), mmm(pairs)))
PY
