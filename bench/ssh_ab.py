#!/usr/bin/env python3
"""Two netres binaries on the same `netres ssh run` work, interleaved: 50 inventory entries
served by 50 local sshd instances (127.0.1.x, loopback only, curve25519), the config of
bench/ssh.sh (IdentitiesOnly, UserKnownHostsFile, StrictHostKeyChecking yes). Prints min /
median / max of wall time and of client CPU per host for each binary, to catch a per-host cost
that one change added.
    flock /tmp/netres-bench.lock bench/ssh_ab.py BASE_NETRES NEW_NETRES [--runs 9]"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ssh_bench  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("new")
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--hosts", type=int, default=50)
    args = p.parse_args()
    n = args.hosts
    with ssh_bench.workdir("netres-bench-ssh-ab-") as (tmp, servers):
        key, kh, cfg = ssh_bench.start_farm(tmp, n, ssh_bench.CURVE, servers)
        inv = os.path.join(tmp, "inventory.yml")
        ssh_bench.write_inventory(inv, servers, key)
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": home, "LANG": "C.UTF-8"}
        results = {"base": [], "new": []}
        for _ in range(args.runs):
            for name, binary in (("base", args.base), ("new", args.new)):
                cmd = [binary, "ssh", "run", "-i", inv, "-F", cfg, "--known-hosts", kh,
                       "--forks", str(n), "--", "uname", "-a"]
                results[name].append(ssh_bench.measure(cmd, env, n))
        for name, runs in results.items():
            walls = sorted(w for w, _ in runs)
            cpus = sorted(c * 1000 / n for _, c in runs)
            print(f"{name}: wall {walls[0]:.2f} / {statistics.median(walls):.2f} / "
                  f"{walls[-1]:.2f} s, CPU per host {cpus[0]:.2f} / "
                  f"{statistics.median(cpus):.2f} / {cpus[-1]:.2f} ms (min / median / max, "
                  f"{args.runs} runs)")


if __name__ == "__main__":
    main()
