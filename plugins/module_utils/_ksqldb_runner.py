# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The flow of the ksqldb_statement module (the module file is its documentation, spec and main()).

Input is checked before any request (the name, one CREATE statement that creates that name, the
properties). Then the server's version (``GET /info``), the streams and tables (SHOW STREAMS,
SHOW TABLES) and, if the name is among them, what the server stored for it (DESCRIBE ...
EXTENDED). With ``state=present``: no such object, CREATE; the stored statement creates the same
(``ksqldb.same_definition``), nothing; another one, CREATE OR REPLACE with ``replace``, else a
failure that shows both. With ``state=absent``: queries reading from it (building other streams or
tables) stop the task; the queries writing into it are terminated (``terminate_queries``), then
the object is dropped, with its topic on request.
"""
from __future__ import annotations

from typing import Any, Protocol

from ansible_collections.kafkaops.platform.plugins.module_utils import ksqldb
from ansible_collections.kafkaops.platform.plugins.module_utils.rest import RestError

Result = dict[str, Any]


class ModuleLike(Protocol):
    params: dict[str, Any]
    check_mode: bool
    _diff: bool


class KsqlError(Exception):
    """The task cannot go on; ``changed`` says whether something was changed before."""

    def __init__(self, message: str, changed: bool = False, **details: Any) -> None:
        super().__init__(message)
        self.changed = changed
        self.details = details


def validate(params: dict[str, Any]) -> tuple[str, ksqldb.Create | None, dict[str, str]]:
    """What the spec cannot state: (the stored name, the CREATE statement or None, streamsProperties)."""
    try:
        name = ksqldb.identifier(params["name"])
    except ValueError as exc:
        raise KsqlError("name: %s" % exc) from exc
    if params["state"] == "absent":
        given = [option for option in ("statement", "replace") if params[option]]
        if given:
            raise KsqlError("state=absent drops %s; %s only %s with state=present"
                            % (name, " and ".join(given), "apply" if len(given) > 1 else "applies"))
    elif params["delete_topic"]:
        raise KsqlError("delete_topic only applies with state=absent")
    try:
        properties = ksqldb.streams_properties(params["properties"])
        wanted = ksqldb.parse_create(params["statement"]) if params["state"] == "present" else None
    except ValueError as exc:
        raise KsqlError(str(exc)) from exc
    if wanted is not None and wanted.name != name:
        raise KsqlError("statement creates %s, not %s (name): a task manages the object it names"
                        % (wanted.name, name))
    return name, wanted, properties


def run(module: ModuleLike, client: ksqldb.KsqlClient) -> Result:
    params = module.params
    name, wanted, properties = validate(params)
    result: Result = dict(changed=False, name=name, type=None, statement=None, queries=[], actions=[])
    result["server"] = client.info()
    current = _describe(client, name)
    _record(result, current)
    diff = {"before": _lines(result["statement"]), "after": ""}
    if wanted is None:
        _absent(module, client, current, properties, result)
    else:
        _present(module, client, wanted, current, properties, result, diff)
    if module._diff:
        result["diff"] = diff
    return result


def _describe(client: ksqldb.KsqlClient, name: str) -> dict[str, Any] | None:
    """The sourceDescription of ``name``, or None if the server has no stream or table of that name."""
    return client.describe(name) if name in client.sources() else None


def _record(result: Result, description: dict[str, Any] | None) -> None:
    if description is not None:
        result.update(name=description.get("name") or result["name"], type=description.get("type"),
                      statement=description.get("statement"),
                      queries=[ksqldb.query_id(q) for q in description.get("writeQueries") or []])


def _lines(statement: str | None) -> str:
    return statement + "\n" if statement else ""


def _apply(client: ksqldb.KsqlClient, statement: str, properties: dict[str, str], result: Result) -> None:
    """Send one statement; a refusal after earlier changes still reports them."""
    try:
        client.ksql(statement, properties)
    except RestError as exc:
        done = result["actions"][:-1]
        raise KsqlError(str(exc), changed=bool(done), status=exc.status, actions=done) from exc


def _present(module: ModuleLike, client: ksqldb.KsqlClient, wanted: ksqldb.Create, current: dict[str, Any] | None,
             properties: dict[str, str], result: Result, diff: dict[str, str]) -> None:
    if current is None:
        statement, action = wanted.text, "created"
    else:
        stored = current.get("statement")
        if current.get("type") != wanted.kind:
            raise KsqlError("%s is a %s, and the statement creates a %s: drop it first (state=absent)"
                            % (result["name"], current.get("type"), wanted.kind), **_details(result))
        if ksqldb.same_definition(stored, wanted):
            diff["after"] = diff["before"]
            return
        if not module.params["replace"]:
            raise KsqlError("%s %s exists with another statement; set replace=true to apply yours with CREATE OR "
                            "REPLACE (ksqlDB takes only changes its running queries can follow), or drop it first.\n"
                            "stored: %s\nwanted: %s" % (wanted.kind, result["name"], stored, wanted.text),
                            **_details(result))
        statement, action = ksqldb.replacing(wanted), "replaced"
    result["changed"] = True
    result["actions"].append(action)
    diff["after"] = _lines(statement)
    if module.check_mode:
        result.update(type=wanted.kind, statement=statement)
        return
    _apply(client, statement, properties, result)
    _record(result, client.describe(wanted.name))


def _absent(module: ModuleLike, client: ksqldb.KsqlClient, current: dict[str, Any] | None,
            properties: dict[str, str], result: Result) -> None:
    if current is None:
        return
    name = result["name"]
    readers = [ksqldb.query_id(q) for q in current.get("readQueries") or []]
    if readers:
        raise KsqlError("%s cannot be dropped while queries read from it: %s; drop the streams and tables they "
                        "build first" % (name, ", ".join(readers)), **_details(result))
    writers = result["queries"]
    if writers and not module.params["terminate_queries"]:
        raise KsqlError("%s is written by queries %s; set terminate_queries=true to terminate them before the drop"
                        % (name, ", ".join(writers)), **_details(result))
    kind = result["type"]
    topic = module.params["delete_topic"]
    drop = "DROP %s IF EXISTS %s%s;" % (kind, ksqldb.quote(name), " DELETE TOPIC" if topic else "")
    steps = [("terminated %s" % query, "TERMINATE %s;" % query) for query in writers] + [("dropped", drop)]
    result["changed"] = True
    for action, statement in steps:
        result["actions"].append(action)
        if not module.check_mode:
            _apply(client, statement, properties, result)
    if topic:
        result["actions"].append("deleted topic %s" % current.get("topic"))


def _details(result: Result) -> dict[str, Any]:
    return {key: result[key] for key in ("name", "type", "statement", "queries")}
