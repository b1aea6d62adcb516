# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_consumer_group's flow with a fake admin client: describe, reset (check mode, idempotence), refusals, delete."""

from __future__ import annotations

import types

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import consumer_groups as cg
from ansible_collections.kafkaops.platform.plugins.modules import kafka_consumer_group as mod
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import FailJson, FakeAdminBase, raise_on_exit, run_main


class FakeAdmin(FakeAdminBase):
    def __init__(self, state="Empty", members=(), committed=None):
        self.state, self.members = state, list(members)
        self.committed = dict(committed if committed is not None else {("orders", 0): 5, ("orders", 1): 2})
        self.log = []

    def __call__(self, bootstrap_servers, **kwargs):
        self.log.append(("init", bootstrap_servers))
        return self

    def describe_group(self, group_id):
        return {"group_id": group_id, "state": self.state, "protocol_type": "consumer", "protocol": "range",
                "members": [dict(m, metadata=b"", assignment=b"") for m in self.members]}

    def group_offsets(self, group_id):
        return dict(self.committed)

    def partition_offsets(self, partitions, spec):
        table = {"earliest": 1, "latest": 10}
        return {p: (table[spec] if isinstance(spec, str) else 7) for p in partitions}

    def topics(self):
        return {"orders": [{}, {}]}

    def alter_group_offsets(self, group_id, offsets):
        self.log.append(("alter", offsets))
        self.committed.update(offsets)

    def remove_group_members(self, group_id, members):
        self.log.append(("remove", [m["member_id"] for m in members]))
        self.members, self.state = [], "Empty"

    def delete_group(self, group_id):
        self.log.append(("delete", group_id))
        self.committed, self.state = {}, "Dead"


def module(check=False, diff=False, **params):
    full = dict(group="billing", state="present", reset_to=None, topics=None, timestamp=None, offsets=None, force=False,
                bootstrap_servers=["b1:9092"], security={}, identity=None, listener=None, request_timeout=30)
    full.update(params)
    return types.SimpleNamespace(params=full, check_mode=check, _diff=diff)


def test_describe_reports_lag_and_changes_nothing():
    admin = FakeAdmin()
    result = mod.run(module(), admin)
    assert result["changed"] is False and result["deleted"] is False and "reset" not in result
    assert result["group"]["offsets"][0] == {"topic": "orders", "partition": 0, "committed": 5, "end": 10, "lag": 5}
    assert result["total_lag"] == 13
    assert [entry[0] for entry in admin.log] == ["init"]


def test_reset_in_check_mode_then_for_real_then_again():
    admin = FakeAdmin()
    checked = mod.run(module(check=True, diff=True, reset_to="earliest"), admin)
    assert checked["changed"] is True and checked["reset"] == [
        {"topic": "orders", "partition": 0, "before": 5, "after": 1}, {"topic": "orders", "partition": 1, "before": 2, "after": 1}]
    assert checked["diff"] == {"before": "orders-0: 5\norders-1: 2\n", "after": "orders-0: 1\norders-1: 1\n",
                               "before_header": "group billing", "after_header": "group billing"}
    assert not [entry for entry in admin.log if entry[0] == "alter"]
    done = mod.run(module(reset_to="earliest"), admin)
    assert done["changed"] is True and ("alter", {("orders", 0): 1, ("orders", 1): 1}) in admin.log
    assert mod.run(module(reset_to="earliest"), admin)["changed"] is False
    assert mod.run(module(reset_to="timestamp", timestamp=1), admin)["reset"][0]["after"] == 7


def test_active_members_are_refused_unless_forced():
    members = [{"member_id": "m-1", "group_instance_id": None, "client_id": "billing-1", "client_host": "/10.0.0.7"}]
    admin = FakeAdmin(state="Stable", members=members)
    with pytest.raises(cg.ConsumerGroupError, match=r"cannot reset its offsets while the group is Stable with 1 active"):
        mod.run(module(reset_to="latest"), admin)
    assert [entry for entry in admin.log if entry[0] != "init"] == []
    forced = mod.run(module(reset_to="latest", force=True), admin)
    assert forced["changed"] is True and admin.log[-2:] == [("remove", ["m-1"]), ("alter", {("orders", 0): 10, ("orders", 1): 10})]


def test_delete_and_delete_again():
    admin = FakeAdmin()
    assert mod.run(module(state="absent", check=True), admin)["deleted"] is True
    assert ("delete", "billing") not in admin.log
    assert mod.run(module(state="absent"), admin)["changed"] is True and ("delete", "billing") in admin.log
    again = mod.run(module(state="absent"), admin)
    assert again["changed"] is False and again["deleted"] is False


def test_options_that_go_together(monkeypatch):
    raise_on_exit(monkeypatch)
    base = {"bootstrap_servers": ["b1:9092"], "group": "billing"}
    assert "timestamp" in run_main(mod.main, dict(base, reset_to="timestamp"), expect=FailJson)["msg"]
    assert "offsets" in run_main(mod.main, dict(base, reset_to="offset"), expect=FailJson)["msg"]
    with pytest.raises(cg.ConsumerGroupError, match="reset_to is for state=present"):
        mod.run(module(state="absent", reset_to="earliest"), FakeAdmin())
