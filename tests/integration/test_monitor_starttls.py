"""netres monitor's tcp check with STARTTLS against real Debian servers, each run by the test with
its own configuration under STATE, bound to 127.0.0.1 on the ports below, stopped at the end:
exim (SMTP), dovecot (IMAP and POP3), vsftpd (FTP AUTH TLS), PostgreSQL (SSLRequest), slapd
(LDAP's StartTLS extended operation) and prosody (XMPP). One instance of each offers TLS with a
certificate of the test's own CA, another does not (PostgreSQL: the same one after a reload).

Each protocol: the dialogue and handshake succeed with the certificate's facts
(probe_ssl_earliest_cert_expiry is the certificate's notAfter, verified 1); a server without
STARTTLS fails with reason starttls; the same server checked without the test's CA fails with
tls_verify. Also blackbox_exporter's style of steps with a {starttls: true} step, a banner regex
on the greeting, PostgreSQL switched to ssl = off by a reload, and a running monitor exporting the
reasons on /metrics (promtool check metrics passes).

Ports 18860-18879 on 127.0.0.1.
"""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import harness  # noqa: E402
from harness import wait_until  # noqa: E402
from processes import kill_leftover, stop_process  # noqa: E402

STATE = "/tmp/netres-monitor-starttls-test"
SMTP, SMTP_PLAIN = 18860, 18861
IMAP, POP3, IMAP_PLAIN, POP3_PLAIN = 18862, 18863, 18864, 18865
FTP, FTP_PLAIN = 18866, 18867
POSTGRES = 18868
LDAP, LDAP_PLAIN = 18870, 18871
XMPP, XMPP_PLAIN = 18872, 18873
MONITOR = 18879
PG_BIN = "/usr/lib/postgresql/15/bin"
# Each server's pid file (the test writes those the server does not): an interrupted run's
# servers are stopped by them.
PID_FILES = {"exim": "exim4", "exim-plain": "exim4", "dovecot": "dovecot",
             "dovecot-plain": "dovecot", "vsftpd": "vsftpd", "vsftpd-plain": "vsftpd",
             "postgres": "postgres", "slapd": "slapd", "slapd-plain": "slapd",
             "prosody": "prosody", "prosody-plain": "prosody", "monitor": "netres"}


def path(*parts):
    return os.path.join(STATE, *parts)


def write(name, text):
    with open(path(name), "w") as f:
        f.write(text)
    return path(name)


def make_certificates():
    """A CA of the test's own and a server certificate it signs (localhost, 127.0.0.1), valid
    20 days: its notAfter is what probe_ssl_earliest_cert_expiry must say."""
    def openssl(*args):
        harness.run("openssl", *args)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "30",
            "-subj", "/CN=netres starttls test CA")
    openssl("req", *ec, "-keyout", path("server.key"), "-out", path("server.csr"),
            "-subj", "/CN=localhost")
    write("ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey",
            path("ca.key"), "-CAcreateserial", "-days", "20", "-extfile", path("ext"), "-out",
            path("server.pem"))
    # exim's and dovecot's login processes read the key after dropping root: a test key.
    os.chmod(path("server.key"), 0o644)
    end = harness.run("openssl", "x509", "-in", path("server.pem"), "-noout",
                      "-enddate").stdout.strip().split("=", 1)[1]
    return ssl.cert_time_to_seconds(end)


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def exim_config(name, port, tls):
    spool = path(name)
    os.makedirs(os.path.join(spool, "log"))
    shutil.chown(spool, "Debian-exim", "Debian-exim")
    shutil.chown(os.path.join(spool, "log"), "Debian-exim", "Debian-exim")
    return write(f"{name}.conf", f"""primary_hostname = mail.netres.test
daemon_smtp_ports = {port}
local_interfaces = 127.0.0.1
spool_directory = {spool}
log_file_path = {spool}/log/%slog
pid_file_path = {path(name + '.pid')}
exim_user = Debian-exim
exim_group = Debian-exim
keep_environment =
tls_certificate = {path('server.pem')}
tls_privatekey = {path('server.key')}
tls_advertise_hosts = {'*' if tls else ''}
acl_smtp_rcpt = refuse
begin acl
refuse:
  deny
""")


def dovecot_config(name, imap, pop3, tls):
    for d in ("run", "state"):
        os.makedirs(path(name, d))
    write(f"{name}/users", "")  # no user can log in
    return write(f"{name}/dovecot.conf", f"""base_dir = {path(name, 'run')}
state_dir = {path(name, 'state')}
instance_name = netres-starttls-{name}
log_path = {path(name, 'dovecot.log')}
protocols = imap pop3
listen = 127.0.0.1
ssl = {'yes' if tls else 'no'}
ssl_cert = <{path('server.pem')}
ssl_key = <{path('server.key')}
passdb {{
  driver = passwd-file
  args = {path(name, 'users')}
}}
userdb {{
  driver = passwd-file
  args = {path(name, 'users')}
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
""")


def vsftpd_config(name, port, tls):
    os.makedirs(path(name, "empty"))
    os.chmod(path(name, "empty"), 0o755)
    return write(f"{name}/vsftpd.conf", f"""listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=NO
local_enable=YES
pam_service_name=vsftpd
secure_chroot_dir={path(name, 'empty')}
xferlog_enable=NO
vsftpd_log_file={path(name, 'vsftpd.log')}
seccomp_sandbox=NO
ssl_enable={'YES' if tls else 'NO'}
rsa_cert_file={path('server.pem')}
rsa_private_key_file={path('server.key')}
""")


def slapd_config(name, tls):
    """No database: the root DSE and the StartTLS extended operation are all the check needs."""
    text = (f"include /etc/ldap/schema/core.schema\npidfile {path(name + '.slapd.pid')}\n"
            f"argsfile {path(name + '.args')}\n")
    if tls:
        text += (f"TLSCertificateFile {path('server.pem')}\n"
                 f"TLSCertificateKeyFile {path('server.key')}\n")
    return write(f"{name}.conf", text)


def prosody_config(name, port, tls):
    """c2s only, on loopback; prosody refuses root, so its directory is its own."""
    os.makedirs(path(name, "data"))
    conf = write(f"{name}/prosody.cfg.lua", f"""pidfile = "{path(name, 'prosody.pid')}"
data_path = "{path(name, 'data')}"
certificates = "{path(name)}"
log = {{ info = "{path(name, 'prosody.log')}" }}
daemonize = false
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
s2s_ports = {{ }}
modules_enabled = {{ "saslauth"; "disco"; {'"tls"' if tls else ''} }}
modules_disabled = {{ "s2s"; {'' if tls else '"tls"'} }}
authentication = "internal_hashed"
{'' if tls else 'c2s_require_encryption = false  -- else: no features at all, a stream error'}
VirtualHost "localhost"
  ssl = {{ certificate = "{path('server.pem')}"; key = "{path('server.key')}" }}
""")
    harness.run("chown", "-R", "prosody", path(name))
    return ["runuser", "-u", "prosody", "--", "prosody", "-F", "--config", conf]


def postgres_setup():
    """An empty cluster owned by postgres (initdb refuses root), SSL on with the test's key."""
    pg = path("pg")
    os.makedirs(pg)
    for f in ("server.pem", "server.key"):
        shutil.copy(path(f), os.path.join(pg, f))
    os.chmod(os.path.join(pg, "server.key"), 0o600)
    harness.run("chown", "-R", "postgres:postgres", pg)
    harness.run("runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", f"{pg}/data",
                "--no-sync", "-A", "reject", "-U", "postgres", "--no-instructions", timeout=60)
    with open(f"{pg}/data/postgresql.conf", "a") as f:
        f.write(f"listen_addresses = '127.0.0.1'\nport = {POSTGRES}\n"
                f"unix_socket_directories = '{pg}'\nssl = on\n"
                f"ssl_cert_file = '{pg}/server.pem'\nssl_key_file = '{pg}/server.key'\n")
    return ["runuser", "-u", "postgres", "--", f"{PG_BIN}/postgres", "-D", f"{pg}/data"]


def metric_value(text, name, labels):
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        if (series == name or series.startswith(name + "{")) and all(
                f'{k}="{v}"' in series for k, v in labels.items()):
            return float(value)
    return None


@harness.require_root("exim4", "dovecot", "vsftpd", "slapd", "prosody", "openssl", "runuser",
                       PG_BIN + "/initdb")
class MonitorStarttls(unittest.TestCase):
    procs = {}

    @classmethod
    def setUpClass(cls):
        if os.path.isdir(STATE):
            for name, program in PID_FILES.items():
                kill_leftover(path(name + ".pid"), program)
            shutil.rmtree(STATE)
        os.makedirs(STATE)
        os.chmod(STATE, 0o755)  # exim and dovecot read the certificate as their own users
        try:
            cls.not_after = make_certificates()
            commands = {
                "exim": ["exim4", "-C", exim_config("exim", SMTP, True), "-bdf"],
                "exim-plain": ["exim4", "-C", exim_config("exim-plain", SMTP_PLAIN, False), "-bdf"],
                "dovecot": ["dovecot", "-F", "-c", dovecot_config("dovecot", IMAP, POP3, True)],
                "dovecot-plain": ["dovecot", "-F", "-c",
                                  dovecot_config("dovecot-plain", IMAP_PLAIN, POP3_PLAIN, False)],
                "vsftpd": ["vsftpd", vsftpd_config("vsftpd", FTP, True)],
                "vsftpd-plain": ["vsftpd", vsftpd_config("vsftpd-plain", FTP_PLAIN, False)],
                # -d 0: in the foreground, logging nothing
                "slapd": ["slapd", "-d", "0", "-h", f"ldap://127.0.0.1:{LDAP}/", "-f",
                          slapd_config("slapd", True)],
                "slapd-plain": ["slapd", "-d", "0", "-h", f"ldap://127.0.0.1:{LDAP_PLAIN}/",
                                "-f", slapd_config("slapd-plain", False)],
                "prosody": prosody_config("prosody", XMPP, True),
                "prosody-plain": prosody_config("prosody-plain", XMPP_PLAIN, False),
            }
            for name, cmd in commands.items():
                cls.start(name, cmd)
            cls.start("postgres", postgres_setup())  # initdb: the slow one, the others start
            for port in (SMTP, SMTP_PLAIN, IMAP, POP3, IMAP_PLAIN, POP3_PLAIN, FTP, FTP_PLAIN,
                         POSTGRES, LDAP, LDAP_PLAIN, XMPP, XMPP_PLAIN):
                wait_until(f"a server on port {port}", lambda p=port: listening(p), 15)
            # A port someone else holds would look the same: each server must still run.
            time.sleep(0.5)
            dead = [n for n, p in cls.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"exited at start: {dead} (logs in {STATE}/*.out)")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start(cls, name, cmd):
        log = open(path(name + ".out"), "w")
        cls.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL)
        log.close()
        # exim writes its own pid file to the same name; the others get theirs here (runuser's
        # pid for postgres: killing it stops postgres too, and postmaster.pid is its own).
        write(name + ".pid", f"{cls.procs[name].pid}\n")

    @classmethod
    def tearDownClass(cls):
        for name, proc in list(cls.procs.items()):
            if name == "postgres" and proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # fast shutdown: SIGTERM waits for clients
            stop_process(proc, timeout=10)
        cls.procs.clear()

    def config(self, checks, targets, defaults="{interval: 30s, timeout: 5s}"):
        ca = path("ca.pem")
        text = f"defaults: {defaults}\nchecks:\n"
        for name, spec in checks.items():
            text += f"  {name}: {spec.replace('CA', ca)}\n"
        text += "targets:\n"
        for name, address, names in targets:
            text += f"  - {{name: {name}, address: '127.0.0.1:{address}', checks: [{names}]}}\n"
        return write("monitor.yaml", text)

    CHECKS = {
        "smtp": "{kind: tcp, starttls: smtp, ca_file: CA, banner: '^220 mail\\.netres\\.test '}",
        "imap": "{kind: tcp, starttls: imap, ca_file: CA, banner: 'Dovecot'}",
        "pop3": "{kind: tcp, starttls: pop3, ca_file: CA}",
        "ftp": "{kind: tcp, starttls: ftp, ca_file: CA}",
        "postgres": "{kind: tcp, starttls: postgres, ca_file: CA}",
        "ldap": "{kind: tcp, starttls: ldap, ca_file: CA}",
        "xmpp": "{kind: tcp, starttls: xmpp, ca_file: CA, server_name: localhost}",
        # The system's CAs only: the test's certificate is not trusted.
        "smtp_noca": "{kind: tcp, starttls: smtp}",
        "imap_noca": "{kind: tcp, starttls: imap}",
        "pop3_noca": "{kind: tcp, starttls: pop3}",
        "ftp_noca": "{kind: tcp, starttls: ftp}",
        "postgres_noca": "{kind: tcp, starttls: postgres}",
        "ldap_noca": "{kind: tcp, starttls: ldap}",
        "xmpp_noca": "{kind: tcp, starttls: xmpp, server_name: localhost}",
        "smtp_wrongname": "{kind: tcp, starttls: smtp, ca_file: CA, server_name: wrong.example}",
        "imap_banner": "{kind: tcp, starttls: imap, ca_file: CA, banner: '^\\* OK Exchange'}",
        # blackbox_exporter's query_response with starttls, then SMTP again over TLS.
        "smtp_steps": ("{kind: tcp, ca_file: CA, steps: [{expect: '^220 '}, "
                       "{send: \"EHLO netres.test\\r\\n\"}, {expect: '^250-STARTTLS'}, "
                       "{send: \"STARTTLS\\r\\n\"}, {expect: '^220 '}, {starttls: true}, "
                       "{send: \"EHLO netres.test\\r\\n\"}, {expect: '^250 '}]}"),
    }

    def test_1_once(self):
        cfg = self.config(self.CHECKS, [
            ("smtp", SMTP, "smtp, smtp_noca, smtp_wrongname, smtp_steps"),
            ("smtp-plain", SMTP_PLAIN, "smtp"),
            ("imap", IMAP, "imap, imap_noca, imap_banner"),
            ("imap-plain", IMAP_PLAIN, "imap"),
            ("pop3", POP3, "pop3, pop3_noca"),
            ("pop3-plain", POP3_PLAIN, "pop3"),
            ("ftp", FTP, "ftp, ftp_noca"),
            ("ftp-plain", FTP_PLAIN, "ftp"),
            ("postgres", POSTGRES, "postgres, postgres_noca"),
            ("ldap", LDAP, "ldap, ldap_noca"),
            ("ldap-plain", LDAP_PLAIN, "ldap"),
            ("xmpp", XMPP, "xmpp, xmpp_noca"),
            ("xmpp-plain", XMPP_PLAIN, "xmpp"),
        ] + [(f"smtp{i}", SMTP, "smtp") for i in range(2, 10)])
        r = harness.netres("monitor", "-c", cfg, "--once", "--json", timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        got = {(o["target"], o["check"]): o for o in harness.ndjson(r.stdout)}
        reasons = {k: o["reason"] for k, o in got.items()}
        self.assertEqual(reasons, {
            ("smtp", "smtp"): "", ("smtp", "smtp_steps"): "",
            ("smtp", "smtp_noca"): "tls_verify", ("smtp", "smtp_wrongname"): "tls_verify",
            ("smtp-plain", "smtp"): "starttls",
            ("imap", "imap"): "", ("imap", "imap_noca"): "tls_verify",
            ("imap", "imap_banner"): "regex", ("imap-plain", "imap"): "starttls",
            ("pop3", "pop3"): "", ("pop3", "pop3_noca"): "tls_verify",
            ("pop3-plain", "pop3"): "starttls",
            ("ftp", "ftp"): "", ("ftp", "ftp_noca"): "tls_verify",
            ("ftp-plain", "ftp"): "starttls",
            ("postgres", "postgres"): "", ("postgres", "postgres_noca"): "tls_verify",
            ("ldap", "ldap"): "", ("ldap", "ldap_noca"): "tls_verify",
            ("ldap-plain", "ldap"): "starttls",
            ("xmpp", "xmpp"): "", ("xmpp", "xmpp_noca"): "tls_verify",
            ("xmpp-plain", "xmpp"): "starttls",
            # Several at once, as a monitor probes: an EHLO naming the client's own address made
            # exim verify it by a reverse DNS lookup, which timed out here.
            **{(f"smtp{i}", "smtp"): "" for i in range(2, 10)},
        }, r.stdout)

        for target, check in (("smtp", "smtp"), ("smtp", "smtp_steps"), ("imap", "imap"),
                              ("pop3", "pop3"), ("ftp", "ftp"), ("postgres", "postgres"),
                              ("ldap", "ldap"), ("xmpp", "xmpp")):
            m = got[(target, check)]["metrics"]
            with self.subTest(check=check):
                self.assertEqual(m["probe_ssl_earliest_cert_expiry"], self.not_after)
                self.assertEqual(m["netres_probe_ssl_leaf_cert_expiry"], self.not_after)
                self.assertEqual(m["netres_probe_ssl_verified"], 1)
                self.assertGreater(m["netres_probe_tls_handshake_seconds"], 0)
                self.assertTrue(any(k.startswith("probe_tls_version_info{") for k in m), m)
                if check != "smtp_steps":
                    self.assertGreater(m["netres_probe_starttls_seconds"], 0)
        # What each refusal says, from the servers' own replies.
        detail = {k: o["detail"] for k, o in got.items()}
        self.assertIn("starttls smtp: the server does not offer STARTTLS (EHLO: ",
                      detail[("smtp-plain", "smtp")])
        self.assertIn("starttls imap: the server does not offer STARTTLS (CAPABILITY: IMAP4rev1",
                      detail[("imap-plain", "imap")])
        self.assertIn("starttls pop3: the server does not offer STLS (CAPA: ",
                      detail[("pop3-plain", "pop3")])
        self.assertIn("starttls ftp: AUTH TLS refused: 530 ", detail[("ftp-plain", "ftp")])
        self.assertEqual("starttls ldap: StartTLS refused: resultCode 2 (protocolError): "
                         "unsupported extended operation", detail[("ldap-plain", "ldap")])
        self.assertIn("starttls xmpp: the server does not offer STARTTLS (<stream:features",
                      detail[("xmpp-plain", "xmpp")])
        self.assertIn("issuer not trusted", detail[("smtp", "smtp_noca")])
        self.assertIn("wrong.example", detail[("smtp", "smtp_wrongname")])
        self.assertIn("banner: the imap greeting '* OK ", detail[("imap", "imap_banner")])
        # The failures that happen after the dialogue still measured it.
        self.assertGreater(got[("smtp", "smtp_noca")]["metrics"]["netres_probe_starttls_seconds"],
                           0)

    def test_2_served_and_postgres_ssl_off(self):
        """A running monitor exports the STARTTLS probes like any other: the expiry, and the
        reason starttls as a label; PostgreSQL with ssl = off (a reload) turns to starttls."""
        cfg = self.config(
            {k: self.CHECKS[k] for k in ("smtp", "postgres")},
            [("smtp", SMTP, "smtp"), ("smtp-plain", SMTP_PLAIN, "smtp"),
             ("postgres", POSTGRES, "postgres")],
            defaults="{interval: 1s, timeout: 900ms}")
        with open(path("monitor.err"), "w") as err:
            mon = subprocess.Popen([harness.NETRES, "monitor", "-c", cfg, "--listen",
                                    f"127.0.0.1:{MONITOR}"], stdout=subprocess.DEVNULL,
                                   stderr=err)
        write("monitor.pid", f"{mon.pid}\n")
        try:
            def scrape():
                with urllib.request.urlopen(f"http://127.0.0.1:{MONITOR}/metrics",
                                            timeout=2) as resp:
                    return resp.read().decode()

            def has_all():
                text = scrape()
                ok = all(metric_value(text, "probe_success", {"target": t}) is not None
                         for t in ("smtp", "smtp-plain", "postgres"))
                return text if ok else None
            text = wait_until("the first probes on /metrics", has_all, 15)
            self.assertEqual(metric_value(text, "probe_success", {"target": "smtp"}), 1)
            self.assertEqual(metric_value(text, "probe_ssl_earliest_cert_expiry",
                                          {"target": "smtp"}), self.not_after)
            self.assertEqual(metric_value(text, "probe_success", {"target": "smtp-plain"}), 0)
            self.assertGreaterEqual(metric_value(text, "netres_probe_failures_total",
                                                 {"target": "smtp-plain", "reason": "starttls"}),
                                    1)
            self.assertEqual(metric_value(text, "probe_success", {"target": "postgres"}), 1)
            self.assertGreater(metric_value(text, "netres_probe_starttls_seconds",
                                            {"target": "postgres"}), 0)
            self.assertIn("# HELP netres_probe_starttls_seconds ", text)
            if shutil.which("promtool"):
                p = subprocess.run(["promtool", "check", "metrics"], input=text,
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

            conf = path("pg", "data", "postgresql.conf")
            with open(conf) as f:
                lines = f.read().replace("\nssl = on\n", "\nssl = off\n")
            with open(conf, "w") as f:
                f.write(lines)
            with open(path("pg", "data", "postmaster.pid")) as f:
                os.kill(int(f.readline()), signal.SIGHUP)
            wait_until("postgres probed as without SSL", lambda: metric_value(
                scrape(), "netres_probe_failure_info",
                {"target": "postgres", "reason": "starttls"}) == 1, 15)
        finally:
            stop_process(mon)
            os.unlink(path("monitor.pid"))


if __name__ == "__main__":
    harness.main()
