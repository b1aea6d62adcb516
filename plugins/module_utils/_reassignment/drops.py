# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``drops``: the replicas every plan must drop, and which ones.

Partitions on drained brokers, with a lower replication factor or breaking the rack rule
drop replicas (``forced_drops``: the replica on the broker furthest above target goes);
``improve_drops`` then re-chooses along augmenting paths so that fewer kept replicas sit on
brokers already at target. Dropped replicas leave ``HOLE`` entries in the partition's new
replica list, to be filled by the shed and fill stages.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import HOLE, Cluster, extendable

DropStep = tuple[int, int, int]  # (broker gaining the replica back, partition, position)


@dataclass
class Drops:
    """The replica lists after the drops, and the load they leave on each broker."""

    load: list[int]  # per target broker: replicas of planned partitions it keeps
    work: dict[int, list[int]]  # partition -> its new replica list (HOLE where one is missing)
    dropped_from: dict[int, list[int]]  # broker -> partitions that dropped their replica on it
    keepable_by_partitions: int  # replicas kept: the bound on what partitions can keep


def forced_drops(cluster: Cluster, targets: list[int], current_counts: list[int]) -> Drops:
    """Drop what no plan can keep: replicas on drained brokers, beyond the target RF, or
    breaking the rack rule, from the brokers furthest above target."""
    target_count, rack_count = cluster.target_count, cluster.rack_count
    rack_of = cluster.rack_of
    rack_aware = cluster.rack_aware
    factors = cluster.replication_factors
    load = list(current_counts[:target_count])
    work: dict[int, list[int]] = {}
    dropped_from: dict[int, list[int]] = {}
    keep_total = 0
    for p, replica_list in enumerate(cluster.replicas):
        factor = factors[p]
        if len(replica_list) == factor and max(replica_list) < target_count:
            if not rack_aware or factor == 1:
                keep_total += factor
                continue
            if len({rack_of[b] for b in replica_list}) >= (factor if factor < rack_count else rack_count):
                keep_total += factor
                continue
        on_target = [b for b in replica_list if b < target_count]
        keep = choose_keep(cluster, on_target, factor, load, targets)
        keep_total += len(keep)
        new = [b if b in keep else HOLE for b in replica_list]
        excess = len(new) - factor
        pos = len(new) - 1
        while excess > 0:  # a lower RF: the last holes go
            if new[pos] == HOLE:
                del new[pos]
                excess -= 1
            pos -= 1
        new.extend([HOLE] * (factor - len(new)))
        for b in on_target:
            if b not in keep:
                load[b] -= 1
                dropped_from.setdefault(b, []).append(p)
        work[p] = new
    return Drops(load, work, dropped_from, keep_total)


def choose_keep(cluster: Cluster, on_target: list[int], factor: int, load: list[int], targets: list[int]) -> set[int]:
    """Largest keepable subset of ``on_target``; drops fall on the most overloaded brokers."""
    if not cluster.rack_aware:
        if len(on_target) <= factor:
            return set(on_target)
        ranked = sorted(on_target, key=lambda b: (load[b] - targets[b], -on_target.index(b)))
        return set(ranked[:factor])
    rack_count, rack_of = cluster.rack_count, cluster.rack_of
    by_rack: dict[int, list[tuple[int, int, int]]] = {}
    for pos, b in enumerate(on_target):
        by_rack.setdefault(rack_of[b], []).append((load[b] - targets[b], pos, b))
    firsts: list[tuple[int, int, int]] = []
    extras: list[tuple[int, int, int]] = []
    for rack in sorted(by_rack):
        group = sorted(by_rack[rack])
        firsts.append(group[0])
        extras.extend(group[1:])
    firsts.sort()
    if factor <= rack_count:
        chosen = firsts[:factor]
    else:
        limit = min(factor, factor - rack_count + len(firsts))
        extras.sort()
        chosen = firsts + extras[: max(0, limit - len(firsts))]
    return {entry[2] for entry in chosen}


def improve_drops(cluster: Cluster, targets: list[int], drops: Drops) -> None:
    """Re-choose which replica each partition drops so that fewer kept replicas land on
    brokers already at target: augmenting paths from a broker below target (that lost a
    replica) to one above target, swapping the dropped and the kept replica of a partition
    at every step. Each path saves one move. Changes ``drops`` in place."""
    load = drops.load
    # bounded work (a few passes over the drops): each pass fixes many units at once,
    # and the last units are the most expensive to find
    budget = 40 * sum(len(partitions) for partitions in drops.dropped_from.values()) + 10000
    while budget > 0 and any(load[b] > targets[b] for b in range(cluster.target_count)):
        parent, sinks, budget = _swap_tree(cluster, targets, drops, budget)
        if not _apply_swap_paths(targets, drops, parent, sinks):
            return


def _swap_tree(
    cluster: Cluster, targets: list[int], drops: Drops, budget: int
) -> tuple[dict[int, DropStep | None], list[int], int]:
    """Breadth-first tree from the brokers below target that lost a replica: broker x is
    reached from d when a partition dropped its replica on d and keeps one on x (giving
    d's back and dropping x's instead keeps the list rack-valid). Returns the tree, the
    reached brokers above target and the budget left."""
    load, work, dropped_from = drops.load, drops.work, drops.dropped_from
    factors = cluster.replication_factors
    sources = [b for b in sorted(dropped_from) if load[b] < targets[b] and dropped_from[b]]
    parent: dict[int, DropStep | None] = {b: None for b in sources}
    queue = deque(sources)
    sinks = []
    while queue:
        dropped = queue.popleft()
        budget -= len(dropped_from.get(dropped, ()))
        for p in dropped_from.get(dropped, ()):
            replica_list = work[p]
            if dropped in replica_list:
                continue
            for pos, kept in enumerate(replica_list):
                if kept < 0 or kept in parent:
                    continue
                trial = list(replica_list)
                trial[pos] = dropped
                if not extendable(cluster, trial, factors[p]):
                    continue
                parent[kept] = (dropped, p, pos)
                if load[kept] > targets[kept]:
                    sinks.append(kept)
                queue.append(kept)
    return parent, sinks, budget


def _apply_swap_paths(targets: list[int], drops: Drops, parent: dict[int, DropStep | None], sinks: list[int]) -> bool:
    """Swap along every tree path still intact (one tree serves many); True if any was."""
    load, work, dropped_from = drops.load, drops.work, drops.dropped_from
    improved = False
    used: set[int] = set()
    for sink in sinks:
        steps = []
        broker = sink
        step = parent[broker]
        while step is not None:
            dropped, p, pos = step
            steps.append((dropped, p, pos, broker))
            broker = dropped
            step = parent[broker]
        if load[sink] <= targets[sink] or load[broker] >= targets[broker]:
            continue
        if any(p in used or work[p][pos] != kept or dropped in work[p] for dropped, p, pos, kept in steps):
            continue
        for dropped, p, pos, kept in steps:
            work[p][pos] = dropped
            load[dropped] += 1
            load[kept] -= 1
            dropped_from[dropped].remove(p)
            dropped_from.setdefault(kept, []).append(p)
            used.add(p)
        improved = True
    return improved
