# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Independent checks for the reassignment planner (no code shared with the planner).

``check_plan`` re-derives every guarantee from the input and the returned JSON;
``brute_force`` enumerates every rack-valid placement of a tiny cluster to find the true
optimum the planner is compared with.
"""

from __future__ import annotations

import itertools
import random

from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment import (
    plan_reassignment,
)


def assignment(partitions):
    """{(topic, partition): replicas} from a list of reassignment entries."""
    return {(p["topic"], p["partition"]): list(p["replicas"]) for p in partitions}


def apply_plan(current, result):
    final = assignment(current["partitions"])
    for entry in result["proposed"]["partitions"]:
        final[(entry["topic"], entry["partition"])] = list(entry["replicas"])
    return final


def as_current(final):
    return {
        "version": 1,
        "partitions": [
            {"topic": t, "partition": p, "replicas": list(r)} for (t, p), r in sorted(final.items())
        ],
    }


def rack_ok(replicas, racks, n_racks):
    if not n_racks:
        return True
    return len({racks[b] for b in replicas}) >= min(len(replicas), n_racks)


def sum_squares(counts):
    return sum(c * c for c in counts)


def check_plan(current, brokers, result, rf=None, topics=None):
    """Assert every guarantee of a plan; return (final assignment, moves)."""
    rf = rf or {}
    racks = {b["id"]: b["rack"] for b in brokers}
    n_racks = len({r for r in racks.values() if r is not None})
    before = assignment(current["partitions"])
    final = apply_plan(current, result)
    stats = result["stats"]
    proposed = result["proposed"]
    assert proposed["version"] == 1
    keys = [(e["topic"], e["partition"]) for e in proposed["partitions"]]
    assert keys == sorted(keys), "proposed must be sorted by topic, partition"
    assert len(keys) == len(set(keys))
    for entry in proposed["partitions"]:
        assert entry["replicas"] != before[(entry["topic"], entry["partition"])], "unchanged listed"
    assert stats["partitions_changed"] == len(keys)

    planned = [k for k in before if topics is None or k[0] in topics]
    for key in before:
        if key not in planned:
            assert final[key] == before[key], "an unselected partition changed"
    moves = 0
    leaders_changed = 0
    counts = {b: 0 for b in racks}
    leaders = {b: 0 for b in racks}
    for key in planned:
        reps = final[key]
        want = rf.get(key[0], len(before[key]))
        assert len(reps) == want, (key, reps, want)
        assert len(set(reps)) == len(reps), (key, reps)
        assert all(b in racks for b in reps), (key, reps)
        assert rack_ok(reps, racks, n_racks), (key, reps)
        moves += len(set(reps) - set(before[key]))
        leaders_changed += reps[0] != before[key][0]
        for b in reps:
            counts[b] += 1
        leaders[reps[0]] += 1
    assert stats["replica_moves"] == moves
    assert stats["leadership_changes"] == leaders_changed
    assert stats["replicas"] == {b: c for b, c in counts.items() if c or b in stats["replica_targets"]}
    assert stats["leaders"] == {b: c for b, c in leaders.items() if c or b in stats["replica_targets"]}
    assert stats["rack_violations"]["after"] == 0
    if stats["complete"]:
        assert moves >= stats["lower_bound"]
    targets = stats["replica_targets"]
    if stats["complete"]:
        assert stats["balanced"] is True
        assert counts == targets, "counts must reach the balanced targets"
        by_rack = {}
        for b, r in racks.items():
            by_rack.setdefault(r, []).append(counts[b])
        for values in by_rack.values():
            assert max(values) - min(values) <= 1, by_rack
    in_target = [b for b in counts if b in targets]
    assert stats["replica_spread"] == max(counts[b] for b in in_target) - min(counts[b] for b in in_target)
    assert stats["leader_spread"] == max(leaders[b] for b in in_target) - min(leaders[b] for b in in_target)
    return final, moves


def replan(current, brokers, result, **options):
    """Plan again from the state the plan leads to."""
    return plan_reassignment(as_current(apply_plan(current, result)), brokers, **options)


def brute_force(current, brokers, rf=None):
    """Exhaustive optimum for a tiny cluster.

    Returns (least sum of squared replica counts over rack-valid placements, least moves
    among placements reaching it).
    """
    rf = rf or {}
    racks = {b["id"]: b["rack"] for b in brokers}
    n_racks = len({r for r in racks.values() if r is not None})
    ids = sorted(racks)
    before = assignment(current["partitions"])
    keys = sorted(before)
    options = []
    for key in keys:
        want = rf.get(key[0], len(before[key]))
        combos = [
            c for c in itertools.combinations(ids, want) if rack_ok(c, racks, n_racks)
        ]
        old = set(before[key])
        options.append([(frozenset(c), len(set(c) - old)) for c in combos])
    best = None
    for choice in itertools.product(*options):
        counts = dict.fromkeys(ids, 0)
        moves = 0
        for members, cost in choice:
            moves += cost
            for b in members:
                counts[b] += 1
        key = (sum_squares(counts.values()), moves)
        if best is None or key < best:
            best = key
    return best


def best_leader_spread(final, brokers):
    """Most even leader counts any reordering of ``final`` allows (exhaustive)."""
    ids = sorted(b["id"] for b in brokers)
    best = None
    lists = [final[k] for k in sorted(final)]
    for leaders in itertools.product(*lists):
        counts = dict.fromkeys(ids, 0)
        for b in leaders:
            counts[b] += 1
        value = sum_squares(counts.values())
        if best is None or value < best[0]:
            best = (value, max(counts.values()) - min(counts.values()))
    return best


def random_cluster(seed, brokers, racks, partitions, rfs, topics=4):
    """Seeded random cluster: racks assigned round robin, replicas drawn at random."""
    rnd = random.Random(seed)
    names = ["r%d" % j for j in range(racks)]
    blist = [{"id": i, "rack": names[i % racks] if racks else None} for i in range(brokers)]
    parts = []
    for p in range(partitions):
        rf = rnd.choice(rfs)
        parts.append(
            {"topic": "t%d" % (p % topics), "partition": p // topics,
             "replicas": rnd.sample(range(brokers), rf)}
        )
    return {"version": 1, "partitions": parts}, blist


def striped_cluster(brokers, racks, partitions, rf, topics=3):
    """A balanced start: consecutive brokers, racks round robin (rack-valid when
    ``brokers`` is a multiple of ``racks``)."""
    names = ["r%d" % j for j in range(racks)]
    blist = [{"id": i, "rack": names[i % racks] if racks else None} for i in range(brokers)]
    parts = []
    for p in range(partitions):
        reps = [(p + i) % brokers for i in range(rf)]
        parts.append({"topic": "t%d" % (p % topics), "partition": p // topics, "replicas": reps})
    return {"version": 1, "partitions": parts}, blist
