#!/usr/bin/env python3
"""A DNS server for benchmarks that answers every query after a fixed delay (20 ms by default),
all of them concurrently: a stand-in for a slow upstream, where only queries in flight help.

Answers any A query with 10.0.0.1 (TTL 60); other types get NOERROR without records. Listens on
127.0.0.1 only and exits by itself after --lifetime seconds, so a forgotten one cannot linger.
"""
import argparse
import asyncio
import socket
import struct


def reply_for(query):
    if len(query) < 17:
        return None
    end = 12
    while end < len(query) and query[end] != 0:  # uncompressed question name
        end += 1 + query[end]
    end += 5  # root label, type, class
    if end > len(query):
        return None
    qtype = struct.unpack(">H", query[end - 4:end - 2])[0]
    answer = b""
    if qtype == 1:
        answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 0, 0, 1])
    header = query[:2] + struct.pack(">HHHHH", 0x8180, 1, 1 if answer else 0, 0, 0)
    return header + query[12:end] + answer


class SlowDns(asyncio.DatagramProtocol):
    def __init__(self, delay):
        self.delay = delay
        self.transport = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport):
        self.transport = transport
        # asyncio reads one datagram per wakeup; a deep buffer keeps bursts from being dropped.
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)

    def datagram_received(self, data, addr):
        reply = reply_for(data)
        if reply is not None:
            # Scheduled, not slept: thousands of delayed replies overlap.
            self.loop.call_later(self.delay, self.transport.sendto, reply, addr)


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.020, help="seconds before each answer")
    parser.add_argument("--lifetime", type=float, default=600, help="exit after this many seconds")
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: SlowDns(args.delay), local_addr=("127.0.0.1", args.port))
    try:
        await asyncio.sleep(args.lifetime)
    finally:
        transport.close()


if __name__ == "__main__":
    asyncio.run(main())
