# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Partition reassignment planning: least data movement, exact balance, rack-aware.

``plan_reassignment(current, brokers, **options)`` takes Kafka's reassignment JSON for the
partitions as they are today and the brokers that should hold replicas afterwards, and returns
the reassignment JSON to apply plus statistics. Pure standard-library Python, no Ansible import,
so it can be unit-tested and benchmarked on its own.

Definitions used throughout (the module documentation, the tests and the benchmark use the same):

Target set
    The brokers passed in ``brokers``. Brokers holding replicas today but missing from the list
    are drained; new ids are filled.

Rack rule
    If every target broker has a rack, a partition with replication factor RF must have its
    replicas on ``min(RF, R)`` distinct racks, where R is the number of racks in the target set.
    If no target broker has a rack, there is no rack rule. A mix raises ``InvalidBrokersError``.
    A replica on a broker outside the target set has no known rack; when counting violations
    of the *current* placement it is taken to be on a rack of its own.

Balanced replica counts
    Let N be the number of replicas to place (sum of target RFs of the planned partitions).
    The broker replica counts are balanced when the vector of counts is the most even one any
    rack-valid placement can have: it minimises the sum of squared counts, which for these
    problems is the same as minimising the largest count, then the next, and so on. In practice:

    * no racks, or racks that leave room (for example RF < R, or racks of equal size): every
      target broker holds ``floor(N/B)`` or ``ceil(N/B)`` replicas (B target brokers);
    * every partition has RF == R: each rack holds exactly one replica of every partition, so
      rack r holds P replicas (P partitions) whatever its size; no replica can change rack and
      each broker holds ``floor`` or ``ceil`` of ``P / brokers_in_rack``, rack by rack;
    * in between (mixed RF, racks of unequal size): each rack gets the load L_r that minimises
      the sum of squares over all loads the rack rule allows, and its brokers hold
      ``floor``/``ceil`` of ``L_r / brokers_in_rack``. Brokers of one rack never differ by
      more than one; racks differ only as far as the rack rule forces them.

    The chosen per-broker targets are returned as ``stats['replica_targets']`` and the regime as
    ``stats['balance_regime']`` (``global`` when all targets are within one of each other,
    ``per_rack`` otherwise).

Balanced leaders
    The leader is the first replica. Leader counts are made as even as reordering replica lists
    can make them (the same sum-of-squares criterion over the brokers that hold each
    partition); this is ``floor``/``ceil`` of ``P / B`` whenever reordering allows, which it
    does unless many partitions have RF 1. Leadership is only ever changed by reordering, never
    by moving data; a leadership change is not a replica move.

Replica move
    A replica placed on a broker that did not hold that partition before. Dropping a replica
    (RF decrease, drained broker) is not a move; a reorder is not a move.

Lower bound
    ``lower_bound`` is the largest of three bounds, each a number of moves that every balanced,
    rack-valid plan needs (``stats['lower_bound_detail']`` gives the parts):

    * ``N - keepable_by_brokers``: a broker b with ``c_b`` replicas of planned partitions today
      and target ``t_b`` keeps at most ``min(c_b, t_b)``; the bound takes the best sum over
      every balanced target vector (the ``floor``/``ceil`` extras may sit on any broker the
      rack rule lets them sit on). With RF unchanged and no racks this is exactly "replicas on
      removed brokers + each broker's surplus over its target". Under the rack rule two
      refinements apply per rack: partitions with RF >= R must each get a replica in every rack,
      so one with no keepable replica in a rack forces a new replica there (the rack keeps at
      most ``L_r - forced``), and they leave only ``L_r - (their number)`` places in the rack
      for replicas of the other partitions;
    * ``N - keepable_by_partitions``: a partition keeps at most its target RF, only replicas on
      target brokers, and only a set that can still be completed to a valid one (RF <= R: one
      replica per rack; RF > R: at most ``RF - R + racks_covered``). This is what makes fixing
      rack violations cost moves even on a balanced cluster;
    * ``moves_into_short_brokers`` (only when replicas must be dropped: RF decrease, drains,
      violations): for the set X of brokers left below target by the drops, at most
      ``sum over partitions of min(replicas in X, target RF)`` replicas can stay in X, and X
      must end with at least its share of the targets; the same for the other brokers.

    Without racks or RF changes the plan matched the exhaustive optimum in every (tiny,
    hypothesis-drawn) test case. In the benchmark (benchmarks/reassignment/RESULTS.md) it meets
    the bound in 49 of 60 cases and is within 1.09 of it in all; ``stats['moves_over_lower_bound']``
    reports the ratio. Where they differ, the planner, the bound or both may be off: the bound
    does not see, for example, that a broker far above target may hold few partitions allowed
    to leave its rack.

Algorithm (all counting and greedy steps, linear in the number of replicas, plus small
flow problems over racks):

    1. targets: rack loads by exchange descent on the sum of squares over the rack-load
       polytope of the RF mix (M-convex, so the local optimum is global), ties broken towards
       keeping replicas where they are; per rack, ``ceil`` goes to the brokers holding most;
    2. drops every plan must make (drained brokers, RF decrease, rack violations), choosing
       the replica on the broker furthest above target, then improved by augmenting paths;
    3. each broker above target sheds its surplus (followers before leaders; smallest
       partitions first when sizes are given); a min-cost flow over racks decides how many
       shed and missing replicas go to which rack (extra moves only where the rack rule
       forces them), then each rack fills its brokers below target, repairing dead ends by
       augmenting paths;
    4. leaders: hand-overs to less loaded replicas, then augmenting paths over the
       "leader -> follower" graph until no chain lowers the sum of squares.

Stats also carry ``balanced`` (counts equal the targets; false only in rare layouts where
the repair steps run out, for example a rack of one broker pinned by RF >= racks partitions),
``unrouted_holes`` (replicas the rack routing could not place as planned, a diagnostic) and
the per-broker ``replica_targets`` and ``rack_loads``.

Options (keyword arguments)
    ``include_topics`` / ``exclude_topics``
        Lists of strings. An entry equal to an existing topic name selects that topic exactly;
        any other entry is a regular expression that must match the *whole* topic name
        (``re.fullmatch``). An entry that selects no topic raises ``UnknownTopicError``.
        Only the selected partitions are planned and counted for balance; the others are left
        exactly as they are (``stats['excluded_partitions']``, and
        ``stats['unplanned_replicas_on_removed_brokers']`` if any of them sit on drained brokers).
    ``replication_factors``
        ``{topic: rf}``: new replication factor for every partition of the topic.
    ``partition_sizes``
        ``{"topic-partition": bytes}`` or ``{(topic, partition): bytes}``. Partitions without a
        size count as 0 bytes. Sizes never change the counts (replica and leader balance and the
        number of moves stay exactly as without sizes); among count-optimal choices the planner
        moves the smallest partitions, and places moved replicas largest first on the target
        broker holding the fewest bytes. ``stats['bytes']`` reports bytes moved and the byte
        spread before and after.
    ``max_moves``
        Cap on replica moves. If the full plan needs more, a valid partial plan is returned
        (``stats['complete']`` is false, ``stats['remaining_moves']`` says how many moves the
        rest needs): draining removed brokers first, then fixing rack violations and RF changes,
        then the moves that reduce imbalance most. Leaders are rebalanced by reordering on the
        partial result. Re-planning after applying it continues the work.
"""

from __future__ import annotations

import heapq
import json
import re
from collections import Counter, deque

__all__ = [
    "InfeasiblePlanError",
    "InvalidAssignmentError",
    "InvalidBrokersError",
    "InvalidOptionError",
    "PlanningError",
    "ReplicationFactorError",
    "UnknownTopicError",
    "plan_reassignment",
    "rack_violations",
]

_HOLE = -1
_OPTIONS = frozenset(
    ("include_topics", "exclude_topics", "replication_factors", "partition_sizes", "max_moves")
)


class PlanningError(ValueError):
    """Base class of every error raised for bad input to the planner."""


class InvalidAssignmentError(PlanningError):
    """``current`` is not valid reassignment JSON (structure, types, duplicates)."""


class InvalidBrokersError(PlanningError):
    """``brokers`` is malformed: duplicate ids, bad types, racks on only some brokers."""


class ReplicationFactorError(PlanningError):
    """A replication factor cannot be met by the target brokers."""


class UnknownTopicError(PlanningError):
    """An option names a topic (or pattern) that matches no topic in ``current``."""


class InvalidOptionError(PlanningError):
    """An option has the wrong type or value, or is not a known option."""


class InfeasiblePlanError(PlanningError):
    """The constraints admit no placement the planner can compute."""


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------
# Input parsing
# --------------------------------------------------------------------------------------------


def _parse_brokers(brokers):
    if not isinstance(brokers, (list, tuple)) or not brokers:
        raise InvalidBrokersError(
            "brokers must be a non-empty list of {'id': int, 'rack': str or None}"
        )
    racks = {}
    for pos, broker in enumerate(brokers):
        if not isinstance(broker, dict) or "id" not in broker:
            raise InvalidBrokersError(
                "brokers[%d] must be a dict with an 'id' (and optionally a 'rack')" % pos
            )
        bid = broker["id"]
        if not _is_int(bid) or bid < 0:
            raise InvalidBrokersError(
                "brokers[%d]: id must be a non-negative integer, got %r" % (pos, bid)
            )
        rack = broker.get("rack")
        if rack is not None and (not isinstance(rack, str) or not rack):
            raise InvalidBrokersError(
                "broker %d: rack must be a non-empty string or None, got %r" % (bid, rack)
            )
        if bid in racks:
            raise InvalidBrokersError("broker id %d is listed more than once" % bid)
        racks[bid] = rack
    without = sorted(b for b, r in racks.items() if r is None)
    if without and len(without) != len(racks):
        raise InvalidBrokersError(
            "brokers %s have no rack while the others have one: give every target broker a "
            "rack (rack-aware planning) or none (rack-unaware)" % without
        )
    return racks


def _load_current(current):
    if isinstance(current, (str, bytes, bytearray)):
        try:
            current = json.loads(current)
        except ValueError as exc:
            raise InvalidAssignmentError("current is not valid JSON: %s" % exc) from None
    if not isinstance(current, dict):
        raise InvalidAssignmentError(
            "current must be reassignment JSON: {'version': 1, 'partitions': [...]}"
        )
    version = current.get("version", 1)
    if version != 1:
        raise InvalidAssignmentError("current: only version 1 is understood, got %r" % (version,))
    partitions = current.get("partitions")
    if not isinstance(partitions, list):
        raise InvalidAssignmentError("current['partitions'] must be a list")
    entries = []
    append = entries.append
    for pos, entry in enumerate(partitions):
        try:
            topic = entry["topic"]
            part = entry["partition"]
            replicas = entry["replicas"]
        except (TypeError, KeyError):
            raise InvalidAssignmentError(
                "current['partitions'][%d] must be a dict with topic, partition and replicas"
                % pos
            ) from None
        if (
            not isinstance(topic, str)
            or not isinstance(part, int)
            or part is True
            or part is False
            or not isinstance(replicas, list)
            or not topic
            or part < 0
            or not replicas
        ):
            _entry_error(pos, topic, part, replicas)
        for b in replicas:
            if not isinstance(b, int) or b < 0 or b is True or b is False:
                _entry_error(pos, topic, part, replicas)
        if len(set(replicas)) != len(replicas):
            _entry_error(pos, topic, part, replicas)
        append((topic, part, replicas))
    entries.sort(key=lambda e: (e[0], e[1]))
    for i in range(1, len(entries)):
        if entries[i][0] == entries[i - 1][0] and entries[i][1] == entries[i - 1][1]:
            raise InvalidAssignmentError("%s-%d is listed more than once" % entries[i][:2])
    return entries


def _entry_error(pos, topic, part, replicas):
    """Raise the precise error for a malformed partition entry."""
    if not isinstance(topic, str) or not topic:
        raise InvalidAssignmentError(
            "current['partitions'][%d]: topic must be a non-empty string" % pos
        )
    if not _is_int(part) or part < 0:
        raise InvalidAssignmentError(
            "%s: partition must be a non-negative integer, got %r" % (topic, part)
        )
    if not isinstance(replicas, list) or not replicas:
        raise InvalidAssignmentError(
            "%s-%d: replicas must be a non-empty list of broker ids" % (topic, part)
        )
    for b in replicas:
        if not _is_int(b) or b < 0:
            raise InvalidAssignmentError("%s-%d: replica %r is not a broker id" % (topic, part, b))
    raise InvalidAssignmentError(
        "%s-%d: replicas %s name a broker more than once" % (topic, part, replicas)
    )


def _select_topics(topics, include, exclude):
    """Return the set of selected topic names (documented in the module docstring)."""

    def resolve(option, patterns):
        if patterns is None:
            return None
        if isinstance(patterns, str) or not isinstance(patterns, (list, tuple, set, frozenset)):
            raise InvalidOptionError("%s must be a list of topic names or patterns" % option)
        chosen = set()
        for pattern in sorted(patterns):
            if not isinstance(pattern, str) or not pattern:
                raise InvalidOptionError("%s entries must be non-empty strings" % option)
            if pattern in topics:
                chosen.add(pattern)
                continue
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                raise InvalidOptionError(
                    "%s: %r is neither a topic nor a valid regular expression (%s)"
                    % (option, pattern, exc)
                ) from None
            hits = {t for t in topics if regex.fullmatch(t)}
            if not hits:
                raise UnknownTopicError(
                    "%s: %r is not a topic in current and matches none as a regular "
                    "expression (full match)" % (option, pattern)
                )
            chosen |= hits
        return chosen

    selected = resolve("include_topics", include)
    if selected is None:
        selected = set(topics)
    excluded = resolve("exclude_topics", exclude)
    if excluded:
        selected -= excluded
    return selected


def select_topics(topics, include=None, exclude=None):
    """The names of ``topics`` that ``include``/``exclude`` select, with the planner's rules (an
    entry equal to a topic name selects that topic only; any other is a regular expression that
    must match whole names; an entry selecting nothing raises ``UnknownTopicError``)."""
    return _select_topics(set(topics), include, exclude)


def _parse_sizes(sizes, known_topics, keys_index):
    if sizes is None:
        return None
    if not isinstance(sizes, dict):
        raise InvalidOptionError("partition_sizes must be a dict of partition -> bytes")
    out = {}
    for key, value in sizes.items():
        if isinstance(key, str):
            topic, sep, part = key.rpartition("-")
            if not sep or not topic or not part.isdigit():
                raise InvalidOptionError(
                    "partition_sizes key %r must be 'topic-partition' or (topic, partition)" % key
                )
            pkey = (topic, int(part))
        elif isinstance(key, (tuple, list)) and len(key) == 2:
            pkey = (key[0], key[1])
            if not isinstance(pkey[0], str) or not _is_int(pkey[1]):
                raise InvalidOptionError("partition_sizes key %r is not (topic, partition)" % (key,))
        else:
            raise InvalidOptionError(
                "partition_sizes key %r must be 'topic-partition' or (topic, partition)" % (key,)
            )
        if not (_is_int(value) or isinstance(value, float)) or value < 0:
            raise InvalidOptionError(
                "partition_sizes[%r] must be a non-negative number of bytes" % (key,)
            )
        if pkey[0] not in known_topics:
            raise UnknownTopicError("partition_sizes names topic %r, not in current" % pkey[0])
        if pkey not in keys_index:
            raise InvalidOptionError(
                "partition_sizes names %s-%d, which is not in current" % pkey
            )
        out[pkey] = value
    return out


# --------------------------------------------------------------------------------------------
# Rack-level load model
# --------------------------------------------------------------------------------------------


class _RackModel:
    """Which per-rack replica loads the rack rule allows, for a multiset of RFs.

    Each partition of RF r contributes to rack j between ``lo`` and ``hi`` replicas
    (r <= R: 0..1; r > R: 1..min(size_j, r-R+1)) and r in total. The loads the whole set of
    partitions can produce are exactly the integer vectors L with sum N and
    ``L(S) <= f(S)`` for every set of racks S, where f sums, per partition,
    ``min(hi(S), r - lo(outside S))`` (a sum of such box-and-sum sets is again one).
    """

    def __init__(self, sizes, rf_counts):
        self.k = k = len(sizes)
        self.sizes = sizes
        classes = sorted(rf_counts.items())
        self.total = sum(r * c for r, c in classes)
        self.symmetric = all(r <= k for r, _count in classes)
        if self.symmetric:
            self.g = [sum(c * min(s, r) for r, c in classes) for s in range(k + 1)]
            self.f = None
        else:
            if k > 16:
                raise InfeasiblePlanError(
                    "replication factors above the number of racks are supported for at most "
                    "16 racks (got %d racks)" % k
                )
            full = (1 << k) - 1
            f = [0] * (full + 1)
            for mask in range(full + 1):
                members = [j for j in range(k) if mask >> j & 1]
                s = len(members)
                value = 0
                for r, c in classes:
                    if r <= k:
                        value += c * min(s, r)
                    else:
                        hi = sum(min(sizes[j], r - k + 1) for j in members)
                        value += c * min(hi, r - (k - s))
                f[mask] = value
            self.f = f
            self.g = None

    def feasible(self, loads):
        k = self.k
        if sum(loads) != self.total or min(loads) < 0:
            return False
        if self.symmetric:
            acc = 0
            for s, value in enumerate(sorted(loads, reverse=True), 1):
                acc += value
                if acc > self.g[s]:
                    return False
            return True
        sums = self._subset_sums(loads)
        return all(sums[m] <= self.f[m] for m in range(1 << k))

    def _subset_sums(self, loads):
        size = 1 << self.k
        sums = [0] * size
        for mask in range(1, size):
            low = mask & -mask
            sums[mask] = sums[mask ^ low] + loads[low.bit_length() - 1]
        return sums

    def capacity(self, loads, src, dst):
        """How many units can move from rack ``src`` to rack ``dst`` staying feasible."""
        k = self.k
        if self.symmetric:
            others = sorted((loads[j] for j in range(k) if j not in (src, dst)), reverse=True)
            best = None
            acc = loads[dst]
            for s in range(1, k):
                if s > 1:
                    acc += others[s - 2]
                slack = self.g[s] - acc
                if best is None or slack < best:
                    best = slack
            return max(0, best if best is not None else 0)
        sums = self._subset_sums(loads)
        f = self.f
        bit_dst = 1 << dst
        bit_src = 1 << src
        best = None
        for mask in range(1 << k):
            if mask & bit_dst and not mask & bit_src:
                slack = f[mask] - sums[mask]
                if best is None or slack < best:
                    best = slack
        return max(0, best)

    def start(self, rf_counts):
        """A feasible load vector: every RF class spread evenly over the racks."""
        k, sizes = self.k, self.sizes
        loads = [0] * k
        for r, c in sorted(rf_counts.items()):
            if r <= k:
                q, e = divmod(c * r, k)
                for j in range(k):
                    loads[j] += q + (1 if j < e else 0)
            else:
                caps = [c * (min(sizes[j], r - k + 1) - 1) for j in range(k)]
                extra = c * (r - k)
                add = [0] * k
                while extra:
                    room = [j for j in range(k) if add[j] < caps[j]]
                    share = max(1, extra // len(room))
                    for j in room:
                        step = min(share, caps[j] - add[j], extra)
                        add[j] += step
                        extra -= step
                        if not extra:
                            break
                for j in range(k):
                    loads[j] += c + add[j]
        return loads


def _split_cost(load, size):
    q, e = divmod(load, size)
    return (size - e) * q * q + e * (q + 1) * (q + 1)


def _rack_keep(load, cur_sorted):
    """Most current replicas rack members can keep if the rack holds ``load`` replicas."""
    size = len(cur_sorted)
    q, e = divmod(load, size)
    total = 0
    for pos, c in enumerate(cur_sorted):
        cap = q + 1 if pos < e else q
        total += c if c < cap else cap
    return total


def _descend(model, loads):
    """Steepest exchange descent on the sum of squares (M-convex: local optimum is global)."""
    k, sizes = model.k, model.sizes
    while True:
        best = None
        for i in range(k):
            if not loads[i]:
                continue
            level_i = (loads[i] - 1) // sizes[i]
            for j in range(k):
                if i == j:
                    continue
                gain = level_i - loads[j] // sizes[j]
                if gain <= 0 or (best is not None and gain <= best[0]):
                    continue
                cap = model.capacity(loads, i, j)
                if cap > 0:
                    best = (gain, i, j, cap)
        if best is None:
            return loads
        i, j, cap = best[1:]
        lo, hi = 1, cap
        while lo < hi:  # largest d whose d-th unit still improves
            mid = (lo + hi + 1) // 2
            if (loads[i] - mid) // sizes[i] > (loads[j] + mid - 1) // sizes[j]:
                lo = mid
            else:
                hi = mid - 1
        loads[i] -= lo
        loads[j] += lo


def _zero_cost_pairs(model, loads):
    k, sizes = model.k, model.sizes
    for i in range(k):
        if not loads[i]:
            continue
        for j in range(k):
            if i != j and (loads[i] - 1) // sizes[i] == loads[j] // sizes[j]:
                yield i, j


def _rack_loads(model, rf_counts, keep, current_loads):
    """Balanced rack loads; among the optimal ones, one that lets brokers keep the most.

    ``keep(j, load)`` bounds how many current replicas rack j keeps if it holds ``load``.
    """
    loads = _descend(model, model.start(rf_counts))
    best_cost = sum(_split_cost(loads[j], model.sizes[j]) for j in range(model.k))
    if (
        current_loads is not None
        and model.feasible(current_loads)
        and sum(_split_cost(current_loads[j], model.sizes[j]) for j in range(model.k)) == best_cost
    ):
        loads = list(current_loads)
    for _round in range(4 * sum(model.sizes) + 4):
        moved = False
        for i, j in _zero_cost_pairs(model, loads):
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


def _load_ranges(model, loads):
    """Per rack, the least and most it holds over all optimal (balanced) load vectors."""
    k = model.k
    ranges = []
    for j in range(k):
        bounds = []
        for direction in (1, -1):
            cur = list(loads)
            for _step in range(sum(model.sizes) + 1):
                step = None
                for i, jj in _zero_cost_pairs(model, cur):
                    if direction == 1 and jj == j and model.capacity(cur, i, j) >= 1:
                        step = (i, j)
                        break
                    if direction == -1 and i == j and model.capacity(cur, j, jj) >= 1:
                        step = (j, jj)
                        break
                if step is None:
                    break
                cur[step[0]] -= 1
                cur[step[1]] += 1
            bounds.append(cur[j])
        ranges.append((bounds[1], bounds[0]))
    return ranges


# --------------------------------------------------------------------------------------------
# Small max-flow for the rack-level routing of moved replicas
# --------------------------------------------------------------------------------------------


def _min_cost_flow(n_nodes, edges, source, sink):
    """Min-cost max-flow on a tiny graph (successive shortest paths, Bellman-Ford).

    ``edges``: list of (u, v, cap, cost) with cost >= 0. Returns the flow on each edge.
    """
    graph = [[] for _node in range(n_nodes)]
    to, cap, cost = [], [], []
    for u, v, c, w in edges:
        graph[u].append(len(to))
        to.append(v)
        cap.append(c)
        cost.append(w)
        graph[v].append(len(to))
        to.append(u)
        cap.append(0)
        cost.append(-w)
    original = list(cap)
    while True:
        dist = [None] * n_nodes
        parent = [-1] * n_nodes
        dist[source] = 0
        queue = deque([source])
        queued = [False] * n_nodes
        queued[source] = True
        while queue:
            u = queue.popleft()
            queued[u] = False
            for e in graph[u]:
                if cap[e] > 0:
                    v = to[e]
                    nd = dist[u] + cost[e]
                    if dist[v] is None or nd < dist[v]:
                        dist[v] = nd
                        parent[v] = e
                        if not queued[v]:
                            queued[v] = True
                            queue.append(v)
        if dist[sink] is None:
            break
        push = None
        v = sink
        while v != source:
            e = parent[v]
            push = cap[e] if push is None else min(push, cap[e])
            v = to[e ^ 1]
        v = sink
        while v != source:
            e = parent[v]
            cap[e] -= push
            cap[e ^ 1] += push
            v = to[e ^ 1]
    return [original[2 * i] - cap[2 * i] for i in range(len(edges))]


# --------------------------------------------------------------------------------------------
# The planner
# --------------------------------------------------------------------------------------------


def rack_violations(assignment, racks):
    """Count partitions of ``assignment`` (list of replica lists) that break the rack rule.

    ``racks`` maps broker id to rack (or None everywhere for no rack rule). A broker missing
    from ``racks`` is taken to be on a rack of its own.
    """
    known = {r for r in racks.values() if r is not None}
    n_racks = len(known)
    if not n_racks:
        return 0
    bad = 0
    for replicas in assignment:
        seen = {racks.get(b) or ("?", b) for b in replicas}
        if len(seen) < min(len(replicas), n_racks):
            bad += 1
    return bad


class _Plan:
    # pylint: disable=too-many-instance-attributes

    def __init__(self, racks_by_id, reps, rf, sizes):
        ids = sorted(racks_by_id)
        self.n = n = len(ids)
        self.ids = ids
        index = {b: i for i, b in enumerate(ids)}
        extra = sorted({b for lst in reps for b in lst if b not in index})
        self.all_ids = ids + extra
        index = {b: i for i, b in enumerate(self.all_ids)}
        self.removed_ids = extra
        self.rack_aware = racks_by_id[ids[0]] is not None
        names = sorted({racks_by_id[b] for b in ids}) if self.rack_aware else [None]
        self.rack_names = names
        rank = {name: j for j, name in enumerate(names)}
        self.k = len(names)
        # brokers outside the target set have no known rack: each counts as a rack of its own
        self.rack_of = [rank[racks_by_id[b]] for b in ids] + [-2 - i for i in range(len(extra))]
        self.members = [[] for _name in names]
        for i in range(n):
            self.members[self.rack_of[i]].append(i)
        get = index.__getitem__
        self.reps = [list(map(get, lst)) for lst in reps]
        self.rf = rf
        self.sizes = sizes
        self.P = len(reps)

    # -- targets -----------------------------------------------------------------------------

    def targets(self):
        n, k = self.n, self.k
        nb = len(self.all_ids)
        cur = [0] * nb
        for lst in self.reps:
            for b in lst:
                cur[b] += 1
        self.cur = cur
        self.total = total = sum(self.rf)
        sizes = [len(m) for m in self.members]
        cur_by_rack = [sorted((cur[b] for b in m), reverse=True) for m in self.members]
        # replicas every valid plan must place new in a rack: partitions with RF >= racks
        # have to cover every rack, and some have no keepable replica in one of them
        pinned = [0] * k
        if self.rack_aware:
            rack_of = self.rack_of
            for p, lst in enumerate(self.reps):
                if self.rf[p] < k:
                    continue
                covered = {rack_of[b] for b in lst if b < n}
                if len(covered) < k:
                    for j in range(k):
                        if j not in covered:
                            pinned[j] += 1
        self.pinned = pinned
        # Partitions with RF >= racks have a replica in every rack, so a rack holding L
        # replicas has room for at most L - (their number) replicas of the other partitions:
        # on each broker, replicas of those other partitions only count as keepable within
        # that shared budget.
        low_budget = None
        if self.rack_aware:
            wide = sum(1 for r in self.rf if r >= k)
            cur_hi = [0] * n
            for p, lst in enumerate(self.reps):
                if self.rf[p] >= k:
                    for b in lst:
                        if b < n:
                            cur_hi[b] += 1
            members_hi = [[(cur_hi[b], cur[b] - cur_hi[b]) for b in m] for m in self.members]

            def low_budget(j, load):
                q = load // len(self.members[j]) + 1
                base = useful = 0
                for hi, lo in members_hi[j]:
                    base += hi if hi < q else q
                    room = q - hi
                    if room > 0:
                        useful += lo if lo < room else room
                return base + min(useful, max(0, load - wide))

        def keep(j, load):
            best = min(_rack_keep(load, cur_by_rack[j]), load - pinned[j])
            if low_budget is not None:
                best = min(best, low_budget(j, load))
            return best

        if k == 1:
            loads = [total]
            self.model = None
            ranges = [(total, total)]
        else:
            model = _RackModel(sizes, Counter(self.rf))
            self.model = model
            current_loads = [sum(cur[b] for b in m) for m in self.members]
            if sum(current_loads) != total:
                current_loads = None
            loads = _rack_loads(model, Counter(self.rf), keep, current_loads)
            ranges = _load_ranges(model, loads)
        t = [0] * n
        for j, m in enumerate(self.members):
            q, e = divmod(loads[j], len(m))
            order = sorted(m, key=lambda b: (-cur[b], b))
            for pos, b in enumerate(order):
                t[b] = q + 1 if pos < e else q
        self.t = t
        self.rack_loads = loads
        self.keep_brokers = self._keep_bound(keep, ranges)

    def _keep_bound(self, keep, ranges):
        """Upper bound on replicas kept over every balanced target vector (see docstring)."""
        t, cur = self.t, self.cur
        per_rack = sum(
            max(keep(j, load) for load in range(lo, hi + 1))
            for j, (lo, hi) in enumerate(ranges)
        )
        # racks whose target values touch can trade floor/ceil extras at no cost
        spans = sorted(
            (min(t[b] for b in m), max(t[b] for b in m), j) for j, m in enumerate(self.members)
        )
        groups = []
        for lo, hi, j in spans:
            if groups and lo <= groups[-1][1] + 1:
                groups[-1][1] = max(groups[-1][1], hi)
                groups[-1][2].append(j)
            else:
                groups.append([lo, hi, [j]])
        self.groups = groups
        pooled = 0
        for group in groups:
            racks = group[2]
            bs = [b for j in racks for b in self.members[j]]
            cs = sorted((cur[b] for b in bs), reverse=True)
            ts = sorted((t[b] for b in bs), reverse=True)
            pooled += sum(min(c, x) for c, x in zip(cs, ts))
        return min(per_rack, pooled)

    # -- phase 1: drops every plan must make --------------------------------------------------

    def forced_drops(self):
        n, k = self.n, self.k
        rack_of = self.rack_of
        load = list(self.cur[:n])
        rack_aware = self.rack_aware
        work = {}
        drops = {}
        keep_total = 0
        for p, lst in enumerate(self.reps):
            r = self.rf[p]
            if len(lst) == r and max(lst) < n:
                if not rack_aware or r == 1:
                    keep_total += r
                    continue
                if len({rack_of[b] for b in lst}) >= (r if r < k else k):
                    keep_total += r
                    continue
            on_target = [b for b in lst if b < n]
            keep = self._choose_keep(on_target, r, load)
            keep_total += len(keep)
            new = [b if b in keep else _HOLE for b in lst]
            excess = len(new) - r
            pos = len(new) - 1
            while excess > 0:
                if new[pos] == _HOLE:
                    del new[pos]
                    excess -= 1
                pos -= 1
            new.extend([_HOLE] * (r - len(new)))
            for b in on_target:
                if b not in keep:
                    load[b] -= 1
                    drops.setdefault(b, []).append(p)
            work[p] = new
        self.load = load
        self.work = work
        self.keep_partitions = keep_total
        self.had_drops = bool(drops)
        self.keep_cut = None
        if drops:
            self.keep_cut = self._cut_bound()
            self._improve_drops(drops)

    def _improve_drops(self, drops):
        """Re-choose which replica each partition drops so that fewer kept replicas land on
        brokers already at target: augmenting paths from a broker below target (that lost a
        replica) to one above target, swapping the dropped and the kept replica of a partition
        at every step. Each path saves one move."""
        n, load, t, work = self.n, self.load, self.t, self.work
        # bounded work (a few passes over the drops): each pass fixes many units at once,
        # and the last units are the most expensive to find
        budget = 40 * sum(len(v) for v in drops.values()) + 10000
        while budget > 0 and any(load[b] > t[b] for b in range(n)):
            sources = [b for b in sorted(drops) if load[b] < t[b] and drops[b]]
            parent = {b: None for b in sources}
            queue = deque(sources)
            sinks = []
            while queue:
                d = queue.popleft()
                budget -= len(drops.get(d, ()))
                for p in drops.get(d, ()):
                    lst = work[p]
                    if d in lst:
                        continue
                    for pos, x in enumerate(lst):
                        if x < 0 or x in parent:
                            continue
                        trial = list(lst)
                        trial[pos] = d
                        if not self._extendable(trial, self.rf[p]):
                            continue
                        parent[x] = (d, p, pos)
                        if load[x] > t[x]:
                            sinks.append(x)
                        queue.append(x)
            improved = False
            used = set()
            for x in sinks:  # one BFS tree serves every path still intact
                steps = []
                y = x
                while parent[y] is not None:
                    d, p, pos = parent[y]
                    steps.append((d, p, pos, y))
                    y = d
                if load[x] <= t[x] or load[y] >= t[y]:
                    continue
                if any(p in used or work[p][pos] != yy or d in work[p] for d, p, pos, yy in steps):
                    continue
                for d, p, pos, yy in steps:
                    work[p][pos] = d
                    load[d] += 1
                    load[yy] -= 1
                    drops[d].remove(p)
                    drops.setdefault(yy, []).append(p)
                    used.add(p)
                improved = True
            if not improved:
                return

    def _choose_keep(self, on_target, r, load):
        """Largest keepable subset; drops fall on the most overloaded brokers."""
        t = self.t
        if not self.rack_aware:
            if len(on_target) <= r:
                return set(on_target)
            ranked = sorted(on_target, key=lambda b: (load[b] - t[b], -on_target.index(b)))
            return set(ranked[:r])
        k, rack_of = self.k, self.rack_of
        by_rack = {}
        for pos, b in enumerate(on_target):
            by_rack.setdefault(rack_of[b], []).append((load[b] - t[b], pos, b))
        firsts, extras = [], []
        for j in sorted(by_rack):
            group = sorted(by_rack[j])
            firsts.append(group[0])
            extras.extend(group[1:])
        firsts.sort()
        if r <= k:
            chosen = firsts[:r]
        else:
            limit = min(r, r - k + len(firsts))
            extras.sort()
            chosen = firsts + extras[: max(0, limit - len(firsts))]
        return {entry[2] for entry in chosen}

    # -- phase 2: shed surplus, route holes through racks, fill deficits ---------------------

    def shed_and_fill(self):
        n, k = self.n, self.k
        t, load, work, rack_of = self.t, self.load, self.work, self.rack_of
        sizes = self.sizes
        surplus = [max(0, load[b] - t[b]) for b in range(n)]
        deficit = [max(0, t[b] - load[b]) for b in range(n)]
        self.spilled = 0
        self.export_short = 0
        sh = [sum(surplus[b] for b in m) for m in self.members]
        dm = [sum(deficit[b] for b in m) for m in self.members]

        # holdings of surplus brokers, in the order we prefer to shed (smallest first)
        # (followers before leaders, so leadership mostly stays put and is rebalanced by
        # reordering; with sizes, smallest partitions first)
        holdings = {b: [] for b in range(n) if surplus[b]}
        if holdings:
            led = {b: [] for b in holdings}
            follow_of = [holdings.get(b) for b in range(n)] + [None] * (len(self.all_ids) - n + 1)
            lead_of = [led.get(b) for b in range(n)] + [None] * (len(self.all_ids) - n + 1)
            for p, lst in enumerate(self.reps):
                cur = work.get(p, lst)
                first = cur[0]
                got = lead_of[first]
                if got is not None:
                    got.append(p)
                for b in cur[1:]:
                    got = follow_of[b]
                    if got is not None:
                        got.append(p)
            for b, ps in holdings.items():
                ps.extend(led[b])
                if sizes is not None:
                    ps.sort(key=lambda p: sizes[p])

        full = (1 << k) - 1

        def rack_mask(p):
            m = 0
            for b in work.get(p, self.reps[p]):
                if b >= 0:
                    m |= 1 << rack_of[b]
            return m

        rack_size = [len(m) for m in self.members]
        incoming = {}  # partition -> list of racks already promised to it

        def in_rack(p, j):
            count = sum(1 for b in work.get(p, self.reps[p]) if b >= 0 and rack_of[b] == j)
            return count + incoming.get(p, []).count(j)

        def hole_options(p, holes_left):
            """Racks that can take the next replica of p without breaking the rack rule."""
            used = rack_mask(p)
            for j in incoming.get(p, ()):
                used |= 1 << j
            if self.rf[p] <= k:
                return [j for j in range(k) if not used >> j & 1]
            missing = [j for j in range(k) if not used >> j & 1]
            if len(missing) >= holes_left:
                return missing
            return [j for j in range(k) if in_rack(p, j) < rack_size[j]]

        # free holes grouped by the racks they may go to. For RF > racks, one hole per
        # uncovered rack is pinned to that rack; the others may go to any rack with room.
        free = {}
        pending = {}
        for p in sorted(work):
            lst = work[p]
            holes = lst.count(_HOLE)
            if not holes:
                continue
            pending[p] = [pos for pos, b in enumerate(lst) if b == _HOLE]
            if self.rf[p] <= k:
                allowed = 0
                for j in hole_options(p, holes):
                    allowed |= 1 << j
                free.setdefault((allowed, holes, True), []).append(p)
                continue
            used = rack_mask(p)
            missing = [j for j in range(k) if not used >> j & 1]
            for j in missing:
                free.setdefault((1 << j, 1, True), []).append(p)
            rest = holes - len(missing)
            if rest > 0:
                allowed = 0
                room = []
                for j in range(k):
                    left = rack_size[j] - in_rack(p, j) - (1 if j in missing else 0)
                    room.append(min(rest, left))
                    if left > 0:
                        allowed |= 1 << j
                free.setdefault((allowed, rest, False, tuple(room)), []).append(p)

        # Candidates for sending a shed replica to another rack. A rack never needs to send
        # more than its surplus beyond its deficit plus the free holes that may land in it,
        # so brokers are scanned (largest surplus first) only until that many candidates
        # exist for every destination.
        free_total = sum(len(ps) * key[1] for key, ps in free.items())
        mask_cache = {}
        cand_caps = {}
        buckets = {}
        scanned = [0] * k

        def scan(b, j):
            """Bucket b's replicas by the racks their partition already uses."""
            scanned[j] += surplus[b]
            per_mask = {}
            for p in holdings[b]:
                if self.rf[p] <= k:
                    key = mask_cache.get(p)
                    if key is None:
                        key = mask_cache[p] = rack_mask(p)
                else:
                    same = sum(1 for x in work.get(p, self.reps[p]) if x >= 0 and rack_of[x] == j)
                    key = 0 if same >= 2 else full
                per_mask.setdefault(key, []).append(p)
            buckets[b] = per_mask
            for key, ps in per_mask.items():
                for jj in range(k):
                    if jj != j and not key >> jj & 1:
                        cand_caps[(j, jj)] = cand_caps.get((j, jj), 0) + len(ps)

        for j in range(k if k > 1 else 0):
            need = min(sh[j], sh[j] - dm[j] + free_total)
            if need <= 0:
                continue
            for b in sorted(self.members[j], key=lambda x: (-surplus[x], x)):
                if not surplus[b]:
                    continue
                if scanned[j] >= 2 * need and all(
                    cand_caps.get((j, jj), 0) >= 2 * need for jj in range(k) if jj != j
                ):
                    break
                scan(b, j)

        # rack-level routing: sheds of rack j stay in j or go where candidates allow (never
        # more than the scanned brokers can shed), free holes go to an allowed rack, and
        # every rack receives exactly its deficit.
        groups = sorted(free)
        src, snk = 0, 1
        shed_node = [2 + j for j in range(k)]
        group_node = [2 + k + g for g in range(len(groups))]
        rack_node = [2 + k + len(groups) + j for j in range(k)]
        out_node = [2 + 2 * k + len(groups) + j for j in range(k)]
        n_nodes = 2 + 3 * k + len(groups)
        edges, tags = [], []

        def edge(u, v, c, w, tag=None):
            edges.append((u, v, c, w))
            tags.append(tag)

        big = self.total + 1
        for j in range(k):
            if sh[j]:
                edge(src, shed_node[j], sh[j], 0)
                edge(shed_node[j], rack_node[j], big, 0)
                if scanned[j]:
                    edge(shed_node[j], out_node[j], scanned[j], 0)
                    for jj in range(k):
                        c = cand_caps.get((j, jj), 0)
                        if c and jj != j:
                            edge(out_node[j], rack_node[jj], c, 0, ("export", j, jj))
            if dm[j]:
                edge(rack_node[j], snk, dm[j], 0)
        for g, key in enumerate(groups):
            allowed, holes, single = key[:3]
            count = len(free[key])
            edge(src, group_node[g], count * holes, 0)
            for j in range(k):
                if allowed >> j & 1:
                    cap = count if single else count * key[3][j]
                    edge(group_node[g], rack_node[j], cap, 0, ("group", g, j))
        flows = _min_cost_flow(n_nodes, edges, src, snk)
        routed = sum(f for e, f in zip(edges, flows) if e[0] == src)
        if routed < sum(sh) + free_total and k > 1:
            # The replicas every plan keeps leave some rack short of room: allow moving
            # extra kept replicas out of a rack (one extra move each) to make room.
            for (j, jj), c in sorted(self._swap_capacities(rack_mask).items()):
                edge(rack_node[j], rack_node[jj], c, 1, ("swap", j, jj))
            flows = _min_cost_flow(n_nodes, edges, src, snk)
        swaps = {}
        export = {}
        group_to_rack = {}
        for tag, f in zip(tags, flows):
            if not f or tag is None:
                continue
            kind, a, b = tag
            if kind == "swap":
                swaps[(a, b)] = f
            elif kind == "export":
                export[(a, b)] = f
            else:
                group_to_rack[(a, b)] = f

        quota = list(surplus)
        reps = self.reps
        holes_by_rack = [[] for _rack in range(k)]
        shed_from = set()

        def take(p, b, dest):
            lst = work.get(p)
            if lst is None:
                lst = list(self.reps[p])
                work[p] = lst
            pos = lst.index(b)
            lst[pos] = _HOLE
            quota[b] -= 1
            shed_from.add((p, b))
            incoming.setdefault(p, []).append(dest)
            holes_by_rack[dest].append((p, pos))
            if dest != rack_of[b]:
                exported_by[(p, dest)] = (b, pos)

        def untake(p, b, pos, dest):
            work[p][pos] = b
            quota[b] += 1
            shed_from.discard((p, b))
            incoming[p].remove(dest)
            holes_by_rack[dest].remove((p, pos))
            del exported_by[(p, dest)]

        exported_by = {}

        def promised(p, j):
            return j in incoming.get(p, ())

        # free holes to racks as routed (pinned and one-per-rack groups first)
        for g in sorted(range(len(groups)), key=lambda g: (not groups[g][2], g)):
            allowed, count, single = groups[g][:3]
            budget = {j: group_to_rack.get((g, j), 0) for j in range(k)}
            for p in free[groups[g]]:
                for _hole in range(count):
                    pos = pending[p].pop(0)
                    if single:
                        options = [j for j in hole_options(p, 1) if allowed >> j & 1]
                    else:
                        options = [j for j in range(k) if allowed >> j & 1 and in_rack(p, j) < rack_size[j]]
                    if not options:
                        options = hole_options(p, len(pending[p]) + 1)
                    withbudget = [j for j in options if budget[j] > 0]
                    pool = withbudget or options
                    if not pool:  # pragma: no cover - hole_options always leaves a rack
                        raise InfeasiblePlanError("no rack can take a replica of %d" % p)
                    dest = max(pool, key=lambda j: (budget[j], -j))
                    if not withbudget:
                        self.spilled += 1
                    budget[dest] -= 1
                    incoming.setdefault(p, []).append(dest)
                    holes_by_rack[dest].append((p, pos))

        def can_move(p, b, j, jj):
            """May the replica of p on b (rack j) move to rack jj without breaking the rule?"""
            if (p, b) in shed_from or promised(p, jj):
                return False
            if self.rf[p] <= k:
                return not rack_mask(p) >> jj & 1
            return in_rack(p, j) >= 2 and in_rack(p, jj) < rack_size[jj]

        cursor = {}

        def next_candidate(b, key, j, jj):
            """Next replica on b (bucket ``key``) that may move to rack jj; skipped ones stay
            skipped for jj (what makes them unfit only becomes more true)."""
            ps = buckets[b][key]
            i = cursor.get((b, key, jj), 0)
            while i < len(ps) and not can_move(ps[i], b, j, jj):
                i += 1
            cursor[(b, key, jj)] = i
            return ps[i] if i < len(ps) else None

        def fresh(y, jj):
            jy = rack_of[y]
            for key in sorted(buckets.get(y, ())):
                if not key >> jj & 1:
                    q = next_candidate(y, key, jy, jj)
                    if q is not None:
                        return q
            return None

        def steal(x, j, jj):
            """x (rack j) found no replica to send to jj: take over a partition another broker
            y already sends there and let y send a fresh one instead (augmenting step)."""
            for key in sorted(buckets[x]):
                if key >> jj & 1:
                    continue
                for p in buckets[x][key]:
                    owner = exported_by.get((p, jj))
                    if owner is None or (p, x) in shed_from:
                        continue
                    y, pos = owner
                    untake(p, y, pos, jj)
                    if can_move(p, x, j, jj):
                        q = fresh(y, jj)
                        if q is not None and q != p:
                            take(p, x, jj)
                            take(q, y, jj)
                            return True
                    take(p, y, jj)  # put y's export back as it was
            return False

        # exports, most constrained destination first
        for (j, jj) in sorted(export, key=lambda x: (cand_caps.get(x, 0), x)):
            need = export[(j, jj)]
            brokers_j = [b for b in self.members[j] if quota[b] > 0 and b in buckets]
            while need and brokers_j:
                progressed = False
                for b in sorted(brokers_j, key=lambda x: (-quota[x], x)):
                    if not need:
                        break
                    if quota[b] <= 0:
                        continue
                    pick = None
                    for key in sorted(buckets[b]):
                        if key >> jj & 1:
                            continue
                        p = next_candidate(b, key, j, jj)
                        if p is not None and (pick is None or (sizes is not None and sizes[p] < sizes[pick])):
                            pick = p
                            if sizes is None:
                                break
                    if pick is None:
                        continue
                    take(pick, b, jj)
                    need -= 1
                    progressed = True
                brokers_j = [b for b in brokers_j if quota[b] > 0]
                if not progressed:
                    break
            for b in sorted(self.members[j]):
                while need and quota[b] > 0 and b in buckets and steal(b, j, jj):
                    need -= 1
            if need:
                for b in sorted(self.members[j], key=lambda x: (-quota[x], x)):
                    if not need:
                        break
                    if quota[b] <= 0:
                        continue
                    if b not in buckets:
                        scan(b, j)
                    while need and quota[b] > 0:
                        pick = None
                        for key in sorted(buckets[b]):
                            if not key >> jj & 1:
                                pick = next_candidate(b, key, j, jj)
                                if pick is not None:
                                    break
                        if pick is None:
                            break
                        take(pick, b, jj)
                        need -= 1
            if need:
                # The brokers above target in rack j hold too few partitions that may leave
                # for jj: move that many from other brokers of the rack instead (each costs
                # one extra move; the surplus brokers refill them inside the rack).
                self.export_short += need
                swaps[(j, jj)] = swaps.get((j, jj), 0) + need

        # extra moves the rack rule forces: move kept replicas out of a rack to make room
        for (j, jj), amount in sorted(swaps.items()):
            order = sorted(self.members[j], key=lambda b: (t[b] - load[b], b))
            picked = 0
            for p in range(self.P):
                if picked == amount:
                    break
                cur = work.get(p, self.reps[p])
                if promised(p, jj):
                    continue
                if self.rf[p] <= k and rack_mask(p) >> jj & 1:
                    continue
                in_j = [b for b in cur if b >= 0 and rack_of[b] == j]
                if not in_j or (self.rf[p] > k and len(in_j) < 2):
                    continue
                b = min(in_j, key=order.index)
                if (p, b) in shed_from:
                    continue
                quota[b] += 1
                deficit[b] += 1
                take(p, b, jj)
                picked += 1
            self.spilled += amount - picked

        # the rest of each surplus stays in its rack. Prefer partitions not already losing a
        # replica (so partitions keep most of their replicas and leadership stays movable),
        # then ones not already receiving a replica in that rack, then anything.
        if sizes is not None:
            # smallest partitions first across all brokers (not broker by broker), each from
            # the holder with the most left to shed, so few bytes move
            on_surplus = {}
            for b in sorted(holdings):
                if quota[b] > 0:
                    for p in holdings[b]:
                        on_surplus.setdefault(p, []).append(b)
            for p in sorted(on_surplus, key=lambda q: (sizes[q], q)):
                if p in incoming:
                    continue
                best = None
                for b in on_surplus[p]:
                    if quota[b] > 0 and (p, b) not in shed_from and (best is None or quota[b] > quota[best]):
                        best = b
                if best is not None:
                    take(p, best, rack_of[best])
        # A partition is only worth shedding inside its rack if some broker there that is
        # below target does not hold it already.
        # Claims are a greedy matching of holes to brokers below target, so the sheds chosen
        # can all be placed.
        needy = [[d for d in m if deficit[d] > 0] for m in self.members]
        claim = list(deficit)

        def claim_for(lst, j):
            for d in needy[j]:
                if claim[d] > 0 and d not in lst:
                    claim[d] -= 1
                    return True
            return False

        for j in range(k):
            for p, _pos in holes_by_rack[j]:
                claim_for(work[p], j)
        for strictness in (2, 1, 0):
            for b in sorted(holdings):
                if quota[b] <= 0:
                    continue
                j = rack_of[b]
                holes_j = holes_by_rack[j]
                for p in holdings[b]:
                    if not quota[b]:
                        break
                    if (p, b) in shed_from:
                        continue
                    if strictness:
                        if strictness == 2 and p in incoming:
                            continue
                        if strictness == 1 and promised(p, j):
                            continue
                        lst = work.get(p)
                        if lst is None:
                            lst = reps[p]
                        if not claim_for(lst, j):
                            continue
                    if strictness == 2:
                        if p in incoming:
                            continue
                        lst = work.get(p)
                        if lst is None:
                            lst = work[p] = list(reps[p])
                        pos = lst.index(b)
                        lst[pos] = _HOLE
                        shed_from.add((p, b))
                        incoming[p] = [j]
                        holes_j.append((p, pos))
                        quota[b] -= 1
                        if not quota[b]:
                            break
                        continue
                    if strictness == 1 and promised(p, j):
                        continue
                    take(p, b, j)

        self._fill(holes_by_rack, deficit)

    def _swap_capacities(self, rack_mask):
        """Per rack pair (j, j2): kept replicas in j whose partition could move one to j2."""
        k, rack_of, work = self.k, self.rack_of, self.work
        caps = Counter()
        for p, lst in enumerate(self.reps):
            cur = work.get(p, lst)
            mask = rack_mask(p)
            per_rack = Counter(rack_of[b] for b in cur if b >= 0)
            for j, count in per_rack.items():
                if self.rf[p] > k and count < 2:
                    continue
                for jj in range(k):
                    if jj != j and (self.rf[p] > k or not mask >> jj & 1):
                        caps[(j, jj)] += 1
        return dict(caps)

    def _fill(self, holes_by_rack, deficit):
        n, k = self.n, self.k
        work, sizes = self.work, self.sizes
        remaining = list(deficit)
        weight = None
        if sizes is not None:
            weight = [0] * n
            for p, lst in enumerate(self.reps):
                cur = work.get(p, lst)
                for b in cur:
                    if 0 <= b < n:
                        weight[b] += sizes[p]
        spill = []
        rack_aware = self.rack_aware
        for j in range(k):
            holes = holes_by_rack[j]
            many = Counter(h[0] for h in holes)
            if sizes is not None:
                holes.sort(key=lambda h: (-many[h[0]], -sizes[h[0]], h[0], h[1]))
            else:
                holes.sort(key=lambda h: (-many[h[0]], h[0], h[1]))
            heap = []
            for b in self.members[j]:
                if remaining[b] > 0:
                    heap.append(((weight[b] if weight else -remaining[b]), b))
            heapq.heapify(heap)
            placed_by = {b: [] for b in self.members[j]}
            for p, pos in holes:
                lst = work[p]
                if rack_aware and not self._rack_allows(j, lst, pos):
                    # an earlier re-route put another replica of p in this rack
                    y = self._other_rack(j, lst, pos, remaining)
                    if y is None:
                        spill.append((p, pos))
                    else:
                        lst[pos] = y
                        remaining[y] -= 1
                        if weight is not None:
                            weight[y] += sizes[p]
                    continue
                skipped = []
                chosen = None
                while heap:
                    item = heapq.heappop(heap)
                    if item[1] in lst:
                        skipped.append(item)
                        continue
                    chosen = item
                    break
                for item in skipped:
                    heapq.heappush(heap, item)
                if chosen is None and heap:
                    # every broker still below target holds p: hand one unit of target
                    # ("ceil" instead of "floor") to a broker that does not, same rack, so
                    # balance is unchanged and no extra move is needed
                    y = self._retarget(j, lst, remaining)
                    if y is not None:
                        heap = [(w, b) for w, b in heap if remaining[b] > 0]
                        heapq.heapify(heap)
                        chosen = ((weight[y] if weight else -remaining[y]), y)
                if chosen is None:
                    # another rack the rule allows may still have room (the rack routing
                    # counts replicas per rack and cannot see which broker a partition needs)
                    y = self._other_rack(j, lst, pos, remaining)
                    if y is not None:
                        lst[pos] = y
                        remaining[y] -= 1
                        if weight is not None:
                            weight[y] += sizes[p]
                        continue
                    if not heap:  # the rack is full: the hole has to go elsewhere
                        spill.append((p, pos))
                        continue
                    if self._augment(j, p, pos, remaining, placed_by) or self._augment(
                        j, p, pos, remaining, placed_by, allow_kept=True
                    ):
                        heap = [(w, b) for w, b in heap if remaining[b] > 0]
                        heapq.heapify(heap)
                    else:
                        spill.append((p, pos))
                    continue
                b = chosen[1]
                lst[pos] = b
                remaining[b] -= 1
                placed_by[b].append((p, pos))
                if weight is not None:
                    weight[b] += sizes[p]
                if remaining[b] > 0:
                    heapq.heappush(heap, ((weight[b] if weight else -remaining[b]), b))
        for p, pos in spill:
            self.spilled += 1
            self._place_anywhere(p, pos, remaining)

    def _rack_allows(self, j, lst, pos):
        """May rack j take the replica at ``pos`` (ignoring which broker)?"""
        for y in self.members[j]:
            if y not in lst:
                trial = list(lst)
                trial[pos] = y
                return self._extendable(trial, len(lst))
        return False

    def _other_rack(self, j, lst, pos, remaining):
        """A broker below target in another rack that may take this replica, or None."""
        if not self.rack_aware:
            return None
        r = len(lst)
        for jj in range(self.k):
            if jj == j:
                continue
            for y in self.members[jj]:
                if remaining[y] > 0 and y not in lst:
                    trial = list(lst)
                    trial[pos] = y
                    if self._extendable(trial, r):
                        return y
        return None

    def _retarget(self, j, lst, remaining):
        """Move one unit of target from a broker below target that holds the partition to
        one at a lower target that does not (same rack). Returns that broker or None."""
        t = self.t
        donors = [z for z in self.members[j] if remaining[z] > 0 and z in lst]
        for y in self.members[j]:
            if y in lst:
                continue
            for z in donors:
                if t[z] == t[y] + 1:
                    t[z] -= 1
                    remaining[z] -= 1
                    t[y] += 1
                    remaining[y] += 1
                    return y
        return None

    def _augment(self, j, p, pos, remaining, placed_by, allow_kept=False):
        """Place hole (p, pos) in rack j by shifting already placed holes (augmenting path).

        With ``allow_kept`` kept replicas may shift too (each costs one extra move); this is
        the last resort when the replicas a plan must keep leave no valid completion.
        """
        work = self.work
        members = self.members[j]
        lst_p = work[p]
        kept_on = {}
        if allow_kept:
            member_set = set(members)
            for q, lst in enumerate(self.reps):
                cur = work.get(q, lst)
                for qpos, b in enumerate(cur):
                    if b in member_set:
                        kept_on.setdefault(b, []).append((q, qpos))
            for b, entries in placed_by.items():
                moved = set(entries)
                kept_on[b] = [e for e in kept_on.get(b, ()) if e not in moved]
        parent = {}
        queue = deque()
        for x in members:
            if x not in lst_p:
                parent[x] = None
                queue.append(x)
        found = None
        while queue:
            x = queue.popleft()
            if remaining[x] > 0:
                found = x
                break
            for q, qpos in placed_by[x] + kept_on.get(x, []):
                if q == p:
                    continue
                lst_q = work.get(q, self.reps[q])
                for y in members:
                    if y not in parent and y not in lst_q:
                        parent[y] = (x, q, qpos)
                        queue.append(y)
        if found is None:
            return False
        remaining[found] -= 1
        y = found
        while parent[y] is not None:
            x, q, qpos = parent[y]
            if q not in work:
                work[q] = list(self.reps[q])
            work[q][qpos] = y
            if (q, qpos) in placed_by[x]:
                placed_by[x].remove((q, qpos))
            placed_by[y].append((q, qpos))
            y = x
        lst_p[pos] = y
        placed_by[y].append((p, pos))
        return True

    def _extendable(self, lst, r):
        """Can ``lst`` (holes allowed) still be completed to a rack-valid replica list?"""
        if not self.rack_aware:
            return True
        k, rack_of = self.k, self.rack_of
        placed = [rack_of[b] for b in lst if b >= 0]
        distinct = len(set(placed))
        if r <= k and distinct != len(placed):
            return False
        return distinct + (len(lst) - len(placed)) >= min(r, k)

    def _place_anywhere(self, p, pos, remaining):
        """Place a hole the routing could not: shift replicas along a chain of brokers.

        Starting at any broker that may take p, follow brokers that are full by moving one
        of their replicas (placed or kept; a kept one costs an extra move) to the next broker,
        until a broker below target is reached. Only if no chain exists is a broker allowed
        to go over its target.
        """
        n = self.n
        work, reps = self.work, self.reps
        lst_p = work[p]
        r = self.rf[p]
        holders = {}

        def on(x):
            got = holders.get(x)
            if got is None:
                got = []
                for q in range(self.P):
                    cur = work.get(q, reps[q])
                    for qpos, b in enumerate(cur):
                        if b == x:
                            got.append((q, qpos))
                            break
                holders[x] = got
            return got

        def fits(lst, at, b, rf):
            if b in lst:
                return False
            trial = list(lst)
            trial[at] = b
            return self._extendable(trial, rf)

        parent = {}
        queue = deque()
        for x in range(n):
            if fits(lst_p, pos, x, r):
                parent[x] = None
                queue.append(x)
        found = None
        budget = 200000
        while queue and found is None and budget > 0:
            x = queue.popleft()
            if remaining[x] > 0:
                found = x
                break
            for q, qpos in on(x):
                budget -= 1
                lst_q = work.get(q, reps[q])
                for y in range(n):
                    if y not in parent and fits(lst_q, qpos, y, self.rf[q]):
                        parent[y] = (x, q, qpos)
                        queue.append(y)
                if budget <= 0:
                    break
        if found is None:
            for x in sorted(parent, key=lambda b: (-remaining[b], b)):
                found = x
                break
            if found is None:
                raise InfeasiblePlanError(
                    "no broker can take another replica of partition index %d" % p
                )
            parent = {found: None}
        undo = []
        y = found
        while parent[y] is not None:
            x, q, qpos = parent[y]
            if q not in work:
                work[q] = list(reps[q])
            undo.append((q, qpos, work[q][qpos]))
            work[q][qpos] = y
            y = x
        undo.append((p, pos, lst_p[pos]))
        lst_p[pos] = y
        # steps were checked one by one; check the partitions they touched as a whole
        for step in undo:
            q = step[0]
            lst = work[q]
            placed = [b for b in lst if b >= 0]
            if len(set(placed)) != len(placed) or not self._extendable(lst, self.rf[q]):
                for q2, qpos2, old in reversed(undo):
                    work[q2][qpos2] = old
                start = [x for x in range(n) if fits(lst_p, pos, x, r)]
                if not start:
                    raise InfeasiblePlanError(
                        "no broker can take another replica of partition index %d" % p
                    )
                found = max(start, key=lambda b: (remaining[b], -b))
                lst_p[pos] = found
                break
        remaining[found] -= 1

    def place(self):
        self.targets()
        self.forced_drops()
        if self.had_drops:
            cut = self._cut_bound()
            if cut is not None and (self.keep_cut is None or cut > self.keep_cut):
                self.keep_cut = cut
        self.shed_and_fill()

    def _cut_bound(self):
        """Moves every balanced plan needs into the brokers left below target by the drops.

        For a set X of target brokers, replicas kept in X are at most
        C(X) = sum over partitions of min(replicas in X today, target RF), and X ends with
        at least T(X) replicas (its share of the balanced targets, with the floor/ceil extras
        placed elsewhere where they may go), so at least T(X) - C(X) replicas move into X.
        Adding this for X and for the other target brokers bounds the moves from below.
        """
        n, t, load = self.n, self.t, self.load
        inside = [load[b] < t[b] for b in range(n)]
        if not any(inside) or all(inside):
            return None
        keep_in = keep_out = 0
        for p, lst in enumerate(self.reps):
            r = self.rf[p]
            a = o = 0
            for b in lst:
                if b < n:
                    if inside[b]:
                        a += 1
                    else:
                        o += 1
            keep_in += a if a < r else r
            keep_out += o if o < r else r
        need = 0
        for side, kept in ((True, keep_in), (False, keep_out)):
            low = 0
            for _lo, hi, racks in self.groups:
                members = [b for j in racks for b in self.members[j]]
                total = sum(t[b] for b in members)
                mine = [b for b in members if inside[b] == side]
                low += max(min(t[b] for b in members) * len(mine),
                           total - hi * (len(members) - len(mine)))
            need += max(0, low - kept)
        return need

    def placed_moves(self):
        return sum(self.moves_of(p) for p in self.work)

    def lower_bound(self):
        bound = max(self.total - self.keep_brokers, self.total - self.keep_partitions)
        if getattr(self, "keep_cut", None) is not None:
            bound = max(bound, self.keep_cut)
        return bound

    # -- phase 3: partial plans ---------------------------------------------------------------

    def moves_of(self, p):
        before = set(self.reps[p])
        return sum(1 for b in self.work[p] if b not in before)

    def limit(self, max_moves):
        """Keep a subset of partition changes whose moves fit ``max_moves``."""
        n, t = self.n, self.t
        if max_moves is None:
            self.full_moves = None
            return
        changes = []
        total = 0
        for p in sorted(self.work):
            m = self.moves_of(p)
            total += m
            changes.append((p, m))
        self.full_moves = total
        if max_moves is None or total <= max_moves:
            return
        load = list(self.cur[:n])
        rack_aware, k, rack_of = self.rack_aware, self.k, self.rack_of

        def category(p):
            old = self.reps[p]
            if max(old) >= n:
                return 0
            if len(old) != self.rf[p]:
                return 1
            if rack_aware and len({rack_of[b] for b in old}) < min(len(old), k):
                return 1
            return 2

        def benefit(p):
            old, new = set(self.reps[p]), set(self.work[p])
            gain = 0
            for b in old - new:
                if b < n:
                    gain += load[b] - t[b]
            for b in new - old:
                gain += t[b] - load[b]
            return gain

        ordered = sorted(changes, key=lambda c: (category(c[0]), -benefit(c[0]), c[1], c[0]))
        budget = max_moves
        kept = {}
        for p, m in ordered:
            if m > budget:
                continue
            if m and category(p) == 2 and benefit(p) <= 0:
                continue
            old, new = set(self.reps[p]), set(self.work[p])
            for b in old - new:
                if b < n:
                    load[b] -= 1
            for b in new - old:
                load[b] += 1
            budget -= m
            kept[p] = self.work[p]
        self.work = kept

    # -- phase 4: leaders by reordering only -------------------------------------------------

    def leaders(self):
        """Balance leaders by reordering replica lists only (no data moves)."""
        n = self.n
        nb = len(self.all_ids)
        work = self.work
        final = [work.get(p, lst) for p, lst in enumerate(self.reps)]
        lead = [0] * nb
        by_leader = [[] for _broker in range(nb)]
        for p, lst in enumerate(final):
            lead[lst[0]] += 1
            by_leader[lst[0]].append(p)
        self.final = final
        self.lead = lead
        if not self.P:
            return
        ceil_ = -(-self.P // n)

        def best_follower(lst):
            best = None
            for i in range(1, len(lst)):
                b = lst[i]
                if b < n and (best is None or lead[b] < lead[lst[best]]):
                    best = i
            return best

        def switch(p, i):
            lst = final[p]
            new = [lst[i]] + lst[:i] + lst[i + 1:]
            lead[lst[0]] -= 1
            lead[new[0]] += 1
            by_leader[new[0]].append(p)
            final[p] = new

        # direct hand-overs: leaders on drained brokers first; then from brokers above the
        # ceiling to brokers below the floor, above ceiling -> below ceiling, above floor ->
        # below floor. Each hand-over lowers the sum of squares; chains are left to paths.
        floor_ = self.P // n
        for a in range(n, nb):
            for p in by_leader[a]:
                i = best_follower(final[p])
                if i is not None:
                    switch(p, i)
        rounds = ((ceil_ + 1, floor_ - 1), (ceil_ + 1, ceil_ - 1), (floor_ + 1, floor_ - 1), (0, None))
        for src_min, dst_max in rounds:
            active = lead[:n]
            if max(active) - min(active) <= 1:
                break
            for a in sorted(range(n), key=lambda b: (-lead[b], b)):
                if lead[a] < src_min:
                    continue
                for p in by_leader[a]:
                    if lead[a] < src_min:
                        break
                    lst = final[p]
                    if lst[0] != a:
                        continue
                    i = best_follower(lst)
                    if i is None:
                        continue
                    if lead[lst[i]] <= (lead[a] - 2 if dst_max is None else dst_max):
                        switch(p, i)
                by_leader[a] = [p for p in by_leader[a] if final[p][0] == a]
        active = lead[:n]
        if n > 1 and max(active) - min(active) >= 2:
            self._leader_paths(final, lead, by_leader)

    def _leader_paths(self, final, lead, by_leader):
        """Augmenting paths: move leadership along chains u -> ... -> v with lead[u] >= lead[v]+2.

        An edge a -> b exists while some partition led by a has a replica on b. Repeating
        until no such chain exists gives the most even leader counts reordering can reach.
        """
        n = self.n
        index = {}

        def followers(a):
            got = index.get(a)
            if got is None:
                got = {}
                for p in by_leader[a]:
                    lst = final[p]
                    if lst[0] == a:
                        for b in lst[1:]:
                            if b < n:
                                got.setdefault(b, []).append(p)
                index[a] = got
            return got

        def valid(a, b):
            ps = followers(a).get(b)
            while ps:
                p = ps[-1]
                lst = final[p]
                if lst[0] == a and b in lst:
                    return p
                ps.pop()
            return None

        while True:
            improved = False
            done = set()
            for u in sorted(range(n), key=lambda x: (-lead[x], x)):
                if u in done:
                    continue
                parent = {u: None}
                queue = deque([u])
                while queue:
                    a = queue.popleft()
                    for b in list(followers(a)):
                        if b not in parent and valid(a, b) is not None:
                            parent[b] = a
                            queue.append(b)
                # push along the tree's paths to every broker u can still improve on,
                # lowest first, while the edges stay valid
                pushed = False
                for v in sorted(parent, key=lambda x: (lead[x], x)):
                    if lead[u] - lead[v] < 2:
                        break
                    path = []
                    x = v
                    while parent[x] is not None:
                        path.append((parent[x], x))
                        x = parent[x]
                    path.reverse()
                    while lead[u] - lead[v] >= 2:
                        chosen = [valid(a, b) for a, b in path]
                        if None in chosen or len(set(chosen)) != len(chosen):
                            break
                        pushed = True
                        for (a, b), p in zip(path, chosen):
                            lst = final[p]
                            i = lst.index(b)
                            new = [b] + lst[:i] + lst[i + 1:]
                            final[p] = new
                            lead[a] -= 1
                            lead[b] += 1
                            by_leader[b].append(p)
                            if b in index:
                                for c in new[1:]:
                                    if c < n:
                                        index[b].setdefault(c, []).append(p)
                if pushed:
                    improved = True
                    break
                for x in parent:
                    if lead[x] <= lead[u]:
                        done.add(x)
            if not improved:
                return


def _spread(values):
    return (max(values) - min(values)) if values else 0


def plan_reassignment(current, brokers, **options):
    """Plan a reassignment with the fewest replica moves that reaches exact balance.

    :param current: Kafka reassignment JSON (dict or JSON text) describing every partition
        as it is now: ``{"version": 1, "partitions": [{"topic", "partition", "replicas"}]}``.
        ``log_dirs`` entries are accepted and ignored.
    :param brokers: target brokers, ``[{"id": int, "rack": str or None}, ...]``.
    :param options: ``include_topics``, ``exclude_topics``, ``replication_factors``,
        ``partition_sizes``, ``max_moves`` (see the module docstring).
    :returns: ``{"proposed": reassignment JSON of changed partitions, "stats": {...}}``.
    :raises PlanningError: (a ``ValueError``) or one of its subclasses on bad input.
    """
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InvalidOptionError(
            "unknown option(s) %s; known options are %s" % (unknown, sorted(_OPTIONS))
        )
    racks_by_id = _parse_brokers(brokers)
    entries = _load_current(current)
    topics = {e[0] for e in entries}
    selected = _select_topics(topics, options.get("include_topics"), options.get("exclude_topics"))

    rf_opt = options.get("replication_factors")
    if rf_opt is None:
        rf_opt = {}
    if not isinstance(rf_opt, dict):
        raise InvalidOptionError("replication_factors must be a dict of topic -> replication factor")
    for topic, value in sorted(rf_opt.items(), key=lambda kv: str(kv[0])):
        if topic not in topics:
            raise UnknownTopicError("replication_factors names topic %r, not in current" % (topic,))
        if topic not in selected:
            raise InvalidOptionError(
                "replication_factors names topic %r, which include/exclude_topics leave out" % topic
            )
        if not _is_int(value) or value < 1:
            raise ReplicationFactorError(
                "replication_factors[%r] must be a positive integer, got %r" % (topic, value)
            )

    max_moves = options.get("max_moves")
    if max_moves is not None and (not _is_int(max_moves) or max_moves < 0):
        raise InvalidOptionError("max_moves must be a non-negative integer or None")

    keys_index = {(e[0], e[1]) for e in entries}
    size_map = _parse_sizes(options.get("partition_sizes"), topics, keys_index)

    n = len(racks_by_id)
    planned, others = [], []
    for e in entries:
        (planned if e[0] in selected else others).append(e)
    rf = []
    for topic, part, replicas in planned:
        r = rf_opt.get(topic, len(replicas))
        if r > n:
            raise ReplicationFactorError(
                "%s-%d needs replication factor %d but only %d target brokers are given"
                % (topic, part, r, n)
            )
        rf.append(r)
    sizes = None
    if size_map is not None:
        sizes = [size_map.get((e[0], e[1]), 0) for e in planned]

    replicas = [e[2] for e in planned]
    plan = _Plan(racks_by_id, replicas, rf, sizes)
    if plan.P:
        plan.place()
        if sizes is not None and plan.placed_moves() > plan.lower_bound():
            # Sizes only steer choices among count-optimal ones; if the size-driven choice
            # needed an extra move somewhere, fall back to the count-driven placement when
            # that one needs fewer (bytes are still reported for the result).
            plain = _Plan(racks_by_id, replicas, rf, None)
            plain.place()
            if plain.placed_moves() < plan.placed_moves():
                plain.sizes = sizes
                plan = plain
        plan.limit(max_moves)
        plan.leaders()
    else:
        plan.cur = [0] * len(plan.all_ids)
        plan.t = [0] * n
        plan.total = 0
        plan.keep_brokers = plan.keep_partitions = 0
        plan.full_moves = None
        plan.spilled = 0
        plan.final = []
        plan.lead = [0] * len(plan.all_ids)
        plan.work = {}
        plan.rack_loads = []
    return _report(plan, planned, others, racks_by_id, max_moves)


def _count_violations(lists, rack_of, k, rack_aware):
    if not rack_aware:
        return 0
    bad = 0
    rack = rack_of.__getitem__
    for lst in lists:
        size = len(lst)
        if size > 1 and len(set(map(rack, lst))) < (size if size < k else k):
            bad += 1
    return bad


def _report(plan, planned, others, racks_by_id, max_moves):
    # pylint: disable=too-many-locals
    n, ids, all_ids = plan.n, plan.ids, plan.all_ids
    nb = len(all_ids)
    final, reps, sizes = plan.final, plan.reps, plan.sizes
    to_id = all_ids.__getitem__
    proposed = []
    moves = leadership = bytes_moved = 0
    for p, new in enumerate(final):
        old = reps[p]
        if new is old or new == old:
            continue
        topic, part, old_ids = planned[p]
        proposed.append({"topic": topic, "partition": part, "replicas": list(map(to_id, new))})
        added = 0
        for b in new:
            if b not in old:
                added += 1
        moves += added
        if sizes is not None:
            bytes_moved += added * sizes[p]
        if new[0] != old[0]:
            leadership += 1

    count_after = [0] * nb
    lead_after = [0] * nb
    lead_before = [0] * nb
    for p, lst in enumerate(final):
        lead_after[lst[0]] += 1
        lead_before[reps[p][0]] += 1
        for b in lst:
            count_after[b] += 1
    count_before = plan.cur

    def by_id(values, everyone=False):
        out = {ids[b]: values[b] for b in range(n)}
        if everyone:
            for b in range(n, nb):
                if values[b]:
                    out[all_ids[b]] = values[b]
            out = dict(sorted(out.items()))
        return out

    violations_before = _count_violations(reps, plan.rack_of, plan.k, plan.rack_aware)
    violations_after = _count_violations(final, plan.rack_of, plan.k, plan.rack_aware)
    lower = plan.lower_bound()
    complete = plan.full_moves is None or plan.full_moves <= max_moves
    targets = {ids[b]: plan.t[b] for b in range(n)}
    stats = {
        "complete": complete,
        "rack_aware": plan.rack_aware,
        "racks": {
            name: [ids[b] for b in plan.members[j]] for j, name in enumerate(plan.rack_names)
        } if plan.rack_aware else {},
        "balance_regime": "global" if _spread(list(targets.values())) <= 1 else "per_rack",
        "planned_partitions": plan.P,
        "planned_replicas": plan.total,
        "excluded_partitions": len(others),
        "unplanned_replicas_on_removed_brokers": sum(
            1 for e in others for b in e[2] if b not in racks_by_id
        ),
        "removed_brokers": list(plan.removed_ids),
        "added_brokers": [ids[b] for b in range(n) if not count_before[b]],
        "replica_moves": moves,
        "lower_bound": lower,
        "lower_bound_detail": {
            "replicas_to_place": plan.total,
            "keepable_by_brokers": plan.keep_brokers,
            "keepable_by_partitions": plan.keep_partitions,
            "moves_into_short_brokers": getattr(plan, "keep_cut", None),
        },
        "moves_over_lower_bound": (moves / lower) if lower else (1.0 if moves == 0 else None),
        "remaining_moves": 0 if complete else plan.full_moves - moves,
        "partitions_changed": len(proposed),
        "leadership_changes": leadership,
        "replicas": by_id(count_after, everyone=True),
        "leaders": by_id(lead_after, everyone=True),
        "replica_targets": targets,
        "rack_loads": {
            plan.rack_names[j]: load for j, load in enumerate(plan.rack_loads)
        } if plan.rack_aware else {},
        "balanced": all(count_after[b] == plan.t[b] for b in range(n)) and not any(count_after[n:]),
        "replica_spread": _spread(count_after[:n]),
        "leader_spread": _spread(lead_after[:n]),
        "rack_violations": {"before": violations_before, "after": violations_after},
        "unrouted_holes": plan.spilled,
        "current": {
            "replicas": by_id(count_before, everyone=True),
            "leaders": by_id(lead_before, everyone=True),
            "replica_spread": _spread(count_before[:n]),
            "leader_spread": _spread(lead_before[:n]),
            "rack_violations": violations_before,
        },
    }
    if sizes is not None:
        bytes_before = [0] * nb
        bytes_after = [0] * nb
        for p, lst in enumerate(final):
            size = sizes[p]
            for b in reps[p]:
                bytes_before[b] += size
            for b in lst:
                bytes_after[b] += size
        stats["bytes"] = {
            "moved": bytes_moved,
            "per_broker": by_id(bytes_after),
            "spread_before": _spread(bytes_before[:n]),
            "spread_after": _spread(bytes_after[:n]),
        }
    return {"proposed": {"version": 1, "partitions": proposed}, "stats": stats}
