# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The restart gate: may this Kafka process go down now, and is it back?

Asked around every restart of a rolling operation (site.yml, rotate_ca.yml, upgrade.yml), as
Strimzi's KafkaRoller asks it:

* **before** restarting a broker: no partition may fall below its ``min.insync.replicas`` without it
  (in-sync replicas without this broker), no log directory of any broker is offline, and (KRaft) the
  controller quorum has a leader;
* **before** restarting a controller: a majority of the voters other than this one are caught up
  with the leader, so the quorum keeps a majority while it is down;
* **after**: every expected broker is registered and unfenced, no partition is offline or
  under-replicated; a restarted controller is a voter again and caught up.

The functions below judge a cluster state given as plain data (what :class:`KafkaAdmin` reads), so
they are tested on made-up states; :func:`check` reads the state and :func:`wait` polls it.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable

PHASES = ("before", "after")
# Kafka's controller.quorum.fetch.timeout.ms default: a voter whose last caught-up moment is further
# behind the leader's than this is lagging (the window kafka-metadata-quorum's lag columns use)
DEFAULT_CAUGHT_UP_MS = 2000


class GateError(Exception):
    """The gate cannot be asked (bad input)."""


class GateTimeout(Exception):
    """The cluster did not allow the step in time; ``problems`` is what the gate saw last."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


def _key(part: dict) -> str:
    return "%s-%s" % (part["topic"], part["partition"])


def min_isr_blockers(node_id: int, partitions: Iterable[dict], min_isr: dict, default_min_isr: int = 1) -> dict:
    """Which partitions stop broker ``node_id`` from going down now.

    ``partitions``: ``[{"topic", "partition", "replicas", "isr"}]``; ``min_isr``: ``{topic: int}``,
    topics not named there using ``default_min_isr``. A partition blocks when the broker is in its
    ISR and the ISR without it would be smaller than min.insync.replicas. A partition whose replica
    count is not above min.insync.replicas can never be restarted without that (it is listed as
    ``unavoidable``, not blocking: otherwise such a cluster could never be rolled), and one already
    below min.insync.replicas is not made less writable by the restart (``under_min_isr``).
    """
    blocking: list[str] = []
    unavoidable: list[str] = []
    under: list[str] = []
    for part in partitions:
        isr = list(part.get("isr") or [])
        replicas = list(part.get("replicas") or [])
        if node_id not in isr:
            continue
        wanted = int(min_isr.get(part["topic"], default_min_isr))
        if len(isr) < wanted:
            under.append("%s (isr %s, min.insync.replicas %d)" % (_key(part), isr, wanted))
        elif len(isr) - 1 < wanted:
            entry = "%s (isr %s, min.insync.replicas %d)" % (_key(part), isr, wanted)
            (unavoidable if len(replicas) <= wanted else blocking).append(entry)
    return {"blocking": blocking, "unavoidable": unavoidable, "under_min_isr": under}


def caught_up(voter: dict, leader: dict | None, window_ms: int, max_lag: int = 0) -> bool:
    """Whether ``voter`` (a :meth:`KafkaAdmin.quorum` replica) is caught up with ``leader``.

    With KIP-836's timestamps (Kafka 3.3+): its last caught-up moment is within ``window_ms`` of the
    leader's (the leader reports its own as now). Without them: its log end offset is at most
    ``max_lag`` records behind the high watermark."""
    if leader is None:
        return False
    if voter.get("id") == leader.get("id"):
        return True
    if (voter.get("log_end_offset") is None) or voter["log_end_offset"] < 0:
        return False
    ours, theirs = voter.get("last_caught_up_timestamp", -1), leader.get("last_caught_up_timestamp", -1)
    if ours is not None and theirs is not None and ours >= 0 and theirs >= 0:
        return theirs - ours <= window_ms
    lag = voter.get("lag")
    return lag is not None and lag <= max_lag


def _leader_entry(quorum: dict) -> dict | None:
    leader_id = quorum.get("leader_id")
    if leader_id is None or leader_id < 0:
        return None
    return next((v for v in quorum.get("voters", []) if v.get("id") == leader_id), None)


def quorum_problems(node_id: int, quorum: dict, phase: str, window_ms: int = DEFAULT_CAUGHT_UP_MS,
                    expected_voters: Iterable[int] | None = None, is_controller: bool = True) -> list[str]:
    """What keeps the controller quorum from allowing (``before``) or counting as recovered from
    (``after``) the restart of ``node_id``. A broker only needs a leader; a controller needs a majority
    of the other voters caught up before, and to be a caught-up voter itself after."""
    if phase not in PHASES:
        raise GateError("phase must be one of %s, not %r" % (", ".join(PHASES), phase))
    leader = _leader_entry(quorum)
    if leader is None:
        return ["the controller quorum has no leader (leader id %s%s)"
                % (quorum.get("leader_id"), ": " + quorum["error"] if quorum.get("error") else "")]
    if not is_controller:  # a broker's restart does not touch the quorum: it only needs a leader
        return []
    voters = {v["id"]: v for v in quorum.get("voters", [])}
    problems = []
    missing = sorted(set(expected_voters or ()) - set(voters) - ({node_id} if phase == "before" else set()))
    if missing:
        problems.append("voters missing from the quorum: %s" % ", ".join(map(str, missing)))
    lagging = sorted(v for v, state in voters.items() if not caught_up(state, leader, window_ms))
    if phase == "before":
        others = [v for v in voters if v != node_id]
        ready = [v for v in others if v not in lagging]
        majority = len(voters) // 2 + 1
        # with one or two voters no restart keeps a majority: unavoidable, as a partition with no more
        # replicas than min.insync.replicas (otherwise such a quorum could never be rolled)
        if len(others) >= majority and len(ready) < majority:
            behind = ", ".join(str(v) for v in lagging if v != node_id) or "none"
            problems.append("only %d of the %d other voters are caught up (lagging: %s), %d needed to keep a majority "
                            "while controller %d restarts" % (len(ready), len(others), behind, majority, node_id))
    elif node_id not in voters:
        problems.append("controller %d is not a voter of the quorum" % node_id)
    elif node_id in lagging:
        state = voters[node_id]
        problems.append("controller %d is not caught up yet (log end offset %s, high watermark %s)"
                        % (node_id, state.get("log_end_offset"), quorum.get("high_watermark")))
    return problems


def log_dir_problems(log_dirs: Iterable[dict]) -> list[str]:
    """Offline (or otherwise failing) log directories in a DescribeLogDirs answer:
    ``[{"broker", "log_dirs": [{"log_dir", "error_code"}]}]``."""
    problems = []
    for broker in log_dirs:
        for entry in broker.get("log_dirs", []):
            if entry.get("error_code"):
                name = "offline" if entry["error_code"] == 56 else "error code %d" % entry["error_code"]  # KAFKA_STORAGE_ERROR
                problems.append("broker %s: log directory %s is %s" % (broker.get("broker"), entry.get("log_dir"), name))
    return problems


def judge(node_id: int, roles: Iterable[str], phase: str, state: dict, window_ms: int = DEFAULT_CAUGHT_UP_MS,
          expected_voters: Iterable[int] | None = None) -> dict:
    """The gate's answer for one cluster state: ``{"ready", "problems", "unavoidable"}``.

    ``state``: ``health`` (:meth:`KafkaAdmin.health`, needed after), ``partitions`` and ``min_isr``
    (before a broker restart), ``log_dirs`` (before), ``quorum`` (KRaft; None in ZooKeeper mode)."""
    roles = set(roles)
    if not roles or not roles <= {"broker", "controller"}:
        raise GateError("roles must be broker and/or controller, not %s" % sorted(roles))
    problems: list[str] = []
    unavoidable: list[str] = []
    if phase == "before":
        problems += log_dir_problems(state.get("log_dirs") or [])
        if "broker" in roles:
            found = min_isr_blockers(node_id, state.get("partitions") or [], state.get("min_isr") or {},
                                     state.get("default_min_isr", 1))
            if found["blocking"]:
                problems.append("%d partition(s) would fall below min.insync.replicas without broker %d: %s"
                                % (len(found["blocking"]), node_id, _some(found["blocking"])))
            unavoidable = found["unavoidable"]
    elif phase == "after":
        health = state.get("health") or {}
        problems += list(health.get("problems", []))
    else:
        raise GateError("phase must be one of %s, not %r" % (", ".join(PHASES), phase))
    if state.get("quorum") is not None:
        problems += quorum_problems(node_id, state["quorum"], phase, window_ms, expected_voters,
                                    is_controller="controller" in roles)
    return {"ready": not problems, "problems": problems, "unavoidable": unavoidable}


def _some(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (" and %d more" % (len(items) - limit) if len(items) > limit else "")


def read_state(admin: Any, node_id: int, roles: Iterable[str], phase: str, quorum: bool,
               expected_brokers: Iterable[int] = ()) -> dict:
    """What :func:`judge` needs, read through ``admin`` (a :class:`KafkaAdmin`)."""
    roles = set(roles)
    state: dict[str, Any] = {}
    if quorum:
        try:
            state["quorum"] = admin.quorum()
        except Exception as exc:  # no leader: DescribeQuorum fails or times out
            state["quorum"] = {"leader_id": None, "voters": [], "error": str(exc)}
        if _leader_entry(state["quorum"]) is None:
            return state  # refused for that alone; the rest may not answer without a quorum
    if phase == "before":
        state["log_dirs"] = admin.log_dir_states()
        if "broker" in roles:
            state["partitions"] = admin.partitions()
            topics = sorted({p["topic"] for p in state["partitions"] if node_id in p["isr"]})
            state["min_isr"] = {topic: int(values.get("min.insync.replicas", 1))
                                for topic, values in admin.configs("topic", topics).items()}
    else:
        state["health"] = admin.health(expected_brokers)
    return state


def wait(check: Callable[[], dict], timeout: float, progress: Callable[[str], None] | None = None,
         interval: float = 2, clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> dict:
    """Call ``check`` until its answer is ready or ``timeout`` seconds pass. An exception from
    ``check`` (a cluster that does not answer yet) counts as not ready, except :class:`GateError`. Returns the last answer with
    ``waited`` seconds; raises :class:`GateTimeout` naming what the gate saw last."""
    start = clock()
    last = None
    while True:
        try:
            answer = check()
            problems = list(answer["problems"])
        except GateError:
            raise  # bad input: asking again cannot help
        except Exception as exc:
            answer = None
            problems = ["not answering yet: %s" % exc]
        message = "; ".join(problems) or "ready"
        if message != last and progress:
            progress(message)
        last = message
        waited = clock() - start
        if answer is not None and answer["ready"]:
            return dict(answer, waited=round(waited, 1))
        if waited >= timeout:
            raise GateTimeout("still not ready after %ds: %s" % (timeout, message), problems)
        sleep(interval)
