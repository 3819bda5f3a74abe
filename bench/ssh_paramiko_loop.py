#!/usr/bin/python3
"""The peer netres ssh replaces: a sequential paramiko loop (strict known_hosts, no AutoAdd).
Usage: ssh_paramiko_loop.py HOSTS_FILE KEY KNOWN_HOSTS COMMAND; HOSTS_FILE lines user@addr:port."""
import sys

import paramiko


def main():
    hosts_file, key_file, known_hosts, command = sys.argv[1:5]
    key = paramiko.Ed25519Key.from_private_key_file(key_file)
    failures = 0
    with open(hosts_file) as f:
        specs = [l.strip() for l in f if l.strip()]
    for spec in specs:
        user, hostport = spec.split("@")
        host, port = hostport.rsplit(":", 1)
        client = paramiko.SSHClient()
        client.load_host_keys(known_hosts)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(host, int(port), username=user, pkey=key, timeout=10,
                           allow_agent=False, look_for_keys=False)
            _, out, _ = client.exec_command(command, timeout=30)
            text = out.read().decode()
            if out.channel.recv_exit_status() != 0:
                failures += 1
            print(f"{spec} | {text.strip()}")
        except Exception as e:  # one host's failure must not stop the loop
            failures += 1
            print(f"{spec} ! {e}", file=sys.stderr)
        finally:
            client.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
