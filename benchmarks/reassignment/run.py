#!/usr/bin/env python3
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Benchmark the reassignment planner against Kafka's own placement.

    python benchmarks/reassignment/run.py            # full run, writes RESULTS.md
    python benchmarks/reassignment/run.py --quick    # S and M only (smoke test)

See README.md beside this file for what each column means.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pickle
import platform
import resource
import shutil
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(ROOT, ".cache", "benchmarks")
LIBS = os.path.join(CACHE, "kafka-libs")
CLASSES = os.path.join(CACHE, "java-classes")
JAVA_SRC = os.path.join(HERE, "java", "KafkaPlacement.java")
KAFKA_VERSION = "4.1.1"  # keep in step with pom.xml

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))

import clusters as gen  # noqa: E402  (benchmark-local module)

from ansible_collections.kafkaops.platform.plugins.module_utils import reassignment as planner  # noqa: E402

SCENARIOS = (
    "add-1",
    "add-3",
    "add-half",
    "remove-1",
    "remove-rack",
    "rf-2to3",
    "rf-3to2",
    "fix-violations",
    "replan-own",
    "add-3+sizes",
)
QUICK_CLUSTERS = ("S", "M")
FULL_CLUSTERS = ("S", "M", "M-unequal", "M-rf1to4", "L", "XL")


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# -- the shared metric code (used for our plan and for Kafka's) -----------------------------


def metrics(before, after, brokers, sizes):
    """Moves, spreads, violations and bytes of ``after`` relative to ``before``.

    ``before``/``after``: {(topic, partition): [broker ids]}; ``brokers``: target list.
    """
    ids = [b["id"] for b in brokers]
    racks = {b["id"]: b["rack"] for b in brokers}
    count = dict.fromkeys(ids, 0)
    leaders = dict.fromkeys(ids, 0)
    moves = 0
    moved_bytes = 0
    changed = 0
    for key, reps in after.items():
        old = before[key]
        if reps != old:
            changed += 1
        added = len(set(reps) - set(old))
        moves += added
        moved_bytes += added * sizes.get(key, 0)
        for b in reps:
            count[b] = count.get(b, 0) + 1
        leaders[reps[0]] = leaders.get(reps[0], 0) + 1
    on_target = [count[b] for b in ids]
    lead_target = [leaders[b] for b in ids]
    return {
        "moves": moves,
        "bytes": moved_bytes,
        "changed": changed,
        "replica_spread": max(on_target) - min(on_target),
        "leader_spread": max(lead_target) - min(lead_target),
        "violations": planner.rack_violations(list(after.values()), racks),
        "off_target": sum(1 for reps in after.values() for b in reps if b not in racks),
    }


def as_map(current):
    return {(p["topic"], p["partition"]): list(p["replicas"]) for p in current["partitions"]}


def as_json(mapping):
    return {
        "version": 1,
        "partitions": [
            {"topic": t, "partition": p, "replicas": r} for (t, p), r in sorted(mapping.items())
        ],
    }


# -- Kafka's placement ---------------------------------------------------------------------


def ensure_kafka(allow_fetch=True):
    """Fetch the Kafka jars (Maven) and compile the placement program. Returns an error or None."""
    if not shutil.which("java") or not shutil.which("javac"):
        return "java/javac not found"
    if not os.path.isdir(LIBS) or not any(n.startswith("kafka-metadata") for n in os.listdir(LIBS)):
        if not allow_fetch or not shutil.which("mvn"):
            return "Kafka jars missing in %s and mvn not available" % LIBS
        log("fetching Kafka %s jars with Maven" % KAFKA_VERSION)
        proc = subprocess.run(
            ["mvn", "-q", "-f", os.path.join(HERE, "pom.xml"), "dependency:copy-dependencies"],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode:
            return "mvn failed: %s" % (proc.stdout + proc.stderr)[-500:]
    target = os.path.join(CLASSES, "KafkaPlacement.class")
    if not os.path.exists(target) or os.path.getmtime(target) < os.path.getmtime(JAVA_SRC):
        os.makedirs(CLASSES, exist_ok=True)
        proc = subprocess.run(
            ["javac", "-cp", os.path.join(LIBS, "*"), "-d", CLASSES, JAVA_SRC],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode:
            return "javac failed: %s" % proc.stderr[-500:]
    return None


def kafka_plan(before, brokers, topic_rf, seed):
    """Kafka's --generate placement of every topic onto ``brokers`` (run offline)."""
    partitions = {}
    for topic, _ in before:
        partitions[topic] = partitions.get(topic, 0) + 1
    lines = ["seed %d" % seed]
    for b in sorted(brokers, key=lambda x: x["id"]):
        lines.append("broker %d %s" % (b["id"], b["rack"] or "-"))
    for topic in sorted(partitions):
        lines.append("topic %s %d %d" % (topic, partitions[topic], topic_rf[topic]))
    start = time.perf_counter()
    proc = subprocess.run(
        ["java", "-Xss4m", "-cp", CLASSES + os.pathsep + os.path.join(LIBS, "*"), "KafkaPlacement"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, check=True,
    )
    elapsed = time.perf_counter() - start
    after = {}
    for line in proc.stdout.splitlines():
        topic, part, reps = line.split(" ")
        after[(topic, int(part))] = [int(x) for x in reps.split(",")]
    return after, elapsed


# -- our planner, in a forked child so its peak memory is its own -------------------------


def rss_kib():
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_planner(current, brokers, options):
    """Plan in a child process; returns (result, wall s, cpu s, peak RSS MiB, extra MiB)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            base = rss_kib()
            wall = time.perf_counter()
            cpu = time.process_time()
            result = planner.plan_reassignment(current, brokers, **options)
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            payload = pickle.dumps((result, wall, cpu, peak / 1024, (peak - base) / 1024))
        except BaseException as exc:  # report any failure to the parent
            payload = pickle.dumps(exc)
        with os.fdopen(write_fd, "wb") as fh:
            fh.write(payload)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    value = pickle.loads(data)
    if isinstance(value, BaseException):
        raise value
    return value


# -- scenarios -----------------------------------------------------------------------------


def scenario(cluster, name, cache):
    """(current JSON, target brokers, planner options, RF per topic after) for a scenario."""
    brokers = cluster.brokers
    current = cluster.current
    rf = dict(cluster.topic_rf)
    options = {}
    racks = sorted({b["rack"] for b in brokers})
    if name == "add-1":
        target = gen.add_brokers(brokers, 1)
    elif name in ("add-3", "add-3+sizes"):
        target = gen.add_brokers(brokers, 3)
        if name == "add-3+sizes":
            options["partition_sizes"] = cluster.sizes
    elif name == "add-half":
        target = gen.add_brokers(brokers, len(brokers) // 2)
    elif name == "remove-1":
        victim = min(b["id"] for b in brokers if b["rack"] == racks[0])
        target = [b for b in brokers if b["id"] != victim]
    elif name == "remove-rack":
        target = [b for b in brokers if b["rack"] != racks[-1]]
    elif name == "rf-2to3":
        change = {t: 3 for t, r in rf.items() if r == 2}
        if not change:
            return None
        options["replication_factors"] = change
        rf.update(change)
        target = brokers
    elif name == "rf-3to2":
        change = {t: 2 for i, (t, r) in enumerate(sorted(rf.items())) if r == 3 and i % 4 == 0}
        if not change:
            return None
        options["replication_factors"] = change
        rf.update(change)
        target = brokers
    elif name == "fix-violations":
        current = gen.with_violations(cluster, 0.1, seed=cluster.spec.seed)
        target = brokers
    elif name == "replan-own":
        if "add-3" not in cache:
            return None
        current = as_json(cache["add-3"])
        target = gen.add_brokers(brokers, 3)
    else:
        raise ValueError(name)
    return current, target, options, rf


def run_case(cluster, name, cache, kafka_ok):
    spec = scenario(cluster, name, cache)
    if spec is None:
        return None
    current, target, options, rf = spec
    before = as_map(current)
    result, wall, cpu, peak, extra = run_planner(current, target, options)
    after = dict(before)
    for e in result["proposed"]["partitions"]:
        after[(e["topic"], e["partition"])] = e["replicas"]
    if name == "add-3":
        cache["add-3"] = after
    stats = result["stats"]
    row = {
        "cluster": cluster.spec.name,
        "scenario": name,
        "replicas": stats["planned_replicas"],
        "brokers": len(target),
        "lower_bound": stats["lower_bound"],
        "ours": metrics(before, after, target, cluster.sizes),
        "ours_time": wall,
        "ours_cpu": cpu,
        "ours_peak": peak,
        "ours_extra": extra,
        "complete": stats["complete"],
        "regime": stats["balance_regime"],
    }
    assert row["ours"]["moves"] == stats["replica_moves"]
    if kafka_ok:
        seed = zlib.crc32(("%s/%s" % (cluster.spec.name, name)).encode())
        k_after, k_time = kafka_plan(before, target, rf, seed)
        row["kafka"] = metrics(before, k_after, target, cluster.sizes)
        row["kafka_time"] = k_time
    return row


# -- report --------------------------------------------------------------------------------


def ratio(moves, lower):
    if not lower:
        return "-" if moves == 0 else "inf"
    return "%.2f" % (moves / lower)


def gib(value):
    return "%.1f" % (value / 2**30)


def table(rows, kafka_ok):
    head = [
        "cluster", "scenario", "replicas", "LB",
        "moves", "ratio", "r.spread", "l.spread", "viol.", "GiB moved", "time s", "cpu s", "peak MiB",
    ]
    if kafka_ok:
        head += ["K moves", "K ratio", "K r.spread", "K l.spread", "K viol.", "K GiB moved", "K time s"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        o = r["ours"]
        cells = [
            r["cluster"], r["scenario"], str(r["replicas"]), str(r["lower_bound"]),
            str(o["moves"]), ratio(o["moves"], r["lower_bound"]), str(o["replica_spread"]),
            str(o["leader_spread"]), str(o["violations"]), gib(o["bytes"]),
            "%.2f" % r["ours_time"], "%.2f" % r["ours_cpu"],
            "%.0f (+%.0f)" % (r["ours_peak"], max(0.0, r["ours_extra"])),
        ]
        if kafka_ok:
            k = r["kafka"]
            cells += [
                str(k["moves"]), ratio(k["moves"], r["lower_bound"]), str(k["replica_spread"]),
                str(k["leader_spread"]), str(k["violations"]), gib(k["bytes"]),
                "%.1f" % r["kafka_time"],
            ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            mem = "%.1f GiB" % (int(fh.readline().split()[1]) / 2**20)
    except OSError:
        pass
    java = "not run"
    if shutil.which("java"):
        proc = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        java = (proc.stderr or proc.stdout).splitlines()[0] if (proc.stderr or proc.stdout) else "?"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": "%s, %d cores" % (cpu, os.cpu_count() or 0),
        "memory": mem,
        "os": platform.platform(),
        "python": "%s %s" % (platform.python_implementation(), platform.python_version()),
        "java": java,
    }


def write_report(path, rows, kafka_ok, kafka_note, info, loads, wall, quick):
    lines = [
        "# Reassignment planner benchmark",
        "",
        "Generated by `python benchmarks/reassignment/run.py%s` in one run; see README.md for"
        " the columns." % (" --quick" if quick else ""),
        "",
        "- date: %s" % info["date"],
        "- machine: %s; %s; %s" % (info["cpu"], info["memory"], info["os"]),
        "- load average (1 min) at start / end: %.2f / %.2f (the machine is shared: wall"
        " times include waiting for a core; `cpu s` is the planner's own CPU time)" % loads,
        "- Python: %s; Java: %s; Kafka placement: org.apache.kafka:kafka-metadata:%s"
        " (StripedReplicaPlacer, as `kafka-reassign-partitions --generate` uses)"
        % (info["python"], info["java"], KAFKA_VERSION),
        "- whole run: %.0f s" % wall,
    ]
    if not kafka_ok:
        lines.append("- Kafka placement not run: %s" % kafka_note)
    lines += ["", table(rows, kafka_ok), ""]
    worst = max(
        (r for r in rows if r["lower_bound"]),
        key=lambda r: r["ours"]["moves"] / r["lower_bound"],
        default=None,
    )
    slowest = max(rows, key=lambda r: r["ours_time"], default=None)
    if worst is not None:
        lines.append(
            "Worst moves / lower bound for the planner: %s in %s/%s."
            % (ratio(worst["ours"]["moves"], worst["lower_bound"]), worst["cluster"], worst["scenario"])
        )
    if slowest is not None:
        lines.append(
            "Slowest plan: %.2f s wall, %.2f s CPU (%s/%s, %d replicas); largest peak RSS: %.0f MiB."
            % (slowest["ours_time"], slowest["ours_cpu"], slowest["cluster"], slowest["scenario"],
               slowest["replicas"], max(r["ours_peak"] for r in rows))
        )
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="S and M clusters only (smoke test)")
    parser.add_argument("--clusters", help="comma-separated cluster names (default: all)")
    parser.add_argument("--scenarios", help="comma-separated scenario names (default: all)")
    parser.add_argument("--no-kafka", action="store_true", help="skip Kafka's own placement")
    parser.add_argument("--output", help="markdown file to write (default: RESULTS.md, or "
                        ".cache/benchmarks/RESULTS-quick.md with --quick)")
    args = parser.parse_args(argv)

    names = args.clusters.split(",") if args.clusters else (QUICK_CLUSTERS if args.quick else FULL_CLUSTERS)
    scen = args.scenarios.split(",") if args.scenarios else SCENARIOS
    output = args.output or (
        os.path.join(CACHE, "RESULTS-quick.md") if args.quick else os.path.join(HERE, "RESULTS.md")
    )
    kafka_note = "disabled with --no-kafka" if args.no_kafka else ensure_kafka()
    kafka_ok = kafka_note is None
    if not kafka_ok:
        log("Kafka placement skipped: %s" % kafka_note)
    info = machine_info()
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    rows = []
    for name in names:
        spec = gen.CLUSTERS[name]
        log("generating cluster %s (%s)" % (name, spec.notes))
        cluster = gen.make_cluster(spec)
        cache = {}
        for s in scen:
            row = run_case(cluster, s, cache, kafka_ok)
            if row is None:
                continue
            rows.append(row)
            o = row["ours"]
            log("%-9s %-15s moves %7d LB %7d spread %d/%d viol %d  %.2fs%s" % (
                name, s, o["moves"], row["lower_bound"], o["replica_spread"], o["leader_spread"],
                o["violations"], row["ours_time"],
                "  | kafka moves %d spread %d/%d viol %d" % (
                    row["kafka"]["moves"], row["kafka"]["replica_spread"],
                    row["kafka"]["leader_spread"], row["kafka"]["violations"])
                if kafka_ok else ""))
    wall = time.perf_counter() - start
    os.makedirs(os.path.dirname(output), exist_ok=True)
    write_report(output, rows, kafka_ok, kafka_note, info, (load_start, os.getloadavg()[0]), wall, args.quick)
    print(table(rows, kafka_ok))
    log("wrote %s in %.0f s" % (output, wall))
    failures = [
        r for r in rows
        if r["ours"]["violations"] or r["ours"]["off_target"] or not r["complete"]
        or r["ours"]["moves"] < r["lower_bound"]
    ]
    if failures:
        log("FAILED guarantees in: %s" % ", ".join("%s/%s" % (r["cluster"], r["scenario"]) for r in failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
