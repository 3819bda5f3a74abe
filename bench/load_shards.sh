#!/usr/bin/env bash
# What load's shards cost (issue 11, section 2), on loopback against nginx
# (tests/fixtures/nginx_load.py) on 127.0.0.1:18552:
#   - --results on a quick-mode run: the process's CPU time per request with and without it
#     (the run keeps each second's latency histogram and writes every histogram at the end),
#     interleaved runs;
#   - the results file's size, and `netres merge` of 3 shards started together (--start-at):
#     wall and CPU time of the merge, and whether the merged request count equals nginx's log.
# Run as: flock /tmp/netres-bench.lock bench/load_shards.sh [build-dir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
netres=$build/src/cli/netres
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }

/usr/bin/python3 - "$here/.." "$netres" <<'PY'
import json, os, resource, shutil, statistics, subprocess, sys, tempfile, time

root, netres = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "tests", "fixtures"))
import nginx_load  # noqa: E402

PORT = 18552  # the load shards' ports 18550-18599
RUNS, SECONDS, MERGES = 5, 10, 7


def timed(*args):
    """Runs netres; returns (stdout, wall s, CPU s of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run([netres, *args], capture_output=True, text=True, timeout=300)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit("netres %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return r.stdout, wall, cpu


def spread(xs, fmt="%.2f"):
    return (fmt + " (min " + fmt + ", max " + fmt + ")") % (statistics.median(xs), min(xs), max(xs))


tmp = tempfile.mkdtemp(prefix="netres-bench-shards-")
try:
    with nginx_load.NginxLoad(port=PORT) as n:
        url = n.url("/index.html")
        base = ["load", url, "-c", "10", "-t", "1", "-d", "%ds" % SECONDS, "--json"]
        per_req = {"without --results": [], "with --results": []}
        sizes = []
        for i in range(RUNS):  # interleaved
            for name in per_req:
                extra = ["--results", os.path.join(tmp, "r.json")] if "with " in name else []
                out, _, cpu = timed(*base, *extra)
                requests = json.loads(out)["totals"]["requests"]
                per_req[name].append(cpu / requests * 1e6)
                if extra:
                    sizes.append(os.path.getsize(extra[1]))
        print("quick mode -c 10 -t 1 -d %ds, %d interleaved runs each, CPU per request (us):"
              % (SECONDS, RUNS))
        for name, xs in per_req.items():
            print("  %-18s %s" % (name, spread(xs)))
        print("  results file: %s KB" % spread([s / 1024 for s in sizes], "%.0f"))

        # 3 shards of one job, started together, then merged.
        n.truncate_log()
        at = "%.3f" % (time.time() + 2)
        files = [os.path.join(tmp, "s%d.json" % k) for k in (1, 2, 3)]
        procs = [subprocess.Popen([netres, "load", url, "-c", "9", "-t", "1", "-d",
                                   "%ds" % SECONDS, "--shard", "%d/3" % k, "--start-at", at,
                                   "--results", files[k - 1], "--json"],
                                  stdout=subprocess.DEVNULL) for k in (1, 2, 3)]
        for p in procs:
            if p.wait(timeout=120) != 0:
                sys.exit("a shard failed")
        time.sleep(0.3)
        served = len(n.access_lines())
        walls, cpus = [], []
        for _ in range(MERGES):
            out, wall, cpu = timed("merge", *files, "--json")
            walls.append(wall * 1e3)
            cpus.append(cpu * 1e3)
        merged = json.loads(out)
        print("3 shards of -c 9 -d %ds (3 connections each), started together:" % SECONDS)
        print("  files: %s KB" % ", ".join("%.0f" % (os.path.getsize(f) / 1024) for f in files))
        print("  merged requests %d, nginx access log %d, %s" % (
            merged["totals"]["requests"], served,
            "equal" if merged["totals"]["requests"] == served else "DIFFERENT"))
        print("  netres merge --json, %d runs: wall %s ms, CPU %s ms" % (
            MERGES, spread(walls, "%.0f"), spread(cpus, "%.0f")))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
PY
