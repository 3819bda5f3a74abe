#!/usr/bin/env bash
# bench/resolve.sh: netres resolve against the tools users would otherwise pick, on the same
# work in one run, printing rates and ratios. Traffic stays on 127.0.0.1, to servers started here.
#
#   1. 50,000 distinct names (A) against a local dnsmasq that answers from its hosts file:
#      netres vs dnsperf (same window of queries in flight) vs a sequential Python UDP loop.
#   2. A server that answers every query after 20 ms (bench/slow_dns_server.py): netres vs the
#      sequential loop, where only queries in flight help.
#
# Usage: flock /tmp/netres-bench.lock bench/resolve.sh   (NETRES=path/to/netres, N=50000, RUNS=3)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NETRES=${NETRES:-$ROOT/build-resolve/src/cli/netres}
N=${N:-50000}
RUNS=${RUNS:-3}
# The window for the head-to-head: dnsmasq reads one socket with the default 208 kB receive
# buffer, which holds only ~200 queued queries; beyond that both tools lose packets (and netres
# then waits for its retry). 100 is dnsperf's own default. netres's default window (1000) and
# the 20 ms server, where a large window pays, are measured too.
CONCURRENCY=${CONCURRENCY:-100}
BIG_WINDOW=${BIG_WINDOW:-1000}
SEQ_N=${SEQ_N:-5000}      # names the sequential loop does against dnsmasq (then scaled)
SLOW_N=${SLOW_N:-10000}    # names netres sends to the 20 ms server
SLOW_SEQ_N=${SLOW_SEQ_N:-100}
PY=/usr/bin/python3

for tool in /usr/sbin/dnsmasq dnsperf "$NETRES"; do
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

free_port() { $PY -c "import sys; sys.path.insert(0, '$ROOT/tests/fixtures'); import dnsmasq; print(dnsmasq.free_port())"; }
wait_ready() {  # host port name: poll until the name gets NOERROR, at most 5 s
  $PY -c "
import sys, time; sys.path.insert(0, '$ROOT/tests/fixtures'); import dnsmasq
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    if dnsmasq.query_rcode('$1', $2, '$3', timeout=0.2) == 0: sys.exit(0)
    time.sleep(0.05)
sys.exit('server on port $2 did not answer')"
}
now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The zone: hN.bench.test -> 10.x.y.z, as a hosts file dnsmasq serves authoritatively.
$PY - "$WORK" "$N" "$SLOW_N" <<'PYEOF'
import sys
work, n, slow_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{work}/hosts", "w") as hosts, open(f"{work}/names.txt", "w") as names, \
     open(f"{work}/dnsperf.txt", "w") as perf:
    for i in range(n):
        name = f"h{i}.bench.test"
        hosts.write(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255} {name}\n")
        names.write(name + "\n")
        perf.write(f"{name} A\n")
with open(f"{work}/slow.txt", "w") as slow:
    for i in range(slow_n):
        slow.write(f"s{i}.slow.test\n")
PYEOF

PORT=$(free_port)
/usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --no-resolv --no-hosts \
  --no-poll --addn-hosts="$WORK/hosts" --port="$PORT" --listen-address=127.0.0.1 \
  --bind-interfaces --local=/test/ --log-facility="$WORK/dnsmasq.log" &
PIDS+=($!)
wait_ready 127.0.0.1 "$PORT" h0.bench.test

echo "== resolve: $N distinct names (A) against dnsmasq on 127.0.0.1:$PORT, median of $RUNS runs"
echo "   load average before: $(cut -d" " -f1-3 /proc/loadavg)"
echo "   $(nproc) cores; $(/usr/sbin/dnsmasq --version | head -1 | cut -d' ' -f1-3); dnsperf $(dpkg-query -W -f='${Version}' dnsperf 2>/dev/null || echo '?')"

# Warm-up: dnsmasq's hash table and the page cache, so the first timed tool is not penalized.
"$NETRES" resolve --server "127.0.0.1:$PORT" -t A -f "$WORK/names.txt" --json >/dev/null 2>&1 || true

# Wall time and CPU time (user + sys) of each run: on this shared 2-core machine other work can
# steal the CPU, and CPU seconds per query show the cost independently of that.
netres_times=()
netres_cpus=()
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" \
    "$NETRES" resolve --server "127.0.0.1:$PORT" -t A -c "$CONCURRENCY" -f "$WORK/names.txt" --json \
    >"$WORK/netres.json" 2>"$WORK/netres.err" || true
  ok=$(grep -c '"status":"NOERROR"' "$WORK/netres.json" || true)
  [ "$ok" -eq "$N" ] || { echo "netres answered $ok of $N"; cat "$WORK/netres.err"; exit 1; }
  netres_times+=("$(awk '{ print $1 }' "$WORK/time")")
  netres_cpus+=("$(awk '{ print $2 + $3 }' "$WORK/time")")
done
netres_t=$(printf '%s\n' "${netres_times[@]}" | median)
netres_cpu=$(printf '%s\n' "${netres_cpus[@]}" | median)
netres_qps=$(rate "$N" "$netres_t")

t0=$(now)
"$NETRES" resolve --server "127.0.0.1:$PORT" -t A -c "$BIG_WINDOW" -f "$WORK/names.txt" --json \
  >"$WORK/big.json" 2>"$WORK/big.err" || true
t1=$(now)
big_t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
big_ok=$(grep -c '"status":"NOERROR"' "$WORK/big.json" || true)
big_qps=$(rate "$N" "$big_t")

dnsperf_qps_list=()
dnsperf_cpus=()
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" dnsperf -s 127.0.0.1 -p "$PORT" -d "$WORK/dnsperf.txt" -n 1 -q "$CONCURRENCY" -t 5 \
    >"$WORK/dnsperf.out" 2>&1 || true
  lost=$(awk '/Queries lost:/ { print $3 }' "$WORK/dnsperf.out")
  dnsperf_cpus+=("$(awk '{ print $2 + $3 }' "$WORK/time")")
  dnsperf_qps_list+=("$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$WORK/dnsperf.out")")
done
dnsperf_qps=$(printf '%s\n' "${dnsperf_qps_list[@]}" | median)
dnsperf_cpu=$(printf '%s\n' "${dnsperf_cpus[@]}" | median)

read -r seq_answered seq_t < <($PY "$ROOT/bench/dns_sequential.py" 127.0.0.1 "$PORT" "$WORK/names.txt" "$SEQ_N")
seq_qps=$(rate "$seq_answered" "$seq_t")

printf '   %-44s %10s q/s  (%s s wall, %s s CPU for %s names; start-up and JSON output included)\n' \
  "netres resolve -c $CONCURRENCY --json" "$netres_qps" "$netres_t" "$netres_cpu" "$N"
printf '   %-44s %10s q/s  (%s of %s NOERROR; dropped queries wait for the retry)\n' \
  "netres resolve -c $BIG_WINDOW --json" "$big_qps" "$big_ok" "$N"
printf '   %-44s %10s q/s  (its own figure; %s s CPU; %s lost in the last run)\n' \
  "dnsperf -q $CONCURRENCY" "$dnsperf_qps" "$dnsperf_cpu" "${lost:-?}"
printf '   %-44s %10s q/s  (%s of %s answered in %.2f s)\n' \
  "sequential Python UDP loop" "$seq_qps" "$seq_answered" "$SEQ_N" "$seq_t"
echo "   netres / dnsperf = $(ratio "$netres_qps" "$dnsperf_qps")x;  netres / sequential Python = $(ratio "$netres_qps" "$seq_qps")x"

SLOW_PORT=$(free_port)
$PY "$ROOT/bench/slow_dns_server.py" --port "$SLOW_PORT" --delay 0.020 --lifetime 300 &
PIDS+=($!)
wait_ready 127.0.0.1 "$SLOW_PORT" ready.slow.test

echo "== resolve: a server answering every query after 20 ms (bench/slow_dns_server.py)"
t0=$(now)
"$NETRES" resolve --server "127.0.0.1:$SLOW_PORT" -t A -c "$BIG_WINDOW" --timeout 5s \
  -f "$WORK/slow.txt" --json >"$WORK/slow.json" 2>"$WORK/slow.err" || true
t1=$(now)
slow_t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
slow_ok=$(grep -c '"status":"NOERROR"' "$WORK/slow.json" || true)
slow_qps=$(rate "$slow_ok" "$slow_t")
read -r sseq_answered sseq_t < <($PY "$ROOT/bench/dns_sequential.py" 127.0.0.1 "$SLOW_PORT" "$WORK/slow.txt" "$SLOW_SEQ_N")
sseq_qps=$(rate "$sseq_answered" "$sseq_t")
printf '   %-44s %10s q/s  (%s of %s answered in %.2f s)\n' \
  "netres resolve -c $BIG_WINDOW" "$slow_qps" "$slow_ok" "$SLOW_N" "$slow_t"
printf '   %-44s %10s q/s  (%s of %s answered in %.2f s)\n' \
  "sequential Python UDP loop" "$sseq_qps" "$sseq_answered" "$SLOW_SEQ_N" "$sseq_t"
echo "   netres / sequential Python = $(ratio "$slow_qps" "$sseq_qps")x  (concurrency at work)"
