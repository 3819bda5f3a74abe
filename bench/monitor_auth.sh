#!/usr/bin/env bash
# What securing netres monitor's endpoint costs it: CPU per /metrics request (utime + stime of the
# monitor's process only, not curl's) over plain HTTP, over HTTPS, and over HTTPS with basic auth
# (bcrypt cost 10), each request on a new connection (curl with "Connection: close", so each
# pays a full TLS handshake); and basic auth with a different wrong password on every request,
# which no cache can answer: one full bcrypt each, what the verdict cache spares a scraper that
# sends the same credentials every time. ROUNDS=N (default 5) runs the modes in turns, N times,
# and prints min / median / max.
# Run as: flock /tmp/netres-bench.lock bench/monitor_auth.sh [build-dir]
# Ports 18825-18827 on 127.0.0.1 (docs/development.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
netres=$build/src/cli/netres
[[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }
for tool in openssl curl; do
  command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 2; }
done

/usr/bin/python3 - "$here/../tests/fixtures" "$netres" <<'PY'
import os, statistics, subprocess, sys, tempfile, time, warnings
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.join(sys.argv[1], "..", "..", "bench"))
from processes import stop_process
from monitor_lib import cpu_seconds
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

NETRES = sys.argv[2]
ROUNDS = int(os.environ.get("ROUNDS", "5"))
REQUESTS = int(os.environ.get("REQUESTS", "1000"))
WRONG = int(os.environ.get("WRONG_PASSWORDS", "30"))
PLAIN, TLS, AUTH = 18825, 18826, 18827

tmp = tempfile.mkdtemp(prefix="netres-bench-monitor-auth-")


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


ca, ca_key = os.path.join(tmp, "ca.pem"), os.path.join(tmp, "ca.key")
sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
   "-nodes", "-days", "1", "-subj", "/CN=bench-ca", "-keyout", ca_key, "-out", ca)
key, csr, cert = (os.path.join(tmp, n) for n in ("srv.key", "srv.csr", "srv.pem"))
sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
   "-subj", "/CN=bench", "-keyout", key, "-out", csr)
sh("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days",
   "1", "-extfile", write("ext", "subjectAltName=IP:127.0.0.1\n"), "-out", cert)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    hashed = crypt.crypt("bench-pass", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))
# A long interval: the probes stay out of the measurement (one target, probed once a minute).
config = write("monitor.yaml", "defaults: {interval: 60s}\nchecks: {port: {kind: tcp}}\n"
               f"targets: [{{address: '127.0.0.1:{PLAIN}', checks: [port]}}]\n")
tls = f"tls_server_config: {{cert_file: {cert}, key_file: {key}}}\n"
webs = {PLAIN: None, TLS: write("tls.yml", tls),
        AUTH: write("auth.yml", tls + f"basic_auth_users: {{bench: {hashed}}}\n")}
procs = {}
try:
    for port, web in webs.items():
        args = [NETRES, "monitor", "-c", config, "--listen", f"127.0.0.1:{port}"]
        if web:
            args += ["--web-config", web]
        procs[port] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)

    def run(port, n, users):
        scheme = "https" if webs[port] else "http"
        lines = []
        for i in range(n):
            # Each group its own options ("next" resets them): one request, one connection.
            lines.append(f'url = "{scheme}://127.0.0.1:{port}/metrics"\noutput = "/dev/null"\n'
                         f'cacert = "{ca}"\nheader = "Connection: close"\nsilent\n'
                         'write-out = "%{http_code}\\n"\n')
            if users:
                lines.append(f'user = "{users(i)}"\n')
            lines.append("next\n")
        cfg = write("curl.cfg", "".join(lines))
        pid = procs[port].pid
        before = cpu_seconds(pid)
        r = subprocess.run(["curl", "-K", cfg], capture_output=True, text=True, timeout=600)
        used = cpu_seconds(pid) - before
        codes = r.stdout.split()
        return used / n * 1000, codes

    modes = [
        ("http", PLAIN, REQUESTS, None, "200"),
        ("https", TLS, REQUESTS, None, "200"),
        ("https + basic auth (cached verdict)", AUTH, REQUESTS, lambda i: "bench:bench-pass", "200"),
        ("https + basic auth, a new wrong password each (bcrypt cost 10)", AUTH, WRONG,
         lambda i: f"bench:wrong-{time.monotonic_ns()}-{i}", "401"),
    ]
    results = {m[0]: [] for m in modes}
    for _ in range(ROUNDS):
        for name, port, n, users, code in modes:
            ms, codes = run(port, n, users)
            if codes != [code] * n:
                raise SystemExit(f"{name}: unexpected statuses {set(codes)}")
            results[name].append(ms)
    print(f"netres monitor CPU per /metrics request, new connection each, {ROUNDS} rounds "
          f"(median, min-max):")
    for name, values in results.items():
        print(f"  {name:66s} {statistics.median(values):7.3f} ms "
              f"({min(values):.3f}-{max(values):.3f})")
finally:
    for p in procs.values():
        stop_process(p)
    subprocess.run(["rm", "-rf", tmp])
PY
