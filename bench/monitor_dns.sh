#!/usr/bin/env bash
# netres monitor's dns checks: CPU per 1000 probes, and probes done against the rounds expected,
# for two netres binaries in turns (e.g. before and after a change; one binary: just that one).
# Two workloads, each a fresh monitor serving (no Prometheus: the monitor schedules itself):
#   answered  TARGETS dns targets (default 1000) on one dnsmasq, every 2 s
#   dead      DEAD targets (default 200) on a UDP socket that never answers, every 2 s, timeout
#             1 s: every probe waits its whole timeout, so this shows how many can wait at once
# Each run: a warm-up of one interval plus 2 s, then SECONDS_PER_RUN seconds measured (CPU is
# utime + stime of the monitor's process from /proc; probes from its netres_probes_total).
# ROUNDS=N (default 3) runs of each binary x workload in turns; prints min / median / max.
# Run as: flock /tmp/netres-bench.lock bench/monitor_dns.sh NETRES [NETRES_BEFORE]
# Ports on 127.0.0.1 (docs/development.md): 18855 the monitor, 18857 the silent socket; dnsmasq
# takes a free port of its own (tests/fixtures/dnsmasq.py).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[[ $# -ge 1 && -x $1 ]] || { echo "usage: $0 NETRES [NETRES_BEFORE]" >&2; exit 2; }
command -v dnsmasq >/dev/null || { echo "needs dnsmasq (scripts/deps.sh)" >&2; exit 2; }

/usr/bin/python3 - "$here/../tests/fixtures" "$@" <<'PY'
import os, shutil, socket, statistics, subprocess, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(sys.argv[1], "..", "..", "bench"))
from dnsmasq import Dnsmasq
from processes import stop_process
from monitor_lib import get, cpu_seconds

BINARIES = sys.argv[2:]
TARGETS = int(os.environ.get("TARGETS", "1000"))
DEAD = int(os.environ.get("DEAD", "200"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "20"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
INTERVAL = 2
MONITOR_PORT, SILENT_PORT = 18855, 18857


def counters():
    probes = failures = 0.0
    for line in get(f"http://127.0.0.1:{MONITOR_PORT}/metrics").splitlines():
        if line.startswith("netres_probes_total{"):
            probes += float(line.rsplit(" ", 1)[1])
        elif line.startswith("netres_probe_failures_total{"):
            failures += float(line.rsplit(" ", 1)[1])
    return probes, failures


def run(netres, work, server, count, timeout):
    conf = os.path.join(work, "monitor.yaml")
    with open(conf, "w") as f:
        f.write(f"defaults: {{interval: {INTERVAL}s, timeout: {timeout}, concurrency: 5000}}\n"
                "checks:\n  www: {kind: dns, query_name: www.bench.test}\ntargets:\n")
        for i in range(count):
            f.write(f'  - {{name: "d{i}", address: "{server}", checks: [www]}}\n')
    mon = subprocess.Popen([netres, "monitor", "-c", conf, "--listen",
                            f"127.0.0.1:{MONITOR_PORT}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get(f"http://127.0.0.1:{MONITOR_PORT}/-/healthy", 2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(INTERVAL + 2)  # the first round: every slot once
        cpu0, (probes0, fail0) = cpu_seconds(mon.pid), counters()
        time.sleep(SECONDS)
        cpu1, (probes1, fail1) = cpu_seconds(mon.pid), counters()
        return cpu1 - cpu0, probes1 - probes0, fail1 - fail0
    finally:
        stop_process(mon)


silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", SILENT_PORT))  # bound, never read: every query times out
results = {}
with Dnsmasq(["--host-record=www.bench.test,192.0.2.55"], tag="netres-bench-mondns") as dns:
    workloads = (("answered", dns.server, TARGETS, "1s"),
                 ("dead", f"127.0.0.1:{SILENT_PORT}", DEAD, "1s"))
    for r in range(ROUNDS):
        for wname, server, count, timeout in workloads:
            for b, netres in enumerate(BINARIES):
                work = tempfile.mkdtemp(prefix="netres-bench-mondns-")
                try:
                    cpu, probes, fails = run(netres, work, server, count, timeout)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
                results.setdefault((wname, b), []).append((cpu, probes, fails))
                print(f"round {r + 1}: {wname}: {netres}: {cpu:.2f} s CPU, {probes:.0f} probes, "
                      f"{fails:.0f} failed", flush=True)
silent.close()

print(f"\nevery {INTERVAL} s, {SECONDS} s measured per run, {ROUNDS} runs in turns")
print(f"{'workload':<10} {'binary':<40} {'CPU s / 1000 probes, median (min-max)':>38} "
      f"{'probes/run of expected':>24}")
for (wname, b), rows in results.items():
    count = TARGETS if wname == "answered" else DEAD
    expected = count * SECONDS / INTERVAL
    per = [1000 * cpu / probes for cpu, probes, _ in rows if probes]
    probes = [p for _, p, _ in rows]
    print(f"{wname:<10} {BINARIES[b]:<40} {statistics.median(per):>19.3f} "
          f"({min(per):.3f}-{max(per):.3f}) {statistics.median(probes):>12.0f} of "
          f"{expected:.0f} ({min(probes):.0f}-{max(probes):.0f})")
PY
