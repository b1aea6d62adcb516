# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the kafka_reassignment module: main() end to end against an in-memory stand-in for
KafkaAdmin (moves complete after a few polls; the Executor gets a fake clock, so nothing really
sleeps). The runner's pure parts (input parsing and validation messages, the target broker set)
are tested in tests/unit/plugins/module_utils/test_reassignment_runner.py. What a real cluster
does (throttles while data moves, interruption and resume, cancel) is covered by
tests/integration/test_kafka_reassignment.py; these tests cover the logic and the error paths."""

from __future__ import annotations

import copy
import functools
import json
import math
import signal

import pytest
from ansible.module_utils import basic

from ansible_collections.kafkaops.platform.plugins.module_utils import reassignment_exec as rx
from ansible_collections.kafkaops.platform.plugins.module_utils.connection import CLIENT_OPTIONS
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdminError
from ansible_collections.kafkaops.platform.plugins.modules import kafka_reassignment as kr
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    Clock,
    ExitJson,
    FailJson,
    module_args,
    raise_on_exit,
    reassignment_params,
)

LEADER_KEY, FOLLOWER_KEY = rx.THROTTLE_REPLICA_KEYS
RATES = rx.THROTTLE_RATE_KEYS
NO_THROTTLES = {"topics": {}, "brokers": {}}
CONNECTION = {"bootstrap_servers": ["b1:9092"]}

# topic data on brokers 1-3 only, broker 4 just added: the planner moves 6 replicas onto 4
UNBALANCED = {("t", p): [(p + i) % 3 + 1 for i in range(3)] for p in range(8)}
BALANCED = {("t", 0): [1, 2], ("t", 1): [2, 3], ("t", 2): [3, 4], ("t", 3): [4, 1]}


def entry(topic, partition, replicas):
    return {"topic": topic, "partition": partition, "replicas": list(replicas)}


def broker(bid, rack=None, fenced=False):
    return {"id": bid, "host": "b%d" % bid, "port": 9092, "rack": rack, "fenced": fenced}


# -- the fakes ------------------------------------------------------------------------------------------
class FakeAdmin:
    """The part of KafkaAdmin kafka_reassignment uses, over an in-memory cluster.

    A move that adds replicas stays in flight until ``polls`` calls of reassignments() have seen it;
    a reorder or drop completes at once; a cancelled move is back on its original replicas at once
    (``cancel_never``: stays in flight). Leaders stay where they are unless they leave the replica
    list, as in Kafka. ``refuse`` maps partitions to the error Kafka answers when they are submitted;
    describing the configs of a fenced broker fails (the request goes to the broker itself)."""

    def __init__(self, assignment, brokers=None, polls=2):
        self.brokers = brokers if brokers is not None else [broker(b) for b in (1, 2, 3, 4)]
        self.assignment = {key: list(replicas) for key, replicas in assignment.items()}
        self.leaders = {key: replicas[0] for key, replicas in assignment.items()}
        self.isr = {}
        self.sizes = {key: 1000 * (key[1] + 1) for key in assignment}
        self.polls = polls
        self.cancel_never = False
        self.refuse = {}
        self.in_flight = {}
        self.store = {"topic": {}, "broker": {}}
        self.calls = []
        self.connections = []
        self.entered = 0

    def factory(self, bootstrap_servers, **config):
        self.connections.append((bootstrap_servers, config))
        return self

    def __enter__(self):
        self.entered += 1
        return self

    def __exit__(self, *exc):
        self.entered -= 1
        return False

    # reads
    def cluster(self):
        return {"cluster_id": "fake", "controller_id": 1, "brokers": copy.deepcopy(self.brokers)}

    def partitions(self):
        result = []
        for key, replicas in sorted(self.assignment.items()):
            shown = self._shown(key) if key in self.in_flight else list(replicas)
            result.append({"topic": key[0], "partition": key[1], "leader": self.leaders[key], "replicas": shown,
                           "isr": list(self.isr.get(key, shown))})
        return result

    def partition_sizes(self):
        self.calls.append(("partition_sizes",))
        return dict(self.sizes)

    def configs(self, resource_type, names, sources=None):
        fenced = {b["id"] for b in self.brokers if b["fenced"]}
        if resource_type == "broker" and fenced & {int(n) for n in names}:
            raise KafkaAdminError("describe configs: broker(s) %s did not answer" % sorted(fenced & set(map(int, names))))
        return {str(n): dict(self.store[resource_type].get(str(n), {})) for n in names}

    def reassignments(self):
        for key in sorted(self.in_flight):
            state = self.in_flight[key]
            state["left"] -= 1
            if state["left"] <= 0:
                del self.in_flight[key]
                self._land(key, state["target"])
        return {key: {"replicas": self._shown(key),
                      "adding": [b for b in state["target"] if b not in state["original"]],
                      "removing": [b for b in state["original"] if b not in state["target"]]}
                for key, state in sorted(self.in_flight.items())}

    # changes
    def alter_reassignments(self, targets):
        self.calls.append(("alter_reassignments", dict(targets)))
        refused = {}
        for key, target in sorted(targets.items()):
            if key in self.refuse and target is not None:
                refused[key] = self.refuse[key]
            elif target is None:
                if key not in self.in_flight:
                    refused[key] = "NoReassignmentInProgressError"
                elif not self.cancel_never:
                    del self.in_flight[key]
            elif all(b in self.assignment[key] for b in target):
                self._land(key, target)
            else:
                self.start(key, target)
        return refused

    def alter_configs(self, resource_type, changes):
        self.calls.append(("alter_configs", resource_type, copy.deepcopy(changes)))
        for name, entries in changes.items():
            configs = self.store[resource_type].setdefault(str(name), {})
            for key, value in entries.items():
                if value is None:
                    configs.pop(key, None)
                else:
                    configs[key] = str(value)

    def elect_preferred_leaders(self, partitions=None):
        self.calls.append(("elect_preferred_leaders", sorted(partitions)))
        elected = []
        for key in partitions:
            preferred = self.assignment[key][0]
            if self.leaders[key] != preferred:
                self.leaders[key] = preferred
                elected.append(rx.name_of(key))
        return {"elected": sorted(elected), "errors": {}}

    # for the tests
    def start(self, key, target):
        self.in_flight[key] = {"original": list(self.assignment[key]), "target": list(target), "left": self.polls}

    def _land(self, key, target):
        self.assignment[key] = list(target)
        if self.leaders[key] not in target:
            self.leaders[key] = target[0]

    def _shown(self, key):
        state = self.in_flight[key]
        return state["target"] + [b for b in state["original"] if b not in state["target"]]

    def throttles(self):
        return rx.throttles_in(self.store["topic"], self.store["broker"])

    def changes(self):
        return [c for c in self.calls if c[0] in ("alter_reassignments", "alter_configs", "elect_preferred_leaders")]


@pytest.fixture
def env(monkeypatch):
    """main() with exit/fail turned into exceptions, the module's log captured, the signal
    handlers it installs put back afterwards, and a fake clock in every Executor."""
    raise_on_exit(monkeypatch)
    monkeypatch.setattr(kr, "HAS_KAFKA", True)
    state = {"admin": None, "log": [], "clock": Clock(), "executors": []}
    monkeypatch.setattr(basic.AnsibleModule, "log", lambda module, msg, log_args=None: state["log"].append(msg))

    def no_admin(*args, **kwargs):
        raise AssertionError("no admin client should be constructed")

    original_run = kr.run

    def run_with_fake(module, admin_factory=None):
        admin = state["admin"]
        return original_run(module, admin.factory if admin is not None else no_admin)

    monkeypatch.setattr(kr, "run", run_with_fake)
    clock = state["clock"]

    class FastExecutor(rx.Executor):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("clock", clock)
            kwargs.setdefault("sleep", clock.sleep)
            super().__init__(*args, **kwargs)
            state["executors"].append(self)

    monkeypatch.setattr(rx, "Executor", FastExecutor)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield state
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def run(env, admin, args, expect=ExitJson, check=False, diff=False):
    env["admin"] = admin
    full = dict(args)
    if "current_assignment" not in args:
        full = dict(CONNECTION, **full)
    full.setdefault("poll_interval", 0.5)
    if check:
        full["_ansible_check_mode"] = True
    if diff:
        full["_ansible_diff"] = True
    with module_args(full), pytest.raises(expect) as caught:
        kr.main()
    return caught.value.args[0]


def test_a_bad_partition_number_reaches_the_user_before_any_change(env):
    admin = FakeAdmin(UNBALANCED)
    result = run(env, admin, {"assignment": '{"partitions": [{"topic": "t", "partition": "zero", "replicas": [4]}]}'},
                 expect=FailJson)
    assert result["msg"] == "t: partition must be a non-negative integer, got 'zero'"
    assert admin.changes() == []


# -- the module end to end --------------------------------------------------------------------------------
def test_check_mode_plans_and_changes_nothing(env):
    admin = FakeAdmin(UNBALANCED)
    result = run(env, admin, {"throttle": 1048576}, check=True, diff=True)
    assert result["changed"] is True
    assert result["stats"]["replica_moves"] == 6
    moved = result["proposed"]["partitions"]
    assert sum(b["summary"]["replica_moves"] for b in result["batches"]) == 6
    assert sorted(e for b in result["batches"] for e in [rx.key_of(p) for p in b["partitions"]]) == sorted(
        rx.key_of(e) for e in moved)
    assert admin.changes() == []
    assert admin.assignment == UNBALANCED
    assert result["diff"]["before"].splitlines()[0] == "t-%d: %s" % (moved[0]["partition"], UNBALANCED[rx.key_of(moved[0])])
    assert result["diff"]["after"].splitlines()[0] == "t-%d: %s" % (moved[0]["partition"], moved[0]["replicas"])
    # leaders the moves change are reported as what the election would do
    assert result["elected"] == sorted(rx.name_of(rx.key_of(e)) for e in moved
                                       if e["replicas"][0] != UNBALANCED[rx.key_of(e)][0])
    assert "executed" not in result
    assert [c for c in admin.calls if c[0] == "partition_sizes"]
    connection = {"security": {}, "identity": None, "listener": None, "request_timeout": 30,
                  "options": dict.fromkeys(CLIENT_OPTIONS)}
    assert admin.connections == [(["b1:9092"], connection)]
    assert admin.entered == 0  # the connection was closed


def test_planned_changes_nothing_even_without_check_mode(env):
    admin = FakeAdmin(UNBALANCED)
    result = run(env, admin, {"state": "planned", "max_moves_per_broker": 4, "use_partition_sizes": False})
    assert result["changed"] is False
    assert result["stats"]["replica_moves"] == 6
    assert [b["summary"]["replica_moves"] for b in result["batches"]] == [4, 2]  # broker 4 receives at most 4 a batch
    assert admin.changes() == []
    assert not [c for c in admin.calls if c[0] == "partition_sizes"]
    assert result["stale_throttles"] == NO_THROTTLES


def test_present_executes_the_plan_then_changes_nothing(env):
    admin = FakeAdmin(UNBALANCED)
    result = run(env, admin, {"throttle": 1048576, "max_moves_per_broker": 4})
    assert result["changed"] is True
    assert len(result["executed"]) == 2
    assert {rx.key_of(e): e["replicas"] for e in result["proposed"]["partitions"]}.items() <= admin.assignment.items()
    assert admin.throttles() == NO_THROTTLES
    assert admin.in_flight == {}
    assert result["throttle"]["rate"] == 1048576
    assert all(admin.leaders[k] == r[0] for k, r in admin.assignment.items())  # the election made the plan's leaders
    assert result["log"] == [line for line in env["log"] if not line.startswith("Invoked with")]  # progress to syslog too
    assert result["log"][0].startswith("batch 1/2: ")
    again = run(env, admin, {"throttle": 1048576})
    assert again["changed"] is False
    assert again["stats"]["replica_moves"] == 0


def test_a_balanced_cluster_is_left_alone(env):
    admin = FakeAdmin(BALANCED)
    result = run(env, admin, {"throttle": 1048576})
    assert result["changed"] is False
    assert result["proposed"]["partitions"] == []
    assert result["executed"] == [] and result["elected"] == [] and result["resumed"] == []
    assert admin.changes() == []
    assert run(env, admin, {}, check=True)["changed"] is False


def test_a_leader_off_its_preferred_replica_is_elected(env):
    admin = FakeAdmin(BALANCED)
    admin.leaders[("t", 1)] = 3
    check = run(env, admin, {}, check=True)
    assert check["changed"] is True and check["elected"] == ["t-1"]
    assert admin.changes() == []
    result = run(env, admin, {})
    assert result["changed"] is True and result["elected"] == ["t-1"]
    assert admin.changes() == [("elect_preferred_leaders", [("t", 1)])]
    assert run(env, admin, {})["changed"] is False


def test_no_election_when_elect_leaders_is_off(env):
    admin = FakeAdmin(BALANCED)
    admin.leaders[("t", 1)] = 3
    assert run(env, admin, {"elect_leaders": False}, check=True)["changed"] is False
    result = run(env, admin, {"elect_leaders": False})
    assert result["changed"] is False
    assert admin.changes() == []


def test_stale_throttles_are_removed_when_nothing_is_in_flight(env):
    admin = FakeAdmin(BALANCED)
    admin.store["topic"]["t"] = {LEADER_KEY: "0:1,0:2", FOLLOWER_KEY: "0:3", "retention.ms": "1000"}
    admin.store["broker"]["2"] = dict.fromkeys(RATES, "1048576")
    stale = {"topics": {"t": {LEADER_KEY: "0:1,0:2", FOLLOWER_KEY: "0:3"}},
             "brokers": {"2": dict.fromkeys(RATES, "1048576")}}
    check = run(env, admin, {}, check=True)
    assert check["changed"] is True and check["stale_throttles"] == stale
    assert admin.changes() == []
    result = run(env, admin, {})
    assert result["changed"] is True and result["stale_throttles"] == stale
    assert admin.throttles() == NO_THROTTLES
    assert admin.store["topic"]["t"] == {"retention.ms": "1000"}
    assert "removing replication throttles left by an interrupted run" in result["log"]
    assert run(env, admin, {})["changed"] is False


def test_a_reassignment_in_flight_is_finished_first_and_its_leftover_throttles_removed(env):
    admin = FakeAdmin(UNBALANCED, polls=3)
    admin.start(("t", 0), [4, 1, 3])  # a killed run: its throttles are still set
    admin.store["topic"]["t"] = {LEADER_KEY: "0:1,0:2,0:3", FOLLOWER_KEY: "0:4"}
    admin.store["broker"].update({str(b): dict.fromkeys(RATES, "1024") for b in (1, 2, 3, 4)})
    check = run(env, admin, {}, check=True)
    assert check["changed"] is True and check["resumed"] == ["t-0"]
    assert check["stale_throttles"] == NO_THROTTLES  # throttles of a move in flight are not stale
    assert admin.changes() == []
    result = run(env, admin, {})
    assert result["changed"] is True and result["resumed"] == ["t-0"]
    assert admin.assignment[("t", 0)] == [4, 1, 3]
    assert admin.in_flight == {}
    assert admin.throttles() == NO_THROTTLES
    assert result["stale_throttles"]["brokers"] == {str(b): dict.fromkeys(RATES, "1024") for b in (1, 2, 3, 4)}
    assert "t-0" not in [rx.name_of(rx.key_of(e)) for e in result["proposed"]["partitions"]]
    assert run(env, admin, {})["changed"] is False


def test_cancel_with_moves_in_flight(env):
    admin = FakeAdmin(UNBALANCED, polls=100)
    admin.start(("t", 0), [4, 1, 3])
    admin.start(("t", 5), [4, 1, 2])
    admin.store["topic"]["t"] = {LEADER_KEY: "0:1,0:2,0:3,5:3,5:1,5:2", FOLLOWER_KEY: "0:4,5:4"}
    admin.store["broker"].update({str(b): dict.fromkeys(RATES, "4096") for b in (1, 2, 3, 4)})
    check = run(env, admin, {"state": "cancelled"}, check=True)
    assert check["changed"] is True and check["cancelled"] == ["t-0", "t-5"]
    assert admin.changes() == [] and len(admin.in_flight) == 2
    result = run(env, admin, {"state": "cancelled"})
    assert result["changed"] is True and result["cancelled"] == ["t-0", "t-5"]
    assert admin.changes()[0] == ("alter_reassignments", {("t", 0): None, ("t", 5): None})
    assert admin.in_flight == {}
    assert admin.assignment == UNBALANCED
    assert admin.throttles() == NO_THROTTLES
    again = run(env, admin, {"state": "cancelled"})
    assert again["changed"] is False and again["cancelled"] == []
    assert len(admin.changes()) == 3  # cancel + the two throttle removals, nothing more


def test_cancel_with_nothing_in_flight_changes_nothing(env):
    admin = FakeAdmin(UNBALANCED)
    result = run(env, admin, {"state": "cancelled"})
    assert result == {"changed": False, "cancelled": [], "resumed": [], "elected": [],
                      "stale_throttles": NO_THROTTLES, "log": []}
    assert admin.changes() == []


def test_cancel_removes_stale_throttles_and_says_so(env):
    admin = FakeAdmin(UNBALANCED)
    admin.store["broker"]["3"] = {RATES[1]: "4096"}
    assert run(env, admin, {"state": "cancelled"}, check=True)["changed"] is True
    assert admin.changes() == []
    result = run(env, admin, {"state": "cancelled"})
    assert result["changed"] is True and result["cancelled"] == []
    assert result["stale_throttles"] == {"topics": {}, "brokers": {"3": {RATES[1]: "4096"}}}
    assert admin.throttles() == NO_THROTTLES
    assert run(env, admin, {"state": "cancelled"})["changed"] is False


def test_cancel_refused_by_kafka_fails(env, monkeypatch):
    admin = FakeAdmin(UNBALANCED)
    admin.start(("t", 0), [4, 1, 3])
    monkeypatch.setattr(admin, "alter_reassignments", lambda targets: {("t", 0): "ClusterAuthorizationFailedError"})
    result = run(env, admin, {"state": "cancelled"}, expect=FailJson)
    assert result["msg"] == "Kafka refused to cancel t-0 (ClusterAuthorizationFailedError)"


def stuck_cancellation():
    admin = FakeAdmin(UNBALANCED, polls=math.inf)
    admin.start(("t", 0), [4, 1, 3])
    admin.cancel_never = True
    return admin


def test_a_cancellation_that_does_not_finish_fails(env):
    admin = stuck_cancellation()
    result = run(env, admin, {"state": "cancelled", "timeout": 10, "throttle": 2048}, expect=FailJson)
    assert result["msg"] == ("cancellation did not finish within 10s; still moving: t-0. Kafka goes on reverting them; "
                             "run state=cancelled again to wait for the rest")
    assert env["clock"].now - 1000.0 == 10  # the deadline is the timeout given
    assert admin.in_flight  # Kafka goes on reverting
    assert admin.entered == 0


def test_a_cancellation_timeout_message_names_the_timeout_given(env):
    result = run(env, stuck_cancellation(), {"state": "cancelled", "timeout": 7, "poll_interval": 2}, expect=FailJson)
    # polls at 0, 2, 4 and 6 s; at 8 s the deadline had passed
    assert result["msg"].startswith("cancellation did not finish within 8s; still moving: t-0. ")


def test_a_cancellation_polls_at_poll_interval(env):
    run(env, stuck_cancellation(), {"state": "cancelled", "timeout": 10, "poll_interval": 0.5}, expect=FailJson)
    assert set(env["clock"].sleeps) == {0.5}
    assert len(env["clock"].sleeps) == 20


@pytest.mark.parametrize("state", ["present", "cancelled"])
def test_every_executor_gets_the_timeout_and_poll_interval_given(env, state):
    admin = FakeAdmin(UNBALANCED)
    admin.start(("t", 0), [4, 1, 3])
    run(env, admin, {"state": state, "timeout": 77, "poll_interval": 0.25})
    assert env["executors"]
    assert [(e.timeout, e.poll_interval) for e in env["executors"]] == [(77, 0.25)] * len(env["executors"])


def test_an_explicit_assignment_is_executed_as_given(env):
    admin = FakeAdmin(UNBALANCED)
    wanted = {"version": 1, "partitions": [entry("t", 0, [4, 3, 1]), entry("t", 1, UNBALANCED[("t", 1)])]}
    check = run(env, admin, {"assignment": wanted}, check=True)
    assert check["changed"] is True
    assert [b["partitions"] for b in check["batches"]] == [[entry("t", 0, [4, 3, 1])]]  # t-1 is already so
    assert "proposed" not in check and "stats" not in check
    result = run(env, admin, {"assignment": wanted, "elect_leaders": False})
    assert result["changed"] is True
    assert admin.changes()[0] == ("alter_reassignments", {("t", 0): [4, 3, 1]})
    assert admin.assignment[("t", 0)] == [4, 3, 1]
    assert admin.leaders[("t", 0)] == 1  # Kafka leaves the leader where it is
    assert run(env, admin, {"assignment": wanted, "elect_leaders": False})["changed"] is False


@pytest.mark.parametrize("assignment, message", [
    ({"version": 1, "partitions": [entry("nope", 0, [1])]}, "assignment names nope-0, which does not exist"),
    ({"version": 1, "partitions": [entry("t", 0, [1, 5])]},
     "assignment puts t-0 on broker(s) 5, which are not registered and unfenced"),
    ('{"version": 1, "partitions": [', "assignment is not valid JSON: Expecting value: line 1 column 31 (char 30)"),
])
def test_a_bad_assignment_fails_before_any_change(env, assignment, message):
    admin = FakeAdmin(UNBALANCED)
    assert run(env, admin, {"assignment": assignment}, expect=FailJson)["msg"] == message
    assert admin.changes() == []


def test_partitions_without_leader_are_not_moved(env):
    admin = FakeAdmin(UNBALANCED)
    admin.leaders[("t", 0)] = -1
    admin.leaders[("t", 7)] = -1  # not part of the plan: no reason to fail
    result = run(env, admin, {"assignment": {"version": 1, "partitions": [entry("t", 0, [4, 2, 3])]}}, expect=FailJson)
    assert result["msg"] == ("partitions t-0 have no leader, so their data cannot be copied; bring their brokers "
                             "back first")
    assert admin.changes() == []


def test_a_timed_out_batch_fails_with_the_throttles_removed(env):
    admin = FakeAdmin(UNBALANCED, polls=math.inf)
    result = run(env, admin, {"throttle": 1048576, "timeout": 60}, expect=FailJson)
    assert result["msg"].startswith("batch 1/2 did not finish within 60s; still moving: ")
    assert "Kafka goes on moving them: run again to resume, or use state=cancelled to revert them" in result["msg"]
    assert admin.throttles() == NO_THROTTLES
    assert admin.in_flight  # Kafka goes on
    assert admin.entered == 0


def test_target_broker_errors_reach_the_user(env):
    admin = FakeAdmin(UNBALANCED, brokers=[broker(1), broker(2), broker(3), broker(4, fenced=True)])
    result = run(env, admin, {"brokers": [1, 2, 3, 4]}, expect=FailJson)
    assert result["msg"] == ("brokers 4 are not registered and unfenced in the cluster (live: 1, 2, 3); a replica "
                             "cannot be moved to a broker that is not running")
    # by default the fenced broker is simply not a target: the data stays on 1-3
    assert run(env, admin, {}, check=True)["changed"] is False


def test_planner_errors_reach_the_user(env):
    admin = FakeAdmin(UNBALANCED)
    result = run(env, admin, {"include_topics": ["no-such-topic"]}, expect=FailJson)
    assert "no-such-topic" in result["msg"]
    result = run(env, admin, {"replication_factors": {"t": 5}}, expect=FailJson)
    assert result["msg"] == "t-0 needs replication factor 5 but only 4 target brokers are given"
    assert admin.changes() == []


def test_invalid_options_fail_before_connecting(env):
    admin = FakeAdmin(UNBALANCED)
    result = run(env, admin, {"throttle": 100}, expect=FailJson)
    assert result["msg"].startswith("throttle is in bytes per second and must be at least 1024 (got 100)")
    assert admin.connections == []
    result = run(env, None, {"poll_interval": 2.0, "bootstrap_servers": None}, expect=FailJson)
    assert result["msg"].startswith("no bootstrap servers: set bootstrap_servers")


def test_offline_planning_needs_no_cluster(env, monkeypatch):
    monkeypatch.setattr(kr, "HAS_KAFKA", False)  # and not even kafka-python
    current = {"version": 1, "partitions": [entry(t, p, r) for (t, p), r in sorted(UNBALANCED.items())]}
    result = run(env, None, {"current_assignment": current, "brokers": [1, 2, 3, {"id": 4}]}, diff=True)
    assert result["changed"] is False
    assert result["stats"]["replica_moves"] == 6
    assert sum(b["summary"]["replica_moves"] for b in result["batches"]) == 6
    assert result["resumed"] == [] and result["elected"] == [] and result["stale_throttles"] == NO_THROTTLES
    assert result["diff"]["after"]
    as_text = run(env, None, {"current_assignment": json.dumps(current), "brokers": [1, 2, 3, 4]})
    assert as_text["proposed"] == result["proposed"]


@pytest.mark.parametrize("args, message", [
    ({"assignment": {"partitions": []}, "current_assignment": {"partitions": []}},
     "parameters are mutually exclusive: assignment|current_assignment"),
] + [({"assignment": {"partitions": []}, name: value}, "parameters are mutually exclusive: assignment|%s" % name)
     for name, value in (("brokers", [1]), ("remove_brokers", [4]), ("replication_factors", {"t": 2}),
                         ("max_moves", 0), ("brokers", None))])
def test_the_spec_states_which_options_go_together(env, args, message):
    admin = FakeAdmin(UNBALANCED)
    assert run(env, admin, args, expect=FailJson)["msg"] == message
    assert admin.connections == []


def test_bootstrap_servers_or_current_assignment_is_required(env):
    with module_args({"poll_interval": 1.0}), pytest.raises(FailJson) as caught:
        kr.main()
    assert caught.value.args[0]["msg"].startswith("no bootstrap servers: set bootstrap_servers")


def test_offline_planning_errors(env):
    current = {"version": 1, "partitions": [entry("t", 0, [1, 2])]}
    assert run(env, None, {"current_assignment": current}, expect=FailJson)["msg"] == (
        "missing parameter(s) required by 'current_assignment': brokers")
    assert run(env, None, {"current_assignment": current, "brokers": [1, 2], "state": "cancelled"},
               expect=FailJson)["msg"] == "state=cancelled needs a cluster, not current_assignment"
    assert run(env, None, {"current_assignment": "{", "brokers": [1]}, expect=FailJson)["msg"].startswith(
        "current_assignment is not valid JSON: ")


def test_without_kafka_python_a_live_run_fails_cleanly(env, monkeypatch):
    monkeypatch.setattr(kr, "HAS_KAFKA", False)
    result = run(env, FakeAdmin(BALANCED), {}, expect=FailJson)
    assert "kafka-python" in result["msg"]


def test_the_run_function_takes_an_admin_factory():
    """run(module, admin_factory) without main(): what the module needs of an AnsibleModule."""
    admin = FakeAdmin(BALANCED)
    module = type("Module", (), {"params": reassignment_params(), "check_mode": True, "_diff": False,
                                 "log": lambda self, msg: None, "warn": lambda self, msg: None})()
    result = kr.run(module, admin.factory)
    assert result["changed"] is False
    assert admin.connections and admin.entered == 0
    offline = type(module)()
    offline.params = reassignment_params(bootstrap_servers=None, current_assignment={"partitions": [entry("t", 0, [1])]}, brokers=[1])
    assert kr.run(offline, functools.partial(pytest.fail, "no admin offline"))["changed"] is False


def test_the_leader_election_keeps_to_the_selected_topics(env):
    layout = {("orders.v1", 0): [1, 2], ("orders.v1", 1): [2, 1], ("orders_v1", 0): [3, 4], ("orders_v1", 1): [4, 3]}
    admin = FakeAdmin(layout)
    admin.leaders[("orders_v1", 0)] = 4  # not selected: must stay as it is
    selected = {"include_topics": ["orders.v1"], "brokers": [1, 2]}  # orders.v1 is balanced on 1 and 2
    check = run(env, admin, selected, check=True)
    assert check["stats"]["replica_moves"] == 0
    assert check["elected"] == []
    assert check["changed"] is False
    result = run(env, admin, selected)
    assert result["changed"] is False
    assert admin.leaders[("orders_v1", 0)] == 4


def test_excluding_a_topic_by_name_does_not_exclude_topics_its_name_matches_as_a_pattern(env):
    layout = {("orders.v1", 0): [1, 2], ("orders.v1", 1): [2, 1], ("orders_v1", 0): [1, 2], ("orders_v1", 1): [2, 1]}
    admin = FakeAdmin(layout)
    admin.leaders[("orders.v1", 0)] = 2  # excluded: stays as it is
    admin.leaders[("orders_v1", 0)] = 2  # selected: its preferred leader is elected
    selected = {"exclude_topics": ["orders.v1"], "brokers": [1, 2]}
    check = run(env, admin, selected, check=True)
    assert check["stats"]["replica_moves"] == 0
    assert check["changed"] is True and check["elected"] == ["orders_v1-0"]
    result = run(env, admin, selected)
    assert result["elected"] == ["orders_v1-0"]
    assert admin.changes() == [("elect_preferred_leaders", [("orders_v1", 0)])]
    assert admin.leaders[("orders.v1", 0)] == 2


def test_topic_patterns_select_whole_names_for_the_leader_election(env):
    layout = {("orders", 0): [1, 2], ("orders-dlq", 0): [2, 1], ("audit", 0): [1, 2]}
    admin = FakeAdmin(layout)
    for key in layout:
        admin.leaders[key] = layout[key][1]
    result = run(env, admin, {"include_topics": ["orders.*"], "exclude_topics": ["orders-d.q"], "brokers": [1, 2]})
    assert result["elected"] == ["orders-0"]  # orders-dlq excluded by the pattern, audit not included
    assert admin.leaders[("orders-dlq", 0)] == 1 and admin.leaders[("audit", 0)] == 2


def test_an_assignment_elects_the_leaders_of_all_the_partitions_it_names(env):
    admin = FakeAdmin(UNBALANCED)
    admin.leaders[("t", 1)] = UNBALANCED[("t", 1)][1]  # named, already on its replicas: elected all the same
    admin.leaders[("t", 2)] = UNBALANCED[("t", 2)][1]  # not named: left alone
    wanted = {"version": 1, "partitions": [entry("t", 0, [4, 3, 1]), entry("t", 1, UNBALANCED[("t", 1)])]}
    check = run(env, admin, {"assignment": wanted}, check=True)
    assert check["changed"] is True
    assert sorted(check["elected"]) == ["t-0", "t-1"]  # t-1 by the election, t-0 by its move (leader 1 -> 4)
    assert [b["partitions"] for b in check["batches"]] == [[entry("t", 0, [4, 3, 1])]]
    result = run(env, admin, {"assignment": wanted})
    assert result["elected"] == ["t-0", "t-1"]
    assert admin.changes()[-1] == ("elect_preferred_leaders", [("t", 0), ("t", 1)])
    assert admin.leaders[("t", 2)] == UNBALANCED[("t", 2)][1]
    # only an election left to do is a change too, and afterwards there is nothing
    admin.leaders[("t", 1)] = UNBALANCED[("t", 1)][2]
    again = run(env, admin, {"assignment": wanted})
    assert again["changed"] is True and again["elected"] == ["t-1"] and again["executed"] == []
    assert run(env, admin, {"assignment": wanted})["changed"] is False


def test_decommission_run_again_after_the_broker_was_unregistered(env):
    admin = FakeAdmin(BALANCED)
    assert run(env, admin, {"remove_brokers": [4]})["changed"] is True
    assert all(4 not in replicas for replicas in admin.assignment.values())
    admin.brokers = [broker(b) for b in (1, 2, 3)]  # broker 4 is gone
    check = run(env, admin, {"remove_brokers": [4]}, check=True)
    assert check["changed"] is False and check["stats"]["replica_moves"] == 0
    assert run(env, admin, {"remove_brokers": [4]})["changed"] is False


def test_replicas_on_an_unregistered_broker_are_moved_when_it_is_removed(env):
    layout = {("t", 0): [1, 4], ("t", 1): [2, 3], ("t", 2): [3, 4], ("t", 3): [1, 2]}  # 4 never leads
    admin = FakeAdmin(layout, brokers=[broker(b) for b in (1, 2, 3)])
    result = run(env, admin, {"remove_brokers": [4, 9]})
    assert result["changed"] is True
    assert all(4 not in replicas and len(replicas) == 2 for replicas in admin.assignment.values())
    assert admin.in_flight == {}


def test_a_partly_refused_batch_fails_with_the_accepted_part_cancelled(env):
    admin = FakeAdmin(UNBALANCED, polls=50)
    admin.refuse[("t", 1)] = "InvalidReplicaAssignmentException"
    wanted = {"version": 1, "partitions": [entry("t", 0, [4, 2, 3]), entry("t", 1, [4, 3, 1]), entry("t", 2, [4, 1, 2])]}
    result = run(env, admin, {"assignment": wanted, "throttle": 1048576, "max_moves_per_broker": 10}, expect=FailJson)
    assert result["msg"] == ("Kafka refused the reassignment of t-1 (InvalidReplicaAssignmentException); the other 2 "
                             "partition(s) of batch 1/1 were cancelled and are back on their brokers, nothing else was "
                             "submitted")
    assert [c[1] for c in admin.changes() if c[0] == "alter_reassignments"] == [
        {("t", 0): [4, 2, 3], ("t", 1): [4, 3, 1], ("t", 2): [4, 1, 2]}, {("t", 0): None, ("t", 2): None}]
    assert admin.in_flight == {} and admin.assignment == UNBALANCED
    assert admin.throttles() == NO_THROTTLES
    assert not [c for c in admin.changes() if c[0] == "elect_preferred_leaders"]
    assert admin.entered == 0


def test_a_fully_refused_batch_fails_and_submits_nothing_else(env):
    admin = FakeAdmin(UNBALANCED)
    admin.refuse[("t", 0)] = "ReassignmentInProgressException"
    wanted = {"version": 1, "partitions": [entry("t", 0, [4, 2, 3])]}
    result = run(env, admin, {"assignment": wanted, "throttle": 1048576}, expect=FailJson)
    assert result["msg"] == ("Kafka refused the reassignment of t-0 (ReassignmentInProgressException); nothing of "
                             "batch 1/1 was submitted")
    assert len([c for c in admin.changes() if c[0] == "alter_reassignments"]) == 1
    assert admin.throttles() == NO_THROTTLES


def test_a_fenced_broker_with_a_throttle_does_not_stop_the_run(env):
    # describing a fenced broker's configs fails (FakeAdmin, as Kafka): its throttle is not looked for
    admin = FakeAdmin(BALANCED, brokers=[broker(1), broker(2), broker(3), broker(4, fenced=True)])
    admin.store["broker"]["4"] = dict.fromkeys(RATES, "1024")
    admin.store["broker"]["2"] = dict.fromkeys(RATES, "1024")
    for state in ("present", "cancelled"):
        check = run(env, admin, {"state": state, "remove_brokers": [4]}, check=True)
        assert check["stale_throttles"] == {"topics": {}, "brokers": {"2": dict.fromkeys(RATES, "1024")}}
    result = run(env, admin, {"remove_brokers": [4]})
    assert result["stale_throttles"] == {"topics": {}, "brokers": {"2": dict.fromkeys(RATES, "1024")}}
    assert admin.throttles() == {"topics": {}, "brokers": {"4": dict.fromkeys(RATES, "1024")}}
    assert all(4 not in replicas for replicas in admin.assignment.values())
