# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``fill``: put every hole on a broker below target in the rack it was routed to.

Per rack, holes of partitions with the most holes there go first (then the largest
partitions, with sizes), each to the broker with the fewest bytes (with sizes) or the
largest deficit that does not hold the partition yet. Dead ends are repaired in this
order: trade one unit of target between two brokers of the rack (``retarget``, no cost),
use a broker below target in another rack the rule allows, shift holes already placed in
the rack (``augment``; with kept replicas as the last resort, one extra move each), and
finally shift replicas along a chain of brokers anywhere (``place_anywhere``).
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from dataclasses import dataclass

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import Bytes, Cluster, extendable
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.errors import InfeasiblePlanError
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.shed import Hole, Shed

ChainStep = tuple[int, int, int]  # (broker the replica leaves, partition, position)
CHAIN_SEARCH_BUDGET = 200000  # replicas looked at when searching a chain for one hole


@dataclass
class Fill:
    """What the fill stage changed besides the replica lists."""

    replica_targets: list[int]  # the targets, after ``retarget`` traded units inside racks
    unrouted_holes: int


class FillState:
    """The replica lists being completed and what each broker may still take."""

    __slots__ = ("cluster", "work", "targets", "remaining", "weight", "sizes", "unrouted")

    def __init__(self, cluster: Cluster, work: dict[int, list[int]], targets: list[int], deficit: list[int], unrouted: int) -> None:
        self.cluster = cluster
        self.work = work
        self.targets = targets
        self.remaining = list(deficit)  # per target broker: replicas it may still take
        self.sizes: list[Bytes] | None = cluster.sizes
        # with sizes: bytes each target broker holds (kept and placed replicas)
        self.weight: list[Bytes] | None = None
        if self.sizes is not None:
            sizes = self.sizes
            target_count = cluster.target_count
            weight: list[Bytes] = [0] * target_count
            for p, replica_list in enumerate(cluster.replicas):
                for b in work.get(p, replica_list):
                    if 0 <= b < target_count:
                        weight[b] += sizes[p]
            self.weight = weight
        self.unrouted = unrouted

    def place(self, p: int, pos: int, broker: int) -> None:
        """Put the hole (p, pos) on ``broker``."""
        self.work[p][pos] = broker
        self.remaining[broker] -= 1
        weight, sizes = self.weight, self.sizes
        if weight is not None and sizes is not None:  # both or neither
            weight[broker] += sizes[p]


class _BrokerHeap:
    """A rack's brokers below target, fewest bytes (with sizes) or largest deficit first."""

    __slots__ = ("items", "state")

    def __init__(self, state: FillState, members: list[int]) -> None:
        self.state = state
        self.items = [(self.key(b), b) for b in members if state.remaining[b] > 0]
        heapq.heapify(self.items)

    def key(self, broker: int) -> Bytes:
        weight = self.state.weight
        return weight[broker] if weight is not None else -self.state.remaining[broker]

    def pop_not_in(self, replica_list: list[int]) -> int | None:
        """The first broker not holding the partition, taken off the heap."""
        items = self.items
        skipped = []
        chosen = None
        while items:
            item = heapq.heappop(items)
            if item[1] in replica_list:
                skipped.append(item)
                continue
            chosen = item[1]
            break
        for item in skipped:
            heapq.heappush(items, item)
        return chosen

    def push(self, broker: int) -> None:
        weight = self.state.weight
        heapq.heappush(self.items, (weight[broker] if weight is not None else -self.state.remaining[broker], broker))

    def prune(self) -> None:
        """Drop brokers no longer below target (after a repair changed ``remaining``)."""
        remaining = self.state.remaining
        self.items = [(key, b) for key, b in self.items if remaining[b] > 0]
        heapq.heapify(self.items)


def fill_holes(cluster: Cluster, targets: list[int], work: dict[int, list[int]], shed: Shed) -> Fill:
    """Stage ``fill``: complete every replica list in ``work`` (in place)."""
    state = FillState(cluster, work, list(targets), shed.deficit, shed.unrouted_holes)
    spill: list[Hole] = []
    for rack in range(cluster.rack_count):
        _fill_rack(state, rack, shed.holes_by_rack[rack], spill)
    for p, pos in spill:
        state.unrouted += 1
        place_anywhere(state, p, pos)
    return Fill(state.targets, state.unrouted)


def _fill_rack(state: FillState, rack: int, holes: list[Hole], spill: list[Hole]) -> None:
    """Place the holes routed to ``rack``; the ones it cannot take go to ``spill``."""
    many = Counter(hole[0] for hole in holes)
    sizes = state.sizes
    if sizes is not None:
        holes.sort(key=lambda hole: (-many[hole[0]], -sizes[hole[0]], hole[0], hole[1]))
    else:
        holes.sort(key=lambda hole: (-many[hole[0]], hole[0], hole[1]))
    members = state.cluster.rack_members[rack]
    heap = _BrokerHeap(state, members)
    placed_by: dict[int, list[Hole]] = {b: [] for b in members}
    for p, pos in holes:
        if not _fill_hole(state, rack, heap, placed_by, p, pos):
            spill.append((p, pos))


def _fill_hole(state: FillState, rack: int, heap: _BrokerHeap, placed_by: dict[int, list[Hole]], p: int, pos: int) -> bool:
    """Place one hole in ``rack`` (or where a repair puts it); False if it must spill."""
    replica_list = state.work[p]
    if state.cluster.rack_aware and not rack_allows(state.cluster, rack, replica_list, pos):
        # an earlier re-route put another replica of p in this rack
        broker = other_rack(state, rack, replica_list, pos)
        if broker is None:
            return False
        state.place(p, pos, broker)
        return True
    chosen = heap.pop_not_in(replica_list)
    if chosen is None and heap.items:
        # every broker still below target holds p: hand one unit of target ("ceil" instead
        # of "floor") to a broker that does not, same rack, so balance is unchanged and no
        # extra move is needed
        chosen = retarget(state, rack, replica_list)
        if chosen is not None:
            heap.prune()
    if chosen is None:
        # another rack the rule allows may still have room (the rack routing counts
        # replicas per rack and cannot see which broker a partition needs)
        broker = other_rack(state, rack, replica_list, pos)
        if broker is not None:
            state.place(p, pos, broker)
            return True
        if not heap.items:  # the rack is full: the hole has to go elsewhere
            return False
        if augment(state, rack, p, pos, placed_by) or augment(state, rack, p, pos, placed_by, allow_kept=True):
            heap.prune()
            return True
        return False
    replica_list[pos] = chosen  # as state.place, inline: the common case
    remaining = state.remaining
    remaining[chosen] -= 1
    weight, sizes = state.weight, state.sizes
    if weight is not None and sizes is not None:
        weight[chosen] += sizes[p]
    placed_by[chosen].append((p, pos))
    if remaining[chosen] > 0:
        heap.push(chosen)
    return True


def rack_allows(cluster: Cluster, rack: int, replica_list: list[int], pos: int) -> bool:
    """May ``rack`` take the replica at ``pos`` (ignoring which broker)?"""
    for broker in cluster.rack_members[rack]:
        if broker not in replica_list:
            trial = list(replica_list)
            trial[pos] = broker
            return extendable(cluster, trial, len(replica_list))
    return False


def other_rack(state: FillState, rack: int, replica_list: list[int], pos: int) -> int | None:
    """A broker below target in another rack that may take this replica, or None."""
    cluster = state.cluster
    if not cluster.rack_aware:
        return None
    factor = len(replica_list)
    for other in range(cluster.rack_count):
        if other == rack:
            continue
        for broker in cluster.rack_members[other]:
            if state.remaining[broker] > 0 and broker not in replica_list:
                trial = list(replica_list)
                trial[pos] = broker
                if extendable(cluster, trial, factor):
                    return broker
    return None


def retarget(state: FillState, rack: int, replica_list: list[int]) -> int | None:
    """Move one unit of target from a broker below target that holds the partition to one
    of the same rack at a target one lower that does not. Returns that broker or None."""
    targets, remaining = state.targets, state.remaining
    members = state.cluster.rack_members[rack]
    donors = [b for b in members if remaining[b] > 0 and b in replica_list]
    for broker in members:
        if broker in replica_list:
            continue
        for donor in donors:
            if targets[donor] == targets[broker] + 1:
                targets[donor] -= 1
                remaining[donor] -= 1
                targets[broker] += 1
                remaining[broker] += 1
                return broker
    return None


def augment(state: FillState, rack: int, p: int, pos: int, placed_by: dict[int, list[Hole]], allow_kept: bool = False) -> bool:
    """Place hole (p, pos) in ``rack`` by shifting already placed holes (augmenting path).

    With ``allow_kept`` kept replicas may shift too (each costs one extra move); this is
    the last resort when the replicas a plan must keep leave no valid completion.
    """
    work, replicas = state.work, state.cluster.replicas
    members = state.cluster.rack_members[rack]
    movable = placed_by
    if allow_kept:
        movable = _kept_and_placed(state, members, placed_by)
    parent: dict[int, ChainStep | None] = {}
    queue: deque[int] = deque()
    for broker in members:
        if broker not in work[p]:
            parent[broker] = None
            queue.append(broker)
    found = None
    while queue:
        broker = queue.popleft()
        if state.remaining[broker] > 0:
            found = broker
            break
        for q, qpos in movable[broker]:
            if q == p:
                continue
            replica_list = work.get(q, replicas[q])
            for other in members:
                if other not in parent and other not in replica_list:
                    parent[other] = (broker, q, qpos)
                    queue.append(other)
    if found is None:
        return False
    state.remaining[found] -= 1
    broker = found
    step = parent[broker]
    while step is not None:
        source, q, qpos = step
        if q not in work:
            work[q] = list(replicas[q])
        work[q][qpos] = broker
        if (q, qpos) in placed_by[source]:
            placed_by[source].remove((q, qpos))
        placed_by[broker].append((q, qpos))
        broker = source
        step = parent[broker]
    work[p][pos] = broker
    placed_by[broker].append((p, pos))
    return True


def _kept_and_placed(state: FillState, members: list[int], placed_by: dict[int, list[Hole]]) -> dict[int, list[Hole]]:
    """Per rack member: the holes placed on it, then the kept replicas it holds."""
    member_set = set(members)
    kept_on: dict[int, list[Hole]] = {}
    for q, replica_list in enumerate(state.cluster.replicas):
        for qpos, b in enumerate(state.work.get(q, replica_list)):
            if b in member_set:
                kept_on.setdefault(b, []).append((q, qpos))
    for broker, entries in placed_by.items():
        moved = set(entries)
        kept_on[broker] = [entry for entry in kept_on.get(broker, ()) if entry not in moved]
    return {broker: placed_by[broker] + kept_on.get(broker, []) for broker in members}


def place_anywhere(state: FillState, p: int, pos: int) -> None:
    """Place a hole the routing could not: shift replicas along a chain of brokers.

    Starting at any broker that may take p, follow brokers that are full by moving one
    of their replicas (placed or kept; a kept one costs an extra move) to the next broker,
    until a broker below target is reached. Only if no chain exists is a broker allowed
    to go over its target.
    """
    parent, found = _chain_search(state, p, pos)
    if found is None:
        if not parent:
            raise InfeasiblePlanError("no broker can take another replica of partition index %d" % p)
        found = min(parent, key=lambda b: (-state.remaining[b], b))
        parent = {found: None}
    found = _apply_chain(state, p, pos, parent, found)
    state.remaining[found] -= 1


def _fits(cluster: Cluster, replica_list: list[int], pos: int, broker: int, factor: int) -> bool:
    if broker in replica_list:
        return False
    trial = list(replica_list)
    trial[pos] = broker
    return extendable(cluster, trial, factor)


def _chain_search(state: FillState, p: int, pos: int) -> tuple[dict[int, ChainStep | None], int | None]:
    """Breadth-first search over brokers (bounded): broker y follows x when a partition on x
    may move its replica to y. Returns the tree and the first broker below target reached."""
    cluster, work, remaining = state.cluster, state.work, state.remaining
    replicas, factors = cluster.replicas, cluster.replication_factors
    target_count = cluster.target_count
    holders: dict[int, list[Hole]] = {}  # broker -> (partition, position) of its replicas
    parent: dict[int, ChainStep | None] = {}
    queue: deque[int] = deque()
    for broker in range(target_count):
        if _fits(cluster, work[p], pos, broker, factors[p]):
            parent[broker] = None
            queue.append(broker)
    budget = CHAIN_SEARCH_BUDGET
    while queue and budget > 0:
        broker = queue.popleft()
        if remaining[broker] > 0:
            return parent, broker
        for q, qpos in _held_by(holders, work, replicas, broker):
            budget -= 1
            replica_list = work.get(q, replicas[q])
            for other in range(target_count):
                if other not in parent and _fits(cluster, replica_list, qpos, other, factors[q]):
                    parent[other] = (broker, q, qpos)
                    queue.append(other)
            if budget <= 0:
                break
    return parent, None


def _held_by(holders: dict[int, list[Hole]], work: dict[int, list[int]], replicas: list[list[int]], broker: int) -> list[Hole]:
    """The (partition, position) of every replica on ``broker``, cached in ``holders``."""
    got = holders.get(broker)
    if got is None:
        got = []
        for q in range(len(replicas)):
            for qpos, b in enumerate(work.get(q, replicas[q])):
                if b == broker:
                    got.append((q, qpos))
                    break
        holders[broker] = got
    return got


def _apply_chain(state: FillState, p: int, pos: int, parent: dict[int, ChainStep | None], found: int) -> int:
    """Shift replicas along the chain ending at ``found``; if a partition it touches is no
    longer valid as a whole, undo it and put the hole on the broker that may take it with
    the most room. Returns the broker that took a replica more."""
    cluster, work = state.cluster, state.work
    replicas, factors = cluster.replicas, cluster.replication_factors
    replica_list_p = work[p]
    undo = []
    broker = found
    step = parent[broker]
    while step is not None:
        source, q, qpos = step
        if q not in work:
            work[q] = list(replicas[q])
        undo.append((q, qpos, work[q][qpos]))
        work[q][qpos] = broker
        broker = source
        step = parent[broker]
    undo.append((p, pos, replica_list_p[pos]))
    replica_list_p[pos] = broker
    # steps were checked one by one; check the partitions they touched as a whole
    for q, _qpos, _old in undo:
        replica_list = work[q]
        placed = [b for b in replica_list if b >= 0]
        if len(set(placed)) != len(placed) or not extendable(cluster, replica_list, factors[q]):
            for q2, qpos2, old in reversed(undo):
                work[q2][qpos2] = old
            start = [b for b in range(cluster.target_count) if _fits(cluster, replica_list_p, pos, b, factors[p])]
            if not start:
                raise InfeasiblePlanError("no broker can take another replica of partition index %d" % p)
            found = max(start, key=lambda b: (state.remaining[b], -b))
            replica_list_p[pos] = found
            break
    return found
