# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_quota's entity and value checks, its plan, and its flow with a fake admin client (the real
cluster is in tests/integration/test_kafka_quota.py)."""

from __future__ import annotations

import types

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import quotas as q
from ansible_collections.kafkaops.platform.plugins.modules import kafka_quota as mod
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import FakeAdminBase


class FakeAdmin(FakeAdminBase):
    def __init__(self, current):
        self.current, self.log = current, []

    def client_quotas(self, entity):
        self.log.append(("describe", dict(entity)))
        return dict(self.current)

    def alter_client_quotas(self, entity, changes, validate_only=False):
        self.log.append(("alter", dict(entity), dict(changes), validate_only))


def module(check=False, diff=False, **params):
    full = dict(user=None, client_id=None, ip=None, quotas={}, purge=False, state="present",
                bootstrap_servers=["b1:9092"], security={}, identity=None, listener=None, request_timeout=30)
    full.update(params)
    return types.SimpleNamespace(params=full, check_mode=check, _diff=diff)


def test_entities_and_their_defaults():
    assert q.quota_entity(user="alice") == {"user": "alice"}
    assert q.quota_entity(user="alice", client_id="<default>") == {"user": "alice", "client-id": None}
    assert q.quota_entity(ip="<default>") == {"ip": None}
    with pytest.raises(q.QuotaError, match="name the entity"):
        q.quota_entity()
    with pytest.raises(q.QuotaError, match="ip quota stands alone"):
        q.quota_entity(user="a", ip="10.0.0.1")
    with pytest.raises(q.QuotaError, match="without surrounding spaces"):
        q.quota_entity(user=" alice")
    with pytest.raises(q.QuotaError, match="control character"):
        q.quota_entity(client_id="app\n")


def test_quota_values_are_checked_per_entity_type():
    assert q.quota_values({"user": "a"}, {"producer_byte_rate": 1048576, "request_percentage": "12.5",
                                          "consumer_byte_rate": None}) == {
        "consumer_byte_rate": None, "producer_byte_rate": 1048576.0, "request_percentage": 12.5}
    with pytest.raises(q.QuotaError, match="'connection_creation_rate' is not a quota of user and client-id"):
        q.quota_values({"user": "a"}, {"connection_creation_rate": 5})
    with pytest.raises(q.QuotaError, match="'producer_byte_rate' is not a quota of ip entities"):
        q.quota_values({"ip": None}, {"producer_byte_rate": 5})
    with pytest.raises(q.QuotaError, match="producer_byte_rate must be a whole number, got 1.5"):
        q.quota_values({"user": "a"}, {"producer_byte_rate": 1.5})
    for bad in (0, -3, float("nan"), float("inf")):
        with pytest.raises(q.QuotaError, match="must be a number above 0"):
            q.quota_values({"user": "a"}, {"request_percentage": bad})
    for bad in (True, "fast", [1]):
        with pytest.raises(q.QuotaError, match="must be a number, got"):
            q.quota_values({"user": "a"}, {"request_percentage": bad})


def test_plan_sets_removes_purges_and_empties():
    current = {"producer_byte_rate": 1024.0, "consumer_byte_rate": 2048.0}
    assert q.plan(current, {"producer_byte_rate": 1024.0}) == ({}, [])
    assert q.plan(current, {"producer_byte_rate": 4096.0, "request_percentage": None}) == (
        {"producer_byte_rate": 4096.0}, [])
    assert q.plan(current, {"consumer_byte_rate": None}) == ({}, ["consumer_byte_rate"])
    assert q.plan(current, {"producer_byte_rate": 1024.0}, purge=True) == ({}, ["consumer_byte_rate"])
    assert q.plan(current, {"producer_byte_rate": 1.0}, state="absent") == ({}, ["consumer_byte_rate", "producer_byte_rate"])


def test_check_mode_validates_and_diff_shows_both_sides():
    admin = FakeAdmin({"producer_byte_rate": 1024.0})
    result = mod.run(module(check=True, diff=True, user="alice", client_id="<default>",
                            quotas={"producer_byte_rate": 2048, "request_percentage": 12.5}), admin)
    entity = {"user": "alice", "client-id": None}
    assert admin.log == [("describe", entity),
                         ("alter", entity, {"producer_byte_rate": 2048.0, "request_percentage": 12.5}, True)]
    assert result["changed"] is True and result["entity"] == entity
    assert result["quotas"] == {"producer_byte_rate": 2048, "request_percentage": 12.5}
    assert result["diff"]["before"] == "producer_byte_rate=1024\n"
    assert result["diff"]["after"] == "producer_byte_rate=2048\nrequest_percentage=12.5\n"
    assert result["diff"]["before_header"] == "client-id <default>, user alice"


def test_unchanged_entity_sends_no_alter_and_absent_removes_all():
    admin = FakeAdmin({"connection_creation_rate": 20.0})
    result = mod.run(module(ip="192.0.2.10", quotas={"connection_creation_rate": 20}), admin)
    assert result == {"changed": False, "entity": {"ip": "192.0.2.10"}, "quotas": {"connection_creation_rate": 20},
                      "set": {}, "removed": []}
    assert [entry[0] for entry in admin.log] == ["describe"]
    gone = mod.run(module(ip="192.0.2.10", state="absent"), FakeAdmin({"connection_creation_rate": 20.0}))
    assert gone["changed"] is True and gone["removed"] == ["connection_creation_rate"] and gone["quotas"] == {}
