# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Reading Schema Registry's leader from its Kafka group, against real brokers (SASL SCRAM, the
StandardAuthorizer).

Schema Registry cannot be installed here, so its group membership is played by
:class:`SchemaRegistryMemberStandIn` - a STAND-IN, not Schema Registry: a kafka-python group member
that joins with what Schema Registry's source defines (leaderelector.kafka.SchemaRegistryCoordinator,
SchemaRegistryProtocol, storage.SchemaRegistryIdentity): protocol type "sr", protocol "v0", its
identity as JSON metadata, and, as the assigning member, the registry's election (the leader-eligible
member with the smallest URL) sent to every member as the assignment JSON. The brokers keep and
describe those bytes as they would the registry's; the collection reads them back with
KafkaAdmin.describe_group and schema_registry.read_leader, and through kafka_info in a playbook."""

from __future__ import annotations

import json
import secrets
import threading
import time

import kafka_local
import pytest
from kafka.coordinator.base import BaseCoordinator
from kafka.net.compat import KafkaNetClient

from ansible_collections.kafkaops.platform.plugins.module_utils import schema_registry as sr

HOST = kafka_local.HOST


class SchemaRegistryMemberStandIn(BaseCoordinator):
    """A STAND-IN for one Schema Registry instance's membership in the registry's Kafka group (see
    the module docstring); it serves no REST API and stores no schema. It keeps itself in the group
    from a thread of its own, rejoining after each rebalance, as the registry's elector thread does."""

    def __init__(self, cluster, group_id, host, port, eligible=True, scheme="http"):
        self.identity = {"version": 1, "host": host, "port": port, "master_eligibility": eligible, "scheme": scheme}
        self.assignment = None
        self._client = KafkaNetClient(**cluster.client_config(), client_id="sr-standin")
        self._client._net.start()
        self._client._manager.bootstrap(30000)
        super().__init__(self._client, group_id=group_id, session_timeout_ms=10000, heartbeat_interval_ms=1000,
                         max_poll_interval_ms=10000, api_version=self._client._manager.broker_version)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._stay_in_group, name="sr-standin-%s" % port, daemon=True)

    @property
    def url(self):
        return "%(scheme)s://%(host)s:%(port)d" % self.identity

    @property
    def member_id(self):
        return self._generation.member_id

    # -- the registry's side of the group protocol ------------------------------------------------
    def protocol_type(self):
        return "sr"

    def group_protocols(self):
        return [("v0", json.dumps(self.identity).encode())]

    def _perform_assignment(self, leader_id, protocol, members):
        identities = {m.member_id: json.loads(m.metadata) for m in members}

        def url(identity):
            return "%s://%s:%d" % (identity.get("scheme", "http"), identity["host"], identity["port"])

        eligible = sorted((url(i), mid) for mid, i in identities.items() if i.get("master_eligibility"))
        assignment = {"version": 1, "error": 0 if len({url(i) for i in identities.values()}) == len(identities) else 1}
        if eligible:
            leader = eligible[0][1]
            assignment.update(master=leader, master_identity=identities[leader])
        return {mid: json.dumps(assignment).encode() for mid in identities}

    async def _on_join_complete_async(self, generation, member_id, protocol, member_assignment_bytes):
        self.assignment = json.loads(member_assignment_bytes)

    # -- life cycle -------------------------------------------------------------------------------
    def _stay_in_group(self):
        while not self._stop.is_set():
            if self.need_rejoin():
                self.ensure_active_group(timeout_ms=1000)
            self._stop.wait(0.1)

    def start(self):
        self._thread.start()
        return self

    def leave(self):
        self._stop.set()
        self._thread.join(30)
        self.close(timeout_ms=5000)
        self._client.close()


def wait_for(read, accept, timeout=60):
    """``read()`` until ``accept(value)``; the last value, or AssertionError with it."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if accept(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("not reached within %ds; last: %r" % (timeout, value))
        time.sleep(0.5)


@pytest.fixture
def members(kafka_scram):
    started = []

    def start(group_id, *specs):
        found = [SchemaRegistryMemberStandIn(kafka_scram, group_id, HOST, port, eligible) for port, eligible in specs]
        started.extend(found)
        for member in found:
            member.start()
        return found

    yield start
    for member in started:
        if member._thread.is_alive():
            member.leave()


def test_the_leader_is_read_back_and_follows_a_new_election(kafka_scram, members):
    group = "sr-standin-" + secrets.token_hex(4)
    never, first, second = members(group, (18081, False), (18082, True), (18083, True))

    def read():
        with kafka_scram.admin() as admin:
            return sr.read_leader(admin, group)

    found = wait_for(read, lambda f: f["leader"] is not None and len(f["members"]) == 3)
    assert found["state"] == "Stable" and found["reason"] is None
    assert found["leader"] == {"host": HOST, "port": 18082, "scheme": "http", "url": first.url, "leader_eligible": True,
                               "member_id": first.member_id}
    assert sorted((m["port"], m["leader_eligible"], m["member_id"]) for m in found["members"]) == [
        (18081, False, never.member_id), (18082, True, first.member_id), (18083, True, second.member_id)]
    # every stand-in was told the same leader, as the registry's instances are
    assert {json.dumps(m.assignment, sort_keys=True) for m in (never, first, second)} == {
        json.dumps({"version": 1, "error": 0, "master": first.member_id, "master_identity": first.identity}, sort_keys=True)}

    # kafka-python's own describe_groups reads every member's bytes as the consumer protocol and
    # fails on this group, which is why KafkaAdmin.describe_group sends DescribeGroups itself
    with kafka_scram.admin() as admin, pytest.raises(ValueError):
        admin.raw.describe_groups([group])

    # the leader restarts: the group elects the other eligible instance, and that is read back
    first.leave()
    found = wait_for(read, lambda f: f["leader"] is not None and f["leader"]["port"] == 18083 and len(f["members"]) == 2)
    assert found["leader"]["member_id"] == second.member_id

    # no instance may lead: known, and said
    second.leave()
    found = wait_for(read, lambda f: f["state"] == "Stable" and len(f["members"]) == 1)
    assert found["leader"] is None
    assert found["reason"] == ("group %s has no leader: no member may lead (leader.eligibility is false on every "
                               "instance)" % group)

    never.leave()
    found = wait_for(read, lambda f: not f["members"])
    assert found["leader"] is None
    assert found["reason"] == ("group %s has no members (state Empty): no Schema Registry instance is running in it"
                               % group)


def test_a_group_that_is_not_the_registrys(kafka_scram):
    from kafka import KafkaConsumer

    group = "not-a-registry-" + secrets.token_hex(4)
    with kafka_scram.admin() as admin:
        admin.create_topic(group, partitions=1, replication_factor=1)
        missing = sr.read_leader(admin, "no-such-group-" + secrets.token_hex(4))
    assert missing["leader"] is None and "has no members (state Dead)" in missing["reason"]

    with kafka_local.quiet_kafka_python():
        consumer = KafkaConsumer(group, group_id=group, **kafka_scram.client_config())
        try:
            wait_for(lambda: consumer.poll(timeout_ms=500) or consumer.assignment(), bool)
            with kafka_scram.admin() as admin:
                found = sr.read_leader(admin, group)
        finally:
            consumer.close()
    assert found["leader"] is None
    assert found["reason"] == ("group %s has protocol type 'consumer', not Schema Registry's 'sr': another client "
                               "uses this group id" % group)
    with kafka_scram.admin() as admin:
        admin.delete_topic(group)


def test_kafka_info_reads_the_leader_and_the_role_restarts_it_last(kafka_scram, members, ansible_playbook):
    """The role's steps on the control node: kafka_info with schema_registry_group, then the
    leader's inventory host and the restart order, computed with the role's own filters."""
    group = "sr-standin-" + secrets.token_hex(4)
    _a, leader, _c = members(group, (18091, False), (18092, True), (18093, True))
    with kafka_scram.admin() as admin:
        wait_for(lambda: sr.read_leader(admin, group), lambda f: f["leader"] is not None and len(f["members"]) == 3)
    urls = {"sr1": "http://%s:18091" % HOST, "sr2": "http://%s:18092" % HOST, "sr3": "https://%s:18093" % HOST,
            "sr4": "http://%s:18094" % HOST}
    tasks = [
        {"name": "Learn the registry's current leader",
         "kafkaops.platform.kafka_info": {"bootstrap_servers": "{{ bootstrap_servers }}", "security": "{{ security }}",
                                          "expected_brokers": "{{ brokers }}", "wait_healthy": True, "quorum": False,
                                          "schema_registry_group": "{{ group }}", "timeout": 60},
         "register": "election"},
        {"name": "Order the restarts as the role does",
         "ansible.builtin.set_fact": {
             "leader_host": "{{ election.schema_registry.leader | kafkaops.platform.kafka_schema_registry_leader_host(urls=urls) }}",
             "order": "{{ urls.keys() | list | kafkaops.platform.kafka_schema_registry_roll_order("
                      "eligible={'sr1': false}, leader=election.schema_registry.leader"
                      " | kafkaops.platform.kafka_schema_registry_leader_host(urls=urls)) }}"}},
    ]
    run = ansible_playbook(tasks, extra_vars={"bootstrap_servers": kafka_scram.bootstrap_servers,
                                              "security": kafka_scram.security, "brokers": kafka_scram.node_ids,
                                              "group": group, "urls": urls})
    election, ordered = run.results
    assert election["changed"] is False and election["healthy"] is True
    assert election["schema_registry"]["leader"]["url"] == leader.url
    assert election["schema_registry"]["leader"]["member_id"] == leader.member_id
    assert ordered["ansible_facts"]["leader_host"] == "sr2"
    assert ordered["ansible_facts"]["order"] == ["sr1", "sr3", "sr4", "sr2"]
