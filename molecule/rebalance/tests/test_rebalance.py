# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Reassignment on the scenario's real cluster, in order (pytest -x):

1. RF 3 topics filled with data on brokers 1-4; site.yml --check --diff with host 5 added and a property
   changed shows the diffs of hosts 1-4 and 5 and changes nothing;
2. scale_out.yml adds host 5 with a throttle: a watcher sees the throttle on the moving replicas
   and brokers while data moves and none afterwards; broker 5 takes its share; replicas and
   leaders are balanced; every message is still readable;
3. scale_out.yml again: nothing changes on any host;
4. rebalance.yml draining broker 4 is killed (SIGKILL, whole process tree) mid-way: Kafka is left
   moving, throttled; decommission_broker.yml resumes the drain, finishes it, stops and unregisters
   broker 4: no replica on it, no under-replicated partition, every message readable;
5. decommission_broker.yml again: nothing changes.

Configuration comes from verify.yml in KAFKAOPS_REBALANCE (inventory, hosts and node ids, addresses).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer
from playbook_runs import Playbooks, start_times
from proctree import stop_tree

from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin

CONF = json.loads(os.environ["KAFKAOPS_REBALANCE"])
HOSTS = CONF["hosts"]  # inventory name -> node id
BY_ID = {node: name for name, node in HOSTS.items()}
ADDRESS = CONF["addresses"]
PORT = 9092
TOPICS = {"orders": 6, "events": 6, "audit": 4}  # name -> partitions, all RF 3
MESSAGES = 1500  # per partition, 1 kB each: ~1.5 MB per partition
THROTTLE = 1048576
PAYLOAD = b"r" * 1000
RATE_KEYS = ("leader.replication.throttled.rate", "follower.replication.throttled.rate")
REPLICA_KEYS = ("leader.replication.throttled.replicas", "follower.replication.throttled.replicas")
STATE = {}


def bootstrap(ids):
    return ["%s:%d" % (ADDRESS[BY_ID[i]], PORT) for i in sorted(ids)]


def admin(ids=(1, 2, 3)):
    return KafkaAdmin(bootstrap(ids))


def write_extra_inventory():
    """Host 5 in kafka_broker: a second inventory source merged with molecule's."""
    path = os.path.join(CONF["workdir"], "rebalance-scale-out.yml")
    with open(path, "w") as handle:
        json.dump({"kafka_broker": {"hosts": {BY_ID[5]: {}}}}, handle)
    return path


PLAYBOOKS = Playbooks(CONF["project"], CONF["inventory"], CONF["workdir"], "rebalance")
playbook = PLAYBOOKS.run


def task_results(report, name):
    """Results of the task called ``name`` (on any host), loop items flattened."""
    found = []
    for play in report["plays"]:
        for task in play["tasks"]:
            # tasks of an included role are reported as "<role> : <task>"
            if task["task"]["name"] == name or task["task"]["name"].endswith(" : " + name):
                for result in task["hosts"].values():
                    found.extend(result.get("results", [result]))
    return found


def layout(client):
    return {(p["topic"], p["partition"]): p for p in client.partitions() if p["topic"] in TOPICS}


def throttles(client, brokers):
    found = {}
    for name, configs in client.configs("topic", sorted(TOPICS)).items():
        found.update({("topic", name, k): v for k, v in configs.items() if k in REPLICA_KEYS and v})
    for name, configs in client.configs("broker", sorted(brokers)).items():
        found.update({("broker", name, k): v for k, v in configs.items() if k in RATE_KEYS})
    return found


def spread(values):
    return max(values) - min(values)


def read_back(ids):
    """Every message of every topic, as {topic: set of keys}."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap(ids), auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=10000)
    consumer.subscribe(sorted(TOPICS))
    keys = {topic: set() for topic in TOPICS}
    for record in consumer:
        keys[record.topic].add(record.key)
    consumer.close()
    return keys


def check_everything_readable(ids):
    keys = read_back(ids)
    assert {t: len(k) for t, k in keys.items()} == {t: n * MESSAGES for t, n in TOPICS.items()}


class Watcher(threading.Thread):
    """Samples ongoing reassignments and the throttle configs of every live broker every 0.3 s.

    A broker that joins later is unknown to a client that connected before it; on any error the
    watcher reconnects, so samples go on through the scale out."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []
        self.errors = []
        self.done = threading.Event()

    def run(self):
        client = None
        while not self.done.is_set():
            try:
                if client is None:
                    client = admin([1, 2, 3])
                    client.connect()
                live = [b["id"] for b in client.cluster()["brokers"] if not b["fenced"]]
                self.samples.append((time.monotonic(), len(client.reassignments()), throttles(client, live)))
            except Exception as exc:  # brokers restarting or joining: reconnect and go on
                self.errors.append(str(exc))
                if client is not None:
                    client.close()
                client = None
            time.sleep(0.3)
        if client is not None:
            client.close()

    def stop(self):
        self.done.set()
        self.join(15)


def test_the_hosts_run_debian_trixie_with_java_21():
    """The scenario stands for the second Debian release the roles claim (meta/main.yml platforms)."""
    for host in HOSTS:
        assert on_host(host, "cat", "/etc/debian_version").stdout.startswith("13."), host
        java = on_host(host, "java", "-version")
        assert 'version "21.' in java.stderr, (host, java.stderr)


def test_seed_topics():
    with admin() as client:
        for topic, partitions in TOPICS.items():
            if topic not in client.topics([topic]):
                client.create_topic(topic, partitions=partitions, replication_factor=3,
                                    configs={"min.insync.replicas": 2})
        current = layout(client)
        assert {b for p in current.values() for b in p["replicas"]} == {1, 2, 3, 4}
    producer = KafkaProducer(bootstrap_servers=bootstrap([1, 2, 3, 4]), acks="all", linger_ms=50, batch_size=262144)
    for topic, partitions in TOPICS.items():
        for partition in range(partitions):
            for index in range(MESSAGES):
                producer.send(topic, PAYLOAD, key=b"%d-%d" % (partition, index), partition=partition)
    producer.flush(120)
    producer.close()
    check_everything_readable([1, 2, 3, 4])


def host_results(report, prefix):
    """``{host: result}`` of the tasks whose name starts with ``prefix`` (role tasks: "<role> : <name>")."""
    found = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ")[-1].startswith(prefix):
                found.update({host: result for host, result in task["hosts"].items() if not result.get("skipped")})
    return found


def on_host(host, *command):
    return subprocess.run(["podman", "exec", host] + list(command), capture_output=True, text=True, check=False)


def test_check_mode_previews_a_new_broker_and_a_property_change():
    """site.yml --check --diff with host 5 added (fresh: nothing of Kafka on it) and a broker property changed
    on hosts 1-4 (deployed): it completes, shows each deployed broker's server.properties diff and the file
    host 5 would get, says what it cannot show before Kafka is on host 5 and which brokers a real run would
    restart - and changes nothing: no process restarts, no file is written, host 5 stays bare."""
    inventory = write_extra_inventory()
    deployed = [BY_ID[i] for i in (1, 2, 3, 4)]
    started = start_times(deployed)
    report = playbook("site.yml", {"kafka_broker_properties": {"log.cleaner.threads": 2}}, inventories=[inventory],
                      check=True)
    assert report["failed"] == []
    written = host_results(report, "Write the configuration of kafka-broker")
    assert sorted(written) == sorted(deployed + [BY_ID[5]])
    for host, result in written.items():
        diff = result["diff"][0] if isinstance(result["diff"], list) else result["diff"]
        assert result["changed"] and "log.cleaner.threads=2\n" in diff["after"], (host, diff)
        assert "log.cleaner.threads" not in diff["before"], (host, diff)
        assert ("node.id=5\n" in diff["after"] and diff["before"] == "") == (host == BY_ID[5]), (host, diff)
    notes = host_results(report, "Check mode: note what cannot be shown before the process is installed, for kafka-broker")
    assert BY_ID[5] in notes and not set(deployed) & set(notes), notes
    assert "kafka-broker is not installed on this host yet" in notes[BY_ID[5]]["msg"]
    (said,) = host_results(report, "Check mode: say which hosts a real run would restart").values()
    named = said["msg"].split(" on ", 1)[1].split(", one at a time")[0].split(", ")
    assert sorted(named) == sorted(deployed), said["msg"]
    assert start_times(deployed) == started, "check mode restarted a broker"
    assert "log.cleaner.threads" not in on_host(BY_ID[1], "cat", "/etc/kafka/kafka-broker/server.properties").stdout
    assert on_host(BY_ID[5], "test", "-e", "/opt/kafka").returncode == 1, "check mode wrote on host 5"
    assert on_host(BY_ID[5], "getent", "passwd", "kafka").returncode == 2, "check mode created the service user on host 5"


def test_scale_out_throttled_and_balanced():
    inventory = write_extra_inventory()
    STATE["inventory"] = inventory
    with admin() as client:
        sizes = client.partition_sizes()
    watcher = Watcher()
    watcher.start()
    try:
        report = playbook("scale_out.yml", {"platform_rebalance_throttle": THROTTLE,
                                            "platform_rebalance_max_moves_per_broker": 3}, inventories=[inventory])
    finally:
        watcher.stop()
    plan = task_results(report, "Plan the reassignment")[0]
    assert plan["stats"]["replica_moves"] == plan["stats"]["lower_bound"] > 0
    assert plan["stats"]["added_brokers"] == [5]
    batches = task_results(report, "Move the replicas")
    assert len(batches) == len(plan["batches"]) >= 2
    assert all(b["changed"] for b in batches)

    moving = [found for _at, ongoing, found in watcher.samples if ongoing]
    print("watcher: %d samples, %d while moving, %d errors (last: %s)" % (
        len(watcher.samples), len(moving), len(watcher.errors), watcher.errors[-1:]))
    assert moving, "no sample saw the reassignment in flight"
    # configs reach the broker that answers a describe a moment after the controller took them,
    # so a sample taken right as a batch starts may miss them: most samples must see them
    throttled = [found for found in moving if found.get(("broker", "5", "follower.replication.throttled.rate")) == str(THROTTLE)]
    assert len(throttled) >= 0.8 * len(moving), "%d of %d samples saw data moving without the throttle" % (
        len(moving) - len(throttled), len(moving))
    followers = {v for found in moving for (kind, _n, key), v in found.items() if key == REPLICA_KEYS[1]}
    assert followers and all(entry.endswith(":5") for value in followers for entry in value.split(","))

    # the throttle bounded the copy: broker 5 cannot have received faster than the rate allows
    # (Kafka's quota window lets a little more through at the start, hence the factor)
    onto_5 = sum(sizes.get(("%s" % e["topic"], e["partition"]), 0)
                 for b in plan["batches"] for e in b["partitions"] if 5 in e["replicas"])
    seconds = sum(b["executed"][0]["seconds"] for b in batches if b["executed"])
    STATE["scale_out"] = {"bytes_to_broker_5": onto_5, "move_seconds": seconds, "moves": plan["stats"]["replica_moves"],
                          "lower_bound": plan["stats"]["lower_bound"], "playbook_seconds": report["seconds"]}
    print("scale out:", STATE["scale_out"])
    assert onto_5 > 4 * THROTTLE
    assert seconds >= 0.5 * onto_5 / THROTTLE

    with admin() as client:
        assert throttles(client, [1, 2, 3, 4, 5]) == {}, "throttles left after the scale out"
        assert client.reassignments() == {}
        current = layout(client)
        health = client.health([1, 2, 3, 4, 5])
    assert health["healthy"], health["problems"]
    replicas = [sum(b in p["replicas"] for p in current.values()) for b in (1, 2, 3, 4, 5)]
    leaders = [sum(p["leader"] == b for p in current.values()) for b in (1, 2, 3, 4, 5)]
    assert replicas[4] > 0
    assert spread(replicas) <= 1, replicas
    assert spread(leaders) <= 1, leaders
    assert all(p["leader"] == p["replicas"][0] for p in current.values())
    check_everything_readable([1, 2, 3, 5])


def test_scale_out_again_changes_nothing():
    report = playbook("scale_out.yml", {"platform_rebalance_throttle": THROTTLE}, inventories=[STATE["inventory"]])
    assert {h: s["changed"] for h, s in report["stats"].items() if s["changed"]} == {}
    assert task_results(report, "Plan the reassignment")[0]["stats"]["replica_moves"] == 0


def test_interrupted_drain_resumes_and_decommission_removes_the_broker():
    inventory = STATE.get("inventory") or write_extra_inventory()
    with admin() as client:
        # a throttle so low that the moves it starts are still in flight when the next run begins (at
        # 32 kB/s a loaded make test saw them finish first); the resumed moves go at the new run's rate
        run = playbook("rebalance.yml", {"platform_rebalance_throttle": 8192, "platform_rebalance_remove_brokers": [4]},
                       inventories=[inventory], background=True)
        deadline = time.monotonic() + 300
        while not client.reassignments():
            assert run.poll() is None, "rebalance.yml ended before it moved anything"
            assert time.monotonic() < deadline, "no reassignment started within 300 s"
            time.sleep(0.3)
        stop_tree(run.pid, signal.SIGKILL)
        run.wait(60)
        in_flight = client.reassignments()
        left = throttles(client, [1, 2, 3, 4, 5])
    assert in_flight, "the kill came after the moves had finished"
    assert left, "a killed run cannot have removed its throttles"

    report = playbook("decommission_broker.yml", {"decommission_broker": BY_ID[4], "platform_rebalance_throttle": 1048576},
                      inventories=[inventory])
    first = (task_results(report, "Move the replicas") or task_results(report, "Verify the assignment and elect preferred leaders"))[0]
    assert first["resumed"], "the drain did not wait for the moves the killed run had left in flight"
    STATE["decommission_seconds"] = report["seconds"]

    with admin() as client:
        assert client.reassignments() == {}
        assert throttles(client, [1, 2, 3, 5]) == {}
        current = layout(client)
        health = client.health([1, 2, 3, 5])
        brokers = [b["id"] for b in client.cluster()["brokers"]]
    assert not [k for k, p in current.items() if 4 in p["replicas"]], "replicas left on broker 4"
    assert health["healthy"], health["problems"]
    assert health["under_replicated_partitions"] == []
    assert brokers == [1, 2, 3, 5], "broker 4 is still registered"
    replicas = [sum(b in p["replicas"] for p in current.values()) for b in (1, 2, 3, 5)]
    assert spread(replicas) <= 1, replicas
    check_everything_readable([1, 2, 3, 5])


def test_decommission_again_changes_nothing():
    report = playbook("decommission_broker.yml", {"decommission_broker": BY_ID[4]},
                      inventories=[STATE.get("inventory") or write_extra_inventory()])
    assert {h: s["changed"] for h, s in report["stats"].items() if s["changed"]} == {}


@pytest.fixture(scope="session", autouse=True)
def summary():
    yield
    print("rebalance scenario figures:", json.dumps({k: v for k, v in STATE.items() if k not in ("inventory", "runs")}))
