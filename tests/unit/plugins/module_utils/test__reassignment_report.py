# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.report: the reassignment JSON and the statistics."""

from __future__ import annotations

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.bounds import Bounds
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.inputs import parse_request
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.limit import Limited
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.placement import Placement
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.report import (
    build_report,
    count_violations,
    rack_violations,
    spread,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.targets import Targets


def test_rack_violations_by_broker_id():
    racks = {1: "a", 2: "a", 3: "b"}
    assert rack_violations([[1, 2], [1, 3], [1, 9], [3]], racks) == 1  # 9 is unknown: a rack of its own
    assert rack_violations([[1, 2]], {1: None, 2: None}) == 0


def test_count_violations_by_broker_index():
    cluster = index_cluster({1: "a", 2: "a", 3: "b"}, [[1, 2], [1, 7]], [2, 2], None)  # 7 drained: index 3
    assert count_violations(cluster.replicas, cluster) == 1
    assert count_violations([[0, 2], [0, 3]], cluster) == 0


def test_spread():
    assert spread([3, 1, 2]) == 2
    assert spread([]) == 0


def test_report_of_one_move():
    current = {"version": 1, "partitions": [{"topic": "t", "partition": p, "replicas": [1]} for p in (0, 1)]}
    request = parse_request(current, [{"id": 1}, {"id": 2}], {"partition_sizes": {"t-0": 10, "t-1": 20}, "max_moves": 3})
    cluster = index_cluster(request.racks_by_id, [[1], [1]], [1, 1], request.sizes)
    targets = Targets(current_counts=[2, 0], replicas_to_place=2, replica_targets=[1, 1], rack_loads=[2], groups=[], keepable_by_brokers=1)
    placement = Placement(targets, Bounds(2, 1, 2, None), {0: [1]}, [1, 1], 0)
    result = build_report(request, cluster, placement, Limited({0: [1]}, 1), [[1], [0]])
    assert result["proposed"] == {"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": [2]}]}
    stats = result["stats"]
    assert stats["complete"] is True
    assert (stats["replica_moves"], stats["lower_bound"], stats["moves_over_lower_bound"]) == (1, 1, 1.0)
    assert stats["lower_bound_detail"] == {
        "replicas_to_place": 2, "keepable_by_brokers": 1, "keepable_by_partitions": 2, "moves_into_short_brokers": None,
    }
    assert (stats["replicas"], stats["leaders"], stats["replica_targets"]) == ({1: 1, 2: 1}, {1: 1, 2: 1}, {1: 1, 2: 1})
    assert stats["current"]["replicas"] == {1: 2, 2: 0}
    assert (stats["added_brokers"], stats["removed_brokers"], stats["balance_regime"]) == ([2], [], "global")
    assert (stats["leadership_changes"], stats["partitions_changed"], stats["balanced"]) == (1, 1, True)
    assert stats["rack_aware"] is False and stats["racks"] == {} and stats["rack_loads"] == {}
    assert stats["bytes"] == {"moved": 10, "per_broker": {1: 20, 2: 10}, "spread_before": 30, "spread_after": 10}


def test_an_incomplete_plan_reports_the_remaining_moves():
    current = {"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": [1]}]}
    request = parse_request(current, [{"id": 1}, {"id": 2}], {"max_moves": 0})
    cluster = index_cluster(request.racks_by_id, [[1]], [1], None)
    targets = Targets(current_counts=[1, 0], replicas_to_place=1, replica_targets=[1, 0], rack_loads=[1], groups=[], keepable_by_brokers=1)
    placement = Placement(targets, Bounds(1, 1, 1, None), {}, [1, 0], 0)
    stats = build_report(request, cluster, placement, Limited({}, 3), [[0]])["stats"]
    assert (stats["complete"], stats["remaining_moves"]) == (False, 3)
