#!/usr/bin/env python3
"""Runs the Jobs of Kubernetes manifests on this machine, exactly as a cluster would run their
containers' commands, without a cluster: proof that the manifests' commands work.

  run_local.py --netres build/src/cli/netres --volume netres-results=/tmp/results \\
      [--only JOB] deploy/kubernetes/job-config.yaml my-config.yaml deploy/kubernetes/scan.yaml

What it does, per Job in the order given: an Indexed Job (completionMode: Indexed) runs
`completions` pods, `parallelism` at a time, each with JOB_COMPLETION_INDEX set as Kubernetes
sets it; a pod runs its initContainers one by one, then its containers. Each container runs its
`command` + `args` with the manifest's env (values and configMapKeyRef), PATH leading to the
given netres. Volumes: a configMap or secret volume becomes a folder of its keys (a secret's
with its defaultMode), a persistentVolumeClaim the folder given with --volume CLAIM=DIR, an
emptyDir a temporary folder. Mount paths are mapped to those folders through environment
variables only: an env value equal to or under a mountPath is rewritten, and a command that names
a mountPath literally is refused (write "$RESULTS/x", not "/results/x"), so what runs here is the
manifest's own text. Later manifests replace objects of the
same kind and name (a test's own ConfigMap replaces the example one). A pod that fails is not
retried (backoffLimit) here: the run stops with exit 1 and names the pod; exit 2 is bad manifests.

With --deployment NAME it runs that Deployment's `replicas` pods instead, until --timeout,
SIGTERM or Ctrl-C (then SIGTERM to each container, SIGKILL 10 s later). --service NAME=ADDRESS
stands in for cluster DNS (an env value "NAME" or "NAME:PORT" gets ADDRESS), and --netns NS runs
the containers in a network namespace (a pod's own network: a server there may listen on every
address, as it does in its pod).
"""
import argparse
import base64
import concurrent.futures as cf
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import yaml


class ManifestError(Exception):
    pass


def stop_group(p, grace=10):
    """SIGTERM to a container's process group, SIGKILL after `grace` seconds."""
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    except ProcessLookupError:
        p.wait()


def load_objects(paths):
    objects = {}
    order = []
    for path in paths:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if not doc:
                    continue
                key = (doc.get("kind"), doc.get("metadata", {}).get("name"))
                if None in key:
                    raise ManifestError(f"{path}: an object without kind or metadata.name")
                if key not in objects:
                    order.append(key)
                objects[key] = doc
    return objects, order


class PodRunner:
    def __init__(self, objects, netres, volumes, workdir, timeout, log, services=None,
                 netns=None):
        self.objects = objects
        self.services = services or {}  # Service name -> the address that stands for it here
        self.netns = netns              # run the containers in this network namespace
        self.netres_dir = os.path.dirname(os.path.abspath(netres))
        self.claims = volumes
        self.workdir = workdir
        self.timeout = timeout
        self.log = log

    def configmap(self, name):
        cm = self.objects.get(("ConfigMap", name))
        if cm is None:
            raise ManifestError(f"ConfigMap {name} is not in the manifests given")
        return cm.get("data", {}) or {}

    def secret(self, name):
        """A Secret's keys as bytes: `data` is base64 as Kubernetes stores it, `stringData` plain."""
        obj = self.objects.get(("Secret", name))
        if obj is None:
            raise ManifestError(f"Secret {name} is not in the manifests given")
        out = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        out.update({k: v.encode() for k, v in (obj.get("stringData") or {}).items()})
        return out

    def volume_dirs(self, pod_spec, pod_dir):
        dirs = {}
        for v in pod_spec.get("volumes", []) or []:
            name = v["name"]
            if "configMap" in v:
                d = os.path.join(pod_dir, "configmap-" + name)
                os.makedirs(d)
                for key, value in self.configmap(v["configMap"]["name"]).items():
                    with open(os.path.join(d, key), "w") as f:
                        f.write(value)
                dirs[name] = d
            elif "secret" in v:
                d = os.path.join(pod_dir, "secret-" + name)
                os.makedirs(d)
                mode = v["secret"].get("defaultMode", 0o644)
                for key, value in self.secret(v["secret"]["secretName"]).items():
                    path = os.path.join(d, key)
                    with open(path, "wb") as f:
                        f.write(value)
                    os.chmod(path, mode)
                dirs[name] = d
            elif "persistentVolumeClaim" in v:
                claim = v["persistentVolumeClaim"]["claimName"]
                if claim not in self.claims:
                    raise ManifestError(f"volume {name}: give the claim {claim} a folder with "
                                        f"--volume {claim}=DIR")
                dirs[name] = self.claims[claim]
            elif "emptyDir" in v:
                d = os.path.join(pod_dir, "emptydir-" + name)
                os.makedirs(d)
                dirs[name] = d
            else:
                raise ManifestError(f"volume {name}: only configMap, secret, "
                                    "persistentVolumeClaim and emptyDir volumes run locally")
        return dirs

    def container_env(self, container, mounts, extra):
        env = {"PATH": self.netres_dir + ":/usr/local/bin:/usr/bin:/bin", "HOME": self.workdir,
               "LANG": "C.UTF-8"}
        env.update(extra)
        for e in container.get("env", []) or []:
            if "value" in e:
                value = str(e["value"])
            elif "configMapKeyRef" in e.get("valueFrom", {}):
                ref = e["valueFrom"]["configMapKeyRef"]
                data = self.configmap(ref["name"])
                if ref["key"] not in data:
                    raise ManifestError(f"env {e['name']}: ConfigMap {ref['name']} has no key "
                                        f"{ref['key']}")
                value = str(data[ref["key"]])
            else:
                raise ManifestError(f"env {e['name']}: only value and configMapKeyRef run "
                                    "locally")
            for mount_path, local in mounts.items():
                if value == mount_path or value.startswith(mount_path.rstrip("/") + "/"):
                    value = local + value[len(mount_path.rstrip("/")):]
            for service, address in self.services.items():
                if value == service or value.startswith(service + ":"):
                    value = address + value[len(service):]
            env[e["name"]] = value
        return env

    def start_container(self, c, dirs, pod_dir, pod_name, extra_env):
        """Starts one container's command as a process group; returns (name, Popen, log file,
        log path)."""
        mounts = {}
        for m in c.get("volumeMounts", []) or []:
            if m["name"] not in dirs:
                raise ManifestError(f"{pod_name}/{c['name']}: mount of unknown volume "
                                    f"{m['name']}")
            mounts[m["mountPath"]] = dirs[m["name"]]
        argv = list(c.get("command", []) or []) + list(c.get("args", []) or [])
        if not argv:
            raise ManifestError(f"{pod_name}/{c['name']}: no command (the image's "
                                "entrypoint does not run locally)")
        for mount_path in mounts:
            # The path as a path of its own ("/results/x"), not inside "$out/results-x".
            literal = re.compile(r"(^|[\s\"'=:(])" + re.escape(mount_path.rstrip("/")) +
                                 r"(?=$|[/\s\"';)])")
            if any(literal.search(a) for a in argv):
                raise ManifestError(f"{pod_name}/{c['name']}: the command names "
                                    f"{mount_path}; reach mounts through env variables")
        env = self.container_env(c, mounts, extra_env)
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns, *argv]
        log_path = os.path.join(self.workdir, f"{pod_name}-{c['name']}.log")
        out = open(log_path, "wb")
        p = subprocess.Popen(argv, env=env, cwd=pod_dir, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        return c["name"], p, out, log_path

    def run_pod(self, pod_spec, pod_name, extra_env, until=None):
        """Runs a pod: init containers one by one, then its containers together, until they
        end (a Job's pod) or `until` is set (a Deployment's). Returns (ok, [(container, exit
        code or "timeout" or "stopped", log path)])."""
        pod_dir = tempfile.mkdtemp(prefix=pod_name + "-", dir=self.workdir)
        dirs = self.volume_dirs(pod_spec, pod_dir)
        procs = []
        phases = [([c], None) for c in pod_spec.get("initContainers", []) or []]
        phases.append((pod_spec["containers"], until))
        deadline = time.monotonic() + self.timeout
        for phase, stop in phases:
            running = [self.start_container(c, dirs, pod_dir, pod_name, extra_env)
                       for c in phase]
            for name, p, out, log_path in running:
                rc = None
                while rc is None:
                    left = deadline - time.monotonic()
                    if left <= 0 or (stop is not None and stop.is_set()):
                        stop_group(p)
                        # A Deployment's pods run until stopped; a Job's pod must end in time.
                        rc = "stopped" if stop is not None else "timeout"
                        break
                    try:
                        rc = p.wait(timeout=min(left, 0.2))
                    except subprocess.TimeoutExpired:
                        pass
                out.close()
                procs.append((name, rc, log_path))
            if any(rc not in (0, "stopped") for _, rc, _ in procs):
                return False, procs
        return True, procs

    def run_deployment(self, deployment, replicas, stop):
        """Runs `replicas` pods of a Deployment side by side until `stop` is set."""
        name = deployment["metadata"]["name"]
        pod_spec = deployment["spec"]["template"]["spec"]
        with cf.ThreadPoolExecutor(max_workers=max(replicas, 1)) as pool:
            futures = {pool.submit(self.run_pod, pod_spec, f"{name}-{i}", {}, stop): f"{name}-{i}"
                       for i in range(replicas)}
            ok = True
            for fut in cf.as_completed(futures):
                good, procs = fut.result()
                ok = ok and good
                for cname, rc, log_path in procs:
                    self.log(f"{futures[fut]}/{cname}: {rc} (log {log_path})")
        return ok

    def run_job(self, job):
        name = job["metadata"]["name"]
        spec = job["spec"]
        pod_spec = spec["template"]["spec"]
        if pod_spec.get("restartPolicy") not in ("Never", "OnFailure"):
            raise ManifestError(f"Job {name}: restartPolicy must be Never or OnFailure")
        indexed = spec.get("completionMode") == "Indexed"
        completions = int(spec.get("completions", 1))
        parallelism = int(spec.get("parallelism", 1))
        ok = True
        results = {}
        # Pods of one Job run in threads of their own so `parallelism` of them overlap.
        with cf.ThreadPoolExecutor(max_workers=max(parallelism, 1)) as pool:
            futures = {}
            for i in range(completions):
                extra = {"JOB_COMPLETION_INDEX": str(i)} if indexed else {}
                pod = f"{name}-{i}" if indexed else name
                futures[pool.submit(self.run_pod, pod_spec, pod, extra)] = pod
            for fut in cf.as_completed(futures):
                pod = futures[fut]
                good, procs = fut.result()
                results[pod] = procs
                ok = ok and good
        for pod in sorted(results):
            for cname, rc, log_path in results[pod]:
                self.log(f"{pod}/{cname}: exit {rc} (log {log_path})")
        return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifests", nargs="+")
    ap.add_argument("--netres", required=True, help="the netres binary the pods run")
    ap.add_argument("--volume", action="append", default=[], metavar="CLAIM=DIR")
    ap.add_argument("--only", action="append", default=[], metavar="JOB",
                    help="run only these Jobs (default: every Job, in manifest order)")
    ap.add_argument("--workdir", help="where pods' folders and logs go (default: a temp dir)")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds a Job's pod may take; how long a Deployment runs (default 600)")
    ap.add_argument("--deployment", metavar="NAME",
                    help="run this Deployment's pods (no Jobs) until --timeout, SIGTERM or Ctrl-C")
    ap.add_argument("--replicas", type=int, help="with --deployment: instead of spec.replicas")
    ap.add_argument("--service", action="append", default=[], metavar="NAME=ADDRESS",
                    help="env values naming the Service NAME (NAME or NAME:PORT) get ADDRESS")
    ap.add_argument("--netns", help="run the containers in this network namespace")
    args = ap.parse_args()
    try:
        objects, order = load_objects(args.manifests)
        claims = {}
        for v in args.volume:
            claim, sep, d = v.partition("=")
            if not sep or not os.path.isdir(d):
                raise ManifestError(f"--volume {v}: write CLAIM=DIR with an existing folder")
            claims[claim] = os.path.abspath(d)
        workdir = args.workdir or tempfile.mkdtemp(prefix="netres-k8s-local-")
        os.makedirs(workdir, exist_ok=True)
        services = {}
        for v in args.service:
            service, sep, address = v.partition("=")
            if not sep or not address:
                raise ManifestError(f"--service {v}: write NAME=ADDRESS")
            services[service] = address
        runner = PodRunner(objects, args.netres, claims, workdir, args.timeout,
                           lambda line: print(line, flush=True), services, args.netns)
        if args.deployment:
            deployment = objects.get(("Deployment", args.deployment))
            if deployment is None:
                raise ManifestError(f"no Deployment named {args.deployment}")
            replicas = args.replicas if args.replicas is not None else int(
                deployment["spec"].get("replicas", 1))
            stop = threading.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
            return 0 if runner.run_deployment(deployment, replicas, stop) else 1
        jobs = [objects[k] for k in order if k[0] == "Job"]
        if args.only:
            missing = set(args.only) - {j["metadata"]["name"] for j in jobs}
            if missing:
                raise ManifestError(f"no Job named {', '.join(sorted(missing))}")
            jobs = [j for j in jobs if j["metadata"]["name"] in args.only]
        for job in jobs:
            if not runner.run_job(job):
                print(f"run_local: Job {job['metadata']['name']} failed", file=sys.stderr)
                return 1
        return 0
    except (ManifestError, KeyError, yaml.YAMLError) as e:
        print(f"run_local: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
