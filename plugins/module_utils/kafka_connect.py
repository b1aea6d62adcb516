# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Kafka Connect's REST API: the one client the Connect modules share, and the pure functions
that decide what a connector task changes.

* :class:`ConnectClient` is the platform's REST client (``rest.py``) with Connect's endpoints, and
  retries while the workers rebalance (HTTP 409) until ``rebalance_timeout``.
* The pure functions turn an inventory's connector config into what Connect stores (strings),
  compare it with the stored config, find the keys the plugin declares as passwords and the files
  a config reads through the file and directory config providers, and read states, failed tasks
  and validation errors out of Connect's answers.

The REST paths and bodies follow Apache Kafka's Connect REST API (KIP-745 restarts, KIP-875
offsets, KIP-980 initial state), as documented for Kafka 3.7 and later.
"""
from __future__ import annotations

import json
import posixpath
import re
from typing import Any

from ansible_collections.kafkaops.platform.plugins.module_utils.rest import (
    REST_ARGUMENT_SPEC,
    RestClient,
    error_text,
    segment,
)

CONNECT_ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    REST_ARGUMENT_SPEC,
    rebalance_timeout=dict(type="float", default=120.0),
)

MASK = "********"
# a config value that names a config provider's entry (${provider:[path:]key}) is not a secret
PROVIDER_REFERENCE = re.compile(r"\$\{[A-Za-z0-9_.-]+:[^}\x00-\x1f\x7f]*\}")
# keys masked when no plugin definition is at hand (kafka_connect_info lists every connector)
SECRET_KEY = re.compile(r"(password|secret|token|credential|sasl\.jaas\.config|\.key$|apikey|api\.key)", re.I)
STATES = ("RUNNING", "PAUSED", "STOPPED")
# a config provider reference anywhere in a value, as Kafka's ConfigTransformer finds it: ${provider:[path:]key}
PROVIDER_VARIABLE = re.compile(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}")


class ConnectClient(RestClient):
    """Requests to one Connect cluster's REST API; HTTP 409 while the workers rebalance is retried
    for ``rebalance_timeout`` seconds."""

    @classmethod
    def from_params(cls, params: dict[str, Any], **overrides: Any) -> ConnectClient:
        """A client from a module's CONNECT_ARGUMENT_SPEC options."""
        return cls(retry_timeout=params["rebalance_timeout"], **cls.rest_options(params), **overrides)

    def retry(self, status: int, parsed: Any) -> bool:
        """HTTP 409 while the workers rebalance; not "connector ... already exists"."""
        return status == 409 and "already exists" not in error_text(parsed, b"")

    # -- the endpoints the modules use --------------------------------------------------------------
    def server(self) -> dict[str, Any]:
        return self.call("GET", "/")[1]

    def plugins(self) -> list[dict[str, Any]]:
        return self.call("GET", "/connector-plugins?connectorsOnly=false")[1]

    def connectors(self) -> dict[str, Any]:
        """Every connector with its info and status (``?expand=status&expand=info``)."""
        return self.call("GET", "/connectors?expand=status&expand=info")[1]

    def config(self, name: str) -> dict[str, str] | None:
        """The stored config (provider references unresolved), or None if there is no such connector."""
        status, body = self.call("GET", "/connectors/%s/config" % segment(name), allow=(404,))
        return None if status == 404 else body

    def status(self, name: str) -> dict[str, Any] | None:
        status, body = self.call("GET", "/connectors/%s/status" % segment(name), allow=(404,))
        return None if status == 404 else body

    def validate(self, config: dict[str, str]) -> dict[str, Any]:
        plugin = config.get("connector.class", "")
        return self.call("PUT", "/connector-plugins/%s/config/validate" % segment(plugin),
                         config)[1]

    def create(self, name: str, config: dict[str, str], initial_state: str | None = None) -> None:
        body: dict[str, Any] = {"name": name, "config": config}
        if initial_state:
            body["initial_state"] = initial_state
        self.call("POST", "/connectors", body)

    def put_config(self, name: str, config: dict[str, str]) -> None:
        self.call("PUT", "/connectors/%s/config" % segment(name), config)

    def delete(self, name: str) -> None:
        self.call("DELETE", "/connectors/%s" % segment(name), allow=(404,))

    def set_state(self, name: str, state: str) -> None:
        verb = {"RUNNING": "resume", "PAUSED": "pause", "STOPPED": "stop"}[state]
        self.call("PUT", "/connectors/%s/%s" % (segment(name), verb))

    def restart(self, name: str, only_failed: bool, include_tasks: bool) -> Any:
        query = "?includeTasks=%s&onlyFailed=%s" % (str(include_tasks).lower(), str(only_failed).lower())
        return self.call("POST", "/connectors/%s/restart%s" % (segment(name), query))[1]

    def offsets(self, name: str) -> list[dict[str, Any]]:
        return self.call("GET", "/connectors/%s/offsets" % segment(name))[1].get("offsets", [])

    def alter_offsets(self, name: str, offsets: list[dict[str, Any]]) -> None:
        self.call("PATCH", "/connectors/%s/offsets" % segment(name), {"offsets": offsets})

    def reset_offsets(self, name: str) -> None:
        self.call("DELETE", "/connectors/%s/offsets" % segment(name))


# -- what Connect stores, and what changes -------------------------------------------------------------
def config_string(key: str, value: Any) -> str:
    """A config value as Connect stores it: every value is a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) and not isinstance(item, bool)
                                       for item in value):
        return ",".join(str(item) for item in value)
    raise ValueError("config.%s: a connector config value must be a string, number, boolean or list of those, "
                     "got %s" % (key, type(value).__name__))


def desired_config(name: str, config: dict[str, Any]) -> dict[str, str]:
    """The inventory's config as Connect stores it, with ``name`` (Connect adds it)."""
    strings = {str(key): config_string(str(key), value) for key, value in config.items()}
    given = strings.get("name")
    if given is not None and given != name:
        raise ValueError("config.name is %r but the connector is %r; leave name out of config" % (given, name))
    strings["name"] = name
    if not strings.get("connector.class"):
        raise ValueError("config needs connector.class (the plugin's class or alias)")
    return strings


def config_diff(stored: dict[str, str] | None, desired: dict[str, str]) -> dict[str, list[str]]:
    """Keys added, changed and removed going from ``stored`` to ``desired``."""
    stored = stored or {}
    return {
        "added": sorted(set(desired) - set(stored)),
        "changed": sorted(k for k in set(desired) & set(stored) if desired[k] != stored[k]),
        "removed": sorted(set(stored) - set(desired)),
    }


def has_changes(diff: dict[str, list[str]]) -> bool:
    return any(diff.values())


def password_keys(validation: dict[str, Any] | None) -> set[str]:
    """Keys the plugin (and the worker's own connector configs) declare as type PASSWORD."""
    keys: set[str] = set()
    for item in (validation or {}).get("configs", []):
        definition = item.get("definition") or {}
        name = definition.get("name") or (item.get("value") or {}).get("name")
        if definition.get("type") == "PASSWORD" and name:
            keys.add(name)
    return keys


def is_secret(key: str, value: Any, secret_keys: set[str] | None) -> bool:
    """Whether ``key``'s value must not be shown: a declared password (or, without declarations,
    a key that looks like one), unless the value is a config provider reference."""
    if isinstance(value, str) and PROVIDER_REFERENCE.fullmatch(value):
        return False
    if secret_keys is not None:
        return key in secret_keys
    return bool(SECRET_KEY.search(key))


def masked(config: dict[str, Any] | None, secret_keys: set[str] | None = None) -> dict[str, Any] | None:
    """``config`` with secret values replaced by a mask (see :func:`is_secret`)."""
    if config is None:
        return None
    return {key: MASK if is_secret(key, value, secret_keys) else value for key, value in config.items()}


def provider_files(config: dict[str, Any] | None) -> list[str]:
    """The files ``config`` reads through the workers' ``file`` provider (``${file:PATH:KEY}``: PATH)
    and ``directory`` provider (``${directory:DIR:FILE}``: DIR/FILE), normalized and sorted. A
    worker resolves them when the connector or a task starts, so a changed file needs a restart."""
    found = set()
    for value in (config or {}).values():
        for match in PROVIDER_VARIABLE.finditer(str(value)):
            provider, path, key = match.group(1), match.group(3), match.group(4)
            if not path or not path.startswith("/"):
                continue
            if provider == "file":
                found.add(posixpath.normpath(path))
            elif provider == "directory":
                found.add(posixpath.normpath(posixpath.join(path, key)))
    return sorted(found)


def validation_errors(validation: dict[str, Any]) -> list[str]:
    """``key: message`` for every config the plugin's validation refused."""
    found = []
    for item in validation.get("configs", []):
        value = item.get("value") or {}
        for message in value.get("errors") or []:
            found.append("%s: %s" % (value.get("name"), message))
    return found


def states(status: dict[str, Any] | None) -> dict[str, Any]:
    """The connector's state and its tasks' states from a status answer."""
    if not status:
        return {"connector": None, "tasks": []}
    tasks = sorted(status.get("tasks", []), key=lambda task: task.get("id", 0))
    return {
        "connector": (status.get("connector") or {}).get("state"),
        "worker_id": (status.get("connector") or {}).get("worker_id"),
        "type": status.get("type"),
        "tasks": [{"id": t.get("id"), "state": t.get("state"), "worker_id": t.get("worker_id")} for t in tasks],
    }


def failures(status: dict[str, Any] | None) -> list[str]:
    """One line per failed connector or task, with the first lines of its trace."""
    found: list[str] = []
    if not status:
        return found
    connector = status.get("connector") or {}
    if connector.get("state") == "FAILED":
        found.append("connector on %s: %s" % (connector.get("worker_id"), _trace_head(connector.get("trace"))))
    for task in sorted(status.get("tasks", []), key=lambda t: t.get("id", 0)):
        if task.get("state") == "FAILED":
            found.append("task %s on %s: %s" % (task.get("id"), task.get("worker_id"), _trace_head(task.get("trace"))))
    return found


def _trace_head(trace: Any, causes: int = 3) -> str:
    """A Java stack trace's message and its last ``causes`` "Caused by" lines (the frames left out)."""
    if not trace:
        return "(no trace)"
    lines = [line.strip() for line in str(trace).splitlines() if line.strip()]
    caused = [line for line in lines[1:] if line.startswith("Caused by:")]
    return " | ".join(lines[:1] + caused[-causes:])


def reached(status: dict[str, Any] | None, state: str, min_tasks: int) -> bool:
    """The connector and every task are in ``state`` (a stopped connector has no tasks), with at
    least ``min_tasks`` tasks when running or paused."""
    found = states(status)
    if found["connector"] != state:
        return False
    if state == "STOPPED":
        return not found["tasks"]
    return len(found["tasks"]) >= min_tasks and all(task["state"] == state for task in found["tasks"])


def offsets_equal(current: list[dict[str, Any]], desired: list[dict[str, Any]]) -> bool:
    """Whether every desired partition already has the desired offset (other partitions are left
    alone); an offset of None (remove it) matches a partition that has none."""
    by_partition = {json.dumps(item.get("partition"), sort_keys=True): item.get("offset") for item in current}
    return all(by_partition.get(json.dumps(item.get("partition"), sort_keys=True)) == item.get("offset")
               for item in desired)
