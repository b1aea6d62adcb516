# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""What the kubernetes and openshift scenarios' pytest modules share: the scenario's settings
(KAFKAOPS_K8S, written by k8s_verify.yml), an API client on the scenario's API server, playbook
runs with the JSON callback, and schema validation of rendered objects, and waiting for a condition."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import kubernetes_validate
from kubernetes import client, config, dynamic

CONF = json.loads(os.environ["KAFKAOPS_K8S"])
NAMESPACE = CONF["namespace"]
# the oldest and the newest Kubernetes versions the collection supports
SUPPORTED = ("1.29.0", "1.37.0")
STATE = {"runs": 0}


def api():
    """A dynamic client on the scenario's API server."""
    if "api" not in STATE:
        STATE["api"] = dynamic.DynamicClient(config.new_client_from_config(config_file=CONF["kubeconfig"]))
    return STATE["api"]


def core():
    if "core" not in STATE:
        STATE["core"] = client.CoreV1Api(config.new_client_from_config(config_file=CONF["kubeconfig"]))
    return STATE["core"]


def objects(api_version, kind, namespace=NAMESPACE):
    """Every object of a kind in the namespace, as plain dicts keyed by name."""
    resource = api().resources.get(api_version=api_version, kind=kind)
    found = resource.get(namespace=namespace) if resource.namespaced else resource.get()
    return {item["metadata"]["name"]: item for item in found.to_dict()["items"]}


def properties(text):
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def playbook(name, extra_vars=None, inventories=(), check=False, own_inventory=False, fails=False, limit=None):
    """Run playbooks/<name> on the scenario's inventory (plus ``inventories``; only those with
    ``own_inventory``), with ``--limit limit`` when given, with the JSON callback; fail on error (with
    ``fails``: on success, and return the report with the failures' messages in ``failures``)."""
    STATE["runs"] += 1
    varfile = os.path.join(CONF["workdir"], "k8s-vars-%d.json" % STATE["runs"])
    with open(varfile, "w") as handle:
        json.dump(extra_vars or {}, handle)
    os.chmod(varfile, 0o600)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook")]
    for source in ([] if own_inventory else list(CONF["inventory"])) + list(inventories):
        cmd += ["-i", source]
    cmd += ["-e", "@" + varfile, os.path.join(CONF["project"], "playbooks", name)]
    if check:
        cmd.append("--check")
    if limit:
        cmd += ["--limit", limit]
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1")
    started = time.monotonic()
    process = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False)
    report = json.loads(process.stdout[process.stdout.index("{"):]) if "{" in process.stdout else {}
    failed = [(task["task"]["name"], host, result.get("msg"))
              for play in report.get("plays", []) for task in play["tasks"]
              for host, result in task["hosts"].items() if result.get("failed") and not result.get("ignore_errors")]
    if fails:
        assert process.returncode != 0, "%s succeeded where it should have stopped" % name
        report["failures"] = failed
        return report
    assert process.returncode == 0, "%s failed (rc %d): %s\n%s" % (name, process.returncode, failed, process.stderr[-3000:])
    report["seconds"] = round(time.monotonic() - started, 1)
    print("%s: %ss, changed per host %s" % (name, report["seconds"],
                                            {h: s["changed"] for h, s in sorted(report["stats"].items())}))
    return report


def task_names(report, pattern):
    """Names of the tasks that ran (in order, each once) and match ``pattern``."""
    found = []
    for play in report["plays"]:
        for task in play["tasks"]:
            name = task["task"]["name"].split(" : ", 1)[-1]
            ran = [r for r in task["hosts"].values() if not r.get("skipped")]
            if ran and re.search(pattern, name):
                found.append(name)
    return found


def changed(report):
    return sum(stats["changed"] for stats in report["stats"].values())


def validate_rendered(rendered, crd_groups):
    """Validate rendered objects against the OpenAPI schemas of every supported version; objects of
    ``crd_groups`` are left to the API server, which validated them when they were applied.
    Returns how many validations ran."""
    checked = 0
    for version in SUPPORTED:
        for obj in rendered:
            if obj["apiVersion"].split("/")[0] in crd_groups:
                continue
            kubernetes_validate.validate(obj, version, strict=True)
            checked += 1
    return checked


def wait_for(predicate, timeout=120, interval=1.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
