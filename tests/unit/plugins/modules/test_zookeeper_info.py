# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the zookeeper_info module with a fake server answer."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.modules import zookeeper_info
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    module_args,
    raise_on_exit,
)

MNTR_LEADER = "zk_server_state\tleader\nzk_synced_followers\t%d\n"


def run(monkeypatch, args, answers):
    raise_on_exit(monkeypatch)
    monkeypatch.setattr(zookeeper_info.time, "sleep", lambda _seconds: None)
    answers = list(answers)

    def ask(params, timeout):
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(zookeeper_info, "ask", ask)
    with module_args(args), pytest.raises((ExitJson, FailJson)) as info:
        zookeeper_info.main()
    return info.type, info.value.args[0]


def test_srvr_reports_the_mode(monkeypatch):
    kind, result = run(monkeypatch, {"command": "srvr"}, ["Zookeeper version: 3.8.4\nMode: follower\n"])
    assert kind is ExitJson
    assert (result["mode"], result["serving"], result["changed"]) == ("follower", True, False)


def test_a_silent_server_is_not_serving_without_waiting(monkeypatch):
    kind, result = run(monkeypatch, {"command": "srvr"}, [ConnectionRefusedError("refused")])
    assert kind is ExitJson
    assert (result["mode"], result["serving"]) == (None, False)


def test_wait_until_the_leader_has_its_followers(monkeypatch):
    answers = [ConnectionRefusedError("refused"), "This ZooKeeper instance is not currently serving requests\n",
               MNTR_LEADER % 1, MNTR_LEADER % 2]
    kind, result = run(monkeypatch, {"command": "mntr", "wait_serving": True, "expected_followers": 2}, answers)
    assert kind is ExitJson
    assert result["mode"] == "leader" and result["answer"]["zk_synced_followers"] == "2"
    assert [p.strip().split(" ", 1)[1] for p in result["progress"]][:2] == ["not answering: refused", "not serving"]


def test_timeout(monkeypatch):
    kind, result = run(monkeypatch, {"wait_serving": True, "timeout": 0}, [ConnectionRefusedError("refused")])
    assert kind is FailJson
    assert "is not serving after 0s" in result["msg"]


def test_word_not_whitelisted(monkeypatch):
    kind, result = run(monkeypatch, {"command": "mntr"}, ["mntr is not executed because it is not in the whitelist.\n"])
    assert kind is FailJson
    assert "four-letter-word whitelist" in result["msg"]


def test_ruok(monkeypatch):
    kind, result = run(monkeypatch, {"command": "ruok"}, ["imok"])
    assert kind is ExitJson and result["serving"] is True
