# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.routing: the min-cost flow and the routing of holes over racks."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import HOLE, index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.routing import (
    HoleGroup,
    Routing,
    min_cost_flow,
    route_holes,
    swap_capacities,
)


def test_min_cost_flow_takes_the_cheaper_of_two_parallel_edges():
    assert min_cost_flow(3, [(0, 1, 1, 1), (0, 1, 1, 0), (1, 2, 1, 0)], 0, 2) == [0, 1, 1]


def test_min_cost_flow_is_a_maximum_flow():
    edges = [(0, 1, 2, 0), (0, 2, 2, 0), (1, 3, 1, 0), (2, 3, 3, 1), (1, 2, 1, 0)]
    assert min_cost_flow(4, edges, 0, 3) == [2, 2, 1, 3, 1]


def never():
    raise AssertionError("swap capacities are only needed when the routing falls short")


def test_shed_replicas_are_exported_where_candidates_allow():
    routing = route_holes(2, shed=[2, 0], deficit=[0, 2], scanned=[2, 0], export_caps={(0, 1): 5},
                          groups=[], group_sizes=[], replicas_to_place=10, swap_capacities=never)
    assert routing == Routing(exports={(0, 1): 2}, swaps={}, group_to_rack={})


def test_free_holes_go_to_the_racks_their_group_allows():
    groups = [HoleGroup(allowed=0b10, holes=1, single=True, room=()), HoleGroup(allowed=0b11, holes=2, single=False, room=(1, 2))]
    routing = route_holes(2, shed=[0, 0], deficit=[2, 3], scanned=[0, 0], export_caps={},
                          groups=groups, group_sizes=[1, 2], replicas_to_place=10, swap_capacities=never)
    assert routing.group_to_rack == {(0, 1): 1, (1, 0): 2, (1, 1): 2}
    assert routing.exports == routing.swaps == {}


def test_kept_replicas_move_out_when_no_shed_replica_may_leave():
    asked = []

    def capacities():
        asked.append(True)
        return {(0, 1): 4}

    routing = route_holes(2, shed=[1, 0], deficit=[0, 1], scanned=[0, 0], export_caps={},
                          groups=[], group_sizes=[], replicas_to_place=10, swap_capacities=capacities)
    assert asked == [True]
    assert routing == Routing(exports={}, swaps={(0, 1): 1}, group_to_rack={})


@pytest.mark.parametrize("replicas, expected", [
    ([[0, 2]], {}),  # one replica per rack: nothing may move to another rack
    ([[0, 1]], {(0, 1): 1}),  # both on rack a: one may go to b (a partition counts once per rack pair)
    ([[0, HOLE]], {(0, 1): 1}),
])
def test_swap_capacities_count_kept_replicas_that_may_change_rack(replicas, expected):
    cluster = index_cluster({0: "a", 1: "a", 2: "b", 3: "b"}, [[0]], [2], None)
    work = dict(enumerate(replicas))
    assert swap_capacities(cluster, work) == expected
