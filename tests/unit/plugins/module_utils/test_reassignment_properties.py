# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Property-based tests of the reassignment planner (hypothesis).

Clusters are drawn with and without racks, with brokers drained and added, replicas
anywhere (rack violations included) and replication factors changed; every plan must keep
the guarantees ``check_plan`` re-derives independently.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reassignment_helpers import (
    apply_plan,
    best_leader_spread,
    brute_force,
    check_plan,
    rack_ok,
    replan,
    sum_squares,
)

from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment import (
    plan_reassignment,
)

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def clusters(draw, max_pool=7, max_partitions=25, max_new=2, rf_change=True):
    """(current, target brokers, replication_factors option or None)."""
    n_racks = draw(st.sampled_from([0, 2, 3]))
    pool = list(range(draw(st.integers(2, max_pool))))
    kept = [b for b in pool if draw(st.booleans()) or b == 0]
    new = list(range(len(pool), len(pool) + draw(st.integers(0, max_new))))
    target_ids = kept + new
    names = ["r%d" % j for j in range(n_racks)]
    brokers = []
    for i, b in enumerate(target_ids):
        rack = None
        if n_racks:
            rack = names[i] if i < n_racks else draw(st.sampled_from(names))
        brokers.append({"id": b, "rack": rack})
    limit = min(4, len(pool), len(target_ids))
    parts = []
    for p in range(draw(st.integers(1, max_partitions))):
        rf = draw(st.integers(1, limit))
        order = draw(st.permutations(pool))
        parts.append({"topic": "t%d" % (p % 3), "partition": p // 3, "replicas": list(order[:rf])})
    rf_option = None
    if rf_change and draw(st.booleans()):
        topic = "t%d" % draw(st.integers(0, min(2, len(parts) - 1)))
        rf_option = {topic: draw(st.integers(1, min(4, len(target_ids))))}
    return {"version": 1, "partitions": parts}, brokers, rf_option


def options(rf_option):
    return {"replication_factors": rf_option} if rf_option else {}


@settings(max_examples=250, **SETTINGS)
@given(clusters())
def test_every_plan_is_valid_balanced_and_a_fixed_point(case):
    current, brokers, rf_option = case
    result = plan_reassignment(current, brokers, **options(rf_option))
    _final, moves = check_plan(current, brokers, result, rf=rf_option)
    stats = result["stats"]
    max_rf = max(len(p["replicas"]) for p in current["partitions"])
    if not stats["rack_aware"] and not rf_option and 2 * max_rf <= len(brokers):
        # no racks, no RF change and room to choose: the lower bound is reached. (With RF
        # close to the broker count a partition may have to go to one broker that is full;
        # the exhaustive test below shows the plan is still optimal then.)
        assert moves == stats["lower_bound"]
    again = replan(current, brokers, result)
    assert again["proposed"]["partitions"] == []
    assert again["stats"]["replica_moves"] == 0
    assert again["stats"]["lower_bound"] == 0


@settings(max_examples=100, **SETTINGS)
@given(clusters(), st.randoms(use_true_random=False))
def test_output_is_independent_of_input_order(case, rnd):
    current, brokers, rf_option = case
    reference = plan_reassignment(current, brokers, **options(rf_option))
    parts = [dict(reversed(list(p.items()))) for p in current["partitions"]]
    rnd.shuffle(parts)
    shuffled = list(brokers)
    rnd.shuffle(shuffled)
    rf_copy = dict(reversed(list(rf_option.items()))) if rf_option else None
    other = plan_reassignment({"partitions": parts, "version": 1}, shuffled, **options(rf_copy))
    assert other == reference


@settings(max_examples=120, **SETTINGS)
@given(clusters(max_pool=4, max_partitions=5, max_new=1))
def test_tiny_clusters_against_exhaustive_search(case):
    current, brokers, rf_option = case
    result = plan_reassignment(current, brokers, **options(rf_option))
    final, moves = check_plan(current, brokers, result, rf=rf_option)
    squares, best_moves = brute_force(current, brokers, rf=rf_option)
    stats = result["stats"]
    # balance is exactly optimal, and the lower bound is a true lower bound
    assert sum_squares(c for b, c in stats["replicas"].items()) == squares
    assert stats["lower_bound"] <= best_moves <= moves
    if not stats["rack_aware"] and not rf_option:
        assert moves == best_moves
    # leaders are as even as any reordering of the final lists can make them
    best_leaders = best_leader_spread(final, brokers)
    assert sum_squares(stats["leaders"].values()) == best_leaders[0]


@settings(max_examples=120, **SETTINGS)
@given(clusters(rf_change=False), st.integers(0, 30))
def test_partial_plans_respect_the_cap_and_stay_valid(case, cap):
    current, brokers, _options = case
    full = plan_reassignment(current, brokers)
    result = plan_reassignment(current, brokers, max_moves=cap)
    stats = result["stats"]
    before = {(p["topic"], p["partition"]): p["replicas"] for p in current["partitions"]}
    final = apply_plan(current, result)
    racks = {b["id"]: b["rack"] for b in brokers}
    n_racks = len({r for r in racks.values() if r})
    moves = 0
    for key, reps in final.items():
        assert len(reps) == len(before[key]) and len(set(reps)) == len(reps)
        if set(reps) != set(before[key]):
            # a partition the partial plan touches ends in a fully valid state
            assert all(b in racks for b in reps)
            assert rack_ok(reps, racks, n_racks)
        moves += len(set(reps) - set(before[key]))
    assert moves == stats["replica_moves"] <= cap
    assert stats["complete"] == (full["stats"]["replica_moves"] <= cap)
    if stats["complete"]:
        assert result == full
    else:
        assert stats["remaining_moves"] == full["stats"]["replica_moves"] - moves


@settings(max_examples=60, **SETTINGS)
@given(st.integers(0, 10_000))
def test_partition_sizes_leave_counts_unchanged(seed):
    rnd = random.Random(seed)
    n = rnd.randint(3, 7)
    racks = rnd.choice([0, 3])
    brokers = [{"id": i, "rack": ("r%d" % (i % racks)) if racks else None} for i in range(n)]
    parts = [
        {"topic": "t", "partition": p, "replicas": rnd.sample(range(n), rnd.randint(1, 3))}
        for p in range(rnd.randint(5, 40))
    ]
    current = {"version": 1, "partitions": parts}
    target = brokers + [{"id": n, "rack": "r0" if racks else None}]
    sizes = {"t-%d" % p: rnd.randint(0, 10**9) for p in range(len(parts))}
    plain = plan_reassignment(current, target)
    sized = plan_reassignment(current, target, partition_sizes=sizes)
    check_plan(current, target, sized)
    for key in ("lower_bound", "rack_violations", "replica_spread", "rack_loads"):
        assert sized["stats"][key] == plain["stats"][key]

    def per_rack(stats):
        rack = {b["id"]: b["rack"] for b in target}
        return sorted((rack[b], c) for b, c in stats["replicas"].items())

    assert per_rack(sized["stats"]) == per_rack(plain["stats"])
    assert sized["stats"]["replica_moves"] <= plain["stats"]["replica_moves"]
    if all(len(p["replicas"]) > 1 for p in parts):
        # (with RF 1 partitions the leader of a moved partition is wherever its data goes,
        # so which partitions move can change what reordering reaches)
        assert sized["stats"]["leader_spread"] == plain["stats"]["leader_spread"]
