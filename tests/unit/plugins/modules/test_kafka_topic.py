# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the kafka_topic module: the pure functions (config normalization, validation messages,
desired-vs-current diff, the replication factor plan), and the module end to end against an
in-memory stand-in for KafkaAdmin and for the reassignment executor."""

from __future__ import annotations

import json
import types

import pytest
from ansible.module_utils import basic
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdminError
from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment_exec import ReassignmentError
from ansible_collections.kafkaops.platform.plugins.modules import kafka_topic
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    module_args,
    raise_on_exit,
)

CONNECTION = {"bootstrap_servers": ["b1:9092"],
              "security": {"listeners": [
                  {"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
                  {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
                  {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_PLAINTEXT", "authentication": "plain"}],
                  "credentials": {"broker": {"username": "broker", "password": "broker-secret"},
                                  "controller": {"username": "controller", "password": "controller-secret"},
                                  "admin": {"username": "admin", "password": "admin-secret"}}},
              "identity": "admin"}
THROTTLED = "leader.replication.throttled.replicas"


class FakeAdmin:
    """An in-memory cluster behind the part of KafkaAdmin that kafka_topic uses; refuses what Kafka
    refuses (an existing topic, fewer partitions, unknown config keys)."""

    brokers = []  # [{"id", "rack", "fenced"}]
    topics_ = {}  # topic -> {partition: [replicas]}
    configs_ = {}  # topic -> {key: value} (source DYNAMIC_TOPIC_CONFIG)
    other_configs = {}  # topic -> {key: value} of other sources (never reported with sources=[DYNAMIC...])
    in_flight = {}
    leaderless = set()  # (topic, partition)
    calls = []
    connections = []

    def __init__(self, bootstrap_servers, **config):
        self.connections.append((bootstrap_servers, config))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def cluster(self):
        self.calls.append(("cluster",))
        return {"cluster_id": "fake", "controller_id": 1, "brokers": [dict(b) for b in self.brokers]}

    def topics(self, names=None):
        return {name: [{"topic": name, "partition": p, "replicas": list(r), "isr": list(r),
                        "leader": -1 if (name, p) in self.leaderless else r[0]} for p, r in sorted(parts.items())]
                for name, parts in self.topics_.items() if names is None or name in names}

    def configs(self, resource_type, names, sources=None):
        assert resource_type == "topic"
        assert sources == ["DYNAMIC_TOPIC_CONFIG"]
        return {n: dict(self.configs_.get(n, {})) for n in names}

    def reassignments(self):
        self.calls.append(("reassignments",))
        return dict(self.in_flight)

    def _live(self):
        return [b["id"] for b in self.brokers if not b["fenced"]]

    def create_topic(self, name, partitions=None, replication_factor=None, configs=None, assignments=None):
        self.calls.append(("create_topic", name, partitions, replication_factor, dict(configs or {})))
        if name in self.topics_:
            raise KafkaAdminError("create topic %s: [Error 36] TopicAlreadyExistsError" % name)
        self._check_keys(configs or {})
        live = self._live()
        self.topics_[name] = {p: [live[(p + i) % len(live)] for i in range(replication_factor)]
                              for p in range(partitions)}
        self.configs_[name] = {k: str(v) for k, v in (configs or {}).items()}

    def add_partitions(self, name, total, assignments=None):
        self.calls.append(("add_partitions", name, total))
        parts = self.topics_[name]
        if total <= len(parts):
            raise KafkaAdminError("add partitions to %s: [Error 37] InvalidPartitionsError" % name)
        rf = len(parts[0])
        live = self._live()
        for p in range(len(parts), total):
            parts[p] = [live[(p + i) % len(live)] for i in range(rf)]

    def delete_topic(self, name):
        self.calls.append(("delete_topic", name))
        self.topics_.pop(name)
        self.configs_.pop(name, None)

    def alter_configs(self, resource_type, changes):
        self.calls.append(("alter_configs", resource_type, json.loads(json.dumps(changes))))
        for name, entries in changes.items():
            self._check_keys(entries)
            for key, value in entries.items():
                if value is None:
                    self.configs_[name].pop(key, None)
                else:
                    self.configs_[name][key] = str(value)

    @staticmethod
    def _check_keys(entries):
        unknown = [k for k in entries if k.startswith("bogus")]
        if unknown:
            raise KafkaAdminError("alter topic configs: InvalidConfigurationException: Unknown topic config name: %s"
                                  % unknown[0])


@pytest.fixture
def cluster(monkeypatch):
    raise_on_exit(monkeypatch)
    monkeypatch.setattr(kafka_topic, "KafkaAdmin", FakeAdmin)
    monkeypatch.setattr(kafka_topic, "HAS_KAFKA", True)
    monkeypatch.setattr(FakeAdmin, "brokers", [{"id": i, "rack": None, "fenced": False} for i in (1, 2, 3)])
    for attribute in ("topics_", "configs_", "other_configs", "in_flight"):
        monkeypatch.setattr(FakeAdmin, attribute, {})
    monkeypatch.setattr(FakeAdmin, "leaderless", set())
    monkeypatch.setattr(FakeAdmin, "calls", [])
    monkeypatch.setattr(FakeAdmin, "connections", [])
    return FakeAdmin


@pytest.fixture
def executor(monkeypatch, cluster):
    """A stand-in for plugins/module_utils/reassignment_exec.py: applies the replica lists at once and
    fails, when told to, with the executor's own ReassignmentError (or any other error)."""
    fake = types.SimpleNamespace()
    fake.runs = []
    fake.fail_with = None

    def execute_reassignment(admin, partitions, throttle=None, timeout=3600, progress=None):
        fake.runs.append({"partitions": partitions, "throttle": throttle, "timeout": timeout})
        if fake.fail_with is not None:
            raise fake.fail_with
        for entry in partitions:
            cluster.topics_[entry["topic"]][entry["partition"]] = list(entry["replicas"])
        return {"batches": [{"partitions": len(partitions)}], "seconds": 0.5, "elected": [], "throttle": throttle}

    monkeypatch.setattr(kafka_topic, "execute_reassignment", execute_reassignment)
    return fake


def run(args, expect=ExitJson, check=False, diff=False):
    full = dict(CONNECTION, **args)
    if check:
        full["_ansible_check_mode"] = True
    if diff:
        full["_ansible_diff"] = True
    with module_args(full), pytest.raises(expect) as caught:
        kafka_topic.main()
    return caught.value.args[0]


def changes_made(cluster):
    return [c for c in cluster.calls if c[0] not in ("cluster", "reassignments")]


def params(**overrides):
    base = {"name": "orders", "state": "present", "partitions": None, "replication_factor": None, "configs": None,
            "configs_purge": False, "throttle": None, "timeout": 3600}
    base.update(overrides)
    return base


# -- config normalization -----------------------------------------------------------------------------
@pytest.mark.parametrize("value, text", [
    (True, "true"), (False, "false"), ("True", "true"), ("FALSE", "false"), (86400000, "86400000"), (0.5, "0.5"), ("lz4", "lz4"), ("", ""),
    (["compact", "delete"], "compact,delete"), ([1, True], "1,true"), (None, None),
])
def test_config_values_are_stringified_as_kafka_reports_them(value, text):
    assert kafka_topic.config_value("k", value) == text


def test_configs_are_normalized_and_sorted():
    assert kafka_topic.normalize_configs({"retention.ms": 1000, "unclean.leader.election.enable": False,
                                          "cleanup.policy": ["compact"], "segment.ms": None}) == {
        "cleanup.policy": "compact", "retention.ms": "1000", "segment.ms": None, "unclean.leader.election.enable": "false"}
    assert kafka_topic.normalize_configs(None) == {}


@pytest.mark.parametrize("configs, message", [
    ({"retention_ms": 1}, "configs: 'retention_ms' does not look like a Kafka topic config key; keys are lower-case "
                          "words joined by dots, like retention.ms or cleanup.policy (did you mean retention.ms?)"),
    ({"Retention.MS": 1}, "configs: 'Retention.MS' does not look like a Kafka topic config key; keys are lower-case "
                          "words joined by dots, like retention.ms or cleanup.policy (did you mean retention.ms?)"),
    ({"retention.ms=1": 1}, "configs: 'retention.ms=1' does not look like a Kafka topic config key; keys are "
                            "lower-case words joined by dots, like retention.ms or cleanup.policy"),
    ({".retention": 1}, "configs: '.retention' does not look like a Kafka topic config key; keys are lower-case "
                        "words joined by dots, like retention.ms or cleanup.policy"),
    ({"retention.ms": {"days": 7}}, "configs.retention.ms: {'days': 7} is not a config value; give a string, number, "
                                    "boolean, list, or null to delete the key"),
    ({"cleanup.policy": [["compact"]]}, "configs.cleanup.policy: a list value holds plain values only, got ['compact']"),
    ({"retention.ms\n": 1}, "configs: 'retention.ms\\n' does not look like a Kafka topic config key; keys are lower-case "
                            "words joined by dots, like retention.ms or cleanup.policy (did you mean retention.ms?)"),
])
def test_bad_configs_are_refused(configs, message):
    with pytest.raises(kafka_topic.TopicError) as caught:
        kafka_topic.normalize_configs(configs)
    assert str(caught.value) == message


# -- validation --------------------------------------------------------------------------------------
NAME_MESSAGE = ("name: %r is not a topic name; Kafka allows 1 to 249 letters, digits, '.', '_' and '-' "
                "(and neither '.' nor '..')")


@pytest.mark.parametrize("overrides, message", [
    ({"name": "orders events"}, NAME_MESSAGE % "orders events"),
    ({"name": ".."}, NAME_MESSAGE % ".."),
    ({"name": "x" * 250}, NAME_MESSAGE % ("x" * 250)),
    ({"name": ""}, NAME_MESSAGE % ""),
    ({"name": "orders\n"}, NAME_MESSAGE % "orders\n"),
    ({"partitions": 0}, "partitions must be at least 1, got 0"),
    ({"replication_factor": -1}, "replication_factor must be at least 1, got -1"),
    ({"throttle": 100}, "throttle is in bytes per second and must be at least 1024 (got 100); a lower rate would "
                        "stall replication"),
    ({"timeout": 0}, "timeout must be at least 1 second, got 0"),
])
def test_validation_messages(overrides, message):
    with pytest.raises(kafka_topic.TopicError) as caught:
        kafka_topic.validate(params(**overrides))
    assert str(caught.value) == message


def test_absent_ignores_the_topic_options():
    kafka_topic.validate(params(state="absent", partitions=0, replication_factor=0, timeout=0))
    kafka_topic.validate(params(name="a.b_c-D9", partitions=1, replication_factor=1, throttle=1024))


def test_replication_factor_against_live_brokers():
    kafka_topic.check_brokers(3, [1, 2, 3])
    with pytest.raises(kafka_topic.TopicError) as caught:
        kafka_topic.check_brokers(4, [3, 1, 2])
    assert str(caught.value) == ("replication_factor 4 needs 4 live brokers but the cluster has 3 (1, 2, 3); lower "
                                 "replication_factor or start more brokers")
    with pytest.raises(kafka_topic.TopicError) as caught:
        kafka_topic.check_brokers(1, [])
    assert str(caught.value) == ("replication_factor 1 needs 1 live brokers but the cluster has 0 (none); lower "
                                 "replication_factor or start more brokers")


# -- current state and the diff against the desired one -----------------------------------------------
def parts(topic, layout, leaderless=()):
    return [{"topic": topic, "partition": p, "replicas": r, "isr": r, "leader": -1 if p in leaderless else r[0]}
            for p, r in enumerate(layout)]


def test_current_state():
    state = kafka_topic.current_state(parts("t", [[1, 2], [2, 3], [3, 1]], leaderless=[1]), {"retention.ms": "5"})
    assert state == {"partitions": 3, "replication_factor": 2, "replication_factors": [2],
                     "replicas": {0: [1, 2], 1: [2, 3], 2: [3, 1]}, "leaderless": [1], "configs": {"retention.ms": "5"}}


def test_current_state_sees_through_reassignments_in_flight():
    """An interrupted RF change 1 -> 2 shows old and new replicas; the removing ones are left out."""
    in_flight = {("t", 0): {"replicas": [3, 1, 2], "adding": [2], "removing": [3]}}
    state = kafka_topic.current_state(parts("t", [[3, 1, 2], [2, 3]]), {}, in_flight)
    assert state["replicas"] == {0: [1, 2], 1: [2, 3]}
    assert state["replication_factors"] == [2]


def test_current_state_of_mixed_replication_factors():
    state = kafka_topic.current_state(parts("t", [[1, 2], [2]]), {})
    assert state["replication_factor"] == 2 and state["replication_factors"] == [1, 2]


@pytest.mark.parametrize("current, desired, purge, expected", [
    ({}, {"retention.ms": "1"}, False, ({"retention.ms": "1"}, [])),
    ({"retention.ms": "1"}, {"retention.ms": "1"}, False, ({}, [])),
    ({"retention.ms": "1"}, {"retention.ms": "2"}, False, ({"retention.ms": "2"}, [])),
    ({"retention.ms": "1", "segment.ms": "9"}, {"retention.ms": None}, False, ({}, ["retention.ms"])),
    ({}, {"retention.ms": None}, False, ({}, [])),
    ({"retention.ms": "1", "segment.ms": "9"}, {"retention.ms": "1"}, False, ({}, [])),
    ({"retention.ms": "1", "segment.ms": "9"}, {"retention.ms": "1"}, True, ({}, ["segment.ms"])),
    ({"segment.ms": "9", THROTTLED: "0:1"}, {}, True, ({}, ["segment.ms"])),
    ({THROTTLED: "0:1"}, {THROTTLED: None}, True, ({}, [THROTTLED])),
])
def test_config_changes(current, desired, purge, expected):
    assert kafka_topic.config_changes(current, desired, purge) == expected


KEYS = st.sampled_from(["retention.ms", "segment.ms", "cleanup.policy", THROTTLED])
VALUES = st.sampled_from(["1", "2", "compact"])


@given(current=st.dictionaries(KEYS, VALUES), desired=st.dictionaries(KEYS, st.one_of(st.none(), VALUES)),
       purge=st.booleans())
def test_applying_the_config_changes_leaves_nothing_to_change(current, desired, purge):
    to_set, to_delete = kafka_topic.config_changes(current, desired, purge)
    assert not set(to_set) & set(to_delete)
    after = {k: v for k, v in current.items() if k not in to_delete}
    after.update(to_set)
    assert kafka_topic.config_changes(after, desired, purge) == ({}, [])
    for key, value in desired.items():
        assert after.get(key) == value
    if purge:
        assert set(after) <= set(desired) | {THROTTLED}


EXISTING = kafka_topic.current_state(parts("orders", [[1, 2], [2, 3], [3, 1]]), {"retention.ms": "1"})


def test_plan_create():
    changes = kafka_topic.plan_changes(None, params(partitions=3, replication_factor=2),
                                       {"retention.ms": "5", "segment.ms": None})
    assert changes == {"create": True, "delete": False, "partitions": 3, "replication_factor": 2,
                       "configs_set": {"retention.ms": "5"}, "configs_deleted": []}


@pytest.mark.parametrize("overrides, message", [
    ({}, "topic orders does not exist; give partitions and replication_factor to create it"),
    ({"partitions": 3}, "topic orders does not exist; give replication_factor to create it"),
    ({"replication_factor": 3}, "topic orders does not exist; give partitions to create it"),
])
def test_plan_create_needs_the_counts(overrides, message):
    with pytest.raises(kafka_topic.TopicError) as caught:
        kafka_topic.plan_changes(None, params(**overrides), {})
    assert str(caught.value) == message


def test_plan_refuses_fewer_partitions():
    with pytest.raises(kafka_topic.TopicError) as caught:
        kafka_topic.plan_changes(EXISTING, params(partitions=2), {})
    assert str(caught.value) == ("partitions: topic orders has 3 partitions and Kafka cannot remove partitions; "
                                 "give 3 or more (or leave partitions out)")


@pytest.mark.parametrize("overrides, desired, expected", [
    ({}, {}, {}),
    ({"partitions": 3, "replication_factor": 2}, {"retention.ms": "1"}, {}),
    ({"partitions": 5}, {}, {"partitions": 5}),
    ({"replication_factor": 3}, {}, {"replication_factor": 3}),
    ({}, {"retention.ms": "2"}, {"configs_set": {"retention.ms": "2"}}),
    ({"configs_purge": True}, {}, {"configs_deleted": ["retention.ms"]}),
])
def test_plan_existing(overrides, desired, expected):
    changes = kafka_topic.plan_changes(EXISTING, params(**overrides), desired)
    want = {"create": False, "delete": False, "partitions": None, "replication_factor": None,
            "configs_set": {}, "configs_deleted": []}
    want.update(expected)
    assert changes == want
    assert kafka_topic.has_changes(changes) is bool(expected)


def test_plan_fixes_mixed_replication_factors():
    mixed = kafka_topic.current_state(parts("orders", [[1, 2], [2]]), {})
    assert kafka_topic.plan_changes(mixed, params(replication_factor=2), {})["replication_factor"] == 2


def test_plan_absent():
    assert kafka_topic.plan_changes(EXISTING, params(state="absent"), {})["delete"] is True
    assert kafka_topic.has_changes(kafka_topic.plan_changes(None, params(state="absent"), {})) is False


def test_after_state_and_diff_text():
    changes = kafka_topic.plan_changes(EXISTING, params(partitions=4, replication_factor=3, configs_purge=True),
                                       {"cleanup.policy": "compact", "min.insync.replicas": "2"})
    after = kafka_topic.after_state("orders", EXISTING, changes)
    assert after == {"name": "orders", "exists": True, "partitions": 4, "replication_factor": 3,
                     "configs": {"cleanup.policy": "compact", "min.insync.replicas": "2"}}
    assert kafka_topic.diff_text(kafka_topic.as_topic("orders", EXISTING)) == (
        "partitions: 3\nreplication_factor: 2\nconfigs:\n  retention.ms: 1\n")
    assert kafka_topic.diff_text(after) == (
        "partitions: 4\nreplication_factor: 3\nconfigs:\n  cleanup.policy: compact\n  min.insync.replicas: 2\n")
    assert kafka_topic.diff_text(kafka_topic.as_topic("orders", None)) == ""
    empty = dict(after, configs={})
    assert kafka_topic.diff_text(empty) == "partitions: 4\nreplication_factor: 3\nconfigs: {}\n"


def test_config_warnings():
    topic = {"name": "t", "exists": True, "partitions": 1, "replication_factor": 2, "configs": {"min.insync.replicas": "3"}}
    assert kafka_topic.config_warnings(topic) == [
        "topic t: min.insync.replicas 3 is more than its replication factor 2, so producers with acks=all will be refused"]
    assert kafka_topic.config_warnings(dict(topic, replication_factor=3)) == []


BROKERS = [{"id": i, "rack": None} for i in (1, 2, 3, 4)]


def test_replication_plan_raises_the_factor_with_the_fewest_moves():
    state = kafka_topic.current_state(parts("t", [[1], [2], [3], [4]]), {})
    plan = kafka_topic.replication_plan("t", state, BROKERS, 2)
    assert plan["from"] == 1 and plan["to"] == 2
    assert plan["replica_moves"] == 4
    assert plan["stats"]["replica_moves"] == 4
    assert sorted(len(e["replicas"]) for e in plan["proposed"]) == [2, 2, 2, 2]
    for entry in plan["proposed"]:  # existing replicas stay
        assert state["replicas"][entry["partition"]][0] in entry["replicas"]
    counts = {b["id"]: sum(b["id"] in e["replicas"] for e in plan["proposed"]) for b in BROKERS}
    assert set(counts.values()) == {2}


def test_replication_plan_lowers_the_factor_without_moves():
    state = kafka_topic.current_state(parts("t", [[1, 2, 3], [2, 3, 4], [3, 4, 1], [4, 1, 2]]), {})
    plan = kafka_topic.replication_plan("t", state, BROKERS, 2)
    assert plan["replica_moves"] == 0
    assert all(len(e["replicas"]) == 2 for e in plan["proposed"]) and len(plan["proposed"]) == 4


def test_replication_plan_errors():
    state = kafka_topic.current_state(parts("t", [[1], [2], [3]], leaderless=[0, 2]), {})
    with pytest.raises(kafka_topic.TopicError) as caught:
        kafka_topic.replication_plan("t", state, BROKERS, 2)
    assert str(caught.value) == ("partitions 0, 2 of t have no leader, so their data cannot be copied; bring their "
                                 "brokers back before changing the replication factor")
    healthy = kafka_topic.current_state(parts("t", [[1], [2]]), {})
    mixed_racks = [{"id": 1, "rack": "a"}, {"id": 2, "rack": None}]
    with pytest.raises(kafka_topic.TopicError) as caught:
        kafka_topic.replication_plan("t", healthy, mixed_racks, 2)
    assert str(caught.value).startswith("cannot plan the replication factor change of t: brokers [2] have no rack")


def test_replication_plan_honours_racks():
    state = kafka_topic.current_state(parts("t", [[1], [2], [3], [4]]), {})
    racks = [{"id": 1, "rack": "a"}, {"id": 2, "rack": "a"}, {"id": 3, "rack": "b"}, {"id": 4, "rack": "b"}]
    plan = kafka_topic.replication_plan("t", state, racks, 2)
    rack = {b["id"]: b["rack"] for b in racks}
    assert all({rack[b] for b in e["replicas"]} == {"a", "b"} for e in plan["proposed"])
    assert plan["stats"]["rack_violations"]["after"] == 0


# -- the module -------------------------------------------------------------------------------------
CREATE = {"name": "orders", "partitions": 3, "replication_factor": 2,
          "configs": {"retention.ms": 86400000, "unclean.leader.election.enable": False}}


def test_create_then_no_change(cluster):
    first = run(CREATE)
    assert first["changed"] is True and first["created"] is True and first["deleted"] is False
    assert first["topic"] == {"name": "orders", "exists": True, "partitions": 3, "replication_factor": 2,
                              "configs": {"retention.ms": "86400000", "unclean.leader.election.enable": "false"}}
    assert first["configs_set"] == {"retention.ms": "86400000", "unclean.leader.election.enable": "false"}
    assert first["partitions_added"] == 0 and first["configs_deleted"] == []
    assert "replication_factor_change" not in first
    assert changes_made(cluster) == [("create_topic", "orders", 3, 2, {"retention.ms": "86400000",
                                                                       "unclean.leader.election.enable": "false"})]
    second = run(CREATE)
    assert second["changed"] is False and second["created"] is False
    assert second["topic"] == first["topic"]
    assert second["configs_set"] == {} and second["configs_deleted"] == [] and second["partitions_added"] == 0
    assert len(changes_made(cluster)) == 1
    assert cluster.connections[0][1]["identity"] == "admin"
    assert ("reassignments",) not in cluster.calls, "an unchanged topic needs no cluster-wide read"


def test_check_mode_and_diff_of_a_creation(cluster):
    result = run(CREATE, check=True, diff=True)
    assert result["changed"] is True and result["created"] is True
    assert result["topic"]["partitions"] == 3
    assert result["diff"] == {"before": "", "after": "partitions: 3\nreplication_factor: 2\nconfigs:\n"
                                                     "  retention.ms: 86400000\n  unclean.leader.election.enable: false\n",
                              "before_header": "topic orders", "after_header": "topic orders"}
    assert changes_made(cluster) == []
    assert cluster.topics_ == {}


def test_replication_factor_above_the_live_brokers_fails_before_any_change(cluster):
    cluster.brokers[2]["fenced"] = True
    result = run(dict(CREATE, replication_factor=3), expect=FailJson)
    assert result["msg"] == ("replication_factor 3 needs 3 live brokers but the cluster has 2 (1, 2); lower "
                             "replication_factor or start more brokers")
    assert result["changed"] is False
    assert changes_made(cluster) == []


def test_invalid_options_fail_before_connecting(cluster):
    result = run(dict(CREATE, configs={"retention_ms": 1}), expect=FailJson)
    assert result["msg"].endswith("(did you mean retention.ms?)")
    result = run(dict(CREATE, partitions=0), expect=FailJson)
    assert result["msg"] == "partitions must be at least 1, got 0"
    assert cluster.connections == []


def test_creation_needs_partitions_and_replication_factor(cluster):
    result = run({"name": "orders", "configs": {"retention.ms": 1}}, expect=FailJson)
    assert result["msg"] == "topic orders does not exist; give partitions and replication_factor to create it"
    assert changes_made(cluster) == []


def test_configs_are_set_and_deleted_incrementally(cluster):
    run(CREATE)
    cluster.configs_["orders"]["segment.ms"] = "1000"
    result = run({"name": "orders", "configs": {"retention.ms": 3600000, "cleanup.policy": ["compact", "delete"],
                                                "unclean.leader.election.enable": None}}, diff=True)
    assert result["changed"] is True
    assert result["configs_set"] == {"cleanup.policy": "compact,delete", "retention.ms": "3600000"}
    assert result["configs_deleted"] == ["unclean.leader.election.enable"]
    assert result["topic"]["configs"] == {"cleanup.policy": "compact,delete", "retention.ms": "3600000",
                                          "segment.ms": "1000"}
    assert changes_made(cluster)[-1] == ("alter_configs", "topic", {"orders": {
        "cleanup.policy": "compact,delete", "retention.ms": "3600000", "unclean.leader.election.enable": None}})
    assert cluster.configs_["orders"] == result["topic"]["configs"]
    assert result["diff"]["before"] == ("partitions: 3\nreplication_factor: 2\nconfigs:\n  retention.ms: 86400000\n"
                                        "  segment.ms: 1000\n  unclean.leader.election.enable: false\n")
    assert result["diff"]["after"] == ("partitions: 3\nreplication_factor: 2\nconfigs:\n  cleanup.policy: compact,delete\n"
                                       "  retention.ms: 3600000\n  segment.ms: 1000\n")
    again = run({"name": "orders", "configs": {"retention.ms": "3600000", "cleanup.policy": "compact,delete",
                                               "unclean.leader.election.enable": None}})
    assert again["changed"] is False


def test_configs_purge_leaves_the_reassignment_throttles(cluster):
    run(CREATE)
    cluster.configs_["orders"][THROTTLED] = "0:1"
    result = run({"name": "orders", "configs": {"retention.ms": 86400000}, "configs_purge": True}, check=True)
    assert result["configs_deleted"] == ["unclean.leader.election.enable"]
    assert result["configs_set"] == {}
    assert changes_made(cluster) == [changes_made(cluster)[0]]  # only the creation
    result = run({"name": "orders", "configs": {"retention.ms": 86400000}, "configs_purge": True})
    assert cluster.configs_["orders"] == {"retention.ms": "86400000", THROTTLED: "0:1"}
    assert run({"name": "orders", "configs_purge": True})["configs_deleted"] == ["retention.ms"]
    assert cluster.configs_["orders"] == {THROTTLED: "0:1"}


def test_partitions_grow_and_never_shrink(cluster):
    run(CREATE)
    result = run({"name": "orders", "partitions": 5}, diff=True)
    assert result["changed"] is True and result["partitions_added"] == 2
    assert result["topic"]["partitions"] == 5
    assert changes_made(cluster)[-1] == ("add_partitions", "orders", 5)
    assert result["diff"]["before"].startswith("partitions: 3\n")
    assert result["diff"]["after"].startswith("partitions: 5\n")
    assert run({"name": "orders", "partitions": 5})["changed"] is False
    calls = len(changes_made(cluster))
    result = run({"name": "orders", "partitions": 4, "configs": {"retention.ms": 1}}, expect=FailJson)
    assert result["msg"] == ("partitions: topic orders has 5 partitions and Kafka cannot remove partitions; give 5 "
                             "or more (or leave partitions out)")
    assert len(changes_made(cluster)) == calls


def test_refused_configs_change_nothing_else(cluster):
    run(CREATE)
    result = run({"name": "orders", "partitions": 6, "configs": {"bogus.key": 1}}, expect=FailJson)
    assert result["msg"] == ("alter topic configs: InvalidConfigurationException: Unknown topic config name: "
                             "bogus.key")
    assert result["changed"] is False
    assert len(cluster.topics_["orders"]) == 3


def test_a_failure_after_a_change_says_what_was_done(cluster, executor):
    run(CREATE)
    executor.fail_with = ReassignmentError("batch 1/1 timed out after 10s; throttles removed")
    result = run({"name": "orders", "replication_factor": 3, "partitions": 4, "configs": {"retention.ms": 5}},
                 expect=FailJson)
    assert result["msg"] == ("changing the replication factor of orders failed: batch 1/1 timed out after 10s; "
                             "throttles removed; run the task again to finish it (already done: configs changed)")
    assert result["changed"] is True
    assert len(cluster.topics_["orders"]) == 3, "partitions added after a failed replication factor change"


def test_executor_reporting_kafka_admin_errors(cluster, executor):
    run(CREATE)
    executor.fail_with = KafkaAdminError("alter partition reassignments: NotControllerError")
    result = run({"name": "orders", "replication_factor": 3}, expect=FailJson)
    assert result["msg"] == ("changing the replication factor of orders failed: alter partition reassignments: "
                             "NotControllerError; run the task again to finish it")
    assert result["changed"] is False


def test_replication_factor_change_goes_through_the_planner(cluster, executor):
    cluster.brokers.append({"id": 4, "rack": None, "fenced": False})
    run({"name": "orders", "partitions": 4, "replication_factor": 1})
    before = {p: list(r) for p, r in cluster.topics_["orders"].items()}
    checked = run({"name": "orders", "replication_factor": 2, "partitions": 6}, check=True, diff=True)
    assert checked["changed"] is True
    change = checked["replication_factor_change"]
    assert change["from"] == 1 and change["to"] == 2
    assert change["replica_moves"] == 4 and change["partitions_changed"] == 4
    assert change["stats"]["balanced"] is True
    assert "executed" not in change
    assert checked["partitions_added"] == 2
    assert checked["diff"]["before"] == "partitions: 4\nreplication_factor: 1\nconfigs: {}\n"
    assert checked["diff"]["after"] == "partitions: 6\nreplication_factor: 2\nconfigs: {}\n"
    assert executor.runs == [] and cluster.topics_["orders"] == before

    result = run({"name": "orders", "replication_factor": 2, "partitions": 6, "throttle": 10485760, "timeout": 600})
    assert result["changed"] is True
    assert result["replication_factor_change"]["proposed"] == change["proposed"]
    assert result["replication_factor_change"]["executed"]["seconds"] == 0.5
    assert executor.runs == [{"partitions": change["proposed"], "throttle": 10485760, "timeout": 600}]
    assert all(len(r) == 2 for r in cluster.topics_["orders"].values())
    assert len(cluster.topics_["orders"]) == 6
    # configs and the replication factor before partitions, so the new partitions get the new factor
    assert [c[0] for c in changes_made(cluster)][-1] == "add_partitions"
    again = run({"name": "orders", "replication_factor": 2, "partitions": 6})
    assert again["changed"] is False and "replication_factor_change" not in again
    assert len(executor.runs) == 1


def test_replication_factor_change_reads_racks_and_skips_fenced_brokers(cluster, executor):
    cluster.brokers[:] = [{"id": 1, "rack": "a", "fenced": False}, {"id": 2, "rack": "b", "fenced": False},
                          {"id": 3, "rack": "a", "fenced": False}, {"id": 4, "rack": "b", "fenced": True}]
    cluster.topics_["orders"] = {0: [1], 1: [3], 2: [2]}
    cluster.configs_["orders"] = {}
    result = run({"name": "orders", "replication_factor": 2})
    rack = {1: "a", 2: "b", 3: "a"}
    for entry in result["replication_factor_change"]["proposed"]:
        assert {rack[b] for b in entry["replicas"]} == {"a", "b"}
    assert 4 not in {b for r in cluster.topics_["orders"].values() for b in r}


def test_a_reassignment_in_flight_counts_as_done(cluster, executor):
    cluster.topics_["orders"] = {0: [3, 1, 2], 1: [2, 3]}
    cluster.configs_["orders"] = {}
    cluster.in_flight = {("orders", 0): {"replicas": [3, 1, 2], "adding": [2], "removing": [3]}}
    result = run({"name": "orders", "replication_factor": 2})
    assert result["changed"] is False
    assert ("reassignments",) in cluster.calls
    assert executor.runs == []


def test_replication_factor_change_of_leaderless_partitions_fails(cluster, executor):
    run(CREATE)
    cluster.leaderless.add(("orders", 1))
    result = run({"name": "orders", "replication_factor": 3}, expect=FailJson)
    assert result["msg"] == ("partitions 1 of orders have no leader, so their data cannot be copied; bring their "
                             "brokers back before changing the replication factor")
    assert executor.runs == []


def test_absent_deletes_then_reports_no_change(cluster):
    run(CREATE)
    checked = run({"name": "orders", "state": "absent"}, check=True, diff=True)
    assert checked["changed"] is True and checked["deleted"] is True
    assert "orders" in cluster.topics_
    assert checked["diff"]["after"] == ""
    assert checked["diff"]["before"].startswith("partitions: 3\n")
    result = run({"name": "orders", "state": "absent"})
    assert result["changed"] is True and result["deleted"] is True
    assert result["topic"] == {"name": "orders", "exists": False, "partitions": None, "replication_factor": None,
                               "configs": {}}
    assert "orders" not in cluster.topics_
    again = run({"name": "orders", "state": "absent"})
    assert again["changed"] is False and again["deleted"] is False


def test_min_insync_replicas_above_the_replication_factor_warns(cluster, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda module, message: warnings.append(message))
    run(dict(CREATE, configs={"min.insync.replicas": 3}))
    assert warnings == ["topic orders: min.insync.replicas 3 is more than its replication factor 2, so "
                        "producers with acks=all will be refused"]


def test_no_secret_in_results(cluster):
    text = json.dumps([run(CREATE, diff=True), run(dict(CREATE, partitions=4), diff=True)])
    for secret in ("admin-secret", "broker-secret", "controller-secret"):
        assert secret not in text
