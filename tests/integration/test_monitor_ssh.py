"""netres monitor's ssh check against real OpenSSH servers on loopback: a known host key is ok
(banner, SHA256 fingerprint as ssh-keygen -l prints it, handshake time); a second sshd with
another host key under the same known_hosts name is hostkey_changed; a server absent from
known_hosts is hostkey_unknown; a closed port is refused; the known_hosts file is never
written. Then a running monitor sees the sshd's host key change: probe_success 0, reason
hostkey_changed, and the exposition passes promtool. A listener that never speaks is a timeout.

Ports 18800-18819 on 127.0.0.1.
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from processes import kill_leftover, stop_process  # noqa: E402
from sshd_env import SshEnv  # noqa: E402

STATE = "/tmp/netres-monitor-ssh-test"
PORT_A, PORT_B, PORT_LIVE, MONITOR_PORT = 18800, 18801, 18802, 18818
LISTEN_PORTS = (18803, 18810)  # listeners of the test itself: the first two free ones


def closed_port():
    """A port in our range that nothing listens on (connect is refused)."""
    for port in range(18810, 18818):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no closed port in 18810-18817")


def fingerprint(server):
    out = harness.run("ssh-keygen", "-l", "-E", "sha256", "-f", server.host_key + ".pub").stdout
    return out.split()[1]  # "256 SHA256:... comment (ED25519)"


def metric_value(text, name, labels):
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        if (series == name or series.startswith(name + "{")) and all(
                f'{k}="{v}"' in series for k, v in labels.items()):
            return float(value)
    return None


@harness.require_root("sshd", "ssh-keygen")
class MonitorSsh(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(STATE, exist_ok=True)
        kill_leftover(os.path.join(STATE, "monitor.pid"), "netres")
        cls.env = SshEnv("netres-monssh-")
        try:
            cls.a = cls.env.server(PORT_A).start()
            cls.b = cls.env.server(PORT_B).start()  # its own, different host key
            # A is known under its own name and under the alias "core1"; B claims to be core1.
            kind, blob = cls.a.host_public_key()
            cls.env.trust(cls.a)
            with open(cls.env.known_hosts, "a") as f:
                f.write(f"core1 {kind} {blob}\n")
            with open(cls.env.known_hosts) as f:
                cls.known_before = f.read()
        except BaseException:
            cls.env.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.cleanup()

    def config(self, targets, interval="30s", known_hosts=None):
        known_hosts = known_hosts or self.env.known_hosts
        path = os.path.join(self.env.dir, "monitor.yaml")
        with open(path, "w") as f:
            f.write(f"defaults: {{interval: {interval}, timeout: 5s}}\n"
                    "checks:\n"
                    f"  ssh: {{kind: ssh, known_hosts: {known_hosts}}}\n"
                    f"  ssh_core1: {{kind: ssh, known_hosts: {known_hosts}, "
                    "host_key_alias: core1}\n"
                    "targets:\n" + targets)
        return path

    def test_once_reasons(self):
        closed = closed_port()
        cfg = self.config(
            f"  - {{name: a, address: '127.0.0.1:{self.a.port}', checks: [ssh, ssh_core1]}}\n"
            f"  - {{name: b, address: '127.0.0.1:{self.b.port}', checks: [ssh, ssh_core1]}}\n"
            f"  - {{name: closed, address: '127.0.0.1:{closed}', checks: [ssh]}}\n")
        r = harness.netres("monitor", "-c", cfg, "--once", "--json", timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        got = {(o["target"], o["check"]): o for o in harness.ndjson(r.stdout)}
        self.assertEqual(len(got), 5, r.stdout)
        reasons = {k: o["reason"] for k, o in got.items()}
        self.assertEqual(reasons, {
            ("a", "ssh"): "", ("a", "ssh_core1"): "",
            ("b", "ssh"): "hostkey_unknown", ("b", "ssh_core1"): "hostkey_changed",
            ("closed", "ssh"): "refused"}, r.stdout)

        ok = got[("a", "ssh")]
        self.assertTrue(ok["success"])
        m = ok["metrics"]
        self.assertEqual(m["netres_ssh_hostkey_ok"], 1)
        self.assertGreater(m["netres_ssh_handshake_seconds"], 0)
        self.assertLessEqual(m["netres_ssh_handshake_seconds"], ok["duration_s"])
        info = [k for k in m if k.startswith("netres_ssh_info{")]
        self.assertEqual(len(info), 1, m)
        self.assertIn(f'fingerprint="{fingerprint(self.a)}"', info[0])
        self.assertIn('banner="SSH-2.0-OpenSSH_', info[0])
        self.assertIn('key_type="ssh-ed25519"', info[0])

        changed = got[("b", "ssh_core1")]
        self.assertFalse(changed["success"])
        self.assertEqual(changed["metrics"]["netres_ssh_hostkey_ok"], 0)
        self.assertIn(fingerprint(self.b), changed["detail"])
        self.assertIn("HOST KEY CHANGED", changed["detail"])
        self.assertTrue(any(fingerprint(self.b) in k for k in changed["metrics"]), changed)
        self.assertNotIn("netres_ssh_hostkey_ok", got[("closed", "ssh")]["metrics"])

        # Never learned, never written.
        with open(self.env.known_hosts) as f:
            self.assertEqual(f.read(), self.known_before)

        # The table names the reasons too.
        t = harness.netres("monitor", "-c", cfg, "--once", timeout=60)
        self.assertEqual(t.returncode, 1, t.stderr)
        self.assertIn("hostkey_changed", t.stdout)
        self.assertIn("refused", t.stdout)

    def test_missing_known_hosts_file_is_an_error_not_unknown(self):
        path = os.path.join(self.env.dir, "missing.yaml")
        with open(path, "w") as f:
            f.write("checks:\n  s: {kind: ssh, known_hosts: /nonexistent/netres/known_hosts}\n"
                    f"targets: [{{name: a, address: '127.0.0.1:{self.a.port}', checks: [s]}}]\n")
        r = harness.netres("monitor", "-c", path, "--once", "--json", timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        (o,) = harness.ndjson(r.stdout)
        self.assertEqual(o["reason"], "error")
        self.assertIn("/nonexistent/netres/known_hosts", o["detail"])
        bad = os.path.join(self.env.dir, "bad.yaml")
        with open(bad, "w") as f:
            f.write("checks:\n  s: {kind: ssh}\n"
                    "targets: [{address: '127.0.0.1:22', checks: [s]}]\n")
        r = harness.netres("monitor", "-c", bad, "--once", timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs known_hosts", r.stderr)

    def test_silent_and_non_ssh_servers(self):
        """A listener that never speaks is a timeout (libssh's wait is bounded by the probe's
        timeout); one that speaks HTTP and hangs up fails without a host key."""
        silent, talk = socket.socket(), socket.socket()
        try:
            ports = iter(range(LISTEN_PORTS[0], LISTEN_PORTS[1]))
            for s in (silent, talk):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                for port in ports:  # sshd fixtures may have moved onto the first ones
                    try:
                        s.bind(("127.0.0.1", port))
                        break
                    except OSError:
                        continue
                else:
                    raise RuntimeError(f"no free port in {LISTEN_PORTS}")
                s.listen(4)  # the kernel completes the TCP handshake; nobody accepts on silent
            silent_port, talk_port = silent.getsockname()[1], talk.getsockname()[1]

            def serve():
                talk.settimeout(10)
                try:
                    c, _ = talk.accept()
                    c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                    time.sleep(0.2)
                    c.close()
                except OSError:
                    pass
            th = threading.Thread(target=serve, daemon=True)
            th.start()
            path = os.path.join(self.env.dir, "silent.yaml")
            with open(path, "w") as f:
                f.write(f"defaults: {{timeout: 1s}}\n"
                        f"checks: {{s: {{kind: ssh, known_hosts: {self.env.known_hosts}}}}}\n"
                        "targets:\n"
                        f"  - {{name: silent, address: '127.0.0.1:{silent_port}', checks: [s]}}\n"
                        f"  - {{name: http, address: '127.0.0.1:{talk_port}', checks: [s]}}\n")
            r = harness.netres("monitor", "-c", path, "--once", "--json", timeout=30)
            th.join(10)
            self.assertEqual(r.returncode, 1, r.stderr)
            got = {o["target"]: o for o in harness.ndjson(r.stdout)}
            self.assertEqual(got["silent"]["reason"], "timeout", got)
            self.assertIn(got["http"]["reason"], ("reset", "eof", "protocol"), got)
            for o in got.values():
                self.assertNotIn("netres_ssh_hostkey_ok", o["metrics"])
                self.assertIn("netres_probe_tcp_connect_seconds", o["metrics"])
        finally:
            silent.close()
            talk.close()

    def test_config_drift_against_netres_ssh_backup(self):
        """netres ssh backup records A's configuration (here: a file cat'ed over exec); the
        monitor logs in with a key, shows it again and compares: 0 while equal, 1 once the
        file changed; banner-only lines ('end', '!') do not count."""
        key = self.env.key("id_drift")
        self.a.authorize(key + ".pub")
        running = os.path.join(self.env.dir, "running.cfg")
        with open(running, "w") as f:
            f.write("hostname core1\ninterface eth0\n ip address 198.18.0.1/24\n")
        os.chmod(running, 0o644)
        backups = os.path.join(self.env.dir, "backups")
        spec = f"{self.a.spec}"
        b = self.env.netres("backup", "-H", spec, "--key", key, "--command", f"cat {running}",
                            "--dir", backups, "--json")
        self.assertEqual(b.returncode, 0, b.stdout + b.stderr)
        (host_dir,) = os.listdir(backups)
        path = os.path.join(self.env.dir, "drift.yaml")
        with open(path, "w") as f:
            f.write("checks:\n"
                    f"  d: {{kind: ssh, known_hosts: {self.env.known_hosts}, drift: {{"
                    f"backups: {backups}, name: '{host_dir}', user: {self.a.spec.split('@')[0]}, "
                    f"key_file: {key}, command: 'cat {running}'}}}}\n"
                    f"targets: [{{name: a, address: '127.0.0.1:{self.a.port}', checks: [d]}}]\n")

        def probe():
            r = harness.netres("monitor", "-c", path, "--once", "--json", timeout=30)
            (o,) = harness.ndjson(r.stdout)
            self.assertTrue(o["success"], o)
            self.assertEqual(r.returncode, 0, r.stderr)
            return o["metrics"]
        m = probe()
        self.assertEqual(m["netres_config_drift"], 0, m)
        (cfg,) = os.listdir(os.path.join(backups, host_dir))
        self.assertAlmostEqual(m["netres_config_backup_timestamp_seconds"],
                               os.path.getmtime(os.path.join(backups, host_dir, cfg)), delta=1)
        with open(running, "a") as f:
            f.write("!\nend\n")  # not configuration: still no drift
        self.assertEqual(probe()["netres_config_drift"], 0)
        with open(running, "a") as f:
            f.write("interface eth1\n")
        self.assertEqual(probe()["netres_config_drift"], 1)

        # A key the server does not accept: reason auth, and no drift figure.
        wrong = self.env.key("id_wrong")
        with open(path) as f:
            text = f.read().replace(f"key_file: {key}", f"key_file: {wrong}")
        with open(path, "w") as f:
            f.write(text)
        r = harness.netres("monitor", "-c", path, "--once", "--json", timeout=30)
        (o,) = harness.ndjson(r.stdout)
        self.assertEqual(o["reason"], "auth", o)
        self.assertNotIn("netres_config_drift", o["metrics"])

    def test_live_host_key_change(self):
        live = self.env.server(PORT_LIVE).start()
        # Its own known_hosts: test_once_reasons checks that the shared one is never written.
        known = os.path.join(self.env.dir, "known_hosts_live")
        with open(known, "w") as f:
            f.write(live.known_hosts_line())
        cfg = self.config(
            f"  - {{name: live, address: '127.0.0.1:{live.port}', checks: [ssh]}}\n",
            interval="500ms", known_hosts=known)
        log = open(os.path.join(STATE, "monitor.log"), "w+")
        proc = subprocess.Popen([harness.NETRES, "monitor", "-c", cfg, "--listen",
                                 f"127.0.0.1:{MONITOR_PORT}"], stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)
        with open(os.path.join(STATE, "monitor.pid"), "w") as f:
            f.write(str(proc.pid))
        url = f"http://127.0.0.1:{MONITOR_PORT}/metrics"

        def scrape():
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read().decode()
        try:
            sel = {"target": "live", "check": "ssh"}
            wait_until("the live sshd to be probed ok",
                       lambda: metric_value(scrape(), "probe_success", sel) == 1, 15)
            text = scrape()
            self.assertEqual(metric_value(text, "netres_ssh_hostkey_ok", sel), 1)
            if harness.shutil.which("promtool"):
                chk = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                                     capture_output=True, timeout=30)
                self.assertEqual(chk.returncode, 0, chk.stdout + chk.stderr)
            # sshd re-executes itself on SIGHUP and reads its (new) host key, on the same port;
            # a restart could not always rebind it while probe connections sit in TIME_WAIT.
            live.new_host_key()
            os.kill(live.proc.pid, signal.SIGHUP)
            wait_until("the changed host key to be seen",
                       lambda: metric_value(scrape(), "netres_probe_failure_info",
                                            {**sel, "reason": "hostkey_changed"}) == 1, 15)
            text = scrape()
            self.assertEqual(metric_value(text, "probe_success", sel), 0)
            self.assertEqual(metric_value(text, "netres_ssh_hostkey_ok", sel), 0)
            self.assertGreaterEqual(metric_value(text, "netres_probe_failures_total",
                                                 {**sel, "reason": "hostkey_changed"}), 1)
        finally:
            stop_process(proc)
            log.close()
            kill_leftover(os.path.join(STATE, "monitor.pid"), "netres")


if __name__ == "__main__":
    harness.main()
