# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Consumer groups as data: lag, where a reset moves the committed offsets, and whether it may.

Pure functions over plain values - partitions are ``(topic, partition)`` tuples, offsets integers -
used by the ``kafka_consumer_group`` module; the cluster is read and written by ``kafka_admin``.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

Partition = Tuple[str, int]
Offsets = Dict[Partition, int]

RESET_MODES = ("earliest", "latest", "timestamp", "offset")
# the states in which the coordinator accepts offsets from outside the group (no member holds them)
INACTIVE_STATES = ("Empty", "Dead")


class ConsumerGroupError(ValueError):
    """A request about a consumer group that cannot be carried out, with a message for the operator."""


def lag_rows(committed: Mapping[Partition, int], ends: Mapping[Partition, int]) -> List[dict]:
    """One row per partition with a committed offset: ``{"topic", "partition", "committed", "end", "lag"}``,
    sorted; ``lag`` is ``None`` when the end offset is unknown (a partition that no longer exists)."""
    rows = []
    for (topic, partition), offset in sorted(committed.items()):
        end = ends.get((topic, partition))
        rows.append({"topic": topic, "partition": partition, "committed": offset, "end": end,
                     "lag": None if end is None else max(0, end - offset)})
    return rows


def total_lag(rows: Iterable[dict]) -> int:
    return sum(row["lag"] for row in rows if row["lag"] is not None)


def explicit_offsets(entries: Sequence[Mapping[str, object]]) -> Offsets:
    """``[{"topic", "partition", "offset"}]`` as a mapping, each checked: a topic name, partition and offset
    that are non-negative whole numbers, each partition once."""
    found: Offsets = {}
    for index, entry in enumerate(entries):
        where = "offsets[%d]" % index
        if not isinstance(entry, Mapping) or set(entry) != {"topic", "partition", "offset"}:
            raise ConsumerGroupError("%s must be a mapping with exactly topic, partition and offset" % where)
        topic, partition, offset = entry["topic"], entry["partition"], entry["offset"]
        if not isinstance(topic, str) or not topic:
            raise ConsumerGroupError("%s.topic must be a topic name, got %r" % (where, topic))
        for name, value in (("partition", partition), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConsumerGroupError("%s.%s must be a whole number from 0, got %r" % (where, name, value))
        key = (topic, int(partition))  # type: ignore[call-overload]
        if key in found:
            raise ConsumerGroupError("%s: partition %s-%d is given twice" % (where, topic, key[1]))
        found[key] = int(offset)  # type: ignore[call-overload]
    return found


def reset_partitions(mode: str, topics: Optional[Sequence[str]], committed: Mapping[Partition, int],
                     explicit: Mapping[Partition, int], partitions_of: Mapping[str, int]) -> List[Partition]:
    """The partitions a reset touches: those of ``explicit`` (mode ``offset``), else every partition of
    ``topics``, else every partition the group has committed offsets for. Refuses unknown topics and
    partitions, and a reset with nothing to reset."""
    if mode == "offset":
        chosen = sorted(explicit)
    elif topics:
        chosen = sorted((topic, p) for topic in dict.fromkeys(topics) for p in range(partitions_of.get(topic, 0)))
        missing = [topic for topic in topics if topic not in partitions_of]
        if missing:
            raise ConsumerGroupError("no topic %s in the cluster" % ", ".join(sorted(set(missing))))
    else:
        chosen = sorted(committed)
    unknown = ["%s-%d" % key for key in chosen if key[1] >= partitions_of.get(key[0], 0)]
    if unknown:
        raise ConsumerGroupError("no partition %s in the cluster" % ", ".join(unknown))
    if not chosen:
        raise ConsumerGroupError("nothing to reset: the group has no committed offsets; name the topics")
    return chosen


def reset_targets(partitions: Sequence[Partition], mode: str, earliest: Mapping[Partition, int],
                  latest: Mapping[Partition, int], by_time: Optional[Mapping[Partition, Optional[int]]] = None,
                  explicit: Optional[Mapping[Partition, int]] = None) -> Offsets:
    """Where each partition's committed offset goes, within ``[earliest, latest]`` (as
    kafka-consumer-groups does): the log start, the log end, the first record at or after a
    timestamp (the end when there is none), or an explicit offset."""
    if mode not in RESET_MODES:
        raise ConsumerGroupError("reset_to must be one of %s, got %r" % (", ".join(RESET_MODES), mode))
    targets: Offsets = {}
    for key in partitions:
        low, high = earliest[key], latest[key]
        if mode == "earliest":
            wanted = low
        elif mode == "latest":
            wanted = high
        elif mode == "timestamp":
            found = (by_time or {}).get(key)
            wanted = high if found is None or found < 0 else found
        else:
            wanted = (explicit or {})[key]
        targets[key] = min(max(wanted, low), high)
    return targets


def offset_changes(committed: Mapping[Partition, int], targets: Mapping[Partition, int]) -> List[dict]:
    """The partitions whose committed offset differs from its target: ``{"topic", "partition", "before",
    "after"}`` (``before`` is ``None`` where nothing was committed), sorted."""
    return [{"topic": topic, "partition": partition, "before": committed.get((topic, partition)), "after": offset}
            for (topic, partition), offset in sorted(targets.items()) if committed.get((topic, partition)) != offset]


def refusal(state: str, members: Sequence[Mapping[str, object]], force: bool, action: str) -> Optional[str]:
    """Why ``action`` may not go ahead on a group in ``state`` with ``members``, or ``None``.

    The coordinator takes offsets from outside the group only while no member holds them, so a group
    with members is refused unless ``force`` (which first removes the members: they rejoin when their
    consumers are still running, and may commit their own positions again)."""
    if state in INACTIVE_STATES and not members:
        return None
    if force:
        return None
    who = ", ".join(sorted("%s (%s)" % (m.get("client_id") or "?", m.get("client_host") or "?") for m in members))
    return ("cannot %s while the group is %s with %d active member(s): %s; stop the consumers, or set force=true "
            "to remove the members first" % (action, state, len(members), who or "none listed"))


def diff_text(rows: Mapping[Partition, Optional[int]]) -> str:
    """A group's committed offsets as ``topic-partition: offset`` lines, for ``--diff``."""
    return "".join("%s-%d: %s\n" % (topic, partition, "-" if offset is None else offset)
                   for (topic, partition), offset in sorted(rows.items()))
