#!/usr/bin/env python3
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Benchmark what one ansible module call on a test host costs, by connection and Python cache.

    python benchmarks/test_hosts/run.py               # writes RESULTS.md beside this file
    python benchmarks/test_hosts/run.py --tasks 10 --repeat 1 --no-write   # quick look

Boots one test host (tests/harness/hosts.py, prefix kafkaops-bench), then for each configuration
runs a playbook of TASKS `stat` module calls against it, REPEAT times, and an empty playbook
(ansible's own start-up). CPU is counted for the whole machine from /proc/stat, because a
`podman exec` spends it outside the playbook's process tree (podman, conmon, runc); run it on an
otherwise idle machine. Per module call = (playbook - empty playbook) / TASKS, median of the repeats.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HOSTS = os.path.join(ROOT, "tests", "harness", "hosts.py")
PREFIX = "kafkaops-bench"
HOST = f"{PREFIX}-1"
CACHE_DIR = "/var/cache/kafkaops-zipimport"

CONFIGURATIONS = (
    # (label, connection, compiled-code cache on the host)
    ("containers.podman.podman, no cache", "containers.podman.podman", False),
    ("podman_nsenter, no cache", "podman_nsenter", False),
    ("podman_nsenter + cache (the test hosts)", "podman_nsenter", True),
)

PLAYBOOK = """- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.stat:
        path: /etc/hostname
      loop: "{{{{ range({tasks}) | list }}}}"
"""
EMPTY = """- hosts: all
  gather_facts: false
  tasks: []
"""


def busy_ticks() -> int:
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: everything but idle and iowait
    return sum(fields[:3]) + sum(fields[5:8])


def measure(playbook: str, connection: str) -> tuple[float, float]:
    """(CPU-seconds of the whole machine, wall seconds) of one playbook run."""
    env = dict(os.environ, ANSIBLE_CONNECTION_PLUGINS=os.path.join(ROOT, "tests", "harness", "ansible_plugins", "connection"),
               ANSIBLE_PIPELINING="true")
    hz = os.sysconf("SC_CLK_TCK")
    before, started = busy_ticks(), time.monotonic()
    subprocess.run(["ansible-playbook", "-i", f"{HOST},", "-c", connection, playbook], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return (busy_ticks() - before) / hz, time.monotonic() - started


def set_cache(enabled: bool) -> None:
    on, off = CACHE_DIR, CACHE_DIR + ".off"
    source, target = (off, on) if enabled else (on, off)
    subprocess.run(["podman", "exec", HOST, "sh", "-c", f"[ ! -d {source} ] || mv {source} {target}"], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args()

    subprocess.run([sys.executable, HOSTS, "up", "--prefix", PREFIX, "--count", "1"], check=True, stdout=subprocess.DEVNULL)
    load = os.getloadavg()[0]
    rows = []
    try:
        with tempfile.TemporaryDirectory() as work:
            playbook, empty = os.path.join(work, "stat.yml"), os.path.join(work, "empty.yml")
            with open(playbook, "w", encoding="utf-8") as handle:
                handle.write(PLAYBOOK.format(tasks=args.tasks))
            with open(empty, "w", encoding="utf-8") as handle:
                handle.write(EMPTY)
            for label, connection, cache in CONFIGURATIONS:
                set_cache(cache)
                measure(playbook, connection)  # warm-up: page cache, PID cache, compiled-code cache
                per_call, walls = [], []
                for _round in range(args.repeat):
                    cpu, wall = measure(playbook, connection)
                    base, _wall = measure(empty, connection)
                    per_call.append((cpu - base) / args.tasks)
                    walls.append(wall)
                    print(f"{label}: {cpu:.2f} CPU-s for {args.tasks} calls, {base:.2f} for none, {wall:.1f} s",
                          file=sys.stderr)
                rows.append((label, statistics.median(per_call), statistics.median(walls)))
    finally:
        set_cache(True)
        subprocess.run([sys.executable, HOSTS, "down", "--prefix", PREFIX], check=False)

    table = ["| configuration | CPU-s per module call | wall of the playbook |", "|---|---:|---:|"]
    table += [f"| {label} | {cpu:.3f} | {wall:.1f} s |" for label, cpu, wall in rows]
    text = "\n".join(table)
    print(text)
    if not args.no_write:
        header = (f"# Test hosts: the cost of one module call\n\nWritten by `benchmarks/test_hosts/run.py` on "
                  f"{datetime.date.today()}: {args.tasks} `stat` calls per playbook, median of {args.repeat}, "
                  f"{os.cpu_count()} cores, {platform.python_version()}, load average {load:.2f} at the start.\n"
                  "CPU of the whole machine (/proc/stat), minus an empty playbook's.\n\n")
        with open(os.path.join(HERE, "RESULTS.md"), "w", encoding="utf-8") as handle:
            handle.write(header + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
