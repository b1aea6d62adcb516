# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.cluster: numbering brokers and racks, the rack check."""

from __future__ import annotations

import dataclasses

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import (
    HOLE,
    added_replicas,
    extendable,
    index_cluster,
)


def test_targets_come_first_by_id_then_drained_brokers():
    cluster = index_cluster({5: "b", 2: "a", 9: "a"}, [[2, 7], [9, 5]], [2, 2], [10, 20])
    assert cluster.target_ids == [2, 5, 9]
    assert cluster.removed_ids == [7]
    assert cluster.broker_ids == [2, 5, 9, 7]
    assert cluster.rack_names == ["a", "b"]
    assert cluster.rack_of == [0, 1, 0, -2]  # a drained broker is a rack of its own
    assert cluster.rack_members == [[0, 2], [1]]
    assert cluster.replicas == [[0, 3], [2, 1]]
    assert cluster.partition_count == 2
    assert cluster.sizes == [10, 20]
    assert cluster.rack_aware


def test_without_racks_there_is_one_rack_named_none():
    cluster = index_cluster({1: None, 0: None}, [[0, 1]], [2], None)
    assert (cluster.rack_names, cluster.rack_count, cluster.rack_of, cluster.rack_members) == ([None], 1, [0, 0], [[0, 1]])
    assert not cluster.rack_aware


def test_the_cluster_has_no_attributes_beyond_its_fields():
    cluster = index_cluster({1: None}, [[1]], [1], None)
    with pytest.raises(AttributeError):
        cluster.anything_else = 1  # pylint: disable=assigning-non-slot
    assert dataclasses.replace(cluster, sizes=[3]).sizes == [3]


@pytest.mark.parametrize("replica_list, factor, expected", [
    ([0, HOLE, HOLE], 3, True),  # racks a: 0, 1; b: 2; c: 3
    ([0, 1, HOLE], 3, False),  # two replicas on rack a, RF <= racks
    ([0, 1], 2, False),
    ([0, 2], 2, True),
    ([0, 1, 2, HOLE], 4, True),  # RF above the rack count: a rack may hold two
    ([0, 1, 2, 4], 4, False),  # 4 is also on rack a: c is left uncovered
])
def test_extendable_follows_the_rack_rule(replica_list, factor, expected):
    cluster = index_cluster({10: "a", 11: "a", 12: "b", 13: "c", 14: "a"}, [[10]], [1], None)
    assert extendable(cluster, replica_list, factor) is expected


def test_extendable_is_always_true_without_racks():
    cluster = index_cluster({1: None, 2: None}, [[1]], [1], None)
    assert extendable(cluster, [0, 0], 2)


def test_added_replicas_counts_brokers_new_to_the_partition():
    assert added_replicas([0, 1, 2], [2, 3, 4]) == 2
    assert added_replicas([0, 1], [1, 0]) == 0
