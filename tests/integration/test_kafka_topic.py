# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_topic against a real 3-node KRaft cluster, run through ansible-playbook: creation,
idempotence, configs (set, delete, purge), partitions, check mode, diff, removal and refused input,
each checked on the cluster through the admin client; and a replication factor change through the
planner and the reassignment executor, with the data still all there afterwards."""

from __future__ import annotations

import secrets
import time

import pytest

REPLICA_KEYS = ("leader.replication.throttled.replicas", "follower.replication.throttled.replicas")


@pytest.fixture(scope="module")
def cluster(local_kafka):
    return local_kafka(nodes=3)


def unique(prefix):
    return "%s-%s" % (prefix, secrets.token_hex(4))


def task(title, **options):
    args = {"bootstrap_servers": "{{ bootstrap_servers }}"}
    args.update(options)
    return {"name": title, "kafkaops.platform.kafka_topic": args}


def variables(cluster, **more):
    return dict(bootstrap_servers=cluster.bootstrap_servers, **more)


def on_cluster(cluster, topic):
    """``(partition count, sorted replication factors, dynamic configs)``, or None when the topic does not exist."""
    with cluster.admin() as admin:
        parts = admin.topics([topic]).get(topic)
        if not parts:
            return None
        configs = admin.configs("topic", [topic], sources=["DYNAMIC_TOPIC_CONFIG"])[topic]
    return len(parts), sorted({len(p["replicas"]) for p in parts}), configs


def test_create_idempotent_check_mode_and_diff(cluster, ansible_playbook):
    topic = unique("orders")
    extra = variables(cluster, topic=topic)
    create = task("Create the topic", name="{{ topic }}", partitions=3, replication_factor=2,
                  configs={"retention.ms": 86400000, "unclean.leader.election.enable": False,
                           "cleanup.policy": ["compact", "delete"]})

    checked = ansible_playbook([create], extra_vars=extra, check=True, diff=True).results[0]
    assert checked["changed"] is True and checked["created"] is True
    assert checked["diff"]["before"] == ""
    assert checked["diff"]["after"] == ("partitions: 3\nreplication_factor: 2\nconfigs:\n"
                                        "  cleanup.policy: compact,delete\n  retention.ms: 86400000\n"
                                        "  unclean.leader.election.enable: false\n")
    assert on_cluster(cluster, topic) is None, "check mode created the topic"

    created, again = ansible_playbook([create, dict(create, name="Create the topic again")],
                                      extra_vars=extra, diff=True).results
    assert created["changed"] is True and created["created"] is True
    assert again["changed"] is False and again["created"] is False
    assert again["configs_set"] == {} and again["configs_deleted"] == [] and again["partitions_added"] == 0
    assert "diff" not in again or again["diff"]["before"] == again["diff"]["after"]
    wanted = {"cleanup.policy": "compact,delete", "retention.ms": "86400000", "unclean.leader.election.enable": "false"}
    assert again["topic"] == {"name": topic, "exists": True, "partitions": 3, "replication_factor": 2, "configs": wanted}
    assert on_cluster(cluster, topic) == (3, [2], wanted)


def test_configs_set_delete_and_purge(cluster, ansible_playbook):
    topic = unique("configs")
    extra = variables(cluster, topic=topic)
    ansible_playbook([task("Create", name="{{ topic }}", partitions=1, replication_factor=1,
                           configs={"retention.ms": 3600000, "segment.bytes": 10485760})], extra_vars=extra)

    change = task("Change configs", name="{{ topic }}",
                  configs={"retention.ms": 7200000, "segment.bytes": None, "max.message.bytes": 2097152,
                           "message.timestamp.type": "LogAppendTime"})
    changed, again = ansible_playbook([change, dict(change, name="Change configs again")], extra_vars=extra,
                                      diff=True).results
    assert changed["changed"] is True
    assert changed["configs_set"] == {"max.message.bytes": "2097152", "message.timestamp.type": "LogAppendTime",
                                      "retention.ms": "7200000"}
    assert changed["configs_deleted"] == ["segment.bytes"]
    assert changed["diff"]["before"] == ("partitions: 1\nreplication_factor: 1\nconfigs:\n  retention.ms: 3600000\n"
                                         "  segment.bytes: 10485760\n")
    assert changed["diff"]["after"] == ("partitions: 1\nreplication_factor: 1\nconfigs:\n  max.message.bytes: 2097152\n"
                                        "  message.timestamp.type: LogAppendTime\n  retention.ms: 7200000\n")
    assert again["changed"] is False
    assert on_cluster(cluster, topic)[2] == {"max.message.bytes": "2097152", "message.timestamp.type": "LogAppendTime",
                                             "retention.ms": "7200000"}

    purge = task("Purge", name="{{ topic }}", configs={"retention.ms": "7200000"}, configs_purge=True)
    checked = ansible_playbook([purge], extra_vars=extra, check=True).results[0]
    assert checked["changed"] is True
    assert checked["configs_deleted"] == ["max.message.bytes", "message.timestamp.type"]
    assert len(on_cluster(cluster, topic)[2]) == 3, "check mode purged configs"
    purged, again = ansible_playbook([purge, dict(purge, name="Purge again")], extra_vars=extra).results
    assert purged["changed"] is True and again["changed"] is False
    assert on_cluster(cluster, topic)[2] == {"retention.ms": "7200000"}

    warned = ansible_playbook([task("Too many in-sync replicas", name="{{ topic }}",
                                    configs={"min.insync.replicas": 2})], extra_vars=extra).results[0]
    assert any("min.insync.replicas 2 is more than its replication factor 1" in w for w in warned["warnings"])


def test_partitions_grow_and_never_shrink(cluster, ansible_playbook):
    topic = unique("grow")
    extra = variables(cluster, topic=topic)
    create = task("Create", name="{{ topic }}", partitions=2, replication_factor=3)
    grow = task("Grow", name="{{ topic }}", partitions=5, replication_factor=3)
    results = ansible_playbook([create, grow, dict(grow, name="Grow again")], extra_vars=extra, diff=True).results
    assert [r["changed"] for r in results] == [True, True, False]
    assert results[1]["partitions_added"] == 3
    assert results[1]["diff"]["before"].startswith("partitions: 2\n")
    assert results[1]["diff"]["after"].startswith("partitions: 5\n")
    assert on_cluster(cluster, topic)[:2] == (5, [3])

    run = ansible_playbook([task("Shrink", name="{{ topic }}", partitions=4, configs={"retention.ms": 1000})],
                           extra_vars=extra, expect_failure=True)
    refused = run.results[0]
    assert refused["failed"] is True and refused["changed"] is False
    assert refused["msg"] == ("partitions: topic %s has 5 partitions and Kafka cannot remove partitions; give 5 or "
                              "more (or leave partitions out)" % topic)
    assert on_cluster(cluster, topic) == (5, [3], {})


def test_absent(cluster, ansible_playbook):
    topic = unique("gone")
    extra = variables(cluster, topic=topic)
    ansible_playbook([task("Create", name="{{ topic }}", partitions=1, replication_factor=1)], extra_vars=extra)
    remove = task("Remove", name="{{ topic }}", state="absent")
    checked = ansible_playbook([remove], extra_vars=extra, check=True, diff=True).results[0]
    assert checked["changed"] is True and checked["deleted"] is True
    assert checked["diff"] == {"before": "partitions: 1\nreplication_factor: 1\nconfigs: {}\n", "after": "",
                               "before_header": "topic %s" % topic, "after_header": "topic %s" % topic}
    assert on_cluster(cluster, topic) is not None, "check mode deleted the topic"
    removed, again = ansible_playbook([remove, dict(remove, name="Remove again")], extra_vars=extra).results
    assert removed["changed"] is True and removed["deleted"] is True
    assert removed["topic"]["exists"] is False
    assert again["changed"] is False and again["deleted"] is False
    assert on_cluster(cluster, topic) is None


@pytest.mark.parametrize("options, message", [
    ({"partitions": 1, "replication_factor": 4},
     "replication_factor 4 needs 4 live brokers but the cluster has 3 (1, 2, 3); lower replication_factor or start "
     "more brokers"),
    ({"partitions": 1, "replication_factor": 1, "configs": {"retention_ms": 1}},
     "configs: 'retention_ms' does not look like a Kafka topic config key; keys are lower-case words joined by dots, "
     "like retention.ms or cleanup.policy (did you mean retention.ms?)"),
    ({"configs": {"retention.ms": 1}},
     "topic {topic} does not exist; give partitions and replication_factor to create it"),
    ({"partitions": 1, "replication_factor": 1, "configs": {"retention.msx": 1}}, "create topic {topic}: "),
])
def test_refused_input_changes_nothing(cluster, ansible_playbook, options, message):
    topic = unique("refused")
    run = ansible_playbook([task("Refused", name="{{ topic }}", **options)], extra_vars=variables(cluster, topic=topic),
                           expect_failure=True)
    refused = run.results[0]
    assert refused["failed"] is True and refused["changed"] is False
    assert refused["msg"].startswith(message.format(topic=topic)), refused["msg"]
    assert on_cluster(cluster, topic) is None


def test_refused_config_on_an_existing_topic_changes_nothing(cluster, ansible_playbook):
    topic = unique("refused")
    extra = variables(cluster, topic=topic)
    ansible_playbook([task("Create", name="{{ topic }}", partitions=1, replication_factor=1)], extra_vars=extra)
    run = ansible_playbook([task("Unknown key", name="{{ topic }}", partitions=3, configs={"retention.msx": 1})],
                           extra_vars=extra, expect_failure=True)
    refused = run.results[0]
    assert refused["failed"] is True and refused["changed"] is False
    assert refused["msg"].startswith("alter topic configs: "), refused["msg"]
    assert on_cluster(cluster, topic) == (1, [1], {})


def test_replication_factor_change(cluster, ansible_playbook):
    topic = unique("rf")
    extra = variables(cluster, topic=topic)
    ansible_playbook([task("Create", name="{{ topic }}", partitions=6, replication_factor=1)], extra_vars=extra)
    cluster.produce(topic, 1000)

    raise_rf = task("Raise the replication factor", name="{{ topic }}", replication_factor=3, throttle=10485760,
                    timeout=300)
    checked = ansible_playbook([raise_rf], extra_vars=extra, check=True, diff=True).results[0]
    change = checked["replication_factor_change"]
    assert checked["changed"] is True
    assert change["from"] == 1 and change["to"] == 3
    assert change["replica_moves"] == 12 and change["partitions_changed"] == 6
    assert "executed" not in change
    assert checked["diff"]["after"] == "partitions: 6\nreplication_factor: 3\nconfigs: {}\n"
    assert on_cluster(cluster, topic)[:2] == (6, [1]), "check mode moved replicas"

    raised, again = ansible_playbook([raise_rf, dict(raise_rf, name="Again")], extra_vars=extra).results
    assert raised["changed"] is True
    assert raised["replication_factor_change"]["replica_moves"] == 12
    assert "seconds" in raised["replication_factor_change"]["executed"]
    assert again["changed"] is False and "replication_factor_change" not in again
    with cluster.admin() as admin:
        parts = admin.topics([topic])[topic]
    assert all(sorted(p["replicas"]) == [1, 2, 3] for p in parts)
    assert all(sorted(p["isr"]) == [1, 2, 3] for p in parts)
    leaders = [p["leader"] for p in parts]
    assert sorted(leaders.count(b) for b in (1, 2, 3)) == [2, 2, 2], "leaders not balanced: %s" % leaders
    assert not set(on_cluster(cluster, topic)[2]) & set(REPLICA_KEYS), "throttles left on the topic"

    lower = task("Lower the replication factor and add partitions", name="{{ topic }}", replication_factor=2,
                 partitions=8)
    lowered = ansible_playbook([lower], extra_vars=extra).results[0]
    assert lowered["replication_factor_change"]["replica_moves"] == 0
    assert lowered["partitions_added"] == 2
    deadline = time.monotonic() + 30
    while on_cluster(cluster, topic)[:2] != (8, [2]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert on_cluster(cluster, topic)[:2] == (8, [2]), "new partitions must get the new replication factor"
    assert ansible_playbook([lower], extra_vars=extra).results[0]["changed"] is False
    assert cluster.count_keys(topic) == 1000
