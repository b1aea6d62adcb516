# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the kafka_feature module with a fake admin client: reading metadata.version, raising it
(and only when every broker supports the level), check mode, and refusing a downgrade."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils.connection import CLIENT_OPTIONS
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdminError
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError
from ansible_collections.kafkaops.platform.plugins.modules import kafka_feature
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    raise_on_exit,
    run_main,
)


def state(finalized=29, supported=None):
    return {"finalized": {} if finalized is None else {"metadata.version": finalized, "kraft.version": 1},
            "supported": {"metadata.version": supported if supported is not None else {1: (7, 30), 2: (7, 30), 3: (7, 30)},
                          "kraft.version": {1: (0, 1), 2: (0, 1), 3: (0, 1)}}}


class FakeAdmin:
    """The KafkaAdmin the module uses: ``state`` is what features() answers (an exception in it is
    raised); ``fail_at`` names the step that raises ``error``. Every call is kept in ``log``."""

    state: object = {}
    fail_at = None
    error = KafkaAdminError("update feature metadata.version: InvalidUpdateVersionError: no")
    log: list = []

    def __init__(self, bootstrap_servers, **kwargs):
        self.log.append(("init", bootstrap_servers, kwargs))
        if self.fail_at == "init":
            raise self.error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.log.append(("close",))
        return False

    def features(self):
        self.log.append(("features",))
        answer = self.state
        if isinstance(answer, BaseException):
            raise answer  # pylint: disable=raising-bad-type
        return answer

    def update_feature(self, name, level, validate_only=False):
        self.log.append(("update_feature", name, level, validate_only))
        if self.fail_at == "update_feature":
            raise self.error


@pytest.fixture
def admin(monkeypatch):
    raise_on_exit(monkeypatch)
    monkeypatch.setattr(kafka_feature, "HAS_KAFKA", True)
    monkeypatch.setattr(kafka_feature, "KafkaAdmin", FakeAdmin)
    monkeypatch.setattr(FakeAdmin, "log", [])
    monkeypatch.setattr(FakeAdmin, "fail_at", None)
    monkeypatch.setattr(FakeAdmin, "state", state())
    return FakeAdmin


def args(**overrides):
    base = {"bootstrap_servers": ["b1:9092"]}
    base.update(overrides)
    return base


def run(arguments, expect=ExitJson, check=False):
    return run_main(kafka_feature.main, arguments, expect=expect, check=check)


def updates(admin):
    return [entry for entry in admin.log if entry[0] == "update_feature"]


def test_read_only_reports_the_finalized_level_and_each_broker(admin):
    admin.state = state(finalized=30, supported={2: (7, 30), 1: (7, 29)})
    result = run(args(security={"listeners": []}, identity="admin", request_timeout=12))
    assert result["changed"] is False
    assert result["finalized"] == {"level": 30, "name": "4.3-IV0"}
    assert result["finalized_before"] == {"level": 30, "name": "4.3-IV0"}
    assert result["supported"] == {"1": {"min": 7, "max": 29, "max_name": "4.2-IV1"},
                                   "2": {"min": 7, "max": 30, "max_name": "4.3-IV0"}}
    assert list(result["supported"]) == ["1", "2"]
    assert "downgrade" not in result
    assert updates(admin) == []
    assert admin.log[0] == ("init", ["b1:9092"], {"security": {"listeners": []}, "identity": "admin", "listener": None,
                                                  "request_timeout": 12, "options": dict.fromkeys(CLIENT_OPTIONS)})
    assert admin.log[-1] == ("close",)


def test_read_only_without_a_finalized_level(admin):
    admin.state = {"finalized": {}, "supported": {}}
    result = run(args())
    assert result["changed"] is False
    assert result["finalized"] == {"level": None, "name": "none"}
    assert result["finalized_before"] == {"level": None, "name": "none"}
    assert result["supported"] == {}


def test_latest_finalizes_the_level_every_broker_supports(admin):
    result = run(args(metadata_version="latest"))
    assert updates(admin) == [("update_feature", "metadata.version", 30, False)]
    assert result["changed"] is True
    assert result["finalized"] == {"level": 30, "name": "4.3-IV0"}
    assert result["finalized_before"] == {"level": 29, "name": "4.2-IV1"}
    assert result["supported"]["3"] == {"min": 7, "max": 30, "max_name": "4.3-IV0"}
    assert admin.log[-1] == ("close",)


@pytest.mark.parametrize("spec", ["4.3", "4.3.1", "4.3-IV0", "30"])
def test_a_release_name_or_level_finalizes_it(admin, spec):
    result = run(args(metadata_version=spec))
    assert updates(admin) == [("update_feature", "metadata.version", 30, False)]
    assert result["changed"] is True


def test_a_cluster_without_a_finalized_level_gets_one(admin):
    admin.state = state(finalized=None)
    result = run(args(metadata_version="latest"))
    assert updates(admin) == [("update_feature", "metadata.version", 30, False)]
    assert result["finalized_before"] == {"level": None, "name": "none"}
    assert result["finalized"] == {"level": 30, "name": "4.3-IV0"}


def test_check_mode_only_validates(admin):
    result = run(args(metadata_version="latest"), check=True)
    assert updates(admin) == [("update_feature", "metadata.version", 30, True)]
    assert result["changed"] is True
    assert result["finalized"] == {"level": 30, "name": "4.3-IV0"}
    assert result["finalized_before"] == {"level": 29, "name": "4.2-IV1"}


@pytest.mark.parametrize("finalized, name", [(30, "4.3-IV0"), (31, "level 31")])
def test_a_level_already_finalized_at_or_above_is_left_alone(admin, finalized, name):
    admin.state = state(finalized=finalized, supported={1: (7, 31), 2: (7, 31)})
    result = run(args(metadata_version="4.3"))
    assert updates(admin) == []
    assert result["changed"] is False
    assert result["finalized"] == result["finalized_before"] == {"level": finalized, "name": name}


def test_a_lower_level_is_never_asked_for(admin):
    # lowering is refused by leaving it alone: a finalized level above the wanted one is no change
    admin.state = state(finalized=30)
    result = run(args(metadata_version="4.2"))
    assert updates(admin) == []
    assert result["changed"] is False
    assert result["finalized"] == {"level": 30, "name": "4.3-IV0"}
    result = run(args(metadata_version="4.2"), check=True)
    assert updates(admin) == [] and result["changed"] is False


def test_a_broker_still_on_the_old_release_stops_the_upgrade(admin):
    admin.state = state(finalized=29, supported={1: (7, 30), 2: (7, 29), 3: (7, 30)})
    result = run(args(metadata_version="4.3"), expect=FailJson)
    assert updates(admin) == []
    assert "broker(s) 2 (up to 4.2-IV1) do not support metadata.version 4.3-IV0 (30)" in result["msg"]
    assert "1 (up to" not in result["msg"] and "3 (up to" not in result["msg"]
    assert result["finalized"] == result["finalized_before"] == {"level": 29, "name": "4.2-IV1"}
    assert result["supported"]["2"]["max_name"] == "4.2-IV1"


def test_latest_with_a_broker_behind_finalizes_nothing_new(admin):
    # latest is the lowest maximum: the broker still at 29 keeps it at 29, already finalized
    admin.state = state(finalized=29, supported={1: (7, 30), 2: (7, 29)})
    result = run(args(metadata_version="latest"))
    assert updates(admin) == []
    assert result["changed"] is False


def test_a_level_no_broker_supports_yet_is_refused(admin):
    result = run(args(metadata_version="31"), expect=FailJson)
    assert updates(admin) == []
    assert "do not support metadata.version level 31 (31)" in result["msg"]
    assert "1 (up to 4.3-IV0), 2 (up to 4.3-IV0), 3 (up to 4.3-IV0)" in result["msg"]


def test_a_release_that_cannot_run_at_the_finalized_level_is_refused(admin):
    admin.state = state(finalized=30)
    result = run(args(target_release="4.2.0"), expect=FailJson)
    assert result["downgrade"] is True
    assert "Kafka 4.2.0 supports metadata.version up to 4.2-IV1 (29)" in result["msg"]
    assert "finalized at 4.3-IV0 (30)" in result["msg"]
    assert result["finalized_before"] == {"level": 30, "name": "4.3-IV0"}
    assert result["supported"]["1"] == {"min": 7, "max": 30, "max_name": "4.3-IV0"}
    assert updates(admin) == []


def test_a_downgrade_is_refused_before_any_finalizing(admin):
    admin.state = state(finalized=29)
    result = run(args(target_release="4.1.0", metadata_version="latest"), expect=FailJson)
    assert result["downgrade"] is True
    assert updates(admin) == []


@pytest.mark.parametrize("release", ["4.3.1", "4.3", "4.4.0"])
def test_a_release_that_supports_the_finalized_level_passes(admin, release):
    admin.state = state(finalized=30)
    result = run(args(target_release=release))
    assert result["changed"] is False
    assert "downgrade" not in result
    assert result["finalized"] == {"level": 30, "name": "4.3-IV0"}


def test_target_release_and_finalizing_together(admin):
    result = run(args(target_release="4.3.1", metadata_version="latest"))
    assert updates(admin) == [("update_feature", "metadata.version", 30, False)]
    assert result["changed"] is True


def test_a_target_release_on_a_cluster_without_a_finalized_level_passes(admin):
    admin.state = state(finalized=None)
    assert run(args(target_release="3.7.0"))["changed"] is False


def test_features_failure_fails_the_module(admin):
    admin.state = KafkaAdminError("describe features: NodeNotReadyError: 2")
    result = run(args(metadata_version="latest"), expect=FailJson)
    assert result["msg"] == "describe features: NodeNotReadyError: 2"
    assert "downgrade" not in result
    assert updates(admin) == []
    assert admin.log[-1] == ("close",)


def test_update_failure_fails_the_module(admin):
    admin.fail_at = "update_feature"
    result = run(args(metadata_version="latest"), expect=FailJson)
    assert result["msg"] == "update feature metadata.version: InvalidUpdateVersionError: no"
    assert len(updates(admin)) == 1


def test_connection_and_security_failures_fail_the_module(admin, monkeypatch):
    admin.fail_at = "init"
    result = run(args(), expect=FailJson)
    assert result["msg"] == "update feature metadata.version: InvalidUpdateVersionError: no"
    monkeypatch.setattr(FakeAdmin, "error", SecurityConfigError("platform_security.listeners: must be a list"))
    result = run(args(), expect=FailJson)
    assert result["msg"] == "platform_security.listeners: must be a list"


@pytest.mark.parametrize("spec, named", [("5.0", "'5.0'"), ("newest", "'newest'")])
def test_a_bad_metadata_version_fails_the_module(admin, spec, named):
    result = run(args(metadata_version=spec), expect=FailJson)
    assert named in result["msg"]
    assert updates(admin) == []


def test_latest_without_any_broker_advertising_fails(admin):
    admin.state = {"finalized": {}, "supported": {}}
    result = run(args(metadata_version="latest"), expect=FailJson)
    assert "no broker advertises metadata.version" in result["msg"]
    assert updates(admin) == []


def test_a_bad_target_release_fails_without_downgrade(admin):
    result = run(args(target_release="latest"), expect=FailJson)
    assert "'latest' is not a Kafka release" in result["msg"]
    assert "downgrade" not in result


def test_missing_kafka_python(admin, monkeypatch):
    monkeypatch.setattr(kafka_feature, "HAS_KAFKA", False)
    monkeypatch.setattr(kafka_feature, "KAFKA_IMPORT_ERROR", "Traceback: No module named 'kafka'")
    result = run(args(metadata_version="latest"), expect=FailJson)
    assert "kafka-python" in result["msg"]
    assert result["exception"] == "Traceback: No module named 'kafka'"
    assert admin.log == []


@pytest.mark.parametrize("arguments, message", [
    ({}, "no bootstrap servers: set bootstrap_servers"),
    ({"bootstrap_servers": ["b1:9092"], "bogus": 1}, "Unsupported parameters"),
])
def test_argument_errors(admin, arguments, message):
    result = run(arguments, expect=FailJson)
    assert message in result["msg"]
    assert admin.log == []
