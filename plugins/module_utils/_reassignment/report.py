# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``report``: the reassignment JSON of the changed partitions and the statistics."""

from __future__ import annotations

from typing import Any, Sequence

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import Bytes, Cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.inputs import Request
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.limit import Limited
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.placement import Placement


def rack_violations(assignment: list[list[int]], racks: dict[int, str | None]) -> int:
    """Count partitions of ``assignment`` (list of replica lists) that break the rack rule.

    ``racks`` maps broker id to rack (or None everywhere for no rack rule). A broker missing
    from ``racks`` is taken to be on a rack of its own.
    """
    known = {rack for rack in racks.values() if rack is not None}
    n_racks = len(known)
    if not n_racks:
        return 0
    bad = 0
    for replicas in assignment:
        seen = {racks.get(b) or ("?", b) for b in replicas}
        if len(seen) < min(len(replicas), n_racks):
            bad += 1
    return bad


def count_violations(replica_lists: list[list[int]], cluster: Cluster) -> int:
    """Partitions breaking the rack rule, by broker index (a drained broker is a rack of its own)."""
    if not cluster.rack_aware:
        return 0
    rack_count = cluster.rack_count
    bad = 0
    rack = cluster.rack_of.__getitem__
    for replica_list in replica_lists:
        size = len(replica_list)
        if size > 1 and len(set(map(rack, replica_list))) < (size if size < rack_count else rack_count):
            bad += 1
    return bad


def spread(values: Sequence[Bytes]) -> Bytes:
    return (max(values) - min(values)) if values else 0


def _by_id(cluster: Cluster, values: Sequence[Bytes], everyone: bool = False) -> dict[int, Any]:
    """``{broker id: value}`` for the target brokers (``everyone``: and drained ones holding any)."""
    ids, target_count = cluster.target_ids, cluster.target_count
    out = {ids[b]: values[b] for b in range(target_count)}
    if everyone:
        for b in range(target_count, len(cluster.broker_ids)):
            if values[b]:
                out[cluster.broker_ids[b]] = values[b]
        out = dict(sorted(out.items()))
    return out


def _proposed(request: Request, cluster: Cluster, final: list[list[int]]) -> tuple[list[dict[str, Any]], int, int, Bytes]:
    """(reassignment entries of the changed partitions, replica moves, leadership changes, bytes moved)."""
    to_id = cluster.broker_ids.__getitem__
    replicas, sizes, planned = cluster.replicas, request.sizes, request.planned
    proposed = []
    moves = leadership = 0
    bytes_moved: Bytes = 0
    for p, new in enumerate(final):
        old = replicas[p]
        if new is old or new == old:
            continue
        topic, partition, _old_ids = planned[p]
        proposed.append({"topic": topic, "partition": partition, "replicas": list(map(to_id, new))})
        added = 0
        for b in new:
            if b not in old:
                added += 1
        moves += added
        if sizes is not None:
            bytes_moved += added * sizes[p]
        if new[0] != old[0]:
            leadership += 1
    return proposed, moves, leadership, bytes_moved


def build_report(request: Request, cluster: Cluster, placement: Placement, limited: Limited, final: list[list[int]]) -> dict[str, Any]:
    """Stage ``report``: ``{"proposed": reassignment JSON, "stats": {...}}``."""
    proposed, moves, leadership, bytes_moved = _proposed(request, cluster, final)
    broker_count = len(cluster.broker_ids)
    count_after = [0] * broker_count
    lead_after = [0] * broker_count
    lead_before = [0] * broker_count
    replicas = cluster.replicas
    for p, replica_list in enumerate(final):
        lead_after[replica_list[0]] += 1
        lead_before[replicas[p][0]] += 1
        for b in replica_list:
            count_after[b] += 1
    target_count, target_ids = cluster.target_count, cluster.target_ids
    count_before = placement.targets.current_counts
    violations_before = count_violations(cluster.replicas, cluster)
    lower = placement.bounds.lower_bound()
    full_moves = limited.full_moves
    # full_moves is only set with max_moves; it is complete when the whole plan fits
    complete = full_moves is None or (request.max_moves is not None and full_moves <= request.max_moves)
    targets = {target_ids[b]: placement.replica_targets[b] for b in range(target_count)}
    stats: dict[str, Any] = {
        "complete": complete,
        "rack_aware": cluster.rack_aware,
        "racks": {
            name: [target_ids[b] for b in cluster.rack_members[j]] for j, name in enumerate(cluster.rack_names)
        } if cluster.rack_aware else {},
        "balance_regime": "global" if spread(list(targets.values())) <= 1 else "per_rack",
        "planned_partitions": cluster.partition_count,
        "planned_replicas": placement.targets.replicas_to_place,
        "excluded_partitions": len(request.others),
        "unplanned_replicas_on_removed_brokers": sum(1 for entry in request.others for b in entry[2] if b not in request.racks_by_id),
        "removed_brokers": list(cluster.removed_ids),
        "added_brokers": [target_ids[b] for b in range(target_count) if not count_before[b]],
        "replica_moves": moves,
        "lower_bound": lower,
        "lower_bound_detail": {
            "replicas_to_place": placement.bounds.replicas_to_place,
            "keepable_by_brokers": placement.bounds.keepable_by_brokers,
            "keepable_by_partitions": placement.bounds.keepable_by_partitions,
            "moves_into_short_brokers": placement.bounds.moves_into_short_brokers,
        },
        "moves_over_lower_bound": (moves / lower) if lower else (1.0 if moves == 0 else None),
        "remaining_moves": 0 if complete or full_moves is None else full_moves - moves,
        "partitions_changed": len(proposed),
        "leadership_changes": leadership,
        "replicas": _by_id(cluster, count_after, everyone=True),
        "leaders": _by_id(cluster, lead_after, everyone=True),
        "replica_targets": targets,
        "rack_loads": {cluster.rack_names[j]: load for j, load in enumerate(placement.targets.rack_loads)} if cluster.rack_aware else {},
        "balanced": all(count_after[b] == placement.replica_targets[b] for b in range(target_count)) and not any(count_after[target_count:]),
        "replica_spread": spread(count_after[:target_count]),
        "leader_spread": spread(lead_after[:target_count]),
        "rack_violations": {"before": violations_before, "after": count_violations(final, cluster)},
        "unrouted_holes": placement.unrouted_holes,
        "current": {
            "replicas": _by_id(cluster, count_before, everyone=True),
            "leaders": _by_id(cluster, lead_before, everyone=True),
            "replica_spread": spread(count_before[:target_count]),
            "leader_spread": spread(lead_before[:target_count]),
            "rack_violations": violations_before,
        },
    }
    if request.sizes is not None:
        stats["bytes"] = _bytes_stats(cluster, request.sizes, final, bytes_moved)
    return {"proposed": {"version": 1, "partitions": proposed}, "stats": stats}


def _bytes_stats(cluster: Cluster, sizes: list[Bytes], final: list[list[int]], bytes_moved: Bytes) -> dict[str, Any]:
    broker_count, target_count = len(cluster.broker_ids), cluster.target_count
    bytes_before: list[Bytes] = [0] * broker_count
    bytes_after: list[Bytes] = [0] * broker_count
    replicas = cluster.replicas
    for p, replica_list in enumerate(final):
        size = sizes[p]
        for b in replicas[p]:
            bytes_before[b] += size
        for b in replica_list:
            bytes_after[b] += size
    return {
        "moved": bytes_moved,
        "per_broker": _by_id(cluster, bytes_after),
        "spread_before": spread(bytes_before[:target_count]),
        "spread_after": spread(bytes_after[:target_count]),
    }
