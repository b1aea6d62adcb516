# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The flow of the kafka_schema module (the module file is its documentation, spec and main()).

In this order: the compatibility level, then the schema, then the mode, so that a task that
relaxes the level and registers a schema the old level refuses works in one run, and a task that
registers and then freezes a subject (``mode: READONLY``) does too. A schema is looked up first
(registered already: no change), then checked with the compatibility endpoint (refused: the
registry's messages, nothing registered), then registered. ``state=absent`` soft-deletes the
subject, and with ``permanent`` removes it for good.
"""
from __future__ import annotations

from typing import Any, Protocol

from ansible_collections.kafkaops.platform.plugins.module_utils import schema_registry as sr

Result = dict[str, Any]


class ModuleLike(Protocol):
    params: dict[str, Any]
    check_mode: bool
    _diff: bool


class SchemaError(Exception):
    """The task cannot go on; ``changed`` says whether something was changed before."""

    def __init__(self, message: str, changed: bool = False, **details: Any) -> None:
        super().__init__(message)
        self.changed = changed
        self.details = details


def validate(params: dict[str, Any]) -> str | None:
    """What the spec cannot state; returns the schema's text (None without a schema)."""
    if params["state"] == "absent":
        given = [name for name in ("schema", "compatibility", "mode") if params[name] is not None]
        if given:
            raise SchemaError("state=absent deletes the subject; %s only apply with state=present" % ", ".join(given))
    elif params["permanent"]:
        raise SchemaError("permanent only applies with state=absent")
    try:
        sr.check_references(params["references"])
        if params["schema"] is None:
            return None
        return sr.schema_text(params["schema"], params["schema_type"])
    except ValueError as exc:
        raise SchemaError(str(exc)) from exc


def run(module: ModuleLike, client: sr.SchemaRegistryClient) -> Result:
    params = module.params
    schema = validate(params)
    subject = params["subject"]
    result: Result = dict(changed=False, subject=subject, actions=[])
    diff: dict[str, str] = {"before": "", "after": ""}
    if params["state"] == "absent":
        _absent(module, client, result, diff)
    else:
        _level(module, client, "config", params["compatibility"], result, diff)
        if schema is not None:
            _schema(module, client, schema, result, diff)
        _level(module, client, "mode", params["mode"], result, diff)
    if module._diff:
        result["diff"] = diff
    return result


def _level(module: ModuleLike, client: sr.SchemaRegistryClient, kind: str, wanted: str | None, result: Result,
           diff: dict[str, str]) -> None:
    name = "compatibility" if kind == "config" else "mode"
    subject = module.params["subject"]
    current = client.get_level(kind, subject)
    result[name] = current
    if wanted is None or current == wanted:
        return
    result["changed"] = True
    result["actions"].append("%s %s" % (name, wanted))
    result[name] = wanted
    diff["before"] += "%s: %s\n" % (name, current or "(the global level)")
    diff["after"] += "%s: %s\n" % (name, wanted)
    if not module.check_mode:
        client.set_level(kind, subject, wanted)


def _schema(module: ModuleLike, client: sr.SchemaRegistryClient, schema: str, result: Result,
            diff: dict[str, str]) -> None:
    params = module.params
    subject = params["subject"]
    body = sr.request_body(schema, params["schema_type"], params["references"])
    found = client.lookup(subject, body, params["normalize"])
    if found is not None:
        result.update(id=found.get("id"), version=found.get("version"), compatible=True, messages=[])
        return
    check = client.compatibility(subject, body)
    result.update(compatible=check["is_compatible"], messages=check["messages"])
    if not check["is_compatible"]:
        level = result.get("compatibility") or client.get_level("config", None)
        raise SchemaError("the schema is not compatible with subject %s (compatibility %s): %s" % (
            subject, level, "; ".join(check["messages"]) or "the registry gave no reason"),
            changed=result["changed"], compatible=False, messages=check["messages"])
    latest = client.latest(subject)
    diff["before"] += sr.pretty(latest.get("schema") if latest else None)
    diff["after"] += sr.pretty(schema)
    result["changed"] = True
    result["actions"].append("registered")
    if not module.check_mode:
        result["id"] = client.register(subject, body, params["normalize"])
        found = client.lookup(subject, body, params["normalize"])
        result["version"] = found.get("version") if found else None


def _absent(module: ModuleLike, client: sr.SchemaRegistryClient, result: Result, diff: dict[str, str]) -> None:
    subject = module.params["subject"]
    live = client.versions(subject)
    if live:
        result["changed"] = True
        result["actions"].append("soft-deleted versions %s" % live)
        diff["before"] += "versions: %s\n" % live
        if not module.check_mode:
            client.delete_subject(subject, permanent=False)
    if module.params["permanent"] and client.deleted_versions(subject):
        result["changed"] = True
        result["actions"].append("permanently deleted")
        if not module.check_mode:
            client.delete_subject(subject, permanent=True)
