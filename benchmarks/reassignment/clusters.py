# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Seeded synthetic Kafka clusters and the operations the benchmark applies to them.

Everything here is deterministic for a given seed: the same spec always yields the same
topics, sizes, starting placement and scenarios.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    brokers: int
    racks: int
    replicas: int  # approximate total number of replicas
    rf_weights: tuple = ((3, 0.8), (2, 0.2))  # (replication factor, share of partitions)
    rack_weights: tuple = ()  # relative rack sizes; empty = equal racks
    seed: int = 1
    notes: str = ""


CLUSTERS = {
    "S": ClusterSpec("S", 6, 3, 3_000, notes="6 brokers / 3 racks / 3K replicas"),
    "M": ClusterSpec("M", 24, 3, 50_000, notes="24 brokers / 3 racks / 50K replicas"),
    "M-unequal": ClusterSpec(
        "M-unequal", 24, 3, 50_000, rack_weights=(12, 8, 4),
        notes="24 brokers in racks of 12/8/4",
    ),
    "M-rf1to4": ClusterSpec(
        "M-rf1to4", 24, 3, 50_000,
        rf_weights=((1, 0.1), (2, 0.3), (3, 0.4), (4, 0.2)),
        notes="RF 1-4 mixed",
    ),
    "L": ClusterSpec("L", 90, 3, 300_000, notes="90 brokers / 3 racks / 300K replicas"),
    "XL": ClusterSpec("XL", 200, 6, 1_000_000, notes="200 brokers / 6 racks / 1M replicas"),
}


@dataclass
class Cluster:
    spec: ClusterSpec
    brokers: list  # [{"id", "rack"}]
    current: dict  # reassignment JSON
    sizes: dict  # {(topic, partition): bytes}
    topic_rf: dict = field(default_factory=dict)


def _rack_names(count):
    return ["rack-%s" % chr(ord("a") + i) for i in range(count)]


def make_brokers(spec):
    names = _rack_names(spec.racks)
    weights = spec.rack_weights or (1,) * spec.racks
    total = sum(weights)
    counts = [spec.brokers * w // total for w in weights]
    i = 0
    while sum(counts) < spec.brokers:
        counts[i % spec.racks] += 1
        i += 1
    brokers = []
    bid = 1
    # interleave ids over racks the way operators usually number them
    pools = [[names[j]] * counts[j] for j in range(spec.racks)]
    while any(pools):
        for pool in pools:
            if pool:
                brokers.append({"id": bid, "rack": pool.pop()})
                bid += 1
    return brokers


def _interleaved(brokers):
    """Brokers ordered rack by rack in turn (a, b, c, a, b, c, ...)."""
    by_rack = {}
    for b in sorted(brokers, key=lambda x: x["id"]):
        by_rack.setdefault(b["rack"], []).append(b["id"])
    order = []
    queues = [by_rack[r] for r in sorted(by_rack)]
    while any(queues):
        for q in queues:
            if q:
                order.append(q.pop(0))
    return order


def _stripe(order, racks, partitions, rf, rnd):
    """A rack-valid, even starting placement for one topic (our own simple striping)."""
    n = len(order)
    start = rnd.randrange(n)
    n_racks = len(set(racks.values()))
    out = []
    for p in range(partitions):
        first = (start + p) % n
        shift = 1 + (p // n) % max(1, n - 1)
        reps = [order[first]]
        used = {racks[order[first]]}
        for strict in (True, False):
            for step in range(n):
                if len(reps) == rf:
                    break
                b = order[(first + shift + step) % n]
                if b in reps:
                    continue
                if strict and racks[b] in used and len(used) < min(rf, n_racks):
                    continue
                reps.append(b)
                used.add(racks[b])
        out.append(reps)
    return out


def make_cluster(spec):
    rnd = random.Random(spec.seed * 7919 + spec.brokers)
    brokers = make_brokers(spec)
    racks = {b["id"]: b["rack"] for b in brokers}
    order = _interleaved(brokers)
    rfs = [r for r, _ in spec.rf_weights]
    weights = [w for _, w in spec.rf_weights]
    parts = []
    sizes = {}
    topic_rf = {}
    placed = 0
    t = 0
    while placed < spec.replicas:
        # skewed topics: partition counts from a heavy-tailed distribution
        count = min(max(1, int(rnd.paretovariate(1.2) * 6)), 1200)
        rf = rnd.choices(rfs, weights)[0]
        rf = min(rf, len(brokers))
        name = "topic-%05d" % t
        t += 1
        topic_rf[name] = rf
        mean_size = int(rnd.lognormvariate(20, 2))  # bytes per partition, heavy tailed
        for p, reps in enumerate(_stripe(order, racks, count, rf, rnd)):
            parts.append({"topic": name, "partition": p, "replicas": reps})
            sizes[(name, p)] = max(0, int(mean_size * rnd.uniform(0.5, 1.5)))
            placed += rf
    return Cluster(spec, brokers, {"version": 1, "partitions": parts}, sizes, topic_rf)


def with_violations(cluster, share, seed):
    """Copy of the cluster where ``share`` of the partitions have two replicas on one rack."""
    rnd = random.Random(seed)
    racks = {b["id"]: b["rack"] for b in cluster.brokers}
    by_rack = {}
    for b, r in racks.items():
        by_rack.setdefault(r, []).append(b)
    parts = []
    for entry in cluster.current["partitions"]:
        reps = list(entry["replicas"])
        if len(reps) >= 2 and rnd.random() < share:
            rack = racks[reps[0]]
            others = [b for b in by_rack[rack] if b not in reps]
            if others:
                reps[1] = rnd.choice(others)
        parts.append({"topic": entry["topic"], "partition": entry["partition"], "replicas": reps})
    return {"version": 1, "partitions": parts}


def add_brokers(brokers, count):
    """``count`` new brokers, spread over the racks (smallest racks first)."""
    racks = sorted({b["rack"] for b in brokers})
    sizes = {r: sum(1 for b in brokers if b["rack"] == r) for r in racks}
    nxt = max(b["id"] for b in brokers) + 1
    out = list(brokers)
    for i in range(count):
        rack = min(racks, key=lambda r: (sizes[r], r))
        out.append({"id": nxt + i, "rack": rack})
        sizes[rack] += 1
    return out
