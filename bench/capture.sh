#!/usr/bin/env bash
# netres capture against tcpdump, tshark and scapy on the same pcap of 1,000,000 mixed packets:
# decode and print one line per packet to /dev/null, without a filter and with 'tcp and port 80'.
# scapy (rdpcap + summary) runs on the first 100,000 packets and is scaled. Prints packets per
# second and ratios. Then the live part, bench/capture_live.sh: netres capture -w against
# tcpdump -w under iperf3 load on a veth pair, kernel drops and CPU.
# Run as: flock /tmp/netres-bench.lock bench/capture.sh [build-dir]
# PARTS="offline live" (the default) chooses the parts.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
bench_init capture "${1:-}"
PARTS=${PARTS:-offline live}
N=1000000
SUB=100000

live_part() {
  if [[ " $PARTS " == *" live "* ]]; then "$here/capture_live.sh" "$build_arg"; fi
}
build_arg=${1:-}
if [[ " $PARTS " != *" offline "* ]]; then
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

live_part
