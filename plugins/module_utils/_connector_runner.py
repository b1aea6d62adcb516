# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The flow of the kafka_connector module (the module file is its documentation, spec and main()).

:func:`run` reads the connector once (stored config and status), then in this order: deletes it
(``state=absent``); validates a changed config through the plugin and creates or updates it;
moves it to the wanted state; restarts failed (or all) instances; changes its offsets; and waits
until the connector and its tasks have reached the state, failing with the failed task's trace.
In check mode it reads and validates, and reports what it would do.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Protocol

from ansible_collections.kafkaops.platform.plugins.module_utils import kafka_connect as kc

Result = dict[str, Any]
WANTED = {"running": "RUNNING", "paused": "PAUSED", "stopped": "STOPPED"}


class ModuleLike(Protocol):
    params: dict[str, Any]
    check_mode: bool
    _diff: bool


class ConnectorError(Exception):
    """The task cannot go on; ``changed`` says whether something was changed before."""

    def __init__(self, message: str, changed: bool = False) -> None:
        super().__init__(message)
        self.changed = changed


def validate(params: dict[str, Any]) -> None:
    """What the argument spec cannot state; raises ConnectorError."""
    for name in ("timeout", "min_tasks"):
        if params[name] < 0:
            raise ConnectorError("%s must not be negative, got %s" % (name, params[name]))
    if params["offsets"] is not None and params["reset_offsets"]:
        raise ConnectorError("offsets sets some offsets and reset_offsets removes all of them; give one")
    touches_offsets = params["offsets"] is not None or params["reset_offsets"]
    if touches_offsets and not params["allow_offset_changes"]:
        raise ConnectorError("offsets and reset_offsets rewrite where the connector resumes; set "
                             "allow_offset_changes: true to confirm")
    if touches_offsets and params["state"] != "stopped":
        raise ConnectorError("Connect changes offsets only of a stopped connector: use state: stopped with "
                             "offsets or reset_offsets")
    if params["config"] is not None:
        try:
            kc.desired_config(params["name"], params["config"])
        except ValueError as exc:
            raise ConnectorError(str(exc)) from exc


def run(module: ModuleLike, client: kc.ConnectClient, sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None) -> Result:
    params = module.params
    validate(params)
    name = params["name"]
    stored = client.config(name)
    status = client.status(name) if stored is not None else None
    result: Result = dict(changed=False, name=name, actions=[])
    if params["state"] == "absent":
        return _absent(module, client, stored, result)
    desired = kc.desired_config(name, params["config"]) if params["config"] is not None else None
    if stored is None and desired is None:
        raise ConnectorError("connector %s does not exist; config is needed to create it" % name)
    secret_keys = _apply_config(module, client, stored, desired, result)
    _apply_state(module, client, status, result)
    _restart(module, client, status, result)
    timing = (sleep or time.sleep, clock or time.monotonic)
    _offsets(module, client, result, timing)
    if not module.check_mode:
        status = _wait(module, client, result, timing)
    shown = desired if desired is not None else stored
    result.update(config=kc.masked(shown, secret_keys), **kc.states(status))
    return result


def _absent(module: ModuleLike, client: kc.ConnectClient, stored: dict[str, str] | None, result: Result) -> Result:
    if stored is not None:
        result["changed"] = True
        result["actions"].append("deleted")
        if not module.check_mode:
            client.delete(module.params["name"])
    if module._diff:
        result["diff"] = dict(before=_diff_text(kc.masked(stored)), after="")
    return result


def _apply_config(module: ModuleLike, client: kc.ConnectClient, stored: dict[str, str] | None,
                  desired: dict[str, str] | None, result: Result) -> set[str] | None:
    """Create or update the config when it differs; returns the plugin's password keys when
    validation ran (None: mask by key name)."""
    if desired is None:
        return None
    changes = kc.config_diff(stored, desired)
    result["config_changes"] = changes
    if stored is not None and not kc.has_changes(changes):
        return None
    secret_keys = None
    if module.params["validate"]:
        validation = client.validate(desired)
        errors = kc.validation_errors(validation)
        if errors:
            raise ConnectorError("connector %s: the plugin refuses this config: %s" % (
                module.params["name"], "; ".join(errors)))
        secret_keys = kc.password_keys(validation)
    result["changed"] = True
    result["actions"].append("created" if stored is None else "updated")
    if module._diff:
        result["diff"] = dict(before=_diff_text(kc.masked(stored, secret_keys)),
                              after=_diff_text(kc.masked(desired, secret_keys)))
    if not module.check_mode:
        wanted = WANTED.get(module.params["state"])
        if stored is None and wanted in ("PAUSED", "STOPPED"):
            client.create(module.params["name"], desired, initial_state=wanted)
        elif stored is None:
            client.create(module.params["name"], desired)
        else:
            client.put_config(module.params["name"], desired)
    return secret_keys


def _apply_state(module: ModuleLike, client: kc.ConnectClient, status: dict[str, Any] | None,
                 result: Result) -> None:
    """Pause, stop or resume. A connector created now already has its state; a failed one that
    should run is left to ``restart`` (resuming does not restart it)."""
    wanted = WANTED.get(module.params["state"])
    if wanted is None or "created" in result["actions"]:
        return
    current = kc.states(status)["connector"]
    if current == wanted or (wanted == "RUNNING" and current not in kc.STATES):
        return
    result["changed"] = True
    result["actions"].append({"RUNNING": "resumed", "PAUSED": "paused", "STOPPED": "stopped"}[wanted])
    if module._diff:
        diff = result.setdefault("diff", dict(before="", after=""))
        diff["before"] += "state: %s\n" % current
        diff["after"] += "state: %s\n" % wanted
    if not module.check_mode:
        client.set_state(module.params["name"], wanted)


def _restart(module: ModuleLike, client: kc.ConnectClient, status: dict[str, Any] | None, result: Result) -> None:
    """Restart the failed instances (or all of them); nothing to do for a connector created now."""
    params = module.params
    if not params["restart"] or "created" in result["actions"]:
        return
    failed = kc.failures(status)
    if params["only_failed"] and not failed:
        return
    result["changed"] = True
    result["actions"].append("restarted")
    result["restarted"] = failed if params["only_failed"] else ["all"]
    if not module.check_mode:
        client.restart(params["name"], only_failed=params["only_failed"], include_tasks=params["include_tasks"])


Timing = tuple[Callable[[float], None], Callable[[], float]]  # (sleep, clock)


def _offsets(module: ModuleLike, client: kc.ConnectClient, result: Result, timing: Timing) -> None:
    params = module.params
    if params["offsets"] is None and not params["reset_offsets"]:
        return
    if "stopped" in result["actions"] and not module.check_mode:
        # Connect changes offsets only once the stop has taken effect
        _poll(client, params["name"], "STOPPED", 0, params["timeout"], result["changed"], timing)
    created_here = "created" in result["actions"]
    current = [] if created_here and module.check_mode else client.offsets(params["name"])
    result["offsets_before"] = current
    if params["reset_offsets"]:
        if current:
            result["changed"] = True
            result["actions"].append("offsets reset")
            if not module.check_mode:
                client.reset_offsets(params["name"])
        return
    if not kc.offsets_equal(current, params["offsets"]):
        result["changed"] = True
        result["actions"].append("offsets altered")
        if not module.check_mode:
            client.alter_offsets(params["name"], params["offsets"])


def _wait(module: ModuleLike, client: kc.ConnectClient, result: Result, timing: Timing) -> dict[str, Any] | None:
    """With ``wait``, poll the status until the wanted state (with ``present``, a steady one)."""
    params = module.params
    if not params["wait"]:
        return client.status(params["name"])
    wanted = WANTED.get(params["state"])
    if wanted is None:
        current = kc.states(client.status(params["name"]))["connector"]
        wanted = current if current in kc.STATES else "RUNNING"
    return _poll(client, params["name"], wanted, params["min_tasks"], params["timeout"], result["changed"], timing)


def _poll(client: kc.ConnectClient, name: str, wanted: str, min_tasks: int, timeout: float, changed: bool,
          timing: Timing) -> dict[str, Any] | None:
    """The status once the connector and its tasks are ``wanted``; a failure or the timeout raises
    ConnectorError (``changed`` tells it whether something was changed before)."""
    sleep, clock = timing
    deadline = clock() + timeout
    status = client.status(name)
    while True:
        failed = kc.failures(status)
        if failed:
            raise ConnectorError("connector %s failed: %s" % (name, "; ".join(failed)), changed=changed)
        if kc.reached(status, wanted, min_tasks):
            return status
        if clock() >= deadline:
            raise ConnectorError("connector %s: not %s after %ss (now %s)" % (
                name, wanted, timeout, _summary(status)), changed=changed)
        sleep(1.0)
        status = client.status(name)


def _summary(status: dict[str, Any] | None) -> str:
    found = kc.states(status)
    tasks = ", ".join("task %s %s" % (t["id"], t["state"]) for t in found["tasks"]) or "no tasks"
    return "connector %s, %s" % (found["connector"], tasks)


def _diff_text(config: dict[str, Any] | None) -> str:
    if config is None:
        return ""
    return "".join("%s=%s\n" % (key, config[key]) for key in sorted(config))
