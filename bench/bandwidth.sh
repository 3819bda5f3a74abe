#!/usr/bin/env bash
# netres bandwidth against tshark's conversation tables on the same pcap of 1,000,000 mixed
# packets (bench/capture_gen.py): per-flow totals (netres bandwidth -r --by flow) vs
# tshark -q -z conv,tcp -z conv,udp. Checks both found the same number of TCP and UDP
# conversations, prints seconds, packets/s and the ratio.
# Run as: flock /tmp/netres-bench.lock bench/bandwidth.sh [build-dir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
bench_init bandwidth "${1:-}"
N=1000000

mixed_pcap "$work/mixed.pcap" "$N"

report() {  # label seconds
  printf "  %-58s %8.2f s  %10.0f packets/s\n" "$1" "$2" "$(echo "$N / $2" | bc -l)"
}

# Same answer first: conversation counts per protocol.
"$netres" bandwidth -r "$work/mixed.pcap" --by flow --json > "$work/netres.json"
tshark -q -r "$work/mixed.pcap" -z conv,tcp -z conv,udp -o tcp.desegment_tcp_streams:FALSE \
  > "$work/tshark.txt" 2>/dev/null
n_tcp=$(grep -c '"proto":"tcp".*"type":"flow"' "$work/netres.json" || true)
n_udp=$(grep -c '"proto":"udp".*"type":"flow"' "$work/netres.json" || true)
t_tcp=$(awk '/Conversations/{s=($1=="TCP")} s && /<->/' "$work/tshark.txt" | wc -l)
t_udp=$(awk '/Conversations/{s=($1=="UDP")} s && /<->/' "$work/tshark.txt" | wc -l)
echo "== conversations: netres tcp $n_tcp udp $n_udp; tshark tcp $t_tcp udp $t_udp"

echo "== per-flow totals of $N packets"
t_netres=$(best_of "$netres" bandwidth -r "$work/mixed.pcap" --by flow --json)
t_netres_text=$(best_of "$netres" bandwidth -r "$work/mixed.pcap" --by host)
t_tshark=$(seconds tshark -q -r "$work/mixed.pcap" -z conv,tcp -z conv,udp \
  -o tcp.desegment_tcp_streams:FALSE)
t_tshark_tcp=$(seconds tshark -q -r "$work/mixed.pcap" -z conv,tcp \
  -o tcp.desegment_tcp_streams:FALSE)
report "netres bandwidth -r --by flow --json" "$t_netres"
report "netres bandwidth -r --by host" "$t_netres_text"
report "tshark -q -z conv,tcp -z conv,udp (no desegmentation)" "$t_tshark"
report "tshark -q -z conv,tcp (no desegmentation)" "$t_tshark_tcp"
printf "  netres --by flow is %.1fx tshark conv,tcp+conv,udp and %.1fx tshark conv,tcp\n" \
  "$(echo "$t_tshark / $t_netres" | bc -l)" "$(echo "$t_tshark_tcp / $t_netres" | bc -l)"

echo "== bounded table: --max-flows 1000 on the same file"
t_small=$(best_of "$netres" bandwidth -r "$work/mixed.pcap" --by flow --max-flows 1000 --json)
report "netres bandwidth -r --by flow --max-flows 1000" "$t_small"
"$netres" bandwidth -r "$work/mixed.pcap" --by flow --max-flows 1000 --json | tail -1
