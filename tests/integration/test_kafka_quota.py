# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_quota against the real 3-node KRaft cluster of the kafka_topic tests, through ansible-playbook: a
user's quotas, a user and client id pair with the default client id, and an IP address - set in check mode
first, set, left alone by a second run, purged and removed - each read back with Kafka's own
kafka-configs tool (kafka.admin.ConfigCommand from the distribution), not with the collection's client."""

from __future__ import annotations

import os
import re
import subprocess

import kafka_local
import pytest


@pytest.fixture(scope="module")
def cluster(local_kafka):
    return local_kafka(nodes=3)


def task(title, **options):
    args = {"bootstrap_servers": "{{ bootstrap_servers }}"}
    args.update(options)
    return {"name": title, "kafkaops.platform.kafka_quota": args}


def described(cluster, *entity):
    """``{key: value}`` kafka-configs --describe prints for the entity (``--entity-type users --entity-name a``...)."""
    home = kafka_local.distribution()
    command = [kafka_local.java(), "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", os.path.join(home, "libs", "*"),
               "kafka.admin.ConfigCommand", "--bootstrap-server", cluster.bootstrap_servers[0], "--describe", *entity]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    # Quota configs for user-principal 'alice' are consumer_byte_rate=4096.0, producer_byte_rate=1024.0
    found = re.search(r" are (.*)$", done.stdout.strip(), re.M)
    if not found:
        return {}
    return {key: float(value) for key, value in (pair.split("=", 1) for pair in found.group(1).split(", ") if pair)}


def test_user_quotas_set_checked_purged_and_removed(cluster, ansible_playbook):
    extra = {"bootstrap_servers": cluster.bootstrap_servers}
    alice = ["--entity-type", "users", "--entity-name", "quota-alice"]
    first = task("Quotas of a user", user="quota-alice", quotas={"producer_byte_rate": 1048576, "request_percentage": 25.5})
    checked = ansible_playbook([first], extra_vars=extra, check=True, diff=True).results[0]
    assert checked["changed"] is True and checked["set"] == {"producer_byte_rate": 1048576, "request_percentage": 25.5}
    assert checked["diff"]["before"] == "" and "producer_byte_rate=1048576\n" in checked["diff"]["after"]
    assert described(cluster, *alice) == {}, "check mode changed the cluster"

    done, again = ansible_playbook([first, dict(first, name="Again")], extra_vars=extra).results
    assert done["changed"] is True and again["changed"] is False
    assert described(cluster, *alice) == {"producer_byte_rate": 1048576.0, "request_percentage": 25.5}

    purged = ansible_playbook([task("Purge", user="quota-alice", quotas={"consumer_byte_rate": 4096}, purge=True)],
                              extra_vars=extra).results[0]
    assert purged["removed"] == ["producer_byte_rate", "request_percentage"] and purged["quotas"] == {"consumer_byte_rate": 4096}
    assert described(cluster, *alice) == {"consumer_byte_rate": 4096.0}

    gone = ansible_playbook([task("Remove", user="quota-alice", state="absent"),
                             task("Remove again", user="quota-alice", state="absent")], extra_vars=extra).results
    assert gone[0]["changed"] is True and gone[1]["changed"] is False
    assert described(cluster, *alice) == {}


def test_user_and_default_client_id_and_an_ip(cluster, ansible_playbook):
    extra = {"bootstrap_servers": cluster.bootstrap_servers}
    pair = task("A user's default client id", user="quota-bob", client_id="<default>",
                quotas={"consumer_byte_rate": 2097152})
    address = task("One address", ip="127.0.0.2", quotas={"connection_creation_rate": 40})
    results = ansible_playbook([pair, address], extra_vars=extra).results
    assert [r["changed"] for r in results] == [True, True]
    assert results[0]["entity"] == {"user": "quota-bob", "client-id": None}
    assert described(cluster, "--entity-type", "users", "--entity-name", "quota-bob",
                     "--entity-type", "clients", "--entity-default") == {"consumer_byte_rate": 2097152.0}
    assert described(cluster, "--entity-type", "ips", "--entity-name", "127.0.0.2") == {"connection_creation_rate": 40.0}
    # the user alone has no quota of its own: the pair's quota is not the user's
    assert described(cluster, "--entity-type", "users", "--entity-name", "quota-bob") == {}

    refused = ansible_playbook([task("A byte rate for an address", ip="127.0.0.2", quotas={"producer_byte_rate": 1})],
                               extra_vars=extra, expect_failure=True).results[0]
    assert refused["failed"] is True and "is not a quota of ip entities" in refused["msg"]
    ansible_playbook([task("Clean up the pair", user="quota-bob", client_id="<default>", state="absent"),
                      task("Clean up the address", ip="127.0.0.2", state="absent")], extra_vars=extra)
    assert described(cluster, "--entity-type", "ips", "--entity-name", "127.0.0.2") == {}
