# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_consumer_group against the real 3-node KRaft cluster of the kafka_topic tests, through ansible-playbook:
lag, resets to earliest, latest, a time and explicit offsets (check mode first, a second run changing nothing),
a group with a live consumer refused and then forced, and deletion - each checked on the cluster with a
kafka-python client of its own."""

from __future__ import annotations

import secrets
import time

import pytest


@pytest.fixture(scope="module")
def cluster(local_kafka):
    return local_kafka(nodes=3)


def task(title, **options):
    args = {"bootstrap_servers": "{{ bootstrap_servers }}", "group": "{{ group }}"}
    args.update(options)
    return {"name": title, "kafkaops.platform.kafka_consumer_group": args}


def committed(cluster, group):
    """``{partition: offset}`` the group has committed, asked of the cluster by a plain kafka-python admin client."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**cluster.client_config())
    try:
        answer = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in answer.items() if meta.offset >= 0}


def consume(cluster, topic, group, count):
    """Read ``count`` records with a consumer of ``group`` that commits, then leave the group."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False,
                             client_id="integration-reader", **cluster.client_config())
    seen = 0
    deadline = time.monotonic() + 60
    while seen < count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            seen += len(records)
    consumer.commit()
    return consumer, seen


def test_lag_resets_refusal_and_delete(cluster, ansible_playbook):
    topic, group = "cg-%s" % secrets.token_hex(4), "readers-%s" % secrets.token_hex(4)
    with cluster.admin() as admin:
        admin.create_topic(topic, partitions=2, replication_factor=3)
    cluster.produce(topic, 40)
    reader, seen = consume(cluster, topic, group, 40)
    reader.close()
    assert seen == 40 and sum(committed(cluster, group).values()) == 40
    middle = int(time.time() * 1000)
    time.sleep(0.05)
    cluster.produce(topic, 10)
    extra = {"bootstrap_servers": cluster.bootstrap_servers, "group": group, "topic": topic, "middle": middle}

    described = ansible_playbook([task("Describe")], extra_vars=extra).results[0]
    assert described["changed"] is False and described["total_lag"] == 10
    assert described["group"]["state"] == "Empty" and len(described["group"]["offsets"]) == 2

    earliest = task("Back to the start", reset_to="earliest", topics=["{{ topic }}"])
    checked = ansible_playbook([earliest], extra_vars=extra, check=True, diff=True).results[0]
    assert checked["changed"] is True and {c["after"] for c in checked["reset"]} == {0}
    assert sum(committed(cluster, group).values()) == 40, "check mode moved the offsets"
    done, again = ansible_playbook([earliest, dict(earliest, name="Again")], extra_vars=extra).results
    assert done["changed"] is True and again["changed"] is False and again["reset"] == []
    assert committed(cluster, group) == {0: 0, 1: 0} and done["total_lag"] == 50

    latest = ansible_playbook([task("To the end", reset_to="latest")], extra_vars=extra).results[0]
    assert latest["changed"] is True and latest["total_lag"] == 0 and sum(committed(cluster, group).values()) == 50

    by_time = ansible_playbook([task("From a time", reset_to="timestamp", timestamp="{{ middle }}")],
                               extra_vars=extra).results[0]
    assert by_time["changed"] is True and by_time["total_lag"] == 10 and sum(committed(cluster, group).values()) == 40

    wanted = [{"topic": "{{ topic }}", "partition": 0, "offset": 3}, {"topic": "{{ topic }}", "partition": 1, "offset": 10 ** 9}]
    explicit = task("Explicit", reset_to="offset", offsets=wanted)
    ansible_playbook([explicit], extra_vars=extra)
    ends = {row["partition"]: row["end"] for row in described["group"]["offsets"]}
    assert committed(cluster, group) == {0: 3, 1: ends[1]}, "explicit offsets kept within the log"

    live, _seen = consume(cluster, topic, group, 1)
    try:
        refused = ansible_playbook([task("Refused", reset_to="earliest")], extra_vars=extra, expect_failure=True)
        assert refused.rc != 0 and "active member(s): integration-reader" in refused.results[0]["msg"]
        forced = ansible_playbook([task("Forced", reset_to="earliest", force=True)], extra_vars=extra).results[0]
        assert forced["changed"] is True
    finally:
        live.close()
    assert committed(cluster, group) == {0: 0, 1: 0}

    deleted = ansible_playbook([task("Delete", state="absent"), task("Delete again", state="absent")],
                               extra_vars=extra).results
    assert deleted[0]["changed"] is True and deleted[1]["changed"] is False
    assert committed(cluster, group) == {}
