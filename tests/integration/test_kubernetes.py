#!/usr/bin/env python3
"""deploy/kubernetes/ without a cluster: the manifests are checked for what a cluster would
reject or silently get wrong, and their Jobs' own commands are run on this machine by
deploy/kubernetes/run_local.py (N pods as N processes with JOB_COMPLETION_INDEX set, then the
merge Job), against a host in a network namespace of this test's own (198.18.41.0/30); the merged
result must equal one run of the whole job.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import netres, require_root  # noqa: E402

sys.path.insert(0, harness.FIXTURES)
from netns import NamespaceHost  # noqa: E402

DEPLOY = os.path.join(harness.SOURCE_DIR, "deploy", "kubernetes")
RUN_LOCAL = os.path.join(DEPLOY, "run_local.py")
NS, HOST_IF, NS_IF = "netres-k8s-t", "netres-k8s0", "netres-k8s1"
HOST_V4, TARGET_V4 = "198.18.41.1", "198.18.41.2"


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


if __name__ == "__main__":
    harness.main()
