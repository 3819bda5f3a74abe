#!/usr/bin/env bash
# netres scan against its peers on the same work, in one run: all 65535 TCP ports of a host in a
# network namespace (20 open, 2000 silently dropped, the rest closed), with
#   netres scan -p-  |  nmap -sT -T4 -n -Pn -p-  |  a Python connect_ex loop (1000-port sample,
#   scaled to 65535), and prints wall times and ratios. The open sets must agree.
# Traffic goes only to the namespace this script creates (checked with `ip route get`).
#   NETRES=build/src/cli/netres RUNS=5 bench/scan.sh      (run it under flock, see docs)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NETRES=${NETRES:-$ROOT/build/src/cli/netres}
RUNS=${RUNS:-5}
FIX=$ROOT/tests/fixtures
NS=nrscan-b HOST_IF=nrscanb0 NS_IF=nrscanb1 HOST_V4=198.18.11.1 TARGET=198.18.11.2
OPEN_PORTS=21,22,23,25,53,80,110,143,443,445,993,1433,3306,3389,5432,6379,8080,9200,27017,50000
DROP_FIRST=40000 DROP_LAST=41999
TMP=$(mktemp -d /tmp/netres-bench-scan.XXXXXX)

[[ -x $NETRES ]] || { echo "bench/scan.sh: no netres binary at $NETRES (set NETRES=)" >&2; exit 2; }
command -v nmap >/dev/null || { echo "bench/scan.sh: nmap not installed" >&2; exit 2; }

cleanup() {
  [[ -n ${LISTENERS_PID:-} ]] && kill "$LISTENERS_PID" 2>/dev/null || true
  python3 "$FIX/netns.py" down "$NS" "$HOST_IF"
  rm -rf "$TMP"
}
trap cleanup EXIT

python3 "$FIX/netns.py" up "$NS" "$HOST_IF" "$NS_IF" "$HOST_V4" "$TARGET" 30
python3 "$FIX/netns.py" check "$HOST_IF" "$TARGET"  # never scan anything routed elsewhere
python3 "$FIX/netns.py" drop "$NS" "$DROP_FIRST" "$DROP_LAST"
ip netns exec "$NS" python3 "$FIX/tcp_listeners.py" --ports "$OPEN_PORTS" --max-seconds 900 \
  >"$TMP/listeners.out" &
LISTENERS_PID=$!
for _ in $(seq 50); do grep -q ready "$TMP/listeners.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/listeners.out" || { echo "bench/scan.sh: listeners did not start" >&2; exit 3; }

now() { date +%s.%N; }
# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
expected=$(tr ',' '\n' <<<"$OPEN_PORTS" | sort -n | paste -sd,)

echo "scan bench: $TARGET, 65535 ports: $(tr ',' '\n' <<<"$OPEN_PORTS" | wc -l) open," \
  "$((DROP_LAST - DROP_FIRST + 1)) dropped, rest closed; $(nproc) cores; runs: $RUNS"

# --- netres -----------------------------------------------------------------------------------
: >"$TMP/netres.times"
for i in $(seq "$RUNS"); do
  t0=$(now)
  "$NETRES" scan "$TARGET" -p- --json --seed "$i" ${NETRES_FLAGS:-} >"$TMP/netres.json" 2>"$TMP/netres.err"
  t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$TMP/netres.times"
  got=$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
states = {}
for r in rows: states.setdefault(r["state"], []).append(r["port"])
print(",".join(map(str, sorted(states.get("open", [])))), len(states.get("closed", [])),
      len(states.get("filtered", [])), len(rows))' "$TMP/netres.json")
  read -r open closed filtered total <<<"$got"
  if [[ $open != "$expected" || $total != 65535 || $filtered != $((DROP_LAST - DROP_FIRST + 1)) ]]; then
    echo "bench/scan.sh: netres run $i disagrees: open=$open closed=$closed filtered=$filtered" >&2
    cat "$TMP/netres.err" >&2
    exit 1
  fi
done
netres_t=$(median <"$TMP/netres.times")
echo "netres scan -p- ${NETRES_FLAGS:-}: median $(printf %.3f "$netres_t") s" \
  "(runs: $(paste -sd' ' "$TMP/netres.times" | xargs printf '%.3f '))"
tail -1 "$TMP/netres.err"

# --- nmap -sT -T4 -----------------------------------------------------------------------------
NMAP_RUNS=${NMAP_RUNS:-3}
: >"$TMP/nmap.times"
for i in $(seq "$NMAP_RUNS"); do
  t0=$(now)
  nmap -sT -T4 -n -Pn -p- -oG "$TMP/nmap.gnmap" "$TARGET" >/dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l >>"$TMP/nmap.times"
  nmap_open=$(grep -o '[0-9]*/open/' "$TMP/nmap.gnmap" | cut -d/ -f1 | sort -n | paste -sd,)
  if [[ $nmap_open != "$expected" ]]; then
    echo "bench/scan.sh: nmap run $i found open=$nmap_open, expected $expected" >&2
    exit 1
  fi
done
nmap_t=$(median <"$TMP/nmap.times")
echo "nmap -sT -T4 -n -Pn -p-: median $(printf %.3f "$nmap_t") s" \
  "(runs: $(paste -sd' ' "$TMP/nmap.times" | xargs printf '%.3f '))"

# --- Python connect_ex, the snippet this project grew from ------------------------------------
cat >"$TMP/connect_ex.py" <<'PY'
import random, socket, sys, time
target = sys.argv[1]
ports = random.Random(1).sample(range(1, 65536), 1000)
opened = []
t0 = time.monotonic()
for port in ports:
    s = socket.socket()
    s.settimeout(1)
    if s.connect_ex((target, port)) == 0:
        opened.append(port)
    s.close()
print(time.monotonic() - t0, len(ports), ",".join(map(str, sorted(opened))))
PY
read -r py_t py_n py_open < <(python3 "$TMP/connect_ex.py" "$TARGET")
py_scaled=$(echo "$py_t * 65535 / $py_n" | bc -l)
echo "python connect_ex loop: $(printf %.2f "$py_t") s for $py_n ports (open: ${py_open:-none})," \
  "scaled to 65535: $(printf %.0f "$py_scaled") s"

echo
printf 'ratio nmap -T4 / netres:   %.1fx\n' "$(echo "$nmap_t / $netres_t" | bc -l)"
printf 'ratio python / netres:     %.0fx\n' "$(echo "$py_scaled / $netres_t" | bc -l)"
