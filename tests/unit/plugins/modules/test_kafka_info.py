# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the kafka_info module's argument handling and error paths, with a fake admin client."""

from __future__ import annotations

import json

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils.connection import CLIENT_OPTIONS
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdminError
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError
from ansible_collections.kafkaops.platform.plugins.modules import kafka_info
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    module_args,
    raise_on_exit,
)

STATE = {
    "healthy": False,
    "problems": ["broker 3 is not registered"],
    "partitions": 12,
    "under_replicated_partitions": ["orders-1"],
    "offline_partitions": [],
    "cluster": {"cluster_id": "AQIDBAUGBwgJCgsMDQ4PEA", "controller_id": 1,
                "brokers": [{"id": 1, "host": "b1", "port": 9092, "rack": None, "fenced": False}]},
}
QUORUM = {"leader_id": 1, "leader_epoch": 4, "high_watermark": 100, "voters": [], "observers": []}


class FakeAdmin:
    """Records how the module uses the admin client; ``fail_at`` names the step that raises."""

    fail_at = None
    error = KafkaAdminError("no broker answered at b1:9092 within 300 s")
    log = []

    def __init__(self, bootstrap_servers, **kwargs):
        self.log.append(("init", bootstrap_servers, kwargs))
        self._step("init")

    def _step(self, name):
        if self.fail_at == name:
            raise self.error

    def connect(self, deadline=None):
        self.log.append(("connect", deadline is not None))
        self._step("connect")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.log.append(("close",))
        return False

    def health(self, expected_brokers=None):
        self.log.append(("health", expected_brokers))
        self._step("health")
        return STATE

    def wait_healthy(self, expected_brokers, timeout, progress):
        self.log.append(("wait_healthy", expected_brokers, timeout))
        progress("1 of 2 brokers registered")
        self._step("wait_healthy")
        return STATE

    def quorum(self):
        self.log.append(("quorum",))
        return QUORUM

    def describe_group(self, group_id):
        self.log.append(("describe_group", group_id))
        self._step("describe_group")
        identity = {"version": 1, "host": "10.0.0.12", "port": 8081, "master_eligibility": True, "scheme": "http"}
        assignment = {"version": 1, "error": 0, "master": "sr-1-a", "master_identity": identity}
        return {"group_id": group_id, "state": "Stable", "protocol_type": "sr", "protocol": "v0",
                "members": [{"member_id": "sr-1-a", "group_instance_id": None, "client_id": "sr-1",
                             "client_host": "/10.0.0.12", "metadata": json.dumps(identity).encode(),
                             "assignment": json.dumps(assignment).encode()}]}


@pytest.fixture
def admin(monkeypatch):
    raise_on_exit(monkeypatch)
    monkeypatch.setattr(kafka_info, "HAS_KAFKA", True)
    monkeypatch.setattr(kafka_info, "KafkaAdmin", FakeAdmin)
    monkeypatch.setattr(FakeAdmin, "log", [])
    monkeypatch.setattr(FakeAdmin, "fail_at", None)
    return FakeAdmin


def run(args, expect=ExitJson):
    with module_args(args), pytest.raises(expect) as caught:
        kafka_info.main()
    return caught.value.args[0]


def test_describes_the_cluster(admin):
    result = run({"bootstrap_servers": ["b1:9092", "b2:9092"], "expected_brokers": ["1", 2],
                  "security": {"listeners": []}, "identity": "admin", "request_timeout": "15"})
    assert result["changed"] is False
    assert result["cluster_id"] == STATE["cluster"]["cluster_id"]
    assert result["controller_id"] == 1
    assert result["brokers"] == STATE["cluster"]["brokers"]
    assert (result["healthy"], result["problems"], result["partitions"]) == (False, STATE["problems"], 12)
    assert result["under_replicated_partitions"] == ["orders-1"]
    assert result["offline_partitions"] == []
    assert result["quorum"] == QUORUM
    assert result["progress"] == []
    assert admin.log[0] == ("init", ["b1:9092", "b2:9092"], {"security": {"listeners": []}, "identity": "admin",
                                                             "listener": None, "request_timeout": 15,
                                                             "options": dict.fromkeys(CLIENT_OPTIONS)})
    assert ("health", [1, 2]) in admin.log
    assert admin.log[-1] == ("close",)


def test_quorum_can_be_left_out(admin):
    result = run({"bootstrap_servers": ["b1:9092"], "quorum": False})
    assert "quorum" not in result
    assert ("quorum",) not in admin.log


def test_reads_the_schema_registry_leader_when_asked(admin):
    result = run({"bootstrap_servers": ["b1:9092"], "quorum": False, "schema_registry_group": "registry-a"})
    assert ("describe_group", "registry-a") in admin.log
    assert result["schema_registry"]["group"] == "registry-a"
    assert result["schema_registry"]["leader"] == {"host": "10.0.0.12", "port": 8081, "scheme": "http",
                                                   "url": "http://10.0.0.12:8081", "leader_eligible": True,
                                                   "member_id": "sr-1-a"}
    assert result["schema_registry"]["reason"] is None
    assert "schema_registry" not in run({"bootstrap_servers": ["b1:9092"], "quorum": False})


def test_a_failed_group_description_fails_the_module(admin):
    admin.fail_at = "describe_group"
    result = run({"bootstrap_servers": ["b1:9092"], "schema_registry_group": "registry-a"}, expect=FailJson)
    assert result["msg"] == "no broker answered at b1:9092 within 300 s"


def test_wait_healthy_passes_the_remaining_time_and_reports_progress(admin):
    result = run({"bootstrap_servers": ["b1:9092"], "wait_healthy": True, "timeout": 120, "expected_brokers": [1]})
    step = next(entry for entry in admin.log if entry[0] == "wait_healthy")
    assert step[1] == [1]
    assert 1 <= step[2] <= 120
    assert len(result["progress"]) == 1
    assert result["progress"][0].endswith("s 1 of 2 brokers registered")


@pytest.mark.parametrize("step", ["init", "connect", "health"])
def test_admin_errors_fail_the_module(admin, step):
    admin.fail_at = step
    result = run({"bootstrap_servers": ["b1:9092"]}, expect=FailJson)
    assert result["msg"] == "no broker answered at b1:9092 within 300 s"
    assert result["progress"] == []


def test_error_while_waiting_keeps_the_progress(admin, monkeypatch):
    admin.fail_at = "wait_healthy"
    monkeypatch.setattr(FakeAdmin, "error", KafkaAdminError("cluster not healthy after 10 s: broker 3 missing"))
    result = run({"bootstrap_servers": ["b1:9092"], "wait_healthy": True, "timeout": 10}, expect=FailJson)
    assert result["msg"] == "cluster not healthy after 10 s: broker 3 missing"
    assert len(result["progress"]) == 1


def test_security_errors_fail_the_module(admin, monkeypatch):
    admin.fail_at = "init"
    monkeypatch.setattr(FakeAdmin, "error", SecurityConfigError("platform_security.listeners: must be a list"))
    result = run({"bootstrap_servers": ["b1:9092"]}, expect=FailJson)
    assert result["msg"] == "platform_security.listeners: must be a list"


def test_missing_kafka_python(admin, monkeypatch):
    monkeypatch.setattr(kafka_info, "HAS_KAFKA", False)
    monkeypatch.setattr(kafka_info, "KAFKA_IMPORT_ERROR", "Traceback: No module named 'kafka'")
    result = run({"bootstrap_servers": ["b1:9092"]}, expect=FailJson)
    assert "kafka-python" in result["msg"]
    assert result["exception"] == "Traceback: No module named 'kafka'"
    assert admin.log == []


@pytest.mark.parametrize("args,message", [
    ({}, "no bootstrap servers: set bootstrap_servers"),
    ({"bootstrap_servers": ["b1:9092"], "expected_brokers": ["one"]}, "expected_brokers"),
    ({"bootstrap_servers": ["b1:9092"], "timeout": "soon"}, "timeout"),
    ({"bootstrap_servers": ["b1:9092"], "bogus": 1}, "Unsupported parameters"),
])
def test_argument_errors(admin, args, message):
    result = run(args, expect=FailJson)
    assert message in result["msg"]
    assert admin.log == []
