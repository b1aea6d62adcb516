# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Does a running systemd service run the files on disk?

A rolling operation restarts a process when its running configuration differs from what is on
disk, not when this run happened to write a file: a run killed after writing new files and before
restarting every host is finished by the next run, which writes nothing. The running process read
its files when it started, so a file modified after the start of the service's main process is one
it does not run yet. The start comes from systemd (ExecMainStartTimestampMonotonic, the monotonic
clock, turned into wall-clock time here); files are compared by modification time (a symbolic
link's own, so a new `current` link of an upgrade counts).
"""
from __future__ import annotations

import os
from typing import Iterable

SHOW_PROPERTIES = ("ActiveState", "SubState", "MainPID", "ExecMainStartTimestampMonotonic")


def parse_show(text: str) -> dict:
    """``systemctl show -p ...`` output (KEY=VALUE lines) as a dict."""
    result = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            result[key.strip()] = value.strip()
    return result


def started_at(show: dict, now_wall: float, now_monotonic: float) -> float | None:
    """Wall-clock time (seconds) at which the service's main process started, or None when it does
    not run. ``now_wall``/``now_monotonic`` are read together (time.time(), time.monotonic())."""
    if show.get("ActiveState") not in ("active", "reloading", "activating"):
        return None
    try:
        monotonic_us = int(show.get("ExecMainStartTimestampMonotonic") or 0)
        pid = int(show.get("MainPID") or 0)
    except ValueError:
        return None
    if monotonic_us <= 0 or pid <= 0:
        return None
    return now_wall - (now_monotonic - monotonic_us / 1e6)


def files_of(paths: Iterable[str]) -> list[str]:
    """The paths to compare: each file or link itself; each directory and what it holds (one level:
    the configuration directories hold files; a deeper tree is listed by its own path)."""
    found = []
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            found.append(path)
            for name in sorted(os.listdir(path)):
                found.append(os.path.join(path, name))
        elif os.path.lexists(path):
            found.append(path)
    return found


def newer_than(start: float, mtimes: dict) -> list[dict]:
    """The paths of ``mtimes`` (``{path: mtime}``) modified after ``start``, with how long after."""
    return [{"path": path, "seconds_after_start": round(mtime - start, 3)}
            for path, mtime in sorted(mtimes.items()) if mtime > start]


def mtimes(paths: Iterable[str]) -> dict:
    """``{path: mtime}`` of :func:`files_of` ``paths`` (lstat; a file removed meanwhile is skipped)."""
    result = {}
    for path in files_of(paths):
        try:
            result[path] = os.lstat(path).st_mtime
        except FileNotFoundError:
            continue
    return result
