#!/usr/bin/python3
"""bench/ssh.sh copy's engine: one 50 MB file up and down with `netres ssh copy` (verified by
sha256sum, its default, and with --no-checksum) and with scp (OpenSSH 9.2: SFTP protocol, 64
requests in flight), against OpenSSH's sshd and dropbear on 127.0.0.1. The runs of all tools
are interleaved (tool A, tool B, ..., then again) so a busy machine hurts them alike. Prints
min / median / max wall time and the median client CPU (user+sys, RUSAGE_CHILDREN) per tool.

scp logs in to dropbear with the test user's password through SSH_ASKPASS (dropbear takes no
authorized_keys path, and the test user's home is left alone)."""
import argparse
import os
import statistics
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import sshd  # noqa: E402
from dropbear import DropbearServer  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "bench"))
from ssh_bench import measure, workdir, write_client_files  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--netres", required=True)
    p.add_argument("--mb", type=int, default=50)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--no-dropbear", action="store_true")
    args = p.parse_args()
    with workdir("netres-bench-copy-") as (tmp, servers):
        sshd.ensure_test_user()
        password = sshd.test_user_password()
        key = sshd.make_key(os.path.join(tmp, "id_ed25519"))
        os.makedirs(os.path.join(tmp, "sshd"))
        openssh = sshd.SshdServer(26250, "127.0.0.1", workdir=os.path.join(tmp, "sshd"))
        servers.append(openssh)
        openssh.authorize(key + ".pub")
        openssh.start()
        targets = [("OpenSSH 9.2 sshd", openssh)]
        if not args.no_dropbear and os.path.exists("/usr/sbin/dropbear"):
            # Its default 24 KB receive window (-W) is kept: what users meet; it caps any
            # client's upload rate alike.
            db = DropbearServer(26251, "127.0.0.1")
            servers.append(db)
            db.start()
            targets.append(("dropbear 2022.83", db))
        kh, cfg = write_client_files(tmp, [s for _, s in targets], key, batch=False)
        askpass = os.path.join(tmp, "askpass.sh")
        with open(askpass, "w") as f:
            f.write('#!/bin/sh\nprintf "%s\\n" "$BENCH_PASSWORD"\n')
        os.chmod(askpass, 0o700)
        src = os.path.join(tmp, "payload.bin")
        with open(src, "wb") as f:
            for _ in range(args.mb):
                f.write(os.urandom(1_000_000))
        remote = os.path.join(tmp, "remote")
        os.makedirs(remote)
        os.chmod(remote, 0o777)
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": home, "LANG": "C.UTF-8",
               "NETRES_SSH_PASSWORD": password, "BENCH_PASSWORD": password,
               "SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}
        for label, s in targets:
            remote_file = os.path.join(remote, "payload.bin")
            spec = f"{sshd.TEST_USER}@{s.address}:{s.port}"
            nr = [args.netres, "ssh", "copy", "-F", cfg, "--known-hosts", kh, spec]
            scp = ["scp", "-q", "-F", cfg, "-P", str(s.port)]
            down = os.path.join(tmp, "down")
            tools = [
                ("scp upload", scp + [src, f"{s.address}:{remote}/"]),
                ("netres upload (sha256 verified)", nr + ["--put", src, "--to", remote + "/"]),
                ("netres upload --no-checksum",
                 nr + ["--put", src, "--to", remote + "/", "--no-checksum"]),
                ("scp download", scp + [f"{s.address}:{remote_file}", down + ".scp"]),
                ("netres download (sha256 verified)", nr + ["--get", remote_file, "--to", down]),
                ("netres download --no-checksum",
                 nr + ["--get", remote_file, "--to", down, "--no-checksum"]),
            ]
            results = {name: ([], []) for name, _ in tools}
            for _ in range(args.runs):
                for name, cmd in tools:
                    w, c = measure(cmd, env)
                    results[name][0].append(w)
                    results[name][1].append(c)
            print(f"  {label}: " + "; ".join(f"{n}: {[round(w, 2) for w in results[n][0]]}"
                                             for n, _ in tools), file=sys.stderr)
            print(f"\n{args.mb} MB, {label} on 127.0.0.1, {args.runs} interleaved runs\n")
            print("| client | wall min | wall median | wall max | vs scp (median) | "
                  "client CPU (median) |")
            print("|---|---|---|---|---|---|")
            for name, _ in tools:
                walls, cpus = results[name]
                base = statistics.median(results["scp " + ("upload" if "upload" in name
                                                           else "download")][0])
                med = statistics.median(walls)
                print(f"| {name} | {min(walls):.2f} s | {med:.2f} s | {max(walls):.2f} s | "
                      f"{med / base:.2f}x | {statistics.median(cpus):.2f} s |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
