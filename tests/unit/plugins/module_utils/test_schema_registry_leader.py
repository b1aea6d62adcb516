# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Which Schema Registry instance leads, from group descriptions as KafkaAdmin.describe_group
returns them. The descriptions are FAKES written here in the format Schema Registry's source
defines (protocol type "sr"; identity and assignment JSON: SchemaRegistryIdentity,
SchemaRegistryProtocol.Assignment); a real broker answers in tests/integration
(test_schema_registry_leader.py, with a stand-in group member). Also the inventory host of a
leader and the restart order built on it."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import confluent as cf
from ansible_collections.kafkaops.platform.plugins.module_utils import schema_registry as sr


def ident(host, port=8081, eligible=True, scheme="http"):
    """An instance's identity as the registry serializes it (Jackson, NON_EMPTY)."""
    return {"version": 1, "host": host, "port": port, "master_eligibility": eligible, "scheme": scheme}


def elect(members):
    """The assignment the registry's assigning member computes: the leader-eligible member with the
    smallest URL (non-sticky election), the same JSON for every member."""
    eligible = [("%s://%s:%d" % (i.get("scheme", "http"), i["host"], i["port"]), mid, i) for mid, i in members.items()
                if i["master_eligibility"]]
    assignment = {"version": 1, "error": 0}
    if eligible:
        _url, mid, chosen = min(eligible)
        assignment.update(master=mid, master_identity=chosen)
    return assignment


def group(members, assignment=None, state="Stable", protocol_type="sr", raw=None):
    """A description as KafkaAdmin.describe_group returns it; ``raw`` replaces a member's bytes."""
    assignment = elect(members) if assignment is None else assignment
    described = []
    for mid, identity in members.items():
        entry = {"member_id": mid, "group_instance_id": None, "client_id": "sr-1", "client_host": "/10.0.0.1",
                 "metadata": json.dumps(identity).encode(), "assignment": json.dumps(assignment).encode()}
        entry.update((raw or {}).get(mid, {}))
        described.append(entry)
    return {"group_id": "schema-registry", "state": state, "protocol_type": protocol_type, "protocol": "v0",
            "members": described}


THREE = {"sr-1-a": ident("10.0.0.12"), "sr-1-b": ident("10.0.0.11", eligible=False), "sr-1-c": ident("10.0.0.13")}


def test_the_leader_is_read_from_the_assignment():
    found = sr.group_leader(group(THREE))
    assert found["reason"] is None
    assert found["leader"] == {"host": "10.0.0.12", "port": 8081, "scheme": "http", "url": "http://10.0.0.12:8081",
                               "leader_eligible": True, "member_id": "sr-1-a"}
    assert (found["group"], found["state"]) == ("schema-registry", "Stable")
    assert [m["url"] for m in found["members"]] == ["http://10.0.0.12:8081", "http://10.0.0.11:8081",
                                                    "http://10.0.0.13:8081"]
    assert [m["leader_eligible"] for m in found["members"]] == [True, False, True]


def test_the_assignment_decides_not_the_members_eligibility():
    """With leader.election.sticky the leader is not the smallest URL: the assignment is what counts."""
    sticky = {"version": 1, "error": 0, "master": "sr-1-c", "master_identity": THREE["sr-1-c"]}
    assert sr.group_leader(group(THREE, assignment=sticky))["leader"]["host"] == "10.0.0.13"


def test_https_and_unknown_keys():
    members = {"m1": dict(ident("sr1.example.com", 8443, scheme="https"), leader=True, future_key=[1])}
    assignment = dict(elect(members), version=2, extra={"x": 1})
    leader = sr.group_leader(group(members, assignment=assignment))["leader"]
    assert leader["url"] == "https://sr1.example.com:8443"


def test_a_missing_scheme_is_http_as_in_the_registry():
    identity = {"version": 1, "host": "sr1", "port": 8081, "master_eligibility": True}
    members = {"m1": identity}
    assert sr.group_leader(group(members))["leader"]["url"] == "http://sr1:8081"


@pytest.mark.parametrize("description,reason", [
    ({"group_id": "schema-registry", "state": "Dead", "protocol_type": "", "protocol": "", "members": []},
     "group schema-registry has no members (state Dead): no Schema Registry instance is running in it"),
    ({"group_id": "schema-registry", "state": "Empty", "protocol_type": "sr", "protocol": "", "members": []},
     "group schema-registry has no members (state Empty)"),
    (group({"consumer-1": ident("h")}, protocol_type="consumer"),
     "group schema-registry has protocol type 'consumer', not Schema Registry's 'sr'"),
    (group(THREE, state="PreparingRebalance"), "group schema-registry is rebalancing (PreparingRebalance)"),
    (group(THREE, state="CompletingRebalance"), "is rebalancing (CompletingRebalance)"),
    (group(THREE, raw={"sr-1-b": {"assignment": b""}}), "member sr-1-b of group schema-registry has no assignment yet"),
    (group(THREE, raw={"sr-1-c": {"assignment": b"\x00\x01\x00\x00"}}),
     "the assignment of member sr-1-c of group schema-registry is not Schema Registry's JSON"),
    (group(THREE, raw={"sr-1-c": {"assignment": b"[1, 2]"}}), "is not Schema Registry's JSON"),
    (group(THREE, raw={"sr-1-c": {"assignment": json.dumps(elect({"sr-1-c": THREE["sr-1-c"]})).encode()}}),
     "the members of group schema-registry were told different leaders"),
    (group(THREE, assignment=dict(elect(THREE), error=1)),
     "Schema Registry's election failed with error 1 (two instances advertise the same URL"),
    (group(THREE, assignment=dict(elect(THREE), error=7)), "failed with error 7 (unknown to this collection)"),
    (group({"m1": ident("h", eligible=False)}),
     "group schema-registry has no leader: no member may lead (leader.eligibility is false on every instance)"),
    (group(THREE, assignment={"version": 1, "error": 0, "master": "sr-1-a", "master_identity": {"host": "h"}}),
     "the leader in group schema-registry's assignment is not an identity this collection knows"),
    (group(THREE, assignment={"version": 1, "error": 0, "master": "sr-1-gone", "master_identity": ident("10.0.0.9")}),
     "group schema-registry's leader sr-1-gone is no longer a member"),
])
def test_no_leader_and_why(description, reason):
    found = sr.group_leader(description)
    assert found["leader"] is None
    assert reason in found["reason"]


def test_members_with_unreadable_metadata_are_left_out_of_the_list():
    found = sr.group_leader(group(THREE, raw={"sr-1-b": {"metadata": b"\xff\xfe"}}))
    assert [m["member_id"] for m in found["members"]] == ["sr-1-a", "sr-1-c"]
    assert found["leader"]["member_id"] == "sr-1-a"


@pytest.mark.parametrize("value", [None, [], "sr1:8081", {"host": "", "port": 8081}, {"host": "h", "port": "8081"},
                                   {"host": "h", "port": True}, {"host": "h", "port": 1, "scheme": 5}])
def test_what_is_no_identity(value):
    assert sr.identity(value) is None


def test_read_leader_describes_the_group_through_the_admin_client():
    class Admin:
        asked = []

        def describe_group(self, group_id):
            self.asked.append(group_id)
            return group(THREE)

    admin = Admin()
    assert sr.read_leader(admin, "schema-registry")["leader"]["member_id"] == "sr-1-a"
    assert admin.asked == ["schema-registry"]


# -- from the leader's identity to the inventory host, and the order a rolling restart takes ---------
URLS = {"sr1": "http://10.0.0.11:8081", "sr2": "http://10.0.0.12:8081", "sr3": "https://10.0.0.13:8081"}


@pytest.mark.parametrize("leader,urls,host", [
    ({"host": "10.0.0.12", "port": 8081}, URLS, "sr2"),
    ({"host": "10.0.0.13", "port": 8081, "scheme": "http"}, URLS, "sr3"),  # this run turns TLS on
    ({"host": "10.0.0.12", "port": 9081}, URLS, "sr2"),  # this run moves the port; one host has the address
    ({"host": "10.0.0.99", "port": 8081}, URLS, None),  # an instance outside the play
    (None, URLS, None),
    ({}, URLS, None),
    ({"host": "10.0.0.12", "port": 9081}, {"a": "http://10.0.0.12:8081", "b": "http://10.0.0.12:8082"}, None),
    ({"host": "10.0.0.12", "port": 8082}, {"a": "http://10.0.0.12:8081", "b": "http://10.0.0.12:8082"}, "b"),
    ({"host": "SR1.Example.com", "port": 8081}, {"a": "http://sr1.example.com:8081/"}, "a"),
    ({"host": "fd00::12", "port": 8081}, {"a": "http://[fd00::12]:8081", "b": "http://fd00::13:8081"}, "a"),
    ({"host": "fd00::13", "port": 8081}, {"a": "http://[fd00::12]:8081", "b": "http://fd00::13:8081"}, "b"),
    ({"host": "h", "port": 8081}, {"a": "http://h", "b": None}, "a"),
])
def test_leader_host(leader, urls, host):
    assert cf.schema_registry_leader_host(leader, urls) == host


def test_the_current_leader_restarts_last_followers_first():
    found = sr.group_leader(group({"m1": ident("10.0.0.11"), "m2": ident("10.0.0.12"), "m3": ident("10.0.0.13")},
                                  assignment={"version": 1, "error": 0, "master": "m2",
                                              "master_identity": ident("10.0.0.12")}))
    leader = cf.schema_registry_leader_host(found["leader"], URLS)
    assert cf.schema_registry_roll_order(["sr1", "sr2", "sr3", "sr4"], {"sr4": False}, leader) == ["sr4", "sr1", "sr3", "sr2"]
    # unknown leader: eligibility alone, as before
    unknown = sr.group_leader({"group_id": "schema-registry", "state": "Dead", "members": []})
    assert cf.schema_registry_leader_host(unknown["leader"], URLS) is None
    assert cf.schema_registry_roll_order(["sr1", "sr2", "sr3", "sr4"], {"sr4": False}, None) == ["sr4", "sr1", "sr2", "sr3"]


addresses = st.lists(st.from_regex(r"10\.0\.[0-9]{1,2}\.[0-9]{1,2}", fullmatch=True), min_size=1, max_size=6, unique=True)


@given(addresses, st.data())
def test_every_leader_elected_the_registrys_way_is_found_and_restarts_last(addrs, data):
    """Whatever the instances and their eligibility, the leader read back is the one the registry's
    election chose, it maps to its own host, and that host is the last of the roll."""
    eligible = data.draw(st.lists(st.booleans(), min_size=len(addrs), max_size=len(addrs)))
    members = {"member-%d" % i: ident(a, eligible=e) for i, (a, e) in enumerate(zip(addrs, eligible))}
    hosts = {"host-%d" % i: "http://%s:8081" % a for i, a in enumerate(addrs)}
    found = sr.group_leader(group(members))
    if not any(eligible):
        assert found["leader"] is None and "no member may lead" in found["reason"]
        return
    expected = min("http://%s:8081" % a for a, e in zip(addrs, eligible) if e)
    assert found["leader"]["url"] == expected
    host = cf.schema_registry_leader_host(found["leader"], hosts)
    assert hosts[host] == expected
    order = cf.schema_registry_roll_order(sorted(hosts), {"host-%d" % i: e for i, e in enumerate(eligible)}, host)
    assert order[-1] == host and sorted(order) == sorted(hosts)
