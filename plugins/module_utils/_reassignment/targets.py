# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``targets``: how many replicas each rack, then each broker, should hold.

Rack loads come from exchange descent on the sum of squares over the loads the rack rule
allows for the mix of replication factors (``RackModel``: an M-convex set, so the local
optimum is global); among optimal loads, ties go towards keeping replicas where they are.
Inside a rack, the ``ceil`` targets go to the brokers holding most today.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterator

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.bounds import (
    KeepFunction,
    RackKeepBound,
    TargetGroup,
    keepable_by_brokers,
    target_groups,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import Cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.errors import InfeasiblePlanError

MAX_RACKS_FOR_WIDE_PARTITIONS = 16  # RF above the rack count: the model enumerates rack subsets


@dataclass
class Targets:
    """The balanced replica counts the plan aims at, and what they imply for the bound."""

    current_counts: list[int]  # replicas of planned partitions per broker index today
    replicas_to_place: int  # sum of the target replication factors
    replica_targets: list[int]  # per target broker
    rack_loads: list[int]  # per rack: the sum of its brokers' targets
    groups: list[TargetGroup]  # racks whose targets touch
    keepable_by_brokers: int  # bound on replicas kept over every balanced target vector


class RackModel:
    """Which per-rack replica loads the rack rule allows, for a multiset of RFs.

    Each partition of RF r contributes to rack j between ``lo`` and ``hi`` replicas
    (r <= R: 0..1; r > R: 1..min(size_j, r-R+1)) and r in total. The loads the whole set of
    partitions can produce are exactly the integer vectors L with sum N and
    ``L(S) <= f(S)`` for every set of racks S, where f sums, per partition,
    ``min(hi(S), r - lo(outside S))`` (a sum of such box-and-sum sets is again one).
    With every RF <= R, f only depends on the size of S (``caps_by_size``); otherwise it is
    tabulated for every subset (``caps_by_subset``).
    """

    __slots__ = ("rack_count", "rack_sizes", "total", "symmetric", "caps_by_size", "caps_by_subset")

    def __init__(self, rack_sizes: list[int], rf_counts: Counter[int]) -> None:
        self.rack_count = rack_count = len(rack_sizes)
        self.rack_sizes = rack_sizes
        classes = sorted(rf_counts.items())
        self.total = sum(factor * count for factor, count in classes)
        self.symmetric = all(factor <= rack_count for factor, _count in classes)
        self.caps_by_size: list[int] = []
        self.caps_by_subset: list[int] = []
        if self.symmetric:
            self.caps_by_size = [sum(count * min(size, factor) for factor, count in classes) for size in range(rack_count + 1)]
            return
        if rack_count > MAX_RACKS_FOR_WIDE_PARTITIONS:
            raise InfeasiblePlanError(
                "replication factors above the number of racks are supported for at most "
                "16 racks (got %d racks)" % rack_count
            )
        caps = [0] * (1 << rack_count)
        for mask in range(1 << rack_count):
            members = [j for j in range(rack_count) if mask >> j & 1]
            size = len(members)
            value = 0
            for factor, count in classes:
                if factor <= rack_count:
                    value += count * min(size, factor)
                else:
                    high = sum(min(rack_sizes[j], factor - rack_count + 1) for j in members)
                    value += count * min(high, factor - (rack_count - size))
            caps[mask] = value
        self.caps_by_subset = caps

    def feasible(self, loads: list[int]) -> bool:
        if sum(loads) != self.total or min(loads) < 0:
            return False
        if self.symmetric:
            acc = 0
            for size, value in enumerate(sorted(loads, reverse=True), 1):
                acc += value
                if acc > self.caps_by_size[size]:
                    return False
            return True
        sums = self._subset_sums(loads)
        caps = self.caps_by_subset
        return all(sums[mask] <= caps[mask] for mask in range(1 << self.rack_count))

    def _subset_sums(self, loads: list[int]) -> list[int]:
        size = 1 << self.rack_count
        sums = [0] * size
        for mask in range(1, size):
            low = mask & -mask
            sums[mask] = sums[mask ^ low] + loads[low.bit_length() - 1]
        return sums

    def capacity(self, loads: list[int], src: int, dst: int) -> int:
        """How many units can move from rack ``src`` to rack ``dst`` staying feasible."""
        rack_count = self.rack_count
        if self.symmetric:
            others = sorted((loads[j] for j in range(rack_count) if j not in (src, dst)), reverse=True)
            best = None
            acc = loads[dst]
            for size in range(1, rack_count):
                if size > 1:
                    acc += others[size - 2]
                slack = self.caps_by_size[size] - acc
                if best is None or slack < best:
                    best = slack
            return max(0, best if best is not None else 0)
        sums = self._subset_sums(loads)
        caps = self.caps_by_subset
        bit_dst = 1 << dst
        bit_src = 1 << src
        # the subsets holding dst but not src (the subset {dst} at least)
        return max(0, min(caps[mask] - sums[mask] for mask in range(1 << rack_count) if mask & bit_dst and not mask & bit_src))

    def start(self, rf_counts: Counter[int]) -> list[int]:
        """A feasible load vector: every RF class spread evenly over the racks."""
        rack_count, rack_sizes = self.rack_count, self.rack_sizes
        loads = [0] * rack_count
        for factor, count in sorted(rf_counts.items()):
            if factor <= rack_count:
                base, extra = divmod(count * factor, rack_count)
                for j in range(rack_count):
                    loads[j] += base + (1 if j < extra else 0)
                continue
            caps = [count * (min(rack_sizes[j], factor - rack_count + 1) - 1) for j in range(rack_count)]
            left = count * (factor - rack_count)
            add = [0] * rack_count
            while left:
                room = [j for j in range(rack_count) if add[j] < caps[j]]
                share = max(1, left // len(room))
                for j in room:
                    step = min(share, caps[j] - add[j], left)
                    add[j] += step
                    left -= step
                    if not left:
                        break
            for j in range(rack_count):
                loads[j] += count + add[j]
        return loads


def split_cost(load: int, size: int) -> int:
    """Sum of squares of ``load`` replicas spread as evenly as possible over ``size`` brokers."""
    base, extra = divmod(load, size)
    return (size - extra) * base * base + extra * (base + 1) * (base + 1)


def descend(model: RackModel, loads: list[int]) -> list[int]:
    """Steepest exchange descent on the sum of squares (M-convex: local optimum is global)."""
    rack_count, rack_sizes = model.rack_count, model.rack_sizes
    while True:
        best = None
        for i in range(rack_count):
            if not loads[i]:
                continue
            level_i = (loads[i] - 1) // rack_sizes[i]
            for j in range(rack_count):
                if i == j:
                    continue
                gain = level_i - loads[j] // rack_sizes[j]
                if gain <= 0 or (best is not None and gain <= best[0]):
                    continue
                cap = model.capacity(loads, i, j)
                if cap > 0:
                    best = (gain, i, j, cap)
        if best is None:
            return loads
        i, j, cap = best[1:]
        low, high = 1, cap
        while low < high:  # largest d whose d-th unit still improves
            mid = (low + high + 1) // 2
            if (loads[i] - mid) // rack_sizes[i] > (loads[j] + mid - 1) // rack_sizes[j]:
                low = mid
            else:
                high = mid - 1
        loads[i] -= low
        loads[j] += low


def zero_cost_pairs(model: RackModel, loads: list[int]) -> Iterator[tuple[int, int]]:
    """Rack pairs (i, j) where one unit moving from i to j leaves the sum of squares unchanged."""
    rack_count, rack_sizes = model.rack_count, model.rack_sizes
    for i in range(rack_count):
        if not loads[i]:
            continue
        for j in range(rack_count):
            if i != j and (loads[i] - 1) // rack_sizes[i] == loads[j] // rack_sizes[j]:
                yield i, j


def balanced_rack_loads(model: RackModel, rf_counts: Counter[int], keep: KeepFunction, current_loads: list[int] | None) -> list[int]:
    """Balanced rack loads; among the optimal ones, one that lets brokers keep the most.

    ``keep(rack, load)`` bounds how many current replicas the rack keeps if it holds ``load``.
    """
    loads = descend(model, model.start(rf_counts))
    best_cost = sum(split_cost(loads[j], model.rack_sizes[j]) for j in range(model.rack_count))
    if (
        current_loads is not None
        and model.feasible(current_loads)
        and sum(split_cost(current_loads[j], model.rack_sizes[j]) for j in range(model.rack_count)) == best_cost
    ):
        loads = list(current_loads)
    for _round in range(4 * sum(model.rack_sizes) + 4):
        moved = False
        for i, j in zero_cost_pairs(model, loads):
            before = keep(i, loads[i]) + keep(j, loads[j])
            after = keep(i, loads[i] - 1) + keep(j, loads[j] + 1)
            if after > before and model.capacity(loads, i, j) >= 1:
                loads[i] -= 1
                loads[j] += 1
                moved = True
                break
        if not moved:
            break
    return loads


def load_ranges(model: RackModel, loads: list[int]) -> list[tuple[int, int]]:
    """Per rack, the least and most it holds over all optimal (balanced) load vectors."""
    ranges = []
    for rack in range(model.rack_count):
        most = _extreme_load(model, loads, rack, grow=True)
        least = _extreme_load(model, loads, rack, grow=False)
        ranges.append((least, most))
    return ranges


def _extreme_load(model: RackModel, loads: list[int], rack: int, grow: bool) -> int:
    """Move units into (``grow``) or out of ``rack`` along zero-cost exchanges while possible."""
    current = list(loads)
    for _step in range(sum(model.rack_sizes) + 1):
        step = None
        for i, j in zero_cost_pairs(model, current):
            if grow and j == rack and model.capacity(current, i, rack) >= 1:
                step = (i, rack)
                break
            if not grow and i == rack and model.capacity(current, rack, j) >= 1:
                step = (rack, j)
                break
        if step is None:
            break
        current[step[0]] -= 1
        current[step[1]] += 1
    return current[rack]


def compute_targets(cluster: Cluster) -> Targets:
    """Per-broker replica targets for the planned partitions (stage ``targets``)."""
    current_counts = [0] * len(cluster.broker_ids)
    for replica_list in cluster.replicas:
        for b in replica_list:
            current_counts[b] += 1
    total = sum(cluster.replication_factors)
    keep = RackKeepBound(cluster, current_counts).keepable
    if cluster.rack_count == 1:
        loads = [total]
        ranges = [(total, total)]
    else:
        rf_counts = Counter(cluster.replication_factors)
        model = RackModel([len(members) for members in cluster.rack_members], rf_counts)
        current_loads = [sum(current_counts[b] for b in members) for members in cluster.rack_members]
        loads = balanced_rack_loads(model, rf_counts, keep, current_loads if sum(current_loads) == total else None)
        ranges = load_ranges(model, loads)
    targets = broker_targets(cluster, loads, current_counts)
    groups = target_groups(cluster, targets)
    return Targets(
        current_counts=current_counts,
        replicas_to_place=total,
        replica_targets=targets,
        rack_loads=loads,
        groups=groups,
        keepable_by_brokers=keepable_by_brokers(cluster, keep, ranges, targets, groups, current_counts),
    )


def broker_targets(cluster: Cluster, rack_loads: list[int], current_counts: list[int]) -> list[int]:
    """Each rack's load split over its brokers, ``ceil`` first to those holding most today."""
    targets = [0] * cluster.target_count
    for rack, members in enumerate(cluster.rack_members):
        base, extra = divmod(rack_loads[rack], len(members))
        order = sorted(members, key=lambda b: (-current_counts[b], b))
        for pos, b in enumerate(order):
            targets[b] = base + 1 if pos < extra else base
    return targets
