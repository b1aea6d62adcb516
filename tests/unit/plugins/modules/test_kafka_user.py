# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the kafka_user module: the planning functions, and the module end to end against an
in-memory stand-in for kafka-python's KafkaAdminClient (so KafkaAdmin's SCRAM helpers run too)."""

from __future__ import annotations

import hashlib
import json

import kafka.errors as kafka_errors
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kafka.admin import ScramMechanism, UserScramCredentialDeletion

from ansible_collections.kafkaops.platform.plugins.module_utils import kafka_admin
from ansible_collections.kafkaops.platform.plugins.modules import kafka_user
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    module_args,
    raise_on_exit,
)

PASSWORD = "s3cret-Pa55word"
CONNECTION = {"bootstrap_servers": ["b1:9092"],
              "security": {"listeners": [
                  {"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
                  {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
                  {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_PLAINTEXT", "authentication": "plain"}],
                  "credentials": {"broker": {"username": "broker", "password": "broker-secret"},
                                  "controller": {"username": "controller", "password": "controller-secret"},
                                  "admin": {"username": "admin", "password": "admin-secret"}}}}


class FakeClient:
    """An in-memory cluster behind kafka-python's KafkaAdminClient interface (the SCRAM part).

    Like Kafka, it refuses a request that alters one user twice."""

    users = {}  # user -> {ScramMechanism: (iterations, salted password)}
    requests = []
    raise_on = {}
    user_errors = {}  # user -> error message alter_user_scram_credentials reports

    def __init__(self, **config):
        self.config = config

    def close(self):
        pass

    def describe_user_scram_credentials(self, users=None):
        if "describe" in self.raise_on:
            raise self.raise_on["describe"]
        assert users is None
        return {user: {"error": None, "credential_infos": [{"mechanism": m, "iterations": it}
                                                           for m, (it, _salted) in creds.items()]}
                for user, creds in self.users.items() if creds}

    def alter_user_scram_credentials(self, alterations):
        self.requests.append(list(alterations))
        names = [a.user for a in alterations]
        answer = {}
        for change in alterations:
            if names.count(change.user) > 1:
                answer[change.user] = "A user credential cannot be altered twice in the same request"
            elif change.user in self.user_errors:
                answer[change.user] = self.user_errors[change.user]
            elif isinstance(change, UserScramCredentialDeletion):
                self.users.get(change.user, {}).pop(change.mechanism, None)
                answer[change.user] = None
            else:
                self.users.setdefault(change.user, {})[change.mechanism] = (change.iterations, change.salted_password)
                answer[change.user] = None
        return answer


@pytest.fixture
def cluster(monkeypatch):
    raise_on_exit(monkeypatch)
    monkeypatch.setattr(kafka_admin, "KafkaAdminClient", FakeClient)
    monkeypatch.setattr(kafka_admin, "HAS_KAFKA", True)
    monkeypatch.setattr(kafka_user, "HAS_KAFKA", True)
    monkeypatch.setattr(FakeClient, "users", {})
    monkeypatch.setattr(FakeClient, "requests", [])
    monkeypatch.setattr(FakeClient, "raise_on", {})
    monkeypatch.setattr(FakeClient, "user_errors", {})
    return FakeClient


def run(args, expect=ExitJson, check=False, diff=False):
    full = dict(CONNECTION, **args)
    if check:
        full["_ansible_check_mode"] = True
    if diff:
        full["_ansible_diff"] = True
    with module_args(full), pytest.raises(expect) as caught:
        kafka_user.main()
    return caught.value.args[0]


def credentials(cluster, user="alice"):
    return {m.name: it for m, (it, _salted) in cluster.users.get(user, {}).items()}


SHA512 = ScramMechanism.SCRAM_SHA_512
SHA256 = ScramMechanism.SCRAM_SHA_256


# -- pure functions ---------------------------------------------------------------------------------
def test_mechanisms_are_normalized():
    assert kafka_user.mechanisms_of(["scram-sha-512", "SCRAM_SHA_256", "SCRAM-SHA-512"]) == ["SCRAM-SHA-256", "SCRAM-SHA-512"]
    assert kafka_user.mechanisms_of(None) is None


@pytest.mark.parametrize("values, message", [
    ([], "mechanisms must name at least one of SCRAM-SHA-256, SCRAM-SHA-512 (or be left out)"),
    (["PLAIN"], "mechanisms: 'PLAIN' is not a SCRAM mechanism; use SCRAM-SHA-256 or SCRAM-SHA-512"),
])
def test_bad_mechanisms_are_refused(values, message):
    with pytest.raises(kafka_user.UserError) as caught:
        kafka_user.mechanisms_of(values)
    assert str(caught.value) == message


@pytest.mark.parametrize("name", [" alice", "alice\n", "al\x00ice", ""])
def test_bad_user_names_are_refused(name):
    with pytest.raises(kafka_user.UserError) as caught:
        kafka_user.validate({"name": name, "state": "absent"})
    assert str(caught.value) == "name must be a user name without leading or trailing spaces or control characters"


CURRENT = [{"mechanism": "SCRAM-SHA-512", "iterations": 4096}]


@pytest.mark.parametrize("current, state, mechanisms, iterations, update, expected", [
    ([], "present", None, 4096, "on_create", {"create": ["SCRAM-SHA-512"], "update": [], "delete": []}),
    (CURRENT, "present", None, 4096, "on_create", {"create": [], "update": [], "delete": []}),
    (CURRENT, "present", None, 4096, "always", {"create": [], "update": ["SCRAM-SHA-512"], "delete": []}),
    (CURRENT, "present", None, 8192, "on_create", {"create": [], "update": ["SCRAM-SHA-512"], "delete": []}),
    (CURRENT, "present", ["SCRAM-SHA-256", "SCRAM-SHA-512"], 4096, "on_create",
     {"create": ["SCRAM-SHA-256"], "update": [], "delete": []}),
    (CURRENT, "absent", None, 4096, "on_create", {"create": [], "update": [], "delete": ["SCRAM-SHA-512"]}),
    (CURRENT, "absent", ["SCRAM-SHA-256"], 4096, "on_create", {"create": [], "update": [], "delete": []}),
    ([], "absent", None, 4096, "on_create", {"create": [], "update": [], "delete": []}),
])
def test_plan(current, state, mechanisms, iterations, update, expected):
    assert kafka_user.plan(current, state, mechanisms, iterations, update) == expected


MECHANISMS = st.sampled_from(["SCRAM-SHA-256", "SCRAM-SHA-512"])


@given(current=st.dictionaries(MECHANISMS, st.sampled_from([4096, 8192])),
       mechanisms=st.one_of(st.none(), st.lists(MECHANISMS, min_size=1, unique=True).map(sorted)),
       state=st.sampled_from(["present", "absent"]), iterations=st.sampled_from([4096, 8192]),
       update=st.sampled_from(["always", "on_create"]))
def test_plan_then_plan_again_is_stable(current, mechanisms, state, iterations, update):
    """Applying the plan reaches a state in which the same task changes nothing (except always)."""
    creds = [{"mechanism": m, "iterations": i} for m, i in sorted(current.items())]
    changes = kafka_user.plan(creds, state, mechanisms, iterations, update)
    after = kafka_user.after_state(creds, changes, iterations)
    again = kafka_user.plan(after, state, mechanisms, iterations, update)
    assert again["create"] == again["delete"] == []
    if update == "on_create" or state == "absent":
        assert again["update"] == []
    names = {c["mechanism"] for c in after}
    if state == "present":
        assert set(mechanisms or ["SCRAM-SHA-512"]) <= names
    else:
        assert not names & set(mechanisms if mechanisms is not None else current)


# -- the module -------------------------------------------------------------------------------------
def test_create_then_no_change(cluster):
    first = run({"name": "alice", "password": PASSWORD})
    assert first["changed"] is True
    assert first["created"] == ["SCRAM-SHA-512"]
    assert first["credentials"] == [{"mechanism": "SCRAM-SHA-512", "iterations": 4096}]
    assert credentials(cluster) == {"SCRAM_SHA_512": 4096}
    second = run({"name": "alice", "password": PASSWORD})
    assert second["changed"] is False
    assert second["created"] == second["updated"] == second["deleted"] == []
    assert len(cluster.requests) == 1


def test_the_password_is_salted_on_the_control_node(cluster):
    run({"name": "alice", "password": PASSWORD, "iterations": 4096})
    change = cluster.requests[0][0]
    assert change.salted_password == hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), change.salt, 4096)


def test_check_mode_sends_nothing(cluster):
    result = run({"name": "alice", "password": PASSWORD}, check=True, diff=True)
    assert result["changed"] is True
    assert result["created"] == ["SCRAM-SHA-512"]
    assert cluster.requests == []
    assert result["diff"] == {"before": "", "after": "SCRAM-SHA-512: 4096 iterations, new password\n",
                              "before_header": "SCRAM credentials of alice", "after_header": "SCRAM credentials of alice"}


def test_update_password_always_rewrites_and_reports_a_change(cluster):
    run({"name": "alice", "password": PASSWORD})
    result = run({"name": "alice", "password": "another-one", "update_password": "always"}, diff=True)
    assert result["changed"] is True
    assert result["updated"] == ["SCRAM-SHA-512"]
    assert result["diff"]["before"] == "SCRAM-SHA-512: 4096 iterations\n"
    assert result["diff"]["after"] == "SCRAM-SHA-512: 4096 iterations, new password\n"
    assert len(cluster.requests) == 2


def test_new_iteration_count_rewrites_the_credential(cluster):
    run({"name": "alice", "password": PASSWORD})
    result = run({"name": "alice", "password": PASSWORD, "iterations": 8192})
    assert result["updated"] == ["SCRAM-SHA-512"]
    assert credentials(cluster) == {"SCRAM_SHA_512": 8192}


def test_two_mechanisms_go_in_two_requests(cluster):
    result = run({"name": "alice", "password": PASSWORD, "mechanisms": ["SCRAM-SHA-256", "scram-sha-512"]})
    assert result["created"] == ["SCRAM-SHA-256", "SCRAM-SHA-512"]
    assert [len(r) for r in cluster.requests] == [1, 1]
    assert credentials(cluster) == {"SCRAM_SHA_256": 4096, "SCRAM_SHA_512": 4096}


def test_absent_removes_every_mechanism_then_reports_no_change(cluster):
    run({"name": "alice", "password": PASSWORD, "mechanisms": ["SCRAM-SHA-256", "SCRAM-SHA-512"]})
    run({"name": "bob", "password": PASSWORD})
    result = run({"name": "alice", "state": "absent"}, diff=True)
    assert result["changed"] is True
    assert result["deleted"] == ["SCRAM-SHA-256", "SCRAM-SHA-512"]
    assert result["credentials"] == []
    assert result["diff"]["after"] == ""
    assert credentials(cluster) == {}
    assert credentials(cluster, "bob") == {"SCRAM_SHA_512": 4096}
    assert run({"name": "alice", "state": "absent"})["changed"] is False


def test_absent_one_mechanism_keeps_the_other(cluster):
    run({"name": "alice", "password": PASSWORD, "mechanisms": ["SCRAM-SHA-256", "SCRAM-SHA-512"]})
    result = run({"name": "alice", "state": "absent", "mechanisms": ["SCRAM-SHA-256"]})
    assert result["deleted"] == ["SCRAM-SHA-256"]
    assert credentials(cluster) == {"SCRAM_SHA_512": 4096}


def test_password_is_required_for_present(cluster):
    result = run({"name": "alice"}, expect=FailJson)
    assert "password" in result["msg"]


@pytest.mark.parametrize("args, message", [
    ({"name": "alice", "password": ""}, "password is required (and must not be empty) with state=present"),
    ({"name": "alice", "password": PASSWORD, "iterations": 100},
     "iterations must be between 4096 and 16384 (Kafka refuses others), got 100"),
    ({"name": " alice", "password": PASSWORD}, "name must be a user name without leading or trailing spaces"),
    ({"name": "alice", "password": PASSWORD, "mechanisms": ["PLAIN"]}, "mechanisms: 'PLAIN' is not a SCRAM mechanism"),
])
def test_invalid_requests_fail_before_connecting(cluster, args, message):
    result = run(args, expect=FailJson)
    assert result["msg"].startswith(message)
    assert cluster.requests == []


def test_refused_alteration_is_reported(cluster):
    cluster.user_errors["alice"] = "Too few iterations"
    result = run({"name": "alice", "password": PASSWORD}, expect=FailJson)
    assert result["msg"] == "alter SCRAM credentials: alice: Too few iterations"


def test_describe_not_allowed_gives_a_hint(cluster):
    cluster.raise_on["describe"] = kafka_errors.ClusterAuthorizationFailedError("DescribeUserScramCredentialsRequest failed")
    result = run({"name": "alice", "password": PASSWORD}, expect=FailJson)
    assert result["msg"].startswith("describe SCRAM credentials: [Error 31] ClusterAuthorizationFailedError")
    assert "use a super user" in result["msg"]


def test_no_password_in_results(cluster):
    for update in ("on_create", "always"):
        result = run({"name": "alice", "password": PASSWORD, "update_password": update,
                      "mechanisms": ["SCRAM-SHA-256", "SCRAM-SHA-512"]}, diff=True)
        text = json.dumps(result)
        for secret in (PASSWORD, "admin-secret", "broker-secret", "controller-secret"):
            assert secret not in text
