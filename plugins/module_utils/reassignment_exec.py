# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Executing a partition reassignment safely, batch by batch.

The planner (:mod:`reassignment`) says where replicas should go; this module moves them:

* :func:`split_batches` cuts a plan into batches in which no broker takes part in more than
  ``max_moves_per_broker`` replica moves (as the receiver of a new replica or as the leader
  that sends it), so a large plan never floods one broker;
* :func:`throttle_configs` gives the replication throttles of one batch: Kafka's
  ``leader/follower.replication.throttled.replicas`` only on the partitions and replicas that
  move, and ``leader/follower.replication.throttled.rate`` only on the brokers involved;
* :func:`execute_reassignment` runs the batches through the shared admin client: throttle,
  submit, wait (with progress), verify, remove the throttles (in a ``finally``, so also when
  a batch fails, times out or the module is interrupted), then a preferred leader election.

Resuming: Kafka keeps an ongoing reassignment on its own. :func:`execute_reassignment` first
waits for any reassignment already in flight (the remainder of an interrupted run), with the
throttle re-applied to it, and only then submits its own; :func:`effective_assignment` gives the
assignment as it will be once the in-flight moves finish, which is what a new plan starts from.

The replication throttle constants (:data:`THROTTLE_RATE_KEYS`, :data:`THROTTLE_REPLICA_KEYS`,
:data:`MIN_THROTTLE`) live here only; kafka_topic and kafka_reassignment import them.

The pure functions take plain dicts and lists and are unit-tested without a cluster.
"""
from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

if TYPE_CHECKING:  # only for the annotations: the executor works with anything that answers like KafkaAdmin
    from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin

# Kafka's replication throttles: the rates are broker configs, the throttled replica lists topic configs.
THROTTLE_RATE_KEYS = ("leader.replication.throttled.rate", "follower.replication.throttled.rate")
THROTTLE_REPLICA_KEYS = ("leader.replication.throttled.replicas", "follower.replication.throttled.replicas")
# The lowest throttle the modules accept, bytes per second: a lower rate would stall replication.
MIN_THROTTLE = 1024
DEFAULT_MAX_MOVES_PER_BROKER = 5

PartitionKey = tuple[str, int]
Assignment = dict[PartitionKey, list[int]]  # {(topic, partition): replicas}
Entry = dict[str, Any]  # {"topic", "partition", "replicas"}, Kafka's reassignment JSON entry
Throttles = dict[str, dict[str, dict[str, Any]]]  # {"topics": {name: {key: value}}, "brokers": {id: {key: value}}}
Progress = Callable[[str], None]


# how long a wait asks again when the cluster does not answer (a controller failing over, a broker
# restarting) before it gives up; Kafka goes on moving meanwhile
UNANSWERED_GRACE = 180


class ReassignmentError(Exception):
    """A reassignment that could not be carried out; the message says what state it left."""


# -- pure helpers -------------------------------------------------------------------------------
def throttle_problem(rate: int | None) -> str | None:
    """What is wrong with the ``throttle`` option ``rate`` (bytes per second), or None."""
    if rate is not None and rate < MIN_THROTTLE:
        return ("throttle is in bytes per second and must be at least %d (got %d); a lower rate would stall "
                "replication" % (MIN_THROTTLE, rate))
    return None


def key_of(entry: Entry) -> PartitionKey:
    return (entry["topic"], int(entry["partition"]))


def name_of(key: PartitionKey) -> str:
    return "%s-%d" % key


def assignment_map(partitions: Iterable[Entry]) -> Assignment:
    """``{(topic, partition): [replicas]}`` from a list of ``{"topic", "partition", "replicas"}``."""
    return {key_of(p): list(p["replicas"]) for p in partitions}


def as_partition_list(mapping: Assignment) -> list[Entry]:
    return [{"topic": t, "partition": p, "replicas": list(r)} for (t, p), r in sorted(mapping.items())]


def effective_assignment(current: Assignment, in_flight: dict[PartitionKey, dict[str, list[int]]]) -> Assignment:
    """The assignment once the in-flight reassignments complete.

    ``current``: ``{(topic, partition): replicas}`` as the metadata shows them (during a
    reassignment that list holds the old and the new replicas); ``in_flight``: the answer of
    ``KafkaAdmin.reassignments()``. A moving partition ends with its replicas minus the ones
    being removed, in Kafka's order."""
    result = {key: list(replicas) for key, replicas in current.items()}
    for key, state in in_flight.items():
        removing = set(state.get("removing", []))
        result[key] = [b for b in state.get("replicas", result.get(key, [])) if b not in removing]
    return result


def move_load(old: list[int], new: list[int]) -> dict[int, int]:
    """``{broker: moves}``: the replica moves a partition change puts on each broker. Every
    added replica counts for the broker receiving it and for the leader sending it; a pure
    reorder or a dropped replica costs nothing."""
    added = [b for b in new if b not in old]
    if not added:
        return {}
    load: dict[int, int] = {}
    for broker in added:
        load[broker] = load.get(broker, 0) + 1
    if old:
        load[old[0]] = load.get(old[0], 0) + len(added)
    return load


def split_batches(current: Assignment, proposed: Iterable[Entry], max_moves_per_broker: int = DEFAULT_MAX_MOVES_PER_BROKER,
                  sizes: dict[PartitionKey, int] | None = None) -> list[list[Entry]]:
    """Cut ``proposed`` (a list of ``{"topic", "partition", "replicas"}``) into batches.

    In each batch no broker carries more than ``max_moves_per_broker`` moves (:func:`move_load`),
    except a partition whose own load is larger, which then gets a batch where it is alone on
    those brokers. Partitions that only reorder replicas or drop some (no data to copy) go into
    the last batch. Larger partitions (``sizes``, bytes by key) are placed first so big copies
    start early and run side by side. Deterministic; each batch is sorted by topic and partition.
    """
    if max_moves_per_broker < 1:
        raise ValueError("max_moves_per_broker must be at least 1, got %r" % max_moves_per_broker)
    sizes = sizes or {}
    moving: list[tuple[PartitionKey, Entry, dict[int, int]]] = []
    light: list[tuple[PartitionKey, Entry, dict[int, int]]] = []
    for entry in proposed:
        key = key_of(entry)
        load = move_load(current.get(key, []), entry["replicas"])
        (moving if load else light).append((key, entry, load))
    moving.sort(key=lambda item: (-sizes.get(item[0], 0), item[0]))
    batches: list[list[Entry]] = []
    loads: list[dict[int, int]] = []
    for _key, entry, load in moving:
        index = _first_fit(loads, load, max_moves_per_broker)
        if index == len(loads):
            batches.append([])
            loads.append({})
        batches[index].append(entry)
        for broker, n in load.items():
            loads[index][broker] = loads[index].get(broker, 0) + n
    if light:
        if not batches:
            batches.append([])
        batches[-1].extend(entry for _key, entry, _load in light)
    return [sorted(batch, key=key_of) for batch in batches]


def _first_fit(loads: list[dict[int, int]], load: dict[int, int], cap: int) -> int:
    """The first batch whose brokers all have room for ``load`` (a broker with nothing yet
    always has room), or ``len(loads)`` for a new batch."""
    for index, used in enumerate(loads):
        if all(used.get(b, 0) + n <= cap or used.get(b, 0) == 0 for b, n in load.items()):
            return index
    return len(loads)


def batch_summary(current: Assignment, batch: list[Entry]) -> dict[str, Any]:
    """Counts of one batch: partitions, replica moves, receiving brokers."""
    moves = 0
    receivers: set[int] = set()
    for entry in batch:
        old = current.get(key_of(entry), [])
        added = [b for b in entry["replicas"] if b not in old]
        moves += len(added)
        receivers.update(added)
    return {"partitions": len(batch), "replica_moves": moves, "receiving_brokers": sorted(receivers)}


def throttle_configs(current: Assignment, batch: Iterable[Entry],
                     rate: int | None) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The throttles of one batch: ``(topic_configs, broker_configs)``, each
    ``{name: {key: value}}``, empty when ``rate`` is None.

    On each topic: ``leader.replication.throttled.replicas`` lists ``partition:broker`` for the
    replicas a moving partition has today (any of them may lead and send), and
    ``follower.replication.throttled.replicas`` those it gains. On each broker that holds or gains
    a moving replica: both throttled rates set to ``rate`` bytes per second."""
    if rate is None:
        return {}, {}
    leaders: dict[str, list[str]] = {}
    followers: dict[str, list[str]] = {}
    brokers: set[int] = set()
    for entry in batch:
        topic, partition = key_of(entry)
        old = current.get((topic, partition), [])
        added = [b for b in entry["replicas"] if b not in old]
        if not added:
            continue
        leaders.setdefault(topic, []).extend("%d:%d" % (partition, b) for b in old)
        followers.setdefault(topic, []).extend("%d:%d" % (partition, b) for b in added)
        brokers.update(old)
        brokers.update(added)
    topics = {}
    for topic in sorted(set(leaders) | set(followers)):
        topics[topic] = {THROTTLE_REPLICA_KEYS[0]: ",".join(leaders.get(topic, [])),
                         THROTTLE_REPLICA_KEYS[1]: ",".join(followers.get(topic, []))}
    rates = {str(b): {key: str(int(rate)) for key in THROTTLE_RATE_KEYS} for b in sorted(brokers)}
    return topics, rates


def throttles_in(topic_configs: dict[str, dict[str, Any]], broker_configs: dict[str, dict[str, Any]]) -> Throttles:
    """The replication throttles present in describe results: ``{"topics": {name: {key: value}},
    "brokers": {id: {key: value}}}`` (empty values, Kafka's default, do not count)."""
    found: Throttles = {"topics": {}, "brokers": {}}
    for kind, configs, keys in (("topics", topic_configs, THROTTLE_REPLICA_KEYS),
                                ("brokers", broker_configs, THROTTLE_RATE_KEYS)):
        for name, entries in sorted(configs.items()):
            present = {k: v for k, v in entries.items() if k in keys and v not in (None, "")}
            if present:
                found[kind][str(name)] = present
    return found


def mismatches(targets: Assignment, actual: Assignment) -> list[tuple[PartitionKey, list[int] | None, list[int]]]:
    """Partitions whose replica list (order included) is not the target: ``[(key, actual, target)]``."""
    return [(key, actual.get(key), replicas) for key, replicas in sorted(targets.items())
            if actual.get(key) != replicas]


# -- execution against a cluster ------------------------------------------------------------------
class Executor:
    """Runs reassignment batches on a cluster through a :class:`KafkaAdmin`.

    ``progress(message)`` receives a line at every state change; ``clock``/``sleep`` are
    injectable for tests."""

    def __init__(self, admin: KafkaAdmin, throttle: int | None = None, timeout: float = 3600, poll_interval: float = 2.0,
                 progress: Progress | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.admin = admin
        self.throttle = throttle
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.progress: Progress = progress or (lambda message: None)
        self.clock = clock
        self.sleep = sleep
        self.log: list[str] = []
        self.throttled_topics: set[str] = set()
        self.throttled_brokers: set[str] = set()
        self.throttle_seen: dict[str, Any] = {}

    def say(self, message: str) -> None:
        self.log.append(message)
        self.progress(message)

    def answered(self, ask: Callable[[], Any], what: str, deadline: float | None = None, hint: str | None = None) -> Any:
        """``ask()``, asked again every poll while the cluster does not answer (a controller failing over,
        a broker restarting: a broker's own configs are altered on that broker), for up to
        UNANSWERED_GRACE seconds and not past ``deadline``. Then the last error is raised: as it is, or
        with ``hint`` as a ReassignmentError saying how long the cluster was silent, then the hint."""
        silent_since = None
        last = None
        while True:
            try:
                return ask()
            except Exception as exc:  # a broker restarting, a controller failing over: ask again a while
                silent_since = self.clock() if silent_since is None else silent_since
                silent = self.clock() - silent_since
                if silent >= UNANSWERED_GRACE or (deadline is not None and self.clock() >= deadline):
                    if hint is None:
                        raise
                    raise ReassignmentError("%s: the cluster did not answer for %ds (%s). %s" % (
                        what, int(silent), exc, hint)) from exc
                message = "%s: the cluster does not answer (%s), asking again" % (what, exc)
                if message != last:
                    self.say(message)
                    last = message
                self.sleep(self.poll_interval)

    # throttles ----------------------------------------------------------------------------------
    def set_throttles(self, current: Assignment, batch: list[Entry]) -> None:
        if self.throttle is None:
            return
        topics, brokers = throttle_configs(current, batch, self.throttle)
        if not topics:
            return
        self.throttled_topics.update(topics)
        self.throttled_brokers.update(brokers)
        self.answered(lambda: self.admin.alter_configs("broker", brokers), "setting the throttle rates")
        self.answered(lambda: self.admin.alter_configs("topic", topics), "throttling the moving replicas")
        self.throttle_seen = {"topics": sorted(topics), "brokers": sorted(int(b) for b in brokers),
                              "rate": int(self.throttle)}
        self.say("throttle %d B/s on brokers %s and on the moving replicas of %d topic(s)" % (
            self.throttle, ",".join(sorted(brokers, key=int)), len(topics)))

    def clear_throttles(self, topics: Iterable[str] | None = None, brokers: Iterable[Any] | None = None) -> dict[str, list[Any]]:
        """Delete the replication throttles of ``topics`` and ``brokers`` (default: those this
        executor set). Returns what was removed."""
        topic_names = sorted(self.throttled_topics if topics is None else topics)
        broker_ids = sorted(self.throttled_brokers if brokers is None else brokers, key=int)
        if topic_names:
            self.answered(lambda: self.admin.alter_configs("topic", {t: dict.fromkeys(THROTTLE_REPLICA_KEYS) for t in topic_names}),
                          "removing the throttles of the topics")
        if broker_ids:
            self.answered(lambda: self.admin.alter_configs("broker", {b: dict.fromkeys(THROTTLE_RATE_KEYS) for b in broker_ids}),
                          "removing the throttle rates")
        self.throttled_topics.difference_update(topic_names)
        self.throttled_brokers.difference_update(broker_ids)
        if topic_names or broker_ids:
            names = ",".join(map(str, broker_ids)) or "-"
            self.say("throttles removed from %d topic(s) and broker(s) %s" % (len(topic_names), names))
        return {"topics": topic_names, "brokers": [int(b) for b in broker_ids]}

    def stale_throttles(self) -> Throttles:
        """Replication throttles present on the cluster (every topic and live broker)."""
        partitions = self.admin.partitions()
        topics = sorted({p["topic"] for p in partitions})
        brokers = [b["id"] for b in self.admin.cluster()["brokers"] if not b.get("fenced")]
        return throttles_in(self.admin.configs("topic", topics), self.admin.configs("broker", brokers))

    # waiting ----------------------------------------------------------------------------------
    def current(self) -> Assignment:
        return {(p["topic"], p["partition"]): p["replicas"] for p in self.answered(self.admin.partitions, "reading the partitions")}

    def wait(self, keys: Iterable[PartitionKey], label: str, deadline: float,
             hint: str = "Kafka goes on moving them: run again to resume, or use state=cancelled to revert them") -> None:
        """Poll until none of ``keys`` is being reassigned."""
        keys = set(keys)
        last = None
        started = self.clock()
        while True:
            answer = self.answered(self.admin.reassignments, label, deadline, hint)
            ongoing = {k: v for k, v in answer.items() if k in keys}
            message = "%s: %d of %d partition(s) done" % (label, len(keys) - len(ongoing), len(keys))
            if message != last:
                self.say("%s (%ds)" % (message, int(self.clock() - started)))
                last = message
            if not ongoing:
                return
            if self.clock() >= deadline:
                raise ReassignmentError("%s did not finish within %ds; still moving: %s. %s" % (
                    label, int(self.clock() - started), ", ".join(name_of(k) for k in sorted(ongoing)[:20]), hint))
            self.sleep(self.poll_interval)

    def verify(self, targets: Assignment) -> None:
        """Wait (briefly: metadata propagates) until every partition has its target replica list."""
        deadline = self.clock() + 60
        while True:
            wrong = mismatches(targets, self.current())
            if not wrong:
                return
            if self.clock() >= deadline:
                raise ReassignmentError("after the reassignment %d partition(s) do not have their target replicas: %s" % (
                    len(wrong), "; ".join("%s is %s, expected %s" % (name_of(k), a, t) for k, a, t in wrong[:10])))
            self.sleep(self.poll_interval)

    # the run ------------------------------------------------------------------------------------
    def resume(self) -> list[str]:
        """Finish the reassignments already in flight (an interrupted run): throttle them if a
        throttle is set, wait, verify. Returns the partitions that were in flight."""
        in_flight = self.admin.reassignments()
        if not in_flight:
            return []
        current = self.current()
        targets = effective_assignment(current, in_flight)
        moving = {k: targets[k] for k in in_flight}
        original = {k: [b for b in current[k] if b not in set(v["adding"])] for k, v in in_flight.items()}
        self.say("resuming: %d partition(s) already being reassigned" % len(in_flight))
        with self.throttled(original, as_partition_list(moving)):
            self.wait(in_flight, "in-flight reassignment", self.clock() + self.timeout)
            self.verify(moving)
        return sorted(name_of(k) for k in in_flight)

    @contextlib.contextmanager
    def throttled(self, current: Assignment, batch: list[Entry]) -> Iterator[None]:
        """Throttles on for the block and off after it, whatever happens in it. A failure to
        remove them is reported without hiding the error of the block, if there was one."""
        try:
            self.set_throttles(current, batch)
            yield
        except BaseException as exc:
            try:
                self.clear_throttles()
            except Exception as cleanup:  # keep the first error; say the throttles may be left
                raise ReassignmentError("%s; and removing the throttles failed too (%s): run again to remove "
                                        "them" % (exc, cleanup)) from exc
            raise
        self.clear_throttles()

    def revert_accepted(self, targets: dict[PartitionKey, Any], refused: dict[PartitionKey, str], label: str) -> None:
        """Kafka refused part of a batch: cancel the part it accepted (so nothing goes on moving
        unthrottled once the throttles come off), wait for that, and fail saying what state each
        partition is in. A partition that only dropped replicas may have finished already; Kafka
        then has nothing to cancel and it stays as reassigned."""
        accepted = sorted(k for k in targets if k not in refused)
        reason = "Kafka refused the reassignment of %s" % "; ".join(
            "%s (%s)" % (name_of(k), e) for k, e in sorted(refused.items()))
        if not accepted:
            raise ReassignmentError("%s; nothing of %s was submitted" % (reason, label))
        answer = self.admin.alter_reassignments(dict.fromkeys(accepted))
        finished = sorted(k for k, e in answer.items() if e == "NoReassignmentInProgressError")
        failed = {k: e for k, e in answer.items() if e != "NoReassignmentInProgressError"}
        cancelled = [k for k in accepted if k not in answer]
        self.wait(cancelled, "cancelling the rest of %s" % label, self.clock() + self.timeout,
                  hint="(%s.) Kafka goes on reverting them; run state=cancelled to wait for the rest" % reason)
        parts = [reason]
        if cancelled:
            parts.append("the other %d partition(s) of %s were cancelled and are back on their brokers" % (
                len(cancelled), label))
        if finished:
            parts.append("%s had already finished and keep their new replicas" % ", ".join(map(name_of, finished)))
        if failed:
            parts.append("cancelling %s failed" % "; ".join("%s (%s)" % (name_of(k), e) for k, e in sorted(failed.items())))
        raise ReassignmentError("; ".join(parts) + ", nothing else was submitted")

    def run_batch(self, batch: list[Entry], label: str) -> dict[str, Any]:
        current = self.current()
        targets = assignment_map(batch)
        started = self.clock()
        with self.throttled(current, batch):
            refused = self.admin.alter_reassignments(targets)
            if refused:
                self.revert_accepted(targets, refused, label)
            self.wait(targets, label, started + self.timeout)
            self.verify(targets)
        summary = batch_summary(current, batch)
        summary["seconds"] = round(self.clock() - started, 1)
        return summary


def execute_reassignment(admin: KafkaAdmin, partitions: list[Entry], throttle: int | None = None, timeout: float = 3600,
                         progress: Progress | None = None, max_moves_per_broker: int = DEFAULT_MAX_MOVES_PER_BROKER,
                         elect_leaders: bool = True, poll_interval: float = 2.0,
                         sizes: dict[PartitionKey, int] | None = None) -> dict[str, Any]:
    """Apply ``partitions`` (the planner's ``proposed["partitions"]``) to the cluster.

    Finishes any reassignment already in flight first, then runs the batches of
    :func:`split_batches` one after the other (throttled when ``throttle`` is set, bytes per
    second), verifies each, and finally elects preferred leaders of the changed partitions.
    Raises :class:`ReassignmentError` (throttles removed) when something goes wrong."""
    executor = Executor(admin, throttle=throttle, timeout=timeout, progress=progress, poll_interval=poll_interval)
    started = executor.clock()
    resumed = executor.resume()
    current = executor.current()
    batches = split_batches(current, partitions, max_moves_per_broker, sizes=sizes)
    done = []
    for index, batch in enumerate(batches, 1):
        summary = batch_summary(current, batch)
        executor.say("batch %d/%d: %d partition(s), %d replica move(s) onto broker(s) %s" % (
            index, len(batches), summary["partitions"], summary["replica_moves"],
            ",".join(map(str, summary["receiving_brokers"])) or "-"))
        done.append(executor.run_batch(batch, "batch %d/%d" % (index, len(batches))))
    elected: dict[str, Any] = {"elected": [], "errors": {}}
    if elect_leaders and partitions:
        elected = admin.elect_preferred_leaders([key_of(p) for p in partitions])
        executor.say("preferred leader election: %d leader(s) moved" % len(elected["elected"]))
    return {"resumed": resumed, "batches": done, "elected": elected["elected"], "election_errors": elected["errors"],
            "throttle": executor.throttle_seen, "seconds": round(executor.clock() - started, 1), "log": executor.log}
