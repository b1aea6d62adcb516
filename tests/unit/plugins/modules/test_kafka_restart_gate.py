# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the kafka_restart_gate module with a fake admin client: what it returns when the gate
opens, how it fails when it does not in time or cannot be asked. The gate's polling runs on a fake
clock (restart_gate.wait is wrapped), so no test sleeps."""

from __future__ import annotations

import functools

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import restart_gate
from ansible_collections.kafkaops.platform.plugins.module_utils.connection import CLIENT_OPTIONS
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdminError
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError
from ansible_collections.kafkaops.platform.plugins.modules import kafka_restart_gate
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    Clock,
    ExitJson,
    FailJson,
    raise_on_exit,
    run_main,
)

NOW_MS = 1_700_000_000_000


def voter(node, behind_ms=0, lag=0):
    return {"id": node, "log_end_offset": 1000 - lag, "lag": lag,
            "last_fetch_timestamp": NOW_MS - behind_ms, "last_caught_up_timestamp": NOW_MS - behind_ms}


def quorum(leader=1, voters=(1, 2, 3), lagging=()):
    return {"leader_id": leader, "leader_epoch": 3, "high_watermark": 1000, "observers": [],
            "voters": [voter(v, 60_000, 400) if v in lagging else voter(v) for v in voters]}


def part(topic, partition, isr, replicas=(1, 2, 3)):
    return {"topic": topic, "partition": partition, "leader": isr[0], "replicas": list(replicas), "isr": list(isr)}


def health(*problems):
    return {"healthy": not problems, "problems": list(problems), "partitions": 2, "offline_partitions": [],
            "under_replicated_partitions": [], "cluster": {"cluster_id": "c", "controller_id": 1, "brokers": []}}


HEALTHY_PARTITIONS = [part("orders", 0, [1, 2, 3]), part("orders", 1, [2, 3, 1])]


class FakeAdmin:
    """The KafkaAdmin methods the gate reads. Each ``answers`` entry is a list of answers given in
    turn (the last one for ever); an exception in it is raised. ``fail_at="init"`` fails the
    constructor with ``error``. Every call is kept in ``log``."""

    answers: dict = {}
    fail_at = None
    error = KafkaAdminError("cannot connect to b1:9092: NoBrokersAvailable")
    log: list = []

    def __init__(self, bootstrap_servers, **kwargs):
        self.log.append(("init", bootstrap_servers, kwargs))
        if self.fail_at == "init":
            raise self.error

    def _answer(self, name, *args):
        self.log.append((name,) + args)
        queue = self.answers[name]
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    def quorum(self):
        return self._answer("quorum")

    def log_dir_states(self):
        return self._answer("log_dir_states")

    def partitions(self):
        return self._answer("partitions")

    def configs(self, resource_type, names):
        names = list(names)
        self.log.append(("configs", resource_type, names))
        return {name: {"min.insync.replicas": "2"} for name in names}

    def health(self, expected_brokers=None):
        return self._answer("health", expected_brokers)

    def close(self):
        self.log.append(("close",))


@pytest.fixture
def admin(monkeypatch):
    raise_on_exit(monkeypatch)
    monkeypatch.setattr(kafka_restart_gate, "HAS_KAFKA", True)
    monkeypatch.setattr(kafka_restart_gate, "KafkaAdmin", FakeAdmin)
    monkeypatch.setattr(FakeAdmin, "log", [])
    monkeypatch.setattr(FakeAdmin, "fail_at", None)
    monkeypatch.setattr(FakeAdmin, "answers", {"quorum": [quorum()], "log_dir_states": [[]],
                                               "partitions": [HEALTHY_PARTITIONS], "health": [health()]})
    return FakeAdmin


@pytest.fixture
def clock(monkeypatch):
    """The gate's polling on a fake clock: waiting takes no time, the seconds waited are counted."""
    fake = Clock()
    monkeypatch.setattr(restart_gate, "wait", functools.partial(restart_gate.wait, clock=fake, sleep=fake.sleep))
    return fake


def args(**overrides):
    base = {"bootstrap_servers": ["b1:9092"], "node_id": 2, "roles": ["broker"], "phase": "before", "timeout": 0}
    base.update(overrides)
    return base


def run(arguments, expect=ExitJson, check=False):
    return run_main(kafka_restart_gate.main, arguments, expect=expect, check=check)


def calls(admin, name):
    return [entry for entry in admin.log if entry[0] == name]


def test_an_open_gate_returns_ready_without_change(admin, clock):
    result = run(args(expected_voters=[1, 2, 3], security={"listeners": []}, identity="admin"))
    assert result["changed"] is False
    assert result["ready"] is True
    assert result["waited"] == 0.0
    assert result["problems"] == [] and result["unavoidable"] == []
    assert len(result["progress"]) == 1 and result["progress"][0].endswith("s ready")
    assert admin.log[0] == ("init", ["b1:9092"], {"security": {"listeners": []}, "identity": "admin", "listener": None,
                                                  "request_timeout": 30, "options": dict.fromkeys(CLIENT_OPTIONS)})
    assert calls(admin, "configs") == [("configs", "topic", ["orders"])]
    assert admin.log[-1] == ("close",)
    assert clock.sleeps == []


def test_the_gate_answers_in_check_mode_too(admin, clock):
    assert run(args(), check=True)["ready"] is True
    assert calls(admin, "partitions")


def test_unavoidable_partitions_are_returned(admin, clock):
    admin.answers["partitions"] = [HEALTHY_PARTITIONS + [part("logs", 0, [1, 2], replicas=[1, 2])]]
    result = run(args())
    assert result["ready"] is True
    assert result["unavoidable"] == ["logs-0 (isr [1, 2], min.insync.replicas 2)"]


def test_the_gate_waits_until_the_partition_is_back_in_sync(admin, clock):
    admin.answers["partitions"] = [[part("orders", 0, [1, 2])], [part("orders", 0, [1, 2])], HEALTHY_PARTITIONS]
    result = run(args(timeout=60))
    assert result["ready"] is True
    assert result["waited"] == 4.0
    assert clock.sleeps == [2, 2]
    assert len(result["progress"]) == 2
    assert "1 partition(s) would fall below min.insync.replicas without broker 2" in result["progress"][0]
    assert result["progress"][1].endswith("s ready")


def test_a_timeout_fails_with_what_the_gate_saw(admin, clock):
    admin.answers["partitions"] = [[part("orders", 0, [1, 2]), part("orders", 1, [2, 3])]]
    admin.answers["log_dir_states"] = [[{"broker": 3, "log_dirs": [{"log_dir": "/var/lib/kafka/data", "error_code": 56}]}]]
    result = run(args(timeout=10), expect=FailJson)
    assert result["msg"].startswith("restart gate (before restarting node 2): still not ready after 10s: ")
    assert result["problems"] == [
        "broker 3: log directory /var/lib/kafka/data is offline",
        "2 partition(s) would fall below min.insync.replicas without broker 2: "
        "orders-0 (isr [1, 2], min.insync.replicas 2), orders-1 (isr [2, 3], min.insync.replicas 2)"]
    assert result["msg"].endswith("; ".join(result["problems"]))
    assert len(result["progress"]) == 1  # the same answer all along
    assert len(calls(admin, "partitions")) == 6
    assert admin.log[-1] == ("close",)


def test_a_timeout_without_waiting_asks_once(admin):
    admin.answers["quorum"] = [quorum(leader=-1)]
    result = run(args(timeout=0), expect=FailJson)
    assert result["msg"] == ("restart gate (before restarting node 2): still not ready after 0s: "
                             "the controller quorum has no leader (leader id -1)")
    assert result["problems"] == ["the controller quorum has no leader (leader id -1)"]
    assert len(calls(admin, "quorum")) == 1


def test_a_lagging_voter_blocks_a_controller_but_not_a_broker(admin, clock):
    admin.answers["quorum"] = [quorum(leader=3, lagging=(1,))]
    result = run(args(roles=["controller"]), expect=FailJson)
    assert result["problems"] == ["only 1 of the 2 other voters are caught up (lagging: 1), 2 needed to keep a majority "
                                  "while controller 2 restarts"]
    assert calls(admin, "partitions") == []
    assert run(args(roles=["broker"]))["ready"] is True


def test_caught_up_ms_widens_the_window(admin, clock):
    admin.answers["quorum"] = [quorum(leader=3, lagging=(1,))]
    assert run(args(roles=["controller"], caught_up_ms=120_000))["ready"] is True


def test_without_quorum_the_quorum_is_not_asked(admin, clock):
    admin.answers["quorum"] = [quorum(leader=-1)]
    assert run(args(quorum=False))["ready"] is True
    assert calls(admin, "quorum") == []


def test_after_a_restart_the_gate_waits_for_health_and_the_voter(admin, clock):
    admin.answers["health"] = [health("brokers not registered or fenced: 2"), health("1 under-replicated partition(s)"), health()]
    admin.answers["quorum"] = [quorum(voters=(1, 3)), quorum(lagging=(2,)), quorum(lagging=(2,)), quorum()]
    result = run(args(phase="after", roles=["broker", "controller"], expected_brokers=[1, 2, 3], expected_voters=[1, 2, 3],
                      timeout=60))
    assert result["ready"] is True
    assert result["waited"] == 6.0
    assert [entry.split("s ", 1)[1] for entry in result["progress"]] == [
        "brokers not registered or fenced: 2; voters missing from the quorum: 2; controller 2 is not a voter of the quorum",
        "1 under-replicated partition(s); controller 2 is not caught up yet (log end offset 600, high watermark 1000)",
        "controller 2 is not caught up yet (log end offset 600, high watermark 1000)",
        "ready"]
    assert calls(admin, "health")[0] == ("health", [1, 2, 3])
    assert calls(admin, "partitions") == [] and calls(admin, "log_dir_states") == []


def test_after_a_restart_a_timeout_names_the_phase(admin, clock):
    admin.answers["health"] = [health("2 offline partition(s)")]
    result = run(args(phase="after", node_id=3, timeout=5), expect=FailJson)
    assert result["msg"] == "restart gate (after restarting node 3): still not ready after 5s: 2 offline partition(s)"
    assert result["problems"] == ["2 offline partition(s)"]


def test_a_cluster_that_does_not_answer_is_waited_for_and_reconnected(admin, clock):
    admin.answers["log_dir_states"] = [KafkaAdminError("describe log dirs: NodeNotReadyError"), []]
    result = run(args(timeout=60))
    assert result["ready"] is True
    assert result["progress"][0].endswith("s not answering yet: describe log dirs: NodeNotReadyError")
    assert len(calls(admin, "close")) == 2  # after the failed read, and at the end


def test_a_cluster_that_never_answers_times_out(admin, clock):
    admin.answers["log_dir_states"] = [KafkaAdminError("describe log dirs: NodeNotReadyError")]
    result = run(args(timeout=4), expect=FailJson)
    assert result["msg"] == ("restart gate (before restarting node 2): still not ready after 4s: "
                             "not answering yet: describe log dirs: NodeNotReadyError")
    assert result["problems"] == ["not answering yet: describe log dirs: NodeNotReadyError"]


@pytest.mark.parametrize("error", [KafkaAdminError("cannot connect to b1:9092: NoBrokersAvailable"),
                                   SecurityConfigError("platform_security.listeners: must be a list")])
def test_an_admin_client_that_cannot_be_made_fails_the_module(admin, error):
    admin.fail_at = "init"
    admin.error = error
    result = run(args(phase="after", node_id=3), expect=FailJson)
    assert result["msg"] == "restart gate (after restarting node 3): %s" % error
    assert result["problems"] == [] and result["progress"] == []
    assert calls(admin, "close") == []


def test_a_gate_error_fails_the_module(admin, monkeypatch):
    def refuse(check, timeout, progress=None):
        progress("asked")
        raise restart_gate.GateError("roles must be broker and/or controller, not ['zookeeper']")

    monkeypatch.setattr(restart_gate, "wait", refuse)
    result = run(args(), expect=FailJson)
    assert result["msg"] == "restart gate (before restarting node 2): roles must be broker and/or controller, not ['zookeeper']"
    assert result["problems"] == []
    assert len(result["progress"]) == 1
    assert admin.log[-1] == ("close",)


def test_empty_roles_fail_at_once(admin, clock):
    result = run(args(roles=[], timeout=60), expect=FailJson)
    assert result["msg"] == "restart gate (before restarting node 2): roles must be broker and/or controller, not []"
    assert clock.sleeps == []


def test_missing_kafka_python(admin, monkeypatch):
    monkeypatch.setattr(kafka_restart_gate, "HAS_KAFKA", False)
    monkeypatch.setattr(kafka_restart_gate, "KAFKA_IMPORT_ERROR", "Traceback: No module named 'kafka'")
    result = run(args(), expect=FailJson)
    assert "kafka-python" in result["msg"]
    assert result["exception"] == "Traceback: No module named 'kafka'"
    assert admin.log == []


@pytest.mark.parametrize("overrides,message", [
    ({"node_id": None}, "node_id"),
    ({"roles": ["zookeeper"]}, "roles"),
    ({"phase": "during"}, "phase"),
    ({"expected_voters": ["one"]}, "expected_voters"),
    ({"timeout": "soon"}, "timeout"),
])
def test_argument_errors(admin, overrides, message):
    arguments = {k: v for k, v in args(**overrides).items() if v is not None}
    result = run(arguments, expect=FailJson)
    assert message in result["msg"]
    assert admin.log == []
