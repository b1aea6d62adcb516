# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The indexed cluster every stage reads: brokers, racks and replica lists as small integers.

Brokers are numbered by position: ``0 .. target_count - 1`` are the target brokers (sorted
by id), then come the brokers that hold replicas today but are not targets (being drained).
Racks are numbered ``0 .. rack_count - 1`` by name; without racks there is one rack,
``None``. A replica list being rebuilt holds ``HOLE`` where a replica is still to be placed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

HOLE = -1  # a replica still to be placed, in a replica list being rebuilt

Bytes = Union[int, float]


@dataclass
class Cluster:
    """The planner's input by index; no stage changes it."""

    __slots__ = (
        "target_count", "target_ids", "broker_ids", "removed_ids", "rack_aware", "rack_names",
        "rack_count", "rack_of", "rack_members", "replicas", "replication_factors", "sizes",
    )
    target_count: int  # target brokers: indexes 0 .. target_count - 1
    target_ids: list[int]  # broker id of each target broker, ascending
    broker_ids: list[int]  # broker id of every broker index (targets, then drained brokers)
    removed_ids: list[int]  # ids of the drained brokers (indexes target_count ..)
    rack_aware: bool
    rack_names: list[str | None]  # rack name of each rack index (``[None]`` without racks)
    rack_count: int
    rack_of: list[int]  # rack index of each broker; the i-th drained broker is a rack of its own, -2 - i
    rack_members: list[list[int]]  # target broker indexes of each rack, ascending
    replicas: list[list[int]]  # each planned partition's replica list today, by broker index
    replication_factors: list[int]  # target replication factor of each planned partition
    sizes: list[Bytes] | None  # bytes of each planned partition, when sizes steer the choices

    @property
    def partition_count(self) -> int:
        return len(self.replicas)


def index_cluster(
    racks_by_id: dict[int, str | None], replicas: list[list[int]], replication_factors: list[int], sizes: list[Bytes] | None
) -> Cluster:
    """Number brokers and racks; ``replicas`` are broker id lists, one per planned partition."""
    target_ids = sorted(racks_by_id)
    target_count = len(target_ids)
    target_index = {broker_id: i for i, broker_id in enumerate(target_ids)}
    removed_ids = sorted({broker_id for replica_list in replicas for broker_id in replica_list if broker_id not in target_index})
    broker_ids = target_ids + removed_ids
    index = {broker_id: i for i, broker_id in enumerate(broker_ids)}
    rack_aware = racks_by_id[target_ids[0]] is not None
    rack_names: list[str | None] = [None]
    if rack_aware:  # then every target broker has a rack
        rack_names = [*sorted({rack for rack in map(racks_by_id.__getitem__, target_ids) if rack is not None})]
    rank = {name: j for j, name in enumerate(rack_names)}
    # brokers outside the target set have no known rack: each counts as a rack of its own
    rack_of = [rank[racks_by_id[b]] for b in target_ids] + [-2 - i for i in range(len(removed_ids))]
    rack_members: list[list[int]] = [[] for _name in rack_names]
    for broker in range(target_count):
        rack_members[rack_of[broker]].append(broker)
    get = index.__getitem__
    return Cluster(
        target_count=target_count,
        target_ids=target_ids,
        broker_ids=broker_ids,
        removed_ids=removed_ids,
        rack_aware=rack_aware,
        rack_names=rack_names,
        rack_count=len(rack_names),
        rack_of=rack_of,
        rack_members=rack_members,
        replicas=[list(map(get, replica_list)) for replica_list in replicas],
        replication_factors=replication_factors,
        sizes=sizes,
    )


def extendable(cluster: Cluster, replica_list: list[int], replication_factor: int) -> bool:
    """Can ``replica_list`` (holes allowed) still be completed to a rack-valid replica list?"""
    if not cluster.rack_aware:
        return True
    rack_of = cluster.rack_of
    placed = [rack_of[b] for b in replica_list if b >= 0]
    distinct = len(set(placed))
    if replication_factor <= cluster.rack_count and distinct != len(placed):
        return False
    return distinct + (len(replica_list) - len(placed)) >= min(replication_factor, cluster.rack_count)


def added_replicas(before: list[int], after: list[int]) -> int:
    """Replica moves from ``before`` to ``after``: brokers in ``after`` that were not in ``before``."""
    old = set(before)
    return sum(1 for b in after if b not in old)
