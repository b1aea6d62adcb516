# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Confluent Schema Registry's REST API: the client kafka_schema uses, and the pure functions that
decide what a task changes.

The paths, bodies and error codes follow the registry's documented API (``/subjects``,
``/compatibility``, ``/config``, ``/mode``; errors ``{"error_code", "message"}`` with 40401 subject
not found, 40403 schema not found, 40408/40409 no subject-level config/mode).

Also which instance leads: the registry elects its leader in a Kafka group
(``schema.registry.group.id``), read through the brokers (:func:`read_leader`).
"""
from __future__ import annotations

import json
from typing import Any

from ansible_collections.kafkaops.platform.plugins.module_utils.rest import RestClient, segment

SCHEMA_TYPES = ("AVRO", "JSON", "PROTOBUF")
COMPATIBILITY_LEVELS = ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL",
                        "FULL_TRANSITIVE", "NONE")
MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT")

SUBJECT_NOT_FOUND = 40401
SCHEMA_NOT_FOUND = 40403


def error_code(body: Any) -> int | None:
    return body.get("error_code") if isinstance(body, dict) else None


class SchemaRegistryClient(RestClient):
    """Requests to one Schema Registry (any instance; followers forward writes to the leader)."""

    content_type = "application/vnd.schemaregistry.v1+json"

    def lookup(self, subject: str, body: dict[str, Any], normalize: bool) -> dict[str, Any] | None:
        """The version of ``subject`` holding exactly this schema, or None."""
        status, found = self.call("POST", "/subjects/%s?normalize=%s" % (segment(subject), str(normalize).lower()),
                                  body, allow=(404,))
        return None if status == 404 else found

    def versions(self, subject: str) -> list[int]:
        status, found = self.call("GET", "/subjects/%s/versions" % segment(subject), allow=(404,))
        return [] if status == 404 else found

    def deleted_versions(self, subject: str) -> list[int]:
        """Versions including soft-deleted ones."""
        status, found = self.call("GET", "/subjects/%s/versions?deleted=true" % segment(subject), allow=(404,))
        return [] if status == 404 else found

    def latest(self, subject: str) -> dict[str, Any] | None:
        status, found = self.call("GET", "/subjects/%s/versions/latest" % segment(subject), allow=(404,))
        return None if status == 404 else found

    def compatibility(self, subject: str, body: dict[str, Any]) -> dict[str, Any]:
        """``{"is_compatible", "messages"}`` of the schema against the subject's versions (as its
        compatibility level says); compatible when the subject has no version yet."""
        status, found = self.call("POST", "/compatibility/subjects/%s/versions/latest?verbose=true" % segment(subject),
                                  body, allow=(404,))
        if status == 404:
            return {"is_compatible": True, "messages": []}
        return {"is_compatible": bool(found.get("is_compatible")), "messages": found.get("messages") or []}

    def register(self, subject: str, body: dict[str, Any], normalize: bool) -> int:
        path = "/subjects/%s/versions?normalize=%s" % (segment(subject), str(normalize).lower())
        return self.call("POST", path, body)[1]["id"]

    def get_level(self, kind: str, subject: str | None) -> str | None:
        """``kind`` is ``config`` (the compatibility level) or ``mode``; None when the subject has none of its own."""
        key = "compatibilityLevel" if kind == "config" else "mode"
        if subject is None:
            return self.call("GET", "/%s" % kind)[1].get(key)
        status, found = self.call("GET", "/%s/%s?defaultToGlobal=false" % (kind, segment(subject)), allow=(404,))
        return None if status == 404 else found.get(key)

    def set_level(self, kind: str, subject: str | None, value: str) -> None:
        key = "compatibility" if kind == "config" else "mode"
        path = "/%s" % kind if subject is None else "/%s/%s" % (kind, segment(subject))
        self.call("PUT", path, {key: value})

    def delete_subject(self, subject: str, permanent: bool) -> None:
        path = "/subjects/%s" % segment(subject)
        self.call("DELETE", path + ("?permanent=true" if permanent else ""), allow=(404,))


def schema_text(schema: Any, schema_type: str) -> str:
    """The schema as the registry takes it: text; a dict or list (AVRO, JSON) is serialized."""
    if isinstance(schema, (dict, list)):
        if schema_type == "PROTOBUF":
            raise ValueError("a PROTOBUF schema is the .proto text, not a %s" % type(schema).__name__)
        return json.dumps(schema, sort_keys=True, separators=(",", ":"))
    if not isinstance(schema, str) or not schema.strip():
        raise ValueError("schema must be the schema's text (or, for AVRO and JSON, a dict)")
    if schema_type in ("AVRO", "JSON"):
        try:
            json.loads(schema)
        except ValueError as exc:
            raise ValueError("schema is not valid JSON, as an %s schema must be: %s" % (schema_type, exc)) from exc
    return schema


def request_body(schema: str, schema_type: str, references: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The body of register, lookup and compatibility requests (``schemaType`` left out for AVRO,
    as the registry's own clients do)."""
    body: dict[str, Any] = {"schema": schema}
    if schema_type != "AVRO":
        body["schemaType"] = schema_type
    if references:
        body["references"] = [{"name": r["name"], "subject": r["subject"], "version": r["version"]}
                              for r in references]
    return body


def check_references(references: list[dict[str, Any]] | None) -> None:
    for index, reference in enumerate(references or []):
        missing = [key for key in ("name", "subject", "version") if reference.get(key) in (None, "")]
        if missing:
            raise ValueError("references[%d] needs %s" % (index, ", ".join(missing)))
        version = reference["version"]
        if not (isinstance(version, int) and not isinstance(version, bool) and (version >= 1 or version == -1)):
            raise ValueError("references[%d].version must be a version number (or -1 for the latest), got %r"
                             % (index, version))


def pretty(schema: str | None) -> str:
    """A schema for a diff: JSON schemas indented, others as they are."""
    if schema is None:
        return ""
    try:
        return json.dumps(json.loads(schema), indent=2, sort_keys=True) + "\n"
    except ValueError:
        return schema if schema.endswith("\n") else schema + "\n"


# -- the leader, from the registry's Kafka group ---------------------------------------------------
# Facts from Schema Registry's source (leaderelector.kafka.SchemaRegistryCoordinator,
# SchemaRegistryProtocol, storage.SchemaRegistryIdentity): the instances join the group with
# protocol type "sr" (protocol "v0"); a member's metadata is its identity as JSON - version, host
# (host.name), port, master_eligibility, scheme (absent: http); the group's assigning member gives
# every member the same assignment, JSON: version, error (0 none, 1 two members advertise the same
# URL), master (the leader's member id), master_identity (the leader's identity; absent when no
# member may lead). Unknown keys are ignored, as the registry's own reader does.
PROTOCOL_TYPE = "sr"
ASSIGNMENT_ERRORS = {1: "two instances advertise the same URL (host.name and port); each needs its own routable host.name"}
_REBALANCING = ("PreparingRebalance", "CompletingRebalance")


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def identity(value: Any) -> dict[str, Any] | None:
    """A registry instance's identity as plain data: host, port, scheme, url and leader_eligible;
    None when ``value`` is not one."""
    if not isinstance(value, dict):
        return None
    host, port, scheme = value.get("host"), value.get("port"), value.get("scheme") or "http"
    if not isinstance(host, str) or not host or not isinstance(port, int) or isinstance(port, bool) \
            or not isinstance(scheme, str):
        return None
    return {"host": host, "port": port, "scheme": scheme, "url": "%s://%s:%d" % (scheme, host, port),
            "leader_eligible": bool(value.get("master_eligibility", False))}


def group_leader(group: dict[str, Any]) -> dict[str, Any]:
    """Who leads, from a group description (``KafkaAdmin.describe_group``):
    ``{"group", "state", "members", "leader", "reason"}``. ``members`` lists the instances'
    identities (with ``member_id``); ``leader`` is the current leader's identity (with its
    ``member_id``), or None with ``reason`` saying why it is not known - no instance in the group,
    a rebalance under way, another kind of group, an answer the registry would not have written."""
    name = group.get("group_id")
    members = group.get("members") or []
    state = group.get("state") or ""
    found: dict[str, Any] = {"group": name, "state": state, "members": [], "leader": None, "reason": None}
    for member in members:
        known = identity(_json_object(member.get("metadata") or b""))
        if known is not None:
            found["members"].append(dict(known, member_id=member.get("member_id")))

    def unknown(reason: str) -> dict[str, Any]:
        found["reason"] = reason
        return found

    if not members:
        return unknown("group %s has no members (state %s): no Schema Registry instance is running in it"
                       % (name, state or "unknown"))
    if group.get("protocol_type") != PROTOCOL_TYPE:
        return unknown("group %s has protocol type %r, not Schema Registry's %r: another client uses this group id"
                       % (name, group.get("protocol_type"), PROTOCOL_TYPE))
    if state in _REBALANCING:
        return unknown("group %s is rebalancing (%s): the leader is being elected" % (name, state))
    assignments = {}
    for member in members:
        raw = member.get("assignment") or b""
        if not raw:
            return unknown("member %s of group %s has no assignment yet (state %s)" % (member.get("member_id"), name, state))
        assignment = _json_object(raw)
        if assignment is None:
            return unknown("the assignment of member %s of group %s is not Schema Registry's JSON" % (member.get("member_id"), name))
        assignments[member.get("member_id")] = assignment
    chosen = {json.dumps([a.get("error", 0), a.get("master"), a.get("master_identity")], sort_keys=True)
              for a in assignments.values()}
    if len(chosen) > 1:
        return unknown("the members of group %s were told different leaders (a rebalance under way)" % name)
    assignment = next(iter(assignments.values()))
    error = assignment.get("error", 0)
    if error:
        return unknown("group %s: Schema Registry's election failed with error %s (%s)"
                       % (name, error, ASSIGNMENT_ERRORS.get(error, "unknown to this collection")))
    if assignment.get("master_identity") is None and assignment.get("master") is None:
        return unknown("group %s has no leader: no member may lead (leader.eligibility is false on every instance)" % name)
    leader = identity(assignment.get("master_identity"))
    if leader is None:
        return unknown("the leader in group %s's assignment is not an identity this collection knows: %r"
                       % (name, assignment.get("master_identity")))
    if assignment.get("master") not in assignments:
        return unknown("group %s's leader %s is no longer a member" % (name, assignment.get("master")))
    found["leader"] = dict(leader, member_id=assignment.get("master"))
    return found


def read_leader(admin: Any, group_id: str) -> dict[str, Any]:
    """The registry cluster's current leader, read through the brokers with the shared admin
    client (:class:`kafka_admin.KafkaAdmin`): :func:`group_leader` of the group ``group_id``."""
    return group_leader(admin.describe_group(group_id))
