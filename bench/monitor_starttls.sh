#!/usr/bin/env bash
# What a STARTTLS probe costs netres monitor, and the same probe by blackbox_exporter: one real
# exim on loopback offering STARTTLS with a test certificate, probed PROBES times in a row through
# each prober's /probe endpoint (a new TCP connection, the SMTP dialogue and a TLS handshake each
# time), in three modes taken in turns ROUNDS times:
#   netres starttls   netres monitor, `starttls: smtp` (greeting, EHLO, STARTTLS, handshake)
#   netres steps      netres monitor, blackbox_exporter's style of steps with {starttls: true}
#   blackbox          blackbox_exporter 0.23, tcp prober, query_response with starttls: true
# Prints CPU seconds per 1000 probes (utime + stime of the prober's process only, /proc) as
# median (min-max) and the wall time per probe, and checks every probe succeeded.
# Run as: flock /tmp/netres-bench.lock bench/monitor_starttls.sh [build-dir]
# Ports 18874-18876 on 127.0.0.1 (docs/development.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
netres=$build/src/cli/netres
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }
for tool in exim4 openssl prometheus-blackbox-exporter; do
  command -v $tool >/dev/null || { echo "needs $tool (scripts/deps.sh)" >&2; exit 2; }
done

/usr/bin/python3 - "$here/../tests/fixtures" "$netres" <<'PY'
import os, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(sys.argv[1], "..", "..", "bench"))
from processes import stop_process
from monitor_lib import get, wait, cpu_seconds

NETRES = sys.argv[2]
PROBES = int(os.environ.get("PROBES", "300"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
EXIM_PORT, NETRES_PORT, BLACKBOX_PORT = 18874, 18875, 18876
TARGET = f"127.0.0.1:{EXIM_PORT}"


def start_exim(work):
    os.chmod(work, 0o755)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=bench",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                    os.path.join(work, "key.pem"), "-out", os.path.join(work, "cert.pem")],
                   check=True, capture_output=True)
    os.chmod(os.path.join(work, "key.pem"), 0o644)  # exim reads it as Debian-exim
    spool = os.path.join(work, "spool")
    os.makedirs(os.path.join(spool, "log"))
    for d in (spool, os.path.join(spool, "log")):
        shutil.chown(d, "Debian-exim", "Debian-exim")
    conf = os.path.join(work, "exim.conf")
    with open(conf, "w") as f:
        f.write(f"""primary_hostname = mail.bench.test
daemon_smtp_ports = {EXIM_PORT}
local_interfaces = 127.0.0.1
spool_directory = {spool}
log_file_path = {spool}/log/%slog
pid_file_path = {work}/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
keep_environment =
smtp_accept_max = 100
tls_certificate = {work}/cert.pem
tls_privatekey = {work}/key.pem
tls_advertise_hosts = *
acl_smtp_rcpt = refuse
begin acl
refuse:
  deny
""")
    p = subprocess.Popen(["exim4", "-C", conf, "-bdf"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", EXIM_PORT), timeout=0.5).close()
            return p
        except OSError:
            if time.monotonic() > deadline or p.poll() is not None:
                raise RuntimeError("exim did not start")
            time.sleep(0.1)


def drive(pid, port, module):
    """PROBES sequential /probe requests; CPU of the prober per 1000 probes, wall ms per probe."""
    url = f"http://127.0.0.1:{port}/probe?" + urllib.parse.urlencode(
        {"target": TARGET, "module": module})
    get(url)  # warm-up: contexts, CA store
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    for _ in range(PROBES):
        body = get(url)
        if "\nprobe_success 1" not in "\n" + body:
            raise RuntimeError(f"{module} probe failed:\n{body}")
    cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - t0
    return cpu / PROBES * 1000, wall / PROBES * 1000


work = tempfile.mkdtemp(prefix="netres-bench-starttls-")
procs = []
try:
    procs.append(start_exim(work))
    cert = os.path.join(work, "cert.pem")
    mon_conf = os.path.join(work, "monitor.yaml")
    with open(mon_conf, "w") as f:
        f.write(f"""checks:
  starttls: {{kind: tcp, starttls: smtp, ca_file: {cert}}}
  steps:
    kind: tcp
    ca_file: {cert}
    steps:
      - expect: "^220 "
      - send: "EHLO bench.test\\r\\n"
      - expect: "^250-STARTTLS"
      - send: "STARTTLS\\r\\n"
      - expect: "^220 "
      - starttls: true
targets:
  - {{address: "{TARGET}", checks: [starttls, steps]}}
  - {{address: "127.0.0.1:1", checks: [starttls], interval: 1h}}
""")
    bb_conf = os.path.join(work, "blackbox.yml")
    with open(bb_conf, "w") as f:
        # blackbox_exporter appends "\n" to each send.
        f.write(f"""modules:
  smtp_starttls:
    prober: tcp
    timeout: 5s
    tcp:
      tls_config: {{ca_file: {cert}}}
      query_response:
        - expect: "^220 "
        - send: "EHLO bench.test\\r"
        - expect: "^250-STARTTLS"
        - send: "STARTTLS\\r"
        - expect: "^220 "
        - starttls: true
""")
    mon = subprocess.Popen([NETRES, "monitor", "-c", mon_conf, "--listen",
                            f"127.0.0.1:{NETRES_PORT}"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    procs.append(mon)
    bb = subprocess.Popen(["prometheus-blackbox-exporter", f"--config.file={bb_conf}",
                           f"--web.listen-address=127.0.0.1:{BLACKBOX_PORT}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(bb)
    wait(f"http://127.0.0.1:{NETRES_PORT}/-/healthy")
    wait(f"http://127.0.0.1:{BLACKBOX_PORT}/-/healthy")
    modes = {"netres starttls": (mon.pid, NETRES_PORT, "starttls"),
             "netres steps": (mon.pid, NETRES_PORT, "steps"),
             "blackbox": (bb.pid, BLACKBOX_PORT, "smtp_starttls")}
    results = {m: [] for m in modes}
    for r in range(ROUNDS):
        for name, args in modes.items():
            results[name].append(drive(*args))
            print(f"round {r + 1} {name}: {results[name][-1][0]:.3f} CPU s / 1000 probes, "
                  f"{results[name][-1][1]:.2f} ms per probe", flush=True)
    print(f"\n{PROBES} probes per run, {ROUNDS} runs per mode, load average "
          f"{os.getloadavg()[0]:.1f}")
    print("| mode | CPU s per 1000 probes, median (min-max) | wall ms per probe, median (min-max) |")
    print("|---|---|---|")
    for name, rs in results.items():
        cpu = [c for c, _ in rs]
        wall = [w for _, w in rs]
        print(f"| {name} | {statistics.median(cpu):.3f} ({min(cpu):.3f}-{max(cpu):.3f}) | "
              f"{statistics.median(wall):.2f} ({min(wall):.2f}-{max(wall):.2f}) |")
finally:
    for p in reversed(procs):
        stop_process(p)
    shutil.rmtree(work, ignore_errors=True)
PY
