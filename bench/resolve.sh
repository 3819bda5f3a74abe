#!/usr/bin/env bash
# bench/resolve.sh: netres resolve against the tools users would otherwise pick, on the same
# work in one run, printing min / median / max of interleaved runs and ratios. Traffic stays on
# 127.0.0.1, to servers started here on the resolve ports (25300-25399).
#
#   1. 50,000 distinct names (A) against a local dnsmasq (hosts file) and a local unbound
#      (local-data, nothing recursive): netres vs dnsperf, RUNS interleaved rounds, each round
#      netres and dnsperf at the same window: 100 (dnsperf's default) and 1000 (netres's).
#      Every netres run must answer all names (the script stops otherwise).
#   2. A sequential Python UDP loop on the same dnsmasq (the baseline a script would be).
#   3. A server that answers every query after 20 ms (bench/slow_dns_server.py): netres vs the
#      sequential loop, where only queries in flight help.
#   4. What waiting costs: one name against a UDP socket that never answers (6 s of waiting),
#      CPU time measured; 20 names against a closed port (ICMP port unreachable), wall time.
#
# Usage: flock /tmp/netres-bench.lock bench/resolve.sh   (NETRES=path/to/netres, N=50000, RUNS=5)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NETRES=${NETRES:-$ROOT/build-resolve/src/cli/netres}
N=${N:-50000}
RUNS=${RUNS:-5}
WINDOWS=${WINDOWS:-"100 1000"}
SEQ_N=${SEQ_N:-5000}      # names the sequential loop does against dnsmasq (then scaled)
SLOW_N=${SLOW_N:-10000}    # names netres sends to the 20 ms server
SLOW_SEQ_N=${SLOW_SEQ_N:-100}
PY=/usr/bin/python3

for tool in /usr/sbin/dnsmasq /usr/sbin/unbound dnsperf "$NETRES"; do
  command -v "$tool" >/dev/null || { echo "bench/resolve.sh: missing $tool" >&2; exit 3; }
done

WORK=$(mktemp -d /tmp/netres-bench-resolve.XXXXXX)
chmod 755 "$WORK"  # dnsmasq reads the hosts file after dropping to user nobody
[ -n "${KEEP:-}" ] && echo "work dir: $WORK" >&2
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

fixtures="import sys; sys.path.insert(0, '$ROOT/tests/fixtures')"
free_port() { $PY -c "$fixtures; import dnsmasq; print(dnsmasq.free_port())"; }
wait_ready() {  # host port name: poll until the name gets NOERROR, at most 20 s
  $PY -c "
$fixtures; import time, dnsmasq
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    if dnsmasq.query_rcode('$1', $2, '$3', timeout=0.2) == 0: sys.exit(0)
    time.sleep(0.05)
sys.exit('server on port $2 did not answer')"
}
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# "min / median / max" of the numbers on stdin.
spread() { sort -g | awk '{ v[NR] = $1 } END { printf "%s / %s / %s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }

# The zone: hN.bench.test -> 10.x.y.z, as a hosts file for dnsmasq and local-data for unbound.
$PY - "$WORK" "$N" "$SLOW_N" <<'PYEOF'
import sys
work, n, slow_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{work}/hosts", "w") as hosts, open(f"{work}/names.txt", "w") as names, \
     open(f"{work}/dnsperf.txt", "w") as perf, open(f"{work}/local-data.conf", "w") as local:
    for i in range(n):
        name = f"h{i}.bench.test"
        address = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        hosts.write(f"{address} {name}\n")
        local.write(f'local-data: "{name}. 300 IN A {address}"\n')
        names.write(name + "\n")
        perf.write(f"{name} A\n")
with open(f"{work}/slow.txt", "w") as slow:
    for i in range(slow_n):
        slow.write(f"s{i}.slow.test\n")
PYEOF
chmod 644 "$WORK"/*

DNSMASQ_PORT=$(free_port)
/usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --no-resolv --no-hosts \
  --no-poll --addn-hosts="$WORK/hosts" --port="$DNSMASQ_PORT" --listen-address=127.0.0.1 \
  --bind-interfaces --local=/test/ --log-facility="$WORK/dnsmasq.log" &
PIDS+=($!)
wait_ready 127.0.0.1 "$DNSMASQ_PORT" h0.bench.test

# unbound with the same config the tests use (tests/fixtures/unbound.py): local data only,
# `local-zone: "." static`, so it never asks anyone; one thread, like dnsmasq.
UNBOUND_PORT=$(free_port)
mkdir -p "$WORK/unbound"
$PY -c "$fixtures; import unbound
open('$WORK/unbound/unbound.conf', 'w').write(unbound.config_text($UNBOUND_PORT, '$WORK/unbound', [],
    extra=['include: \"$WORK/local-data.conf\"']))"
/usr/sbin/unbound -d -c "$WORK/unbound/unbound.conf" >"$WORK/unbound/log" 2>&1 &
PIDS+=($!)
wait_ready 127.0.0.1 "$UNBOUND_PORT" h0.bench.test

echo "== resolve: $N distinct names (A), $RUNS interleaved rounds per server and window; q/s as min / median / max"
echo "   load average before: $(cut -d" " -f1-3 /proc/loadavg)"
echo "   $(nproc) cores; $(/usr/sbin/dnsmasq --version | head -1 | cut -d' ' -f1-3); $(/usr/sbin/unbound -V | head -1); dnsperf $(dpkg-query -W -f='${Version}' dnsperf 2>/dev/null || echo '?')"

# Warm-up: the servers' caches and the page cache, so the first timed tool is not penalized.
for port in "$DNSMASQ_PORT" "$UNBOUND_PORT"; do
  "$NETRES" resolve --server "127.0.0.1:$port" -t A -f "$WORK/names.txt" --json >/dev/null 2>&1 || true
done

# One netres run: appends "qps cpu_seconds" to $1; stops the benchmark if any name is lost.
netres_run() {  # out_file port window
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" \
    "$NETRES" resolve --server "127.0.0.1:$2" -t A -c "$3" -f "$WORK/names.txt" --json --stats \
    >"$WORK/netres.json" 2>"$WORK/netres.err" || true
  local ok
  ok=$(grep -c '"status":"NOERROR"' "$WORK/netres.json" || true)
  [ "$ok" -eq "$N" ] || { echo "netres answered $ok of $N"; cat "$WORK/netres.err"; exit 1; }
  tail -1 "$WORK/time" | awk -v n="$N" '{ printf "%.0f %.2f\n", n / $1, $2 + $3 }' >>"$1"
  grep -o 'engine: .*' "$WORK/netres.err" | sed 's/^engine: //' >>"$1.engine"
}
dnsperf_run() {  # out_file port window
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" \
    dnsperf -s 127.0.0.1 -p "$2" -d "$WORK/dnsperf.txt" -n 1 -q "$3" -t 5 \
    >"$WORK/dnsperf.out" 2>&1 || true
  local qps lost cpu
  qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$WORK/dnsperf.out")
  lost=$(awk '/Queries lost:/ { print $3 }' "$WORK/dnsperf.out")
  cpu=$(tail -1 "$WORK/time" | awk '{ printf "%.2f", $2 + $3 }')
  echo "$qps $cpu $lost" >>"$1"
}

for server in dnsmasq unbound; do
  port=$DNSMASQ_PORT
  [ "$server" = unbound ] && port=$UNBOUND_PORT
  for window in $WINDOWS; do
    n_out="$WORK/netres.$server.$window"
    d_out="$WORK/dnsperf.$server.$window"
    : >"$n_out"; : >"$n_out.engine"; : >"$d_out"
    for _ in $(seq "$RUNS"); do
      netres_run "$n_out" "$port" "$window"
      dnsperf_run "$d_out" "$port" "$window"
    done
    ratios=$(paste -d' ' "$n_out" "$d_out" | awk '{ printf "%.2f\n", $1 / $3 }')
    retrans=$(awk -F', ' '{ split($2, a, " "); print a[1] }' "$n_out.engine" | spread)
    echo "-- $server, window $window"
    printf '   %-34s %24s q/s  CPU %s s;  all %s names answered in every run; retransmissions %s\n' \
      "netres resolve -c $window --json" "$(cut -d' ' -f1 "$n_out" | spread)" \
      "$(cut -d' ' -f2 "$n_out" | median)" "$N" "$retrans"
    printf '   %-34s %24s q/s  CPU %s s;  queries lost (not retried) %s\n' \
      "dnsperf -q $window" "$(cut -d' ' -f1 "$d_out" | spread)" \
      "$(cut -d' ' -f2 "$d_out" | median)" "$(cut -d' ' -f3 "$d_out" | spread)"
    echo "   netres / dnsperf per round: $(echo $ratios)  (min / median / max $(echo "$ratios" | spread))"
  done
done

read -r seq_answered seq_t < <($PY "$ROOT/bench/dns_sequential.py" 127.0.0.1 "$DNSMASQ_PORT" "$WORK/names.txt" "$SEQ_N")
printf '   %-34s %24s q/s  (%s of %s answered in %.2f s, dnsmasq)\n' \
  "sequential Python UDP loop" "$(rate "$seq_answered" "$seq_t")" "$seq_answered" "$SEQ_N" "$seq_t"

SLOW_PORT=$(free_port)
$PY "$ROOT/bench/slow_dns_server.py" --port "$SLOW_PORT" --delay 0.020 --lifetime 300 &
PIDS+=($!)
wait_ready 127.0.0.1 "$SLOW_PORT" ready.slow.test

echo "== resolve: a server answering every query after 20 ms (bench/slow_dns_server.py)"
/usr/bin/time -f "%e" -o "$WORK/time" "$NETRES" resolve --server "127.0.0.1:$SLOW_PORT" -t A \
  -c 1000 --timeout 5s -f "$WORK/slow.txt" --json >"$WORK/slow.json" 2>"$WORK/slow.err" || true
slow_t=$(tail -1 "$WORK/time")
slow_ok=$(grep -c '"status":"NOERROR"' "$WORK/slow.json" || true)
slow_qps=$(rate "$slow_ok" "$slow_t")
read -r sseq_answered sseq_t < <($PY "$ROOT/bench/dns_sequential.py" 127.0.0.1 "$SLOW_PORT" "$WORK/slow.txt" "$SLOW_SEQ_N")
sseq_qps=$(rate "$sseq_answered" "$sseq_t")
printf '   %-34s %10s q/s  (%s of %s answered in %.2f s)\n' \
  "netres resolve -c 1000" "$slow_qps" "$slow_ok" "$SLOW_N" "$slow_t"
printf '   %-34s %10s q/s  (%s of %s answered in %.2f s)\n' \
  "sequential Python UDP loop" "$sseq_qps" "$sseq_answered" "$SLOW_SEQ_N" "$sseq_t"
echo "   netres / sequential Python = $(ratio "$slow_qps" "$sseq_qps")x  (concurrency at work)"

echo "== resolve: what waiting costs"
SILENT_PORT=$(free_port)
$PY -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', $SILENT_PORT))
time.sleep(30)" &
PIDS+=($!)
sleep 0.3
/usr/bin/time -f "%e %U %S" -o "$WORK/time" "$NETRES" resolve --server "127.0.0.1:$SILENT_PORT" \
  -t A --timeout 2s --retries 2 silent.test >/dev/null 2>&1 || true
read -r w u s < <(tail -1 "$WORK/time")  # after time's "Command exited with non-zero status"
printf '   %-60s %s s wall, %s s user + %s s system CPU\n' \
  "1 name, server never answers (--timeout 2s --retries 2)" "$w" "$u" "$s"
CLOSED_PORT=$($PY -c "$fixtures; import dnsmasq; print(dnsmasq.closed_udp_port())")
/usr/bin/time -f "%e" -o "$WORK/time" "$NETRES" resolve --server "127.0.0.1:$CLOSED_PORT" -t A \
  --timeout 2s --json $(seq -f "n%g.test" 1 20) >"$WORK/closed.json" 2>/dev/null || true
refused=$(grep -c '"status":"connrefused"' "$WORK/closed.json" || true)
printf '   %-60s %s s wall, %s of 20 connrefused\n' \
  "20 names, closed port (ICMP port unreachable), --timeout 2s" "$(tail -1 "$WORK/time")" "$refused"
echo "   load average after: $(cut -d" " -f1-3 /proc/loadavg)"
