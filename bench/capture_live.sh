#!/usr/bin/env bash
# Live capture: `netres capture -w` against `tcpdump -w` at the same load, iperf3 at full speed
# across a veth pair between two namespaces this script creates (netres-bench-tx 198.18.22.1 <->
# netres-bench-rx 198.18.22.2). Each tool captures on the receiving end (nrb-rx) into a file
# while iperf3 runs; after iperf3 ends it gets SIGINT, and we read its own counts (captured,
# received by filter, dropped by kernel), count the records in the file it wrote (capinfos),
# compare with the interface counters and iperf3, and take its CPU time (/usr/bin/time).
# netres also counts what its writer thread's queue had no room for ("dropped by write queue");
# drops below are the kernel's plus those, so that both tools are charged for every packet
# that reached the interface and not the file.
# Scenarios: TCP and UDP (64-byte datagrams, -b 0) x snaplen 262144 and 96 x the default kernel
# buffer and a 64 MiB one; ROUNDS rounds alternating which tool goes first.
# Run as: flock /tmp/netres-bench.lock bench/capture_live.sh [build-dir]  (capture.sh calls it)
# Knobs (environment): DURATION (s of iperf3, 10), ROUNDS (2), TRAFFIC ("tcp udp"),
# SNAPLENS ("262144 96"), BUFFERS ("default 64"; MiB), CPU_TRAFFIC (0), CPU_CAPTURE (1),
# CAPTURE_NICE (-10: the capturing tool, either one, before other work on a shared machine),
# WRITE_DIR (where the capture files go; default a directory under /tmp, on disk).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
bench_init capture-live "${1:-}"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
TRAFFIC=${TRAFFIC:-tcp udp}
SNAPLENS=${SNAPLENS:-262144 96}
BUFFERS=${BUFFERS:-default 64}
CPU_TRAFFIC=${CPU_TRAFFIC:-0}  # iperf3 client and server (and the softirqs they raise)
CPU_CAPTURE=${CPU_CAPTURE:-1}  # the capturing tool, alone where the machine allows
CAPTURE_NICE=${CAPTURE_NICE:--10}
WRITE_DIR=${WRITE_DIR:-$work}
live_file=$WRITE_DIR/netres-bench-live.pcap
NS_TX=netres-bench-tx
NS_RX=netres-bench-rx
IF_TX=nrb-tx
IF_RX=nrb-rx
ADDR_TX=198.18.22.1
ADDR_RX=198.18.22.2
PORT=5201

for tool in iperf3 tcpdump capinfos taskset jq; do
  command -v "$tool" > /dev/null || { echo "capture_live: needs $tool" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "capture_live: needs root (namespaces, capture)" >&2; exit 2; }

# Processes we started (the iperf3 server, a running capture), killed by pid on exit; then the
# namespaces go.
server_pid=
capture_pid=
live_cleanup() {
  local pid
  for pid in $capture_pid $server_pid; do kill "$pid" 2> /dev/null || true; done
  for pid in $capture_pid $server_pid; do wait "$pid" 2> /dev/null || true; done
  ip netns del "$NS_TX" 2> /dev/null || true
  ip netns del "$NS_RX" 2> /dev/null || true
  rm -f "$live_file"
}
bench_on_exit live_cleanup

# Leftovers of an interrupted run: processes inside our namespaces, then the namespaces.
for ns in "$NS_TX" "$NS_RX"; do
  if ip netns list | grep -qw "$ns"; then
    for pid in $(ip netns pids "$ns"); do kill "$pid" 2> /dev/null || true; done
    sleep 0.5
    ip netns del "$ns"
  fi
done

ip netns add "$NS_TX"
ip netns add "$NS_RX"
ip link add "$IF_TX" netns "$NS_TX" type veth peer name "$IF_RX" netns "$NS_RX"
for pair in "$NS_TX $IF_TX $ADDR_TX" "$NS_RX $IF_RX $ADDR_RX"; do
  read -r ns ifname addr <<< "$pair"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1  # no RS/MLD chatter
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/30" dev "$ifname"
  ip -n "$ns" link set "$ifname" up
done
# Safety: the target must be reached through our veth and nothing else.
route=$(ip -n "$NS_TX" route get "$ADDR_RX")
[[ $route == *"dev $IF_TX "* ]] || { echo "capture_live: unsafe route: $route" >&2; exit 3; }

ip netns exec "$NS_RX" taskset -c "$CPU_TRAFFIC" iperf3 -s -B "$ADDR_RX" -p "$PORT" \
  > "$work/iperf3-server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do  # up to 5 s for the server to listen
  ip netns exec "$NS_RX" ss -ltn | grep -q "$ADDR_RX:$PORT" && break
  sleep 0.1
done

wire_packets() {  # packets both ways through the capture interface so far
  ip -n "$NS_RX" -s -j link show "$IF_RX" |
    jq '.[0].stats64.rx.packets + .[0].stats64.tx.packets'
}

# Extracts "N <words>" from a tool's end-of-run statistics on stderr.
stat_of() { awk -v what="$2" '$0 ~ "^[0-9]+ " what "$" {print $1}' "$1" | tail -1; }

results=$work/results.tsv
printf 'traffic\tsnaplen\tbuffer\ttool\tround\tiperf3_sent\twire\tcaptured\treceived\tdropped\tqdropped\twritten\tcpu\tload1\n' \
  > "$results"

# run_one TOOL TRAFFIC SNAPLEN BUFFER ROUND: one capture during one iperf3 run; appends a row.
run_one() {
  local tool=$1 traffic=$2 snaplen=$3 buffer=$4 round=$5
  local file=$live_file err=$work/capture.err cpu=$work/capture.cpu cmd
  rm -f "$file" "$err" "$cpu"
  case $tool in
    netres) cmd=("$netres" capture -i "$IF_RX" -s "$snaplen" -w "$file") ;;
    tcpdump) cmd=(tcpdump -i "$IF_RX" -s "$snaplen" -Z root -w "$file") ;;
  esac
  if [[ $buffer != default ]]; then
    # Same kernel buffer: netres takes a size, tcpdump KiB.
    if [[ $tool == netres ]]; then cmd+=(-B "${buffer}M"); else cmd+=(-B $((buffer * 1024))); fi
  fi
  local iperf=(iperf3 -c "$ADDR_RX" -p "$PORT" -B "$ADDR_TX" -t "$DURATION" -J)
  [[ $traffic == udp ]] && iperf+=(-u -b 0 -l 64)

  local load1 before after
  load1=$(cut -d' ' -f1 /proc/loadavg)
  before=$(wire_packets)
  ip netns exec "$NS_RX" /usr/bin/time -f '%U %S' -o "$cpu" \
    nice -n "$CAPTURE_NICE" taskset -c "$CPU_CAPTURE" "${cmd[@]}" 2> "$err" &
  local timer=$!
  capture_pid=$timer
  for _ in $(seq 100); do  # up to 10 s to open the device
    grep -q 'listening on' "$err" 2> /dev/null && break
    sleep 0.1
  done
  grep -q 'listening on' "$err" || { echo "capture_live: $tool did not start:" >&2; cat "$err" >&2; exit 3; }
  ip netns exec "$NS_TX" taskset -c "$CPU_TRAFFIC" timeout $((DURATION + 30)) "${iperf[@]}" \
    > "$work/iperf3.json" || { echo "capture_live: iperf3 failed" >&2; cat "$work/iperf3.json" >&2; exit 3; }
  sleep 1  # what is in the ring now is the tool's to read before it is stopped
  local pid
  pid=$(pgrep -P "$timer")  # /usr/bin/time's child: the tool itself (nice and taskset exec)
  kill -INT "$pid"
  for _ in $(seq 300); do  # up to 30 s to flush and exit
    kill -0 "$timer" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$timer" 2> /dev/null; then
    echo "capture_live: $tool did not stop on SIGINT" >&2
    kill -KILL "$pid"
  fi
  local rc=0
  wait "$timer" || rc=$?
  capture_pid=
  ((rc == 0)) || { echo "capture_live: $tool exited $rc:" >&2; cat "$err" >&2; exit 3; }
  after=$(wire_packets)

  local sent written
  if [[ $traffic == udp ]]; then
    sent=$(jq '.end.sum.packets' "$work/iperf3.json")
  else
    sent=$(jq '.end.sum_sent.bytes' "$work/iperf3.json")
  fi
  written=$(capinfos -c -M -T -r "$file" | cut -f2)
  local qdropped
  qdropped=$(stat_of "$err" 'packets dropped by write queue')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$traffic" "$snaplen" "$buffer" \
    "$tool" "$round" "$sent" "$((after - before))" "$(stat_of "$err" 'packets captured')" \
    "$(stat_of "$err" 'packets received by filter')" "$(stat_of "$err" 'packets dropped by kernel')" \
    "${qdropped:-0}" "$written" "$(awk '{print $1 + $2}' "$cpu")" "$load1" >> "$results"
  tail -1 "$results" | awk -F'\t' '{printf "  %-4s s=%-6s B=%-7s %-7s r%s  wire %9d  captured %9d  dropped %9d + queue %7d  written %9d  cpu %5.2f s  load %s\n", $1, $2, $3, $4, $5, $7, $8, $10, $11, $12, $13, $14}'
  rm -f "$file"
}

echo "== live capture: iperf3 ${DURATION}s over a veth pair, capture on $IF_RX (CPU $CPU_CAPTURE, nice $CAPTURE_NICE) into $WRITE_DIR, iperf3 on CPU $CPU_TRAFFIC"
echo "   $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   $(tcpdump --version 2>&1 | head -2 | tr '\n' ' ')"
for traffic in $TRAFFIC; do
  for snaplen in $SNAPLENS; do
    for buffer in $BUFFERS; do
      for round in $(seq "$ROUNDS"); do
        if ((round % 2)); then order=(netres tcpdump); else order=(tcpdump netres); fi
        for tool in "${order[@]}"; do run_one "$tool" "$traffic" "$snaplen" "$buffer" "$round"; done
      done
    done
  done
done
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$results" "${LIVE_RESULTS:-/dev/null}" 2> /dev/null || true

# Totals over the rounds per scenario and tool, then netres / tcpdump.
/usr/bin/python3 - "$results" <<'PY'
import csv, sys
from collections import defaultdict
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
keys = ["iperf3_sent", "wire", "captured", "received", "dropped", "qdropped", "written", "cpu"]
tot = defaultdict(lambda: defaultdict(float))
loads = defaultdict(list)
for r in rows:
    k = (r["traffic"], r["snaplen"], r["buffer"], r["tool"])
    for f in keys:
        tot[k][f] += float(r[f] or 0)
    tot[k]["runs"] += 1
    loads[k].append(r["load1"])
print("== totals over the rounds (dropped = by kernel + by netres's write queue; drop % = dropped"
      " / received by filter; sent: iperf3's packets for UDP, GB for TCP)")
print(f"  {'scenario':<28} {'tool':<8} {'sent':>10} {'wire':>10} {'captured':>10} {'written':>10}"
      f" {'dropped':>10} {'drop %':>7} {'CPU s':>6} {'us/pkt':>6}  load1")
scen = sorted({k[:3] for k in tot}, key=lambda s: (s[0], -int(s[1]), s[2] != "default", s[2]))
for s in scen:
    for tool in ("netres", "tcpdump"):
        t = tot.get(s + (tool,))
        if not t:
            continue
        sent = t["iperf3_sent"] / 1e9 if s[0] == "tcp" else t["iperf3_sent"]
        sent_s = f"{sent:.1f} GB" if s[0] == "tcp" else f"{sent:.0f}"
        dropped = t["dropped"] + t["qdropped"]
        drop = 100 * dropped / t["received"] if t["received"] else 0
        us = 1e6 * t["cpu"] / t["written"] if t["written"] else 0
        name = f"{s[0]} -s {s[1]} -B {s[2]}{'' if s[2] == 'default' else 'M'}"
        print(f"  {name:<28} {tool:<8} {sent_s:>10} {t['wire']:>10.0f} {t['captured']:>10.0f}"
              f" {t['written']:>10.0f} {dropped:>10.0f} {drop:>6.2f}% {t['cpu']:>6.2f}"
              f" {us:>6.2f}  {' '.join(loads[s + (tool,)])}")
    n, d = tot.get(s + ("netres",)), tot.get(s + ("tcpdump",))
    if n and d:
        def ratio(a, b):
            return f"{a / b:.2f}x" if b else ("=" if a == b else "inf")
        ncpu = n["cpu"] / n["written"] if n["written"] else 0
        dcpu = d["cpu"] / d["written"] if d["written"] else 0
        print(f"  {'':<28} netres/tcpdump: captured {ratio(n['captured'], d['captured'])},"
              f" drops {ratio(n['dropped'] + n['qdropped'], d['dropped'] + d['qdropped'])},"
              f" CPU per packet {ratio(ncpu, dcpu)}")
    for tool in ("netres", "tcpdump"):
        t = tot.get(s + (tool,))
        if t and t["written"] != t["captured"] - t["qdropped"]:
            print(f"  !! {tool}: wrote {t['written']:.0f} records but reported"
                  f" {t['captured']:.0f} captured, {t['qdropped']:.0f} dropped by its queue")

# Run by run: the target is netres's drops no higher than tcpdump's in every round.
print("== drop % per round (kernel + queue; min / median / max over the rounds; the round's pair"
      " ran back to back)")
for s in scen:
    by_round = defaultdict(dict)
    for r in rows:
        if (r["traffic"], r["snaplen"], r["buffer"]) != s:
            continue
        rec = float(r["received"] or 0)
        by_round[r["round"]][r["tool"]] = (
            100 * (float(r["dropped"] or 0) + float(r["qdropped"] or 0)) / rec if rec else 0.0)
    if not any(v.get("netres") or v.get("tcpdump") for v in by_round.values()):
        continue
    name = f"{s[0]} -s {s[1]} -B {s[2]}{'' if s[2] == 'default' else 'M'}"
    pairs = [(k, v.get("netres", 0.0), v.get("tcpdump", 0.0)) for k, v in sorted(by_round.items())]
    text = ", ".join(f"r{k} {a:.1f}% vs {b:.1f}%" for k, a, b in pairs)
    met = sum(1 for _, a, b in pairs if a <= b)
    def mmm(xs):
        xs = sorted(xs)
        return f"{xs[0]:.1f} / {xs[len(xs) // 2]:.1f} / {xs[-1]:.1f}"
    print(f"  {name:<28} netres vs tcpdump: {text}; netres <= tcpdump in {met} of {len(pairs)};"
          f" netres {mmm([a for _, a, _ in pairs])}, tcpdump {mmm([b for _, _, b in pairs])}")
PY
