# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``bounds``: how many replicas any balanced, rack-valid plan can keep, hence the
least number of moves it needs (``lower_bound``; the parts are defined in the ``reassignment``
module docstring).

``RackKeepBound`` also steers the targets stage: among equally balanced rack loads it prefers
the ones that let brokers keep the most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import Cluster

KeepFunction = Callable[[int, int], int]  # (rack, load) -> replicas its brokers can keep


class TargetGroup(NamedTuple):
    """Racks whose broker targets touch (differ by at most one), so they can trade the
    ``floor``/``ceil`` extras at no cost."""

    low: int  # smallest broker target in the group
    high: int  # largest broker target in the group
    racks: list[int]


@dataclass
class Bounds:
    """The parts of the lower bound (``stats['lower_bound_detail']``)."""

    replicas_to_place: int
    keepable_by_brokers: int
    keepable_by_partitions: int
    moves_into_short_brokers: int | None  # only when the drops left brokers below target

    def lower_bound(self) -> int:
        """Moves every balanced, rack-valid plan needs."""
        bound = max(self.replicas_to_place - self.keepable_by_brokers, self.replicas_to_place - self.keepable_by_partitions)
        if self.moves_into_short_brokers is not None:
            bound = max(bound, self.moves_into_short_brokers)
        return bound


def rack_keep(load: int, counts_sorted: list[int]) -> int:
    """Most current replicas rack members can keep if the rack holds ``load`` replicas.

    ``counts_sorted``: the members' replica counts today, largest first (the largest counts
    get the ``ceil`` targets)."""
    size = len(counts_sorted)
    base, extra = divmod(load, size)
    total = 0
    for pos, count in enumerate(counts_sorted):
        cap = base + 1 if pos < extra else base
        total += count if count < cap else cap
    return total


class RackKeepBound:
    """Upper bound on the replicas a rack's brokers keep if the rack holds a given load.

    Three limits, the smallest wins: each broker keeps at most its target (``rack_keep``);
    partitions with RF >= racks that have no keepable replica in the rack force a new
    replica there (``pinned``); and those wide partitions leave only ``load - (their
    number)`` places in the rack for replicas of the other partitions.
    """

    __slots__ = ("counts_by_rack", "pinned", "wide_count", "split_by_rack")

    def __init__(self, cluster: Cluster, current_counts: list[int]) -> None:
        self.counts_by_rack = [sorted((current_counts[b] for b in members), reverse=True) for members in cluster.rack_members]
        self.pinned = pinned_new_replicas(cluster)
        self.wide_count = 0
        # per rack, per broker: (replicas of wide partitions, replicas of the others) today
        self.split_by_rack: list[list[tuple[int, int]]] | None = None
        if cluster.rack_aware:
            target_count, rack_count = cluster.target_count, cluster.rack_count
            factors = cluster.replication_factors
            self.wide_count = sum(1 for factor in factors if factor >= rack_count)
            wide_held = [0] * target_count
            for p, replica_list in enumerate(cluster.replicas):
                if factors[p] >= rack_count:
                    for b in replica_list:
                        if b < target_count:
                            wide_held[b] += 1
            self.split_by_rack = [
                [(wide_held[b], current_counts[b] - wide_held[b]) for b in members] for members in cluster.rack_members
            ]

    def keepable(self, rack: int, load: int) -> int:
        best = min(rack_keep(load, self.counts_by_rack[rack]), load - self.pinned[rack])
        if self.split_by_rack is not None:
            best = min(best, self._shared_budget(self.split_by_rack[rack], load))
        return best

    def _shared_budget(self, split: list[tuple[int, int]], load: int) -> int:
        """Wide partitions' replicas count up to the broker cap; the others only within the
        room the wide partitions leave in the rack."""
        cap = load // len(split) + 1
        base = useful = 0
        for wide, narrow in split:
            base += wide if wide < cap else cap
            room = cap - wide
            if room > 0:
                useful += narrow if narrow < room else room
        return base + min(useful, max(0, load - self.wide_count))


def pinned_new_replicas(cluster: Cluster) -> list[int]:
    """Per rack, replicas every valid plan must place new there: partitions with RF >= racks
    have to cover every rack, and some have no replica on a target broker of it today."""
    rack_count = cluster.rack_count
    pinned = [0] * rack_count
    if not cluster.rack_aware:
        return pinned
    target_count, rack_of, factors = cluster.target_count, cluster.rack_of, cluster.replication_factors
    for p, replica_list in enumerate(cluster.replicas):
        if factors[p] < rack_count:
            continue
        covered = {rack_of[b] for b in replica_list if b < target_count}
        if len(covered) < rack_count:
            for rack in range(rack_count):
                if rack not in covered:
                    pinned[rack] += 1
    return pinned


def target_groups(cluster: Cluster, targets: list[int]) -> list[TargetGroup]:
    """Racks grouped where their broker targets touch, by ascending targets."""
    spans = sorted((min(targets[b] for b in members), max(targets[b] for b in members), rack) for rack, members in enumerate(cluster.rack_members))
    groups: list[list[int]] = []  # [low, high] per group
    racks: list[list[int]] = []
    for low, high, rack in spans:
        if groups and low <= groups[-1][1] + 1:
            groups[-1][1] = max(groups[-1][1], high)
            racks[-1].append(rack)
        else:
            groups.append([low, high])
            racks.append([rack])
    return [TargetGroup(low, high, members) for (low, high), members in zip(groups, racks)]


def keepable_by_brokers(
    cluster: Cluster, keep: KeepFunction, load_ranges: list[tuple[int, int]], targets: list[int], groups: list[TargetGroup], current_counts: list[int]
) -> int:
    """Upper bound on replicas kept over every balanced target vector."""
    per_rack = sum(max(keep(rack, load) for load in range(low, high + 1)) for rack, (low, high) in enumerate(load_ranges))
    pooled = 0
    for group in groups:
        brokers = [b for rack in group.racks for b in cluster.rack_members[rack]]
        counts = sorted((current_counts[b] for b in brokers), reverse=True)
        shares = sorted((targets[b] for b in brokers), reverse=True)
        pooled += sum(min(count, share) for count, share in zip(counts, shares))
    return min(per_rack, pooled)


def moves_into_short_brokers(cluster: Cluster, targets: list[int], groups: list[TargetGroup], load: list[int]) -> int | None:
    """Moves every balanced plan needs into the brokers left below target by the drops.

    For a set X of target brokers, replicas kept in X are at most
    C(X) = sum over partitions of min(replicas in X today, target RF), and X ends with
    at least T(X) replicas (its share of the balanced targets, with the floor/ceil extras
    placed elsewhere where they may go), so at least T(X) - C(X) replicas move into X.
    Adding this for X and for the other target brokers bounds the moves from below.
    None when no broker, or every broker, is below target.
    """
    target_count = cluster.target_count
    inside = [load[b] < targets[b] for b in range(target_count)]
    if not any(inside) or all(inside):
        return None
    keep_in = keep_out = 0
    factors = cluster.replication_factors
    for p, replica_list in enumerate(cluster.replicas):
        factor = factors[p]
        held_in = held_out = 0
        for b in replica_list:
            if b < target_count:
                if inside[b]:
                    held_in += 1
                else:
                    held_out += 1
        keep_in += held_in if held_in < factor else factor
        keep_out += held_out if held_out < factor else factor
    need = 0
    for side, kept in ((True, keep_in), (False, keep_out)):
        low = 0
        for group in groups:
            members = [b for rack in group.racks for b in cluster.rack_members[rack]]
            total = sum(targets[b] for b in members)
            mine = [b for b in members if inside[b] == side]
            low += max(min(targets[b] for b in members) * len(mine), total - group.high * (len(members) - len(mine)))
        need += max(0, low - kept)
    return need


def larger_bound(first: int | None, second: int | None) -> int | None:
    """The larger of two optional bounds (None when both are None)."""
    if second is not None and (first is None or second > first):
        return second
    return first
