# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.fill: every hole goes to a broker below target."""

from __future__ import annotations

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import HOLE, index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.fill import (
    Fill,
    FillState,
    augment,
    fill_holes,
    other_rack,
    place_anywhere,
    rack_allows,
    retarget,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.shed import Shed


def test_a_hole_goes_to_the_broker_below_target_in_its_rack():
    cluster = index_cluster({1: "a", 2: "b"}, [[1], [1]], [1, 1], None)
    work = {0: [HOLE]}
    fill = fill_holes(cluster, [1, 1], work, Shed(holes_by_rack=[[], [(0, 0)]], deficit=[0, 1], unrouted_holes=0))
    assert work == {0: [1]}
    assert fill == Fill(replica_targets=[1, 1], unrouted_holes=0)


def test_with_sizes_the_broker_holding_fewest_bytes_takes_the_largest_partition():
    # broker 0 keeps a 30-byte partition; the 50-byte one goes first, to empty broker 1
    cluster = index_cluster({0: None, 1: None, 2: None}, [[0], [0], [0]], [1, 1, 1], [10, 50, 30])
    work = {0: [HOLE], 1: [HOLE]}
    fill_holes(cluster, [1, 1, 1], work, Shed(holes_by_rack=[[(0, 0), (1, 0)]], deficit=[1, 1, 0], unrouted_holes=0))
    assert work == {0: [0], 1: [1]}


def test_when_every_broker_below_target_holds_the_partition_a_unit_of_target_moves():
    cluster = index_cluster({0: None, 1: None}, [[0]], [2], None)
    work = {0: [0, HOLE]}
    fill = fill_holes(cluster, [2, 1], work, Shed(holes_by_rack=[[(0, 1)]], deficit=[1, 0], unrouted_holes=0))
    assert work == {0: [0, 1]}
    assert fill.replica_targets == [1, 2]


def test_retarget_trades_one_unit_between_brokers_of_a_rack():
    cluster = index_cluster({0: None, 1: None}, [[0]], [2], None)
    state = FillState(cluster, {0: [0, HOLE]}, [2, 1], [1, 0], 0)
    assert retarget(state, 0, [0, HOLE]) == 1
    assert (state.targets, state.remaining) == ([1, 2], [0, 1])
    assert retarget(state, 0, [0, 1]) is None


def test_a_rack_already_holding_the_partition_sends_the_hole_to_another_rack():
    cluster = index_cluster({0: "a", 1: "b", 2: "c"}, [[0]], [2], None)
    state = FillState(cluster, {0: [0, HOLE]}, [1, 1, 0], [0, 1, 0], 0)
    assert not rack_allows(cluster, 0, [0, HOLE], 1)
    assert rack_allows(cluster, 1, [0, HOLE], 1)
    assert other_rack(state, 0, [0, HOLE], 1) == 1


def test_augment_shifts_a_placed_hole_to_make_room():
    # rack of brokers 0, 1: partition 1's hole went to broker 0, the last place for partition 0
    # (which broker 1 holds already); moving partition 1's replica to broker 1 frees broker 0
    cluster = index_cluster({0: None, 1: None}, [[1], [0]], [2, 1], None)
    work = {0: [1, HOLE], 1: [0]}
    state = FillState(cluster, work, [1, 1], [0, 1], 0)
    placed_by = {0: [(1, 0)], 1: []}
    assert augment(state, 0, 0, 1, placed_by)
    assert work == {0: [1, 0], 1: [1]}
    assert placed_by == {0: [(0, 1)], 1: [(1, 0)]}
    assert state.remaining == [0, 0]


def test_place_anywhere_follows_a_chain_of_full_brokers():
    # partition 0 (RF 3) can only take broker 1, which is full; partition 1 moves from broker 1
    # to broker 2, the one below target
    cluster = index_cluster({0: None, 1: None, 2: None}, [[0, 2], [1]], [3, 1], None)
    work = {0: [0, 2, HOLE]}
    state = FillState(cluster, work, [1, 1, 2], [0, 0, 1], 0)
    place_anywhere(state, 0, 2)
    assert work == {0: [0, 2, 1], 1: [2]}
    assert state.remaining == [0, 0, 0]
