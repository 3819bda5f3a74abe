#!/usr/bin/env bash
# netres load as a locust worker against locust's own workers, driven by the same locust master
# (Debian's python3-locust 2.12.1), on loopback: 2 workers, USERS users (default 1000) with
# wait_time between(0.5, 1.5) s, each user GETting /index.html from nginx (one worker). Per round and peer:
#   - the achieved request rate in a steady window (nginx's access log lines over time) against
#     the expected one, users / (1 s mean wait + the mean response time from the master's CSV);
#   - the workers' CPU per request in that window (utime + stime of both worker processes from
#     /proc/PID/stat, over the requests nginx logged), and the ratio netres / locust.
# Rounds are interleaved (netres, locust, netres, locust, ...); medians with min and max.
# Debian's locust reports an empty version, and its master refuses such workers as "pre 2.0":
# the locust workers are started through a two-line wrapper that sets locust's real version
# (locust.__version__ and the copy runners.py took of it) before calling locust's main().
# Ports: master 18510, nginx 18511 (docs/development.md).
# Run as: flock /tmp/netres-bench.lock bench/load_distributed.sh [build-dir] [rounds] [users]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
netres=$(cd "$build" && pwd)/src/cli/netres
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }

/usr/bin/python3 - "$here/.." "$netres" "${2:-3}" "${3:-1000}" <<'PY'
import csv, os, shutil, signal, statistics, subprocess, sys, tempfile, time

root, netres, rounds, users = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, os.path.join(root, "tests", "fixtures"))
import nginx_load  # noqa: E402

MASTER_PORT, NGINX_PORT = 18510, 18511
RAMP_S, WARM_S, WINDOW_S = 4, 4, 20  # spawn at users/RAMP_S per second, settle, measure
RUN_S = RAMP_S + WARM_S + WINDOW_S + 3
TICK = os.sysconf("SC_CLK_TCK")

tmp = tempfile.mkdtemp(prefix="netres-bench-locust-")
scenario = os.path.join(tmp, "index.yaml")
with open(scenario, "w") as f:
    f.write("host: http://127.0.0.1:%d\nwait_time: {between: [0.5, 1.5]}\n"
            "tasks: [GET /index.html]\n" % NGINX_PORT)
peer = os.path.join(tmp, "peer.py")
with open(peer, "w") as f:
    f.write("from locust import FastHttpUser, between, task\n\n\n"
            "class user(FastHttpUser):\n"
            "    host = 'http://127.0.0.1:%d'\n"
            "    wait_time = between(0.5, 1.5)\n\n"
            "    @task\n"
            "    def index(self):\n"
            "        self.client.get('/index.html')\n" % NGINX_PORT)
wrapper = os.path.join(tmp, "locust_with_version.py")
with open(wrapper, "w") as f:
    f.write("import sys, locust, locust.runners\n"
            "locust.__version__ = locust.runners.__version__ = '2.12.1'\n"
            "from locust.main import main\n"
            "sys.argv[0] = 'locust'\n"
            "sys.exit(main())\n")
master_py = os.path.join(tmp, "master.py")
subprocess.run([netres, "load", scenario, "--emit-locustfile", master_py], check=True)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def one_round(kind, nginx):
    nginx.truncate_log()
    out = os.path.join(tmp, "%s" % kind)
    master = subprocess.Popen(
        ["/usr/bin/python3", "-m", "locust", "-f", master_py if kind == "netres" else peer,
         "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(MASTER_PORT),
         "--headless", "--expect-workers", "2", "-u", str(users), "-r", str(users / RAMP_S),
         "-t", "%ds" % RUN_S, "--csv", out, "--only-summary"],
        cwd=tmp, stdout=subprocess.DEVNULL, stderr=open(out + ".master.log", "w"))
    if kind == "netres":
        cmd = [netres, "load", scenario, "--locust-master", "127.0.0.1:%d" % MASTER_PORT, "-t", "1"]
    else:
        cmd = ["/usr/bin/python3", wrapper, "-f", peer, "--worker", "--master-host",
               "127.0.0.1", "--master-port", str(MASTER_PORT)]
    workers = [subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        # The master starts once both workers are in; the run's clock starts with the spawn.
        deadline = time.monotonic() + 30
        while lines(nginx.access_path()) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(RAMP_S + WARM_S)
        c0, n0, t0 = sum(cpu_ticks(w.pid) for w in workers), lines(nginx.access_path()), time.time()
        time.sleep(WINDOW_S)
        c1, n1, t1 = sum(cpu_ticks(w.pid) for w in workers), lines(nginx.access_path()), time.time()
        master.wait(timeout=RUN_S + 30)
        for w in workers:
            w.wait(timeout=30)
    finally:
        for p in [master] + workers:
            if p.poll() is None:
                p.kill()
                p.wait()
    if not os.path.exists(out + "_stats.csv"):
        sys.exit("the master wrote no CSV; its log:\n" + open(out + ".master.log").read()[-3000:])
    with open(out + "_stats.csv") as f:
        agg = [r for r in csv.DictReader(f) if r["Name"] == "Aggregated"][0]
    avg_rt_s = float(agg["Average Response Time"]) / 1000.0
    rate = (n1 - n0) / (t1 - t0)
    expected = users / (1.0 + avg_rt_s)
    cpu_us = (c1 - c0) / TICK * 1e6 / max(1, n1 - n0)
    return {"rate": rate, "expected": expected, "ratio": rate / expected, "cpu_us": cpu_us,
            "cpu_pct": (c1 - c0) / TICK / (t1 - t0) * 100, "fails": int(agg["Failure Count"])}


results = {"netres": [], "locust": []}
# nginx_scenario.conf: 4096 worker connections (nginx_load.conf's 1024 are too few for 1000
# keep-alive users: nginx then closes idle ones, which a user finds closed on its next request).
with nginx_load.NginxLoad(port=NGINX_PORT, workers=1, conf="nginx_scenario.conf") as nginx:
    for r in range(rounds):
        for kind in ("netres", "locust"):
            res = one_round(kind, nginx)
            results[kind].append(res)
            print("round %d %-6s rate %7.1f/s expected %7.1f/s (%.4f)  worker CPU %6.1f us/req "
                  "(%5.1f%% of a core)  failures %d" % (r + 1, kind, res["rate"], res["expected"],
                                                        res["ratio"], res["cpu_us"],
                                                        res["cpu_pct"], res["fails"]), flush=True)


def med(kind, key):
    v = [x[key] for x in results[kind]]
    return statistics.median(v), min(v), max(v)


print("\n%d users, between(0.5, 1.5), 2 workers, %d rounds, steady window %d s" %
      (users, rounds, WINDOW_S))
for kind in ("netres", "locust"):
    m = {k: med(kind, k) for k in ("rate", "expected", "ratio", "cpu_us")}
    print("%-6s rate/expected %.4f (%.4f-%.4f), rate %.1f/s (%.1f-%.1f), worker CPU %.1f us/req "
          "(%.1f-%.1f)" % (kind, *m["ratio"], *m["rate"], *m["cpu_us"]))
ratios = [a["cpu_us"] / b["cpu_us"] for a, b in zip(results["netres"], results["locust"])]
print("netres/locust worker CPU per request: %.3f (%.3f-%.3f)" %
      (statistics.median(ratios), min(ratios), max(ratios)))
shutil.rmtree(tmp, ignore_errors=True)
PY
