# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_connector and kafka_connect_info through main(), against FakeConnect (a fake that follows
Connect's documented REST API; see tests/unit/plugins/connect_fake.py): what is sent, check mode,
diff, masking, 409 retries and the error paths. The same modules run against real workers in
tests/integration/test_kafka_connector.py."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import kafka_connect as kc
from ansible_collections.kafkaops.platform.plugins.module_utils import rest
from ansible_collections.kafkaops.platform.plugins.modules import kafka_connect_info, kafka_connector
from ansible_collections.kafkaops.platform.tests.unit.plugins.connect_fake import FakeConnect
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    raise_on_exit,
    run_main,
)

SOURCE = {"connector.class": "org.example.SourceConnector", "topic": "orders", "tasks.max": 2,
          "db.password": "${file:/etc/kafka-connect/secrets/db.properties:password}"}


@pytest.fixture
def fake(monkeypatch):
    raise_on_exit(monkeypatch)
    connect = FakeConnect()
    monkeypatch.setattr(rest, "open_url_request", connect.request)
    clock = [0.0]
    monkeypatch.setattr(rest.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(rest.time, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    return connect


def run(args, expect=ExitJson, check=False, diff=False, module=kafka_connector):
    return run_main(module.main, dict({"url": "https://connect1:8083"}, **args), expect, check, diff)


def test_create_check_mode_then_create_then_nothing(fake):
    args = {"name": "orders", "state": "running", "config": SOURCE}
    checked = run(args, check=True, diff=True)
    assert checked["changed"] is True and checked["actions"] == ["created"]
    assert "topic=orders\n" in checked["diff"]["after"] and checked["diff"]["before"] == ""
    assert fake.connectors == {}, "check mode created the connector"
    created = run(args)
    assert created["changed"] is True and created["actions"] == ["created"]
    assert fake.connectors["orders"]["config"]["tasks.max"] == "2"  # stored as Connect stores it
    assert created["connector"] == "RUNNING" and [t["state"] for t in created["tasks"]] == ["RUNNING", "RUNNING"]
    again = run(args)
    assert again["changed"] is False and again["actions"] == []
    assert [c for c in fake.writes() if c[0] != "GET"] == [("POST", "/connectors")]


def test_a_provider_reference_is_no_secret_but_a_clear_password_is_masked(fake):
    created = run({"name": "orders", "config": dict(SOURCE, **{"db.password": "hunter2"})}, diff=True)
    assert created["config"]["db.password"] == kc.MASK
    assert "hunter2" not in repr(created)
    referenced = run({"name": "orders", "config": SOURCE}, diff=True)
    assert referenced["config"]["db.password"] == SOURCE["db.password"]
    assert referenced["config_changes"] == {"added": [], "changed": ["db.password"], "removed": []}
    assert "hunter2" not in repr(referenced)


def test_a_changed_config_is_validated_and_the_refused_keys_named(fake):
    bad = {"connector.class": "org.example.SourceConnector", "tasks.max": 1}
    failed = run({"name": "orders", "config": bad}, expect=FailJson)
    assert failed["msg"] == ('connector orders: the plugin refuses this config: topic: Missing required configuration '
                             '"topic" which has no default value.')
    assert fake.writes() == []
    missing = run({"name": "x", "config": {"connector.class": "org.example.Nope"}}, expect=FailJson)
    assert "HTTP 404" in missing["msg"] and "org.example.Nope" in missing["msg"]


def test_state_changes_and_their_idempotence(fake):
    run({"name": "orders", "config": SOURCE})
    for state, action, shown in (("paused", "paused", "PAUSED"), ("stopped", "stopped", "STOPPED"),
                                 ("running", "resumed", "RUNNING")):
        checked = run({"name": "orders", "state": state}, check=True, diff=True)
        assert checked["actions"] == [action] and checked["diff"]["after"] == "state: %s\n" % shown
        changed = run({"name": "orders", "state": state})
        assert changed["changed"] is True and changed["connector"] == shown
        assert run({"name": "orders", "state": state})["changed"] is False


def test_created_paused_or_stopped_uses_the_initial_state(fake):
    run({"name": "orders", "state": "stopped", "config": SOURCE})
    posted = [body for method, path, body in fake.calls if (method, path) == ("POST", "/connectors")]
    assert len(posted) == 1 and posted[0]["initial_state"] == "STOPPED"
    assert fake.connectors["orders"]["state"] == "STOPPED"
    assert not [c for c in fake.writes() if c[1].endswith(("/stop", "/pause"))]


def test_a_failed_task_fails_the_task_with_its_trace_and_restart_fixes_it(fake):
    run({"name": "orders", "config": SOURCE})
    fake.connectors["orders"]["tasks"][1] = "FAILED"
    fake.traces[("orders", 1)] = "java.io.FileNotFoundException: /data/in.txt\n\tat Reader.open\n\tat Task.poll"
    failed = run({"name": "orders", "state": "running"}, expect=FailJson)
    assert "task 1 on w1:8083: java.io.FileNotFoundException: /data/in.txt" in failed["msg"]
    checked = run({"name": "orders", "restart": True}, check=True)
    assert checked["changed"] is True and checked["restarted"][0].startswith("task 1 on w1:8083")
    assert fake.connectors["orders"]["tasks"][1] == "FAILED"
    restarted = run({"name": "orders", "restart": True})
    assert restarted["changed"] is True and restarted["tasks"][1]["state"] == "RUNNING"
    assert run({"name": "orders", "restart": True})["changed"] is False  # nothing failed any more
    assert run({"name": "orders", "restart": True, "only_failed": False})["changed"] is True


def test_offsets_are_guarded_and_compared(fake):
    run({"name": "lines", "state": "stopped", "config": SOURCE})
    fake.connectors["lines"]["offsets"] = [{"partition": {"file": "a"}, "offset": {"position": 40}}]
    wanted = [{"partition": {"file": "a"}, "offset": {"position": 0}}]
    refused = run({"name": "lines", "state": "stopped", "offsets": wanted}, expect=FailJson)
    assert "allow_offset_changes: true" in refused["msg"]
    running = run({"name": "lines", "state": "running", "offsets": wanted, "allow_offset_changes": True},
                  expect=FailJson)
    assert "state: stopped" in running["msg"]
    args = {"name": "lines", "state": "stopped", "offsets": wanted, "allow_offset_changes": True}
    assert run(args, check=True)["changed"] is True
    assert fake.connectors["lines"]["offsets"][0]["offset"] == {"position": 40}
    altered = run(args)
    assert altered["actions"] == ["offsets altered"] and altered["offsets_before"][0]["offset"] == {"position": 40}
    assert fake.connectors["lines"]["offsets"] == wanted
    assert run(args)["changed"] is False
    reset = {"name": "lines", "state": "stopped", "reset_offsets": True, "allow_offset_changes": True}
    assert run(reset)["changed"] is True and fake.connectors["lines"]["offsets"] == []
    assert run(reset)["changed"] is False


def test_409_while_rebalancing_is_retried(fake):
    fake.conflicts = 3
    created = run({"name": "orders", "config": SOURCE})
    assert created["changed"] is True
    assert [c[0] for c in fake.calls[:4]] == ["GET"] * 4  # the first GET, answered 409 three times


def test_409_for_longer_than_the_rebalance_timeout_fails(fake):
    fake.conflicts = 1000
    failed = run({"name": "orders", "config": SOURCE, "rebalance_timeout": 2}, expect=FailJson)
    assert failed["msg"].startswith("GET /connectors/orders/config: HTTP 409: Cannot complete request")
    assert failed["status"] == 409


def test_absent(fake):
    run({"name": "orders", "config": SOURCE})
    checked = run({"name": "orders", "state": "absent"}, check=True, diff=True)
    assert checked["changed"] is True and "topic=orders" in checked["diff"]["before"] and "orders" in fake.connectors
    assert run({"name": "orders", "state": "absent"})["changed"] is True and fake.connectors == {}
    assert run({"name": "orders", "state": "absent"})["changed"] is False


@pytest.mark.parametrize("args, message", [
    ({"name": "orders"}, "connector orders does not exist; config is needed to create it"),
    ({"name": "orders", "config": {"topic": "x"}}, "config needs connector.class (the plugin's class or alias)"),
    ({"name": "orders", "config": dict(SOURCE, name="other")},
     "config.name is 'other' but the connector is 'orders'; leave name out of config"),
    ({"name": "orders", "config": dict(SOURCE, transforms={"a": 1})},
     "config.transforms: a connector config value must be a string, number, boolean or list of those, got dict"),
    ({"name": "orders", "config": SOURCE, "offsets": [], "reset_offsets": True},
     "offsets sets some offsets and reset_offsets removes all of them; give one"),
    ({"name": "orders", "config": SOURCE, "timeout": -1}, "timeout must not be negative, got -1"),
])
def test_bad_input_is_refused_before_any_write(fake, args, message):
    assert run(args, expect=FailJson)["msg"] == message
    assert fake.writes() == []


def test_a_refused_connection_names_the_url(monkeypatch):
    raise_on_exit(monkeypatch)

    def refuse(url, method, data, headers, **options):
        raise OSError("[Errno 111] Connection refused")

    monkeypatch.setattr(rest, "open_url_request", refuse)
    failed = run({"name": "orders"}, expect=FailJson)
    assert failed["msg"] == "GET https://connect1:8083/connectors/orders/config: [Errno 111] Connection refused"


def test_info_describes_and_masks(fake):
    run({"name": "orders", "config": dict(SOURCE, **{"db.password": "hunter2"})})
    info = run({"offsets": True}, module=kafka_connect_info)
    assert info["server"]["version"] == "4.3.1"
    assert {"class": "org.example.SinkConnector", "type": "sink", "version": "4.3.1"} in info["plugins"]
    assert info["connectors"]["orders"]["connector"] == "RUNNING"
    assert info["connectors"]["orders"]["config"]["db.password"] == kc.MASK and "hunter2" not in repr(info)
    assert info["offsets"] == {"orders": []}
    missing = run({"connectors": ["nope"]}, module=kafka_connect_info, expect=FailJson)
    assert missing["msg"] == "no such connector(s): nope (the cluster has orders)"


def test_basic_auth_is_sent_with_every_request_and_never_returned(fake):
    fake.users = {"kafkaops": "Rest-s3cret"}
    refused = run({"name": "orders", "config": SOURCE}, expect=FailJson)
    assert refused["msg"] == "GET /connectors/orders/config: HTTP 401: User cannot access the resource."
    assert refused["status"] == 401
    wrong = run({"name": "orders", "config": SOURCE, "url_username": "kafkaops", "url_password": "nope"},
                expect=FailJson)
    assert wrong["status"] == 401 and fake.connectors == {}
    auth = {"url_username": "kafkaops", "url_password": "Rest-s3cret"}
    created = run(dict(auth, name="orders", config=SOURCE, state="running"))
    assert created["actions"] == ["created"] and created["connector"] == "RUNNING"
    restarted = run(dict(auth, name="orders", restart=True, only_failed=False))
    assert restarted["actions"] == ["restarted"] and restarted["restarted"] == ["all"]
    assert ("POST", "/connectors/orders/restart") in fake.writes()
    info = run(dict(auth), module=kafka_connect_info)
    assert list(info["connectors"]) == ["orders"]
    assert "Rest-s3cret" not in repr([created, restarted, info])
    assert "url_password" in {name for name, spec in rest.REST_ARGUMENT_SPEC.items() if spec.get("no_log")}


def test_info_finds_the_connectors_that_read_a_file(fake):
    run({"name": "orders", "config": SOURCE})
    run({"name": "lines", "config": {"connector.class": "org.example.SinkConnector", "topics": "t"}})
    run({"name": "mixed", "config": {"connector.class": "org.example.SinkConnector", "topics": "t",
                                     "x": "a-${directory:/etc/kafka-connect/secrets:db.properties}-b"}})
    info = run({"reading_files": ["/etc/kafka-connect/secrets/./db.properties"]}, module=kafka_connect_info)
    assert sorted(info["connectors"]) == ["mixed", "orders"]
    assert info["connectors"]["orders"]["provider_files"] == ["/etc/kafka-connect/secrets/db.properties"]
    assert run({"reading_files": ["/etc/other.properties"]}, module=kafka_connect_info)["connectors"] == {}
    assert sorted(run({"reading_files": ["/etc/kafka-connect/secrets/db.properties"], "connectors": ["orders", "lines"]},
                      module=kafka_connect_info)["connectors"]) == ["orders"]
    everything = run({}, module=kafka_connect_info)["connectors"]
    assert everything["lines"]["provider_files"] == [] and sorted(everything) == ["lines", "mixed", "orders"]


def test_info_waits_for_plugins_and_reports_failures(fake, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(kafka_connect_info.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(kafka_connect_info.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    failed = run({"wait_plugins": ["org.example.Later"], "timeout": 5}, module=kafka_connect_info, expect=FailJson)
    assert failed["msg"] == "the worker does not list plugin(s) org.example.Later after 5s"
    run({"name": "orders", "config": SOURCE})
    fake.connectors["orders"]["tasks"][0] = "FAILED"
    failed = run({"wait_running": True}, module=kafka_connect_info, expect=FailJson)
    assert failed["msg"].startswith("failed: orders: task 0 on w0:8083: org.example.Boom: failed")


def test_info_waits_for_a_starting_worker_but_not_for_other_errors(fake, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(kafka_connect_info.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(kafka_connect_info.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    fake.starting = 3
    info = run({"timeout": 30}, module=kafka_connect_info)
    assert info["server"]["version"] == "4.3.1" and fake.starting == 0 and clock[0] > 0
    fake.starting = 100
    failed = run({"timeout": 5}, module=kafka_connect_info, expect=FailJson)
    assert failed["msg"] == "no answer from https://connect1:8083 after 5s"

    def forbidden(url, method, data, headers, **options):
        return 403, b'{"error_code": 403, "message": "forbidden"}'

    monkeypatch.setattr(rest, "open_url_request", forbidden)
    clock[0] = 0.0
    failed = run({"timeout": 30}, module=kafka_connect_info, expect=FailJson)
    assert "403" in failed["msg"] and clock[0] == 0.0, "an answer that is an error ends the wait at once"


def test_waiting_ends_with_the_state_it_saw(fake):
    run({"name": "orders", "config": SOURCE})
    fake.connectors["orders"]["tasks"] = ["UNASSIGNED", "RUNNING"]
    failed = run({"name": "orders", "state": "running", "timeout": 3}, expect=FailJson)
    assert failed["msg"] == "connector orders: not RUNNING after 3s (now connector RUNNING, task 0 UNASSIGNED, task 1 RUNNING)"
    assert failed["changed"] is False
    assert run({"name": "orders", "state": "running", "wait": False})["changed"] is False


def test_stop_and_offsets_in_one_task_wait_for_the_stop(fake):
    run({"name": "lines", "config": SOURCE})
    fake.connectors["lines"]["offsets"] = [{"partition": {"file": "a"}, "offset": {"position": 40}}]
    wanted = [{"partition": {"file": "a"}, "offset": {"position": 0}}]
    args = {"name": "lines", "state": "stopped", "offsets": wanted, "allow_offset_changes": True}
    done = run(args)
    assert done["actions"] == ["stopped", "offsets altered"] and fake.connectors["lines"]["offsets"] == wanted
    calls = [(m, p) for m, p, _b in fake.calls]
    stop, patch = calls.index(("PUT", "/connectors/lines/stop")), calls.index(("PATCH", "/connectors/lines/offsets"))
    assert ("GET", "/connectors/lines/status") in calls[stop:patch]  # the stop was seen before the offsets changed
