# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Pin the reassignment planner's output: every plan of a fixed corpus, bit for bit.

    .cache/venv/bin/python tests/unit/plugins/module_utils/pin/record_plans.py      # rewrite plans.json
    .cache/venv/bin/python tests/unit/plugins/module_utils/pin/record_plans.py --check

The corpus has three parts, all deterministic:

``bench/<cluster>/<scenario>``
    Every cluster and scenario of the benchmark (benchmarks/reassignment: ``clusters.py``
    builds the clusters, ``run.py``'s ``scenario()`` the inputs; both are imported, not
    copied), plus two ``max_moves`` variants per cluster. The clusters in ``SLOW_CLUSTERS``
    take too long for every ``make test`` run; test_reassignment_pin.py replays them only
    when ``KAFKAOPS_PIN_ALL=1`` is set.
``random/<seed>``
    Seeded random clusters, small and medium: no racks, one rack, 2-5 racks of equal or
    unequal size; mixed replication factors; brokers drained and added; striped, skewed,
    random and rack-violating placements; and every option ``plan_reassignment`` takes
    (``include_topics``, ``exclude_topics``, ``replication_factors``, ``partition_sizes``
    with string and tuple keys, integer and float bytes, ``max_moves``), with ``current``
    sometimes given as JSON text or with ``log_dirs``.
``error/<name>``
    Bad input: the error class and message are pinned.

For each case plans.json holds ``digest``, the sha256 of the canonical JSON of the returned
plan (``sort_keys``), ``order``, the sha256 of the same JSON with the keys in the order the
planner wrote them, and the headline statistics (``STAT_KEYS``), or ``error`` for bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import random
import sys
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
BENCH = os.path.join(ROOT, "benchmarks", "reassignment")
DATA = os.path.join(HERE, "plans.json")

SLOW_CLUSTERS = ("L", "XL")
RANDOM_SEEDS = range(1, 401)
STAT_KEYS = (
    "replica_moves", "lower_bound", "replica_spread", "leader_spread", "rack_violations_after",
    "complete", "remaining_moves", "balanced", "unrouted_holes",
)

Case = Tuple[str, Any, List[Dict[str, Any]], Dict[str, Any]]  # (name, current, brokers, options)


def _planner() -> Any:
    """The collection's reassignment module (importable as the modules import it)."""
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    from ansible_collections.kafkaops.platform.plugins.module_utils import reassignment

    return reassignment


@contextlib.contextmanager
def _path_kept() -> Iterator[None]:
    """Undo run.py's sys.path additions (plugins/module_utils on sys.path would shadow packages)."""
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved


def benchmark_modules() -> Tuple[Any, Any]:
    """(clusters, run) of benchmarks/reassignment, imported from their files."""
    name = "_kafkaops_bench_run"
    run = sys.modules.get(name)
    if run is None:
        _planner()  # run.py imports the planner as a plain module: its imports must resolve
        with _path_kept():
            spec = importlib.util.spec_from_file_location(name, os.path.join(BENCH, "run.py"))
            assert spec is not None and spec.loader is not None
            run = importlib.util.module_from_spec(spec)
            sys.modules[name] = run
            spec.loader.exec_module(run)
    return run.gen, run


# -- benchmark corpus --------------------------------------------------------------------------


def bench_cluster_names() -> List[str]:
    _gen, run = benchmark_modules()
    return list(run.FULL_CLUSTERS)


def bench_cases(cluster_name: str, plan: Any) -> Iterator[Case]:
    """Cases of one benchmark cluster; ``plan`` is plan_reassignment (replan-own needs add-3's plan)."""
    gen, run = benchmark_modules()
    cluster = gen.make_cluster(gen.CLUSTERS[cluster_name])
    cache: Dict[str, Any] = {}
    prefix = "bench/%s/" % cluster_name
    for scenario in run.SCENARIOS:
        spec = run.scenario(cluster, scenario, cache)
        if spec is None:
            continue
        current, target, options, _rf = spec
        if scenario == "add-3":
            # what run.run_case stores for replan-own: the assignment after add-3's plan
            after = run.as_map(current)
            for entry in plan(current, target, **options)["proposed"]["partitions"]:
                after[(entry["topic"], entry["partition"])] = entry["replicas"]
            cache["add-3"] = after
        yield prefix + scenario, current, target, options
    for scenario, cap in (("add-3", 0.5), ("fix-violations", 0.3)):
        current, target, options, _rf = run.scenario(cluster, scenario, cache)
        full = sum(len(p["replicas"]) for p in current["partitions"])
        options = dict(options, max_moves=int(full * cap / 10))
        yield prefix + scenario + "+max_moves", current, target, options


# -- random corpus -----------------------------------------------------------------------------


def _random_brokers(rnd: random.Random) -> Tuple[List[int], List[Dict[str, Any]]]:
    """(ids holding replicas today, target brokers)."""
    medium = rnd.random() < 0.3
    count = rnd.randint(2, 16 if medium else 8)
    today = sorted(rnd.sample(range(0, 3 * count + 4), count))
    drained = set(rnd.sample(today, rnd.randint(1, max(1, count // 2)))) if rnd.random() < 0.4 else set()
    if len(drained) == len(today):
        drained.discard(today[0])
    added = list(range(today[-1] + 1, today[-1] + 1 + rnd.randint(1, 4))) if rnd.random() < 0.4 else []
    target_ids = [b for b in today if b not in drained] + added
    rnd.shuffle(target_ids)
    n_racks = rnd.choice((0, 0, 1, 2, 3, 3, 3, 4, 5))
    if n_racks:
        names = ["rack-%d" % j for j in range(n_racks)]
        weights = [1.0] * n_racks if rnd.random() < 0.5 else [rnd.uniform(0.3, 3.0) for _name in names]
        racks = [names[pos % n_racks] if pos < n_racks else rnd.choices(names, weights)[0] for pos in range(len(target_ids))]
        rnd.shuffle(racks)
    else:
        racks = [None] * len(target_ids)
    return today, [{"id": b, "rack": r} for b, r in zip(target_ids, racks)]


def _random_placement(rnd: random.Random, pool: List[int], rf: int, style: str, weights: List[float], counter: int,
                      rack_of: Dict[int, Optional[str]]) -> List[int]:
    rf = min(rf, len(pool))
    if style == "striped":
        start = counter % len(pool)
        return [pool[(start + i) % len(pool)] for i in range(rf)]
    if style == "skewed":
        chosen: List[int] = []
        while len(chosen) < rf:
            b = rnd.choices(pool, weights)[0]
            if b not in chosen:
                chosen.append(b)
        return chosen
    if style == "violating" and rf >= 2:
        first = rnd.choice(pool)
        same = [b for b in pool if b != first and rack_of.get(b) is not None and rack_of.get(b) == rack_of.get(first)]
        rest = rnd.sample([b for b in pool if b != first], rf - 1)
        if same and rnd.random() < 0.5:
            second = rnd.choice(same)
            rest = [second] + [b for b in rest if b != second][: rf - 2]
        return [first] + rest
    return rnd.sample(pool, rf)


def _random_options(rnd: random.Random, topics: Dict[str, int], partitions: List[Dict[str, Any]],
                    n_target: int) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    names = sorted(topics)
    if rnd.random() < 0.2:
        chosen = rnd.sample(names, rnd.randint(1, len(names)))
        key = rnd.choice(("include_topics", "exclude_topics"))
        if key == "exclude_topics" and len(chosen) == len(names):
            chosen = chosen[:-1]
        if chosen:
            entries = list(chosen)
            if rnd.random() < 0.5:
                entries = [entries[0][:-1] + "[0-9]"] + entries[1:]  # a regular expression
            options[key] = entries
        if rnd.random() < 0.3 and len(names) > 1:
            options["exclude_topics" if key == "include_topics" else "include_topics"] = [names[-1]]
    excluded = set(options.get("exclude_topics", ()))
    if rnd.random() < 0.3:
        change = {}
        for name in names:
            if name in excluded or (("include_topics" in options) and name not in options["include_topics"]):
                continue
            if rnd.random() < 0.5:
                change[name] = max(1, min(n_target, topics[name] + rnd.choice((-2, -1, 1, 1, 2))))
        if change:
            options["replication_factors"] = change
    if rnd.random() < 0.35:
        sizes: Dict[Any, Any] = {}
        for entry in partitions:
            if rnd.random() < 0.85:
                value: Any = int(rnd.lognormvariate(10, 3))
                if rnd.random() < 0.1:
                    value = value + 0.5
                if rnd.random() < 0.5:
                    sizes["%s-%d" % (entry["topic"], entry["partition"])] = value
                else:
                    sizes[(entry["topic"], entry["partition"])] = value
        options["partition_sizes"] = sizes
    if rnd.random() < 0.3:
        total = sum(len(p["replicas"]) for p in partitions)
        options["max_moves"] = rnd.choice((0, 1, 2, rnd.randint(0, max(1, total // 4)), rnd.randint(0, total)))
    return options


def random_case(seed: int) -> Case:
    rnd = random.Random(seed)
    today, brokers = _random_brokers(rnd)
    rack_of = {b["id"]: b["rack"] for b in brokers}
    pool = list(today)
    if rnd.random() < 0.1:  # a replan: some replicas already on new brokers
        pool = sorted(set(pool) | set(rack_of))
    style = rnd.choice(("random", "striped", "skewed", "violating"))
    weights = [rnd.paretovariate(1.0) for _b in pool]
    medium = len(brokers) > 8
    topics: Dict[str, int] = {}
    partitions: List[Dict[str, Any]] = []
    max_rf = min(5, len(brokers))
    for number in range(rnd.randint(3, 12) if medium else rnd.randint(1, 6)):
        name = "topic-%02d" % number
        rf = min(rnd.choice((1, 2, 2, 3, 3, 3, 4, 5)), max_rf)
        topics[name] = rf
        for part in range(rnd.randint(4, 50) if medium else rnd.randint(1, 12)):
            replicas = _random_placement(rnd, pool, rf, style, weights, len(partitions), rack_of)
            partitions.append({"topic": name, "partition": part, "replicas": replicas})
    topics = {name: min(rf, len(pool)) for name, rf in topics.items()}
    options = _random_options(rnd, topics, partitions, len(brokers))
    if rnd.random() < 0.05:
        for entry in partitions:
            entry["log_dirs"] = ["any"] * len(entry["replicas"])
    rnd.shuffle(partitions)
    current: Any = {"version": 1, "partitions": partitions}
    if rnd.random() < 0.1:
        current = json.dumps(current)
    return "random/%d" % seed, current, brokers, options


# -- bad input ---------------------------------------------------------------------------------


def error_cases() -> Iterator[Case]:
    good = {"version": 1, "partitions": [{"topic": "t", "partition": p, "replicas": [1, 2]} for p in range(3)]}
    two = [{"id": 1, "rack": None}, {"id": 2, "rack": None}]
    racked = [{"id": b, "rack": "r%d" % b} for b in range(18)]
    wide = {"version": 1, "partitions": [{"topic": "w", "partition": 0, "replicas": list(range(18))}]}
    yield "error/unknown-option", good, two, {"max_move": 3}
    yield "error/brokers-empty", good, [], {}
    yield "error/brokers-not-dicts", good, [1, 2], {}
    yield "error/broker-id", good, [{"id": -1}], {}
    yield "error/broker-twice", good, [{"id": 1}, {"id": 1}], {}
    yield "error/rack-type", good, [{"id": 1, "rack": ""}], {}
    yield "error/racks-mixed", good, [{"id": 1, "rack": "a"}, {"id": 2, "rack": None}], {}
    yield "error/json-text", "{not json", two, {}
    yield "error/not-dict", [1, 2], two, {}
    yield "error/version", {"version": 2, "partitions": []}, two, {}
    yield "error/partitions-type", {"version": 1, "partitions": {}}, two, {}
    yield "error/entry-keys", {"version": 1, "partitions": [{"topic": "t"}]}, two, {}
    yield "error/topic-empty", {"version": 1, "partitions": [{"topic": "", "partition": 0, "replicas": [1]}]}, two, {}
    yield "error/partition-bool", {"version": 1, "partitions": [{"topic": "t", "partition": True, "replicas": [1]}]}, two, {}
    yield "error/replicas-empty", {"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": []}]}, two, {}
    yield "error/replica-type", {"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": [1, "2"]}]}, two, {}
    yield "error/replica-twice", {"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": [1, 1]}]}, two, {}
    yield "error/partition-twice", {"version": 1, "partitions": good["partitions"] + good["partitions"][:1]}, two, {}
    yield "error/rf-too-high", good, [{"id": 1}], {}
    yield "error/rf-unknown-topic", good, two, {"replication_factors": {"x": 1}}
    yield "error/rf-excluded-topic", good, two, {"replication_factors": {"t": 1}, "exclude_topics": ["t"]}
    yield "error/rf-value", good, two, {"replication_factors": {"t": 0}}
    yield "error/rf-type", good, two, {"replication_factors": [1]}
    yield "error/max-moves", good, two, {"max_moves": -1}
    yield "error/sizes-type", good, two, {"partition_sizes": [1]}
    yield "error/sizes-key", good, two, {"partition_sizes": {"t": 1}}
    yield "error/sizes-tuple", good, two, {"partition_sizes": {("t", "0"): 1}}
    yield "error/sizes-value", good, two, {"partition_sizes": {"t-0": -1}}
    yield "error/sizes-topic", good, two, {"partition_sizes": {"x-0": 1}}
    yield "error/sizes-partition", good, two, {"partition_sizes": {"t-9": 1}}
    yield "error/include-type", good, two, {"include_topics": "t"}
    yield "error/include-entry", good, two, {"include_topics": [""]}
    yield "error/include-regex", good, two, {"include_topics": ["(["]}
    yield "error/include-none", good, two, {"include_topics": ["nothing.*"]}
    yield "error/exclude-none", good, two, {"exclude_topics": ["u"]}
    yield "error/too-many-racks", wide, racked + [{"id": 18, "rack": "r0"}], {"replication_factors": {"w": 19}}


# -- outcomes ----------------------------------------------------------------------------------


def outcome(plan: Any, planning_error: type, case: Case) -> Dict[str, Any]:
    """What plans.json records for one case."""
    _name, current, brokers, options = case
    try:
        result = plan(current, brokers, **options)
    except planning_error as exc:
        return {"error": "%s: %s" % (type(exc).__name__, exc)}
    ordered = json.dumps(result, separators=(",", ":"), allow_nan=False)
    canonical = json.dumps(result, separators=(",", ":"), allow_nan=False, sort_keys=True)
    stats = dict(result["stats"], rack_violations_after=result["stats"]["rack_violations"]["after"])
    return {
        "digest": hashlib.sha256(canonical.encode()).hexdigest(),
        "order": hashlib.sha256(ordered.encode()).hexdigest(),
        "stats": [stats[key] for key in STAT_KEYS],
    }


def all_cases(plan: Any, clusters: Optional[List[str]] = None) -> Iterator[Tuple[Case, bool]]:
    """(case, slow) over the whole corpus (``clusters`` limits the benchmark part)."""
    for name in clusters if clusters is not None else bench_cluster_names():
        for case in bench_cases(name, plan):
            yield case, name in SLOW_CLUSTERS
    for seed in RANDOM_SEEDS:
        yield random_case(seed), False
    for case in error_cases():
        yield case, False


def load() -> Dict[str, Any]:
    with open(DATA, encoding="utf-8") as fh:
        return json.load(fh)


def write(cases: Dict[str, Any]) -> None:
    lines = ['{"stat_keys": %s,' % json.dumps(list(STAT_KEYS)), ' "slow_clusters": %s,' % json.dumps(list(SLOW_CLUSTERS)),
             ' "cases": {']
    names = list(cases)
    for pos, name in enumerate(names):
        lines.append("  %s: %s%s" % (json.dumps(name), json.dumps(cases[name], separators=(",", ":")),
                                     "," if pos < len(names) - 1 else ""))
    lines.append("}}")
    with open(DATA, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with plans.json instead of writing it")
    parser.add_argument("--clusters", help="comma-separated benchmark clusters (default: all)")
    args = parser.parse_args(argv)
    planner = _planner()
    recorded = load()["cases"] if args.check else {}
    clusters = args.clusters.split(",") if args.clusters else None
    out: Dict[str, Any] = {}
    bad = []
    timing: Dict[str, float] = {}
    for case, slow in all_cases(planner.plan_reassignment, clusters):
        start = time.perf_counter()
        got = outcome(planner.plan_reassignment, planner.PlanningError, case)
        group = case[0].rsplit("/", 1)[0] if case[0].startswith("bench/") else case[0].split("/")[0]
        timing[group] = timing.get(group, 0.0) + time.perf_counter() - start
        out[case[0]] = dict(got, slow=True) if slow else got
        if args.check and {key: value for key, value in recorded.get(case[0], {}).items() if key != "slow"} != got:
            bad.append(case[0])
    for group, seconds in timing.items():
        sys.stderr.write("%-20s %6.2f s\n" % (group, seconds))
    if args.check:
        sys.stderr.write("%d cases, %d differ: %s\n" % (len(out), len(bad), bad[:20]))
        return 1 if bad else 0
    write(out)
    sys.stderr.write("wrote %d cases to %s\n" % (len(out), DATA))
    return 0


if __name__ == "__main__":
    sys.exit(main())
