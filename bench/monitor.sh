#!/usr/bin/env bash
# netres monitor against prometheus-blackbox-exporter on the same work: TARGETS targets, half HTTP
# GETs of a real nginx's static file and half TCP connects to it, each half split between an
# nginx on loopback and one in a network namespace behind a veth (198.18.55.2), each probed every
# 10 s, for SECONDS_PER_RUN seconds (120) after a warm-up round. netres schedules its own probes
# and one Prometheus scrapes its /metrics every 10 s; blackbox_exporter is driven by a Prometheus
# scraping /probe for every target every 10 s (the way it is deployed). Per tool it prints:
#   - CPU seconds per 1000 probes (utime + stime of its process only, not Prometheus's or nginx's)
#   - probes done against the rounds expected, failed probes, and late or missed rounds: netres's
#     own netres_monitor_probe_start_delay_seconds and _skipped_rounds_total; for
#     blackbox_exporter, Prometheus's scrapes counted and its prometheus_target_interval_length
#   - resident memory at the end (anonymous + file-backed) and its peak
#   - the probes' own latency (median of every probe_duration_seconds and connect phase
#     Prometheus stored) beside a reference measured at the same time over the same path: curl's
#     time_connect and time_total for a new connection and GET of the same URLs, every second.
# ROUNDS=N (default 3) runs the tools N times in turns and gives median (min-max).
# Run as root (the namespace): flock /tmp/netres-bench.lock bench/monitor.sh [--quick] [build-dir]
# --quick: 100 targets, 20 s, one round, to check the script itself (figures mean nothing).
# Ports 18750-18752 and 18760 on 127.0.0.1, 18760 on 198.18.55.2 in namespace
# netres-monbench-t (veth nrmonbench0), docs/development.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=0
if [[ ${1:-} == --quick ]]; then quick=1; shift; fi
build=${1:-$here/../build}
netres=$build/src/cli/netres
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }
for tool in prometheus prometheus-blackbox-exporter nginx curl ip; do
  command -v $tool >/dev/null || { echo "needs $tool (scripts/deps.sh)" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "needs root (a network namespace)" >&2; exit 2; }
if ((quick)); then
  export TARGETS=${TARGETS:-100} SECONDS_PER_RUN=${SECONDS_PER_RUN:-20} ROUNDS=${ROUNDS:-1}
fi

exec /usr/bin/python3 - "$here/../tests/fixtures" "$netres" <<'PY'
import ctypes, json, os, shutil, signal, statistics, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(sys.argv[1], "..", "..", "bench"))
from netns import NamespaceHost
from processes import stop_process
from monitor_lib import get, wait

NETRES = sys.argv[2]
TARGETS = int(os.environ.get("TARGETS", "1000"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "120"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
INTERVAL = 10
NETRES_PORT, BLACKBOX_PORT, PROM_PORT, NGINX_PORT = 18750, 18751, 18752, 18760
NS, HOST_IF, NS_IF, HOST_V4, NS_V4 = ("netres-monbench-t", "nrmonbench0", "nrmonbench1",
                                      "198.18.55.1", "198.18.55.2")
TICK = os.sysconf("SC_CLK_TCK")
LATE = 0.1  # a probe that starts this long after its slot is a late round (1% of the interval)


def die_with_parent():
    # Our servers stop with this script, even when it is killed: no leftovers on our ports.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start(args, **kw):
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=die_with_parent, **kw)


class Cpu:
    """A process's user and system CPU seconds; differences give both."""
    def __init__(self, pid):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        self.user, self.sys = int(fields[11]) / TICK, int(fields[12]) / TICK  # utime, stime

    def __sub__(self, other):
        return (self.user - other.user, self.sys - other.sys)


def proc_stat(pid):
    return Cpu(pid)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def memory_mib(pid):
    m = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                m[key] = int(rest.split()[0]) / 1024
    return m


def prom_query(q):
    data = json.loads(get(f"http://127.0.0.1:{PROM_PORT}/api/v1/query?" +
                          urllib.parse.urlencode({"query": q}), timeout=60))
    return data["data"]["result"]


def prom_scalar(q):
    r = prom_query(q)
    return float(r[0]["value"][1]) if r else 0.0


def prom_samples(q, where):
    """Every stored sample of range query `q`, split by `where(labels)` -> key."""
    out = {}
    for series in prom_query(q):
        key = where(series["metric"])
        out.setdefault(key, []).extend(float(v) for _, v in series["values"])
    return out


def median_ms(values):
    return statistics.median(values) * 1000 if values else float("nan")


# --- servers -----------------------------------------------------------------------------------
def nginx(work, name, address, host=None):
    prefix = os.path.join(work, name)
    os.makedirs(os.path.join(prefix, "www"))
    os.chmod(work, 0o755)
    os.chmod(prefix, 0o755)
    with open(os.path.join(prefix, "www", "index.html"), "w") as f:
        f.write("<html><body>netres monitor bench</body></html>\n")
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; master_process on; worker_processes 1;
pid {prefix}/nginx.pid; error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
  server {{ listen {address}:{NGINX_PORT} backlog=4096; root {prefix}/www; }}
}}
""")
    args = ["nginx", "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "error.log")]
    p = host.popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   preexec_fn=die_with_parent) if host else start(args)
    wait(f"http://{address}:{NGINX_PORT}/index.html")
    return p


def kill_namespace_leftovers():
    # Processes an interrupted run left in the namespace keep running when it is deleted.
    r = subprocess.run(["ip", "netns", "pids", NS], capture_output=True, text=True)
    for pid in r.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass


def start_prometheus(work, scrape_configs):
    conf = os.path.join(work, "prometheus.yml")
    with open(conf, "w") as f:
        f.write(f"global: {{scrape_interval: {INTERVAL}s, scrape_timeout: 5s}}\n"
                f"scrape_configs:\n  - job_name: prometheus\n    static_configs: "
                f"[{{targets: ['127.0.0.1:{PROM_PORT}']}}]\n{scrape_configs}")
    tsdb = tempfile.mkdtemp(prefix="tsdb-", dir=work)
    p = start(["prometheus", f"--config.file={conf}", f"--storage.tsdb.path={tsdb}",
               f"--web.listen-address=127.0.0.1:{PROM_PORT}"])
    wait(f"http://127.0.0.1:{PROM_PORT}/-/ready")
    return p


# --- the reference: curl, a new connection and a GET per URL, during the measured window -----
class Reference(threading.Thread):
    def __init__(self, urls):
        super().__init__(daemon=True)
        self.urls, self.stop = urls, threading.Event()
        self.connect = {"lo": [], "ns": []}
        self.total = {"lo": [], "ns": []}

    def run(self):
        i = 0
        while not self.stop.wait(1.0):
            # A first transfer of the batch, not counted: a new curl process's first one pays
            # for its start-up (the loopback and namespace URLs then alternate fairly).
            batch = [self.urls[(i + k) % len(self.urls)] for k in range(5)]
            i += 4
            args = ["curl", "-s", "--max-time", "5", "-H", "Connection: close",
                    "-w", "%{url_effective} %{http_code} %{time_connect} %{time_total}\\n"]
            for u in batch:
                args += ["-o", "/dev/null", u]
            out = subprocess.run(args, capture_output=True, text=True, timeout=30).stdout
            for line in out.splitlines()[1:]:
                url, code, connect, total = line.split()
                if code == "200":
                    where = "ns" if NS_V4 in url else "lo"
                    self.connect[where].append(float(connect))
                    self.total[where].append(float(total))


def where_of(address):
    return "ns" if NS_V4 in address else "lo"


# --- the two tools -----------------------------------------------------------------------------
def netres_metrics():
    """probes, failures, start-delay buckets {le: cumulative}, skipped rounds."""
    probes = failures = skipped = 0.0
    delay = {}
    for line in get(f"http://127.0.0.1:{NETRES_PORT}/metrics").splitlines():
        if line.startswith("netres_probes_total{"):
            probes += float(line.rsplit(" ", 1)[1])
        elif line.startswith("netres_probe_failures_total{"):
            failures += float(line.rsplit(" ", 1)[1])
        elif line.startswith("netres_monitor_skipped_rounds_total"):
            skipped = float(line.rsplit(" ", 1)[1])
        elif line.startswith("netres_monitor_probe_start_delay_seconds_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            delay[float(le)] = float(line.rsplit(" ", 1)[1])
    return probes, failures, delay, skipped


def bucket_quantile(delta, q):
    """The upper bound of the bucket holding quantile q of a cumulative histogram's delta."""
    total = delta[float("inf")]
    for le in sorted(delta):
        if delta[le] >= q * total:
            return le
    return float("inf")


def run_netres(work, http_urls, tcp_addrs, ref):
    conf = os.path.join(work, "monitor.yaml")
    with open(conf, "w") as f:
        f.write(f"defaults: {{interval: {INTERVAL}s, timeout: 5s, concurrency: 1000}}\n"
                "checks:\n  http_2xx: {kind: http}\n  tcp_connect: {kind: tcp}\ntargets:\n")
        for i, u in enumerate(http_urls):
            f.write(f'  - {{name: "h{where_of(u)}{i}", address: "{u}", checks: [http_2xx]}}\n')
        for i, a in enumerate(tcp_addrs):
            f.write(f'  - {{name: "t{where_of(a)}{i}", address: "{a}", checks: [tcp_connect]}}\n')
    mon = start([NETRES, "monitor", "-c", conf, "--listen", f"127.0.0.1:{NETRES_PORT}"])
    prom = None
    try:
        wait(f"http://127.0.0.1:{NETRES_PORT}/-/healthy")
        prom = start_prometheus(work, f"  - job_name: netres\n    static_configs: "
                                      f"[{{targets: ['127.0.0.1:{NETRES_PORT}']}}]\n")
        time.sleep(INTERVAL + 2)  # the first round: every slot once
        cpu0, (p0, f0, d0, s0), load0 = proc_stat(mon.pid), netres_metrics(), loadavg()
        ref.start()
        time.sleep(SECONDS)
        cpu1, (p1, f1, d1, s1), load1 = proc_stat(mon.pid), netres_metrics(), loadavg()
        ref.stop.set()
        mem = memory_mib(mon.pid)
        delta = {le: d1[le] - d0.get(le, 0) for le in d1}
        late = delta[float("inf")] - max((v for le, v in delta.items() if le <= LATE), default=0)
        w = f"{SECONDS}s"
        kind = lambda m: ("http" if m["target"].startswith("h") else "tcp") + " " + \
            m["target"][1:3]
        lat = prom_samples(f'probe_duration_seconds{{job="netres"}}[{w}]', kind)
        conn = prom_samples(f'probe_http_duration_seconds{{job="netres",phase="connect"}}[{w}]',
                            lambda m: "http " + m["target"][1:3])
        conn.update(prom_samples(f'netres_probe_tcp_connect_seconds{{job="netres"}}[{w}]',
                                 lambda m: "tcp " + m["target"][1:3]))
        return dict(cpu=cpu1 - cpu0, load=(load0, load1), probes=p1 - p0, failed=f1 - f0,
                    mem=mem, late=late,
                    missed=s1 - s0, p50=bucket_quantile(delta, 0.5),
                    p99=bucket_quantile(delta, 0.99), lat=lat, conn=conn)
    finally:
        ref.stop.set()
        stop_process(prom)
        stop_process(mon)


def run_blackbox(work, http_urls, tcp_addrs, ref):
    conf = os.path.join(work, "blackbox.yml")
    with open(conf, "w") as f:
        f.write("modules:\n  http_2xx: {prober: http, timeout: 5s}\n"
                "  tcp_connect: {prober: tcp, timeout: 5s}\n")
    bb = start(["prometheus-blackbox-exporter", f"--config.file={conf}",
                f"--web.listen-address=127.0.0.1:{BLACKBOX_PORT}", "--log.level=error"])
    prom = None
    try:
        wait(f"http://127.0.0.1:{BLACKBOX_PORT}/-/healthy")
        relabel = ("    relabel_configs:\n"
                   "      - {source_labels: [__address__], target_label: __param_target}\n"
                   "      - {source_labels: [__param_target], target_label: instance}\n"
                   f"      - {{target_label: __address__, replacement: '127.0.0.1:{BLACKBOX_PORT}'}}\n")
        # The TCP half probes two addresses: a distinct label per entry keeps Prometheus from
        # merging them into two targets.
        tcp_static = ", ".join(f"{{targets: ['{a}'], labels: {{n: '{i}'}}}}"
                               for i, a in enumerate(tcp_addrs))
        scrape = (f"  - job_name: bb_http\n    metrics_path: /probe\n"
                  f"    params: {{module: [http_2xx]}}\n"
                  f"    static_configs: [{{targets: {json.dumps(http_urls)}}}]\n{relabel}"
                  f"  - job_name: bb_tcp\n    metrics_path: /probe\n"
                  f"    params: {{module: [tcp_connect]}}\n"
                  f"    static_configs: [{tcp_static}]\n{relabel}")
        prom = start_prometheus(work, scrape)
        time.sleep(INTERVAL + 2)
        cpu0, load0 = proc_stat(bb.pid), loadavg()
        ref.start()
        t0 = time.time()
        time.sleep(SECONDS)
        cpu1, load1 = proc_stat(bb.pid), loadavg()
        ref.stop.set()
        mem = memory_mib(bb.pid)
        window = f"{int(time.time() - t0)}s"
        probes = prom_scalar(f'sum(count_over_time(up{{job=~"bb_.*"}}[{window}]))')
        failed = probes - prom_scalar(
            f'sum(sum_over_time(probe_success{{job=~"bb_.*"}}[{window}]))')
        # Prometheus's own view of its scrape schedule: the intervals between a target's scrapes
        # (a summary over its last 10 minutes).
        q = lambda x: prom_scalar(f'max(prometheus_target_interval_length_seconds'
                                  f'{{interval="{INTERVAL}s",quantile="{x}"}})')
        kind = lambda m: ("http" if m["job"] == "bb_http" else "tcp") + " " + \
            where_of(m["instance"])
        lat = prom_samples(f'probe_duration_seconds{{job=~"bb_.*"}}[{window}]', kind)
        conn = prom_samples(f'probe_http_duration_seconds{{job="bb_http",phase="connect"}}'
                            f'[{window}]', kind)
        return dict(cpu=cpu1 - cpu0, load=(load0, load1), probes=probes, failed=failed, mem=mem,
                    p50=q("0.5") - INTERVAL, p99=q("0.99") - INTERVAL, lat=lat, conn=conn)
    finally:
        ref.stop.set()
        stop_process(prom)
        stop_process(bb)


# --- main --------------------------------------------------------------------------------------
results = {"netres monitor": [], "blackbox_exporter": []}
reference = {"connect": {"lo": [], "ns": []}, "total": {"lo": [], "ns": []}}
kill_namespace_leftovers()
host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_V4, NS_V4, 30)
work = tempfile.mkdtemp(prefix="netres-bench-monitor-")
servers = []
try:
    host.setup()
    host.assert_routed_via_veth(NS_V4)  # never probe anything but loopback and our namespace
    servers.append(nginx(work, "nginx-lo", "127.0.0.1"))
    servers.append(nginx(work, "nginx-ns", NS_V4, host))
    addrs = [f"127.0.0.1:{NGINX_PORT}", f"{NS_V4}:{NGINX_PORT}"]
    n_http = TARGETS // 2
    http_urls = [f"http://{addrs[i % 2]}/index.html?t={i}" for i in range(n_http)]
    tcp_addrs = [addrs[i % 2] for i in range(TARGETS - n_http)]
    for r in range(ROUNDS):
        run_dir = tempfile.mkdtemp(prefix=f"round{r}-", dir=work)
        for name, fn in (("netres monitor", run_netres), ("blackbox_exporter", run_blackbox)):
            ref = Reference(http_urls)
            res = fn(run_dir, http_urls, tcp_addrs, ref)
            for k in ("connect", "total"):
                for w in ("lo", "ns"):
                    reference[k][w] += getattr(ref, k)[w]
            results[name].append(res)
            m = res["mem"]
            print(f"round {r + 1}: {name}: {sum(res['cpu']):.2f} s CPU ({res['cpu'][0]:.2f} user"
                  f" + {res['cpu'][1]:.2f} sys), load average {res['load'][0]:.1f}-"
                  f"{res['load'][1]:.1f}, {res['probes']:.0f} probes "
                  f"({res['failed']:.0f} failed), RSS {m['VmRSS']:.1f} MiB (anon "
                  f"{m['RssAnon']:.1f} + file {m['RssFile']:.1f}, peak {m['VmHWM']:.1f})",
                  flush=True)
finally:
    for p in servers:
        stop_process(p)
    host.teardown()
    shutil.rmtree(work, ignore_errors=True)


def mmm(values, fmt="{:.3f}"):
    values = [v for v in values if v == v]
    if not values:
        return "-"
    return (fmt.format(statistics.median(values)) + " (" + fmt.format(min(values)) + "-" +
            fmt.format(max(values)) + ")")


expected = TARGETS * SECONDS / INTERVAL
print(f"\n{TARGETS} targets ({TARGETS // 2} HTTP, {TARGETS - TARGETS // 2} TCP; half on loopback, "
      f"half in namespace {NS} at {NS_V4}), every {INTERVAL} s, {SECONDS} s measured per run, "
      f"{ROUNDS} runs in turns; {expected:.0f} probes expected per run. Median (min-max) of the runs.")
medians = {}
for name, rows in results.items():
    per = [1000 * sum(r["cpu"]) / r["probes"] for r in rows if r["probes"]]
    medians[name] = statistics.median(per)
    print(f"\n{name}")
    print(f"  CPU s / 1000 probes   {mmm(per)}: user "
          f"{mmm([1000 * r['cpu'][0] / r['probes'] for r in rows if r['probes']])} + sys "
          f"{mmm([1000 * r['cpu'][1] / r['probes'] for r in rows if r['probes']])}")
    print(f"  load average          {mmm([x for r in rows for x in r['load']], '{:.1f}')}")
    print(f"  probes / run          {mmm([r['probes'] for r in rows], '{:.0f}')}, failed "
          f"{mmm([r['failed'] for r in rows], '{:.0f}')}")
    if name == "netres monitor":
        print(f"  start after slot      p50 <= {mmm([r['p50'] * 1000 for r in rows], '{:g}')} ms,"
              f" p99 <= {mmm([r['p99'] * 1000 for r in rows], '{:g}')} ms (bucket bounds); "
              f"late (> {LATE * 1000:.0f} ms) {mmm([r['late'] for r in rows], '{:.0f}')}, "
              f"skipped rounds {mmm([r['missed'] for r in rows], '{:.0f}')}")
    else:
        print(f"  Prometheus's scrape interval minus {INTERVAL} s: p50 "
              f"{mmm([r['p50'] * 1000 for r in rows], '{:.2f}')} ms, p99 "
              f"{mmm([r['p99'] * 1000 for r in rows], '{:.2f}')} ms")
    for key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
        print(f"  {key:<21} {mmm([r['mem'][key] for r in rows], '{:.1f}')} MiB")
    for kind in ("http lo", "http ns", "tcp lo", "tcp ns"):
        d = [median_ms(r["lat"].get(kind, [])) for r in rows]
        c = [median_ms(r["conn"].get(kind, [])) for r in rows]
        print(f"  {kind:<8} probe_duration {mmm(d)} ms, connect {mmm(c)} ms")
print("\nreference, curl (new connection + GET, the same URLs, during every run): median over "
      "all samples")
for w in ("lo", "ns"):
    print(f"  {w}: connect {median_ms(reference['connect'][w]):.3f} ms, GET total "
          f"{median_ms(reference['total'][w]):.3f} ms ({len(reference['total'][w])} samples)")
print(f"\nnetres / blackbox_exporter CPU per probe: "
      f"{medians['netres monitor'] / medians['blackbox_exporter']:.2f}x")
PY
