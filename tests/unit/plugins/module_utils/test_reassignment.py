# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of module_utils.reassignment: scenarios, options and errors of the planner."""

from __future__ import annotations

import json
import random

import pytest
from test_reassignment_helpers import (
    apply_plan,
    as_current,
    brute_force,
    check_plan,
    random_cluster,
    replan,
    striped_cluster,
)

from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment import (
    InvalidAssignmentError,
    InvalidBrokersError,
    InvalidOptionError,
    PlanningError,
    ReplicationFactorError,
    UnknownTopicError,
    plan_reassignment,
    rack_violations,
)


def brokers_of(ids, racks=None):
    return [{"id": b, "rack": (racks[i % len(racks)] if racks else None)} for i, b in enumerate(ids)]


# -- scenarios -----------------------------------------------------------------------------


@pytest.mark.parametrize("racks", [0, 3])
def test_scale_out_moves_exactly_the_lower_bound(racks):
    current, brokers = striped_cluster(6, racks, 90, 3)
    names = ["r%d" % j for j in range(racks)]
    target = brokers + [
        {"id": 6 + i, "rack": names[i % racks] if racks else None} for i in range(3)
    ]
    result = plan_reassignment(current, target)
    _final, moves = check_plan(current, target, result)
    stats = result["stats"]
    # 270 replicas over 9 brokers: each broker 30; every old broker gives up 15
    assert stats["replica_targets"] == {b: 30 for b in range(9)}
    assert moves == stats["lower_bound"] == 6 * 15
    assert stats["added_brokers"] == [6, 7, 8]
    assert stats["leader_spread"] <= 1
    assert stats["complete"] is True


def test_drain_broker_moves_only_its_replicas_when_nothing_else_is_over():
    current, brokers = striped_cluster(7, 0, 70, 2)
    target = [b for b in brokers if b["id"] != 3]
    result = plan_reassignment(current, target)
    final, moves = check_plan(current, target, result)
    assert all(3 not in reps for reps in final.values())
    assert result["stats"]["removed_brokers"] == [3]
    held_by_3 = sum(1 for p in current["partitions"] if 3 in p["replicas"])
    # 140 replicas on 6 brokers: 23 or 24 each; the broker-side bound counts surpluses too
    assert moves == result["stats"]["lower_bound"] >= held_by_3


def test_remove_whole_rack_keeps_two_racks_per_partition():
    current, brokers = striped_cluster(9, 3, 60, 3)
    target = [b for b in brokers if b["rack"] != "r2"]
    result = plan_reassignment(current, target)
    final, moves = check_plan(current, target, result)
    assert all(len({b % 3 for b in reps}) == 2 for reps in final.values())
    # each partition lost exactly one replica and nothing else had to move
    assert moves == 60 == result["stats"]["lower_bound"]


def test_unequal_racks_with_rf_equal_to_racks_balance_rack_by_rack():
    # racks of 1, 2 and 3 brokers; RF 3 = racks, so each rack holds one replica per partition
    brokers = [
        {"id": 0, "rack": "a"},
        {"id": 1, "rack": "b"}, {"id": 2, "rack": "b"},
        {"id": 3, "rack": "c"}, {"id": 4, "rack": "c"}, {"id": 5, "rack": "c"},
    ]
    rnd = random.Random(5)
    parts = [
        {"topic": "t", "partition": p, "replicas": [0, rnd.choice([1, 2]), rnd.choice([3, 4, 5])]}
        for p in range(12)
    ]
    current = {"version": 1, "partitions": parts}
    result = plan_reassignment(current, brokers)
    check_plan(current, brokers, result)
    stats = result["stats"]
    assert stats["balance_regime"] == "per_rack"
    assert stats["replica_targets"] == {0: 12, 1: 6, 2: 6, 3: 4, 4: 4, 5: 4}
    assert stats["moves_over_lower_bound"] == 1.0
    # leaders are balanced over all brokers, by reordering only
    assert stats["leader_spread"] <= 1


def test_rack_violations_are_fixed_with_the_fewest_moves():
    brokers = brokers_of(range(6), ["a", "b", "c"])  # racks a: 0,3  b: 1,4  c: 2,5
    current = {
        "version": 1,
        "partitions": [
            {"topic": "t", "partition": 0, "replicas": [0, 3, 1]},  # two in rack a
            {"topic": "t", "partition": 1, "replicas": [1, 4, 2]},  # two in rack b
            {"topic": "t", "partition": 2, "replicas": [2, 0, 4]},
            {"topic": "t", "partition": 3, "replicas": [5, 3, 1]},
        ],
    }
    result = plan_reassignment(current, brokers)
    final, moves = check_plan(current, brokers, result)
    assert result["stats"]["rack_violations"] == {"before": 2, "after": 0}
    assert result["stats"]["current"]["rack_violations"] == 2
    assert moves == 2 == result["stats"]["lower_bound"]
    assert final[("t", 2)] == [2, 0, 4]  # valid partitions untouched


def test_replication_factor_increase_and_decrease():
    current, brokers = striped_cluster(6, 3, 30, 2, topics=2)
    up = plan_reassignment(current, brokers, replication_factors={"t0": 3})
    final, moves = check_plan(current, brokers, up, rf={"t0": 3})
    assert moves >= 15 and moves == up["stats"]["lower_bound"]
    assert all(len(final[k]) == 3 for k in final if k[0] == "t0")

    current3, brokers3 = striped_cluster(6, 3, 30, 3, topics=2)
    down = plan_reassignment(current3, brokers3, replication_factors={"t1": 2})
    final, moves = check_plan(current3, brokers3, down, rf={"t1": 2})
    assert all(len(final[k]) == 2 for k in final if k[0] == "t1")
    assert moves == down["stats"]["lower_bound"]


def test_leaders_are_balanced_by_reordering_without_moves():
    brokers = brokers_of(range(3))
    current = {
        "version": 1,
        "partitions": [{"topic": "t", "partition": p, "replicas": [0, 1, 2]} for p in range(6)],
    }
    result = plan_reassignment(current, brokers)
    final, moves = check_plan(current, brokers, result)
    assert moves == 0
    assert result["stats"]["leaders"] == {0: 2, 1: 2, 2: 2}
    assert result["stats"]["leadership_changes"] == 4
    assert all(sorted(r) == [0, 1, 2] for r in final.values())


def test_leaders_leave_drained_broker_first():
    brokers = brokers_of(range(4))
    current = {
        "version": 1,
        "partitions": [
            {"topic": "t", "partition": p, "replicas": [4, p % 4, (p + 1) % 4]} for p in range(8)
        ],
    }
    result = plan_reassignment(current, brokers)
    final, _moves = check_plan(current, brokers, result)
    assert all(4 not in r for r in final.values())
    assert result["stats"]["leader_spread"] <= 1


# -- guarantees ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_matches_exhaustive_optimum_on_tiny_rack_unaware_clusters(seed):
    current, brokers = random_cluster(seed, 5, 0, 5, [1, 2, 3])
    target = brokers[1:] + [{"id": 9, "rack": None}] if seed % 2 else brokers
    result = plan_reassignment(current, target)
    _final, moves = check_plan(current, target, result)
    squares, best_moves = brute_force(current, target)
    assert sum(c * c for c in result["stats"]["replicas"].values()) == squares
    assert moves == best_moves == result["stats"]["lower_bound"]


@pytest.mark.parametrize("seed", range(6))
def test_rack_aware_tiny_clusters_are_optimal_in_balance_and_bounded_in_moves(seed):
    current, brokers = random_cluster(seed, 6, 3, 5, [1, 2, 3])
    result = plan_reassignment(current, brokers)
    _final, moves = check_plan(current, brokers, result)
    squares, best_moves = brute_force(current, brokers)
    assert sum(c * c for c in result["stats"]["replicas"].values()) == squares
    assert result["stats"]["lower_bound"] <= best_moves <= moves


def test_replanning_own_output_is_a_no_op():
    current, brokers = random_cluster(3, 8, 3, 60, [1, 2, 3, 4])
    target = brokers[:-1] + [{"id": 20, "rack": "r0"}]
    first = plan_reassignment(current, target)
    check_plan(current, target, first)
    again = replan(current, target, first)
    assert again["proposed"]["partitions"] == []
    assert again["stats"]["replica_moves"] == 0
    assert again["stats"]["leadership_changes"] == 0


def test_output_does_not_depend_on_input_order():
    current, brokers = random_cluster(11, 9, 3, 80, [2, 3])
    target = brokers + [{"id": 30, "rack": "r1"}]
    reference = plan_reassignment(current, target)
    rnd = random.Random(0)
    for _round in range(3):
        parts = [dict(reversed(list(p.items()))) for p in current["partitions"]]
        rnd.shuffle(parts)
        shuffled_brokers = [dict(reversed(list(b.items()))) for b in target]
        rnd.shuffle(shuffled_brokers)
        other = plan_reassignment({"partitions": parts, "version": 1}, shuffled_brokers)
        assert other == reference


def test_json_text_and_log_dirs_are_accepted():
    current, brokers = striped_cluster(3, 0, 6, 2)
    for entry in current["partitions"]:
        entry["log_dirs"] = ["any"] * len(entry["replicas"])
    as_dict = plan_reassignment(current, brokers + [{"id": 3, "rack": None}])
    as_text = plan_reassignment(json.dumps(current), brokers + [{"id": 3, "rack": None}])
    assert as_dict == as_text
    assert all("log_dirs" not in e for e in as_dict["proposed"]["partitions"])


def test_stats_report_the_state_before():
    current, brokers = striped_cluster(4, 0, 8, 2)
    result = plan_reassignment(current, brokers_of(range(5)))
    before = result["stats"]["current"]
    assert before["replicas"] == {0: 4, 1: 4, 2: 4, 3: 4, 4: 0}
    assert before["replica_spread"] == 4
    assert result["stats"]["replica_spread"] <= 1


def test_rack_violations_helper_counts_unknown_brokers_as_their_own_rack():
    racks = {1: "a", 2: "a", 3: "b"}
    assert rack_violations([[1, 2], [1, 3], [1, 99]], racks) == 1
    assert rack_violations([[1, 2]], {1: None, 2: None}) == 0


# -- options -------------------------------------------------------------------------------


def test_include_and_exclude_topics_exact_and_regex():
    parts = [
        {"topic": name, "partition": p, "replicas": [0, 1]}
        for name in ("orders", "orders.v2", "ordersXv2", "logs")
        for p in range(4)
    ]
    current = {"version": 1, "partitions": parts}
    brokers = brokers_of(range(4))
    # "orders.v2" names a topic exactly, so it does not also select "ordersXv2"
    only = plan_reassignment(current, brokers, include_topics=["orders.v2"])
    check_plan(current, brokers, only, topics={"orders.v2"})
    assert {e["topic"] for e in only["proposed"]["partitions"]} == {"orders.v2"}
    assert only["stats"]["planned_partitions"] == 4
    assert only["stats"]["excluded_partitions"] == 12

    regex = plan_reassignment(current, brokers, include_topics=["orders.*"], exclude_topics=["ordersX.*"])
    check_plan(current, brokers, regex, topics={"orders", "orders.v2"})
    assert {e["topic"] for e in regex["proposed"]["partitions"]} == {"orders", "orders.v2"}


def test_unselected_topics_on_drained_brokers_are_reported():
    current = {
        "version": 1,
        "partitions": [
            {"topic": "a", "partition": 0, "replicas": [0, 5]},
            {"topic": "b", "partition": 0, "replicas": [1, 5]},
        ],
    }
    result = plan_reassignment(current, brokers_of(range(3)), exclude_topics=["b"])
    assert result["stats"]["unplanned_replicas_on_removed_brokers"] == 1
    assert [e["topic"] for e in result["proposed"]["partitions"]] == ["a"]


def test_partition_sizes_never_change_counts_and_move_small_partitions():
    current, brokers = striped_cluster(3, 0, 30, 2, topics=1)
    # sizes fall with the partition number, so the unsized tie-break (partition order)
    # would move the biggest partitions
    sizes = {"t0-%d" % p: (30 - p) * 1000 for p in range(30)}
    target = brokers + [{"id": 3, "rack": None}]
    plain = plan_reassignment(current, target)
    sized = plan_reassignment(current, target, partition_sizes=sizes)
    check_plan(current, target, sized)
    for key in ("replica_moves", "replica_targets", "replicas", "lower_bound", "leader_spread"):
        assert sized["stats"][key] == plain["stats"][key]
    # 60 replicas over 4 brokers: 15 each, so 15 replicas move; the cheapest choice moves
    # one replica of each of the 15 smallest partitions: (1 + ... + 15) * 1000 bytes. The
    # greedy choice gets within 5% of it here; without sizes far more bytes move.
    moved = sized["stats"]["bytes"]["moved"]
    assert 120000 <= moved <= 126000
    assert plain_bytes_moved(plain, current, sizes) > 1.5 * moved
    assert sized["stats"]["bytes"]["spread_after"] < sized["stats"]["bytes"]["spread_before"]


def plain_bytes_moved(result, current, sizes):
    before = {(p["topic"], p["partition"]): set(p["replicas"]) for p in current["partitions"]}
    total = 0
    for e in result["proposed"]["partitions"]:
        added = len(set(e["replicas"]) - before[(e["topic"], e["partition"])])
        total += added * sizes["%s-%d" % (e["topic"], e["partition"])]
    return total


def test_partition_sizes_accept_tuple_keys():
    current, brokers = striped_cluster(3, 0, 6, 2, topics=1)
    a = plan_reassignment(current, brokers, partition_sizes={("t0", 1): 5})
    b = plan_reassignment(current, brokers, partition_sizes={"t0-1": 5})
    assert a == b


def test_max_moves_returns_a_valid_partial_plan_that_replanning_completes():
    current, brokers = striped_cluster(6, 3, 60, 3)
    target = [b for b in brokers if b["id"] != 0] + [{"id": 6, "rack": "r0"}, {"id": 7, "rack": "r1"}]
    full = plan_reassignment(current, target)
    needed = full["stats"]["replica_moves"]
    partial = plan_reassignment(current, target, max_moves=needed // 3)
    final, moves = check_plan(current, target + [{"id": 0, "rack": "r0"}], partial)
    stats = partial["stats"]
    assert moves <= needed // 3
    assert stats["complete"] is False
    assert stats["remaining_moves"] == needed - moves
    # the drained broker is emptied first
    on_0_before = sum(1 for p in current["partitions"] if 0 in p["replicas"])
    assert sum(1 for r in final.values() if 0 in r) == max(0, on_0_before - moves)
    # continuing from the partial state reaches the same balance
    state = as_current(final)
    rest = plan_reassignment(state, target)
    check_plan(state, target, rest)
    assert rest["stats"]["replica_spread"] == full["stats"]["replica_spread"]
    assert moves + rest["stats"]["replica_moves"] <= needed + 2


def test_max_moves_zero_only_reorders():
    current, brokers = striped_cluster(4, 0, 8, 2)
    result = plan_reassignment(current, brokers_of(range(5)), max_moves=0)
    final = apply_plan(current, result)
    before = {(p["topic"], p["partition"]): sorted(p["replicas"]) for p in current["partitions"]}
    assert all(sorted(final[k]) == before[k] for k in before)
    assert result["stats"]["replica_moves"] == 0
    assert result["stats"]["complete"] is False


def test_max_moves_at_or_above_need_is_complete():
    current, brokers = striped_cluster(4, 0, 8, 2)
    target = brokers_of(range(5))
    full = plan_reassignment(current, target)
    capped = plan_reassignment(current, target, max_moves=full["stats"]["replica_moves"])
    assert capped["stats"]["complete"] is True
    assert capped["proposed"] == full["proposed"]


# -- errors --------------------------------------------------------------------------------


GOOD = {"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": [0, 1]}]}
TWO = [{"id": 0, "rack": None}, {"id": 1, "rack": None}]


@pytest.mark.parametrize(
    "current, match",
    [
        ("{not json", "not valid JSON"),
        ([], "reassignment JSON"),
        ({"version": 2, "partitions": []}, "version 1"),
        ({"version": 1}, "must be a list"),
        ({"version": 1, "partitions": [{"topic": "t"}]}, "topic, partition and replicas"),
        ({"version": 1, "partitions": [{"topic": "", "partition": 0, "replicas": [0]}]}, "non-empty string"),
        ({"version": 1, "partitions": [{"topic": "t", "partition": -1, "replicas": [0]}]}, "non-negative"),
        ({"version": 1, "partitions": [{"topic": "t", "partition": True, "replicas": [0]}]}, "non-negative"),
        ({"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": []}]}, "non-empty list"),
        ({"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": ["0"]}]}, "not a broker id"),
        ({"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": [1, 1]}]}, "more than once"),
        (
            {"version": 1, "partitions": [
                {"topic": "t", "partition": 0, "replicas": [0]},
                {"topic": "t", "partition": 0, "replicas": [1]},
            ]},
            "listed more than once",
        ),
    ],
)
def test_malformed_current_is_rejected(current, match):
    with pytest.raises(InvalidAssignmentError, match=match):
        plan_reassignment(current, TWO)


@pytest.mark.parametrize(
    "brokers, match",
    [
        ([], "non-empty list"),
        ([{"rack": "a"}], "must be a dict with an 'id'"),
        ([{"id": "1"}], "non-negative integer"),
        ([{"id": 0}, {"id": 0}], "listed more than once"),
        ([{"id": 0, "rack": "a"}, {"id": 1, "rack": None}], r"brokers \[1\] have no rack"),
        ([{"id": 0, "rack": ""}], "non-empty string"),
    ],
)
def test_bad_brokers_are_rejected(brokers, match):
    with pytest.raises(InvalidBrokersError, match=match):
        plan_reassignment(GOOD, brokers)


def test_replication_factor_errors():
    with pytest.raises(ReplicationFactorError, match="only 1 target brokers"):
        plan_reassignment(GOOD, [{"id": 0, "rack": None}])
    with pytest.raises(ReplicationFactorError, match="only 2 target brokers"):
        plan_reassignment(GOOD, TWO, replication_factors={"t": 3})
    with pytest.raises(ReplicationFactorError, match="positive integer"):
        plan_reassignment(GOOD, TWO, replication_factors={"t": 0})


@pytest.mark.parametrize(
    "options, error, match",
    [
        ({"include_topics": ["nope"]}, UnknownTopicError, "matches none"),
        ({"exclude_topics": ["n.pe"]}, UnknownTopicError, "matches none"),
        ({"include_topics": ["("]}, InvalidOptionError, "regular expression"),
        ({"include_topics": "t"}, InvalidOptionError, "must be a list"),
        ({"replication_factors": {"nope": 2}}, UnknownTopicError, "not in current"),
        ({"replication_factors": [("t", 2)]}, InvalidOptionError, "must be a dict"),
        ({"partition_sizes": {"nope-0": 1}}, UnknownTopicError, "not in current"),
        ({"partition_sizes": {"t-7": 1}}, InvalidOptionError, "not in current"),
        ({"partition_sizes": {"t": 1}}, InvalidOptionError, "topic-partition"),
        ({"partition_sizes": {"t-0": -1}}, InvalidOptionError, "non-negative"),
        ({"max_moves": -1}, InvalidOptionError, "non-negative integer"),
        ({"max_move": 3}, InvalidOptionError, "unknown option"),
    ],
)
def test_bad_options_are_rejected(options, error, match):
    with pytest.raises(error, match=match):
        plan_reassignment(GOOD, TWO, **options)


def test_rf_change_for_excluded_topic_is_rejected():
    with pytest.raises(InvalidOptionError, match="leave out"):
        plan_reassignment(GOOD, TWO, exclude_topics=["t"], replication_factors={"t": 1})


def test_every_error_is_a_value_error():
    for cls in (InvalidAssignmentError, InvalidBrokersError, InvalidOptionError,
                ReplicationFactorError, UnknownTopicError):
        assert issubclass(cls, PlanningError)
        assert issubclass(cls, ValueError)


def test_empty_selection_plans_nothing():
    result = plan_reassignment({"version": 1, "partitions": []}, TWO)
    assert result["proposed"] == {"version": 1, "partitions": []}
    assert result["stats"]["replica_moves"] == 0
    assert result["stats"]["complete"] is True
