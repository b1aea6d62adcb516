# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Finding every process a run started, to stop it the way a cancelled job is stopped.

ansible-playbook's workers start sessions of their own, so neither the process group nor the
session of ansible-playbook finds the module processes; the parent links in /proc do."""
from __future__ import annotations

import contextlib
import os
import time


def process_tree(root: int) -> list:
    """``root`` and every process descending from it (ansible's workers start sessions of their
    own, so neither the process group nor the session finds them)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def alive(pids) -> list:
    """The processes of ``pids`` that still run (zombies count as gone)."""
    running = []
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] != "Z":
                    running.append(pid)
        except OSError:
            pass
    return running


def stop_tree(root: int, signum: int, timeout: float = 60) -> list:
    """Send ``signum`` to ``root`` and all its descendants, then wait until they are gone
    (the caller reaps ``root`` itself). Returns the processes signalled."""
    tree = process_tree(root)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    deadline = time.monotonic() + timeout
    while alive(tree[1:]):
        if time.monotonic() > deadline:
            raise RuntimeError("processes %s still run %ds after signal %d" % (alive(tree[1:]), timeout, signum))
        time.sleep(0.1)
    return tree
