# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""KRaft's metadata.version: names, levels, and what an upgrade may do with them.

A KRaft cluster runs at a finalized ``metadata.version`` level. A broker or controller advertises
the levels its software supports; a new release supports a higher maximum. A rolling upgrade
installs the new release everywhere first and raises the finalized level last (``finalize``),
because a process of the older release cannot run at a level it does not know: once finalized, the
cluster cannot go back to a release older than the level.

The levels come from Kafka's own ``MetadataVersion`` enum (read from the 3.7.2 to 4.3.1 jars with
``MetadataVersion.values()`` and ``latestProduction()``); a release newer than the table is known by
what its brokers advertise, never guessed.
"""
from __future__ import annotations

import re
from typing import Iterable

FEATURE = "metadata.version"

LEVELS = {
    "3.3-IV0": 4, "3.3-IV1": 5, "3.3-IV2": 6, "3.3-IV3": 7, "3.4-IV0": 8, "3.5-IV0": 9, "3.5-IV1": 10, "3.5-IV2": 11,
    "3.6-IV0": 12, "3.6-IV1": 13, "3.6-IV2": 14, "3.7-IV0": 15, "3.7-IV1": 16, "3.7-IV2": 17, "3.7-IV3": 18,
    "3.7-IV4": 19, "3.8-IV0": 20, "3.9-IV0": 21, "4.0-IV0": 22, "4.0-IV1": 23, "4.0-IV2": 24, "4.0-IV3": 25,
    "4.1-IV0": 26, "4.1-IV1": 27, "4.2-IV0": 28, "4.2-IV1": 29, "4.3-IV0": 30,
}
# the highest production level of each release (what kafka-storage format and finalizing use)
RELEASE_LATEST = {"3.7": 19, "3.8": 20, "3.9": 21, "4.0": 25, "4.1": 27, "4.2": 29, "4.3": 30}

_RELEASE = re.compile(r"([0-9]+)\.([0-9]+)(?:\.[0-9]+)?")


class FeatureError(Exception):
    """A metadata.version that cannot be used, with a message for the operator."""


def level_name(level: int | None) -> str:
    """``29`` -> ``"4.2-IV1"``; a level this table does not know is shown as ``level 31``."""
    if level is None:
        return "none"
    for name, known in LEVELS.items():
        if known == level:
            return name
    return "level %d" % level


def release_of(version: str) -> str:
    """``"4.3.1"`` -> ``"4.3"``."""
    match = _RELEASE.fullmatch(str(version).strip())
    if not match:
        raise FeatureError("%r is not a Kafka release (major.minor or major.minor.patch)" % (version,))
    return "%s.%s" % match.groups()


def release_level(version: str) -> int | None:
    """The highest production metadata.version level of a Kafka release, None for a release newer
    than the table. A release older than RELEASE_LATEST takes the highest level named after it
    (3.6 -> 3.6-IV2, 14), and one older than KRaft's first level (3.3) takes 0."""
    release = release_of(version)
    if release in RELEASE_LATEST:
        return RELEASE_LATEST[release]
    key = tuple(int(part) for part in release.split("."))
    if key > max(tuple(int(p) for p in r.split(".")) for r in RELEASE_LATEST):
        return None
    named = [level for name, level in LEVELS.items() if name.split("-", maxsplit=1)[0] == release]
    return max(named) if named else 0


def wanted_level(spec: str | int, supported: dict) -> int:
    """The level to finalize: ``latest`` (the highest every broker supports), a release (``4.3``,
    ``4.3.1``), a name (``4.3-IV0``) or a level. ``supported``: ``{broker: (min, max)}``."""
    text = str(spec).strip()
    if text == "latest":
        if not supported:
            raise FeatureError("no broker advertises %s: is this a KRaft cluster of Kafka 3.3 or later?" % FEATURE)
        return min(high for _low, high in supported.values())
    if text.isascii() and text.isdigit():
        return int(text)
    if text in LEVELS:
        return LEVELS[text]
    level = release_level(text)
    if level is None:
        raise FeatureError("%s %r is not known here; give a level or a name such as 4.3-IV0, or latest" % (FEATURE, spec))
    return level


def finalize_errors(wanted: int, finalized: int | None, supported: dict) -> list[str]:
    """Why ``wanted`` cannot be finalized now: a broker that does not support it (it still runs an
    older release) or a lower level than the finalized one (Kafka cannot be downgraded that way)."""
    errors = []
    if finalized is not None and wanted < finalized:
        errors.append("%s is finalized at %s (%d); lowering it to %s (%d) is refused: the cluster's metadata "
                      "would have to be rewritten" % (FEATURE, level_name(finalized), finalized, level_name(wanted), wanted))
    behind = ["%s (up to %s)" % (broker, level_name(high))
              for broker, (_low, high) in sorted(supported.items(), key=lambda item: int(item[0])) if high < wanted]
    if behind:
        errors.append("broker(s) %s do not support %s %s (%d) yet: they run an older Kafka; roll every process "
                      "onto the new release first" % (", ".join(behind), FEATURE, level_name(wanted), wanted))
    return errors


def downgrade_errors(target_version: str, finalized: int | None, running: Iterable[str] = ()) -> list[str]:
    """Why the release ``target_version`` cannot run this cluster: its highest metadata.version is
    below the finalized one. ``running``: the releases the hosts run now, named in the message."""
    if finalized is None:
        return []
    level = release_level(target_version)
    if level is None or level >= finalized:
        return []
    now = ", ".join(sorted(set(running))) or "a newer release"
    return ["Kafka %s supports %s up to %s (%d), but the cluster's is finalized at %s (%d): it cannot go back "
            "from %s to %s. Keep platform_kafka_version at a release that supports %s, or restore from a backup."
            % (target_version, FEATURE, level_name(level), level, level_name(finalized), finalized, now,
               target_version, level_name(finalized))]
