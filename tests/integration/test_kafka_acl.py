# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_acl against a real cluster (SASL SCRAM-SHA-512, StandardAuthorizer), run through
ansible-playbook: idempotence, check mode, diff, purge and removal, checked on the cluster; and
the ACLs at work: a user made by kafka_user is refused a topic until kafka_acl grants it."""

from __future__ import annotations

import secrets
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import TopicAuthorizationFailedError


def task(title, module, **options):
    args = {"bootstrap_servers": "{{ bootstrap_servers }}", "security": "{{ security }}"}
    args.update(options)
    return {"name": title, "kafkaops.platform." + module: args}


def variables(cluster, **more):
    return dict(bootstrap_servers=cluster.bootstrap_servers, security=cluster.security, **more)


def acl(principal, operation, resource_type="topic", resource_name="orders", pattern_type="literal"):
    return {"principal": principal, "host": "*", "operation": operation, "permission": "allow",
            "resource_type": resource_type, "resource_name": resource_name, "pattern_type": pattern_type}


def acls_on_cluster(cluster, principal):
    with cluster.admin() as admin:
        return admin.acls(principal)


def eventually(check, timeout=10.0):
    """ACLs reach every broker through the metadata log: give them a moment."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except TopicAuthorizationFailedError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)


def test_acl_lifecycle(kafka_scram, ansible_playbook):
    principal = "User:app-" + secrets.token_hex(4)
    extra = variables(kafka_scram, principal=principal)
    grant = task("Grant", "kafka_acl", acls=[
        {"principal": "{{ principal }}", "resource_type": "topic", "resource_name": "orders",
         "operations": ["read", "write", "describe"]},
        {"principal": "{{ principal }}", "resource_type": "topic", "resource_name": "audit.", "pattern_type": "prefixed",
         "operation": "read"},
        {"principal": "{{ principal }}", "resource_type": "cluster", "operations": ["idempotent_write"]},
    ])
    granted = [acl(principal, "read"), acl(principal, "write"), acl(principal, "describe"),
               acl(principal, "read", resource_name="audit.", pattern_type="prefixed"),
               acl(principal, "idempotent_write", resource_type="cluster", resource_name="kafka-cluster")]

    def same(left, right):
        return sorted(map(sorted, (a.items() for a in left))) == sorted(map(sorted, (a.items() for a in right)))

    run = ansible_playbook([grant], extra_vars=extra, check=True, diff=True)
    checked = run.results[0]
    assert checked["changed"] is True
    assert same(checked["added"], granted)
    assert checked["diff"]["before"] == ""
    assert "%s allow read on topic prefixed audit. from host *\n" % principal in checked["diff"]["after"]
    assert acls_on_cluster(kafka_scram, principal) == [], "check mode created ACLs"

    run = ansible_playbook([grant, dict(grant, name="Grant again")], extra_vars=extra, diff=True)
    first, again = run.results
    assert first["changed"] is True and same(first["added"], granted)
    assert again["changed"] is False and again["added"] == again["removed"] == []
    assert "diff" not in again or again["diff"]["before"] == again["diff"]["after"]
    assert same(acls_on_cluster(kafka_scram, principal), granted)

    purge = task("Only read on orders", "kafka_acl", purge_principals=["{{ principal }}"], acls=[
        {"principal": "{{ principal }}", "resource_type": "topic", "resource_name": "orders", "operations": ["read"]}])
    run = ansible_playbook([purge], extra_vars=extra, check=True)
    assert run.results[0]["changed"] is True and len(run.results[0]["removed"]) == 4
    assert same(acls_on_cluster(kafka_scram, principal), granted), "check mode removed ACLs"
    run = ansible_playbook([purge, dict(purge, name="Purge again")], extra_vars=extra, diff=True)
    purged, again = run.results
    assert purged["changed"] is True and again["changed"] is False
    assert purged["diff"]["after"] == "%s allow read on topic literal orders from host *\n" % principal
    assert acls_on_cluster(kafka_scram, principal) == [acl(principal, "read")]

    remove = task("Remove", "kafka_acl", acls=[
        {"principal": "{{ principal }}", "resource_type": "topic", "resource_name": "orders", "operations": ["read"],
         "state": "absent"}])
    run = ansible_playbook([remove, dict(remove, name="Remove again")], extra_vars=extra)
    removed, again = run.results
    assert removed["changed"] is True and removed["removed"] == [acl(principal, "read")]
    assert again["changed"] is False
    assert acls_on_cluster(kafka_scram, principal) == []


def test_errors_are_reported_without_changes(kafka_scram, ansible_playbook):
    principal = "User:bad-" + secrets.token_hex(4)
    run = ansible_playbook([task("Write on a group", "kafka_acl", acls=[
        {"principal": principal, "resource_type": "group", "resource_name": "g", "operations": ["write"]}])],
        extra_vars=variables(kafka_scram), expect_failure=True)
    assert run.rc != 0
    assert run.results[0]["msg"] == "acls[0].operations: write is not an operation on a group; valid: all, read, describe, delete"
    assert acls_on_cluster(kafka_scram, principal) == []


def test_acls_are_enforced(kafka_scram, ansible_playbook):
    suffix = secrets.token_hex(4)
    user, topic, group = "client-" + suffix, "orders-" + suffix, "orders-app-" + suffix
    password = "pw-" + secrets.token_urlsafe(12)
    with kafka_scram.admin() as admin:
        admin.raw.create_topics({topic: {"num_partitions": 1, "replication_factor": 3}}, wait_for_metadata=True)
    extra = variables(kafka_scram, user=user, password=password, topic=topic, group=group)
    ansible_playbook([task("Create the client user", "kafka_user", name="{{ user }}", password="{{ password }}")],
                     extra_vars=extra)
    config = kafka_scram.client_config(identity={"username": user, "password": password})

    def produce():
        producer = KafkaProducer(**config, max_block_ms=10000)
        try:
            return producer.send(topic, b"granted").get(timeout=10)
        finally:
            producer.close()

    with pytest.raises(TopicAuthorizationFailedError):
        produce()

    run = ansible_playbook([task("Let the client produce and consume", "kafka_acl", acls=[
        {"principal": "User:{{ user }}", "resource_type": "topic", "resource_name": "{{ topic }}",
         "operations": ["write", "read"]},
        {"principal": "User:{{ user }}", "resource_type": "group", "resource_name": "{{ group }}", "operations": ["read"]},
    ])], extra_vars=extra)
    assert run.results[0]["changed"] is True
    metadata = eventually(produce)
    assert metadata.topic == topic

    consumer = KafkaConsumer(topic, **config, group_id=group, auto_offset_reset="earliest", consumer_timeout_ms=20000)
    try:
        first = next(iter(consumer), None)  # the group coordinator checks READ on the group, the fetch READ on the topic
    finally:
        consumer.close()
    assert first is not None and first.value == b"granted"
