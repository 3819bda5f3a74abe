#!/usr/bin/env python3
"""deploy/kubernetes/ without a cluster: the manifests are checked for what a cluster would
reject or silently get wrong, and their Jobs' own commands are run on this machine by
deploy/kubernetes/run_local.py (N pods as N processes with JOB_COMPLETION_INDEX set, then the
merge Job), against a host in a network namespace of this test's own (198.18.41.0/30); the merged
result must equal one run of the whole job.
"""
import csv
import glob
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import netres, require_root, wait_until  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
from netns import NamespaceHost  # noqa: E402

DEPLOY = os.path.join(harness.SOURCE_DIR, "deploy", "kubernetes")
RUN_LOCAL = os.path.join(DEPLOY, "run_local.py")
NS, HOST_IF, NS_IF = "netres-k8s-t", "netres-k8s0", "netres-k8s1"
HOST_V4, TARGET_V4 = "198.18.41.1", "198.18.41.2"
MASTER_NS, MASTER_HOST_IF, MASTER_NS_IF = "netres-k8s-m", "netres-k8sm0", "netres-k8sm1"
MASTER_HOST_V4, MASTER_V4 = "198.18.42.1", "198.18.42.2"


def manifests():
    """(file name, object) for every object of every manifest in deploy/kubernetes/."""
    out = []
    for path in sorted(glob.glob(os.path.join(DEPLOY, "*.yaml"))):
        with open(path) as f:
            out += [(os.path.basename(path), d) for d in yaml.safe_load_all(f) if d]
    return out


def containers(obj):
    spec = obj["spec"]["template"]["spec"]
    return (spec.get("initContainers") or []) + spec["containers"]


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env") or []}


def image_tag():
    """The tag deploy/build-image.sh gives the image by default (and the Dockerfile's comment)."""
    with open(os.path.join(harness.SOURCE_DIR, "deploy", "build-image.sh")) as f:
        for line in f:
            if line.startswith("tag=${3:-"):
                return line.split(":-", 1)[1].split("}", 1)[0]
    raise AssertionError("build-image.sh has no default tag")


class Manifests(unittest.TestCase):
    def test_objects_parse_and_are_named(self):
        objs = manifests()
        kinds = {o["kind"] for _, o in objs}
        self.assertTrue({"Job", "ConfigMap", "PersistentVolumeClaim", "Deployment",
                         "Service"} <= kinds, kinds)
        names = [(o["kind"], o["metadata"]["name"]) for _, o in objs]
        self.assertEqual(len(names), len(set(names)), "two objects of one kind share a name")

    def test_indexed_jobs_agree_with_their_shard_count(self):
        indexed = [(f, o) for f, o in manifests()
                   if o["kind"] == "Job" and o["spec"].get("completionMode") == "Indexed"]
        self.assertGreaterEqual(len(indexed), 1)
        for f, job in indexed:
            with self.subTest(job=job["metadata"]["name"]):
                spec = job["spec"]
                self.assertEqual(spec["template"]["spec"]["restartPolicy"], "Never", f)
                for c in containers(job):
                    shards = env_of(c).get("SHARDS")
                    self.assertEqual(shards, str(spec["completions"]),
                                     f"{f}: SHARDS must equal completions")
                    text = " ".join(c["command"] + c.get("args", []))
                    self.assertIn("JOB_COMPLETION_INDEX", text)
                    self.assertIn('--shard "$((JOB_COMPLETION_INDEX + 1))/$SHARDS"', text)
                # The merge Job of the same file waits for the same number of shards.
                for g, other in manifests():
                    if g == f and other["kind"] == "Job" and other is not job:
                        for c in containers(other):
                            if "SHARDS" in env_of(c):
                                self.assertEqual(env_of(c)["SHARDS"], str(spec["completions"]))

    def test_netres_images_match_the_built_tag_and_commands_are_valid_shell(self):
        tag = image_tag()
        for f, o in manifests():
            if o["kind"] not in ("Job", "Deployment"):
                continue
            for c in containers(o):
                if c["image"].startswith("netres:"):
                    self.assertEqual(c["image"], "netres:" + tag, f)
                if c["command"][:2] == ["sh", "-c"]:
                    script = (c.get("args") or [""])[0]
                    r = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True)
                    self.assertEqual(r.returncode, 0, f"{f}/{c['name']}: {r.stderr}")

    def test_config_keys_exist(self):
        data = {}
        for _, o in manifests():
            if o["kind"] == "ConfigMap":
                data[o["metadata"]["name"]] = o.get("data") or {}
        for f, o in manifests():
            if o["kind"] not in ("Job", "Deployment"):
                continue
            for c in containers(o):
                for e in c.get("env") or []:
                    ref = e.get("valueFrom", {}).get("configMapKeyRef")
                    if ref and ref["name"] in data:
                        self.assertIn(ref["key"], data[ref["name"]], f"{f}: {e['name']}")

    def test_runner_refuses_literal_mount_paths(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.yaml")
            with open(bad, "w") as f:
                yaml.safe_dump({
                    "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "bad"},
                    "spec": {"template": {"spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "netres:x",
                                        "command": ["sh", "-c", "ls /data"],
                                        "volumeMounts": [{"name": "v", "mountPath": "/data"}]}],
                        "volumes": [{"name": "v", "emptyDir": {}}]}}}}, f)
            r = subprocess.run([sys.executable, RUN_LOCAL, "--netres", harness.NETRES,
                                "--workdir", d, bad], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("names /data", r.stderr)


def port_states(results_path):
    """{(address, port): state} of a scan results file's data."""
    with open(results_path) as f:
        data = json.load(f)["data"]
    return {(h["address"], row[0]): row[1] for h in data["results"] for row in h["ports"]}


@require_root("ip", "iptables")
class ScanJob(unittest.TestCase):
    """deploy/kubernetes/scan.yaml's Indexed Job (3 pods) and merge Job, run by run_local.py."""

    OPEN = {22, 80, 443}
    PORTS = "20-25,79-81,440-445,5000-5009,6000-6003"

    @classmethod
    def setUpClass(cls):
        cls.host = NamespaceHost(NS, HOST_IF, NS_IF, HOST_V4, TARGET_V4, 30)
        cls.addClassCleanup(cls.host.teardown)
        cls.host.setup()
        cls.host.assert_routed_via_veth(TARGET_V4)
        cls.host.drop_ports(5000, 5009)
        cls.host.reject_ports(6000, 6003)
        listeners = cls.host.popen(
            [sys.executable, os.path.join(harness.FIXTURES, "tcp_listeners.py"),
             "--ports", ",".join(map(str, sorted(cls.OPEN))), "--max-seconds", "120"],
            stdout=subprocess.PIPE, text=True)
        line = listeners.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"listeners did not start: {line!r}")
        cls.dir = tempfile.mkdtemp(prefix="netres-k8s-test-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)

    def test_shards_run_from_the_manifest_merge_to_one_run(self):
        results = run_jobs(self, self.dir, {"run": "test-run", "targets.txt": TARGET_V4 + "\n",
                                            "ports": self.PORTS}, "scan.yaml")
        out = os.path.join(results, "scan", "test-run")
        shards = sorted(glob.glob(os.path.join(out, "scan-*.json")))
        self.assertEqual([os.path.basename(p) for p in shards],
                         ["scan-0.json", "scan-1.json", "scan-2.json"])
        for i, path in enumerate(shards):
            with open(path) as f:
                self.assertEqual(json.load(f)["shard"], f"{i + 1}/3")
        merged = port_states(os.path.join(out, "merged.json"))

        single = os.path.join(self.dir, "single.json")
        r = netres("scan", TARGET_V4, "-p", self.PORTS, "--results", single, timeout=120)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        whole = port_states(single)
        self.assertEqual(merged, whole)
        self.assertEqual({p for (_, p), s in merged.items() if s == "open"}, self.OPEN)
        # DROP gives filtered; the three states all occur, so each share's merge is exercised.
        self.assertLessEqual(set(range(5000, 5010)),
                             {p for (_, p), s in merged.items() if s == "filtered"})
        self.assertLessEqual({20, 21, 23, 79, 81, 440},
                             {p for (_, p), s in merged.items() if s == "closed"})
        with open(os.path.join(out, "merged.txt")) as f:
            table = f.read()
        for port in sorted(self.OPEN):
            self.assertIn(f"{port}/tcp", table)

    def test_bad_input_fails_the_job_and_nothing_is_merged(self):
        d = os.path.join(self.dir, "bad")
        os.makedirs(d)
        results, r = run_jobs(self, d, {"run": "bad", "targets.txt": TARGET_V4, "ports": "70000"},
                              "scan.yaml", expect_rc=1)
        self.assertIn("Job netres-scan failed", r.stderr)
        self.assertIn("exit 2", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(results, "scan", "bad", "merged.json")))


def run_jobs(test, workdir, config_data, manifest, expect_rc=0, extra=()):
    """Runs job-config.yaml, a netres-job ConfigMap with `config_data`, and `manifest` through
    run_local.py with the results claim in workdir/results (plus `extra` objects, e.g. a Secret);
    returns that folder (and the runner's process when expect_rc is given)."""
    results = os.path.join(workdir, "results")
    os.makedirs(results, exist_ok=True)
    config = os.path.join(workdir, "config.yaml")
    with open(config, "w") as f:
        yaml.safe_dump_all([{"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "netres-job"}, "data": config_data}, *extra], f)
    r = subprocess.run(
        [sys.executable, RUN_LOCAL, "--netres", harness.NETRES, "--workdir",
         os.path.join(workdir, "pods"), "--volume", f"netres-results={results}", "--timeout", "120",
         os.path.join(DEPLOY, "job-config.yaml"), config, os.path.join(DEPLOY, manifest)],
        capture_output=True, text=True, timeout=300)
    test.assertEqual(r.returncode, expect_rc, r.stdout + r.stderr)
    return (results, r) if expect_rc else results


class BandwidthJob(unittest.TestCase):
    """deploy/kubernetes/bandwidth.yaml: 3 pods over 5 pcap files, merged == one run's table."""

    def test_shards_run_from_the_manifest_merge_to_one_run(self):
        from test_merge import write_pcaps
        with tempfile.TemporaryDirectory() as d:
            pcap_dir = os.path.join(d, "results", "pcap")
            os.makedirs(pcap_dir)
            pcaps = write_pcaps(pcap_dir)
            results = run_jobs(self, d, {"run": "bw-run", "bandwidth-by": "host"},
                               "bandwidth.yaml")
            out = os.path.join(results, "bandwidth", "bw-run")
            self.assertEqual(sorted(os.listdir(out)),
                             ["bandwidth-0.json", "bandwidth-1.json", "bandwidth-2.json",
                              "merged.json", "merged.txt"])
            reads = [a for p in sorted(pcaps) for a in ("-r", p)]
            single = netres("bandwidth", "--by", "host", *reads)
            self.assertEqual(single.returncode, 0, single.stderr)
            with open(os.path.join(out, "merged.txt")) as f:
                self.assertEqual(f.read(), single.stdout)



class ResolveJob(unittest.TestCase):
    """deploy/kubernetes/resolve.yaml against dnsmasq on loopback: merged == one run's rows."""

    def test_shards_run_from_the_manifest_merge_to_one_run(self):
        from dnsmasq import Dnsmasq
        records = [f"--host-record=k{i}.test,10.8.0.{i}" for i in range(1, 12)]
        dns = Dnsmasq(records, tag="netres-k8s-test", ttl=300)
        dns.start()
        self.addCleanup(dns.stop)
        names = [f"k{i}.test" for i in range(1, 12)] + ["nx.test", "k3.test"]
        with tempfile.TemporaryDirectory() as d:
            data = {"run": "dns-run", "names.txt": "# k8s test\n" + "\n".join(names) + "\n",
                    "resolve-types": "A", "dns-server": dns.server}
            results = run_jobs(self, d, data, "resolve.yaml")
            out = os.path.join(results, "resolve", "dns-run")
            names_file = os.path.join(d, "names.txt")
            with open(names_file, "w") as f:
                f.write(data["names.txt"])
            single = netres("resolve", "-f", names_file, "-t", "A", "--server", dns.server)
            self.assertEqual(single.returncode, 1, single.stderr)  # nx.test fails
            with open(os.path.join(out, "merged.txt")) as f:
                merged = f.read()
            self.assertEqual(merged, single.stdout)
            self.assertIn("NXDOMAIN", merged)
            self.assertEqual(len(glob.glob(os.path.join(out, "resolve-*.json"))), 3)



class SshJob(unittest.TestCase):
    """deploy/kubernetes/ssh.yaml against two sshd on loopback (key and known_hosts given as the
    netres-ssh Secret), one host down: merged rows == one run's rows, in inventory order."""

    def test_shards_run_from_the_manifest_merge_to_one_run(self):
        import sshd
        from sshd_env import SshEnv, table_rows
        env = SshEnv("netres-k8s-ssh-")
        self.addCleanup(env.cleanup)
        key = env.key("id_ed25519")
        servers = [env.server(sshd.free_port("127.0.0.1", 18650 + 5 * i, span=5))
                   for i in range(2)]
        for s in servers:
            s.authorize(key + ".pub")
            s.start()
        env.trust(*servers)
        down = sshd.free_port("127.0.0.1", 18670, span=5)
        hosts = [("a1", servers[0].port), ("a2", servers[1].port), ("gone", down),
                 ("a3", servers[1].port), ("a4", servers[0].port)]
        inventory = (f"all:\n  vars:\n    ansible_user: {sshd.TEST_USER}\n  hosts:\n" +
                     "".join(f"    {n}:\n      ansible_host: 127.0.0.1\n      ansible_port: {p}\n"
                             for n, p in hosts))
        with open(key) as f, open(env.known_hosts) as g:
            secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "netres-ssh"},
                      "stringData": {"id": f.read(), "known_hosts": g.read()}}
        command = 'set -- $SSH_CONNECTION; echo "port-$4"'
        data = {"run": "ssh-run", "inventory.yaml": inventory, "ssh-command": command}
        results = run_jobs(self, env.dir, data, "ssh.yaml", extra=[secret])
        out = os.path.join(results, "ssh", "ssh-run")
        self.assertEqual(len(glob.glob(os.path.join(out, "ssh-*.json"))), 3)
        inv = os.path.join(env.dir, "inventory.yaml")
        with open(inv, "w") as f:
            f.write(inventory)
        one = netres("ssh", "run", "-i", inv, "--key", key, "--known-hosts", env.known_hosts,
                     "--strict-host-keys", "yes", "--", command, timeout=60)
        self.assertEqual(one.returncode, 1, one.stderr)  # "gone" is unreachable
        with open(os.path.join(out, "merged.txt")) as f:
            text = f.read()
        merged = table_rows(text)
        self.assertEqual(list(merged), [h for h, _ in hosts])
        # status and exit code per host (the third column is each run's own duration)
        self.assertEqual({h: r[:2] for h, r in merged.items()},
                         {h: r[:2] for h, r in table_rows(one.stdout).items()})
        for s in servers:
            self.assertIn(f"port-{s.port}", text)
        self.assertEqual(merged["gone"][0], "unreachable")
        self.assertEqual(merged["a2"][0], "ok")



class LoadJob(unittest.TestCase):
    """deploy/kubernetes/load.yaml against nginx on loopback: 3 pods start together at start-at,
    each an exact third of the users; merged request counts == nginx's access log, and the merge
    Job writes the tables, CSV and HTML."""

    def test_shards_run_from_the_manifest_merge_to_one_run(self):
        from nginx_load import NginxLoad
        with NginxLoad() as web, tempfile.TemporaryDirectory() as d:
            scenario = (f"host: {web.url('')}\nusers: 7\nspawn_rate: 100\nrun_time: 3s\n"
                        "wait_time: {between: [0.05, 0.1]}\ntasks:\n  - GET /index.html\n")
            start = time.gmtime(time.time() + 4)
            data = {"run": "load-run", "scenario.yaml": scenario,
                    "start-at": time.strftime("%Y-%m-%dT%H:%M:%SZ", start)}
            results = run_jobs(self, d, data, "load.yaml")
            out = os.path.join(results, "load", "load-run")
            shards = []
            for i in range(3):
                with open(os.path.join(out, f"load-{i}.json")) as f:
                    shards.append(json.load(f))
            self.assertEqual([s["shard"] for s in shards], ["1/3", "2/3", "3/3"])
            with open(os.path.join(out, "merged.json")) as f:
                merged = json.load(f)
            self.assertEqual(merged["shard"], "1/1")
            logged = len(web.access_lines())
            self.assertGreater(logged, 50)
            # Every request the shards sent is in nginx's log and in the merged counts.
            with open(os.path.join(out, "merged_stats.csv")) as f:
                rows = list(csv.DictReader(f))
            total = [r for r in rows if r["Name"] == "Aggregated"][0]
            self.assertEqual(int(total["Request Count"]), logged)
            with open(os.path.join(out, "report.html")) as f:
                self.assertIn("<html", f.read(4096).lower())



def http(method, url, form=None, timeout=5):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method),
                                timeout=timeout) as r:
        return r.read().decode()


@require_root("ip", "locust")
class LocustLayout(unittest.TestCase):
    """deploy/kubernetes/locust.yaml: the master Deployment's own command (Debian's locust) in a
    network namespace of this test's, as in its pod, and the netres worker Deployment (2 replicas)
    on this host reaching it through the Service's name; driven through the master's web UI."""

    def test_master_and_workers_from_the_manifest(self):
        from nginx_load import NginxLoad
        host = NamespaceHost(MASTER_NS, MASTER_HOST_IF, MASTER_NS_IF, MASTER_HOST_V4, MASTER_V4, 30)
        self.addCleanup(host.teardown)
        host.setup()
        host.assert_routed_via_veth(MASTER_V4)
        web = NginxLoad()
        web.__enter__()
        self.addCleanup(web.__exit__, None, None, None)
        d = tempfile.mkdtemp(prefix="netres-k8s-locust-")
        self.addCleanup(shutil.rmtree, d, True)
        scenario = os.path.join(d, "scenario.yaml")
        with open(scenario, "w") as f:
            f.write(f"host: {web.url('')}\nwait_time: {{between: [0.05, 0.1]}}\n"
                    "tasks:\n  - GET /index.html\n")
        master_py = os.path.join(d, "master.py")
        r = netres("load", scenario, "--emit-locustfile", master_py)
        self.assertEqual(r.returncode, 0, r.stderr)
        config = os.path.join(d, "locust-config.yaml")
        with open(scenario) as f, open(master_py) as g, open(config, "w") as out:
            yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "netres-locust"},
                            "data": {"scenario.yaml": f.read(), "master.py": g.read()}}, out)
        manifests = [os.path.join(DEPLOY, "locust.yaml"), config]

        def deployment(name, *extra):
            log = open(os.path.join(d, name + ".log"), "w")
            p = subprocess.Popen([sys.executable, RUN_LOCAL, "--netres", harness.NETRES,
                                  "--deployment", name, "--timeout", "120", "--workdir",
                                  os.path.join(d, name), *extra, *manifests],
                                 stdout=log, stderr=subprocess.STDOUT)
            log.close()
            self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
            return p

        master = deployment("locust-master", "--netns", MASTER_NS)
        ui = f"http://{MASTER_V4}:8089"
        wait_until("the master's web UI", lambda: http("GET", ui + "/stats/requests"), 30)
        workers = deployment("netres-load-worker", "--service", f"locust-master={MASTER_V4}")
        stats = lambda: json.loads(http("GET", ui + "/stats/requests"))  # noqa: E731
        wait_until("2 netres workers ready", lambda: [w["state"] for w in stats()["workers"]]
                 == ["ready", "ready"], 30)
        reply = json.loads(http("POST", ui + "/swarm", {"user_count": 4, "spawn_rate": 100,
                                                        "host": web.url("")}))
        self.assertTrue(reply["success"], reply)
        wait_until("4 users running", lambda: stats()["user_count"] == 4, 30)
        wait_until("requests flowing", lambda: stats()["total_rps"] > 0 or
                 sum(r["num_requests"] for r in stats()["stats"]) > 50, 30)
        http("GET", ui + "/stop")
        wait_until("the master stopped", lambda: stats()["state"] == "stopped", 30)
        rows = list(csv.DictReader(io.StringIO(http("GET", ui + "/stats/requests/csv"))))
        total = [row for row in rows if row["Name"] == "Aggregated"][0]
        self.assertEqual(int(total["Request Count"]), len(web.access_lines()))
        self.assertGreater(int(total["Request Count"]), 50)
        # Deployments run until stopped: SIGTERM reaches every container, which ends cleanly.
        for p, name in ((workers, "netres-load-worker"), (master, "locust-master")):
            p.send_signal(signal.SIGTERM)
            with open(os.path.join(d, name + ".log")) as f:
                self.assertEqual(p.wait(timeout=40), 0, f.read())


if __name__ == "__main__":
    harness.main()
