#!/usr/bin/env bash
# What shards and `netres merge` cost. bandwidth: a pcap of 1,000,000 packets with 116,192 flows
# (bench/capture_gen.py) cut by editcap into 3 files in time order; one run over the 3 files,
# the same with --results (the per-second bins it keeps), the 3 shards (--shard K/3 --results),
# and the merge of their files. scan: merging 3 shard files of a 65,535-port scan (written by
# this script in the results format: the cost is the merge's, no traffic is sent).
# First the answers (merged output == one run's), then RUNS (default 3) interleaved rounds; per
# command the median, min and max of wall time, CPU time (user + sys) and peak RSS.
# Run as: flock /tmp/netres-bench.lock bench/merge.sh [build-dir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
bench_init merge "${1:-}"
N=${N:-1000000}
RUNS=${RUNS:-3}

/usr/bin/python3 "$here/capture_gen.py" "$work/flows.pcap" "$N" 144000
editcap -c $(((N + 2) / 3)) "$work/flows.pcap" "$work/part.pcap" > /dev/null
mapfile -t parts < <(ls "$work"/part_*.pcap)
reads=()
for p in "${parts[@]}"; do reads+=(-r "$p"); done
# The 3 shards one after the other (a script, so /usr/bin/time can run it): bw-1..3.json.
{
  for k in 1 2 3; do
    printf '%q ' "$netres" bandwidth "${reads[@]}" --by flow --json --shard "$k/3" \
      --results "$work/bw-$k.json"
    echo '> /dev/null'
  done
} > "$work/shards.sh"
shards() { bash "$work/shards.sh"; }

# 3 scan shards of 65535 ports of one host (open every 100th port, filtered every 7th).
/usr/bin/python3 - "$work" <<'PY'
import json, sys
job = {"scan": "tcp-connect", "targets": ["198.18.40.2"], "excludes": [], "ports": "1-65535",
       "seed": 0, "banner": False, "retries": 1, "timeout": "adaptive", "open_only": False}
for k in range(1, 4):
    rows = []
    for port in range(k, 65536, 3):
        if port % 100 == 0:
            rows.append([port, "open", "syn-ack", 0.05, 1])
        elif port % 7 == 0:
            rows.append([port, "filtered", "no-response", None, 2])
        else:
            rows.append([port, "closed", "conn-refused", 0.031, 1])
    data = {"hosts": 1, "ports": 65535, "pairs": len(rows), "attempts": len(rows),
            "elapsed_ms": 500.0, "timeout_ms": 50.0, "seed": 0, "banner": False,
            "open_only": False, "unresolved": [], "interrupted": False,
            "open": 0, "closed": 0, "filtered": 0,
            "results": [{"address": "198.18.40.2", "ports": rows}]}
    doc = {"netres_results": 1, "verb": "scan", "shard": f"{k}/3", "job": job, "data": data}
    json.dump(doc, open(f"{sys.argv[1]}/scan-{k}.json", "w"))
PY

echo "== the answers"
shards
"$netres" bandwidth "${reads[@]}" --by flow --json > "$work/one.json" 2> /dev/null
"$netres" merge --json "$work"/bw-{1,2,3}.json > "$work/merged.json" 2> /dev/null
if cmp -s "$work/one.json" "$work/merged.json"; then
  echo "  bandwidth: merged NDJSON == one run's ($(($(wc -l < "$work/one.json") - 1)) flows)"
else
  echo "  bandwidth: MERGED OUTPUT DIFFERS"
fi
"$netres" merge "$work"/scan-{1,2,3}.json > "$work/scan.txt" 2> /dev/null
echo "  scan: $(grep -c '/tcp' "$work/scan.txt") rows listed in the merged table"
echo "  results files: bandwidth $(du -cb "$work"/bw-*.json | tail -1 | cut -f1) bytes for 3" \
  "shards (pcaps: $(du -cb "${parts[@]}" | tail -1 | cut -f1) bytes); scan $(du -cb \
  "$work"/scan-*.json | tail -1 | cut -f1) bytes for 65535 ports"

echo "== cost: $RUNS interleaved rounds"
for _ in $(seq "$RUNS"); do
  measure a "$netres" bandwidth "${reads[@]}" --by flow --json
  measure b "$netres" bandwidth "${reads[@]}" --by flow --json --results "$work/one-results.json"
  measure c bash "$work/shards.sh"
  measure d "$netres" merge --json "$work"/bw-{1,2,3}.json
  measure e "$netres" merge "$work"/scan-{1,2,3}.json
done
timing_table 54 \
  "a=netres bandwidth -r x3 --by flow --json (one run)" \
  "b=the same with --results" \
  "c=3 shards --shard K/3 --results, one after the other" \
  "d=netres merge --json of the 3 bandwidth files" \
  "e=netres merge of 3 scan files (65,535 ports)"
