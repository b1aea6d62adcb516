# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``placement``: the placing stages in order (targets, bounds, drops, shed with
routing, fill), and the choice between the size-steered and the count-only placement."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.bounds import (
    Bounds,
    larger_bound,
    moves_into_short_brokers,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import Cluster, added_replicas
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.drops import forced_drops, improve_drops
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.fill import fill_holes
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.shed import shed_surplus
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.targets import Targets, compute_targets


@dataclass
class Placement:
    """A complete placement of the planned partitions (before ``max_moves`` and leaders)."""

    targets: Targets
    bounds: Bounds
    work: dict[int, list[int]]  # partition -> new replica list, for the partitions that change
    replica_targets: list[int]  # per target broker, as the fill stage left them
    unrouted_holes: int

    def moves(self, cluster: Cluster) -> int:
        replicas, work = cluster.replicas, self.work
        return sum(added_replicas(replicas[p], work[p]) for p in work)


def place(cluster: Cluster) -> Placement:
    """Run the placing stages on a cluster with at least one planned partition."""
    targets = compute_targets(cluster)
    drops = forced_drops(cluster, targets.replica_targets, targets.current_counts)
    short = None
    if drops.dropped_from:
        # the bound holds for any choice of drops: take the larger of before and after improving
        short = moves_into_short_brokers(cluster, targets.replica_targets, targets.groups, drops.load)
        improve_drops(cluster, targets.replica_targets, drops)
        short = larger_bound(short, moves_into_short_brokers(cluster, targets.replica_targets, targets.groups, drops.load))
    bounds = Bounds(targets.replicas_to_place, targets.keepable_by_brokers, drops.keepable_by_partitions, short)
    shed = shed_surplus(cluster, targets.replica_targets, targets.replicas_to_place, drops)
    fill = fill_holes(cluster, targets.replica_targets, drops.work, shed)
    return Placement(targets, bounds, drops.work, fill.replica_targets, fill.unrouted_holes)


def empty_placement(cluster: Cluster) -> Placement:
    """The placement when no partition is planned: nothing to place, no rack loads."""
    target_count = cluster.target_count
    targets = Targets(
        current_counts=[0] * len(cluster.broker_ids),
        replicas_to_place=0,
        replica_targets=[0] * target_count,
        rack_loads=[],
        groups=[],
        keepable_by_brokers=0,
    )
    return Placement(targets, Bounds(0, 0, 0, None), {}, [0] * target_count, 0)


def best_placement(cluster: Cluster) -> tuple[Cluster, Placement]:
    """The placement to plan with, and the cluster it was computed for.

    Sizes only steer choices among count-optimal ones; if the size-driven choice needed an
    extra move somewhere, the count-driven placement is used when it needs fewer (bytes are
    still reported for the result).
    """
    if not cluster.partition_count:
        return cluster, empty_placement(cluster)
    placement = place(cluster)
    if cluster.sizes is not None and placement.moves(cluster) > placement.bounds.lower_bound():
        plain_cluster = dataclasses.replace(cluster, sizes=None)
        plain = place(plain_cluster)
        if plain.moves(plain_cluster) < placement.moves(cluster):
            return plain_cluster, plain
    return cluster, placement
