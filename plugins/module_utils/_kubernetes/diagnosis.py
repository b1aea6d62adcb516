# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Why pods did not become ready: what the API server says about them, as one readable message.

After a wait for pods times out, the tasks read the pods, the events of the namespace, the
PersistentVolumeClaims and the last log lines of the kafka container, and fail with
:func:`pod_problems`. For each expected pod that is not Ready it gives one line: the phase, why it
is not scheduled, each container's waiting reason or last termination (exit code) and restarts, the
Warning events of the pod and of the claims of its volumes (the newest Normal ones when there is
no warning), the claims that are not Bound, and the last log lines.

The objects are read as the API server returns them, and only read: a missing key, a null or a
value of another type than expected inside an object is left out of the message, never an error
(the message is what the operator reads when something already went wrong). Only arguments of the
wrong type (pods not a list, a pod not a mapping) are refused, with :class:`PodDiagnosisError`.
Pure Python.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils import _checks

# at most this many events of one object, the newest last
EVENTS_PER_OBJECT = 5
# at most this many log lines of a pod, each cut to LINE_LIMIT characters
LOG_LINES = 10
LINE_LIMIT = 300
# an event or status message longer than this is cut (a scheduler message can list every node)
MESSAGE_LIMIT = 500
CUT = "..."

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BLANKS = re.compile(r"\s+")
# the time of an event as the API server writes it (lastTimestamp 2024-05-01T10:00:00Z, eventTime with microseconds)
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?")
_CLAIM = "PersistentVolumeClaim"
# a Java stack frame ("\tat org.apache...(Foo.java:12)", "... 7 more"): the lines before them say what went wrong
_STACK_FRAME = re.compile(r"\s*(at [\w$.<>/]+\(.*\)|\.\.\. \d+ more)\s*")
# what the kubelet answers, as if it were the log, for a container instance it no longer has (the
# instance before the last one is removed once the last one has exited too)
_NO_LOG = re.compile(r"\s*unable to retrieve container logs for \S+\s*")


class PodDiagnosisError(ValueError):
    """An argument of the diagnosis has the wrong type (not a part of an API object: those are read leniently)."""


def _get(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]...``, or None where a step is no mapping or lacks the key."""
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def _entries(value: Any) -> List[Mapping[str, Any]]:
    """The mappings of a list (anything else, a null included, holds none)."""
    return [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, (list, tuple)) else []


def _clean(value: Any, limit: int = MESSAGE_LIMIT) -> str:
    """``value`` as one line of text: colour codes removed, control characters and runs of blanks made
    one space, at most ``limit`` characters (cut ones end in ``...``); ``""`` for None."""
    if value is None:
        return ""
    text = _ANSI.sub("", value if isinstance(value, str) else str(value))
    text = _BLANKS.sub(" ", _checks.CONTROL.sub(" ", text)).strip()
    return text if len(text) <= limit else text[:limit - len(CUT)].rstrip() + CUT


def _reason_message(reason: Any, message: Any) -> str:
    """``Reason: message``, or whichever of the two there is."""
    return ": ".join(part for part in (_clean(reason), _clean(message)) if part)


def is_ready(pod: Any) -> bool:
    """Whether a Pod (as the API server returns it) has the condition Ready True."""
    return any(_get(condition, "type") == "Ready" and _get(condition, "status") == "True"
               for condition in _entries(_get(pod, "status", "conditions")))


def _event_time(event: Mapping[str, Any]) -> Tuple[str, float]:
    """A sort key for when an event last happened (events without a time sort first)."""
    for value in (event.get("lastTimestamp"), event.get("eventTime"), _get(event, "series", "lastObservedTime"),
                  event.get("firstTimestamp"), _get(event, "metadata", "creationTimestamp")):
        found = _TIME.match(value) if isinstance(value, str) else None
        if found:
            return found.group(1), float("0" + (found.group(2) or ""))
    return "", 0.0


def _event_text(event: Mapping[str, Any], source: bool = False) -> str:
    """``Warning Reason x3: message`` (``Kind/name`` first when ``source``)."""
    count = _checks.strict_int(event.get("count"))
    if count is None:
        count = _checks.strict_int(_get(event, "series", "count"))
    text = "%s %s%s" % (_clean(event.get("type")) or "?", _clean(event.get("reason")) or "?",
                        " x%d" % count if count is not None and count > 1 else "")
    message = _clean(event.get("message"))
    if source:
        text = "%s/%s %s" % (_clean(_get(event, "involvedObject", "kind")) or "?",
                             _clean(_get(event, "involvedObject", "name")) or "?", text)
    return "%s: %s" % (text, message) if message else text


def _newest(events: List[Mapping[str, Any]], source: bool = False) -> Tuple[List[str], bool]:
    """The Warning events (or, when there is none, the others), the newest EVENTS_PER_OBJECT of them,
    newest last, as text; and whether there are warnings."""
    ordered = sorted(events, key=_event_time)
    warnings = [event for event in ordered if event.get("type") == "Warning"]
    return [_event_text(event, source) for event in (warnings or ordered)[-EVENTS_PER_OBJECT:]], bool(warnings)


def _events_of(events: List[Mapping[str, Any]], kind: str, name: str) -> Tuple[List[str], bool]:
    """The events to show of the object ``kind``/``name`` (see :func:`_newest`)."""
    return _newest([event for event in events
                    if _get(event, "involvedObject", "kind") == kind and _get(event, "involvedObject", "name") == name])


def _naming(events: List[Mapping[str, Any]], name: str) -> List[str]:
    """The Warning events of other objects than pods and claims whose message names the pod ``name``
    (a StatefulSet that could not create it: FailedCreate), with their source."""
    word = re.compile(r"(?<![\w-])%s(?![\w-])" % re.escape(name))
    return _newest([event for event in events
                    if event.get("type") == "Warning" and _get(event, "involvedObject", "kind") not in ("Pod", _CLAIM)
                    and isinstance(event.get("message"), str) and word.search(event["message"])], source=True)[0]


def _termination(state: Mapping[str, Any]) -> str:
    """``Error, exit code 1: message`` of a terminated state."""
    details = [_clean(state.get("reason")) or "terminated"]
    for key, label in (("exitCode", "exit code"), ("signal", "signal")):
        number = _checks.strict_int(state.get(key))
        if number is not None and (number or key == "exitCode"):
            details.append("%s %d" % (label, number))
    message = _clean(state.get("message"))
    return ", ".join(details) + (": " + message if message else "")


def _container(status: Mapping[str, Any], init: bool) -> str:
    """What is wrong with one container of a pod that is not ready (``""`` when nothing is)."""
    state = _get(status, "state")
    waiting, terminated, running = (_get(state, key) for key in ("waiting", "terminated", "running"))
    details = []
    if isinstance(waiting, Mapping):
        why = _reason_message(waiting.get("reason"), waiting.get("message"))
        details.append("waiting: " + why if why else "waiting")
    elif isinstance(terminated, Mapping):
        if init and _checks.strict_int(terminated.get("exitCode")) == 0:
            return ""  # an init container that did its work
        details.append("terminated: " + _termination(terminated))
    elif isinstance(running, Mapping) and (init or status.get("ready") is not True):
        details.append("running" if init else "running, not ready")
    last = _get(status, "lastState", "terminated")
    if isinstance(last, Mapping):
        details.append("last terminated: " + _termination(last))
    restarts = _checks.strict_int(status.get("restartCount"))
    if restarts:
        details.append("restarts: %d" % restarts)
    if not details:
        return ""
    return "%s %s %s" % ("init container" if init else "container", _clean(status.get("name")) or "?", ", ".join(details))


def _status(pod: Mapping[str, Any]) -> List[str]:
    """The phase (with the pod's reason and message), the scheduling problem and the containers' problems."""
    status = _get(pod, "status")
    phase = _clean(_get(status, "phase")) or "phase unknown"
    reason = _reason_message(_get(status, "reason"), _get(status, "message"))
    parts = [phase + (", " + reason if reason else "") + (", terminating" if _get(pod, "metadata", "deletionTimestamp") else "")]
    for condition in _entries(_get(status, "conditions")):
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            parts.append("not scheduled: " + (_reason_message(condition.get("reason"), condition.get("message")) or "no reason given"))
    for key, init in (("initContainerStatuses", True), ("containerStatuses", False)):
        parts.extend(text for text in (_container(status, init) for status in _entries(_get(status, key))) if text)
    return parts


def _claim_names(pod: Optional[Mapping[str, Any]], name: str, claims: Dict[str, Mapping[str, Any]],
                 events: List[Mapping[str, Any]]) -> List[str]:
    """The claims of the pod's volumes; for a pod that is not there (or has no volumes to read), the
    claims named as a StatefulSet names its pods' claims (``<template>-<pod>``)."""
    volumes = _get(pod, "spec", "volumes")
    if isinstance(volumes, (list, tuple)):
        names = [_get(volume, "persistentVolumeClaim", "claimName") for volume in _entries(volumes)]
        return list(dict.fromkeys(claim for claim in names if isinstance(claim, str) and claim))
    known = list(claims) + [_get(event, "involvedObject", "name") for event in events
                            if _get(event, "involvedObject", "kind") == _CLAIM]
    return sorted({claim for claim in known if isinstance(claim, str) and claim.endswith("-" + name)})


def _claim(name: str, claim: Optional[Mapping[str, Any]], events: List[Mapping[str, Any]]) -> str:
    """A claim that is not Bound or has Warning events (``""`` for a Bound one without warnings)."""
    shown, warned = _events_of(events, _CLAIM, name)
    phase = (_clean(_get(claim, "status", "phase")) or "phase unknown") if claim is not None else ""
    if (phase == "Bound" and not warned) or (claim is None and not shown):
        return ""
    details = [phase] if phase and phase != "Bound" else []
    if shown:
        details.append("events: " + " | ".join(shown))
    return "volume claim %s: %s" % (_clean(name), ", ".join(details))


def _log_lines(value: Any) -> List[str]:
    """The last LOG_LINES lines that are not blank and not a Java stack frame, each on one line and cut to LINE_LIMIT."""
    lines = value.splitlines() if isinstance(value, str) else [line for line in value or () if line is not None]
    cleaned = [_clean(line, LINE_LIMIT) for line in lines
               if not _STACK_FRAME.fullmatch(str(line)) and not _NO_LOG.fullmatch(str(line))]
    return [line for line in cleaned if line][-LOG_LINES:]


def _pod_line(name: str, pod: Optional[Mapping[str, Any]], events: List[Mapping[str, Any]], logs: Mapping[str, Any],
              claims: Dict[str, Mapping[str, Any]], previous: Mapping[str, Any]) -> str:
    """``name (phase; not scheduled: ...; container ...; events: ...; volume claim ...; log lines before
    the last restart: ...; last log lines: ...)``."""
    parts = _status(pod) if pod is not None else ["not created"]
    shown = _events_of(events, "Pod", name)[0]
    if pod is None:
        shown += _naming(events, name)
    if shown:
        parts.append("events: " + " | ".join(shown))
    for claim in _claim_names(pod, name, claims, events):
        text = _claim(claim, claims.get(claim), events)
        if text:
            parts.append(text)
    for label, source in (("log lines before the last restart", previous), ("last log lines", logs)):
        lines = _log_lines(source.get(name))
        if lines:
            parts.append("%s: %s" % (label, " | ".join(lines)))
    return "%s (%s)" % (name, "; ".join(parts))


def _by_name(objects: List[Mapping[str, Any]]) -> Dict[str, Mapping[str, Any]]:
    """The objects by metadata.name (the first of a name; objects without a name are left out)."""
    found: Dict[str, Mapping[str, Any]] = {}
    for obj in objects:
        name = _get(obj, "metadata", "name")
        if isinstance(name, str) and name not in found:
            found[name] = obj
    return found


def _checked_logs(logs: Any, what: str = "logs") -> Mapping[str, Any]:
    """``logs``: pod name -> its last log lines (a list of lines, or the text)."""
    logs = _checks.mapping(logs, what, PodDiagnosisError, optional=True)
    for name, value in logs.items():
        if value is not None and not isinstance(value, (str, list, tuple)):
            raise PodDiagnosisError("%s[%r] must be a list of log lines or text, got %s" % (what, name, _checks.kind(value)))
    return logs


def _header(timeout: Any, namespace: Any) -> str:
    """``pods not ready after 300s in namespace kafka``."""
    header = "pods not ready"
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float, str)) or timeout == "":
            raise PodDiagnosisError("timeout must be a number of seconds or a duration like 5m, got %s" % _checks.kind(timeout))
        text = _checks.text(str(timeout), "timeout", PodDiagnosisError)
        header += " after %s%s" % (text, "s" if _checks.strict_int(timeout) is not None or isinstance(timeout, float) else "")
    namespace = _checks.text(namespace, "namespace", PodDiagnosisError, optional=True)
    return header + (" in namespace %s" % namespace if namespace else "")


def pod_problems(pods: Any, expected: Any, events: Any = None, logs: Any = None, claims: Any = None,
                 timeout: Any = None, namespace: Any = None, previous_logs: Any = None) -> str:
    """Why the ``expected`` pods are not ready, one line per pod that is not (``""`` when all are).

    ``pods``: the Pod objects (k8s_info resources); ``expected``: the names of the pods that had to be
    Ready; ``events``: Event objects (core/v1) of the namespace; ``logs``: pod name -> its last log
    lines (a list, or the text): the running container's, or the last one's when none runs, as the
    kubelet gives them without ``previous``; ``previous_logs``: the same, of the instance before the
    running one (why a container that restarted exited), for the pods that have one; ``claims``:
    PersistentVolumeClaim objects; ``timeout`` (seconds, or a duration as text) and ``namespace`` only
    name the wait in the first line.
    """
    error = PodDiagnosisError
    header = _header(timeout, namespace)
    found = _by_name(_checks.mappings(pods, "pods", error))
    names = [_checks.text(name, "expected[%d]" % index, error)
             for index, name in enumerate(_checks.sequence(expected, "expected (the pod names)", error))]
    events = [event for event in _checks.mappings(events, "events", error, optional=True)
              if not (namespace and isinstance(_get(event, "involvedObject", "namespace"), str)
                      and _get(event, "involvedObject", "namespace") != namespace)]
    logs = _checked_logs(logs)
    previous = _checked_logs(previous_logs, "previous_logs")
    by_claim = _by_name(_checks.mappings(claims, "claims", error, optional=True))
    lines = [_pod_line(name, found.get(name), events, logs, by_claim, previous)
             for name in dict.fromkeys(names) if not is_ready(found.get(name))]
    return "%s: %s" % (header, "\n".join(lines)) if lines else ""
