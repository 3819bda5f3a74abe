#!/usr/bin/env bash
# netres monitor against prometheus-blackbox-exporter on the same work: TARGETS targets (half
# HTTP GETs of a real nginx's static file, half TCP connects to it, all on loopback), each probed
# every 10 s, for SECONDS seconds after a warm-up round. netres schedules its own probes and one
# Prometheus scrapes its /metrics every 10 s; blackbox_exporter is driven by a Prometheus scraping
# /probe for every target every 10 s (the way it is deployed). Prints each tool's CPU seconds per
# 1000 probes (utime + stime of its process only, not Prometheus's or nginx's), probes done
# against the rounds expected, and resident memory at the end. ROUNDS=N (default 3) runs the
# tools N times in turns and gives min / median / max.
# Run as: flock /tmp/netres-bench.lock bench/monitor.sh [build-dir]
# Ports 18750-18752 on 127.0.0.1 (docs/development.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
netres=$build/src/cli/netres
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }
for tool in prometheus prometheus-blackbox-exporter; do
  command -v $tool >/dev/null || { echo "needs $tool (scripts/deps.sh)" >&2; exit 2; }
done

/usr/bin/python3 - "$here/../tests/fixtures" "$netres" <<'PY'
import json, os, shutil, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request
sys.path.insert(0, sys.argv[1])
import nginx_load
from processes import stop_process

NETRES = sys.argv[2]
TARGETS = int(os.environ.get("TARGETS", "1000"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "60"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
INTERVAL = 10
NETRES_PORT, BLACKBOX_PORT, PROM_PORT = 18750, 18751, 18752
TICK = os.sysconf("SC_CLK_TCK")


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            get(url, 2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("no answer from " + url)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def prom_query(q):
    data = json.loads(get(f"http://127.0.0.1:{PROM_PORT}/api/v1/query?" +
                          urllib.parse.urlencode({"query": q})))
    result = data["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def start_prometheus(work, scrape_configs):
    conf = os.path.join(work, "prometheus.yml")
    with open(conf, "w") as f:
        f.write(f"global: {{scrape_interval: {INTERVAL}s, scrape_timeout: 5s}}\n"
                f"scrape_configs:\n{scrape_configs}")
    tsdb = tempfile.mkdtemp(prefix="tsdb-", dir=work)
    p = subprocess.Popen(["prometheus", f"--config.file={conf}", f"--storage.tsdb.path={tsdb}",
                          f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(f"http://127.0.0.1:{PROM_PORT}/-/ready")
    return p


def netres_probes():
    total = 0.0
    for line in get(f"http://127.0.0.1:{NETRES_PORT}/metrics").splitlines():
        if line.startswith("netres_probes_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def run_netres(work, http_urls, tcp_addr):
    conf = os.path.join(work, "monitor.yaml")
    with open(conf, "w") as f:
        f.write(f"defaults: {{interval: {INTERVAL}s, timeout: 5s, concurrency: 1000}}\n"
                "checks:\n  http_2xx: {kind: http}\n  tcp_connect: {kind: tcp}\ntargets:\n")
        for i, u in enumerate(http_urls):
            f.write(f'  - {{name: "h{i}", address: "{u}", checks: [http_2xx]}}\n')
        for i in range(TARGETS - len(http_urls)):
            f.write(f'  - {{name: "t{i}", address: "{tcp_addr}", checks: [tcp_connect]}}\n')
    mon = subprocess.Popen([NETRES, "monitor", "-c", conf, "--listen",
                            f"127.0.0.1:{NETRES_PORT}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prom = None
    try:
        wait(f"http://127.0.0.1:{NETRES_PORT}/-/healthy")
        prom = start_prometheus(work, f"  - job_name: netres\n    static_configs: "
                                      f"[{{targets: ['127.0.0.1:{NETRES_PORT}']}}]\n")
        time.sleep(INTERVAL + 2)  # the first round: every slot once
        cpu0, probes0 = cpu_seconds(mon.pid), netres_probes()
        time.sleep(SECONDS)
        cpu1, probes1 = cpu_seconds(mon.pid), netres_probes()
        return cpu1 - cpu0, probes1 - probes0, rss_mib(mon.pid)
    finally:
        stop_process(prom)
        stop_process(mon)


def run_blackbox(work, http_urls, tcp_addr):
    conf = os.path.join(work, "blackbox.yml")
    with open(conf, "w") as f:
        f.write("modules:\n  http_2xx: {prober: http, timeout: 5s}\n"
                "  tcp_connect: {prober: tcp, timeout: 5s}\n")
    bb = subprocess.Popen(["prometheus-blackbox-exporter", f"--config.file={conf}",
                           f"--web.listen-address=127.0.0.1:{BLACKBOX_PORT}",
                           "--log.level=error"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prom = None
    try:
        wait(f"http://127.0.0.1:{BLACKBOX_PORT}/-/healthy")
        relabel = ("    relabel_configs:\n"
                   "      - {source_labels: [__address__], target_label: __param_target}\n"
                   "      - {source_labels: [__param_target], target_label: instance}\n"
                   f"      - {{target_label: __address__, replacement: '127.0.0.1:{BLACKBOX_PORT}'}}\n")
        # The TCP half probes one address: a distinct label per entry keeps Prometheus from
        # merging them into one target.
        tcp_static = ", ".join(f"{{targets: ['{tcp_addr}'], labels: {{n: '{i}'}}}}"
                               for i in range(TARGETS - len(http_urls)))
        scrape = (f"  - job_name: bb_http\n    metrics_path: /probe\n"
                  f"    params: {{module: [http_2xx]}}\n"
                  f"    static_configs: [{{targets: {json.dumps(http_urls)}}}]\n{relabel}"
                  f"  - job_name: bb_tcp\n    metrics_path: /probe\n"
                  f"    params: {{module: [tcp_connect]}}\n"
                  f"    static_configs: [{tcp_static}]\n{relabel}")
        prom = start_prometheus(work, scrape)
        time.sleep(INTERVAL + 2)
        cpu0 = cpu_seconds(bb.pid)
        t0 = time.time()
        time.sleep(SECONDS)
        cpu1 = cpu_seconds(bb.pid)
        window = int(time.time() - t0)
        probes = prom_query(f'sum(count_over_time(up{{job=~"bb_.*"}}[{window}s]))')
        return cpu1 - cpu0, probes, rss_mib(bb.pid)
    finally:
        stop_process(prom)
        stop_process(bb)


results = {"netres monitor": [], "blackbox_exporter": []}
with nginx_load.NginxLoad(workers=1) as n:
    http_urls = [n.url(f"/index.html?t={i}") for i in range(TARGETS // 2)]
    tcp_addr = f"127.0.0.1:{n.port}"
    for r in range(ROUNDS):
        work = tempfile.mkdtemp(prefix="netres-bench-monitor-")
        try:
            for name, fn in (("netres monitor", run_netres), ("blackbox_exporter", run_blackbox)):
                cpu, probes, rss = fn(work, http_urls, tcp_addr)
                results[name].append((cpu, probes, rss))
                print(f"round {r + 1}: {name}: {cpu:.2f} s CPU, {probes:.0f} probes, "
                      f"{rss:.0f} MiB RSS", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)

expected = TARGETS * SECONDS / INTERVAL
print(f"\n{TARGETS} targets ({TARGETS // 2} HTTP, {TARGETS - TARGETS // 2} TCP), every "
      f"{INTERVAL} s, {SECONDS} s measured per run, {ROUNDS} runs in turns; "
      f"{expected:.0f} probes expected per run")
print(f"{'tool':<20} {'CPU s / 1000 probes (min-max)':>32} {'probes/run':>12} {'RSS MiB':>8}")
medians = {}
for name, rows in results.items():
    per = [1000 * cpu / probes for cpu, probes, _ in rows if probes]
    med = statistics.median(per)
    medians[name] = med
    print(f"{name:<20} {med:>17.3f} ({min(per):.3f}-{max(per):.3f}) "
          f"{statistics.median([p for _, p, _ in rows]):>12.0f} "
          f"{statistics.median([m for _, _, m in rows]):>8.0f}")
print(f"netres / blackbox_exporter CPU per probe: "
      f"{medians['netres monitor'] / medians['blackbox_exporter']:.2f}x")
PY
