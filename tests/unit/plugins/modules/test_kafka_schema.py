# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_schema through main() against FakeSchemaRegistry, a FAKE that follows Schema Registry's
documented REST API (tests/unit/plugins/schema_registry_fake.py): Schema Registry cannot run
here. Registration, idempotence, compatibility in check mode and for real, levels and modes
(subject and global), references, soft and permanent deletion, and refused input."""

from __future__ import annotations

import json

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import rest
from ansible_collections.kafkaops.platform.plugins.modules import kafka_schema
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    raise_on_exit,
    run_main,
)
from ansible_collections.kafkaops.platform.tests.unit.plugins.schema_registry_fake import FakeSchemaRegistry

V1 = {"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "long"}]}
V2 = dict(V1, fields=V1["fields"] + [{"name": "note", "type": "string", "default": ""}])
BREAKING = dict(V1, fields=V1["fields"] + [{"name": "price", "type": "double"}])


@pytest.fixture
def registry(monkeypatch):
    raise_on_exit(monkeypatch)
    fake = FakeSchemaRegistry()
    monkeypatch.setattr(rest, "open_url_request", fake.request)
    return fake


def run(args, expect=ExitJson, check=False, diff=False):
    return run_main(kafka_schema.main, dict({"url": "https://registry1:8081"}, **args), expect, check, diff)


def test_register_check_mode_idempotence_and_the_next_version(registry):
    args = {"subject": "orders-value", "schema": V1}
    checked = run(args, check=True, diff=True)
    assert checked["changed"] is True and checked["actions"] == ["registered"] and checked["compatible"] is True
    assert '"name": "Order"' in checked["diff"]["after"] and checked["diff"]["before"] == ""
    assert registry.subjects == {}
    first = run(args)
    assert first["changed"] is True and first["id"] == 1 and first["version"] == 1
    again = run(dict(args, schema=json.dumps(V1, indent=4)))  # the same schema as other text
    assert again["changed"] is False and again["id"] == 1 and again["version"] == 1
    second = run({"subject": "orders-value", "schema": V2}, diff=True)
    assert second["changed"] is True and second["version"] == 2 and second["id"] == 2
    assert '"name": "id"' in second["diff"]["before"] and '"name": "note"' in second["diff"]["after"]


def test_an_incompatible_schema_is_refused_in_check_mode_and_for_real(registry):
    run({"subject": "orders-value", "schema": V1})
    checked = run({"subject": "orders-value", "schema": BREAKING}, check=True, expect=FailJson)
    assert checked["msg"].startswith("the schema is not compatible with subject orders-value (compatibility BACKWARD): "
                                     "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'")
    assert checked["compatible"] is False and checked["changed"] is False
    refused = run({"subject": "orders-value", "schema": BREAKING}, expect=FailJson)
    assert "price" in refused["msg"]
    assert len(registry.subjects["orders-value"]) == 1
    # relaxing the level and registering in one task: the level goes first
    relaxed = run({"subject": "orders-value", "schema": BREAKING, "compatibility": "NONE"})
    assert relaxed["actions"] == ["compatibility NONE", "registered"] and relaxed["version"] == 2


def test_levels_and_modes_per_subject_and_global(registry):
    checked = run({"subject": "orders-value", "compatibility": "FULL", "mode": "READONLY"}, check=True, diff=True)
    assert checked["actions"] == ["compatibility FULL", "mode READONLY"]
    assert checked["diff"]["before"] == "compatibility: (the global level)\nmode: (the global level)\n"
    assert "orders-value" not in registry.config
    assert run({"subject": "orders-value", "compatibility": "FULL"})["changed"] is True
    assert registry.config["orders-value"] == "FULL"
    assert run({"subject": "orders-value", "compatibility": "FULL"})["changed"] is False
    assert run({"compatibility": "FULL_TRANSITIVE"})["changed"] is True and registry.config["global"] == "FULL_TRANSITIVE"
    assert run({"compatibility": "FULL_TRANSITIVE"})["changed"] is False
    # registering, then freezing, in one task
    frozen = run({"subject": "orders-value", "schema": V1, "mode": "READONLY"})
    assert frozen["actions"] == ["registered", "mode READONLY"] and registry.mode["orders-value"] == "READONLY"
    refused = run({"subject": "orders-value", "schema": V2}, expect=FailJson)
    assert "HTTP 422: Subject orders-value is in read-only mode" in refused["msg"]


def test_references_are_sent_and_part_of_the_identity(registry):
    run({"subject": "money", "schema_type": "PROTOBUF", "schema": 'syntax = "proto3";\nmessage Money { int64 cents = 1; }'})
    proto = 'syntax = "proto3";\nimport "money.proto";\nmessage Payment { Money amount = 1; }'
    args = {"subject": "payments-value", "schema_type": "PROTOBUF", "schema": proto,
            "references": [{"name": "money.proto", "subject": "money", "version": 1}]}
    assert run(args)["changed"] is True
    sent = [body for method, path, body in registry.calls if path == "/subjects/payments-value/versions"][-1]
    assert sent == {"schema": proto, "schemaType": "PROTOBUF",
                    "references": [{"name": "money.proto", "subject": "money", "version": 1}]}
    assert run(args)["changed"] is False


def test_soft_then_permanent_deletion(registry):
    run({"subject": "scratch", "schema": V1})
    checked = run({"subject": "scratch", "state": "absent"}, check=True)
    assert checked["actions"] == ["soft-deleted versions [1]"] and not registry.subjects["scratch"][0]["deleted"]
    assert run({"subject": "scratch", "state": "absent"})["changed"] is True
    assert registry.subjects["scratch"][0]["deleted"] is True
    assert run({"subject": "scratch", "state": "absent"})["changed"] is False
    gone = run({"subject": "scratch", "state": "absent", "permanent": True})
    assert gone["actions"] == ["permanently deleted"] and "scratch" not in registry.subjects
    assert run({"subject": "scratch", "state": "absent", "permanent": True})["changed"] is False
    run({"subject": "both", "schema": V1})
    both = run({"subject": "both", "state": "absent", "permanent": True})
    assert both["actions"] == ["soft-deleted versions [1]", "permanently deleted"] and "both" not in registry.subjects


@pytest.mark.parametrize("args, message", [
    ({"schema": V1}, "missing parameter(s) required by 'schema': subject"),
    ({"state": "absent"}, "state is absent but all of the following are missing: subject"),
    ({"subject": "s", "state": "absent", "compatibility": "NONE"},
     "state=absent deletes the subject; compatibility only apply with state=present"),
    ({"subject": "s", "permanent": True}, "permanent only applies with state=absent"),
    ({"subject": "s", "schema": "{not json"}, "schema is not valid JSON, as an AVRO schema must be: "
                                              "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ({"subject": "s", "schema": V1, "schema_type": "PROTOBUF"}, "a PROTOBUF schema is the .proto text, not a dict"),
    ({"subject": "s", "schema": "", "schema_type": "PROTOBUF"},
     "schema must be the schema's text (or, for AVRO and JSON, a dict)"),
    ({"subject": "s", "schema": V1, "references": [{"name": "a.avsc", "subject": "a"}]}, "references[0] needs version"),
    ({"subject": "s", "schema": V1, "references": [{"name": "a.avsc", "subject": "a", "version": 0}]},
     "references[0].version must be a version number (or -1 for the latest), got 0"),
])
def test_bad_input_is_refused_before_any_request(registry, args, message):
    assert run(args, expect=FailJson)["msg"] == message
    assert registry.calls == []
