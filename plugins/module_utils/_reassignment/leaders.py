# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``leaders``: balance leaders by reordering replica lists only (no data moves).

The leader is the first replica. Direct hand-overs first (leaders on drained brokers, then
from brokers above the ceiling to brokers below the floor, and so on: each lowers the sum
of squares), then augmenting paths over the "leader -> follower" graph until no chain lowers
it further.
"""

from __future__ import annotations

from collections import deque

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import Cluster


class LeaderState:
    """The final replica lists and, per broker index, its leader count and led partitions
    (``led`` may hold partitions the broker no longer leads; readers check)."""

    __slots__ = ("target_count", "final", "leader_counts", "led")

    def __init__(self, cluster: Cluster, work: dict[int, list[int]]) -> None:
        broker_count = len(cluster.broker_ids)
        self.target_count = cluster.target_count
        self.final = final = [work.get(p, replica_list) for p, replica_list in enumerate(cluster.replicas)]
        self.leader_counts = counts = [0] * broker_count
        self.led: list[list[int]] = [[] for _broker in range(broker_count)]
        led = self.led
        for p, replica_list in enumerate(final):
            counts[replica_list[0]] += 1
            led[replica_list[0]].append(p)

    def best_follower(self, replica_list: list[int]) -> int | None:
        """Position of the target broker among the followers leading fewest, or None."""
        counts, target_count = self.leader_counts, self.target_count
        best = None
        for i in range(1, len(replica_list)):
            b = replica_list[i]
            if b < target_count and (best is None or counts[b] < counts[replica_list[best]]):
                best = i
        return best

    def switch(self, p: int, i: int) -> None:
        """Make the replica at position ``i`` of ``p`` its leader."""
        final, counts = self.final, self.leader_counts
        replica_list = final[p]
        new = [replica_list[i]] + replica_list[:i] + replica_list[i + 1:]
        counts[replica_list[0]] -= 1
        counts[new[0]] += 1
        self.led[new[0]].append(p)
        final[p] = new


def balance_leaders(cluster: Cluster, work: dict[int, list[int]]) -> list[list[int]]:
    """Stage ``leaders``: the final replica list of every planned partition."""
    state = LeaderState(cluster, work)
    partition_count, target_count = len(state.final), cluster.target_count
    if not partition_count:
        return state.final
    final, best_follower, switch = state.final, state.best_follower, state.switch
    for broker in range(target_count, len(cluster.broker_ids)):  # leaders on drained brokers first
        for p in state.led[broker]:
            i = best_follower(final[p])
            if i is not None:
                switch(p, i)
    ceiling = -(-partition_count // target_count)
    floor = partition_count // target_count
    rounds = ((ceiling + 1, floor - 1), (ceiling + 1, ceiling - 1), (floor + 1, floor - 1), (0, None))
    counts = state.leader_counts
    for source_min, dest_max in rounds:
        active = counts[:target_count]
        if max(active) - min(active) <= 1:
            break
        _hand_over(state, source_min, dest_max)
    active = counts[:target_count]
    if target_count > 1 and max(active) - min(active) >= 2:
        _leader_paths(state)
    return state.final


def _hand_over(state: LeaderState, source_min: int, dest_max: int | None) -> None:
    """Hand leadership from brokers leading at least ``source_min`` to followers leading at
    most ``dest_max`` (None: at least two fewer than the leader)."""
    counts, final, led = state.leader_counts, state.final, state.led
    best_follower, switch = state.best_follower, state.switch
    for broker in sorted(range(state.target_count), key=lambda b: (-counts[b], b)):
        if counts[broker] < source_min:
            continue
        for p in led[broker]:
            if counts[broker] < source_min:
                break
            replica_list = final[p]
            if replica_list[0] != broker:
                continue
            i = best_follower(replica_list)
            if i is None:
                continue
            if counts[replica_list[i]] <= (counts[broker] - 2 if dest_max is None else dest_max):
                switch(p, i)
        led[broker] = [p for p in led[broker] if final[p][0] == broker]


class _FollowerIndex:
    """Per leader a: {follower b: partitions led by a with a replica on b}, built lazily and
    pruned as entries go stale."""

    __slots__ = ("state", "index")

    def __init__(self, state: LeaderState) -> None:
        self.state = state
        self.index: dict[int, dict[int, list[int]]] = {}

    def followers(self, leader: int) -> dict[int, list[int]]:
        got = self.index.get(leader)
        if got is None:
            got = {}
            target_count, final = self.state.target_count, self.state.final
            for p in self.state.led[leader]:
                replica_list = final[p]
                if replica_list[0] == leader:
                    for b in replica_list[1:]:
                        if b < target_count:
                            got.setdefault(b, []).append(p)
            self.index[leader] = got
        return got

    def edge(self, leader: int, follower: int) -> int | None:
        """A partition ``leader`` leads with a replica on ``follower``, or None."""
        partitions = self.followers(leader).get(follower)
        final = self.state.final
        while partitions:
            p = partitions[-1]
            replica_list = final[p]
            if replica_list[0] == leader and follower in replica_list:
                return p
            partitions.pop()
        return None

    def led_by(self, leader: int, p: int) -> None:
        """``leader`` now leads ``p``: index its followers if the leader is indexed."""
        got = self.index.get(leader)
        if got is not None:
            for b in self.state.final[p][1:]:
                if b < self.state.target_count:
                    got.setdefault(b, []).append(p)


def _leader_paths(state: LeaderState) -> None:
    """Augmenting paths: move leadership along chains u -> ... -> v with counts[u] >= counts[v] + 2.

    An edge a -> b exists while some partition led by a has a replica on b. Repeating
    until no such chain exists gives the most even leader counts reordering can reach.
    """
    graph = _FollowerIndex(state)
    counts = state.leader_counts
    while True:
        done: set[int] = set()
        improved = False
        for source in sorted(range(state.target_count), key=lambda b: (-counts[b], b)):
            if source in done:
                continue
            parent = _reachable(graph, source)
            if _push_paths(state, graph, source, parent):
                improved = True
                break
            for broker in parent:
                if counts[broker] <= counts[source]:
                    done.add(broker)
        if not improved:
            return


def _reachable(graph: _FollowerIndex, source: int) -> dict[int, int | None]:
    """Breadth-first tree of the brokers leadership can flow to from ``source``."""
    parent: dict[int, int | None] = {source: None}
    queue = deque([source])
    while queue:
        leader = queue.popleft()
        for follower in list(graph.followers(leader)):
            if follower not in parent and graph.edge(leader, follower) is not None:
                parent[follower] = leader
                queue.append(follower)
    return parent


def _push_paths(state: LeaderState, graph: _FollowerIndex, source: int, parent: dict[int, int | None]) -> bool:
    """Push leadership along the tree's paths to every broker ``source`` can still improve
    on, lowest first, while the edges stay valid. True if anything moved."""
    counts = state.leader_counts
    pushed = False
    for dest in sorted(parent, key=lambda b: (counts[b], b)):
        if counts[source] - counts[dest] < 2:
            break
        path = []
        broker = dest
        step = parent[broker]
        while step is not None:
            path.append((step, broker))
            broker = step
            step = parent[broker]
        path.reverse()
        while counts[source] - counts[dest] >= 2:
            found = [graph.edge(leader, follower) for leader, follower in path]
            chosen = [p for p in found if p is not None]
            if len(chosen) != len(found) or len(set(chosen)) != len(chosen):
                break
            pushed = True
            for (leader, follower), p in zip(path, chosen):
                replica_list = state.final[p]
                i = replica_list.index(follower)
                state.final[p] = [follower] + replica_list[:i] + replica_list[i + 1:]
                counts[leader] -= 1
                counts[follower] += 1
                state.led[follower].append(p)
                graph.led_by(follower, p)
    return pushed
