# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.targets: the rack model, rack loads and per-broker targets."""

from __future__ import annotations

from collections import Counter

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.bounds import TargetGroup
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.errors import InfeasiblePlanError
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.targets import (
    RackModel,
    balanced_rack_loads,
    broker_targets,
    compute_targets,
    descend,
    load_ranges,
    split_cost,
)


def test_split_cost_is_the_sum_of_squares_of_the_even_split():
    assert split_cost(7, 3) == 2 * 2 + 2 * 2 + 3 * 3
    assert split_cost(6, 3) == 12


def test_symmetric_model_caps_the_largest_racks():
    # 3 partitions of RF 2 over 3 racks of 2 brokers: any one rack holds at most 3
    model = RackModel([2, 2, 2], Counter({2: 3}))
    assert model.symmetric
    assert model.caps_by_size == [0, 3, 6, 6]
    assert model.feasible([2, 2, 2])
    assert model.feasible([3, 3, 0])
    assert not model.feasible([4, 1, 1])
    assert not model.feasible([2, 2, 1])  # the sum must be 6
    assert model.capacity([2, 2, 2], 0, 1) == 1
    assert model.capacity([3, 3, 0], 2, 0) == 0


def test_wide_partitions_make_the_model_enumerate_rack_subsets():
    # one partition of RF 3 over racks of 1 and 2 brokers: rack 0 holds 1, rack 1 holds 2
    model = RackModel([1, 2], Counter({3: 1}))
    assert not model.symmetric
    assert model.caps_by_subset == [0, 1, 2, 3]
    assert model.feasible([1, 2])
    assert not model.feasible([2, 1])
    assert model.start(Counter({3: 1})) == [1, 2]


def test_wide_partitions_over_more_than_16_racks_are_refused():
    with pytest.raises(InfeasiblePlanError, match="at most 16 racks"):
        RackModel([1] * 17, Counter({18: 1}))


def test_descend_moves_load_to_the_rack_with_more_brokers():
    # 6 replicas of RF 1 over a rack of 2 brokers and a rack of 1: 2 per broker
    model = RackModel([2, 1], Counter({1: 6}))
    assert descend(model, [3, 3]) == [4, 2]


def test_among_optimal_loads_the_one_keeping_most_replicas_wins():
    # 4 replicas of RF 1 over two racks of 2 brokers: (2, 2) is the only optimum, whatever the
    # keep function prefers; over racks of 2 and 1 brokers, 5 replicas split (3, 2) or (4, 1)
    model = RackModel([2, 2], Counter({1: 4}))
    assert balanced_rack_loads(model, Counter({1: 4}), lambda rack, load: load if rack == 0 else 0, None) == [2, 2]
    model = RackModel([2, 1], Counter({1: 5}))
    loads = balanced_rack_loads(model, Counter({1: 5}), lambda rack, load: load if rack == 1 else 0, None)
    assert loads == [3, 2]  # (4, 1) costs the same: 2+2 / 1 vs 2+1 / 2, and keeps less in rack 1
    assert load_ranges(model, loads) == [(3, 4), (1, 2)]


def test_ceil_targets_go_to_the_brokers_holding_most():
    cluster = index_cluster({1: "a", 2: "a", 3: "b"}, [[1, 3], [2, 3], [1, 3]], [2, 2, 2], None)
    assert broker_targets(cluster, [3, 3], [2, 1, 3]) == [2, 1, 3]


def test_targets_without_racks_are_floor_and_ceil_of_the_average():
    cluster = index_cluster({1: None, 2: None, 3: None}, [[1, 2], [1, 2], [1, 3]], [2, 2, 2], None)
    targets = compute_targets(cluster)
    assert targets.current_counts == [3, 2, 1]
    assert targets.replicas_to_place == 6
    assert targets.replica_targets == [2, 2, 2]
    assert targets.rack_loads == [6]
    assert targets.groups == [TargetGroup(2, 2, [0])]
    assert targets.keepable_by_brokers == 5  # broker 1 keeps 2 of its 3


def test_a_rack_of_one_broker_holds_one_replica_of_every_partition():
    cluster = index_cluster({1: "a", 2: "a", 3: "b"}, [[1, 3], [2, 3], [1, 3]], [2, 2, 2], None)
    targets = compute_targets(cluster)
    assert targets.rack_loads == [3, 3]
    assert targets.replica_targets == [2, 1, 3]
    assert targets.groups == [TargetGroup(1, 3, [0, 1])]
    assert targets.keepable_by_brokers == 6
