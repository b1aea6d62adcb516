# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Confluent Schema Registry's REST API: the client kafka_schema uses, and the pure functions that
decide what a task changes.

The paths, bodies and error codes follow the registry's documented API (``/subjects``,
``/compatibility``, ``/config``, ``/mode``; errors ``{"error_code", "message"}`` with 40401 subject
not found, 40403 schema not found, 40408/40409 no subject-level config/mode).
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
