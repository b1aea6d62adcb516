# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``limit``: keep the partition changes that fit ``max_moves``.

Changes are taken in this order: partitions on drained brokers, then partitions breaking
the rack rule or changing replication factor, then the changes that reduce imbalance most
(a rebalancing change that does not reduce it is skipped). Each change is kept whole or not
at all, so the partial plan is valid and re-planning after it continues the work.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import Cluster, added_replicas

DRAIN, REPAIR, REBALANCE = 0, 1, 2  # categories of a change, in the order they are kept


@dataclass
class Limited:
    """The partition changes kept, and the moves of the whole plan."""

    work: dict[int, list[int]]  # partition -> new replica list
    full_moves: int | None  # moves of the whole plan (None without max_moves)


def limit_moves(
    cluster: Cluster, targets: list[int], current_counts: list[int], work: dict[int, list[int]], max_moves: int | None
) -> Limited:
    """Stage ``limit``: the changes of ``work`` whose moves fit ``max_moves``."""
    if max_moves is None:
        return Limited(work, None)
    changes = []
    total = 0
    for p in sorted(work):
        moves = added_replicas(cluster.replicas[p], work[p])
        total += moves
        changes.append((p, moves))
    if total <= max_moves:
        return Limited(work, total)
    target_count = cluster.target_count
    load = list(current_counts[:target_count])
    ordered = sorted(
        changes, key=lambda change: (category(cluster, change[0]), -benefit(cluster, targets, load, work, change[0]), change[1], change[0])
    )
    budget = max_moves
    kept = {}
    for p, moves in ordered:
        if moves > budget:
            continue
        if moves and category(cluster, p) == REBALANCE and benefit(cluster, targets, load, work, p) <= 0:
            continue
        old, new = set(cluster.replicas[p]), set(work[p])
        for b in old - new:
            if b < target_count:
                load[b] -= 1
        for b in new - old:
            load[b] += 1
        budget -= moves
        kept[p] = work[p]
    return Limited(kept, total)


def category(cluster: Cluster, p: int) -> int:
    """DRAIN, REPAIR (rack rule, replication factor) or REBALANCE."""
    old = cluster.replicas[p]
    if max(old) >= cluster.target_count:
        return DRAIN
    if len(old) != cluster.replication_factors[p]:
        return REPAIR
    rack_of = cluster.rack_of
    if cluster.rack_aware and len({rack_of[b] for b in old}) < min(len(old), cluster.rack_count):
        return REPAIR
    return REBALANCE


def benefit(cluster: Cluster, targets: list[int], load: list[int], work: dict[int, list[int]], p: int) -> int:
    """How much the change of ``p`` lowers the imbalance, given the changes kept so far."""
    old, new = set(cluster.replicas[p]), set(work[p])
    gain = 0
    for b in old - new:
        if b < cluster.target_count:
            gain += load[b] - targets[b]
    for b in new - old:
        gain += targets[b] - load[b]
    return gain
