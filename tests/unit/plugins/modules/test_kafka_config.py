# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_config's planning and flow with a fake admin client."""

from __future__ import annotations

import types

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import config_values as cv
from ansible_collections.kafkaops.platform.plugins.modules import kafka_config as mod
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import FakeAdminBase


class FakeAdmin(FakeAdminBase):
    def __init__(self, current):
        self.current, self.log = current, []

    def configs(self, resource_type, names, sources=None):
        self.log.append(("configs", resource_type, list(names), sources))
        return {name: dict(self.current) for name in names}

    def alter_configs(self, resource_type, changes, validate_only=False):
        self.log.append(("alter", resource_type, changes, validate_only))


def module(check=False, diff=False, **params):
    full = dict(broker=None, configs={}, purge=False, bootstrap_servers=["b1:9092"], security={}, identity=None,
                listener=None, request_timeout=30)
    full.update(params)
    return types.SimpleNamespace(params=full, check_mode=check, _diff=diff)


def test_plan_sets_deletes_and_purges():
    current = {"num.io.threads": "8", "log.cleaner.threads": "2"}
    assert mod.plan(current, {"num.io.threads": "8", "message.max.bytes": "2097152"}, False) == (
        {"message.max.bytes": "2097152"}, [])
    assert mod.plan(current, {"log.cleaner.threads": None, "absent.key": None}, False) == ({}, ["log.cleaner.threads"])
    assert mod.plan(current, {"num.io.threads": "8"}, True) == ({}, ["log.cleaner.threads"])


def test_secret_and_malformed_keys_are_refused():
    with pytest.raises(cv.ConfigValueError, match="listener.name.client.ssl.key.password hold"):
        mod.wanted_configs({"listener.name.client.ssl.key.password": "x"})
    with pytest.raises(cv.ConfigValueError, match="does not look like a Kafka broker config key"):
        mod.wanted_configs({"Num.IO.Threads": 8})
    assert mod.wanted_configs({"log.cleaner.enable": True, "listener.name.client.max.connections": 100}) == {
        "listener.name.client.max.connections": "100", "log.cleaner.enable": "true"}


def test_cluster_default_in_check_mode_is_validated_not_applied():
    admin = FakeAdmin({"log.cleaner.threads": "2"})
    result = mod.run(module(check=True, diff=True, configs={"log.cleaner.threads": 3}), admin)
    assert result["changed"] is True and result["set"] == {"log.cleaner.threads": "3"} and result["deleted"] == []
    assert admin.log == [("configs", "broker", [""], ["DYNAMIC_DEFAULT_BROKER_CONFIG"]),
                         ("alter", "broker", {"": {"log.cleaner.threads": "3"}}, True)]
    assert result["diff"]["before"] == "log.cleaner.threads=2\n" and result["diff"]["after"] == "log.cleaner.threads=3\n"
    assert result["diff"]["before_header"] == "cluster-wide broker default"


def test_one_broker_unchanged_calls_no_alter():
    admin = FakeAdmin({"num.io.threads": "8"})
    result = mod.run(module(broker=3, configs={"num.io.threads": 8}), admin)
    assert result == {"changed": False, "configs": {"num.io.threads": "8"}, "set": {}, "deleted": []}
    assert admin.log == [("configs", "broker", ["3"], ["DYNAMIC_BROKER_CONFIG"])]
