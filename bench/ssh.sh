#!/usr/bin/env bash
# netres ssh against its peers on the same work: `uname -a` on 50 inventory entries served by 50
# local sshd instances (127.0.1.1-50, loopback only), with netres, parallel-ssh, ansible
# (one-shot: ControlMaster/ControlPersist off, pipelining on) and a sequential paramiko loop.
# Wall time and client CPU, for the servers' default KexAlgorithms and for curve25519 only.
#   flock /tmp/netres-bench.lock bench/ssh.sh      (NETRES=path HOSTS=50 RUNS=3 to change)
# `bench/ssh.sh copy` instead: one 50 MB file up and down, netres ssh copy against scp, on
# OpenSSH's sshd and dropbear (bench/ssh_copy_bench.py; MB=50 RUNS=5 to change).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NETRES=${NETRES:-$ROOT/build/src/cli/netres}
[[ -x $NETRES ]] || { echo "bench/ssh.sh: no netres binary at $NETRES (set NETRES=)" >&2; exit 2; }
if [[ ${1:-} == copy ]]; then
  exec /usr/bin/python3 "$ROOT/bench/ssh_copy_bench.py" --netres "$NETRES" --mb "${MB:-50}" \
    --runs "${RUNS:-5}"
fi
exec /usr/bin/python3 "$ROOT/bench/ssh_bench.py" --netres "$NETRES" --hosts "${HOSTS:-50}" \
  --runs "${RUNS:-3}"
