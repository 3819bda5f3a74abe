#!/usr/bin/env bash
# netres capture against tcpdump, tshark and scapy on the same pcap of 1,000,000 mixed packets:
# decode and print one line per packet to /dev/null, without a filter and with 'tcp and port 80'.
# scapy (rdpcap + summary) runs on the first 100,000 packets and is scaled. Prints packets per
# second and ratios. Then the live part, bench/capture_live.sh: netres capture -w against
# tcpdump -w under iperf3 load on a veth pair, kernel drops and CPU. The "truncated" part cuts
# the same packets with a snap length of 38 (editcap -s 38: Ethernet + IPv4 + 4 bytes of TCP)
# and counts the TCP packets whose two ports netres, tshark and tcpdump show, then times
# netres and tcpdump on the cut file (RUNS interleaved rounds, median, min, max).
# Run as: flock /tmp/netres-bench.lock bench/capture.sh [build-dir]
# PARTS="offline live truncated" (the default) chooses the parts; BEFORE=path/to/an/older/netres
# counts that binary's ports too.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
bench_init capture "${1:-}"
PARTS=${PARTS:-offline live truncated}
RUNS=${RUNS:-3}
N=1000000
SUB=100000

live_part() {
  if [[ " $PARTS " == *" live "* ]]; then "$here/capture_live.sh" "$build_arg"; fi
}

truncated_part() {
  [[ " $PARTS " == *" truncated "* ]] || return 0
  [[ -f $work/mixed.pcap ]] || mixed_pcap "$work/mixed.pcap" "$N"
  [[ -f $work/sub.pcap ]] || mixed_pcap "$work/sub.pcap" "$SUB"
  editcap -s 38 "$work/sub.pcap" "$work/sub38.pcap"
  editcap -s 38 "$work/mixed.pcap" "$work/cut38.pcap"
  echo "== snap length 38 (editcap -s 38), the first $SUB packets: TCP packets with both ports"
  local tcp ours theirs dump
  tcp=$(tshark -r "$work/sub.pcap" -Y tcp -T fields -e frame.number 2> /dev/null | wc -l)
  ours=$("$netres" capture -r "$work/sub38.pcap" --json 2> /dev/null |
    grep -c '"tcp":{"sport":[0-9]*,"dport":[0-9]*' || true)
  theirs=$(tshark -r "$work/sub38.pcap" -T fields -e tcp.srcport -e tcp.dstport 2> /dev/null |
    grep -c $'^[0-9]\+\t[0-9]\+$' || true)
  dump=$(tcpdump -nr "$work/sub38.pcap" 2> /dev/null |
    grep -c 'IP [0-9.]*\.[0-9]* > [0-9.]*\.[0-9]*: .*|tcp' || true)
  echo "  TCP packets in the file: $tcp (IPv6 ones keep no TCP byte at 38)"
  echo "  with both ports: netres $ours, tshark $theirs, tcpdump $dump"
  if [[ -n ${BEFORE:-} ]]; then
    echo "  with both ports, $BEFORE: $("$BEFORE" capture -r "$work/sub38.pcap" --json \
      2> /dev/null | grep -c '"tcp":{"sport":[0-9]*,"dport":[0-9]*' || true)"
  fi
  echo "== decode + one line per packet of the cut file ($N packets), $RUNS interleaved rounds"
  local r
  for r in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %U %S" -a -o "$work/t.netres" "$netres" capture -r "$work/cut38.pcap" \
      > /dev/null 2>&1
    /usr/bin/time -f "%e %U %S" -a -o "$work/t.tcpdump" env TZ=UTC tcpdump -nr \
      "$work/cut38.pcap" > /dev/null 2>&1
  done
  /usr/bin/python3 - "$work" <<'PY'
import statistics, sys
for name, label in (("netres", "netres capture -r cut38.pcap"),
                    ("tcpdump", "TZ=UTC tcpdump -nr cut38.pcap")):
    runs = [list(map(float, line.split())) for line in open(f"{sys.argv[1]}/t.{name}")]
    wall = [r[0] for r in runs]
    cpu = [r[1] + r[2] for r in runs]
    print(f"  {label:32} wall {statistics.median(wall):.2f} s ({min(wall):.2f}-{max(wall):.2f})"
          f"  CPU {statistics.median(cpu):.2f} s ({min(cpu):.2f}-{max(cpu):.2f})")
PY
}
build_arg=${1:-}
if [[ " $PARTS " != *" offline "* ]]; then
  truncated_part
  live_part
  exit 0
fi

mixed_pcap "$work/mixed.pcap" "$N"
mixed_pcap "$work/sub.pcap" "$SUB"

scapy_seconds() {
  /usr/bin/python3 - "$work/sub.pcap" "$1" <<'PY'
import sys, time
from scapy.all import rdpcap, TCP
path, filtered = sys.argv[1], sys.argv[2] == "filter"
start = time.perf_counter()
with open("/dev/null", "w") as out:
    for p in rdpcap(path):
        if filtered and not (TCP in p and 80 in (p[TCP].sport, p[TCP].dport)):
            continue
        out.write(p.summary() + "\n")
print(time.perf_counter() - start)
PY
}

report() {  # label seconds packets
  printf "  %-34s %8.2f s  %10.0f packets/s\n" "$1" "$2" "$(echo "$3 / $2" | bc -l)"
}

for mode in all filter; do
  if [[ $mode == all ]]; then
    echo "== decode + one line per packet, no filter ($N packets)"
    bpf=(); dfilter=()
  else
    echo "== with filter 'tcp and port 80'"
    bpf=(tcp and port 80); dfilter=(-Y "tcp.port == 80")
  fi
  t_netres=$(best_of "$netres" capture -r "$work/mixed.pcap" "${bpf[@]}")
  t_tcpdump=$(best_of env TZ=UTC tcpdump -nr "$work/mixed.pcap" "${bpf[@]}")
  t_tshark=$(seconds tshark -n -r "$work/mixed.pcap" "${dfilter[@]}")
  t_scapy=$(echo "$(scapy_seconds $mode) * $N / $SUB" | bc -l)
  report "netres capture -r" "$t_netres" "$N"
  report "TZ=UTC tcpdump -nr" "$t_tcpdump" "$N"
  report "tshark -r" "$t_tshark" "$N"
  report "scapy rdpcap+summary (x10 scaled)" "$t_scapy" "$N"
  printf "  netres is %.1fx tcpdump, %.1fx tshark, %.1fx scapy (packets/s ratios)\n" \
    "$(echo "$t_tcpdump / $t_netres" | bc -l)" "$(echo "$t_tshark / $t_netres" | bc -l)" \
    "$(echo "$t_scapy / $t_netres" | bc -l)"
done

truncated_part
live_part
