# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of plugins/module_utils/reassignment_exec.py: the pure helpers (batching, throttles, the
assignment seen through reassignments in flight) exactly and as properties, and the Executor
against an in-memory stand-in for KafkaAdmin whose moves complete after a number of polls, with an
injected clock so that nothing really sleeps. What a real cluster does is covered by
tests/integration/test_kafka_reassignment.py."""

from __future__ import annotations

import copy
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import reassignment_exec as rx
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import Clock

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
LEADER_KEY, FOLLOWER_KEY = rx.THROTTLE_REPLICA_KEYS
RATES = rx.THROTTLE_RATE_KEYS


def entry(topic, partition, replicas):
    return {"topic": topic, "partition": partition, "replicas": list(replicas)}


def rates(value, *brokers):
    return {str(b): dict.fromkeys(RATES, str(value)) for b in brokers}


# -- the fakes ------------------------------------------------------------------------------------
class FakeAdmin:
    """The part of KafkaAdmin the executor uses, over an in-memory cluster.

    A submitted move that adds replicas stays in flight until ``polls`` calls of reassignments()
    have seen it (math.inf: never finishes); one that only reorders or drops replicas completes at
    once, as in Kafka. ``refuse`` maps partitions to the error Kafka answers for them; ``land``
    maps partitions to the replica list a move really ends with (a broken move). A cancelled move
    is back on its original replicas at once (``cancel_never``: it stays in flight). ``fenced``
    brokers are registered but fenced: describing their configs fails, as the request goes to
    the broker itself."""

    def __init__(self, assignment, brokers=(1, 2, 3, 4, 5), polls=2, refuse=None, land=None, fenced=()):
        self.assignment = {key: list(replicas) for key, replicas in assignment.items()}
        self.brokers = list(brokers)
        self.fenced = set(fenced)
        self.cancel_never = False
        self.described = []
        self.polls = polls
        self.refuse = dict(refuse or {})
        self.land = dict(land or {})
        self.leaders = {}
        self.in_flight = {}  # key -> {"original", "target", "left"}
        self.store = {"topic": {}, "broker": {}}
        self.calls = []
        self.elect_answer = None

    # what the executor reads
    def partitions(self):
        result = []
        for key, replicas in sorted(self.assignment.items()):
            shown = self._shown(key) if key in self.in_flight else list(replicas)
            result.append({"topic": key[0], "partition": key[1], "leader": self.leaders.get(key, shown[0]),
                           "replicas": shown, "isr": list(shown)})
        return result

    def cluster(self):
        return {"cluster_id": "fake", "controller_id": 1,
                "brokers": [{"id": b, "rack": None, "fenced": b in self.fenced} for b in self.brokers]}

    def reassignments(self):
        self.calls.append(("reassignments",))
        for key in sorted(self.in_flight):
            state = self.in_flight[key]
            state["left"] -= 1
            if state["left"] <= 0:
                del self.in_flight[key]
                self.assignment[key] = list(self.land.get(key, state["target"]))
        return {key: {"replicas": self._shown(key),
                      "adding": [b for b in state["target"] if b not in state["original"]],
                      "removing": [b for b in state["original"] if b not in state["target"]]}
                for key, state in sorted(self.in_flight.items())}

    def configs(self, resource_type, names, sources=None):
        self.described.append((resource_type, list(names)))
        if resource_type == "broker" and self.fenced & {int(n) for n in names}:
            raise RuntimeError("describe configs: broker %s is fenced" % sorted(self.fenced & {int(n) for n in names}))
        return {str(n): dict(self.store[resource_type].get(str(n), {})) for n in names}

    # what it changes
    def alter_reassignments(self, targets):
        self.calls.append(("alter_reassignments", {k: None if r is None else list(r) for k, r in targets.items()},
                           self.throttles(), sorted(self.in_flight)))
        refused = {}
        for key, target in sorted(targets.items()):
            if key in self.refuse:
                refused[key] = self.refuse[key]
            elif target is None:
                if key not in self.in_flight:
                    refused[key] = "NoReassignmentInProgressError"
                elif not self.cancel_never:
                    del self.in_flight[key]
            elif all(b in self.assignment[key] for b in target):
                self.assignment[key] = list(target)
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
        self.calls.append(("elect_preferred_leaders", list(partitions)))
        if self.elect_answer is not None:
            return self.elect_answer
        elected = []
        for key in partitions:
            replicas = self.assignment[key]
            if self.leaders.get(key, replicas[0]) != replicas[0]:
                self.leaders[key] = replicas[0]
                elected.append(rx.name_of(key))
        return {"elected": sorted(elected), "errors": {}}

    # for the tests
    def start(self, key, target):
        """A reassignment in flight, as an earlier (interrupted) run leaves it."""
        self.in_flight[key] = {"original": list(self.assignment[key]), "target": list(target), "left": self.polls}

    def _shown(self, key):
        state = self.in_flight[key]
        return state["target"] + [b for b in state["original"] if b not in state["target"]]

    def throttles(self):
        return rx.throttles_in(self.store["topic"], self.store["broker"])

    def submissions(self):
        return [c for c in self.calls if c[0] == "alter_reassignments"]


NO_THROTTLES = {"topics": {}, "brokers": {}}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fast(monkeypatch, clock):
    """execute_reassignment builds its own Executor: give that one the fake clock too."""

    class FastExecutor(rx.Executor):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("clock", clock)
            kwargs.setdefault("sleep", clock.sleep)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(rx, "Executor", FastExecutor)
    return clock


def executor(admin, clock, **options):
    options.setdefault("poll_interval", 1.0)
    return rx.Executor(admin, clock=clock, sleep=clock.sleep, **options)


# -- move_load ------------------------------------------------------------------------------------
@pytest.mark.parametrize("old, new, expected", [
    ([1, 2, 3], [1, 2, 4], {4: 1, 1: 1}),
    ([1, 2, 3], [4, 5, 3], {4: 1, 5: 1, 1: 2}),
    ([1, 2], [2, 3], {3: 1, 1: 1}),  # the old leader sends even though it leaves
    ([2, 1], [3, 4, 5], {3: 1, 4: 1, 5: 1, 2: 3}),
    ([1, 2, 3], [3, 2, 1], {}),  # reorder
    ([1, 2, 3], [2, 1], {}),  # drop
    ([1, 2, 3], [1, 2, 3], {}),
    ([], [1, 2], {1: 1, 2: 1}),  # no current replicas: no sender to charge
])
def test_move_load(old, new, expected):
    assert rx.move_load(old, new) == expected


# -- split_batches --------------------------------------------------------------------------------
def test_split_batches_refuses_a_cap_below_one():
    for cap in (0, -3):
        with pytest.raises(ValueError) as caught:
            rx.split_batches({}, [], cap)
        assert str(caught.value) == "max_moves_per_broker must be at least 1, got %d" % cap


def test_split_batches_of_nothing_is_no_batch():
    assert rx.split_batches({("t", 0): [1, 2]}, []) == []


def test_split_batches_exact():
    current = {("t", p): [1, 2] for p in range(4)}
    current[("u", 0)] = [2, 3]
    proposed = [entry("t", 3, [4, 2]), entry("t", 0, [1, 4]), entry("u", 0, [3, 2]), entry("t", 1, [4, 3]),
                entry("t", 2, [2, 1])]
    # loads: t-0 {4: 1, 1: 1}, t-1 {4: 1, 3: 1, 1: 2}, t-3 {4: 1, 1: 1}; u-0 and t-2 only reorder
    assert rx.split_batches(current, proposed, 2) == [
        [entry("t", 0, [1, 4]), entry("t", 3, [4, 2])],
        [entry("t", 1, [4, 3]), entry("t", 2, [2, 1]), entry("u", 0, [3, 2])],
    ]
    assert rx.split_batches(current, proposed, 4) == [
        [entry("t", 0, [1, 4]), entry("t", 1, [4, 3]), entry("t", 2, [2, 1]), entry("t", 3, [4, 2]),
         entry("u", 0, [3, 2])]]


def test_split_batches_of_reorders_only_is_one_batch():
    current = {("t", 0): [1, 2, 3], ("t", 1): [2, 3, 1]}
    proposed = [entry("t", 1, [3, 2]), entry("t", 0, [3, 2, 1])]
    assert rx.split_batches(current, proposed, 1) == [[entry("t", 0, [3, 2, 1]), entry("t", 1, [3, 2])]]


def test_a_partition_over_the_cap_gets_its_brokers_to_itself():
    current = {("big", 0): [1, 2, 3], ("t", 0): [1, 5], ("t", 1): [6, 2]}
    proposed = [entry("big", 0, [4, 5, 6]), entry("t", 0, [1, 4]), entry("t", 1, [6, 3])]
    # big-0 loads broker 1 with 3 moves (cap 2) and 4, 5, 6 once; t-0 loads 1 and 4, t-1 loads 6 and 3
    batches = rx.split_batches(current, proposed, 2)
    # big-0 has broker 1 to itself; t-1 still fits beside it (broker 6: 1 + 1), t-0 does not (broker 1)
    assert batches == [[entry("big", 0, [4, 5, 6]), entry("t", 1, [6, 3])], [entry("t", 0, [1, 4])]]


def test_sizes_put_the_larger_partitions_first():
    current = {("t", p): [1, 2] for p in range(3)}
    proposed = [entry("t", p, [1, 3]) for p in range(3)]  # each loads brokers 1 and 3 once
    assert [[e["partition"] for e in b] for b in rx.split_batches(current, proposed, 1)] == [[0], [1], [2]]
    sizes = {("t", 0): 10, ("t", 1): 5000, ("t", 2): 300}
    assert [[e["partition"] for e in b] for b in rx.split_batches(current, proposed, 1, sizes=sizes)] == [[1], [2], [0]]
    # with room for two: the two largest start together
    assert [[e["partition"] for e in b] for b in rx.split_batches(current, proposed, 2, sizes=sizes)] == [[1, 2], [0]]


BROKER_IDS = st.integers(1, 6)


@st.composite
def layouts(draw):
    """(current, proposed, cap, sizes): random replica lists, moves, reorders, drops, partitions
    the current assignment does not know."""
    current, proposed = {}, []
    for index in range(draw(st.integers(0, 14))):
        key = ("t%d" % (index % 3), index // 3)
        old = draw(st.lists(BROKER_IDS, min_size=1, max_size=4, unique=True))
        if draw(st.integers(0, 9)):
            current[key] = old
        if not draw(st.booleans()):
            continue
        new = draw(st.one_of(st.lists(BROKER_IDS, min_size=1, max_size=4, unique=True),
                             st.permutations(old).map(list),
                             st.lists(st.sampled_from(old), min_size=1, unique=True)))
        proposed.append(entry(key[0], key[1], new))
    sizes = draw(st.one_of(st.none(), st.dictionaries(st.sampled_from([rx.key_of(e) for e in proposed] or [("t0", 0)]),
                                                      st.integers(0, 10 ** 9))))
    return current, proposed, draw(st.integers(1, 6)), sizes


@settings(max_examples=400, **SETTINGS)
@given(layouts())
def test_split_batches_invariants(layout):
    current, proposed, cap, sizes = layout
    batches = rx.split_batches(current, proposed, cap, sizes=sizes)

    # every proposed partition in exactly one batch, unchanged; no empty batch; batches sorted
    placed = [e for batch in batches for e in batch]
    assert sorted(placed, key=rx.key_of) == sorted(proposed, key=rx.key_of)
    assert len({rx.key_of(e) for e in placed}) == len(placed)
    assert all(batches) and all(batch == sorted(batch, key=rx.key_of) for batch in batches)

    # per batch and broker: at most cap moves, unless one partition alone exceeds it there
    for batch in batches:
        loads = [rx.move_load(current.get(rx.key_of(e), []), e["replicas"]) for e in batch]
        for broker in {b for load in loads for b in load}:
            on_broker = [load[broker] for load in loads if broker in load]
            if sum(on_broker) > cap:
                assert on_broker == [max(on_broker)] and on_broker[0] > cap, (broker, on_broker, cap)

    # reorders and drops (no data to copy) only in the last batch
    for batch in batches[:-1]:
        assert all(rx.move_load(current.get(rx.key_of(e), []), e["replicas"]) for e in batch)

    # the largest moving partition (ties: the first key) starts in the first batch
    moving = [e for e in proposed if rx.move_load(current.get(rx.key_of(e), []), e["replicas"])]
    if moving:
        first = min(moving, key=lambda e: (-(sizes or {}).get(rx.key_of(e), 0), rx.key_of(e)))
        assert first in batches[0]

    # deterministic, whatever the order of the input
    shuffled = list(proposed)
    random.Random(len(proposed)).shuffle(shuffled)
    assert rx.split_batches(current, shuffled, cap, sizes=sizes) == batches
    assert rx.split_batches(dict(current), copy.deepcopy(proposed), cap, sizes=dict(sizes or {})) == batches

    # a cap nothing exceeds gives one batch
    total = {}
    for e in proposed:
        for broker, n in rx.move_load(current.get(rx.key_of(e), []), e["replicas"]).items():
            total[broker] = total.get(broker, 0) + n
    if proposed and max(total.values(), default=0) <= cap:
        assert len(batches) == 1


# -- throttle_configs -----------------------------------------------------------------------------
CURRENT = {("t", 0): [1, 2, 3], ("t", 1): [2, 3, 1], ("t", 2): [3, 6, 2], ("u", 0): [3, 1]}


def test_throttle_configs_exact():
    batch = [entry("t", 0, [1, 2, 4]), entry("t", 1, [1, 3, 2]), entry("u", 0, [4, 5])]
    topics, brokers = rx.throttle_configs(CURRENT, batch, 1048576)
    assert topics == {
        "t": {LEADER_KEY: "0:1,0:2,0:3", FOLLOWER_KEY: "0:4"},  # t-1 only reorders: not throttled
        "u": {LEADER_KEY: "0:3,0:1", FOLLOWER_KEY: "0:4,0:5"},
    }
    assert brokers == rates(1048576, 1, 2, 3, 4, 5)


def test_throttle_configs_of_two_partitions_of_one_topic():
    batch = [entry("t", 2, [3, 6, 5]), entry("t", 0, [4, 2, 3])]
    topics, brokers = rx.throttle_configs(CURRENT, batch, 2048.0)
    assert topics == {"t": {LEADER_KEY: "2:3,2:6,2:2,0:1,0:2,0:3", FOLLOWER_KEY: "2:5,0:4"}}
    assert brokers == rates(2048, 1, 2, 3, 4, 5, 6)


def test_throttle_rates_only_on_the_brokers_of_moving_partitions():
    batch = [entry("u", 0, [1, 4]), entry("t", 2, [6, 2, 3])]  # t-2 reorders on brokers 2, 3, 6
    topics, brokers = rx.throttle_configs(CURRENT, batch, 4096)
    assert topics == {"u": {LEADER_KEY: "0:3,0:1", FOLLOWER_KEY: "0:4"}}
    assert brokers == rates(4096, 1, 3, 4)


def test_no_throttles_for_reorders_drops_or_without_a_rate():
    assert rx.throttle_configs(CURRENT, [entry("t", 0, [3, 2, 1]), entry("t", 1, [2, 3])], 1048576) == ({}, {})
    assert rx.throttle_configs(CURRENT, [entry("t", 0, [4, 5, 6])], None) == ({}, {})
    assert rx.throttle_configs(CURRENT, [], 1048576) == ({}, {})


@pytest.mark.parametrize("rate, problem", [
    (None, None), (1024, None), (10485760, None),
    (1023, "throttle is in bytes per second and must be at least 1024 (got 1023); a lower rate would stall replication"),
    (0, "throttle is in bytes per second and must be at least 1024 (got 0); a lower rate would stall replication"),
])
def test_throttle_problem(rate, problem):
    assert rx.MIN_THROTTLE == 1024
    assert rx.throttle_problem(rate) == problem


# -- effective_assignment, mismatches, throttles_in, batch_summary -------------------------------------
def test_effective_assignment():
    current = {("t", 0): [4, 2, 3, 1], ("t", 1): [2, 3, 1], ("t", 2): [5, 1, 2], ("t", 3): [1, 2]}
    in_flight = {("t", 0): {"replicas": [4, 2, 3, 1], "adding": [4], "removing": [1]},  # [1, 2, 3] -> [4, 2, 3]
                 ("t", 2): {"replicas": [5, 1, 2], "adding": [5], "removing": []},  # RF 2 -> 3
                 ("t", 3): {"adding": [], "removing": [2]},  # no replica list reported: the metadata's
                 ("x", 0): {"replicas": [7, 8], "adding": [8], "removing": [7]}}  # unknown to the metadata
    before = copy.deepcopy(current)
    assert rx.effective_assignment(current, in_flight) == {
        ("t", 0): [4, 2, 3], ("t", 1): [2, 3, 1], ("t", 2): [5, 1, 2], ("t", 3): [1], ("x", 0): [8]}
    assert current == before
    assert rx.effective_assignment(current, {}) == current


def test_mismatches():
    targets = {("b", 0): [2, 3], ("a", 0): [1, 2], ("c", 0): [3, 1]}
    actual = {("a", 0): [1, 2], ("b", 0): [3, 2], ("d", 0): [9]}
    assert rx.mismatches(targets, actual) == [(("b", 0), [3, 2], [2, 3]), (("c", 0), None, [3, 1])]
    assert rx.mismatches({}, actual) == []


def test_throttles_in():
    topic_configs = {"t": {LEADER_KEY: "0:1", FOLLOWER_KEY: "", "retention.ms": "1000"},
                     "u": {"cleanup.policy": "compact"},
                     "v": {LEADER_KEY: None, FOLLOWER_KEY: "3:4"}}
    broker_configs = {1: {RATES[0]: "1024", RATES[1]: "1024", "log.cleaner.threads": "2"},
                      2: {RATES[1]: ""}, 3: {}}
    assert rx.throttles_in(topic_configs, broker_configs) == {
        "topics": {"t": {LEADER_KEY: "0:1"}, "v": {FOLLOWER_KEY: "3:4"}},
        "brokers": {"1": {RATES[0]: "1024", RATES[1]: "1024"}}}
    assert rx.throttles_in({}, {}) == NO_THROTTLES


def test_batch_summary():
    batch = [entry("t", 0, [4, 2, 5]), entry("t", 1, [3, 1]), entry("u", 0, [4, 1]), entry("new", 0, [2, 6])]
    assert rx.batch_summary(CURRENT, batch) == {"partitions": 4, "replica_moves": 5, "receiving_brokers": [2, 4, 5, 6]}
    assert rx.batch_summary(CURRENT, []) == {"partitions": 0, "replica_moves": 0, "receiving_brokers": []}


def test_assignment_map_and_partition_list_round_trip():
    partitions = [entry("u", 0, [3, 1]), entry("t", "1", [2, 3])]
    mapping = rx.assignment_map(partitions)
    assert mapping == {("u", 0): [3, 1], ("t", 1): [2, 3]}
    assert rx.as_partition_list(mapping) == [entry("t", 1, [2, 3]), entry("u", 0, [3, 1])]
    assert rx.name_of(("t", 7)) == "t-7"


# -- the Executor ---------------------------------------------------------------------------------------
LAYOUT = {("t", 0): [1, 2, 3], ("t", 1): [2, 3, 1], ("u", 0): [3, 1, 2], ("u", 1): [1, 3, 2]}


def test_a_batch_is_throttled_before_submission_and_unthrottled_after(clock):
    admin = FakeAdmin(LAYOUT, polls=3)
    run = executor(admin, clock, throttle=1048576)
    batch = [entry("t", 0, [4, 2, 3]), entry("u", 1, [1, 3, 5])]
    summary = run.run_batch(batch, "batch 1/1")

    submitted = admin.submissions()
    assert len(submitted) == 1
    assert submitted[0][1] == {("t", 0): [4, 2, 3], ("u", 1): [1, 3, 5]}
    assert submitted[0][2] == {  # what the cluster had when the batch went in
        "topics": {"t": {LEADER_KEY: "0:1,0:2,0:3", FOLLOWER_KEY: "0:4"},
                   "u": {LEADER_KEY: "1:1,1:3,1:2", FOLLOWER_KEY: "1:5"}},
        "brokers": rates(1048576, 1, 2, 3, 4, 5)}
    assert admin.throttles() == NO_THROTTLES
    assert run.throttled_topics == set() and run.throttled_brokers == set()
    assert admin.assignment[("t", 0)] == [4, 2, 3] and admin.assignment[("u", 1)] == [1, 3, 5]
    assert summary == {"partitions": 2, "replica_moves": 2, "receiving_brokers": [4, 5], "seconds": 2.0}
    assert clock.sleeps == [1.0, 1.0]
    assert run.throttle_seen == {"topics": ["t", "u"], "brokers": [1, 2, 3, 4, 5], "rate": 1048576}
    kinds = [c[0] if c[0] != "alter_configs" else (c[0], c[1], all(v is None for e in c[2].values() for v in e.values()))
             for c in admin.calls]
    assert kinds == [("alter_configs", "broker", False), ("alter_configs", "topic", False), "alter_reassignments",
                     "reassignments", "reassignments", "reassignments",
                     ("alter_configs", "topic", True), ("alter_configs", "broker", True)]
    assert run.log == [
        "throttle 1048576 B/s on brokers 1,2,3,4,5 and on the moving replicas of 2 topic(s)",
        "batch 1/1: 0 of 2 partition(s) done (0s)",
        "batch 1/1: 2 of 2 partition(s) done (2s)",
        "throttles removed from 2 topic(s) and broker(s) 1,2,3,4,5",
    ]


def test_an_unthrottled_batch_sets_no_config(clock):
    admin = FakeAdmin(LAYOUT, polls=1)
    run = executor(admin, clock)
    run.run_batch([entry("t", 0, [4, 2, 3])], "batch 1/1")
    assert [c for c in admin.calls if c[0] == "alter_configs"] == []
    assert run.throttle_seen == {}


def test_a_partly_refused_batch_cancels_the_accepted_partitions(clock):
    admin = FakeAdmin(LAYOUT, polls=math.inf, refuse={("u", 1): "UnknownTopicOrPartitionError",
                                                      ("t", 1): "InvalidReplicaAssignmentException"})
    run = executor(admin, clock, throttle=1048576)
    batch = [entry("t", 0, [4, 2, 3]), entry("t", 1, [2, 3, 5]), entry("u", 0, [3, 1, 4]), entry("u", 1, [1, 3, 5])]
    with pytest.raises(rx.ReassignmentError) as caught:
        run.run_batch(batch, "batch 2/3")
    assert str(caught.value) == (
        "Kafka refused the reassignment of t-1 (InvalidReplicaAssignmentException); u-1 (UnknownTopicOrPartitionError); "
        "the other 2 partition(s) of batch 2/3 were cancelled and are back on their brokers, nothing else was submitted")
    submitted = admin.submissions()
    assert [c[1] for c in submitted] == [assignment_of(batch), {("t", 0): None, ("u", 0): None}]
    # the accepted part was cancelled while it moved, still throttled
    assert submitted[1][3] == [("t", 0), ("u", 0)]
    assert submitted[1][2] == submitted[0][2] != NO_THROTTLES
    assert admin.in_flight == {}
    assert admin.assignment == LAYOUT  # everything back where it was
    assert admin.throttles() == NO_THROTTLES
    assert run.throttled_topics == set() and run.throttled_brokers == set()
    assert clock.sleeps == []  # the cancellation was over at the first poll
    assert run.log[1:] == ["cancelling the rest of batch 2/3: 2 of 2 partition(s) done (0s)",
                           "throttles removed from 2 topic(s) and broker(s) 1,2,3,4,5"]


def assignment_of(batch):
    return {rx.key_of(e): e["replicas"] for e in batch}


def test_a_fully_refused_batch_submits_nothing_else(clock):
    admin = FakeAdmin(LAYOUT, refuse={("t", 0): "InvalidReplicaAssignmentException",
                                      ("u", 1): "InvalidReplicaAssignmentException"})
    run = executor(admin, clock, throttle=1048576)
    with pytest.raises(rx.ReassignmentError) as caught:
        run.run_batch([entry("u", 1, [1, 3, 5]), entry("t", 0, [4, 2, 3])], "batch 1/1")
    assert str(caught.value) == ("Kafka refused the reassignment of t-0 (InvalidReplicaAssignmentException); u-1 "
                                 "(InvalidReplicaAssignmentException); nothing of batch 1/1 was submitted")
    assert len(admin.submissions()) == 1  # nothing to cancel
    assert admin.submissions()[0][2]["brokers"] == rates(1048576, 1, 2, 3, 4, 5)
    assert admin.throttles() == NO_THROTTLES
    assert admin.assignment == LAYOUT
    assert ("reassignments",) not in admin.calls  # no waiting after a refusal
    assert clock.sleeps == []


def test_revert_accepted_on_its_own(clock):
    admin = FakeAdmin(LAYOUT, polls=math.inf)
    admin.start(("t", 0), [4, 2, 3])
    run = executor(admin, clock)
    targets = {("t", 0): [4, 2, 3], ("u", 1): [1, 3, 5]}
    with pytest.raises(rx.ReassignmentError) as caught:
        run.revert_accepted(targets, {("u", 1): "NotControllerError"}, "in-flight reassignment")
    assert str(caught.value) == ("Kafka refused the reassignment of u-1 (NotControllerError); the other 1 partition(s) "
                                 "of in-flight reassignment were cancelled and are back on their brokers, nothing "
                                 "else was submitted")
    assert [c[1] for c in admin.submissions()] == [{("t", 0): None}]
    assert admin.in_flight == {} and admin.assignment == LAYOUT
    with pytest.raises(rx.ReassignmentError) as caught:
        run.revert_accepted(targets, dict.fromkeys(targets, "NotControllerError"), "batch 3/4")
    assert str(caught.value) == ("Kafka refused the reassignment of t-0 (NotControllerError); u-1 (NotControllerError); "
                                 "nothing of batch 3/4 was submitted")
    assert len(admin.submissions()) == 1


def test_a_cancellation_of_the_accepted_part_that_does_not_finish(clock):
    admin = FakeAdmin(LAYOUT, polls=math.inf, refuse={("u", 1): "InvalidReplicaAssignmentException"})
    admin.cancel_never = True
    run = executor(admin, clock, throttle=1048576, timeout=5)
    with pytest.raises(rx.ReassignmentError) as caught:
        run.run_batch([entry("t", 0, [4, 2, 3]), entry("u", 1, [1, 3, 5])], "batch 1/1")
    assert str(caught.value) == ("cancelling the rest of batch 1/1 did not finish within 5s; still moving: t-0. (Kafka "
                                 "refused the reassignment of u-1 (InvalidReplicaAssignmentException).) Kafka goes on "
                                 "reverting them; run state=cancelled to wait for the rest")
    assert [c[1] for c in admin.submissions()][1] == {("t", 0): None}
    assert clock.sleeps == [1.0] * 5  # a timeout of its own, from the cancellation on
    assert admin.throttles() == NO_THROTTLES
    assert list(admin.in_flight) == [("t", 0)]


def test_a_partly_refused_batch_does_not_claim_a_completed_drop_was_reverted(clock):
    admin = FakeAdmin(LAYOUT, polls=math.inf, refuse={("t", 1): "InvalidReplicaAssignmentException"})
    run = executor(admin, clock, throttle=1048576)
    with pytest.raises(rx.ReassignmentError) as caught:
        run.run_batch([entry("t", 0, [4, 2, 3]), entry("t", 1, [2, 3, 5]), entry("u", 0, [3, 1])], "batch 1/1")
    assert admin.assignment[("u", 0)] == [3, 1]  # the drop is done: replica 2 of u-0 is gone
    assert admin.assignment[("t", 0)] == [1, 2, 3]  # the move was cancelled
    assert "u-0" in str(caught.value)


def test_timeout_raises_names_the_partitions_and_removes_the_throttles(clock):
    admin = FakeAdmin(LAYOUT, polls=math.inf)
    run = executor(admin, clock, throttle=1048576, timeout=10, poll_interval=3)
    with pytest.raises(rx.ReassignmentError) as caught:
        run.run_batch([entry("u", 0, [3, 1, 4]), entry("t", 0, [4, 2, 3]), entry("t", 1, [1, 3, 2])], "batch 2/3")
    # the time it waited: polls at 0, 3, 6 and 9 s, and at 12 s the deadline had passed
    assert str(caught.value) == (
        "batch 2/3 did not finish within 12s; still moving: t-0, u-0. Kafka goes on moving them: run again to resume, "
        "or use state=cancelled to revert them")
    assert admin.throttles() == NO_THROTTLES
    assert sorted(admin.in_flight) == [("t", 0), ("u", 0)]  # Kafka goes on
    assert clock.sleeps == [3, 3, 3, 3]  # polled until the deadline had passed, then stopped
    assert admin.assignment[("t", 1)] == [1, 3, 2]  # the reorder completed at once


def test_timeout_names_at_most_twenty_partitions(clock):
    layout = {("t", p): [1, 2] for p in range(25)}
    admin = FakeAdmin(layout, polls=math.inf)
    run = executor(admin, clock, timeout=1)
    with pytest.raises(rx.ReassignmentError) as caught:
        run.run_batch([entry("t", p, [1, 3]) for p in range(25)], "batch 1/1")
    named = str(caught.value).split("still moving: ")[1].split(". Kafka")[0].split(", ")
    assert named == ["t-%d" % p for p in sorted(range(25))][:20]


def test_an_interruption_while_waiting_removes_the_throttles(clock):
    class Stop(BaseException):
        pass

    def interrupted(seconds):
        raise Stop("SIGTERM")

    admin = FakeAdmin(LAYOUT, polls=5)
    run = rx.Executor(admin, throttle=1048576, clock=clock, sleep=interrupted)
    with pytest.raises(Stop):
        run.run_batch([entry("t", 0, [4, 2, 3])], "batch 1/1")
    assert admin.throttles() == NO_THROTTLES
    assert list(admin.in_flight) == [("t", 0)]


def test_wait_says_how_long_it_waited_and_the_hint_given(clock):
    admin = FakeAdmin(LAYOUT, polls=math.inf)
    admin.start(("u", 0), [3, 1, 4])
    run = executor(admin, clock, timeout=3600, poll_interval=4)
    clock.now += 50  # the deadline is the caller's, the time in the message is the wait's own
    with pytest.raises(rx.ReassignmentError) as caught:
        run.wait([("u", 0), ("t", 0)], "moving u", clock() + 10, hint="Do something.")
    assert str(caught.value) == "moving u did not finish within 12s; still moving: u-0. Do something."
    with pytest.raises(rx.ReassignmentError) as caught:
        run.wait([("u", 0)], "moving u", clock())
    assert str(caught.value) == ("moving u did not finish within 0s; still moving: u-0. Kafka goes on moving them: "
                                 "run again to resume, or use state=cancelled to revert them")


def test_wait_asks_again_while_the_cluster_does_not_answer(clock):
    admin = FakeAdmin(LAYOUT, polls=3)
    admin.start(("u", 0), [3, 1, 4])
    answer = admin.reassignments
    down = {"left": 4}

    def reassignments():
        if down["left"] > 0:
            down["left"] -= 1
            raise RuntimeError("list partition reassignments: NotControllerError")
        return answer()

    admin.reassignments = reassignments
    said = []
    run = rx.Executor(admin, clock=clock, sleep=clock.sleep, progress=said.append, poll_interval=5)
    run.wait([("u", 0)], "moving u", clock() + 600)
    assert admin.in_flight == {}
    assert said[0] == "moving u: the cluster does not answer (list partition reassignments: NotControllerError), asking again"
    assert said[-1].startswith("moving u: 1 of 1 partition(s) done")


def test_wait_gives_up_when_the_cluster_stays_silent(clock):
    admin = FakeAdmin(LAYOUT, polls=math.inf)
    admin.start(("u", 0), [3, 1, 4])

    def reassignments():
        raise RuntimeError("list partition reassignments: timed out")

    admin.reassignments = reassignments
    run = rx.Executor(admin, clock=clock, sleep=clock.sleep, poll_interval=5)
    with pytest.raises(rx.ReassignmentError) as caught:
        run.wait([("u", 0)], "moving u", clock() + 3600)
    assert str(caught.value).startswith("moving u: the cluster did not answer for %ds (list partition reassignments: "
                                        "timed out). Kafka goes on moving them" % rx.UNANSWERED_GRACE)


class AdminDown(Exception):
    pass


def failing_removal(admin, resource_type, message="broker 3 does not answer"):
    """Make removing throttles of ``resource_type`` fail (setting them still works)."""
    alter = admin.alter_configs

    def alter_configs(kind, changes):
        if kind == resource_type and all(v is None for e in changes.values() for v in e.values()):
            raise AdminDown(message)
        return alter(kind, changes)

    admin.alter_configs = alter_configs


def test_throttled_keeps_the_error_of_the_block_when_removing_the_throttles_fails_too(clock):
    admin = FakeAdmin(LAYOUT, polls=math.inf)
    failing_removal(admin, "broker")
    run = executor(admin, clock, throttle=1048576, timeout=2)
    with pytest.raises(rx.ReassignmentError) as caught:
        run.run_batch([entry("t", 0, [4, 2, 3])], "batch 1/1")
    assert str(caught.value) == (
        "batch 1/1 did not finish within 2s; still moving: t-0. Kafka goes on moving them: run again to resume, or use "
        "state=cancelled to revert them; and removing the throttles failed too (broker 3 does not answer): run again "
        "to remove them")
    assert isinstance(caught.value.__cause__, rx.ReassignmentError)
    assert str(caught.value.__cause__).startswith("batch 1/1 did not finish within 2s")
    # the topics were unthrottled, the brokers were not; what is left is found as stale
    assert admin.throttles() == {"topics": {}, "brokers": rates(1048576, 1, 2, 3, 4)}
    assert run.stale_throttles() == {"topics": {}, "brokers": rates(1048576, 1, 2, 3, 4)}


def test_throttled_keeps_an_interruption_when_removing_the_throttles_fails_too(clock):
    class Stop(BaseException):
        pass

    admin = FakeAdmin(LAYOUT)
    failing_removal(admin, "topic", "timed out")
    run = executor(admin, clock, throttle=1048576)
    with pytest.raises(rx.ReassignmentError) as caught, run.throttled(run.current(), [entry("t", 0, [4, 2, 3])]):
        assert admin.throttles() != NO_THROTTLES
        raise Stop("stopped by signal 15")
    assert str(caught.value) == ("stopped by signal 15; and removing the throttles failed too (timed out): run again "
                                 "to remove them")
    assert isinstance(caught.value.__cause__, Stop)


def test_throttled_passes_the_error_of_the_block_on_when_the_throttles_are_removed(clock):
    admin = FakeAdmin(LAYOUT)
    run = executor(admin, clock, throttle=1048576)
    with pytest.raises(KeyError), run.throttled(run.current(), [entry("t", 0, [4, 2, 3])]):
        raise KeyError("t-0")
    assert admin.throttles() == NO_THROTTLES


def test_throttled_raises_the_removal_error_after_a_block_that_succeeded(clock):
    admin = FakeAdmin(LAYOUT)
    failing_removal(admin, "topic")
    run = executor(admin, clock, throttle=1048576)
    entered = []
    with pytest.raises(AdminDown) as caught, run.throttled(run.current(), [entry("t", 0, [4, 2, 3])]):
        entered.append(admin.throttles())
    assert str(caught.value) == "broker 3 does not answer"  # as it is: there is no other error to keep
    assert entered == [{"topics": {"t": {LEADER_KEY: "0:1,0:2,0:3", FOLLOWER_KEY: "0:4"}},
                        "brokers": rates(1048576, 1, 2, 3, 4)}]


def test_throttled_removes_what_it_set_when_setting_the_throttles_fails(clock):
    admin = FakeAdmin(LAYOUT)
    alter = admin.alter_configs

    def alter_configs(kind, changes):
        if kind == "topic" and any(v is not None for e in changes.values() for v in e.values()):
            raise AdminDown("topic t: policy violation")
        return alter(kind, changes)

    admin.alter_configs = alter_configs
    run = executor(admin, clock, throttle=1048576)
    with pytest.raises(AdminDown):
        run.run_batch([entry("t", 0, [4, 2, 3])], "batch 1/1")
    assert admin.throttles() == NO_THROTTLES  # the broker rates set before the failure are gone again
    assert admin.submissions() == []


def test_verify_raises_on_a_wrong_final_replica_list(clock):
    admin = FakeAdmin(LAYOUT, polls=1, land={("t", 0): [2, 4, 3]})
    run = executor(admin, clock, throttle=1048576, poll_interval=5)
    with pytest.raises(rx.ReassignmentError) as caught:
        run.run_batch([entry("t", 0, [4, 2, 3]), entry("u", 0, [3, 1, 4])], "batch 1/1")
    assert str(caught.value) == ("after the reassignment 1 partition(s) do not have their target replicas: "
                                 "t-0 is [2, 4, 3], expected [4, 2, 3]")
    assert clock.sleeps == [5] * 12  # verification waits a minute for the metadata to settle
    assert admin.throttles() == NO_THROTTLES


def test_verify_accepts_the_targets():
    admin = FakeAdmin(LAYOUT)
    run = rx.Executor(admin, clock=Clock(), sleep=lambda seconds: pytest.fail("verify slept"))
    run.verify({("t", 0): [1, 2, 3], ("u", 1): [1, 3, 2]})


def test_stale_throttles_and_clearing_them(clock):
    admin = FakeAdmin(LAYOUT)
    admin.store["topic"] = {"t": {LEADER_KEY: "0:1", "retention.ms": "5"}, "u": {"retention.ms": "5"}}
    admin.store["broker"] = {"2": dict.fromkeys(RATES, "1024"), "9": dict.fromkeys(RATES, "1024")}
    run = executor(admin, clock)
    stale = run.stale_throttles()
    assert stale == {"topics": {"t": {LEADER_KEY: "0:1"}}, "brokers": {"2": dict.fromkeys(RATES, "1024")}}
    assert run.clear_throttles(topics=stale["topics"], brokers=stale["brokers"]) == {"topics": ["t"], "brokers": [2]}
    # only live brokers are looked at (9 is not in the cluster); other configs stay
    assert admin.throttles() == {"topics": {}, "brokers": {"9": dict.fromkeys(RATES, "1024")}}
    assert admin.store["topic"]["t"] == {"retention.ms": "5"}
    assert run.log == ["throttles removed from 1 topic(s) and broker(s) 2"]
    calls = len(admin.calls)
    assert run.clear_throttles() == {"topics": [], "brokers": []}  # nothing set by this executor: no request
    assert len(admin.calls) == calls


def test_stale_throttles_ignore_fenced_brokers(clock):
    admin = FakeAdmin(LAYOUT, brokers=(1, 2, 3, 4, 5), fenced={2, 4})
    admin.store["broker"] = {str(b): dict.fromkeys(RATES, "2048") for b in (1, 2, 4)}
    run = executor(admin, clock)
    # a fenced broker cannot be asked for its configs (the fake fails as Kafka would)
    assert run.stale_throttles() == {"topics": {}, "brokers": {"1": dict.fromkeys(RATES, "2048")}}
    assert ("broker", [1, 3, 5]) in admin.described
    assert not [names for kind, names in admin.described if kind == "broker" and {2, 4} & set(names)]


def test_resume_waits_for_the_reassignment_in_flight_throttled(clock):
    admin = FakeAdmin(LAYOUT, polls=3)
    admin.start(("t", 0), [4, 2, 3])  # an interrupted run: [1, 2, 3] -> [4, 2, 3]
    admin.start(("u", 1), [1, 3, 2, 5])  # and a replication factor raised
    run = executor(admin, clock, throttle=2048)
    assert run.resume() == ["t-0", "u-1"]
    brokers, topics = [c for c in admin.calls if c[0] == "alter_configs"][:2]
    assert brokers == ("alter_configs", "broker", rates(2048, 1, 2, 3, 4, 5))
    # leaders: the replicas the partition had (in any order), followers: those it gains
    assert topics[1] == "topic"
    assert {name: {key: sorted(value.split(",")) for key, value in entries.items()} for name, entries in topics[2].items()} == {
        "t": {LEADER_KEY: ["0:1", "0:2", "0:3"], FOLLOWER_KEY: ["0:4"]},
        "u": {LEADER_KEY: ["1:1", "1:2", "1:3"], FOLLOWER_KEY: ["1:5"]}}
    assert admin.in_flight == {}
    assert admin.assignment[("t", 0)] == [4, 2, 3] and admin.assignment[("u", 1)] == [1, 3, 2, 5]
    assert admin.throttles() == NO_THROTTLES
    assert run.log[0] == "resuming: 2 partition(s) already being reassigned"
    assert admin.submissions() == []  # resuming submits nothing


def test_resume_with_nothing_in_flight_does_nothing(clock):
    admin = FakeAdmin(LAYOUT)
    run = executor(admin, clock, throttle=2048)
    assert run.resume() == []
    assert admin.calls == [("reassignments",)]
    assert run.log == []


def test_resume_times_out_like_a_batch(clock):
    admin = FakeAdmin(LAYOUT, polls=math.inf)
    admin.start(("t", 0), [4, 2, 3])
    run = executor(admin, clock, throttle=2048, timeout=5)
    with pytest.raises(rx.ReassignmentError) as caught:
        run.resume()
    assert str(caught.value).startswith("in-flight reassignment did not finish within 5s; still moving: t-0. ")
    assert admin.throttles() == NO_THROTTLES


# -- execute_reassignment -----------------------------------------------------------------------------
def test_execute_reassignment_runs_the_batches_and_elects_leaders(fast):
    admin = FakeAdmin(LAYOUT, polls=2)
    admin.leaders[("u", 0)] = 1  # will still lead after the move below
    proposed = [entry("t", 0, [4, 2, 3]), entry("t", 1, [4, 3, 1]), entry("u", 0, [3, 1, 5]), entry("u", 1, [3, 1, 2])]
    lines = []
    result = rx.execute_reassignment(admin, proposed, throttle=1048576, progress=lines.append, max_moves_per_broker=1,
                                     poll_interval=1)
    # t-0 and t-1 both send to broker 4 (cap 1): two batches; u-0 fits beside t-0; u-1 only reorders
    assert result["batches"] == [
        {"partitions": 2, "replica_moves": 2, "receiving_brokers": [4, 5], "seconds": 1.0},
        {"partitions": 2, "replica_moves": 1, "receiving_brokers": [4], "seconds": 1.0},
    ]
    assert [c[1] for c in admin.submissions()] == [{("t", 0): [4, 2, 3], ("u", 0): [3, 1, 5]},
                                                   {("t", 1): [4, 3, 1], ("u", 1): [3, 1, 2]}]
    # throttles removed after the first batch: the second went in with its own only
    assert admin.submissions()[1][2] == {"topics": {"t": {LEADER_KEY: "1:2,1:3,1:1", FOLLOWER_KEY: "1:4"}},
                                         "brokers": rates(1048576, 1, 2, 3, 4)}
    assert admin.throttles() == NO_THROTTLES
    assert {k: admin.assignment[k] for k in LAYOUT} == rx.assignment_map(proposed)
    assert admin.calls[-1] == ("elect_preferred_leaders", [("t", 0), ("t", 1), ("u", 0), ("u", 1)])
    assert result["elected"] == ["u-0"] and result["election_errors"] == {}
    assert result["resumed"] == []
    assert result["throttle"] == {"topics": ["t"], "brokers": [1, 2, 3, 4], "rate": 1048576}
    assert result["seconds"] == 2.0
    assert result["log"] == lines
    assert lines[0] == "batch 1/2: 2 partition(s), 2 replica move(s) onto broker(s) 4,5"
    assert "batch 2/2: 2 partition(s), 1 replica move(s) onto broker(s) 4" in lines
    assert lines[-1] == "preferred leader election: 1 leader(s) moved"


def test_execute_reassignment_resumes_before_submitting(fast):
    admin = FakeAdmin(LAYOUT, polls=4)
    admin.start(("t", 0), [4, 2, 3])
    result = rx.execute_reassignment(admin, [entry("u", 0, [3, 1, 5])], throttle=4096, elect_leaders=False)
    assert result["resumed"] == ["t-0"]
    submitted = admin.submissions()
    assert len(submitted) == 1 and submitted[0][3] == []  # nothing in flight any more when the batch went in
    assert submitted[0][2] == {"topics": {"u": {LEADER_KEY: "0:3,0:1,0:2", FOLLOWER_KEY: "0:5"}},
                               "brokers": rates(4096, 1, 2, 3, 5)}
    assert admin.assignment[("t", 0)] == [4, 2, 3] and admin.assignment[("u", 0)] == [3, 1, 5]
    assert result["elected"] == [] and not [c for c in admin.calls if c[0] == "elect_preferred_leaders"]
    assert result["log"][0] == "resuming: 1 partition(s) already being reassigned"


def test_execute_reassignment_of_nothing(fast):
    admin = FakeAdmin(LAYOUT)
    result = rx.execute_reassignment(admin, [], throttle=4096)
    assert result == {"resumed": [], "batches": [], "elected": [], "election_errors": {}, "throttle": {},
                      "seconds": 0.0, "log": []}
    assert admin.calls == [("reassignments",)]


def test_execute_reassignment_reports_election_errors(fast):
    admin = FakeAdmin(LAYOUT, polls=1)
    admin.elect_answer = {"elected": [], "errors": {"t-0": "PreferredLeaderNotAvailableException"}}
    result = rx.execute_reassignment(admin, [entry("t", 0, [4, 2, 3])])
    assert result["elected"] == []
    assert result["election_errors"] == {"t-0": "PreferredLeaderNotAvailableException"}


def test_a_failed_batch_stops_the_run_with_the_throttles_removed(fast):
    admin = FakeAdmin(LAYOUT, polls=math.inf)
    proposed = [entry("t", 0, [4, 2, 3]), entry("t", 1, [4, 3, 1])]
    with pytest.raises(rx.ReassignmentError) as caught:
        rx.execute_reassignment(admin, proposed, throttle=4096, timeout=30, max_moves_per_broker=1)
    assert str(caught.value).startswith("batch 1/2 did not finish within 30s; still moving: t-0. ")
    assert len(admin.submissions()) == 1  # the second batch never went in
    assert admin.throttles() == NO_THROTTLES
    assert not [c for c in admin.calls if c[0] == "elect_preferred_leaders"]


def test_a_broker_that_does_not_answer_for_a_while_is_asked_again(clock):
    """Broker 3 restarting: its throttle rate cannot be set for two polls, nor removed for one, and
    reading the partitions fails once; the batch still completes, saying it asked again."""
    admin = FakeAdmin(LAYOUT, polls=1)
    alter, partitions = admin.alter_configs, admin.partitions
    down = {"set": 2, "remove": 1, "read": 1}

    def alter_configs(kind, changes):
        removing = all(v is None for e in changes.values() for v in e.values())
        if kind == "broker" and down["remove" if removing else "set"] > 0:
            down["remove" if removing else "set"] -= 1
            raise AdminDown("broker 3: connection refused")
        return alter(kind, changes)

    def read():
        if down["read"] > 0:
            down["read"] -= 1
            raise AdminDown("metadata: timed out")
        return partitions()

    admin.alter_configs, admin.partitions = alter_configs, read
    run = executor(admin, clock, throttle=1048576, poll_interval=5)
    summary = run.run_batch([entry("t", 0, [4, 2, 3])], "batch 1/1")
    assert summary["partitions"] == 1
    assert admin.assignment[("t", 0)] == [4, 2, 3]
    assert admin.throttles() == NO_THROTTLES
    assert down == {"set": 0, "remove": 0, "read": 0}
    said = [line for line in run.log if "asking again" in line]
    assert said == ["reading the partitions: the cluster does not answer (metadata: timed out), asking again",
                    "setting the throttle rates: the cluster does not answer (broker 3: connection refused), asking again",
                    "removing the throttle rates: the cluster does not answer (broker 3: connection refused), asking again"]


def test_a_broker_that_never_answers_raises_its_error_after_the_grace(clock):
    admin = FakeAdmin(LAYOUT)
    alter = admin.alter_configs

    def alter_configs(kind, changes):
        if kind == "broker":
            raise AdminDown("broker 3: connection refused")
        return alter(kind, changes)

    admin.alter_configs = alter_configs
    run = executor(admin, clock, throttle=1048576, poll_interval=5)
    started = clock()
    with pytest.raises(AdminDown, match="broker 3: connection refused"):
        run.set_throttles(run.current(), [entry("t", 0, [4, 2, 3])])
    assert clock() - started >= rx.UNANSWERED_GRACE
    assert admin.submissions() == []
