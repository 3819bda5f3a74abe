#!/usr/bin/env python3
"""netres capture -w through its writer thread: a stalled disk (a FIFO nobody reads yet) must not
stop the kernel ring from draining, a full write queue drops and counts packets (written +
dropped by write queue = captured, and the file holds exactly the written ones), a file read
offline waits instead of dropping, and a full disk without -U still ends with exit 3 and a
valid file.

Live traffic goes only to 198.18.31.2, inside the namespace this test creates, after
`ip route get` proved it leaves through our own veth.
"""
import fcntl
import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import netres, require_root, run  # noqa: E402
from live_capture import LiveCapture  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
from netns import NamespaceHost  # noqa: E402

NS = "netres-capw-t"
HOST_IF, NS_IF = "netres-capw0", "netres-capw1"
HOST_ADDR, NS_ADDR = "198.18.31.1", "198.18.31.2"


def stat(stderr, what):
    m = re.search(rf"^(\d+) packets {what}", stderr, re.M)
    assert m, f"no '{what}' in: {stderr}"
    return int(m.group(1))


def tcpdump_count(path):
    return len(run("tcpdump", "-nr", path).stdout.splitlines())


def send_udp(count, port, size):
    """Bursts of 20 datagrams 10 ms apart: ~2,000 a second, bounded by `count`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(count):
            sock.sendto(bytes([i % 256]) * size, (NS_ADDR, port))
            if i % 20 == 19:
                time.sleep(0.01)
    finally:
        sock.close()


class Fifo:
    """A FIFO standing for a disk that stalls: opened for reading before netres opens it for
    writing (so neither waits), and not read until drain() copies it into a file."""

    def __init__(self, directory, name):
        self.path = os.path.join(directory, name)
        self.copy = self.path + ".copy"
        os.mkfifo(self.path)
        self.fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        fcntl.fcntl(self.fd, fcntl.F_SETFL, 0)

    def drain(self, deadline_s=60):
        """Reads until netres closes it (EOF), within a bounded time."""
        end = time.monotonic() + deadline_s
        with open(self.copy, "wb") as out:
            sel = selectors.DefaultSelector()
            sel.register(self.fd, selectors.EVENT_READ)
            while time.monotonic() < end:
                if not sel.select(timeout=1):
                    continue
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                out.write(chunk)
            sel.close()
        os.close(self.fd)
        return self.copy


def write_pcap(path, count, size):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        frame = bytes(12) + b"\x08\x00" + bytes(size - 14)
        for i in range(count):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000000, i % 1000000, size, size))
            f.write(frame)


@require_root("ip")
class CaptureWriter(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_ADDR, NS_ADDR, 30).setup()
        cls.addClassCleanup(cls.host.teardown)
        # SAFETY: nothing is sent unless the target is reached through our own veth.
        cls.host.assert_routed_via_veth(NS_ADDR)
        send_udp(1, 9, 32)  # resolve the neighbour before anything is counted
        time.sleep(0.2)
        cls.dir = tempfile.mkdtemp(prefix="netres-capw-")

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["umount", os.path.join(cls.dir, "full")], capture_output=True)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def stalled_capture(self, name, port, count, *args):
        """Captures `count` datagrams of 1000 bytes into a FIFO read only after SIGINT."""
        fifo = Fifo(self.dir, name)
        cap = LiveCapture("-i", HOST_IF, "-w", fifo.path, *args, "udp", "and", "dst", "port",
                          str(port))
        try:
            send_udp(count, port, 1000)
            time.sleep(0.5)
            cap.proc.send_signal(signal.SIGINT)
            copy = fifo.drain()  # netres writes its queue out, then closes: EOF
            rc, _, err = cap.finish()
        finally:
            if cap.proc.poll() is None:
                cap.proc.kill()
                cap.proc.wait()
        self.assertEqual(rc, 0, err)
        return copy, err

    def test_stalled_disk_does_not_stop_the_ring(self):
        # 8 MB while nothing is written: twice a 4 MiB ring (which lasts ~2 s at this rate, a
        # generous bound on a loaded machine). Written from the capture thread, the first
        # blocked write stopped it and the kernel dropped ~45% of these; with the writer thread
        # everything waits in the queue (64 MiB by default) and reaches the file.
        copy, err = self.stalled_capture("stall.pcap", 9801, 8000, "-B", "4M")
        captured = stat(err, "captured")
        self.assertLessEqual(stat(err, "dropped by kernel"), 80, err)
        self.assertGreaterEqual(captured, 8000 - 80, err)
        self.assertEqual(stat(err, "dropped by write queue"), 0, err)
        self.assertEqual(stat(err, "written"), captured, err)
        self.assertEqual(tcpdump_count(copy), captured)

    def test_full_queue_drops_and_counts(self):
        # A 2M queue holds ~2,000 of these packets: the rest are dropped by the queue, counted,
        # and the file holds exactly the others, whole.
        copy, err = self.stalled_capture("small.pcapng", 9802, 4000, "--write-queue", "2M")
        captured = stat(err, "captured")
        dropped = stat(err, "dropped by write queue")
        written = stat(err, "written")
        self.assertGreaterEqual(captured, 4000 - 40, err)  # the kernel keeps up (within 1%)
        self.assertGreater(dropped, 1000, err)
        self.assertEqual(written + dropped, captured, err)
        self.assertEqual(tcpdump_count(copy), written)
        r = run("tshark", "-r", copy, "-T", "fields", "-e", "udp.dstport")
        self.assertEqual(r.stdout.split(), ["9802"] * written)

    def test_offline_waits_instead_of_dropping(self):
        source = os.path.join(self.dir, "in.pcap")
        write_pcap(source, 5000, 1000)  # 5 MB through a 2M queue and a stalled FIFO
        fifo = Fifo(self.dir, "offline.pcap")
        proc = subprocess.Popen([harness.NETRES, "capture", "-r", source, "-w", fifo.path,
                                 "--write-queue", "2M"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            self.assertIsNone(proc.poll())  # waiting for the disk, not done and not dropping
            copy = fifo.drain()
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(stat(err, "captured"), 5000, err)
        self.assertEqual(stat(err, "written"), 5000, err)
        self.assertNotIn("dropped", err)
        self.assertEqual(tcpdump_count(copy), 5000)

    def test_full_disk_without_packet_buffering(self):
        # No -U: records reach the disk from the writer thread once a second; the failure must
        # still end the capture by itself (exit 3), with whole records only, pcap and pcapng.
        mount = os.path.join(self.dir, "full")
        os.makedirs(mount, exist_ok=True)
        run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount)
        try:
            for name, port in (("full.pcap", 9803), ("full.pcapng", 9804)):
                path = os.path.join(mount, name)
                cap = LiveCapture("-i", HOST_IF, "-w", path, "udp", "and", "dst", "port",
                                  str(port))
                send_udp(150, port, 1000)
                rc, _, err = cap.finish(timeout=15)
                self.assertEqual(rc, 3, err)
                self.assertIn("No space left on device", err)
                written = stat(err, "written")
                self.assertGreater(written, 10, err)
                self.assertEqual(tcpdump_count(path), written, name)
                os.unlink(path)
        finally:
            run("umount", mount, check=False)

    def test_write_queue_usage_errors(self):
        for args, message in ((["--write-queue", "8M"], "give -w too"),
                              (["-w", "/dev/null", "--write-queue", "1k"], "at least 2M"),
                              (["-w", "/dev/null", "--write-queue", "lots"], "--write-queue")):
            r = netres("capture", "-i", HOST_IF, *args, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    harness.main()
