# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.leaders: leaders balanced by reordering replica lists only."""

from __future__ import annotations

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.leaders import LeaderState, balance_leaders


def test_a_broker_leading_everything_hands_over_half():
    cluster = index_cluster({0: None, 1: None}, [[0, 1], [0, 1]], [2, 2], None)
    assert balance_leaders(cluster, {}) == [[1, 0], [0, 1]]


def test_a_leader_on_a_drained_broker_hands_over_to_a_target_broker():
    cluster = index_cluster({0: None, 1: None}, [[5, 0], [1, 0]], [2, 2], None)  # 5 is index 2
    assert balance_leaders(cluster, {}) == [[0, 2], [1, 0]]


def test_changed_partitions_are_read_from_work():
    cluster = index_cluster({0: None, 1: None}, [[0, 1], [0, 1]], [2, 2], None)
    assert balance_leaders(cluster, {1: [1, 0]}) == [[0, 1], [1, 0]]


def test_a_chain_moves_leadership_where_no_direct_hand_over_helps():
    # broker 0 leads two partitions whose only follower is 1; 1 leads one with follower 2
    cluster = index_cluster({0: None, 1: None, 2: None}, [[0, 1], [0, 1], [1, 2]], [2, 2, 2], None)
    assert balance_leaders(cluster, {}) == [[0, 1], [1, 0], [2, 1]]


def test_unchanged_partitions_keep_their_list_object():
    cluster = index_cluster({0: None, 1: None}, [[0, 1], [1, 0]], [2, 2], None)
    final = balance_leaders(cluster, {})
    assert final[0] is cluster.replicas[0] and final[1] is cluster.replicas[1]


def test_no_partitions():
    cluster = index_cluster({0: None}, [], [], None)
    assert balance_leaders(cluster, {}) == []


def test_best_follower_and_switch():
    cluster = index_cluster({0: None, 1: None, 2: None}, [[0, 1, 2], [1, 0], [1, 2]], [3, 2, 2], None)
    state = LeaderState(cluster, {})
    assert state.leader_counts == [1, 2, 0]
    assert state.best_follower([0, 1, 2]) == 2  # broker 2 leads nothing
    state.switch(0, 2)
    assert state.final[0] == [2, 0, 1]
    assert state.leader_counts == [0, 2, 1]
    assert state.led[2] == [0]
