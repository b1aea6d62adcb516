# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_config against the real 3-node KRaft cluster of the kafka_topic tests, through ansible-playbook: a
cluster-wide default and one broker's config set, checked, left alone by a second run, purged and deleted -
each read back from the cluster with a kafka-python client of its own."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def cluster(local_kafka):
    return local_kafka(nodes=3)


def task(title, **options):
    args = {"bootstrap_servers": "{{ bootstrap_servers }}"}
    args.update(options)
    return {"name": title, "kafkaops.platform.kafka_config": args}


class _Via(str):
    """The resource name "" routed by kafka-python to broker 1 (it reads broker resource names as ids)."""

    def __int__(self):
        return 1


def dynamic(cluster, name):
    """The dynamic configs of broker ``name`` ("" for the cluster-wide default), from kafka-python directly."""
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource

    admin = KafkaAdminClient(**cluster.client_config())
    try:
        answer = admin.describe_configs([ConfigResource("BROKER", _Via(name) if name == "" else name)], config_filter="all")
    finally:
        admin.close()
    source = "DYNAMIC_BROKER_CONFIG" if name else "DYNAMIC_DEFAULT_BROKER_CONFIG"
    return {key: entry["value"] for key, entry in answer["broker"][name].items() if entry.get("config_source") == source}


def test_cluster_default_and_one_broker(cluster, ansible_playbook):
    extra = {"bootstrap_servers": cluster.bootstrap_servers}
    default = task("Cluster-wide default", configs={"log.cleaner.threads": 2})
    checked = ansible_playbook([default], extra_vars=extra, check=True, diff=True).results[0]
    assert checked["changed"] is True and checked["set"] == {"log.cleaner.threads": "2"}
    assert "log.cleaner.threads=2\n" in checked["diff"]["after"] and "log.cleaner.threads" not in checked["diff"]["before"]
    assert "log.cleaner.threads" not in dynamic(cluster, ""), "check mode changed the cluster"
    done, again = ansible_playbook([default, dict(default, name="Again")], extra_vars=extra).results
    assert done["changed"] is True and again["changed"] is False
    assert dynamic(cluster, "")["log.cleaner.threads"] == "2"

    one = task("Broker 1", broker=1, configs={"log.cleaner.backoff.ms": 20000, "num.recovery.threads.per.data.dir": 2})
    ansible_playbook([one], extra_vars=extra)
    assert dynamic(cluster, "1") == {"log.cleaner.backoff.ms": "20000", "num.recovery.threads.per.data.dir": "2"}
    purged = ansible_playbook([task("Purge", broker=1, configs={"log.cleaner.backoff.ms": 20000}, purge=True)],
                              extra_vars=extra).results[0]
    assert purged["changed"] is True and purged["deleted"] == ["num.recovery.threads.per.data.dir"]
    assert dynamic(cluster, "1") == {"log.cleaner.backoff.ms": "20000"}

    ansible_playbook([task("Clean up", broker=1, configs={}, purge=True),
                      task("Clean up the default", configs={"log.cleaner.threads": None})], extra_vars=extra)
    assert dynamic(cluster, "1") == {} and "log.cleaner.threads" not in dynamic(cluster, "")

    refused = ansible_playbook([task("A secret", configs={"listener.name.plain.ssl.key.password": "x"})],
                               extra_vars=extra, expect_failure=True).results[0]
    assert refused["failed"] is True and "set it through platform_security" in refused["msg"]
