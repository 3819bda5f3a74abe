"""A running `netres capture` for live-capture tests (test_capture.py, test_capture_writer.py)."""
import selectors
import subprocess
import time

import harness


class LiveCapture:
    """Starts `netres capture ARGS...` and returns once its "listening on" line is out (within
    10 s), so that traffic sent afterwards is seen. finish() collects the exit code, stdout and
    all of stderr."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([harness.NETRES, "capture", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr_lines.append(line)
            if line.startswith("listening on"):
                sel.close()
                return
        sel.close()
        self.proc.kill()
        self.proc.wait()
        raise AssertionError("netres did not start: " + "".join(self.stderr_lines))

    def finish(self, sig=None, timeout=30):
        if sig is not None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        return self.proc.returncode, out, "".join(self.stderr_lines) + err
