# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The corpus of malformed inventories (``preflight_corpus/*.yml``, one case per file), each run
through ``site.yml`` on real test hosts, not in check mode: it must stop in the first play (the
read-only checks) with a message naming the key, change nothing on any host (the recap), and leave
the hosts as they were (no package, user, group, directory or file created - compared before and
after the whole corpus).

A case file holds ``description``, ``expect`` (text the output must contain) and ``inventory``:
changes to a good three-node KRaft inventory - ``group_vars`` (added to ``all``), ``hosts``
(the Kafka hosts with their variables, ``k1``..``k3`` by default), ``controllers`` and ``brokers``
(which of them), ``zookeeper`` and ``services`` (group -> hosts with their variables). The
inventory's hosts are spread over three test hosts (containers), several names per container.
The cases run three at a time.
"""
from __future__ import annotations

import concurrent.futures
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "preflight_corpus")
HOSTS_PY = os.path.join(ROOT, "tests", "harness", "hosts.py")
PREFIX = os.environ.get("KAFKAOPS_HOST_PREFIX") or "kafkaops-" + hashlib.sha256(ROOT.encode()).hexdigest()[:6]
PREFIX += "-preflight"
CONTAINERS = ["%s-%d" % (PREFIX, i) for i in (1, 2, 3)]
PARALLEL = 3
GOOD_HOSTS = {"k1": {"kafka_node_id": 1}, "k2": {"kafka_node_id": 2}, "k3": {"kafka_node_id": 3}}
# secrets some cases carry: no output may show them
SECRETS = ("Pw-one", "Pw-two", "Pw-three", "pw,admin", "Admin-secret-1", "Store-pass", "Trust-pass-1")

# what a host's state is made of: every path of its root file system (owner, mode) but the
# kernel's, the scratch folders and what Ansible, systemd and the test harness keep (the module
# payload cache of tests/harness/hostpy and Python's byte code of it), and apt's binary package
# caches (pkgcache.bin, srcpkgcache.bin: rebuilt from the package lists by any apt query - the
# package module in check mode asks which packages are installed); users, groups, packages
SNAPSHOT = r"""
find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/tmp \
  -o -path /root/.ansible -o -path /var/log/journal -o -path /var/lib/systemd -o -path /var/cache/kafkaops-zipimport \
  -o -name __pycache__ -o -path /var/cache/apt/pkgcache.bin -o -path /var/cache/apt/srcpkgcache.bin \) -prune \
  -o -printf '%p %U:%G %m\n'
echo '== users'; getent passwd
echo '== groups'; getent group
echo '== packages'; dpkg-query -W -f '${Package} ${Version}\n'
"""


def load_cases():
    cases = []
    for path in sorted(glob.glob(os.path.join(CORPUS, "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            case = yaml.safe_load(handle)
        assert {"description", "expect", "inventory"} <= set(case) <= {"description", "expect", "inventory", "limit"}, \
            "%s: keys must be description, expect, inventory (and limit)" % path
        assert set(case["inventory"]) <= {"group_vars", "hosts", "controllers", "brokers", "zookeeper", "services"}, path
        case["id"] = os.path.basename(path)[:-4]
        cases.append(case)
    return cases


CASES = load_cases()

# Good inventories run through ``site.yml --check --diff`` on the same fresh hosts, beside the corpus:
# each must complete, show the files it would write, announce what it cannot show before Kafka is on
# the host, and (test_the_hosts_are_unchanged) leave every host as it was.
SECURE = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_SSL", "authentication": "scram-sha-512"},
        {"name": "INTERNAL", "port": 9091, "protocol": "SSL", "authentication": "mtls"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "SSL", "authentication": "mtls"},
    ],
    "inter_broker_listener": "INTERNAL",
    "controller_listener": "CONTROLLER",
    "authorizer": {"enabled": True, "super_users": ["User:kafka-node"]},
    "principal_mapping": {"ssl": ["RULE:^CN=[^,]+,OU=kafka-node$/kafka-node/", "DEFAULT"]},
    "credentials": {"admin": {"username": "admin", "password": "Admin-secret-1"},
                    "users": [{"username": "app", "password": "Pw-one"}]},
}
PREVIEWS = [
    {"id": "preview-kraft", "description": "three combined KRaft nodes", "inventory": {},
     "expect": ["check mode: Kafka 4.3.1 is not on this host yet", "check mode: kafka-broker is not installed",
                "+process.roles=broker,controller", "check mode: no broker of this play is installed yet"]},
    {"id": "preview-secure", "description": "SASL_SSL, mTLS and ACLs with the internal CA",
     "inventory": {"group_vars": {"platform_tls_internal_ca": True, "platform_security": SECURE,
                                  "platform_acls": [{"principal": "User:app", "resource_type": "topic",
                                                     "resource_name": "app-", "pattern_type": "prefixed",
                                                     "operations": ["read"]}]}},
     # server.properties holds the JAAS lines: its diff is hidden, and the CA is not created on the control node
     "expect": ["check mode: the internal CA is not in", "a real run creates it (ca.key, ca.crt) there",
                "a real run makes its private key, has the CA sign a certificate for k1",
                "check mode: kafka-broker is not installed"]},
    {"id": "preview-zookeeper", "description": "Kafka 3.9 brokers on a ZooKeeper ensemble",
     "inventory": {"controllers": [], "group_vars": {"platform_kafka_mode": "zookeeper", "platform_kafka_version": "3.9.2"},
                   "zookeeper": {"z1": {"zookeeper_myid": 1}, "z2": {"zookeeper_myid": 2}, "z3": {"zookeeper_myid": 3}}},
     "expect": ["check mode: zookeeper is not installed", "+zookeeper.connect=", "check mode: kafka-broker is not installed"]},
    {"id": "preview-connect", "description": "a Connect worker beside the brokers",
     "inventory": {"services": {"kafka_connect": {"w1": {"kafka_connect_cluster": "cdc"}}}},
     "expect": ["check mode: kafka-connect is not installed", "+group.id="]},
]


def inventory(case, work):
    """The case's inventory as JSON, its hosts placed on the containers; returns its path."""
    spec = case["inventory"]
    hosts = spec.get("hosts", GOOD_HOSTS)
    names = list(hosts)
    controllers = spec.get("controllers", names)
    brokers = spec.get("brokers", names)
    archive = os.path.join(work, "kafka.tgz")
    with open(archive, "wb") as handle:
        handle.write(b"not a real archive: preflight only checks that it exists")
    all_vars = {
        "ansible_connection": "podman_nsenter",
        "platform_kafka_archive_src": archive,
        "platform_host_address": "{{ inventory_hostname }}.invalid",
    }
    all_vars.update(spec.get("group_vars") or {})
    groups = {
        "kafka_controller": {"hosts": {n: dict(hosts[n]) for n in controllers}},
        "kafka_broker": {"hosts": {n: {} if n in controllers else dict(hosts[n]) for n in brokers}},
        "zookeeper": {"hosts": {n: dict(v or {}) for n, v in (spec.get("zookeeper") or {}).items()}},
    }
    for group, members in (spec.get("services") or {}).items():
        groups[group] = {"hosts": {n: dict(v or {}) for n, v in members.items()}}
    placed = {}
    for group in groups.values():
        for name, variables in group["hosts"].items():
            placed.setdefault(name, CONTAINERS[len(placed) % len(CONTAINERS)])
            variables["ansible_host"] = placed[name]
    path = os.path.join(work, "hosts.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"all": {"vars": all_vars, "children": groups}}, handle)
    return path


def run_site(case, work, check=False):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_CONNECTION_PLUGINS=os.path.join(ROOT, "tests", "harness", "ansible_plugins", "connection"))
    limit = ["--limit", case["limit"]] if case.get("limit") else []
    limit += ["--check", "--diff"] if check else []
    result = subprocess.run(["ansible-playbook", "-i", inventory(case, work), "kafkaops.platform.site"] + limit, env=env,
                            capture_output=True, text=True, timeout=600, check=False, cwd=work)
    return result.returncode, result.stdout + result.stderr


def snapshot():
    """Each container's paths, users, groups and packages, as sets of lines."""
    state = {}
    for name in CONTAINERS:
        out = subprocess.run(["podman", "exec", name, "sh", "-c", SNAPSHOT], capture_output=True, text=True,
                             timeout=300, check=True).stdout
        state[name] = set(out.splitlines())
    return state


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Boots the three test hosts, runs every case (three at a time) and yields
    ``(results, snapshot before, work directory per case)``; removes the hosts at the end."""
    subprocess.run([sys.executable, HOSTS_PY, "up", "--prefix", PREFIX, "--names"] + CONTAINERS, check=True, timeout=900)
    try:
        before = snapshot()
        work = {case["id"]: str(tmp_path_factory.mktemp(case["id"])) for case in CASES + PREVIEWS}
        with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            # the previews first: they run longest
            futures = {case["id"]: pool.submit(run_site, case, work[case["id"]], True) for case in PREVIEWS}
            futures.update({case["id"]: pool.submit(run_site, case, work[case["id"]]) for case in CASES})
            results = {key: future.result() for key, future in futures.items()}
        yield results, before, work
    finally:
        subprocess.run([sys.executable, HOSTS_PY, "down", "--prefix", PREFIX], check=False, timeout=300)


def test_the_corpus_is_large_and_every_case_is_different():
    assert len(CASES) >= 40
    inventories = [json.dumps(case["inventory"], sort_keys=True) for case in CASES]
    assert len(set(inventories)) == len(inventories)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_a_malformed_inventory_stops_in_the_first_play(corpus, case):
    results, _before, _work = corpus
    rc, output = results[case["id"]]
    tail = "%s\n...\n%s" % (case["description"], output[-3000:])
    assert rc != 0, tail
    assert case["expect"] in output, tail
    # the first play is where it stopped: no later play began
    assert output.count("PLAY [") == 1, tail
    recap = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.MULTILINE)
    assert recap and all(changed == "0" for _host, changed in recap), tail
    assert not any(secret in output for secret in SECRETS), tail


@pytest.mark.parametrize("case", PREVIEWS, ids=[case["id"] for case in PREVIEWS])
def test_check_mode_on_fresh_hosts_completes_and_shows_what_it_would_do(corpus, case):
    results, _before, work = corpus
    rc, output = results[case["id"]]
    tail = "%s\n...\n%s" % (case["description"], output[-5000:])
    assert rc == 0, tail
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.MULTILINE))
    # every host would change (packages, the account, the files shown with --diff); none failed
    assert recap and all(int(changed) > 0 for changed in recap.values()), tail
    assert not re.search(r"^\S+\s+: .*failed=[1-9]", output, re.MULTILINE), tail
    flat = " ".join(output.split())  # the callback folds long messages over lines
    for text in case["expect"]:
        assert text in flat, "%r not in the output of %s" % (text, tail)
    assert not any(secret in output for secret in SECRETS), tail
    # nothing written on the control node either: no CA directory beside the inventory
    assert not os.path.exists(os.path.join(work[case["id"]], ".kafkaops-ca")), tail


def test_the_report_lists_every_case_with_its_message(corpus):
    """``.cache/preflight-corpus.txt``: each case and the line of the output that names the problem."""
    results, _before, _work = corpus
    lines = []
    for case in CASES:
        output = results[case["id"]][1]
        said = next((line.strip() for line in output.splitlines() if case["expect"].splitlines()[0] in line), "(not found)")
        lines.append("%s\n    %s" % (case["description"], said))
    os.makedirs(os.path.join(ROOT, ".cache"), exist_ok=True)
    with open(os.path.join(ROOT, ".cache", "preflight-corpus.txt"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    assert "(not found)" not in "\n".join(lines)


def test_the_hosts_are_unchanged(corpus):
    _results, before, _work = corpus
    after = snapshot()
    for name in CONTAINERS:
        added = sorted(after[name] - before[name])
        removed = sorted(before[name] - after[name])
        assert not added and not removed, "%s changed: added %s, removed %s" % (name, added[:20], removed[:20])
