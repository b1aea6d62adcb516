# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.drops: the replicas every plan drops, and which ones."""

from __future__ import annotations

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import HOLE, index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.drops import (
    Drops,
    choose_keep,
    forced_drops,
    improve_drops,
)


def test_a_lower_replication_factor_drops_the_replica_on_the_most_loaded_broker():
    # brokers 0, 1, 2 (indexes = ids); partition 0 goes from RF 3 to 2; broker 0 is 1 above target
    cluster = index_cluster({0: None, 1: None, 2: None}, [[0, 1, 2], [0]], [2, 1], None)
    drops = forced_drops(cluster, [1, 1, 1], [2, 1, 1])
    assert drops == Drops(load=[1, 1, 1], work={0: [1, 2]}, dropped_from={0: [0]}, keepable_by_partitions=3)


def test_replicas_on_drained_brokers_leave_holes():
    # broker 9 is drained: its replica becomes a hole in place; it is no target broker's drop
    cluster = index_cluster({1: None, 2: None}, [[9, 1], [1, 2]], [2, 2], None)
    drops = forced_drops(cluster, [2, 2], [2, 1, 1])
    assert drops.work == {0: [HOLE, 0]}
    assert drops.dropped_from == {}
    assert drops.load == [2, 1]
    assert drops.keepable_by_partitions == 3


def test_a_rack_violation_keeps_one_replica_per_rack():
    # racks a: brokers 0, 1; b: broker 2; partition [0, 1] has both replicas on a
    cluster = index_cluster({0: "a", 1: "a", 2: "b"}, [[0, 1]], [2], None)
    drops = forced_drops(cluster, [1, 0, 1], [1, 1, 0])
    assert drops.work == {0: [0, HOLE]}
    assert drops.dropped_from == {1: [0]}


def test_choose_keep_prefers_replicas_on_brokers_below_target():
    cluster = index_cluster({0: None, 1: None, 2: None}, [[0]], [1], None)
    assert choose_keep(cluster, [0, 1, 2], 2, [5, 1, 1], [1, 1, 1]) == {1, 2}
    assert choose_keep(cluster, [0, 1], 2, [5, 1, 1], [1, 1, 1]) == {0, 1}


def test_choose_keep_with_racks_keeps_the_best_replica_of_each_rack_first():
    cluster = index_cluster({0: "a", 1: "a", 2: "b", 3: "c"}, [[0]], [1], None)
    # RF 2: the best of rack a (broker 1, below target) and the better of b and c
    assert choose_keep(cluster, [0, 1, 2, 3], 2, [3, 0, 2, 1], [1, 1, 1, 1]) == {1, 3}


def test_improve_drops_swaps_a_drop_from_a_broker_left_short_to_one_above_target():
    # partition 0 went from [0, 1] to RF 1 and kept broker 1, which is above target while
    # broker 0 is below: keeping 0 instead saves a move
    cluster = index_cluster({0: None, 1: None, 2: None}, [[0, 1], [1, 2], [2]], [1, 2, 1], None)
    drops = Drops(load=[0, 2, 2], work={0: [1]}, dropped_from={0: [0]}, keepable_by_partitions=4)
    improve_drops(cluster, [1, 1, 2], drops)
    assert drops.work == {0: [0]}
    assert drops.load == [1, 1, 2]
    assert drops.dropped_from == {0: [], 1: [0]}
