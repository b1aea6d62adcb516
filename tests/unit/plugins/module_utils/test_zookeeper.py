# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of module_utils.zookeeper: zoo.cfg as data, the connect string, four-letter words, the
restart order, the ZooKeeper-mode checks and the migration state."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils import zookeeper as zk
from ansible_collections.kafkaops.platform.plugins.module_utils.zookeeper import ZookeeperError

SERVERS = [{"myid": 3, "address": "10.0.0.3"}, {"myid": 1, "address": "10.0.0.1"}, {"myid": 2, "address": "10.0.0.2"}]


def spec(**changes):
    base = {
        "myid": 2,
        "servers": SERVERS,
        "data_dir": "/var/lib/zookeeper/data",
        "data_log_dir": "/var/lib/zookeeper/txlog",
        "four_letter_words": ["srvr", "mntr"],
        "admin_server": {"enabled": True, "port": 8080, "address": "127.0.0.1"},
        "defaults": {"tickTime": 2000, "initLimit": 10},
        "security": {"clientPort": "2181"},
        "overrides": {},
    }
    for key, value in changes.items():
        if value is ...:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def test_zoo_cfg_of_a_three_server_ensemble():
    assert zk.zoo_cfg(spec()) == {
        "tickTime": "2000",
        "initLimit": "10",
        "dataDir": "/var/lib/zookeeper/data",
        "dataLogDir": "/var/lib/zookeeper/txlog",
        "4lw.commands.whitelist": "srvr,mntr",
        "admin.enableServer": "true",
        "admin.serverPort": "8080",
        "admin.serverAddress": "127.0.0.1",
        "server.1": "10.0.0.1:2888:3888",
        "server.2": "10.0.0.2:2888:3888",
        "server.3": "10.0.0.3:2888:3888",
        "clientPort": "2181",
    }


def test_zoo_cfg_standalone_and_overrides():
    overrides = {"tickTime": 3000, "initLimit": None, "autopurge.purgeInterval": 1}
    result = zk.zoo_cfg(spec(myid=1, servers=[{"myid": 1, "address": "zk1"}], admin_server={"enabled": False},
                             four_letter_words="srvr, ruok", overrides=overrides))
    assert not [k for k in result if k.startswith("server.")]
    assert result["admin.enableServer"] == "false" and "admin.serverPort" not in result
    assert result["4lw.commands.whitelist"] == "srvr,ruok"
    assert result["tickTime"] == "3000" and "initLimit" not in result and result["autopurge.purgeInterval"] == "1"


def test_zoo_cfg_security_settings_and_ipv6():
    result = zk.zoo_cfg(spec(servers=[{"myid": 1, "address": "fd00::1"}, {"myid": 2, "address": "fd00::2"},
                                      {"myid": 3, "address": "fd00::3"}],
                             security={"secureClientPort": "2182", "sslQuorum": "true"}, quorum_port=2890))
    assert result["server.1"] == "[fd00::1]:2890:3888"
    assert result["secureClientPort"] == "2182" and result["sslQuorum"] == "true"


def test_zoo_cfg_renders_as_java_properties():
    text = props.to_java_properties(zk.zoo_cfg(spec()))
    assert "server.1=10.0.0.1:2888:3888\n" in text
    assert props.parse_java_properties(text) == zk.zoo_cfg(spec())


@pytest.mark.parametrize("changes,message", [
    ({"myid": 4}, r"myid 4 is not one of the ensemble's servers \(1, 2, 3\)"),
    ({"servers": []}, "servers must be a non-empty list"),
    ({"servers": [{"myid": 1, "address": "a"}, {"myid": 1, "address": "b"}], "myid": 1}, "myids repeat: 1, 1"),
    ({"servers": [{"myid": 0, "address": "a"}], "myid": 0}, r"servers\[0\].myid must be 1-255, got 0"),
    ({"servers": [{"myid": 1}], "myid": 1}, r"servers\[0\] \(myid 1\) has no address"),
    ({"data_log_dir": "txlog"}, "data_log_dir must be an absolute path"),
    ({"four_letter_words": ["srvr", "kill"]}, "unknown four-letter word"),
    ({"quorum_port": 3888}, "quorum_port and election_port are both 3888"),
    ({"security": {}}, "no client port"),
    ({"overrides": {"dataDir": "/tmp"}}, "dataDir comes from the ensemble"),
    ({"overrides": {"server.4": "x:1:2"}}, "server.4 comes from the ensemble"),
    ({"overrides": {"bad key": 1}}, "invalid setting name"),
    ({"rack": "a"}, "unknown keys in the ZooKeeper server description: rack"),
    ({"myid": True}, "myid must be an integer"),
    ({"myid": 2.5}, "myid must be an integer, got 2.5"),
    ({"myid": "2.5"}, "myid must be an integer, got '2.5'"),
    ({"myid": "1_0"}, "myid must be an integer, got '1_0'"),
    ({"servers": [{"myid": 1.5, "address": "a"}], "myid": 1}, r"servers\[0\].myid must be an integer, got 1.5"),
    ({"servers": [{"myid": 256, "address": "a"}], "myid": 256}, r"servers\[0\].myid must be 1-255, got 256"),
    ({"servers": [{"myid": 1, "address": "a\n"}], "myid": 1}, r"servers\[0\].address 'a\\n' holds a control character"),
    ({"servers": [{"myid": 1, "address": ["a"]}], "myid": 1}, r"servers\[0\].address must be a string, got a list"),
    ({"data_dir": "/var/lib/zookeeper\n"}, r"data_dir '/var/lib/zookeeper\\n' holds a control character"),
    ({"data_dir": ["/d"]}, "data_dir must be a string, got a list"),
    ({"quorum_port": "x"}, "quorum_port must be a port number"),
    ({"four_letter_words": [["srvr"]]}, r"unknown four-letter word\(s\) \['srvr'\]"),
    ({"four_letter_words": 7}, "four_letter_words must be a list, got an integer"),
    ({"admin_server": ["enabled"]}, "admin_server must be a mapping, got a list"),
    ({"admin_server": {"enabled": True, "address": "0.0.0.0\n"}}, r"admin_server.address '0.0.0.0\\n' holds a control"),
    ({"security": "clientPort=2181"}, "security must be a mapping"),
    ({"defaults": ["tickTime"]}, "defaults must be a mapping, got a list"),
    ({"overrides": "a=b"}, "overrides must be a mapping"),
])
def test_zoo_cfg_errors(changes, message):
    with pytest.raises(ZookeeperError, match=message):
        zk.zoo_cfg(spec(**changes))


def test_zookeeper_connect():
    assert zk.zookeeper_connect(SERVERS, 2181, "/kafka") == "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181/kafka"
    assert zk.zookeeper_connect([{"myid": 1, "address": "::1"}], "2182") == "[::1]:2182"
    for chroot in ("kafka", "/kafka/", "/ka fka"):
        with pytest.raises(ZookeeperError, match="chroot"):
            zk.zookeeper_connect(SERVERS, 2181, chroot)
    with pytest.raises(ZookeeperError, match="port must be 1-65535"):
        zk.zookeeper_connect(SERVERS, 0)


@pytest.mark.parametrize("chroot, message", [
    ("/kafka\n", "chroot '/kafka\\n' holds a control character"),
    (["/kafka"], "chroot must be a string, got a list"),
])
def test_zookeeper_connect_refuses_malformed_chroots(chroot, message):
    with pytest.raises(ZookeeperError) as caught:
        zk.zookeeper_connect(SERVERS, 2181, chroot)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("port", [2181.5, "2181.0", True, "\u00b2"])
def test_zookeeper_connect_refuses_ports_that_are_no_integers(port):
    with pytest.raises(ZookeeperError, match="port must be an integer"):
        zk.zookeeper_connect(SERVERS, port)


SRVR = """Zookeeper version: 3.8.4-9316c2a7a97e1666d8f4593f34dd6fc36ecc436c, built on 2024-02-12 22:16 UTC
Latency min/avg/max: 0/0.5/3
Received: 12
Sent: 11
Connections: 1
Outstanding: 0
Zxid: 0x100000010
Mode: follower
Node count: 30
"""
MNTR = "zk_version\t3.8.4\nzk_server_state\tleader\nzk_synced_followers\t2\nzk_znode_count\t30\n"


def test_parse_four_letter_words():
    srvr = zk.parse_four_letter_word(SRVR)
    assert srvr["mode"] == "follower" and srvr["serving"] and srvr["Zxid"] == "0x100000010"
    mntr = zk.parse_four_letter_word(MNTR)
    assert (mntr["mode"], mntr["zk_synced_followers"]) == ("leader", "2")
    assert zk.parse_four_letter_word("This ZooKeeper instance is not currently serving requests\n") == {
        "serving": False, "mode": None}
    assert zk.parse_four_letter_word("") == {"mode": None, "serving": False}
    with pytest.raises(ZookeeperError, match="whitelist"):
        zk.parse_four_letter_word("mntr is not executed because it is not in the whitelist.\n")


def test_restart_order_takes_the_leader_last():
    assert zk.restart_order({"z3": "leader", "z1": "follower", "z2": "follower"}) == ["z1", "z2", "z3"]
    assert zk.restart_order({"z1": "leader", "z2": None, "z3": "follower"}) == ["z2", "z3", "z1"]
    assert zk.restart_order({"z1": "standalone"}) == ["z1"]
    assert zk.restart_order({}) == []
    with pytest.raises(ZookeeperError, match="more than one server says it is the leader"):
        zk.restart_order({"z1": "leader", "z2": "leader"})


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.sampled_from([None, "follower", "observer"]), max_size=6),
       st.booleans())
def test_restart_order_is_a_permutation_with_the_leader_last(modes, with_leader):
    if with_leader:
        modes = dict(modes, leader_host="leader")
    order = zk.restart_order(modes)
    assert sorted(order) == sorted(modes)
    if with_leader:
        assert order[-1] == "leader_host"


def test_ensemble_errors():
    good = [{"host": "z%d" % i, "myid": i, "address": "z%d" % i} for i in (1, 2, 3)]
    assert zk.ensemble_errors(good) == []
    assert zk.ensemble_errors(good[:1]) == []
    assert zk.ensemble_errors([]) == ["ZooKeeper mode needs an ensemble: put 1, 3 or 5 hosts in the zookeeper group"]
    assert zk.ensemble_errors(good[:2]) == [
        "2 ZooKeeper servers: an ensemble has 1, 3 or 5 servers (2 tolerate no more failures than 1)"]
    seven = [{"host": "z%d" % i, "myid": i, "address": "z%d" % i} for i in range(1, 8)]
    assert zk.ensemble_errors(seven) == ["7 ZooKeeper servers: an ensemble has 1, 3 or 5 servers; more slow every write"]
    bad = [{"host": "z1", "myid": 1}, {"host": "z2", "myid": 1}, {"host": "z3", "myid": None}]
    assert zk.ensemble_errors(bad) == [
        "z3: zookeeper_myid is not set; give every ZooKeeper host a unique id from 1 to 255",
        "zookeeper_myid 1 is used by z1 and z2; every ZooKeeper server needs its own"]
    assert zk.ensemble_errors([{"host": "z1", "myid": 300}]) == [
        "z1: zookeeper_myid must be an integer from 1 to 255, got 300"]
    assert "needs Kafka 3.x" in zk.ensemble_errors(good, "4.0.0")[0]


@pytest.mark.parametrize("servers, message", [
    (None, "the ZooKeeper servers must be a list, got null"),
    ("z1", "the ZooKeeper servers must be a list, got a string ('z1')"),
    ([None], "the ZooKeeper servers[0] must be a mapping, got null"),
    ([{"myid": 1}], "the ZooKeeper servers[0] has no host"),
])
def test_ensemble_errors_refuse_malformed_servers(servers, message):
    with pytest.raises(ZookeeperError) as caught:
        zk.ensemble_errors(servers)
    assert str(caught.value) == message


def test_malformed_modes_properties_and_output_are_refused():
    with pytest.raises(ZookeeperError, match="modes .host -> mode. must be a mapping, got a list"):
        zk.restart_order(["z1"])
    with pytest.raises(ZookeeperError, match="modes must map host names to a mode"):
        zk.restart_order({"z1": ["leader"]})
    with pytest.raises(ZookeeperError, match="kafka_broker_properties must be a mapping, got a list"):
        zk.mode_errors("kraft", ["zookeeper.connect"])
    assert zk.mode_errors("kraft", {1: "x"}) == []
    with pytest.raises(ZookeeperError, match="the server.properties must be a mapping, got a string"):
        zk.metadata_mode("process.roles=broker")
    with pytest.raises(ZookeeperError, match="the JmxTool output must be text, got a list"):
        zk.migration_state(["1"])
    with pytest.raises(ZookeeperError, match="not a number"):
        zk.migration_state(JMX % "inf")


def test_mode_errors():
    assert zk.mode_errors("zookeeper", {"num.partitions": 3}, "3.9.2") == []
    assert zk.mode_errors("zookeeper", {"controller.listener.names": "C"}) == [
        "kafka_broker_properties sets controller.listener.names, which only KRaft nodes read; ZooKeeper mode takes "
        "broker.id from kafka_node_id and zookeeper.connect from the zookeeper group"]
    assert zk.mode_errors("zookeeper", {"node.id": None}) == []  # None removes a generated key: harmless
    assert zk.mode_errors("kraft", {"zookeeper.connect": "zk:2181"})[0].startswith(
        "kafka_broker_properties sets zookeeper.connect")
    assert zk.mode_errors("kraft", {}, "4.3.1") == []
    assert zk.mode_errors("raft", {}) == ["platform_kafka_mode must be kraft or zookeeper, got 'raft'"]


@pytest.mark.parametrize("properties,mode", [
    (None, "absent"),
    ({}, "absent"),
    ({"broker.id": "1", "zookeeper.connect": "zk:2181/kafka"}, "zookeeper"),
    ({"broker.id": "1", "zookeeper.connect": "zk:2181", "zookeeper.metadata.migration.enable": "true"}, "migration"),
    ({"node.id": "1", "process.roles": "controller", "zookeeper.metadata.migration.enable": "TRUE "}, "migration"),
    ({"node.id": "1", "process.roles": "broker"}, "kraft"),
    ({"node.id": "1", "process.roles": "controller", "zookeeper.metadata.migration.enable": "false"}, "kraft"),
    ({"log.dirs": "/data"}, "absent"),
])
def test_metadata_mode(properties, mode):
    assert zk.metadata_mode(properties) == mode


JMX = ('Trying to connect to JMX url: service:jmx:rmi:///jndi/rmi://127.0.0.1:9999/jmxrmi.\n'
       '"time","kafka.controller:type=KafkaController,name=ZkMigrationState:Value"\n'
       '1732520000000,%s\n')


@pytest.mark.parametrize("value,state,migrated", [
    ("1", "MIGRATION", True), ("3", "POST_MIGRATION", True), ("2", "PRE_MIGRATION", False), ("0", "NONE", False),
    ("4", "ZK", False), ("9", "UNKNOWN(9)", False), ("1.0", "MIGRATION", True),
])
def test_migration_state(value, state, migrated):
    assert zk.migration_state(JMX % value) == {"value": int(float(value)), "state": state, "migrated": migrated}


@pytest.mark.parametrize("text", ["", None, "Trying to connect\n", '"time","x:ZkMigrationState:Value"\n',
                                  '"time","a:Value"\n1,2\n'])
def test_migration_state_without_an_answer(text):
    with pytest.raises(ZookeeperError, match="ZkMigrationState"):
        zk.migration_state(text)


def test_migration_state_not_a_number():
    with pytest.raises(ZookeeperError, match="not a number"):
        zk.migration_state(JMX % "abc")
