# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the kafka_acl module: the planning functions, and the module end to end against an
in-memory stand-in for kafka-python's KafkaAdminClient (so KafkaAdmin's ACL helpers run too)."""

from __future__ import annotations

import json

import kafka.errors as kafka_errors
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import kafka_admin
from ansible_collections.kafkaops.platform.plugins.modules import kafka_acl
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    module_args,
    raise_on_exit,
)

CONNECTION = {"bootstrap_servers": ["b1:9092"],
              "security": {"listeners": [
                  {"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
                  {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
                  {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_PLAINTEXT", "authentication": "plain"}],
                  "authorizer": {"enabled": True},
                  "credentials": {"broker": {"username": "broker", "password": "broker-secret"},
                                  "controller": {"username": "controller", "password": "controller-secret"},
                                  "admin": {"username": "admin", "password": "admin-secret"}}}}


class FakeClient:
    """An in-memory cluster behind kafka-python's KafkaAdminClient interface (the ACL part)."""

    store = set()
    calls = []
    raise_on = {}  # method name -> exception to raise
    create_failures = []  # error classes the next create_acls reports as failed

    def __init__(self, **config):
        self.calls.append(("init", config))
        self._maybe_raise("init")

    def _maybe_raise(self, name):
        if name in self.raise_on:
            raise self.raise_on[name]

    def close(self):
        self.calls.append(("close",))

    def describe_acls(self, acl_filter):
        self.calls.append(("describe_acls", acl_filter.principal))
        self._maybe_raise("describe_acls")
        found = [acl for acl in self.store if acl_filter.principal in (None, acl.principal)]
        return found, kafka_errors.NoError

    def create_acls(self, acls):
        self.calls.append(("create_acls", len(acls)))
        self._maybe_raise("create_acls")
        if self.create_failures:
            return {"succeeded": [], "failed": list(self.create_failures)}
        self.store.update(acls)
        return {"succeeded": list(acls), "failed": []}

    def delete_acls(self, filters):
        self.calls.append(("delete_acls", len(filters)))
        self._maybe_raise("delete_acls")
        results = []
        for acl_filter in filters:
            matched = [acl for acl in self.store if acl == acl_filter]
            self.store.difference_update(matched)
            results.append((acl_filter, matched, kafka_errors.NoError))
        return results


@pytest.fixture
def cluster(monkeypatch):
    raise_on_exit(monkeypatch)
    monkeypatch.setattr(kafka_admin, "KafkaAdminClient", FakeClient)
    monkeypatch.setattr(kafka_admin, "HAS_KAFKA", True)
    monkeypatch.setattr(kafka_acl, "HAS_KAFKA", True)
    monkeypatch.setattr(FakeClient, "store", set())
    monkeypatch.setattr(FakeClient, "calls", [])
    monkeypatch.setattr(FakeClient, "raise_on", {})
    monkeypatch.setattr(FakeClient, "create_failures", [])
    return FakeClient


def run(args, expect=ExitJson, check=False, diff=False):
    full = dict(CONNECTION, **args)
    if check:
        full["_ansible_check_mode"] = True
    if diff:
        full["_ansible_diff"] = True
    with module_args(full), pytest.raises(expect) as caught:
        kafka_acl.main()
    return caught.value.args[0]


def acl(principal="User:alice", operation="read", resource_type="topic", resource_name="orders",
        pattern_type="literal", permission="allow", host="*"):
    return {"principal": principal, "host": host, "operation": operation, "permission": permission,
            "resource_type": resource_type, "resource_name": resource_name, "pattern_type": pattern_type}


def entry(**overrides):
    base = {"principal": "User:alice", "resource_type": "topic", "resource_name": "orders", "pattern_type": "literal",
            "operations": ["read"], "permission": "allow", "host": "*", "state": "present"}
    base.update(overrides)
    return base


def stored(client):
    return sorted((kafka_admin._acl_to_dict(a) for a in client.store), key=kafka_admin.acl_sort_key)


# -- expand -----------------------------------------------------------------------------------------
def test_expand_makes_one_acl_per_operation_and_drops_repeats():
    present, absent = kafka_acl.expand([entry(operations=["write", "read"]), entry(operations=["read"])])
    assert present == [acl(operation="read"), acl(operation="write")]
    assert absent == []


def test_expand_names_the_cluster_resource():
    present, _absent = kafka_acl.expand([entry(resource_type="cluster", resource_name=None,
                                               operations=["idempotent_write"])])
    assert present == [acl(resource_type="cluster", resource_name="kafka-cluster", operation="idempotent_write")]


@pytest.mark.parametrize("bad, message", [
    (entry(principal="alice"), "acls[0].principal: 'alice' is not a principal; write it as Type:name"),
    (entry(principal=":alice"), "is not a principal"),
    (entry(resource_name=None), "acls[0].resource_name is required for resource_type topic (use * for every topic)"),
    (entry(resource_name=""), "resource_name is required"),
    (entry(resource_type="group", operations=["write"]),
     "acls[0].operations: write is not an operation on a group; valid: all, read, describe, delete"),
    (entry(resource_type="cluster", resource_name="prod"), "the cluster resource is always named kafka-cluster, not 'prod'"),
    (entry(resource_type="cluster", resource_name=None, pattern_type="prefixed", operations=["alter"]),
     "takes pattern_type literal only"),
    (entry(host=""), "acls[0].host must not be empty"),
    (entry(principal="User:alice\n"), "acls[0].principal: 'User:alice\\n' is not a principal; write it as Type:name"),
    (entry(principal="User:al\rice"), "is not a principal"),
    (entry(resource_name="orders\n"), "acls[0].resource_name 'orders\\n' holds a control character"),
    (entry(host="10.0.0.1\n"), "acls[0].host '10.0.0.1\\n' holds a control character"),
    (entry(operations=[]), "must name at least one operation"),
])
def test_expand_refuses_what_kafka_would_refuse(bad, message):
    with pytest.raises(kafka_acl.AclError) as caught:
        kafka_acl.expand([bad])
    assert message in str(caught.value)


def test_expand_refuses_an_acl_both_present_and_absent():
    with pytest.raises(kafka_acl.AclError) as caught:
        kafka_acl.expand([entry(operations=["read", "write"]), entry(operations=["write"], state="absent")])
    assert str(caught.value) == ("acls[0] and acls[1] ask for the same ACL to be both present and absent: "
                                 "User:alice allow write on topic literal orders from host *")


# -- plan -------------------------------------------------------------------------------------------
def test_plan_adds_the_missing_and_removes_the_absent():
    current = [acl(operation="read"), acl(operation="write")]
    add, remove, after = kafka_acl.plan(current, [acl(operation="read"), acl(operation="describe")],
                                        [acl(operation="write"), acl(operation="delete")], [])
    assert add == [acl(operation="describe")]
    assert remove == [acl(operation="write")]
    assert after == [acl(operation="describe"), acl(operation="read")]


def test_plan_purges_only_the_named_principals():
    current = [acl(operation="read"), acl(operation="write"), acl(principal="User:bob", operation="write")]
    add, remove, after = kafka_acl.plan(current, [acl(operation="read")], [], ["User:alice"])
    assert add == []
    assert remove == [acl(operation="write")]
    assert after == [acl(operation="read"), acl(principal="User:bob", operation="write")]


def test_plan_without_changes_is_empty():
    current = [acl()]
    assert kafka_acl.plan(current, [acl()], [acl(operation="write")], []) == ([], [], current)


ACLS = st.builds(acl, principal=st.sampled_from(["User:alice", "User:bob", "User:*"]),
                 operation=st.sampled_from(["read", "write", "describe"]),
                 resource_name=st.sampled_from(["orders", "payments"]),
                 pattern_type=st.sampled_from(["literal", "prefixed"]),
                 permission=st.sampled_from(["allow", "deny"]))


@settings(max_examples=200, deadline=None)
@given(current=st.lists(ACLS, unique_by=kafka_admin.acl_sort_key),
       wanted=st.lists(st.tuples(ACLS, st.booleans()), unique_by=lambda pair: kafka_admin.acl_sort_key(pair[0])),
       purge=st.lists(st.sampled_from(["User:alice", "User:bob"]), unique=True))
def test_plan_reaches_the_described_state(current, wanted, purge):
    present = [a for a, keep in wanted if keep]
    absent = [a for a, keep in wanted if not keep]
    add, remove, after = kafka_acl.plan(current, present, absent, purge)
    key = kafka_admin.acl_sort_key
    have = {key(a) for a in current}
    result = (have | {key(a) for a in add}) - {key(a) for a in remove}
    assert result == {key(a) for a in after}
    assert {key(a) for a in present} <= result
    assert not {key(a) for a in absent} & result
    assert all(key(a) not in have for a in add) and all(key(a) in have for a in remove)
    for principal in purge:
        assert {key(a) for a in after if a["principal"] == principal} == {key(a) for a in present if a["principal"] == principal}
    untouched = [a for a in current if a["principal"] not in purge and key(a) not in {key(b) for b in absent}]
    assert {key(a) for a in untouched} <= result


# -- the module -------------------------------------------------------------------------------------
GRANT = {"acls": [{"principal": "User:alice", "resource_type": "topic", "resource_name": "orders",
                   "operations": ["read", "write"]},
                  {"principal": "User:alice", "resource_type": "group", "resource_name": "orders-app",
                   "operation": "read"}]}


def test_creates_then_reports_no_change(cluster):
    first = run(GRANT)
    assert first["changed"] is True
    assert first["removed"] == []
    expected = [acl(resource_type="group", resource_name="orders-app"), acl(operation="read"), acl(operation="write")]
    assert first["added"] == expected
    assert first["acls"] == expected
    assert stored(cluster) == expected
    second = run(GRANT)
    assert second["changed"] is False
    assert second["added"] == second["removed"] == []
    assert second["acls"] == expected


def test_connects_with_the_security_description(cluster):
    run(GRANT)
    config = cluster.calls[0][1]
    assert config["sasl_plain_username"] == "admin"
    assert config["security_protocol"] == "SASL_PLAINTEXT"
    assert config["bootstrap_servers"] == ["b1:9092"]
    assert ("close",) in cluster.calls


def test_check_mode_changes_nothing(cluster):
    result = run(GRANT, check=True, diff=True)
    assert result["changed"] is True
    assert len(result["added"]) == 3
    assert cluster.store == set()
    assert not [c for c in cluster.calls if c[0] in ("create_acls", "delete_acls")]
    assert result["diff"]["before"] == ""
    assert "User:alice allow write on topic literal orders from host *\n" in result["diff"]["after"]


def test_diff_shows_before_and_after(cluster):
    run(GRANT)
    result = run({"acls": [dict(GRANT["acls"][0], operations=["write"], state="absent")]}, diff=True)
    assert result["changed"] is True
    assert result["removed"] == [acl(operation="write")]
    assert result["diff"]["before"] == ("User:alice allow read on group literal orders-app from host *\n"
                                        "User:alice allow read on topic literal orders from host *\n"
                                        "User:alice allow write on topic literal orders from host *\n")
    assert result["diff"]["after"] == ("User:alice allow read on group literal orders-app from host *\n"
                                       "User:alice allow read on topic literal orders from host *\n")
    assert result["diff"]["before_header"] == "ACLs of User:alice"


def test_absent_acl_that_does_not_exist_is_no_change(cluster):
    result = run({"acls": [dict(GRANT["acls"][0], state="absent")]})
    assert result["changed"] is False
    assert not [c for c in cluster.calls if c[0] == "delete_acls"]


def test_purge_makes_the_list_exact(cluster):
    run(GRANT)
    cluster.store.add(kafka_admin._acl_object(acl(principal="User:bob", operation="write")))
    result = run({"purge_principals": ["User:alice"],
                  "acls": [{"principal": "User:alice", "resource_type": "topic", "resource_name": "orders",
                            "operations": ["read"]}]})
    assert result["changed"] is True
    assert result["removed"] == [acl(resource_type="group", resource_name="orders-app"), acl(operation="write")]
    assert stored(cluster) == [acl(operation="read"), acl(principal="User:bob", operation="write")]


def test_purge_without_acls_removes_everything_of_the_principal(cluster):
    run(GRANT)
    result = run({"purge_principals": ["User:alice"]})
    assert result["changed"] is True
    assert len(result["removed"]) == 3
    assert cluster.store == set()


def test_nothing_to_manage_does_not_connect(cluster):
    result = run({})
    assert result == {"changed": False, "acls": [], "added": [], "removed": []}
    assert cluster.calls == []


def test_bad_purge_principal_fails(cluster):
    result = run({"purge_principals": ["alice"]}, expect=FailJson)
    assert result["msg"].startswith("purge_principals[0]: 'alice' is not a principal")
    assert cluster.calls == []


def test_invalid_operation_choice_is_refused_by_the_argument_spec(cluster):
    result = run({"acls": [{"principal": "User:a", "resource_type": "topic", "resource_name": "t",
                            "operations": ["produce"]}]}, expect=FailJson)
    assert "produce" in result["msg"]


def test_cluster_without_authorizer_gives_a_hint(cluster):
    cluster.raise_on["describe_acls"] = kafka_errors.SecurityDisabledError("No Authorizer is configured.")
    result = run(GRANT, expect=FailJson)
    assert result["msg"] == ("describe ACLs: [Error 54] SecurityDisabledError: No Authorizer is configured. "
                             "The cluster has no authorizer; enable platform_security.authorizer.")


def test_not_allowed_gives_a_hint(cluster):
    cluster.raise_on["describe_acls"] = kafka_errors.ClusterAuthorizationFailedError()
    result = run(GRANT, expect=FailJson)
    assert result["msg"].startswith("describe ACLs: [Error 31] ClusterAuthorizationFailedError. The identity")
    assert "use a super user" in result["msg"]


def test_failed_creation_is_reported(cluster):
    cluster.create_failures = [kafka_errors.InvalidRequestError]
    result = run(GRANT, expect=FailJson)
    assert result["msg"].startswith("create ACLs: 1 of 3 failed (InvalidRequestError). Kafka refused the request")


def test_unreachable_cluster_fails_cleanly(cluster):
    cluster.raise_on["init"] = kafka_errors.KafkaConnectionError("Connection refused")
    result = run(GRANT, expect=FailJson)
    assert result["msg"].startswith("cannot connect to b1:9092")


def test_invalid_security_description_fails(cluster):
    result = run(dict(GRANT, security={"listeners": "nope"}), expect=FailJson)
    assert "platform_security.listeners" in result["msg"]


def test_no_secret_in_results(cluster):
    result = run(GRANT, diff=True)
    text = json.dumps(result)
    for secret in ("admin-secret", "broker-secret", "controller-secret"):
        assert secret not in text
