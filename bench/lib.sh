# Shell helpers shared by the bench/*.sh scripts that time netres against its peers. Sourced,
# not run: `here=...; source "$here/lib.sh"`.

# bench_init NAME [BUILD_DIR]: sets `netres` (the binary of BUILD_DIR, default ../build) and
# `work` (a fresh /tmp/netres-bench-NAME.* directory); exits 2 when netres is not built.
# Everything in `work`, and whatever bench_on_exit registered, is removed on exit.
bench_init() {
  local name=$1 build=${2:-$here/../build}
  netres=$build/src/cli/netres
  [[ -x $netres ]] || { echo "build netres first (looked for $netres)" >&2; exit 2; }
  work=$(mktemp -d "/tmp/netres-bench-$name.XXXXXX")
  trap bench_cleanup EXIT
}

bench_exit_hooks=()
bench_on_exit() { bench_exit_hooks+=("$1"); }  # a command (one word) to run on exit, first
bench_cleanup() {
  local hook
  for hook in "${bench_exit_hooks[@]}"; do "$hook" || true; done
  [[ -n ${work:-} ]] && rm -rf "$work"
  return 0
}

# mixed_pcap PATH N: the benchmarks' pcap of N mixed Ethernet packets (bench/capture_gen.py).
mixed_pcap() {
  /usr/bin/python3 "$here/capture_gen.py" "$1" "$2"
}

# seconds CMD ARGS...: wall time of one run, output discarded.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

# best_of CMD ARGS...: the best of 3 runs' wall times (the machine is shared).
best_of() {
  local best=999999 t
  for _ in 1 2 3; do
    t=$(seconds "$@")
    best=$(echo "if ($t < $best) $t else $best" | bc -l)
  done
  echo "$best"
}

# measure LABEL CMD ARGS...: one run of CMD (output discarded); appends "wall cpu rss_kb" to
# $work/t.LABEL, CPU being user + system seconds.
measure() {
  local label=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.out" "$@" > /dev/null 2>&1
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/time.out" >> "$work/t.$label"
}

# timing_table WIDTH LABEL=TEXT...: a row per LABEL measured above, in the order given: TEXT
# (padded to WIDTH), wall and CPU seconds as median (min-max), median RSS in MB.
timing_table() {
  /usr/bin/python3 - "$work" "$@" <<'PY'
import statistics, sys
work, width = sys.argv[1], int(sys.argv[2])
labels = dict(arg.split("=", 1) for arg in sys.argv[3:])
print(f"  {'command':{width}} {'wall s med (min-max)':>22} {'CPU s med (min-max)':>22} "
      f"{'RSS MB med':>10}")
for key, label in labels.items():
    runs = [list(map(float, line.split())) for line in open(f"{work}/t.{key}")]
    def col(i):
        v = [r[i] for r in runs]
        return f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})"
    rss = statistics.median(r[2] for r in runs) / 1024
    print(f"  {label:{width}} {col(0):>22} {col(1):>22} {rss:10.1f}")
PY
}
