# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_reassignment against a real 4-broker KRaft cluster on 127.0.0.1.

Every test starts from the same layout: topic data on brokers 1-3 only, broker 4 empty (a
broker just added). The module runs through ansible-playbook, as users run it; a watcher thread
reads the throttle configs through the admin client while it moves data.
"""
from __future__ import annotations

import signal
import threading
import time

import pytest
from kafka_local import LocalKafka

MESSAGES = 6000
PAYLOAD = b"m" * 1000
THROTTLE_KEYS = ("leader.replication.throttled.rate", "follower.replication.throttled.rate")
REPLICA_KEYS = ("leader.replication.throttled.replicas", "follower.replication.throttled.replicas")


@pytest.fixture(scope="module")
def cluster(local_kafka):
    """Four nodes, one of them the controller. Followers fetch at most 64 kB per partition and
    request, so that a throttle shows on partitions of a few hundred kB (by default one fetch
    of 1 MB copies such a partition before any quota applies)."""
    kafka = LocalKafka(nodes=4, controllers=1, properties={"replica.fetch.max.bytes": 65536})
    kafka.start()
    yield kafka
    kafka.stop()


def task(cluster, **args):
    args.setdefault("bootstrap_servers", cluster.bootstrap_servers)
    args.setdefault("poll_interval", 0.5)
    return {"name": "reassign", "kafkaops.platform.kafka_reassignment": args, "register": "out"}


def replicas(admin, topic=None):
    return {(p["topic"], p["partition"]): p["replicas"] for p in admin.partitions()
            if topic is None or p["topic"] == topic}


def throttles(admin):
    """Every replication throttle config on the cluster."""
    topics = sorted({p["topic"] for p in admin.partitions()})
    found = {}
    for name, configs in admin.configs("topic", topics).items():
        found.update({("topic", name, k): v for k, v in configs.items() if k in REPLICA_KEYS and v})
    for name, configs in admin.configs("broker", [1, 2, 3, 4]).items():
        found.update({("broker", name, k): v for k, v in configs.items() if k in THROTTLE_KEYS})
    return found


def wait_for(predicate, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s" % what)


def make_topic(cluster, name, partitions=8, messages=MESSAGES):
    """A topic with RF 3 on brokers 1-3 only, filled with ``messages`` records of 1 kB."""
    with cluster.admin() as admin:
        admin.create_topic(name, assignments={p: [(p + i) % 3 + 1 for i in range(3)] for p in range(partitions)})
    cluster.produce(name, messages, PAYLOAD)


class Watcher(threading.Thread):
    """Records the throttle configs and ongoing reassignments while a run moves data."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.samples = []
        self.stop = threading.Event()

    def run(self):
        with self.cluster.admin() as admin:
            while not self.stop.is_set():
                self.samples.append((len(admin.reassignments()), throttles(admin)))
                time.sleep(0.3)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join(10)


def spread(counts):
    return max(counts.values()) - min(counts.values())


def test_scale_out_moves_lower_bound_throttled_then_clean(cluster, ansible_playbook):
    topic = "scale-out"
    make_topic(cluster, topic)
    with cluster.admin() as admin:
        before = replicas(admin, topic)

    planned = ansible_playbook([task(cluster, state="planned", include_topics=[topic])]).results[0]
    assert planned["changed"] is False
    assert planned["stats"]["replica_moves"] == planned["stats"]["lower_bound"] == 6  # 24 replicas, 6 to broker 4
    check = ansible_playbook([task(cluster, include_topics=[topic], throttle=1048576)], check=True, diff=True)
    assert check.results[0]["changed"] is True
    assert check.results[0]["diff"]["after"]
    with cluster.admin() as admin:
        assert replicas(admin, topic) == before, "check mode changed the assignment"

    with Watcher(cluster) as watcher:
        run = ansible_playbook([task(cluster, include_topics=[topic], throttle=1048576, max_moves_per_broker=4)])
    result = run.results[0]
    assert result["changed"] is True
    assert len(result["executed"]) == 2, result["executed"]  # 6 moves onto broker 4, at most 4 per batch
    moving = [found for ongoing, found in watcher.samples if ongoing]
    assert moving, "the watcher never saw the reassignment in flight"
    seen = set().union(*moving)
    assert ("broker", "4", "follower.replication.throttled.rate") in seen
    assert all(value == "1048576" for key, value in moving[0].items() if key[0] == "broker")
    follower_lists = [v for found in moving for (kind, name, k), v in found.items() if k == REPLICA_KEYS[1]]
    assert follower_lists and all(entry.endswith(":4") for v in follower_lists for entry in v.split(","))

    with cluster.admin() as admin:
        assert throttles(admin) == {}, "throttles left after the run"
        assert admin.reassignments() == {}
        after = replicas(admin, topic)
        planned_after = {(e["topic"], e["partition"]): e["replicas"] for e in planned["proposed"]["partitions"]}
        assert {k: v for k, v in after.items() if k in planned_after} == planned_after
        counts = {b: sum(b in r for r in after.values()) for b in (1, 2, 3, 4)}
        leaders = {b: sum(p["leader"] == b for p in admin.partitions() if p["topic"] == topic) for b in (1, 2, 3, 4)}
    assert counts == {1: 6, 2: 6, 3: 6, 4: 6}
    assert spread(leaders) == 0, leaders
    assert cluster.count_keys(topic) == MESSAGES

    again = ansible_playbook([task(cluster, include_topics=[topic], throttle=1048576)]).results[0]
    assert again["changed"] is False
    assert again["stats"]["replica_moves"] == 0


def test_drain_leaves_nothing_on_the_removed_broker(cluster, ansible_playbook):
    topic = "drain"
    make_topic(cluster, topic, messages=2000)
    ansible_playbook([task(cluster, include_topics=[topic])])  # spread onto 4 first
    result = ansible_playbook([task(cluster, include_topics=[topic], remove_brokers=[4], throttle=4194304)]).results[0]
    assert result["changed"] is True
    assert result["stats"]["removed_brokers"] == [4]
    with cluster.admin() as admin:
        layout = replicas(admin, topic)
        assert not [k for k, r in layout.items() if 4 in r]
        assert all(len(r) == 3 for r in layout.values())
        health = admin.health([1, 2, 3, 4])
        assert health["under_replicated_partitions"] == []
        assert throttles(admin) == {}
    assert cluster.count_keys(topic) == 2000


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_interrupted_run_resumes(cluster, ansible_playbook, signum):
    topic = "interrupted-%s" % signum.name.lower()
    make_topic(cluster, topic)
    with cluster.admin() as admin:
        before = replicas(admin, topic)
        run = ansible_playbook([task(cluster, include_topics=[topic], throttle=262144)], background=True)
        wait_for(admin.reassignments, timeout=60, what="the reassignment to start")
        run.interrupt(signum)
        in_flight = admin.reassignments()
        left = throttles(admin)
    if signum == signal.SIGKILL:
        # killed outright: nothing could clean up, Kafka goes on with the throttled moves
        assert in_flight and left
    else:
        # stopped: the module removed its throttles on the way out
        assert left == {}, left

    resumed = ansible_playbook([task(cluster, include_topics=[topic], throttle=262144)]).results[0]
    if in_flight and any(key in resumed["resumed"] for key in ["%s-%d" % k for k in in_flight]):
        assert resumed["changed"] is True
    with cluster.admin() as admin:
        assert admin.reassignments() == {}
        assert throttles(admin) == {}
        after = replicas(admin, topic)
    assert after != before
    assert {b: sum(b in r for r in after.values()) for b in (1, 2, 3, 4)} == {1: 6, 2: 6, 3: 6, 4: 6}
    assert cluster.count_keys(topic) == MESSAGES
    final = ansible_playbook([task(cluster, include_topics=[topic])]).results[0]
    assert final["changed"] is False


def test_cancel_reverts_moves_in_flight(cluster, ansible_playbook):
    topic = "cancelled"
    make_topic(cluster, topic)
    with cluster.admin() as admin:
        before = replicas(admin, topic)
        run = ansible_playbook([task(cluster, include_topics=[topic], throttle=32768)], background=True)
        wait_for(admin.reassignments, timeout=60, what="the reassignment to start")
        run.interrupt(signal.SIGKILL)
        in_flight = ["%s-%d" % k for k in sorted(admin.reassignments())]
        assert in_flight
    check = ansible_playbook([task(cluster, state="cancelled")], check=True).results[0]
    assert check["changed"] is True
    assert check["cancelled"] and set(check["cancelled"]) <= set(in_flight)
    result = ansible_playbook([task(cluster, state="cancelled")]).results[0]
    assert result["changed"] is True
    assert result["cancelled"] and set(result["cancelled"]) <= set(check["cancelled"])
    with cluster.admin() as admin:
        assert admin.reassignments() == {}
        assert wait_for(lambda: throttles(admin) == {} or None, timeout=10, what="throttles to go") is True
        # the partitions in flight are back on their brokers (those done before the kill stay moved);
        # Kafka keeps the order of the interrupted target, so compare sets
        now = {"%s-%d" % k: sorted(r) for k, r in replicas(admin, topic).items()}
        was = {"%s-%d" % k: sorted(r) for k, r in before.items()}
        assert {k: now[k] for k in result["cancelled"]} == {k: was[k] for k in result["cancelled"]}
    again = ansible_playbook([task(cluster, state="cancelled")]).results[0]
    assert again["changed"] is False
    ansible_playbook([task(cluster, include_topics=[topic])])  # leave the cluster balanced for other tests


def test_replication_factor_change_and_explicit_assignment(cluster, ansible_playbook):
    topic = "rf-change"
    make_topic(cluster, topic, partitions=4, messages=500)
    result = ansible_playbook([task(cluster, include_topics=[topic], replication_factors={topic: 2})]).results[0]
    assert result["changed"] is True
    with cluster.admin() as admin:
        layout = replicas(admin, topic)
    assert all(len(r) == 2 for r in layout.values())
    counts = {b: sum(b in r for r in layout.values()) for b in (1, 2, 3, 4)}
    assert counts == {1: 2, 2: 2, 3: 2, 4: 2}

    wanted = {"version": 1, "partitions": [{"topic": topic, "partition": 0, "replicas": [4, 3, 1]}]}
    applied = ansible_playbook([task(cluster, assignment=wanted, elect_leaders=False)]).results[0]
    assert applied["changed"] is True
    with cluster.admin() as admin:
        assert replicas(admin, topic)[(topic, 0)] == [4, 3, 1]
    # run again with the election: nothing moves; at most the leader of partition 0 goes to broker 4
    again = ansible_playbook([task(cluster, assignment=wanted)]).results[0]
    assert again["executed"] == [] and again["elected"] in ([], ["%s-0" % topic])
    assert ansible_playbook([task(cluster, assignment=wanted)]).results[0]["changed"] is False
    with cluster.admin() as admin:
        assert [p["leader"] for p in admin.partitions() if p["topic"] == topic and p["partition"] == 0] == [4]
    assert cluster.count_keys(topic) == 500


def test_bad_input_fails_before_any_change(cluster, ansible_playbook):
    cases = [
        (dict(brokers=[1, 2, 9]), "brokers 9 are not registered and unfenced in the cluster"),
        (dict(throttle=10), "throttle is in bytes per second and must be at least 1024"),
        (dict(assignment={"version": 1, "partitions": [{"topic": "nope", "partition": 0, "replicas": [1]}]}),
         "assignment names nope-0, which does not exist"),
        (dict(include_topics=["no-such-topic"]), "no-such-topic"),
    ]
    with cluster.admin() as admin:
        before = replicas(admin)
    for args, message in cases:
        run = ansible_playbook([task(cluster, **args)], expect_failure=True)
        assert run.rc != 0
        assert message in run.results[0]["msg"], run.results[0]["msg"]
    with cluster.admin() as admin:
        assert replicas(admin) == before


def test_offline_plan_needs_no_cluster(ansible_playbook):
    current = {"version": 1, "partitions": [{"topic": "t", "partition": p, "replicas": [(p + i) % 3 + 1 for i in range(2)]}
                                            for p in range(6)]}
    args = {"current_assignment": current, "brokers": [1, 2, 3, 4]}
    result = ansible_playbook([{"name": "plan", "kafkaops.platform.kafka_reassignment": args}]).results[0]
    assert result["changed"] is False
    assert result["stats"]["replica_moves"] == result["stats"]["lower_bound"] == 3
    assert result["stats"]["replicas"] == {"1": 3, "2": 3, "3": 3, "4": 3}
