#!/usr/bin/env bash
# netres bandwidth against tshark's conversation tables on pcaps of 1,000,000 mixed packets
# (bench/capture_gen.py): the usual one (about 3,000 conversations) and one with 116,192
# flows, more than the live table holds (--max-flows default 100000).
#
# First the answer: on the many-flows file, every TCP and UDP conversation of tshark
# (-z conv,tcp -z conv,udp) must have a netres row with the same packets and bytes each way,
# and the rows must add up to the file's bytes; with --max-flows 100000 (a bound the user
# sets), the rows plus the "other / evicted" row must still add up.
# Then the cost: RUNS (default 3) interleaved rounds of every command; per command the median,
# min and max of wall time, CPU time (user + sys) and peak RSS.
# BEFORE=path/to/an/older/netres also checks that binary's answer (with its own defaults).
# Run as: flock /tmp/netres-bench.lock bench/bandwidth.sh [build-dir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
bench_init bandwidth "${1:-}"
N=${N:-1000000}
RUNS=${RUNS:-3}
TSHARK_OPTS=(-q -o tcp.desegment_tcp_streams:FALSE -z conv,tcp -z conv,udp)

mixed_pcap "$work/mixed.pcap" "$N"
/usr/bin/python3 "$here/capture_gen.py" "$work/flows.pcap" "$N" 144000

echo "== the answer: per-conversation totals on the file with more flows than the live table"
tshark -r "$work/flows.pcap" "${TSHARK_OPTS[@]}" > "$work/tshark.txt" 2> /dev/null
check() {  # netres-binary
  "$1" bandwidth -r "$work/flows.pcap" --by flow --json > "$work/netres.json" 2> /dev/null
  "$1" bandwidth -r "$work/flows.pcap" --by flow --json --max-flows 100000 \
    > "$work/bounded.json" 2> /dev/null
  /usr/bin/python3 - "$work/netres.json" "$work/bounded.json" "$work/tshark.txt" \
    "$work/flows.pcap" <<'EOF'
import json, os, re, struct, sys

def rows(path):
    objs = [json.loads(line) for line in open(path)]
    return objs[:-1], objs[-1]

mine, summary = rows(sys.argv[1])
bounded, bsummary = rows(sys.argv[2])
bsummary.setdefault("non_ip_bytes", 0)  # older binaries had no such field
summary.setdefault("non_ip_bytes", 0)
scale = {"bytes": 1, "kB": 1000, "MB": 1000000}
row = re.compile(r"^(\S+)\s+<->\s+(\S+)\s+(\d+) (\d+) (\w+)\s+(\d+) (\d+) (\w+)")
theirs, section, rounded = {}, None, 0
for line in open(sys.argv[3]):
    if line.rstrip().endswith("Conversations"):
        section = line.split()[0].lower()
    m = row.match(line)
    if not m or section is None:
        continue
    a, b = m.group(1), m.group(2)
    if m.group(5) != "bytes" or m.group(8) != "bytes":
        rounded += 1
    theirs[(section, frozenset((a, b)))] = {
        b: (int(m.group(3)), int(m.group(4)) * scale[m.group(5)]),
        a: (int(m.group(6)), int(m.group(7)) * scale[m.group(8)])}
ours = {}
for r in mine:
    if r.get("proto") not in ("tcp", "udp"):
        continue
    # tshark writes IPv6 endpoints without brackets too: "2001:db8::1:40000".
    a, b = f"{r['a']}:{r['a_port']}", f"{r['b']}:{r['b_port']}"
    ours[(r["proto"], frozenset((a, b)))] = {a: (r["packets_a_to_b"], r["bytes_a_to_b"]),
                                            b: (r["packets_b_to_a"], r["bytes_b_to_a"])}
count = lambda d, p: sum(1 for k in d if k[0] == p)
same = sum(1 for k, v in theirs.items() if ours.get(k) == v)
file_bytes = os.path.getsize(sys.argv[4]) - 24 - 16 * summary["packets"]
print(f"  flows: netres {len(mine)} rows ({count(ours, 'tcp')} tcp, {count(ours, 'udp')} udp), "
      f"evicted {summary['evicted']}; tshark {count(theirs, 'tcp')} tcp, "
      f"{count(theirs, 'udp')} udp conversations")
print(f"  conversations with the same packets and bytes both ways: {same} of {len(theirs)}"
      f" (tshark rounded {rounded} byte counts)")
print(f"  bytes: file {file_bytes}, netres total {summary['bytes']}, rows "
      f"{sum(r['bytes'] for r in mine)} + non-IP {summary['non_ip_bytes']}")
other = [r for r in bounded if r["type"] == "other"]
flows = [r for r in bounded if r["type"] == "flow"]
print(f"  --max-flows 100000: {len(flows)} rows with {sum(r['bytes'] for r in flows)} bytes, "
      f"'other / evicted' ({bsummary['evicted']} flows) {other[0]['bytes'] if other else 0}, "
      f"non-IP {bsummary['non_ip_bytes']}; total {bsummary['bytes']}")
ok = (same == len(theirs) == count(ours, "tcp") + count(ours, "udp") and summary["evicted"] == 0
      and sum(r["bytes"] for r in mine) + summary["non_ip_bytes"] == summary["bytes"] == file_bytes
      and sum(r["bytes"] for r in flows) + (other[0]["bytes"] if other else 0)
      + bsummary["non_ip_bytes"] == bsummary["bytes"])
print("  ANSWERS AGREE" if ok else "  ANSWERS DIFFER")
EOF
}
if [[ -n ${BEFORE:-} ]]; then
  echo "  -- before ($BEFORE):"
  check "$BEFORE" || true
  echo "  -- now:"
fi
check "$netres"

echo "== cost: $RUNS interleaved rounds"
for _ in $(seq "$RUNS"); do
  measure a "$netres" bandwidth -r "$work/mixed.pcap" --by flow --json
  measure b "$netres" bandwidth -r "$work/flows.pcap" --by flow --json
  measure c "$netres" bandwidth -r "$work/flows.pcap" --by flow --json --max-flows 100000
  measure d "$netres" bandwidth -r "$work/flows.pcap" --by host
  measure e tshark -r "$work/flows.pcap" "${TSHARK_OPTS[@]}"
done
timing_table 62 \
  "a=netres bandwidth -r mixed.pcap --by flow --json (3,072 flows)" \
  "b=netres bandwidth -r flows.pcap --by flow --json (every flow)" \
  "c=netres ... flows.pcap --by flow --json --max-flows 100000" \
  "d=netres bandwidth -r flows.pcap --by host (table)" \
  "e=tshark -q -z conv,tcp -z conv,udp flows.pcap"
