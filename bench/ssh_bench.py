#!/usr/bin/python3
"""bench/ssh.sh's engine: N inventory entries served by N local sshd instances on 127.0.1.x,
`uname -a` on all of them with netres, parallel-ssh, ansible (one-shot, no ControlPersist) and
a sequential paramiko loop; median wall time and client CPU (user+sys of the client process and
its waited-for children, from RUSAGE_CHILDREN). Run twice: servers' default KexAlgorithms and
curve25519 only. Prints a Markdown table per configuration."""
import argparse
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import sshd  # noqa: E402

CURVE = "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org"


def measure(cmd, env, expect_lines=0):
    """Runs cmd once: (wall seconds, client CPU seconds: user+sys of it and its children).
    Fails unless it exits 0 and, when expect_lines > 0, prints that many `uname -a` lines."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    linux_lines = sum(1 for line in r.stdout.splitlines() if "Linux" in line)
    if r.returncode != 0 or linux_lines < expect_lines:
        raise RuntimeError(f"{' '.join(cmd)} failed (rc {r.returncode}, {linux_lines} outputs):\n"
                           f"{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return wall, cpu


def start_farm(tmp, hosts, kex_line, servers):
    """Starts `hosts` sshd servers on 127.0.1.1.. (ports 26301..), appending each to `servers`
    (the caller cleans them up, even after a failure here), with one client key authorized,
    a known_hosts file for all of them and an ssh_config that uses both strictly.
    Returns (key, known_hosts, ssh_config)."""
    sshd.ensure_test_user()
    key = sshd.make_key(os.path.join(tmp, "id_ed25519"))
    for i in range(1, hosts + 1):
        s = sshd.SshdServer(26300 + i, f"127.0.1.{i}", extra_config=kex_line,
                            workdir=tempfile.mkdtemp(prefix=f"srv{i}-", dir=tmp))
        servers.append(s)
        s.authorize(key + ".pub")
        s.start()
    kh, cfg = write_client_files(tmp, servers, key)
    return key, kh, cfg


@contextlib.contextmanager
def workdir(prefix):
    """A temporary directory (mode 755: sshd checks the path to its files) and a list for the
    servers started in it. On leaving, every server in the list is cleaned up and the directory
    removed, after a failure too."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)
    servers = []
    try:
        yield tmp, servers
    finally:
        for s in servers:
            s.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def write_client_files(tmp, servers, key, batch=True):
    """known_hosts for `servers` and an ssh_config for the benchmark's clients: the test user,
    only `key`, those host keys strictly, no connection sharing (every run pays its own
    handshake). BatchMode (no prompts) unless `batch` is False: scp's password to dropbear comes
    through SSH_ASKPASS. Returns (known_hosts, ssh_config)."""
    kh = os.path.join(tmp, "known_hosts")
    with open(kh, "w") as f:
        for s in servers:
            f.write(s.known_hosts_line())
    cfg = os.path.join(tmp, "ssh_config")
    with open(cfg, "w") as f:
        f.write(f"Host *\n  User {sshd.TEST_USER}\n  IdentityFile {key}\n"
                f"  IdentitiesOnly yes\n  UserKnownHostsFile {kh}\n"
                "  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n"
                + ("  BatchMode yes\n" if batch else "") +
                "  ControlMaster no\n  ControlPath none\n  ControlPersist no\n")
    return kh, cfg


def write_inventory(path, servers, key):
    """An Ansible YAML inventory of the farm (h1.. with address, port, user and key)."""
    with open(path, "w") as y:
        y.write(f"all:\n  vars:\n    ansible_user: {sshd.TEST_USER}\n"
                f"    ansible_ssh_private_key_file: {key}\n  hosts:\n")
        for i, s in enumerate(servers, 1):
            y.write(f"    h{i}:\n      ansible_host: {s.address}\n      ansible_port: {s.port}\n")


def run_config(args, kex_line, label):
    with workdir("netres-bench-ssh-") as (tmp, servers):
        key, kh, cfg = start_farm(tmp, args.hosts, kex_line, servers)
        hosts_txt = os.path.join(tmp, "hosts.txt")
        inv_yml = os.path.join(tmp, "inventory.yml")
        inv_ini = os.path.join(tmp, "inventory.ini")
        write_inventory(inv_yml, servers, key)
        with open(hosts_txt, "w") as h, open(inv_ini, "w") as ini:
            ini.write("[all:vars]\nansible_python_interpreter=/usr/bin/python3\n[all]\n")
            for i, s in enumerate(servers, 1):
                h.write(f"{sshd.TEST_USER}@{s.address}:{s.port}\n")
                ini.write(f"h{i} ansible_host={s.address} ansible_port={s.port}\n")
        home = os.path.join(tmp, "home")
        os.makedirs(home, exist_ok=True)
        env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": home, "LANG": "C.UTF-8"}
        ansible_env = dict(env, ANSIBLE_SSH_ARGS=f"-F {cfg}", ANSIBLE_PIPELINING="True",
                           ANSIBLE_HOST_KEY_CHECKING="True", ANSIBLE_GATHERING="explicit",
                           ANSIBLE_LOCAL_TEMP=os.path.join(tmp, "ansible-tmp"),
                           ANSIBLE_NOCOLOR="1")
        n = args.hosts
        tools = [
            ("netres", [args.netres, "ssh", "run", "-i", inv_yml, "-F", cfg, "--known-hosts",
                        kh, "--forks", str(n), "--", "uname", "-a"], env),
            ("parallel-ssh", ["parallel-ssh", "-h", hosts_txt, "-p", str(n), "-t", "60",
                              "-x", f"-F {cfg}", "-i", "uname -a"], env),
            ("ansible", ["ansible", "all", "-i", inv_ini, "-m", "command", "-a", "uname -a",
                         "-f", str(n), "-u", sshd.TEST_USER, "--private-key", key], ansible_env),
            ("paramiko loop", ["/usr/bin/python3", os.path.join(ROOT, "bench",
                                                                "ssh_paramiko_loop.py"),
                               hosts_txt, key, kh, "uname -a"], env),
        ]
        rows = []
        for name, cmd, e in tools:
            walls, cpus = [], []
            for _ in range(args.runs):
                w, c = measure(cmd, e, n)
                walls.append(w)
                cpus.append(c)
            rows.append((name, statistics.median(walls), statistics.median(cpus), walls))
            print(f"  {label}: {name}: wall {walls}, cpu {cpus}", file=sys.stderr)
        return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--netres", required=True)
    p.add_argument("--hosts", type=int, default=50)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    for tool in ("parallel-ssh", "ansible"):
        if not shutil.which(tool):
            sys.exit(f"bench/ssh.sh: {tool} not installed (packages pssh, ansible-core)")
    for label, kex in (("default KexAlgorithms", ""), ("curve25519 only", CURVE)):
        rows = run_config(args, kex, label)
        base = rows[0]
        print(f"\n{args.hosts} hosts, `uname -a`, servers with {label} "
              f"(median of {args.runs} runs)\n")
        print("| client | wall | vs netres | client CPU (user+sys) | CPU per host |")
        print("|---|---|---|---|---|")
        for name, wall, cpu, _ in rows:
            print(f"| {name} | {wall:.2f} s | {wall / base[1]:.1f}x | {cpu:.2f} s | "
                  f"{cpu / args.hosts * 1000:.1f} ms |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
