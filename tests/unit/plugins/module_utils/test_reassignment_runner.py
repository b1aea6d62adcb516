# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of plugins/module_utils/_reassignment_runner.py without a cluster: reading reassignment
JSON, the target broker set, the option checks, which leaders to elect, and stopping on a signal.
The runs against a cluster (live, cancel, offline through main()) are tested through the module in
tests/unit/plugins/modules/test_kafka_reassignment.py."""

from __future__ import annotations

import json
import signal

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import _reassignment_runner as runner
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import reassignment_params


def entry(topic, partition, replicas):
    return {"topic": topic, "partition": partition, "replicas": list(replicas)}


def broker(bid, rack=None, fenced=False):
    return {"id": bid, "host": "b%d" % bid, "port": 9092, "rack": rack, "fenced": fenced}


# -- load_assignment --------------------------------------------------------------------------------------
def test_load_assignment_accepts_a_dict_or_json_text():
    wanted = [entry("t", 0, [1, 2]), entry("u", 3, [3])]
    as_dict = {"version": 1, "partitions": [dict(e, log_dirs=["any", "any"]) for e in reversed(wanted)]}
    checked, entries = runner.load_assignment(as_dict, "assignment")
    assert entries == wanted  # sorted by topic and partition, log_dirs dropped
    assert checked.entries == [("t", 0, [1, 2]), ("u", 3, [3])]
    assert checked.as_json() == {"version": 1, "partitions": wanted}
    assert runner.load_assignment('{"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": [1, 2]}, '
                                  '{"topic": "u", "partition": 3, "replicas": [3]}]}', "assignment")[1] == wanted
    assert runner.load_assignment({"partitions": []}, "assignment")[1] == []


def test_load_assignment_uses_the_planners_parser():
    # one parser of reassignment JSON: what the runner checks is what plan_reassignment takes unparsed
    checked, _entries = runner.load_assignment({"partitions": [entry("t", 0, [1, 2])]}, "current_assignment")
    assert runner.parse_assignment(checked, "ignored") is checked
    plan = runner.plan_reassignment(checked, [{"id": 1}, {"id": 2}, {"id": 3}])
    assert plan["stats"]["replica_moves"] == 0


SHAPE = "{'version': 1, 'partitions': [...]}"


@pytest.mark.parametrize("value, message", [
    ("{", "assignment is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("not json", "assignment is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    ([entry("t", 0, [1])], "assignment must be reassignment JSON: " + SHAPE),
    ("[1, 2]", "assignment must be reassignment JSON: " + SHAPE),
    ({"version": 2, "partitions": []}, "assignment: only version 1 is understood, got 2"),
    ({"version": 1}, "assignment['partitions'] must be a list"),
    ({"version": 1, "partitions": {"t": [1]}}, "assignment['partitions'] must be a list"),
    ({"partitions": [entry("t", 0, [1]), {"topic": "t", "replicas": [1]}]},
     "assignment['partitions'][1] must be a dict with topic, partition and replicas"),
    ({"partitions": ["t-0"]}, "assignment['partitions'][0] must be a dict with topic, partition and replicas"),
    ({"partitions": [entry("", 0, [1])]}, "assignment['partitions'][0]: topic must be a non-empty string"),
    ({"partitions": [entry("t", "zero", [1])]}, "t: partition must be a non-negative integer, got 'zero'"),
    ({"partitions": [entry("t", -1, [1])]}, "t: partition must be a non-negative integer, got -1"),
    ({"partitions": [entry("t", 0, [])]}, "t-0: replicas must be a non-empty list of broker ids"),
    ({"partitions": [{"topic": "t", "partition": 0, "replicas": "1,2"}]},
     "t-0: replicas must be a non-empty list of broker ids"),
    ({"partitions": [entry("t", 0, ["1", 2])]}, "t-0: replica '1' is not a broker id"),
    ({"partitions": [entry("t", 0, [True])]}, "t-0: replica True is not a broker id"),
    ({"partitions": [entry("t", 0, [1.0])]}, "t-0: replica 1.0 is not a broker id"),
    ({"partitions": [entry("t", 0, [-1])]}, "t-0: replica -1 is not a broker id"),
    ({"partitions": [entry("t", 0, [1, 2, 1])]}, "t-0: replicas [1, 2, 1] name a broker more than once"),
    ({"partitions": [entry("u", 0, [1]), entry("u", 0, [2]), entry("t", 0, [3]), entry("t", 0, [1])]},
     "t-0 is listed more than once"),
])
def test_load_assignment_errors(value, message):
    with pytest.raises(runner.PlanningError) as caught:
        runner.load_assignment(value, "assignment")
    assert str(caught.value) == message


def test_load_assignment_names_the_option():
    with pytest.raises(runner.PlanningError) as caught:
        runner.load_assignment("{", "current_assignment")
    assert str(caught.value).startswith("current_assignment is not valid JSON: ")


@pytest.mark.parametrize("partition, shown", [
    ("zero", "'zero'"), ("0", "'0'"), (None, "None"), (1.5, "1.5"), (1.0, "1.0"), (True, "True"), (-1, "-1"),
    ([0], "[0]"),
], ids=["text", "numeric-text", "none", "float", "whole-float", "bool", "negative", "list"])
def test_load_assignment_refuses_a_partition_that_is_not_a_partition_number(partition, shown):
    value = {"partitions": [entry("t", 0, [1]), {"topic": "t", "partition": partition, "replicas": [1]}]}
    with pytest.raises(runner.PlanningError) as caught:
        runner.load_assignment(value, "assignment")
    assert str(caught.value) == "t: partition must be a non-negative integer, got %s" % shown
    with pytest.raises(runner.PlanningError) as caught:
        runner.load_assignment(json.dumps(value), "current_assignment")  # the same as JSON text
    assert str(caught.value) == "t: partition must be a non-negative integer, got %s" % shown


def test_load_assignment_takes_partition_zero_and_up():
    assert runner.load_assignment({"partitions": [entry("t", 0, [1]), entry("t", 4095, [2])]}, "assignment")[1] == [
        entry("t", 0, [1]), entry("t", 4095, [2])]


# -- target_brokers ---------------------------------------------------------------------------------------
CLUSTER = [broker(1, "a"), broker(2, "b"), broker(3, "a", fenced=True), broker(4, "b")]


def test_target_brokers_default_to_the_live_unfenced_brokers_minus_the_removed():
    assert runner.target_brokers(None, [], CLUSTER) == [{"id": 1, "rack": "a"}, {"id": 2, "rack": "b"},
                                                        {"id": 4, "rack": "b"}]
    assert runner.target_brokers(None, [4], CLUSTER) == [{"id": 1, "rack": "a"}, {"id": 2, "rack": "b"}]
    assert runner.target_brokers(None, [3], CLUSTER) == [{"id": 1, "rack": "a"}, {"id": 2, "rack": "b"},
                                                         {"id": 4, "rack": "b"}]  # a fenced broker may be drained


def test_target_brokers_fill_racks_from_the_cluster():
    requested = [2, {"id": 1}, {"id": "4", "rack": "z"}]
    assert runner.target_brokers(requested, [], CLUSTER) == [{"id": 2, "rack": "b"}, {"id": 1, "rack": "a"},
                                                             {"id": 4, "rack": "z"}]
    # a rack given as None stays None (rack-unaware on purpose)
    assert runner.target_brokers([{"id": 1, "rack": None}], [], CLUSTER) == [{"id": 1, "rack": None}]
    assert runner.target_brokers([1, 2, 4], [2], CLUSTER) == [{"id": 1, "rack": "a"}, {"id": 4, "rack": "b"}]


def test_target_brokers_offline():
    assert runner.target_brokers([{"id": 1, "rack": "a"}, 7], [9], None) == [{"id": 1, "rack": "a"}, {"id": 7, "rack": None}]
    assert runner.target_brokers([1, 7], [7], None) == [{"id": 1, "rack": None}]


def test_target_brokers_accept_removing_brokers_the_cluster_does_not_know():
    # a decommission run again after the broker was unregistered: it is gone already, not an error
    assert runner.target_brokers(None, [7], CLUSTER) == [{"id": 1, "rack": "a"}, {"id": 2, "rack": "b"},
                                                         {"id": 4, "rack": "b"}]
    assert runner.target_brokers([1, 2], [2, 5, 6], CLUSTER) == [{"id": 1, "rack": "a"}]
    assert runner.target_brokers(None, [4, 9], CLUSTER) == [{"id": 1, "rack": "a"}, {"id": 2, "rack": "b"}]
    assert runner.target_brokers([1], [5], [broker(1)]) == [{"id": 1, "rack": None}]


@pytest.mark.parametrize("requested, remove, cluster, message", [
    ([1, 9], [], CLUSTER, "brokers 9 are not registered and unfenced in the cluster (live: 1, 2, 4); a replica "
                          "cannot be moved to a broker that is not running"),
    ([3, 1, 8], [], CLUSTER, "brokers 3, 8 are not registered and unfenced in the cluster (live: 1, 2, 4); a replica "
                             "cannot be moved to a broker that is not running"),
    ([1], [], [broker(1, fenced=True)], "brokers 1 are not registered and unfenced in the cluster (live: none); a "
                                        "replica cannot be moved to a broker that is not running"),
    (None, [], None, "brokers is required with current_assignment (there is no cluster to read them from)"),
    (None, [1, 2, 4], CLUSTER, "no broker would be left to hold the replicas"),
    (None, [1, 2, 4, 7], CLUSTER, "no broker would be left to hold the replicas"),
    ([1], [1], CLUSTER, "no broker would be left to hold the replicas"),
    ([], [], None, "no broker would be left to hold the replicas"),
    ([1, {"id": 1}, 2, "2", 4], [], CLUSTER, "brokers lists broker(s) 1, 2 more than once"),
    ([{"rack": "a"}], [], CLUSTER, "brokers[0] needs an id"),
    ([1, "x"], [], CLUSTER, "brokers[1]: 'x' is not a broker id"),
    ([{"id": None}], [], None, "brokers[0]: {'id': None} is not a broker id"),
])
def test_target_brokers_errors(requested, remove, cluster, message):
    with pytest.raises(runner.ModuleInputError) as caught:
        runner.target_brokers(requested, remove, cluster)
    assert str(caught.value) == message


# -- check_assignment, validate, leaders_to_elect ------------------------------------------------------------
def test_check_assignment():
    current = {("t", 0): [1, 2], ("t", 1): [2, 3]}
    runner.check_assignment([entry("t", 0, [3, 4])], current, {1, 2, 3, 4})
    with pytest.raises(runner.ModuleInputError) as caught:
        runner.check_assignment([entry("t", 0, [1, 2]), entry("t", 9, [1])], current, {1, 2, 3})
    assert str(caught.value) == "assignment names t-9, which does not exist"
    with pytest.raises(runner.ModuleInputError) as caught:
        runner.check_assignment([entry("t", 1, [3, 9, 1, 7])], current, {1, 2, 3})
    assert str(caught.value) == "assignment puts t-1 on broker(s) 9, 7, which are not registered and unfenced"


@pytest.mark.parametrize("overrides, message", [
    ({"max_moves_per_broker": 0}, "max_moves_per_broker must be at least 1, got 0"),
    ({"timeout": -5}, "timeout must be at least 1, got -5"),
    ({"throttle": 1023}, "throttle is in bytes per second and must be at least 1024 (got 1023); a lower rate would "
                         "stall replication"),
    ({"throttle": 0}, "throttle is in bytes per second and must be at least 1024 (got 0); a lower rate would stall "
                      "replication"),
    ({"poll_interval": 0}, "poll_interval must be positive"),
    ({"poll_interval": -1.5}, "poll_interval must be positive"),
    ({"current_assignment": {"partitions": []}, "state": "cancelled"},
     "state=cancelled needs a cluster, not current_assignment"),
    ({"bootstrap_servers": None}, "bootstrap_servers is required (or current_assignment, to plan offline)"),
    ({"bootstrap_servers": []}, "bootstrap_servers is required (or current_assignment, to plan offline)"),
])
def test_validate_errors(overrides, message):
    with pytest.raises(runner.ModuleInputError) as caught:
        runner.validate(reassignment_params(**overrides))
    assert str(caught.value) == message


@pytest.mark.parametrize("overrides", [
    {}, {"throttle": 1024}, {"current_assignment": {"partitions": []}, "bootstrap_servers": None},
    {"assignment": {"partitions": []}, "throttle": 4096}, {"state": "cancelled"}, {"poll_interval": 0.01},
])
def test_validate_accepts(overrides):
    assert runner.validate(reassignment_params(**overrides)) is None


def test_leaders_to_elect():
    partitions = [
        {"topic": "t", "partition": 0, "leader": 1, "replicas": [1, 2], "isr": [1, 2]},  # preferred leads
        {"topic": "t", "partition": 1, "leader": 2, "replicas": [1, 2], "isr": [2, 1]},  # preferred in sync
        {"topic": "t", "partition": 2, "leader": 2, "replicas": [1, 2], "isr": [2]},  # preferred out of sync
        {"topic": "u", "partition": 0, "leader": 3, "replicas": [2, 3], "isr": [3, 2]},
        {"topic": "u", "partition": 1, "leader": -1, "replicas": [], "isr": []},
    ]
    assert runner.leaders_to_elect(partitions) == [("t", 1), ("u", 0)]
    assert runner.leaders_to_elect(partitions, {("u", 0), ("t", 0)}) == [("u", 0)]
    assert runner.leaders_to_elect(partitions, set()) == []


# -- what the result shows, and stopping ------------------------------------------------------------------
def test_diff_text_lists_the_partitions_that_change():
    current = {("t", 0): [1, 2], ("t", 1): [2, 3]}
    assert runner.diff_text(current, [entry("t", 1, [3, 4]), entry("u", 0, [1])]) == (
        "t-1: [2, 3]\nu-0: None\n", "t-1: [3, 4]\nu-0: [1]\n")
    assert runner.diff_text(current, []) == ("", "")


def test_plan_options_pass_what_is_given_and_the_sizes_by_name():
    assert runner.plan_options(reassignment_params(), None) == {}
    assert runner.plan_options(reassignment_params(), {}) == {}
    given = reassignment_params(include_topics=["a"], exclude_topics=["b"], replication_factors={"a": 2}, max_moves=0)
    assert runner.plan_options(given, {("a", 3): 100}) == {
        "include_topics": ["a"], "exclude_topics": ["b"], "replication_factors": {"a": 2}, "max_moves": 0,
        "partition_sizes": {"a-3": 100}}


def test_planned_batches_follow_max_moves_per_broker():
    current = {("t", p): [1] for p in range(3)}
    proposed = [entry("t", p, [2]) for p in range(3)]
    batches = runner.planned_batches(current, proposed, reassignment_params(max_moves_per_broker=2))
    assert [b["summary"]["partitions"] for b in batches] == [2, 1]  # broker 1 sends every move, 2 receives it
    batches = runner.planned_batches(current, proposed, reassignment_params(max_moves_per_broker=3))
    assert batches == [{"partitions": proposed, "summary": {"partitions": 3, "replica_moves": 3,
                                                            "receiving_brokers": [2]}}]


@pytest.fixture
def restored_signals():
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def test_a_signal_interrupts_once(restored_signals):
    runner.stop_on_signals()
    assert signal.getsignal(signal.SIGTERM) is runner._interrupt
    assert signal.getsignal(signal.SIGINT) is runner._interrupt
    with pytest.raises(runner.Interrupted) as caught:
        runner._interrupt(signal.SIGTERM, None)
    assert not isinstance(caught.value, Exception)  # no `except Exception` on the way swallows it
    # the cleanup after it is not cut short by the next signal
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert runner.interrupted_message(caught.value) == (
        "stopped by signal %d: throttles removed; Kafka goes on with the partitions already submitted. Run again to "
        "resume, or with state=cancelled to revert them" % signal.SIGTERM)
