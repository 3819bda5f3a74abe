#!/usr/bin/env python3
"""Writes a pcap of N mixed Ethernet packets for bench/capture.sh, record by record with struct
(scapy would take minutes): TCP to port 80 with HTTP requests, other TCP, DNS over UDP, ICMP,
IPv6 TCP, ARP and VLAN-tagged UDP.  Usage: capture_gen.py OUT N [TEMPLATES]

Packets cycle through TEMPLATES distinct frames (default 4096: about 3,000 conversations); each
template has its own client address, so 144000 templates give 116,192 flows (more than
`netres bandwidth`'s live table holds).
"""
import struct
import sys


def ipv4(src, dst, proto, payload, ident):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64,
                       proto, 0, bytes(src), bytes(dst)) + payload


def tcp(sport, dport, seq, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 64240, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


ETH = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"
DNS_Q = (struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x03www\x07example\x03com\x00"
         + struct.pack("!HH", 1, 1))
HTTP = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\n\r\n"
ARP = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02\0\0\0\0\x01", bytes([10, 0, 0, 1]),
                  b"\0" * 6, bytes([10, 0, 0, 2]))


def frame(i):
    # Clients past the first 65536 go to 10.2.x.y, 10.4.x.y, ...: never the server 10.1.0.2.
    a, b = [10, (i >> 16) * 2 & 255, (i >> 8) & 255, i & 255], [10, 1, 0, 2]
    kind = i % 8
    if kind == 0:
        return ETH + b"\x08\x00" + ipv4(a, b, 6, tcp(40000 + i % 20000, 80, i, 0x18, HTTP), i)
    if kind == 1:
        return ETH + b"\x08\x00" + ipv4(b, a, 6, tcp(80, 40000 + i % 20000, i, 0x10), i)
    if kind == 2:
        return ETH + b"\x08\x00" + ipv4(a, b, 6, tcp(50000, 443, i, 0x02), i)
    if kind == 3:
        return ETH + b"\x08\x00" + ipv4(a, b, 17, udp(33000 + i % 1000, 53, DNS_Q), i)
    if kind == 4:
        return ETH + b"\x08\x00" + ipv4(a, b, 1, struct.pack("!BBHHH", 8, 0, 0, 7, i & 0xFFFF)
                                        + b"x" * 56, i)
    if kind == 5:
        src = b"\x20\x01\x0d\xb8" + b"\0" * 10 + struct.pack("!H", i & 0xFFFF)
        dst = b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x02"
        seg = tcp(40000, 8080, i, 0x10, b"y" * 100)
        return ETH + b"\x86\xdd" + struct.pack("!IHBB", 0x60000000, len(seg), 6, 64) + src + dst + seg
    if kind == 6:
        return ETH + b"\x08\x06" + ARP
    return ETH + b"\x81\x00\x00\x64\x08\x00" + ipv4(a, b, 17, udp(5000, 6000, b"v" * 40), i)


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
    templates = [frame(i) for i in range(count)]
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        records = []
        for i in range(n):
            data = templates[i % count]
            records.append(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000,
                                       len(data), len(data)))
            records.append(data)
            if len(records) >= 20000:
                f.write(b"".join(records))
                records.clear()
        f.write(b"".join(records))


if __name__ == "__main__":
    main()
