# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Stage ``inputs``: parse and check ``plan_reassignment``'s arguments into a ``Request``.

Every error names the option, entry or broker to fix. Checks run in a fixed order (options,
brokers, current, topic selection, replication factors, max_moves, sizes, replication factor
against the number of brokers), so a call with several problems always reports the same one.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Union

from ansible_collections.kafkaops.platform.plugins.module_utils._checks import INT32_MAX, TOPIC_NAME_MAX, valid_topic_name
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.errors import (
    InvalidAssignmentError,
    InvalidBrokersError,
    InvalidOptionError,
    ReplicationFactorError,
    UnknownTopicError,
)

OPTIONS = frozenset(("include_topics", "exclude_topics", "replication_factors", "partition_sizes", "max_moves"))

Entry = tuple[str, int, list[int]]  # (topic, partition, replicas by broker id)
PartitionKey = tuple[str, int]
Bytes = Union[int, float]


@dataclass
class Request:
    """A checked call: what to plan, and what to leave alone."""

    racks_by_id: dict[int, str | None]  # target broker id -> rack (None everywhere without racks)
    planned: list[Entry]  # partitions of the selected topics, sorted by (topic, partition)
    others: list[Entry]  # partitions left exactly as they are
    replication_factors: list[int]  # target RF of each planned partition
    sizes: list[Bytes] | None  # bytes of each planned partition, if partition_sizes was given
    max_moves: int | None


def is_int(value: object) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_request(current: Any, brokers: Any, options: dict[str, Any]) -> Request:
    """Check every argument of ``plan_reassignment`` and split the partitions to plan."""
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise InvalidOptionError("unknown option(s) %s; known options are %s" % (unknown, sorted(OPTIONS)))
    racks_by_id = parse_brokers(brokers)
    entries = load_current(current)
    topics = {entry[0] for entry in entries}
    selected = select_topic_names(topics, options.get("include_topics"), options.get("exclude_topics"))
    rf_option = parse_replication_factors(options.get("replication_factors"), topics, selected)
    max_moves = options.get("max_moves")
    if max_moves is not None and (not is_int(max_moves) or max_moves < 0):
        raise InvalidOptionError("max_moves must be a non-negative integer or None")
    size_map = parse_sizes(options.get("partition_sizes"), topics, {(entry[0], entry[1]) for entry in entries})

    planned: list[Entry] = []
    others: list[Entry] = []
    for entry in entries:
        (planned if entry[0] in selected else others).append(entry)
    target_count = len(racks_by_id)
    replication_factors = []
    for topic, partition, replicas in planned:
        factor = rf_option.get(topic, len(replicas))
        if factor > target_count:
            raise ReplicationFactorError(
                "%s-%d needs replication factor %d but only %d target brokers are given" % (topic, partition, factor, target_count)
            )
        replication_factors.append(factor)
    sizes = None
    if size_map is not None:
        sizes = [size_map.get((entry[0], entry[1]), 0) for entry in planned]
    return Request(racks_by_id, planned, others, replication_factors, sizes, max_moves)


def parse_brokers(brokers: Any) -> dict[int, str | None]:
    """``{broker id: rack or None}`` from the ``brokers`` argument."""
    if not isinstance(brokers, (list, tuple)) or not brokers:
        raise InvalidBrokersError("brokers must be a non-empty list of {'id': int, 'rack': str or None}")
    racks: dict[int, str | None] = {}
    for pos, broker in enumerate(brokers):
        if not isinstance(broker, dict) or "id" not in broker:
            raise InvalidBrokersError("brokers[%d] must be a dict with an 'id' (and optionally a 'rack')" % pos)
        broker_id = broker["id"]
        if not is_int(broker_id) or broker_id < 0:
            raise InvalidBrokersError("brokers[%d]: id must be a non-negative integer, got %r" % (pos, broker_id))
        if broker_id > INT32_MAX:
            raise InvalidBrokersError("brokers[%d]: id %d is out of range: Kafka broker ids are 0..%d" % (pos, broker_id, INT32_MAX))
        rack = broker.get("rack")
        if rack is not None and (not isinstance(rack, str) or not rack):
            raise InvalidBrokersError("broker %d: rack must be a non-empty string or None, got %r" % (broker_id, rack))
        if broker_id in racks:
            raise InvalidBrokersError("broker id %d is listed more than once" % broker_id)
        racks[broker_id] = rack
    without = sorted(broker_id for broker_id, rack in racks.items() if rack is None)
    if without and len(without) != len(racks):
        raise InvalidBrokersError(
            "brokers %s have no rack while the others have one: give every target broker a "
            "rack (rack-aware planning) or none (rack-unaware)" % without
        )
    return racks


@dataclass(frozen=True)
class Assignment:
    """Reassignment JSON that :func:`parse_assignment` has checked: its partitions sorted by
    (topic, partition). ``plan_reassignment`` takes one in place of the JSON and does not parse
    it again."""

    entries: list[Entry]  # shared with the planner's stages, which read it only

    def as_json(self) -> dict[str, Any]:
        """Kafka's reassignment JSON of the entries (``log_dirs`` dropped)."""
        return {"version": 1, "partitions": [{"topic": topic, "partition": partition, "replicas": list(replicas)}
                                             for topic, partition, replicas in self.entries]}


def parse_assignment(value: Any, option: str = "current") -> Assignment:
    """The one parser of reassignment JSON (a dict or its text): every partition entry checked,
    each listed once, sorted by (topic, partition); errors name ``option`` (the argument or
    module option the JSON came from)."""
    if isinstance(value, Assignment):
        return value
    if isinstance(value, (str, bytes, bytearray)):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise InvalidAssignmentError("%s is not valid JSON: %s" % (option, exc)) from None
    if not isinstance(value, dict):
        raise InvalidAssignmentError("%s must be reassignment JSON: {'version': 1, 'partitions': [...]}" % option)
    version = value.get("version", 1)
    if version != 1:
        raise InvalidAssignmentError("%s: only version 1 is understood, got %r" % (option, version))
    partitions = value.get("partitions")
    if not isinstance(partitions, list):
        raise InvalidAssignmentError("%s['partitions'] must be a list" % option)
    entries: list[Entry] = []
    append = entries.append  # one pass, inline: the benchmark's largest clusters have 10^6 entries
    last_topic = None  # the partitions of a topic usually follow each other: its name is checked once
    for pos, entry in enumerate(partitions):
        try:
            topic = entry["topic"]
            partition = entry["partition"]
            replicas = entry["replicas"]
        except (TypeError, KeyError):
            raise InvalidAssignmentError(
                "%s['partitions'][%d] must be a dict with topic, partition and replicas" % (option, pos)
            ) from None
        if (
            not isinstance(topic, str)
            or not isinstance(partition, int)
            or partition is True
            or partition is False
            or not isinstance(replicas, list)
            or not topic
            or partition < 0
            or not replicas
        ):
            _entry_error(pos, topic, partition, replicas, option)
        for broker in replicas:
            if not isinstance(broker, int) or broker < 0 or broker is True or broker is False:
                _entry_error(pos, topic, partition, replicas, option)
        if len(set(replicas)) != len(replicas):
            _entry_error(pos, topic, partition, replicas, option)
        if topic != last_topic:
            if not valid_topic_name(topic):
                raise InvalidAssignmentError("%s['partitions'][%d]: %s" % (option, pos, topic_name_problem(topic)))
            last_topic = topic
        append((topic, partition, replicas))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    for i in range(1, len(entries)):
        if entries[i][0] == entries[i - 1][0] and entries[i][1] == entries[i - 1][1]:
            raise InvalidAssignmentError("%s-%d is listed more than once" % entries[i][:2])
    return Assignment(entries)


def topic_name_problem(topic: str) -> str:
    """Why Kafka refuses ``topic`` as a topic name."""
    return ("topic %r is not a Kafka topic name: 1 to %d letters, digits, '.', '_' or '-', and neither '.' nor '..'"
            % (topic[:300], TOPIC_NAME_MAX))


def load_current(current: Any) -> list[Entry]:
    """The partitions of ``current`` (reassignment JSON or an Assignment), sorted by (topic, partition)."""
    return parse_assignment(current).entries


def _entry_error(pos: int, topic: Any, partition: Any, replicas: Any, option: str) -> None:
    """Raise the precise error for a malformed partition entry."""
    if not isinstance(topic, str) or not topic:
        raise InvalidAssignmentError("%s['partitions'][%d]: topic must be a non-empty string" % (option, pos))
    if not is_int(partition) or partition < 0:
        raise InvalidAssignmentError("%s: partition must be a non-negative integer, got %r" % (topic, partition))
    if not isinstance(replicas, list) or not replicas:
        raise InvalidAssignmentError("%s-%d: replicas must be a non-empty list of broker ids" % (topic, partition))
    for broker in replicas:
        if not is_int(broker) or broker < 0:
            raise InvalidAssignmentError("%s-%d: replica %r is not a broker id" % (topic, partition, broker))
    raise InvalidAssignmentError("%s-%d: replicas %s name a broker more than once" % (topic, partition, replicas))


def select_topic_names(topics: set[str], include: Any, exclude: Any) -> set[str]:
    """The selected topic names (rules in the ``reassignment`` module docstring)."""
    selected = _resolve_patterns("include_topics", include, topics)
    if selected is None:
        selected = set(topics)
    excluded = _resolve_patterns("exclude_topics", exclude, topics)
    if excluded:
        selected -= excluded
    return selected


def _resolve_patterns(option: str, patterns: Any, topics: set[str]) -> set[str] | None:
    """Topics an include/exclude list names: exact names, else whole-name regular expressions."""
    if patterns is None:
        return None
    if isinstance(patterns, str) or not isinstance(patterns, (list, tuple, set, frozenset)):
        raise InvalidOptionError("%s must be a list of topic names or patterns" % option)
    chosen: set[str] = set()
    if not all(isinstance(pattern, str) and pattern for pattern in patterns):
        raise InvalidOptionError("%s entries must be non-empty strings" % option)
    for pattern in sorted(patterns):
        if pattern in topics:
            chosen.add(pattern)
            continue
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise InvalidOptionError(
                "%s: %r is neither a topic nor a valid regular expression (%s)" % (option, pattern, exc)
            ) from None
        hits = {topic for topic in topics if regex.fullmatch(topic)}
        if not hits:
            raise UnknownTopicError(
                "%s: %r is not a topic in current and matches none as a regular "
                "expression (full match)" % (option, pattern)
            )
        chosen |= hits
    return chosen


def parse_replication_factors(option: Any, topics: set[str], selected: set[str]) -> dict[str, int]:
    """The ``replication_factors`` option, checked against the topics and the selection."""
    if option is None:
        option = {}
    if not isinstance(option, dict):
        raise InvalidOptionError("replication_factors must be a dict of topic -> replication factor")
    for topic, value in sorted(option.items(), key=lambda item: str(item[0])):
        if topic not in topics:
            raise UnknownTopicError("replication_factors names topic %r, not in current" % (topic,))
        if topic not in selected:
            raise InvalidOptionError("replication_factors names topic %r, which include/exclude_topics leave out" % topic)
        if not is_int(value) or value < 1:
            raise ReplicationFactorError("replication_factors[%r] must be a positive integer, got %r" % (topic, value))
    return option


def parse_sizes(sizes: Any, known_topics: set[str], known_partitions: set[PartitionKey]) -> dict[PartitionKey, Bytes] | None:
    """The ``partition_sizes`` option as ``{(topic, partition): bytes}``, or None without it."""
    if sizes is None:
        return None
    if not isinstance(sizes, dict):
        raise InvalidOptionError("partition_sizes must be a dict of partition -> bytes")
    out: dict[PartitionKey, Bytes] = {}
    for key, value in sizes.items():
        partition_key = _size_key(key)
        if not (is_int(value) or (isinstance(value, float) and math.isfinite(value))) or value < 0:
            # the key names the partition ('orders-0' or ('orders', 0)); NaN, infinities and booleans are no sizes
            raise InvalidOptionError("partition_sizes[%r] must be a non-negative number of bytes" % (key,))
        if partition_key[0] not in known_topics:
            raise UnknownTopicError("partition_sizes names topic %r, not in current" % partition_key[0])
        if partition_key not in known_partitions:
            raise InvalidOptionError("partition_sizes names %s-%d, which is not in current" % partition_key)
        out[partition_key] = value
    return out


def _size_key(key: Any) -> PartitionKey:
    """``(topic, partition)`` from a ``partition_sizes`` key: ``"topic-partition"`` or a pair."""
    if isinstance(key, str):
        topic, sep, partition = key.rpartition("-")
        if not sep or not topic or not partition.isascii() or not partition.isdigit():
            raise InvalidOptionError("partition_sizes key %r must be 'topic-partition' or (topic, partition)" % key)
        return (topic, int(partition))
    if isinstance(key, (tuple, list)) and len(key) == 2:
        if not isinstance(key[0], str) or not is_int(key[1]):
            raise InvalidOptionError("partition_sizes key %r is not (topic, partition)" % (key,))
        return (key[0], key[1])
    raise InvalidOptionError("partition_sizes key %r must be 'topic-partition' or (topic, partition)" % (key,))
