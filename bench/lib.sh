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
