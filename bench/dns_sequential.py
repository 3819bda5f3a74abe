#!/usr/bin/env python3
"""The baseline a Python user would write: one hand-built UDP DNS query at a time, waiting for
each answer before sending the next (socket.gethostbyname cannot target a chosen server).

Usage: dns_sequential.py HOST PORT NAMES_FILE COUNT  -> prints "<answered> <seconds>"
"""
import random
import socket
import struct
import sys
import time


def query(name, qid):
    wire = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + b"\0\0\x01\0\x01"


def main():
    host, port, names_file, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    with open(names_file) as f:
        names = [line.strip() for line in f if line.strip()][:count]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2.0)  # bounded: a lost reply costs at most this
    sock.connect((host, port))
    answered = 0
    start = time.perf_counter()
    for name in names:
        qid = random.randint(0, 0xFFFF)
        sock.send(query(name, qid))
        try:
            while True:
                reply = sock.recv(4096)
                if reply[:2] == struct.pack(">H", qid):
                    answered += 1
                    break
        except socket.timeout:
            pass
    print(answered, time.perf_counter() - start)


if __name__ == "__main__":
    main()
