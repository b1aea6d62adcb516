# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.bounds: what balanced plans keep, and the lower bound."""

from __future__ import annotations

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.bounds import (
    Bounds,
    RackKeepBound,
    TargetGroup,
    keepable_by_brokers,
    larger_bound,
    moves_into_short_brokers,
    pinned_new_replicas,
    rack_keep,
    target_groups,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import index_cluster


def test_rack_keep_caps_each_broker_at_its_share():
    # 5 replicas over 3 brokers: targets 2, 2, 1 (ceil to the largest counts)
    assert rack_keep(5, [4, 1, 0]) == 2 + 1 + 0
    assert rack_keep(6, [2, 2, 2]) == 6


def test_lower_bound_is_the_largest_part():
    assert Bounds(10, 7, 8, None).lower_bound() == 3
    assert Bounds(10, 9, 8, None).lower_bound() == 2
    assert Bounds(10, 9, 8, 5).lower_bound() == 5


def test_larger_bound_ignores_missing_bounds():
    assert larger_bound(None, 3) == 3
    assert larger_bound(4, 3) == 4
    assert larger_bound(2, None) == 2
    assert larger_bound(None, None) is None


def test_racks_whose_targets_touch_form_one_group():
    cluster = index_cluster({b: "r%d" % (b // 2) for b in range(5)}, [[0]], [1], None)
    # racks r0: brokers 0, 1; r1: 2, 3; r2: 4
    assert target_groups(cluster, [3, 3, 4, 4, 6]) == [TargetGroup(3, 4, [0, 1]), TargetGroup(6, 6, [2])]


def test_partitions_covering_every_rack_pin_a_new_replica_where_they_have_none():
    cluster = index_cluster({0: "a", 1: "a", 2: "b", 3: "c"}, [[0, 1, 2], [0, 2, 3], [0, 1]], [3, 3, 2], None)
    assert pinned_new_replicas(cluster) == [0, 0, 1]  # the first partition has no replica on c


def test_keepable_without_racks_is_each_brokers_count_capped_at_its_target():
    cluster = index_cluster({1: None, 2: None, 3: None}, [[1, 2], [1, 2], [1, 3]], [2, 2, 2], None)
    keep = RackKeepBound(cluster, [3, 2, 1])
    assert keep.keepable(0, 6) == 5
    assert keep.keepable(0, 3) == 3
    groups = [TargetGroup(2, 2, [0])]
    assert keepable_by_brokers(cluster, keep.keepable, [(6, 6)], [2, 2, 2], groups, [3, 2, 1]) == 5


def test_a_rack_cannot_keep_replicas_it_must_make_room_for():
    # RF 2 over racks a (brokers 0, 1) and b (broker 2): the first partition has both replicas on
    # a, so it needs a new one on b; rack b holding 2 keeps at most 1 of today's
    cluster = index_cluster({0: "a", 1: "a", 2: "b"}, [[0, 1], [0, 2]], [2, 2], None)
    keep = RackKeepBound(cluster, [2, 1, 1])
    assert keep.pinned == [0, 1]
    assert keep.keepable(1, 2) == 1
    assert keep.keepable(0, 2) == 2


def test_moves_into_brokers_left_short():
    # two partitions on brokers 1 and 2, brokers 3 and 4 new: 2 replicas must move in
    cluster = index_cluster({1: None, 2: None, 3: None, 4: None}, [[1, 2], [1, 2]], [2, 2], None)
    groups = [TargetGroup(1, 1, [0])]
    assert moves_into_short_brokers(cluster, [1, 1, 1, 1], groups, [2, 2, 0, 0]) == 2
    assert moves_into_short_brokers(cluster, [1, 1, 1, 1], groups, [1, 1, 1, 1]) is None  # nobody short
