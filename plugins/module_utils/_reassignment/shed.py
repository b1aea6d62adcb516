# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``shed``: brokers above target give up replicas, and every hole gets a rack.

A hole is a replica still to be placed: one a partition dropped (drops stage), or one a
broker above target sheds here. The steps, in order (``shed_surplus``):

1. order each surplus broker's replicas for shedding (followers before leaders; smallest
   partitions first when sizes are given);
2. group the free holes (from the drops) by the racks they may go to;
3. scan surplus brokers for replicas that may leave their rack, per destination rack;
4. route shed replicas and free holes over racks (``routing`` stage);
5. send the free holes to the racks routed;
6. export shed replicas to the racks routed, taking over another broker's export when a
   broker has none left to send (augmenting step);
7. move kept replicas out of a rack where the rack rule forces it (extra moves);
8. shed the rest of each surplus inside its rack, only where a broker below target there
   can take the partition.

The fill stage then places every hole on a broker of its rack.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import HOLE, Bytes, Cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.drops import Drops
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.errors import InfeasiblePlanError
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.routing import (
    HoleGroup,
    RackPair,
    route_holes,
    swap_capacities,
)

Hole = tuple[int, int]  # (partition, position in its new replica list)


@dataclass
class Shed:
    """The holes to fill, by rack, and what each broker still lacks."""

    holes_by_rack: list[list[Hole]]
    deficit: list[int]  # per target broker: replicas it still needs
    unrouted_holes: int  # holes not placed as the rack routing planned (a diagnostic)


class ShedState:
    """What the shed steps share: the replica lists being rebuilt and the bookkeeping of
    which replica was shed where. Every method keeps the fields consistent."""

    __slots__ = (
        "rack_of", "factors", "replicas", "rack_count", "rack_size", "rack_members", "full_mask", "sizes", "work",
        "surplus", "deficit", "quota", "holdings", "incoming", "holes_by_rack", "shed_from", "exported_by",
        "buckets", "candidate_caps", "scanned", "mask_cache", "cursor", "unrouted",
    )

    def __init__(self, cluster: Cluster, work: dict[int, list[int]], targets: list[int], load: list[int]) -> None:
        target_count, rack_count = cluster.target_count, cluster.rack_count
        self.rack_of = cluster.rack_of
        self.factors = cluster.replication_factors
        self.replicas = cluster.replicas
        self.rack_count = rack_count
        self.rack_members = cluster.rack_members
        self.rack_size = [len(members) for members in cluster.rack_members]
        self.full_mask = (1 << rack_count) - 1
        self.sizes: list[Bytes] | None = cluster.sizes
        self.work = work  # partition -> new replica list (HOLE where one is to be placed)
        self.surplus = [max(0, load[b] - targets[b]) for b in range(target_count)]
        self.deficit = [max(0, targets[b] - load[b]) for b in range(target_count)]
        self.quota = list(self.surplus)  # replicas each broker still has to shed
        self.holdings = shed_order(cluster, work, self.surplus)
        self.incoming: dict[int, list[int]] = {}  # partition -> racks its holes are promised to
        self.holes_by_rack: list[list[Hole]] = [[] for _rack in range(rack_count)]
        self.shed_from: set[tuple[int, int]] = set()  # (partition, broker) shed
        self.exported_by: dict[tuple[int, int], tuple[int, int]] = {}  # (partition, rack) -> (broker, position)
        self.buckets: dict[int, dict[int, list[int]]] = {}  # scanned broker -> rack mask -> partitions
        self.candidate_caps: dict[RackPair, int] = {}  # (rack, other) -> scanned replicas that may go there
        self.scanned = [0] * rack_count  # per rack: surplus of its scanned brokers
        self.mask_cache: dict[int, int] = {}
        self.cursor: dict[tuple[int, int, int], int] = {}  # (broker, mask, rack) -> next candidate
        self.unrouted = 0

    def rack_mask(self, p: int) -> int:
        """Racks the placed replicas of ``p`` are on, as a bit mask."""
        mask = 0
        rack_of = self.rack_of
        for b in self.work.get(p, self.replicas[p]):
            if b >= 0:
                mask |= 1 << rack_of[b]
        return mask

    def in_rack(self, p: int, rack: int) -> int:
        """Replicas of ``p`` in ``rack``: placed ones and holes promised to it."""
        rack_of = self.rack_of
        count = sum(1 for b in self.work.get(p, self.replicas[p]) if b >= 0 and rack_of[b] == rack)
        return count + self.incoming.get(p, []).count(rack)

    def hole_options(self, p: int, holes_left: int) -> list[int]:
        """Racks that can take the next replica of ``p`` without breaking the rack rule."""
        used = self.rack_mask(p)
        for rack in self.incoming.get(p, ()):
            used |= 1 << rack
        rack_count = self.rack_count
        missing = [rack for rack in range(rack_count) if not used >> rack & 1]
        if self.factors[p] <= rack_count or len(missing) >= holes_left:
            return missing
        return [rack for rack in range(rack_count) if self.in_rack(p, rack) < self.rack_size[rack]]

    def promised(self, p: int, rack: int) -> bool:
        return rack in self.incoming.get(p, ())

    def take(self, p: int, broker: int, dest: int) -> None:
        """Shed the replica of ``p`` on ``broker``; its hole goes to rack ``dest``."""
        replica_list = self.work.get(p)
        if replica_list is None:
            replica_list = list(self.replicas[p])
            self.work[p] = replica_list
        pos = replica_list.index(broker)
        replica_list[pos] = HOLE
        self.quota[broker] -= 1
        self.shed_from.add((p, broker))
        self.incoming.setdefault(p, []).append(dest)
        self.holes_by_rack[dest].append((p, pos))
        if dest != self.rack_of[broker]:
            self.exported_by[(p, dest)] = (broker, pos)

    def untake(self, p: int, broker: int, pos: int, dest: int) -> None:
        """Undo ``take`` of an export."""
        self.work[p][pos] = broker
        self.quota[broker] += 1
        self.shed_from.discard((p, broker))
        self.incoming[p].remove(dest)
        self.holes_by_rack[dest].remove((p, pos))
        del self.exported_by[(p, dest)]

    def can_move(self, p: int, broker: int, rack: int, dest: int) -> bool:
        """May the replica of ``p`` on ``broker`` (in ``rack``) move to rack ``dest``?"""
        if (p, broker) in self.shed_from or self.promised(p, dest):
            return False
        if self.factors[p] <= self.rack_count:
            return not self.rack_mask(p) >> dest & 1
        return self.in_rack(p, rack) >= 2 and self.in_rack(p, dest) < self.rack_size[dest]

    def scan(self, broker: int, rack: int) -> None:
        """Bucket the broker's replicas by the racks their partition already uses."""
        self.scanned[rack] += self.surplus[broker]
        rack_count, rack_of = self.rack_count, self.rack_of
        per_mask: dict[int, list[int]] = {}
        for p in self.holdings[broker]:
            if self.factors[p] <= rack_count:
                key = self.mask_cache.get(p)
                if key is None:
                    key = self.mask_cache[p] = self.rack_mask(p)
            else:
                same = sum(1 for b in self.work.get(p, self.replicas[p]) if b >= 0 and rack_of[b] == rack)
                key = 0 if same >= 2 else self.full_mask
            per_mask.setdefault(key, []).append(p)
        self.buckets[broker] = per_mask
        caps = self.candidate_caps
        for key, partitions in per_mask.items():
            for other in range(rack_count):
                if other != rack and not key >> other & 1:
                    caps[(rack, other)] = caps.get((rack, other), 0) + len(partitions)

    def next_candidate(self, broker: int, key: int, rack: int, dest: int) -> int | None:
        """Next replica on ``broker`` (bucket ``key``) that may move to rack ``dest``; skipped
        ones stay skipped for ``dest`` (what makes them unfit only becomes more true)."""
        partitions = self.buckets[broker][key]
        i = self.cursor.get((broker, key, dest), 0)
        while i < len(partitions) and not self.can_move(partitions[i], broker, rack, dest):
            i += 1
        self.cursor[(broker, key, dest)] = i
        return partitions[i] if i < len(partitions) else None

    def fresh(self, broker: int, dest: int) -> int | None:
        """Any replica on ``broker`` that may still go to rack ``dest``."""
        rack = self.rack_of[broker]
        for key in sorted(self.buckets.get(broker, ())):
            if not key >> dest & 1:
                candidate = self.next_candidate(broker, key, rack, dest)
                if candidate is not None:
                    return candidate
        return None

    def steal(self, broker: int, rack: int, dest: int) -> bool:
        """``broker`` (in ``rack``) found no replica to send to ``dest``: take over a partition
        another broker already sends there and let that one send a fresh one instead."""
        for key in sorted(self.buckets[broker]):
            if key >> dest & 1:
                continue
            for p in self.buckets[broker][key]:
                owner = self.exported_by.get((p, dest))
                if owner is None or (p, broker) in self.shed_from:
                    continue
                other, pos = owner
                self.untake(p, other, pos, dest)
                if self.can_move(p, broker, rack, dest):
                    replacement = self.fresh(other, dest)
                    if replacement is not None and replacement != p:
                        self.take(p, broker, dest)
                        self.take(replacement, other, dest)
                        return True
                self.take(p, other, dest)  # put the other broker's export back as it was
        return False


def shed_order(cluster: Cluster, work: dict[int, list[int]], surplus: list[int]) -> dict[int, list[int]]:
    """Per broker above target, its partitions in the order to shed them: followers before
    leaders (leadership mostly stays put, reordering rebalances it), then with sizes the
    smallest partitions first."""
    target_count = cluster.target_count
    holdings: dict[int, list[int]] = {b: [] for b in range(target_count) if surplus[b]}
    if not holdings:
        return holdings
    led: dict[int, list[int]] = {b: [] for b in holdings}
    # one slot per broker index, and one more for HOLE (-1) as a leader
    padding: list[list[int] | None] = [None] * (len(cluster.broker_ids) - target_count + 1)
    follow_of = [holdings.get(b) for b in range(target_count)] + padding
    lead_of = [led.get(b) for b in range(target_count)] + padding
    for p, replica_list in enumerate(cluster.replicas):
        current = work.get(p, replica_list)
        got = lead_of[current[0]]
        if got is not None:
            got.append(p)
        for b in current[1:]:
            got = follow_of[b]
            if got is not None:
                got.append(p)
    sizes = cluster.sizes
    for b, partitions in holdings.items():
        partitions.extend(led[b])
        if sizes is not None:
            partitions.sort(key=sizes.__getitem__)
    return holdings


def shed_surplus(cluster: Cluster, targets: list[int], replicas_to_place: int, drops: Drops) -> Shed:
    """Stage ``shed``: decide every replica that moves, and the rack it moves to."""
    state = ShedState(cluster, drops.work, targets, drops.load)
    shed_by_rack = [sum(state.surplus[b] for b in members) for members in cluster.rack_members]
    deficit_by_rack = [sum(state.deficit[b] for b in members) for members in cluster.rack_members]
    free, pending = group_free_holes(state)
    groups = sorted(free)
    free_total = sum(len(partitions) * group.holes for group, partitions in free.items())
    scan_candidates(state, shed_by_rack, deficit_by_rack, free_total)
    routing = route_holes(
        cluster.rack_count, shed_by_rack, deficit_by_rack, state.scanned, state.candidate_caps, groups,
        [len(free[group]) for group in groups], replicas_to_place, lambda: swap_capacities(cluster, state.work),
    )
    place_free_holes(state, groups, free, pending, routing.group_to_rack)
    swaps = routing.swaps
    for pair in sorted(routing.exports, key=lambda pair: (state.candidate_caps.get(pair, 0), pair)):
        short = export_replicas(state, pair[0], pair[1], routing.exports[pair])
        if short:
            # The brokers above target in the rack hold too few partitions that may leave
            # for the other: move that many from other brokers of the rack instead (each
            # costs one extra move; the surplus brokers refill them inside the rack).
            swaps[pair] = swaps.get(pair, 0) + short
    force_swaps(state, swaps, targets, drops.load)
    if state.sizes is not None:
        shed_smallest_first(state)
    shed_in_rack(state)
    return Shed(state.holes_by_rack, state.deficit, state.unrouted)


def group_free_holes(state: ShedState) -> tuple[dict[HoleGroup, list[int]], dict[int, list[int]]]:
    """Free holes grouped by the racks they may go to, and each partition's hole positions.

    For RF > racks, one hole per uncovered rack is pinned to that rack; the others may go to
    any rack with room."""
    rack_count = state.rack_count
    free: dict[HoleGroup, list[int]] = {}
    pending: dict[int, list[int]] = {}
    for p in sorted(state.work):
        replica_list = state.work[p]
        holes = replica_list.count(HOLE)
        if not holes:
            continue
        pending[p] = [pos for pos, b in enumerate(replica_list) if b == HOLE]
        if state.factors[p] <= rack_count:
            allowed = 0
            for rack in state.hole_options(p, holes):
                allowed |= 1 << rack
            free.setdefault(HoleGroup(allowed, holes, True, ()), []).append(p)
            continue
        used = state.rack_mask(p)
        missing = [rack for rack in range(rack_count) if not used >> rack & 1]
        for rack in missing:
            free.setdefault(HoleGroup(1 << rack, 1, True, ()), []).append(p)
        rest = holes - len(missing)
        if rest > 0:
            allowed = 0
            room = []
            for rack in range(rack_count):
                left = state.rack_size[rack] - state.in_rack(p, rack) - (1 if rack in missing else 0)
                room.append(min(rest, left))
                if left > 0:
                    allowed |= 1 << rack
            free.setdefault(HoleGroup(allowed, rest, False, tuple(room)), []).append(p)
    return free, pending


def scan_candidates(state: ShedState, shed_by_rack: list[int], deficit_by_rack: list[int], free_total: int) -> None:
    """Scan surplus brokers for replicas that may go to another rack. A rack never needs to
    send more than its surplus beyond its deficit plus the free holes that may land in it, so
    brokers are scanned (largest surplus first) only until twice that many candidates exist
    for every destination."""
    rack_count, surplus, caps = state.rack_count, state.surplus, state.candidate_caps
    for rack in range(rack_count if rack_count > 1 else 0):
        need = min(shed_by_rack[rack], shed_by_rack[rack] - deficit_by_rack[rack] + free_total)
        if need <= 0:
            continue
        for broker in sorted(state.rack_members[rack], key=lambda b: (-surplus[b], b)):
            if not surplus[broker]:
                continue
            if state.scanned[rack] >= 2 * need and all(
                caps.get((rack, other), 0) >= 2 * need for other in range(rack_count) if other != rack
            ):
                break
            state.scan(broker, rack)


def place_free_holes(
    state: ShedState, groups: list[HoleGroup], free: dict[HoleGroup, list[int]], pending: dict[int, list[int]],
    group_to_rack: dict[RackPair, int],
) -> None:
    """Send the free holes to racks as routed (groups of one hole per rack first)."""
    rack_count = state.rack_count
    for index in sorted(range(len(groups)), key=lambda index: (not groups[index].single, index)):
        group = groups[index]
        budget = {rack: group_to_rack.get((index, rack), 0) for rack in range(rack_count)}
        for p in free[group]:
            for _hole in range(group.holes):
                pos = pending[p].pop(0)
                if group.single:
                    options = [rack for rack in state.hole_options(p, 1) if group.allowed >> rack & 1]
                else:
                    options = [
                        rack for rack in range(rack_count)
                        if group.allowed >> rack & 1 and state.in_rack(p, rack) < state.rack_size[rack]
                    ]
                if not options:
                    options = state.hole_options(p, len(pending[p]) + 1)
                routed = [rack for rack in options if budget[rack] > 0]
                pool = routed or options
                if not pool:  # pragma: no cover - hole_options always leaves a rack
                    raise InfeasiblePlanError("no rack can take a replica of %d" % p)
                dest = max(pool, key=lambda rack: (budget[rack], -rack))
                if not routed:
                    state.unrouted += 1
                budget[dest] -= 1
                state.incoming.setdefault(p, []).append(dest)
                state.holes_by_rack[dest].append((p, pos))


def export_replicas(state: ShedState, rack: int, dest: int, need: int) -> int:
    """Shed ``need`` replicas of ``rack``'s surplus brokers to rack ``dest``; returns how
    many could not be found."""
    need = _export_scanned(state, rack, dest, need)
    for broker in sorted(state.rack_members[rack]):
        while need and state.quota[broker] > 0 and broker in state.buckets and state.steal(broker, rack, dest):
            need -= 1
    if need:
        need = _export_rescan(state, rack, dest, need)
    return need


def _export_scanned(state: ShedState, rack: int, dest: int, need: int) -> int:
    """Round-robin over the scanned brokers, most left to shed first, one replica each."""
    quota = state.quota
    brokers = [b for b in state.rack_members[rack] if quota[b] > 0 and b in state.buckets]
    while need and brokers:
        progressed = False
        for broker in sorted(brokers, key=lambda b: (-quota[b], b)):
            if not need:
                break
            if quota[broker] <= 0:
                continue
            pick = _export_pick(state, broker, rack, dest)
            if pick is None:
                continue
            state.take(pick, broker, dest)
            need -= 1
            progressed = True
        brokers = [b for b in brokers if quota[b] > 0]
        if not progressed:
            break
    return need


def _export_pick(state: ShedState, broker: int, rack: int, dest: int) -> int | None:
    """The replica ``broker`` sends to ``dest``: the first candidate, or the smallest one
    with sizes."""
    sizes = state.sizes
    pick = None
    for key in sorted(state.buckets[broker]):
        if key >> dest & 1:
            continue
        p = state.next_candidate(broker, key, rack, dest)
        if p is not None and (pick is None or (sizes is not None and sizes[p] < sizes[pick])):
            pick = p
            if sizes is None:
                break
    return pick


def _export_rescan(state: ShedState, rack: int, dest: int, need: int) -> int:
    """Last try: scan the rack's other brokers above target and drain their candidates."""
    quota = state.quota
    for broker in sorted(state.rack_members[rack], key=lambda b: (-quota[b], b)):
        if not need:
            break
        if quota[broker] <= 0:
            continue
        if broker not in state.buckets:
            state.scan(broker, rack)
        while need and quota[broker] > 0:
            pick = None
            for key in sorted(state.buckets[broker]):
                if not key >> dest & 1:
                    pick = state.next_candidate(broker, key, rack, dest)
                    if pick is not None:
                        break
            if pick is None:
                break
            state.take(pick, broker, dest)
            need -= 1
    return need


def force_swaps(state: ShedState, swaps: dict[RackPair, int], targets: list[int], load: list[int]) -> None:
    """Extra moves the rack rule forces: move kept replicas out of a rack to make room (the
    brokers giving them up refill inside the rack)."""
    rack_count, rack_of, factors = state.rack_count, state.rack_of, state.factors
    work, replicas, promised, rack_mask = state.work, state.replicas, state.promised, state.rack_mask
    for (rack, dest), amount in sorted(swaps.items()):
        order = sorted(state.rack_members[rack], key=lambda b: (targets[b] - load[b], b))
        picked = 0
        for p in range(len(replicas)):
            if picked == amount:
                break
            current = work.get(p, replicas[p])
            if promised(p, dest):
                continue
            if factors[p] <= rack_count and rack_mask(p) >> dest & 1:
                continue
            in_rack = [b for b in current if b >= 0 and rack_of[b] == rack]
            if not in_rack or (factors[p] > rack_count and len(in_rack) < 2):
                continue
            broker = min(in_rack, key=order.index)
            if (p, broker) in state.shed_from:
                continue
            state.quota[broker] += 1
            state.deficit[broker] += 1
            state.take(p, broker, dest)
            picked += 1
        state.unrouted += amount - picked


def shed_smallest_first(state: ShedState) -> None:
    """With sizes: shed inside the rack the smallest partitions first across all brokers (not
    broker by broker), each from the holder with the most left to shed, so few bytes move."""
    sizes = state.sizes
    if sizes is None:
        raise AssertionError("shed_smallest_first needs partition sizes")
    quota = state.quota
    on_surplus: dict[int, list[int]] = {}
    for broker in sorted(state.holdings):
        if quota[broker] > 0:
            for p in state.holdings[broker]:
                on_surplus.setdefault(p, []).append(broker)
    for p in sorted(on_surplus, key=lambda q: (sizes[q], q)):
        if p in state.incoming:
            continue
        best = None
        for broker in on_surplus[p]:
            if quota[broker] > 0 and (p, broker) not in state.shed_from and (best is None or quota[broker] > quota[best]):
                best = broker
        if best is not None:
            state.take(p, best, state.rack_of[best])


def shed_in_rack(state: ShedState) -> None:
    """The rest of each surplus stays in its rack, shed only where a broker below target in
    the rack does not hold the partition yet (claims: a greedy matching of holes to those
    brokers, so every shed replica can be placed). Preference: partitions not already losing
    a replica, then ones not already receiving one in the rack, then any."""
    deficit, quota, work, replicas = state.deficit, state.quota, state.work, state.replicas
    needy = [[b for b in members if deficit[b] > 0] for members in state.rack_members]
    claim = list(deficit)  # per broker: holes it may still be promised
    for rack in range(state.rack_count):
        for p, _pos in state.holes_by_rack[rack]:
            _claim(needy[rack], claim, work[p])
    holdings, shed_from, incoming, promised, take = state.holdings, state.shed_from, state.incoming, state.promised, state.take
    for strictness in (2, 1, 0):
        for broker in sorted(holdings):
            if quota[broker] <= 0:
                continue
            rack = state.rack_of[broker]
            holes = state.holes_by_rack[rack]
            for p in holdings[broker]:
                if not quota[broker]:
                    break
                if (p, broker) in shed_from:
                    continue
                if strictness == 2:
                    if p in incoming or not _claim(needy[rack], claim, work.get(p, replicas[p])):
                        continue
                    # take(p, broker, rack), inline: the common case, most of the shed replicas
                    replica_list = work.get(p)
                    if replica_list is None:
                        replica_list = work[p] = list(replicas[p])
                    pos = replica_list.index(broker)
                    replica_list[pos] = HOLE
                    shed_from.add((p, broker))
                    incoming[p] = [rack]
                    holes.append((p, pos))
                    quota[broker] -= 1
                    continue
                if strictness == 1 and promised(p, rack):
                    continue
                if strictness and not _claim(needy[rack], claim, work.get(p, replicas[p])):
                    continue
                take(p, broker, rack)


def _claim(needy: list[int], claim: list[int], replica_list: list[int]) -> bool:
    """Promise a hole of the partition to the first broker of ``needy`` (the rack's brokers
    below target) that has a claim left and does not hold the partition."""
    for broker in needy:
        if claim[broker] > 0 and broker not in replica_list:
            claim[broker] -= 1
            return True
    return False
