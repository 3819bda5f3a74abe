#!/usr/bin/env bash
# What HTTP/2 costs netres monitor's http check, and the same probes by blackbox_exporter: TARGETS
# https targets (one real nginx on loopback serving HTTP/2 and HTTP/1.1 over TLS with a test
# certificate, a static file), each probed every INTERVAL s, for SECONDS_PER_RUN s after a
# warm-up round, in three modes taken in turns ROUNDS times:
#   netres h2     netres monitor, ALPN offers h2 (the default): HTTP/2
#   netres h1     netres monitor, enable_http2: false: HTTP/1.1 over the same TLS
#   blackbox h2   blackbox_exporter 0.23 (HTTP/2 by default), scraped by Prometheus on /probe
# Prints CPU seconds per 1000 probes (utime + stime of the prober's process only) as median
# (min-max), probes done per run, and resident memory. Every probe is a new TCP + TLS connection.
# Run as: flock /tmp/netres-bench.lock bench/monitor_http2.sh [build-dir]
# Ports 18885-18888 on 127.0.0.1 (docs/development.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
netres=$build/src/cli/netres
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }
for tool in nginx openssl prometheus prometheus-blackbox-exporter; do
  command -v $tool >/dev/null || { echo "needs $tool (scripts/deps.sh)" >&2; exit 2; }
done

/usr/bin/python3 - "$here/../tests/fixtures" "$netres" <<'PY'
import json, os, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(sys.argv[1], "..", "..", "bench"))
from processes import stop_process
from monitor_lib import get, wait, cpu_seconds, rss_mib

NETRES = sys.argv[2]
TARGETS = int(os.environ.get("TARGETS", "200"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "30"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
INTERVAL = int(os.environ.get("INTERVAL", "5"))
NETRES_PORT, PROM_PORT, NGINX_PORT = 18885, 18886, 18887
BLACKBOX_PORT = 18888


def start_nginx(work):
    os.chmod(work, 0o755)
    os.makedirs(os.path.join(work, "www"))
    with open(os.path.join(work, "www", "index.html"), "w") as f:
        f.write("<html><body>netres monitor http2 bench</body></html>\n")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=bench",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                    os.path.join(work, "key.pem"), "-out", os.path.join(work, "cert.pem")],
                   check=True, capture_output=True)
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
master_process on;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{NGINX_PORT} ssl http2;
        ssl_certificate {work}/cert.pem;
        ssl_certificate_key {work}/key.pem;
        root {work}/www;
    }}
}}
""")
    p = subprocess.Popen(["nginx", "-p", work, "-c", conf, "-e", os.path.join(work, "error.log")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:  # listening: a TCP connect succeeds (TLS is the probers' business)
        try:
            socket.create_connection(("127.0.0.1", NGINX_PORT), timeout=0.5).close()
            return p
        except OSError:
            if time.monotonic() > deadline or p.poll() is not None:
                raise RuntimeError("nginx did not start")
            time.sleep(0.1)


def start_prometheus(work, scrape_configs):
    conf = os.path.join(work, "prometheus.yml")
    with open(conf, "w") as f:
        f.write(f"global: {{scrape_interval: {INTERVAL}s, scrape_timeout: {min(4, INTERVAL)}s}}\n"
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


def netres_versions():
    seen = set()
    for line in get(f"http://127.0.0.1:{NETRES_PORT}/metrics").splitlines():
        if line.startswith("probe_http_version{"):
            seen.add(float(line.rsplit(" ", 1)[1]))
    return seen


def run_netres(work, urls, cert, h2):
    conf = os.path.join(work, "monitor.yaml")
    with open(conf, "w") as f:
        f.write(f"defaults: {{interval: {INTERVAL}s, timeout: 4s, concurrency: 1000}}\n"
                f"checks:\n  web: {{kind: http, ca_file: {cert}, "
                f"enable_http2: {'true' if h2 else 'false'}}}\ntargets:\n")
        for i, u in enumerate(urls):
            f.write(f'  - {{name: "h{i}", address: "{u}", checks: [web]}}\n')
    mon = subprocess.Popen([NETRES, "monitor", "-c", conf, "--listen",
                            f"127.0.0.1:{NETRES_PORT}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(f"http://127.0.0.1:{NETRES_PORT}/-/healthy")
        time.sleep(INTERVAL + 1)  # the first round: every slot once
        cpu0, probes0 = cpu_seconds(mon.pid), netres_probes()
        time.sleep(SECONDS)
        cpu1, probes1 = cpu_seconds(mon.pid), netres_probes()
        versions = netres_versions()
        want = {2.0} if h2 else {1.1}
        if versions != want:
            raise RuntimeError(f"netres probed HTTP versions {versions}, expected {want}")
        return cpu1 - cpu0, probes1 - probes0, rss_mib(mon.pid)
    finally:
        stop_process(mon)


def prom_query(q):
    data = json.loads(get(f"http://127.0.0.1:{PROM_PORT}/api/v1/query?" +
                          urllib.parse.urlencode({"query": q})))
    result = data["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def run_blackbox(work, urls, cert, _h2):
    conf = os.path.join(work, "blackbox.yml")
    with open(conf, "w") as f:
        f.write(f"modules:\n  web: {{prober: http, timeout: 4s, http: "
                f"{{tls_config: {{ca_file: {cert}}}, preferred_ip_protocol: ip4}}}}\n")
    bb = subprocess.Popen(["prometheus-blackbox-exporter", f"--config.file={conf}",
                           f"--web.listen-address=127.0.0.1:{BLACKBOX_PORT}",
                           "--log.level=error"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prom = None
    try:
        wait(f"http://127.0.0.1:{BLACKBOX_PORT}/-/healthy")
        scrape = (f"  - job_name: bb\n    metrics_path: /probe\n    params: {{module: [web]}}\n"
                  f"    static_configs: [{{targets: {json.dumps(urls)}}}]\n"
                  "    relabel_configs:\n"
                  "      - {source_labels: [__address__], target_label: __param_target}\n"
                  "      - {source_labels: [__param_target], target_label: instance}\n"
                  f"      - {{target_label: __address__, replacement: '127.0.0.1:{BLACKBOX_PORT}'}}\n")
        prom = start_prometheus(work, scrape)
        time.sleep(INTERVAL + 2)
        cpu0 = cpu_seconds(bb.pid)
        t0 = time.time()
        time.sleep(SECONDS)
        cpu1 = cpu_seconds(bb.pid)
        window = int(time.time() - t0)
        probes = prom_query(f'sum(count_over_time(up{{job="bb"}}[{window}s]))')
        if prom_query('min(probe_http_version{job="bb"})') != 2:
            raise RuntimeError("blackbox_exporter did not probe over HTTP/2")
        return cpu1 - cpu0, probes, rss_mib(bb.pid)
    finally:
        stop_process(prom)
        stop_process(bb)


modes = (("netres h2", run_netres, True), ("netres h1", run_netres, False),
         ("blackbox h2", run_blackbox, True))
results = {name: [] for name, _, _ in modes}
site = tempfile.mkdtemp(prefix="netres-bench-monitor-http2-")
nginx = start_nginx(site)
try:
    urls = [f"https://127.0.0.1:{NGINX_PORT}/index.html?t={i}" for i in range(TARGETS)]
    cert = os.path.join(site, "cert.pem")
    for r in range(ROUNDS):
        for name, fn, h2 in modes:
            work = tempfile.mkdtemp(prefix="run-", dir=site)
            cpu, probes, rss = fn(work, urls, cert, h2)
            results[name].append((cpu, probes, rss))
            print(f"round {r + 1}: {name}: {cpu:.2f} s CPU, {probes:.0f} probes, "
                  f"{rss:.0f} MiB RSS", flush=True)
finally:
    stop_process(nginx)
    shutil.rmtree(site, ignore_errors=True)

expected = TARGETS * SECONDS / INTERVAL
print(f"\n{TARGETS} https targets on one nginx, every {INTERVAL} s, {SECONDS} s measured per "
      f"run, {ROUNDS} runs of each mode in turns; {expected:.0f} probes expected per run")
print(f"{'mode':<14} {'CPU s / 1000 probes (min-max)':>32} {'probes/run':>12} {'RSS MiB':>8}")
for name, rows in results.items():
    per = [1000 * cpu / probes for cpu, probes, _ in rows if probes]
    print(f"{name:<14} {statistics.median(per):>17.3f} ({min(per):.3f}-{max(per):.3f}) "
          f"{statistics.median([p for _, p, _ in rows]):>12.0f} "
          f"{statistics.median([m for _, _, m in rows]):>8.0f}")
PY
