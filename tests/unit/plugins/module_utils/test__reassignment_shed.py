# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.shed: which replicas brokers above target give up, and to which rack."""

from __future__ import annotations

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import HOLE, index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.drops import Drops
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.routing import HoleGroup
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.shed import (
    Shed,
    ShedState,
    force_swaps,
    group_free_holes,
    shed_order,
    shed_surplus,
)

NO_RACKS = {0: None, 1: None, 2: None}


def test_surplus_brokers_shed_followers_before_leaders():
    cluster = index_cluster(NO_RACKS, [[0, 1], [1, 0], [0, 2], [2, 0]], [2, 2, 2, 2], None)
    assert shed_order(cluster, {}, [2, 0, 0]) == {0: [1, 3, 0, 2]}


def test_with_sizes_the_smallest_partitions_are_shed_first():
    cluster = index_cluster(NO_RACKS, [[0, 1], [1, 0], [0, 2], [2, 0]], [2, 2, 2, 2], [5, 9, 1, 3])
    assert shed_order(cluster, {}, [2, 0, 0]) == {0: [2, 3, 0, 1]}


def test_take_and_untake_keep_the_bookkeeping_consistent():
    cluster = index_cluster({0: "a", 1: "b"}, [[0]], [1], None)
    state = ShedState(cluster, {}, [0, 1], [1, 0])
    assert (state.surplus, state.deficit, state.quota) == ([1, 0], [0, 1], [1, 0])
    state.take(0, 0, 1)
    assert state.work == {0: [HOLE]}
    assert state.quota == [0, 0]
    assert state.shed_from == {(0, 0)}
    assert state.incoming == {0: [1]}
    assert state.holes_by_rack == [[], [(0, 0)]]
    assert state.exported_by == {(0, 1): (0, 0)}  # it leaves its rack
    state.untake(0, 0, 0, 1)
    assert (state.work, state.quota, state.shed_from, state.incoming) == ({0: [0]}, [1, 0], set(), {0: []})
    assert (state.holes_by_rack, state.exported_by) == ([[], []], {})


def test_a_surplus_is_shed_inside_the_rack_when_a_broker_there_lacks_replicas():
    cluster = index_cluster({1: None, 2: None}, [[1], [1]], [1, 1], None)
    drops = Drops(load=[2, 0], work={}, dropped_from={}, keepable_by_partitions=2)
    assert shed_surplus(cluster, [1, 1], 2, drops) == Shed(holes_by_rack=[[(0, 0)]], deficit=[0, 1], unrouted_holes=0)
    assert drops.work == {0: [HOLE]}


def test_a_surplus_is_exported_to_the_rack_that_lacks_replicas():
    cluster = index_cluster({1: "a", 2: "b"}, [[1], [1]], [1, 1], None)
    drops = Drops(load=[2, 0], work={}, dropped_from={}, keepable_by_partitions=2)
    assert shed_surplus(cluster, [1, 1], 2, drops) == Shed(holes_by_rack=[[], [(0, 0)]], deficit=[0, 1], unrouted_holes=0)


def test_free_holes_are_grouped_by_the_racks_they_may_use():
    cluster = index_cluster({0: "a", 1: "b", 2: "c"}, [[0, 1, 2]], [3], None)
    state = ShedState(cluster, {0: [0, HOLE, HOLE]}, [1, 1, 1], [1, 0, 0])
    assert group_free_holes(state) == ({HoleGroup(0b110, 2, True, ()): [0]}, {0: [1, 2]})


def test_a_wide_partition_pins_one_hole_per_uncovered_rack():
    # RF 3 over racks a (brokers 0, 1) and b (broker 2): b gets one, a has room for the other
    cluster = index_cluster({0: "a", 1: "a", 2: "b"}, [[0, 1, 2]], [3], None)
    state = ShedState(cluster, {0: [0, HOLE, HOLE]}, [1, 1, 1], [1, 0, 0])
    free, pending = group_free_holes(state)
    assert free == {HoleGroup(0b10, 1, True, ()): [0], HoleGroup(0b01, 1, False, (1, 0)): [0]}
    assert pending == {0: [1, 2]}


def test_forced_swaps_move_a_kept_replica_out_of_its_rack():
    # racks a: brokers 0, 1; b: broker 2. Partition 0 already covers b; partition 1 may move
    cluster = index_cluster({0: "a", 1: "a", 2: "b"}, [[0, 2], [1], [0]], [2, 1, 1], None)
    state = ShedState(cluster, {}, [1, 1, 2], [2, 1, 1])
    force_swaps(state, {(0, 1): 1}, [1, 1, 2], [2, 1, 1])
    assert state.work == {1: [HOLE]}
    assert state.holes_by_rack == [[], [(1, 0)]]
    assert state.deficit == [0, 1, 1]  # broker 1 now lacks the replica it gave up
    assert state.unrouted == 0
