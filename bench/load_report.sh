#!/usr/bin/env bash
# What netres load reports when things go wrong, measured side by side for two builds (this
# one and, when given, a baseline such as the commit before a change), all on loopback:
#   - a --fail-if latency gate against a dead service (connection refused) and a stalled one;
#   - a scenario whose last stage is `users: 0` (a short copy of docs/examples/shop.yaml's
#     shape against tests/fixtures/nginx_scenario.conf, and a 3 s one): wall time of the
#     process and rows of history per second of the run, over interleaved runs;
#   - what the table, the TLS failures (openssl s_server with a self-signed certificate) and an
#     HTTP/2-only answer say, and how long the live line is on a 40-column terminal.
# Run as: flock /tmp/netres-bench.lock bench/load_report.sh [build-dir] [baseline-netres]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
netres=$build/src/cli/netres
baseline=${2:-}
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }

/usr/bin/python3 - "$here/.." "$netres" "$baseline" <<'PY'
import json, os, re, shutil, socket, statistics, subprocess, sys, tempfile
import threading, time

root, new, old = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.join(root, "tests", "fixtures"))
import nginx_load  # noqa: E402
from terminal import redraws, run_on_terminal  # noqa: E402

builds = [("this build", new)] + ([("baseline", old)] if old else [])
RUNS_TINY, RUNS_SHOP = 6, 3
TLS_PORT, H2_PORT = 18480, 18481  # the load verb's ports 18400-18499


def run(binary, *args, env=None, timeout=120):
    t0 = time.monotonic()
    r = subprocess.run([binary, "load", *args], capture_output=True, text=True, env=env,
                       timeout=timeout)
    return r, time.monotonic() - t0


def spread(xs):
    return "%.2f / %.2f / %.2f" % (min(xs), statistics.median(xs), max(xs))


def verdict_line(out):
    m = re.search(r"^  (ok    |FAILED)  p99>200ms.*$", out, re.M)
    return m.group(0).strip() if m else "?"


work = tempfile.mkdtemp(prefix="netres-bench-report-")
try:
    # 1. Latency gates against a dead and a stalled service.
    bad = subprocess.Popen([sys.executable, os.path.join(root, "tests", "fixtures",
                                                         "bad_http_server.py"), "--lifetime", "300"],
                           stdout=subprocess.PIPE, text=True)
    bad_port = int(bad.stdout.readline())
    refused = "http://127.0.0.1:%d/" % nginx_load.free_port()
    print("## --fail-if 'p99>200ms' against a service that never answers (-c 2 -d 2s)")
    for what, url, extra in (("connection refused", refused, []),
                             ("every response stalls (--timeout 300ms)",
                              "http://127.0.0.1:%d/stall" % bad_port, ["--timeout", "300ms"])):
        for name, binary in builds:
            r, _ = run(binary, url, "-c", "2", "-t", "1", "-d", "2s", "--fail-if", "p99>200ms",
                       *extra)
            agg = [x for x in r.stdout.splitlines() if "Aggregated" in x]
            print("%-42s %-11s exit %d  %s" % (what, name, r.returncode, verdict_line(r.stdout)))
            print("%-42s %-11s table: %s" % ("", "", agg[0].strip() if agg else "?"))
    # HTTP/2-only server and TLS with a self-signed certificate: the failure reason.
    h2 = socket.socket()
    h2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    h2.bind(("127.0.0.1", H2_PORT))
    h2.listen(16)
    h2.settimeout(0.2)
    stop = threading.Event()

    def serve():
        frames = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]) + bytes([0, 0, 8, 7, 0, 0, 0, 0, 0]) + \
            bytes(4) + (1).to_bytes(4, "big")
        while not stop.is_set():
            try:
                c, _ = h2.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(1)
                try:
                    c.recv(4096)
                    c.sendall(frames)
                except OSError:
                    pass
    threading.Thread(target=serve, daemon=True).start()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "k.pem", "-out", "c.pem",
                    "-days", "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost"], cwd=work, check=True, capture_output=True)
    tls = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % TLS_PORT, "-cert",
                            os.path.join(work, "c.pem"), "-key", os.path.join(work, "k.pem"),
                            "-www", "-quiet"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    print("\n## Failure reasons")
    for what, url in (("HTTP/2-only server", "http://127.0.0.1:%d/" % H2_PORT),
                      ("self-signed certificate", "https://localhost:%d/" % TLS_PORT)):
        for name, binary in builds:
            r, _ = run(binary, url, "-c", "1", "-t", "1", "-d", "1s", "--json")
            j = json.loads(r.stdout)
            print("%-24s %-11s %s" % (what, name, "; ".join(f["reason"] for f in j["failures"])))
    tls.terminate()
    stop.set()
    print("\n## Status codes in the table (GET /missing on nginx, -d 1s)")

    # 2. Scenarios whose last stage is `users: 0`.
    with open(os.path.join(root, "docs", "examples", "shop.yaml")) as f:
        shop = f.read()
    shop = shop[:shop.index("\nstages:")] + """
stages:
  - {duration: 4s, users: 20, spawn_rate: 5}
  - {duration: 3s, users: 60}
  - {duration: 2s, users: 0}
"""
    with open(os.path.join(work, "shop9s.yaml"), "w") as f:
        f.write(shop)
    with open(os.path.join(work, "tiny.yaml"), "w") as f:
        f.write("wait_time: {constant: 0.2}\ntasks: [GET /health]\nstages:\n"
                "  - {duration: 2s, users: 3}\n  - {duration: 1s, users: 0}\n")
    with nginx_load.NginxLoad(conf="nginx_scenario.conf") as n:
        host = "http://127.0.0.1:%d" % n.port
        for name, binary in builds:
            r, _ = run(binary, n.url("/missing"), "-c", "1", "-t", "1", "-d", "1s")
            lines = r.stdout.splitlines()
            print("%-11s %s\n%-11s %s" % (name, lines[0], "", lines[1]))
        print("\n## Last stage `users: 0`: wall seconds of the process (min / median / max) and "
              "history rows per second of the run")
        for label, path, runs, seconds in (("3 s (3 users 2 s, then 0 for 1 s)", "tiny.yaml",
                                            RUNS_TINY, 3),
                                           ("shop.yaml's shape in 9 s (20@5/s 4 s, 60 3 s, 0 2 s)",
                                            "shop9s.yaml", RUNS_SHOP, 9)):
            walls = {b[0]: [] for b in builds}
            rows = {b[0]: [] for b in builds}
            for _ in range(runs):  # interleaved
                for name, binary in builds:
                    r, wall = run(binary, os.path.join(work, path), "--host", host, "--json")
                    j = json.loads(r.stdout)
                    walls[name].append(wall)
                    rows[name].append(len(j["history"]))
            for name, _ in builds:
                print("%-52s %-11s wall %s s  rows %s (of %d)  runs over %.1f s: %d of %d" % (
                    label, name, spread(walls[name]), sorted(set(rows[name])), seconds,
                    seconds + 1.0, sum(w > seconds + 1.0 for w in walls[name]), runs))

        # 3. The live line on a 40-column terminal.
        print("\n## Live line on a 40-column terminal (scenario, 3 s): longest redraw")
        for name, binary in builds:
            _, _, seen = run_on_terminal([binary, "load", os.path.join(work, "tiny.yaml"),
                                          "--host", host, "--json"], columns=40, timeout=60)
            lines = redraws(seen)
            longest = max(lines, key=len) if lines else ""
            print("%-11s %2d columns: %r" % (name, len(longest), longest))
    bad.kill()
finally:
    shutil.rmtree(work, ignore_errors=True)
PY
