# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``routing``: how many shed and missing replicas go to which rack.

A min-cost flow over racks: each rack's surplus stays in the rack or is exported where the
scanned candidates allow, each group of free holes goes to the racks it may use, and every
rack receives exactly its deficit. When the replicas every plan keeps leave a rack short of
room, kept replicas may move out of a rack too, at one extra move each (``swaps``).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Callable, NamedTuple

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import Cluster

RackPair = tuple[int, int]  # (from rack, to rack)
Edge = tuple[int, int, int, int]  # (from node, to node, capacity, cost)
_UNREACHED = 1 << 62  # distance of a node no path reaches


class HoleGroup(NamedTuple):
    """Partitions whose missing replicas may go to the same racks, the same number each."""

    allowed: int  # bit mask of the racks the holes may go to
    holes: int  # holes per partition
    single: bool  # at most one of them per rack (RF <= racks, or a rack the partition must cover)
    room: tuple[int, ...]  # not single: per rack, how many of the holes it may take


@dataclass
class Routing:
    """Replicas per pair of racks, as the flow routed them."""

    exports: dict[RackPair, int]  # shed replicas a rack sends to another
    swaps: dict[RackPair, int]  # kept replicas a rack must send to another (one extra move each)
    group_to_rack: dict[RackPair, int]  # (index in the sorted hole groups, rack) -> holes


class _RackNetwork:
    """The flow graph: source -> shed/group nodes -> rack nodes -> sink."""

    source, sink = 0, 1

    def __init__(self, rack_count: int, group_count: int) -> None:
        self.rack_count = rack_count
        self.node_count = 2 + 3 * rack_count + group_count
        self.group_count = group_count
        self.edges: list[Edge] = []
        self.tags: list[tuple[str, int, int] | None] = []

    def shed_node(self, rack: int) -> int:
        return 2 + rack

    def group_node(self, group: int) -> int:
        return 2 + self.rack_count + group

    def rack_node(self, rack: int) -> int:
        return 2 + self.rack_count + self.group_count + rack

    def out_node(self, rack: int) -> int:
        return 2 + 2 * self.rack_count + self.group_count + rack

    def add(self, src: int, dst: int, capacity: int, cost: int, tag: tuple[str, int, int] | None = None) -> None:
        self.edges.append((src, dst, capacity, cost))
        self.tags.append(tag)

    def flows(self) -> list[int]:
        return min_cost_flow(self.node_count, self.edges, self.source, self.sink)


def route_holes(
    rack_count: int,
    shed: list[int],
    deficit: list[int],
    scanned: list[int],
    export_caps: dict[RackPair, int],
    groups: list[HoleGroup],
    group_sizes: list[int],
    replicas_to_place: int,
    swap_capacities: Callable[[], dict[RackPair, int]],
) -> Routing:
    """Route replicas between racks.

    ``shed``/``deficit``: per rack, replicas its brokers above target give up and those below
    target lack; ``scanned``: per rack, surplus of the brokers scanned for export candidates,
    ``export_caps`` what they may send to each other rack; ``groups`` with ``group_sizes``
    partitions each: the free holes; ``swap_capacities`` is only called when the routing
    needs kept replicas to move.
    """
    network = _RackNetwork(rack_count, len(groups))
    big = replicas_to_place + 1
    for rack in range(rack_count):
        if shed[rack]:
            network.add(network.source, network.shed_node(rack), shed[rack], 0)
            network.add(network.shed_node(rack), network.rack_node(rack), big, 0)
            if scanned[rack]:
                network.add(network.shed_node(rack), network.out_node(rack), scanned[rack], 0)
                for other in range(rack_count):
                    capacity = export_caps.get((rack, other), 0)
                    if capacity and other != rack:
                        network.add(network.out_node(rack), network.rack_node(other), capacity, 0, ("export", rack, other))
        if deficit[rack]:
            network.add(network.rack_node(rack), network.sink, deficit[rack], 0)
    for index, group in enumerate(groups):
        count = group_sizes[index]
        network.add(network.source, network.group_node(index), count * group.holes, 0)
        for rack in range(rack_count):
            if group.allowed >> rack & 1:
                capacity = count if group.single else count * group.room[rack]
                network.add(network.group_node(index), network.rack_node(rack), capacity, 0, ("group", index, rack))
    flows = network.flows()
    routed = sum(flow for edge, flow in zip(network.edges, flows) if edge[0] == network.source)
    free_total = sum(size * group.holes for group, size in zip(groups, group_sizes))
    if routed < sum(shed) + free_total and rack_count > 1:
        # The replicas every plan keeps leave some rack short of room: allow moving
        # extra kept replicas out of a rack (one extra move each) to make room.
        for (rack, other), capacity in sorted(swap_capacities().items()):
            network.add(network.rack_node(rack), network.rack_node(other), capacity, 1, ("swap", rack, other))
        flows = network.flows()
    routing = Routing(exports={}, swaps={}, group_to_rack={})
    by_kind = {"swap": routing.swaps, "export": routing.exports, "group": routing.group_to_rack}
    for tag, flow in zip(network.tags, flows):
        if flow and tag is not None:
            by_kind[tag[0]][(tag[1], tag[2])] = flow
    return routing


def swap_capacities(cluster: Cluster, work: dict[int, list[int]]) -> dict[RackPair, int]:
    """Per rack pair (j, j2): kept replicas in j whose partition could move one to j2."""
    rack_count, rack_of = cluster.rack_count, cluster.rack_of
    factors = cluster.replication_factors
    caps: Counter[RackPair] = Counter()
    for p, replica_list in enumerate(cluster.replicas):
        current = work.get(p, replica_list)
        mask = 0
        for b in current:
            if b >= 0:
                mask |= 1 << rack_of[b]
        per_rack = Counter(rack_of[b] for b in current if b >= 0)
        wide = factors[p] > rack_count
        for rack, count in per_rack.items():
            if wide and count < 2:
                continue
            for other in range(rack_count):
                if other != rack and (wide or not mask >> other & 1):
                    caps[(rack, other)] += 1
    return dict(caps)


def min_cost_flow(node_count: int, edges: list[Edge], source: int, sink: int) -> list[int]:
    """Min-cost max-flow on a tiny graph (successive shortest paths, Bellman-Ford with a queue).

    ``edges``: (u, v, capacity, cost) with cost >= 0. Returns the flow on each edge.
    """
    graph: list[list[int]] = [[] for _node in range(node_count)]
    head: list[int] = []  # residual edge e goes to head[e]; e ^ 1 is its reverse
    capacity: list[int] = []
    cost: list[int] = []
    for src, dst, cap, weight in edges:
        graph[src].append(len(head))
        head.append(dst)
        capacity.append(cap)
        cost.append(weight)
        graph[dst].append(len(head))
        head.append(src)
        capacity.append(0)
        cost.append(-weight)
    original = list(capacity)
    while True:
        parent = _shortest_path_tree(graph, head, capacity, cost, source)
        if parent[sink] < 0:
            break
        path = []
        node = sink
        while node != source:
            edge = parent[node]
            path.append(edge)
            node = head[edge ^ 1]
        push = min(capacity[edge] for edge in path)
        for edge in path:
            capacity[edge] -= push
            capacity[edge ^ 1] += push
    return [original[2 * i] - capacity[2 * i] for i in range(len(edges))]


def _shortest_path_tree(graph: list[list[int]], head: list[int], capacity: list[int], cost: list[int], source: int) -> list[int]:
    """Parent edge of every node on cheapest residual paths from ``source`` (-1: unreached)."""
    node_count = len(graph)
    dist = [_UNREACHED] * node_count
    parent = [-1] * node_count
    dist[source] = 0
    queue = deque([source])
    queued = [False] * node_count
    queued[source] = True
    while queue:
        node = queue.popleft()
        queued[node] = False
        for edge in graph[node]:
            if capacity[edge] > 0:
                nxt = head[edge]
                candidate = dist[node] + cost[edge]
                if candidate < dist[nxt]:
                    dist[nxt] = candidate
                    parent[nxt] = edge
                    if not queued[nxt]:
                        queued[nxt] = True
                        queue.append(nxt)
    return parent
