# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.limit: the partition changes that fit max_moves."""

from __future__ import annotations

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.limit import (
    DRAIN,
    REBALANCE,
    REPAIR,
    Limited,
    benefit,
    category,
    limit_moves,
)

# target brokers 0, 1, 2; broker 3 is drained (index 3)
CLUSTER = index_cluster({0: None, 1: None, 2: None}, [[3], [1], [1, 2], [0, 1]], [1, 1, 1, 2], None)
COUNTS = [1, 3, 1, 1]


def test_without_max_moves_everything_is_kept():
    work = {0: [0], 1: [2]}
    assert limit_moves(CLUSTER, [1, 1, 1], COUNTS, work, None) == Limited(work, None)


def test_a_plan_within_max_moves_is_kept_whole():
    work = {0: [0], 1: [2]}
    limited = limit_moves(CLUSTER, [1, 1, 1], COUNTS, work, 2)
    assert limited.work is work
    assert limited.full_moves == 2


def test_draining_comes_before_rebalancing():
    limited = limit_moves(CLUSTER, [1, 1, 1], COUNTS, {0: [0], 1: [2]}, 1)
    assert limited == Limited({0: [0]}, 2)


def test_a_rebalancing_change_that_does_not_help_is_left_out():
    # brokers 1 and 2 are at target (3 and 1): moving a replica from 1 to 2 gains nothing
    work = {1: [2], 3: [0, 2]}
    assert benefit(CLUSTER, [1, 3, 1], [1, 3, 1], work, 1) == 0
    assert limit_moves(CLUSTER, [1, 3, 1], COUNTS, work, 1) == Limited({}, 2)


def test_categories():
    assert category(CLUSTER, 0) == DRAIN
    assert category(CLUSTER, 2) == REPAIR  # RF 2 -> 1
    assert category(CLUSTER, 3) == REBALANCE
    assert DRAIN < REPAIR < REBALANCE


def test_benefit_counts_the_excess_left_and_the_deficit_filled():
    # broker 1 holds 3 with target 1 (2 over); broker 2 holds 1 with target 2 (1 under)
    assert benefit(CLUSTER, [1, 1, 2], [1, 3, 1], {1: [2]}, 1) == 2 + 1
