# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.placement: the placing stages in order, and the size fallback."""

from __future__ import annotations

import dataclasses

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.bounds import Bounds
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.placement import (
    best_placement,
    empty_placement,
    place,
)


def test_place_adds_a_broker():
    # two partitions of RF 2 on brokers 1 and 2; broker 3 joins: 4 replicas over 3 brokers
    cluster = index_cluster({1: None, 2: None, 3: None}, [[1, 2], [2, 1]], [2, 2], None)
    placement = place(cluster)
    assert placement.targets.replica_targets == [2, 1, 1]
    assert placement.bounds == Bounds(replicas_to_place=4, keepable_by_brokers=3, keepable_by_partitions=4, moves_into_short_brokers=None)
    assert placement.bounds.lower_bound() == 1
    assert placement.work == {0: [0, 2]}
    assert placement.moves(cluster) == 1
    assert placement.replica_targets == [2, 1, 1]
    assert placement.unrouted_holes == 0


def test_draining_a_broker_records_the_cut_bound():
    cluster = index_cluster({1: None, 2: None}, [[1, 3], [2, 3]], [2, 2], None)  # 3 is drained
    placement = place(cluster)
    assert placement.work == {0: [0, 1], 1: [1, 0]}
    assert placement.bounds.lower_bound() == 2


def test_the_empty_placement():
    cluster = index_cluster({1: "a", 2: "b"}, [], [], None)
    placement = empty_placement(cluster)
    assert placement.targets.current_counts == [0, 0]
    assert placement.targets.rack_loads == []
    assert placement.bounds == Bounds(0, 0, 0, None)
    assert (placement.work, placement.replica_targets, placement.unrouted_holes) == ({}, [0, 0], 0)
    assert best_placement(cluster) == (cluster, placement)


def test_sizes_give_way_when_the_count_only_placement_needs_fewer_moves():
    # one rack of six brokers; steered by sizes the plan needs 3 moves, by counts only 2
    ids = (9, 8, 5, 7, 6, 2)
    replicas = [[5, 9, 8], [5, 7, 8], [6, 2, 5], [9, 2, 5], [7, 8, 9, 5], [2, 9, 6, 5]]
    sizes = [23183, 0, 209435, 11562, 23, 876886]
    cluster = index_cluster({b: "rack-0" for b in ids}, replicas, [3, 3, 3, 3, 4, 4], sizes)
    sized = place(cluster)
    assert (sized.moves(cluster), sized.bounds.lower_bound()) == (3, 2)
    chosen_cluster, chosen = best_placement(cluster)
    assert chosen_cluster == dataclasses.replace(cluster, sizes=None)
    assert chosen.moves(chosen_cluster) == 2
    assert chosen.work == {2: [2, 0, 3], 3: [5, 0, 2]}
