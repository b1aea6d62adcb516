# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of module_utils.topology: the processes an inventory describes, the preflight checks and the
choice of the cluster id."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import topology as topo
from ansible_collections.kafkaops.platform.plugins.module_utils.topology import TopologyError
from ansible_collections.kafkaops.platform.plugins.module_utils.zookeeper import ZookeeperError

CLUSTER_ID = "AQIDBAUGBwgJCgsMDQ4PEA"


def host(controller=False, broker=False, node_id=None, address=None, rack=None):
    return {"controller": controller, "broker": broker, "node_id": node_id, "address": address, "rack": rack}


def separate_hosts():
    return {
        "c3": host(controller=True, node_id=3, address="10.0.0.3"),
        "c1": host(controller=True, node_id=1, address="10.0.0.1"),
        "c2": host(controller=True, node_id=2, address="10.0.0.2"),
        "b12": host(broker=True, node_id=12, address="10.0.1.12", rack="a"),
        "b10": host(broker=True, node_id=10, address="10.0.1.10", rack="b"),
        "b11": host(broker=True, node_id=11, address="10.0.1.11", rack="c"),
    }


def combined_hosts():
    return {name: host(controller=True, broker=True, node_id=index, address=name + ".example.com")
            for index, name in enumerate(["k1", "k2", "k3"], start=1)}


# --------------------------------------------------------------------------------------------------
# cluster_topology
# --------------------------------------------------------------------------------------------------

def test_separate_controllers_and_brokers():
    topology = topo.cluster_topology(separate_hosts(), controller_port=9093)
    assert topology["controllers"] == [
        {"host": "c1", "id": 1, "address": "10.0.0.1", "port": 9093},
        {"host": "c2", "id": 2, "address": "10.0.0.2", "port": 9093},
        {"host": "c3", "id": 3, "address": "10.0.0.3", "port": 9093},
    ]
    assert topology["brokers"] == [
        {"host": "b10", "id": 10, "address": "10.0.1.10", "rack": "b"},
        {"host": "b11", "id": 11, "address": "10.0.1.11", "rack": "c"},
        {"host": "b12", "id": 12, "address": "10.0.1.12", "rack": "a"},
    ]
    assert topology["processes"]["c1"] == {"roles": ["controller"], "node_id": 1, "address": "10.0.0.1", "rack": None}
    assert topology["processes"]["b12"] == {"roles": ["broker"], "node_id": 12, "address": "10.0.1.12", "rack": "a"}
    assert sorted(topology["processes"]) == ["b10", "b11", "b12", "c1", "c2", "c3"]


def test_combined_hosts_run_one_process_with_both_roles():
    topology = topo.cluster_topology(combined_hosts(), controller_port="19093")
    assert [c["host"] for c in topology["controllers"]] == ["k1", "k2", "k3"]
    assert [b["host"] for b in topology["brokers"]] == ["k1", "k2", "k3"]
    assert {c["port"] for c in topology["controllers"]} == {19093}
    assert all(p["roles"] == ["broker", "controller"] for p in topology["processes"].values())
    assert topology["processes"]["k2"]["address"] == "k2.example.com"


def test_combined_off_refuses_a_host_in_both_groups():
    with pytest.raises(TopologyError, match="host k1 is in both kafka_controller and kafka_broker but combined mode "
                                            "is off"):
        topo.cluster_topology(combined_hosts(), controller_port=9093, combined=False)


def test_combined_off_is_fine_for_separate_groups():
    assert topo.cluster_topology(separate_hosts(), 9093, combined=False) == topo.cluster_topology(separate_hosts(), 9093)


def test_sorting_by_node_id_then_host_with_missing_ids_last():
    hosts = {
        "z": host(broker=True, node_id=1),
        "a": host(broker=True, node_id=2),
        "m": host(broker=True, node_id=1),
        "no-id-b": host(broker=True),
        "no-id-a": host(broker=True, node_id="x"),
    }
    topology = topo.cluster_topology(hosts, 9093)
    assert [b["host"] for b in topology["brokers"]] == ["m", "z", "a", "no-id-a", "no-id-b"]


def test_hosts_in_no_group_are_ignored_and_address_defaults_to_the_name():
    topology = topo.cluster_topology({"zk1": host(), "b1": host(broker=True, node_id=1, address="")}, 9093)
    assert list(topology["processes"]) == ["b1"]
    assert topology["brokers"][0]["address"] == "b1"
    assert topology["controllers"] == []


def test_empty_rack_is_no_rack():
    topology = topo.cluster_topology({"b1": host(broker=True, node_id=1, rack="")}, 9093)
    assert topology["brokers"][0]["rack"] is None
    assert topology["processes"]["b1"]["rack"] is None


@pytest.mark.parametrize("hosts, message", [
    (None, "hosts must be a mapping, got null"),
    ([], "hosts must be a mapping, got a list"),
    ({"k1": None}, "hosts['k1'] must be a mapping, got null"),
    ({"k1": "broker"}, "hosts['k1'] must be a mapping, got a string ('broker')"),
    ({1: {}}, "hosts: 1 is not a host name"),
])
def test_malformed_hosts_are_refused(hosts, message):
    with pytest.raises(TopologyError) as caught:
        topo.cluster_topology(hosts, 9093)
    assert str(caught.value) == message


@pytest.mark.parametrize("port", ["abc", None, 0, 65536, True, 9093.5, "9093\n1"])
def test_malformed_controller_ports_are_refused(port):
    with pytest.raises(TopologyError) as caught:
        topo.cluster_topology(separate_hosts(), port)
    assert str(caught.value) == "controller_port must be a port number (1-65535), got %r" % (port,)


def test_node_ids_out_of_range_sort_last():
    hosts = {"a": host(broker=True, node_id=2 ** 31), "b": host(broker=True, node_id=True), "c": host(broker=True, node_id=7)}
    assert [b["host"] for b in topo.cluster_topology(hosts, 9093)["brokers"]] == ["c", "a", "b"]


# --------------------------------------------------------------------------------------------------
# preflight_errors
# --------------------------------------------------------------------------------------------------

def errors_for(hosts, **settings):
    return topo.preflight_errors(topo.cluster_topology(hosts, 9093), settings)


def test_a_clean_cluster_has_no_errors():
    assert errors_for(separate_hosts()) == []
    assert errors_for(combined_hosts(), properties={"default.replication.factor": 3, "min.insync.replicas": "2",
                                                    "offsets.topic.replication.factor": "3"},
                      cluster_id=CLUSTER_ID, cluster_id_valid=True) == []
    single = {"dev": host(controller=True, broker=True, node_id=1, address="127.0.0.1")}
    assert errors_for(single, properties={"default.replication.factor": 1}) == []


def test_missing_negative_and_non_integer_node_ids():
    hosts = separate_hosts()
    hosts["b10"]["node_id"] = None
    hosts["b11"]["node_id"] = -1
    hosts["b12"]["node_id"] = "12"
    hosts["c1"]["node_id"] = True
    assert errors_for(hosts) == [
        "b10: kafka_node_id is not set; give every Kafka host a unique integer node id",
        "b11: kafka_node_id must be a non-negative integer, got -1",
        "b12: kafka_node_id must be a non-negative integer, got '12'",
        "c1: kafka_node_id must be a non-negative integer, got True",
    ]


@pytest.mark.parametrize("node_id, message", [
    (2 ** 31, "kafka_node_id 2147483648 is out of range: Kafka node ids are 0..2147483647"),
    (10 ** 100, "kafka_node_id %d is out of range: Kafka node ids are 0..2147483647" % 10 ** 100),
    (False, "kafka_node_id must be a non-negative integer, got False"),
    (1.0, "kafka_node_id must be a non-negative integer, got 1.0"),
])
def test_node_ids_kafka_refuses(node_id, message):
    hosts = separate_hosts()
    hosts["b10"]["node_id"] = node_id
    assert errors_for(hosts) == ["b10: " + message]
    hosts["b10"]["node_id"] = 2 ** 31 - 1
    assert errors_for(hosts) == []


@pytest.mark.parametrize("rack", ["a\n", "a\tb", 3, ["a"]])
def test_racks_with_control_characters_or_of_other_types(rack):
    hosts = separate_hosts()
    hosts["b10"]["rack"] = rack
    assert errors_for(hosts) == ["b10: kafka_broker_rack %r must be a name without control characters" % (rack,)]


def test_duplicate_node_ids():
    hosts = separate_hosts()
    hosts["b10"]["node_id"] = 1
    hosts["b11"]["node_id"] = 1
    assert errors_for(hosts) == [
        "kafka_node_id 1 is used by b10 and b11 and c1; node ids must be unique across controllers and brokers"]


def test_duplicate_addresses_ignore_case():
    hosts = separate_hosts()
    hosts["b10"]["address"] = "kafka.example.com"
    hosts["b11"]["address"] = "KAFKA.example.com"
    assert errors_for(hosts) == ["hosts b10, b11 all have the address kafka.example.com; each Kafka host needs its "
                                 "own address (platform_host_address)"]


@pytest.mark.parametrize("address", ["-bad", "bad-", "has space", "a/b", "host\n", "", "caf\xe9", "a..b;rm"])
def test_bad_addresses(address):
    hosts = separate_hosts()
    hosts["b10"]["address"] = address
    topology = topo.cluster_topology(hosts, 9093)
    topology["processes"]["b10"]["address"] = address  # cluster_topology puts the name in for ""
    assert topo.preflight_errors(topology) == [
        "b10: platform_host_address %r is not a host name or IP address" % address]


def test_non_string_address():
    topology = topo.cluster_topology(separate_hosts(), 9093)
    topology["processes"]["b10"]["address"] = ["10.0.0.1"]
    assert topo.preflight_errors(topology) == [
        "b10: platform_host_address ['10.0.0.1'] is not a host name or IP address"]


@pytest.mark.parametrize("address", ["kafka-1", "kafka_1.example.com", "10.1.2.3", "fe80::1", "::1", "[::1]",
                                     "[2001:db8::7]", "K1"])
def test_good_addresses(address):
    hosts = separate_hosts()
    hosts["b10"]["address"] = address
    assert errors_for(hosts) == []


@pytest.mark.parametrize("count,message", [
    (0, "no KRaft controllers: put 1, 3 or 5 hosts in the kafka_controller group"),
    (2, "2 controllers: a KRaft quorum needs an odd number (3 or 5); 2 tolerate no more failures than 1"),
    (4, "4 controllers: a KRaft quorum needs an odd number (3 or 5); 4 tolerate no more failures than 3"),
    (10, "10 controllers: a KRaft quorum needs an odd number (3 or 5); 10 tolerate no more failures than 9"),
    (11, "11 controllers: more than 9 voters slows every metadata commit; use 3 or 5"),
])
def test_controller_count(count, message):
    hosts = {"c%02d" % i: host(controller=True, node_id=i) for i in range(count)}
    hosts["b"] = host(broker=True, node_id=100)
    assert errors_for(hosts) == [message]


@pytest.mark.parametrize("count", [1, 3, 5, 7, 9])
def test_good_controller_counts(count):
    hosts = {"c%02d" % i: host(controller=True, node_id=i) for i in range(count)}
    hosts["b"] = host(broker=True, node_id=100)
    assert errors_for(hosts) == []


ENSEMBLE = [{"host": "z%d" % i, "myid": i, "address": "10.0.2.%d" % i} for i in (1, 2, 3)]


def test_zookeeper_mode():
    brokers = {"b%d" % i: host(broker=True, node_id=i) for i in range(3)}
    assert errors_for(brokers, mode="zookeeper", zookeeper=ENSEMBLE, version="3.9.2") == []
    assert errors_for(brokers, mode="zookeeper") == [
        "ZooKeeper mode needs an ensemble: put 1, 3 or 5 hosts in the zookeeper group"]
    # the kafka_controller group holds the migration's future controllers: checked like a KRaft quorum
    with_controllers = dict(brokers, c1=host(controller=True, node_id=9), c2=host(controller=True, node_id=8))
    assert errors_for(with_controllers, mode="zookeeper", zookeeper=ENSEMBLE) == [
        "2 controllers: a KRaft quorum needs an odd number (3 or 5); 2 tolerate no more failures than 1"]


def test_zookeeper_mode_rejects_kafka_4_and_kraft_settings():
    brokers = {"b%d" % i: host(broker=True, node_id=i) for i in range(3)}
    assert errors_for(brokers, mode="zookeeper", zookeeper=ENSEMBLE, version="4.3.1",
                      properties={"node.id": 3, "process.roles": "broker"}) == [
        "kafka_broker_properties sets node.id, process.roles, which only KRaft nodes read; ZooKeeper mode takes "
        "broker.id from kafka_node_id and zookeeper.connect from the zookeeper group",
        "platform_kafka_mode is zookeeper but platform_kafka_version is 4.3.1; Kafka 4 removed ZooKeeper mode: use "
        "3.9.x, or migrate to KRaft first (zookeeper_to_kraft.yml)"]


def test_kraft_mode_rejects_zookeeper_settings():
    assert errors_for(separate_hosts(), properties={"zookeeper.connect": "zk:2181"}) == [
        "kafka_broker_properties sets zookeeper.connect, which only ZooKeeper-mode brokers read; set "
        "platform_kafka_mode: zookeeper for a ZooKeeper cluster"]


def test_migration_needs_dedicated_controllers_and_an_ensemble():
    assert errors_for(combined_hosts(), mode="migration", zookeeper=ENSEMBLE) == [
        "k1, k2, k3: in both kafka_controller and kafka_broker; a ZooKeeper cluster migrates to dedicated KRaft "
        "controllers, so put the controllers on their own hosts"]
    brokers = {"b%d" % i: host(broker=True, node_id=i) for i in range(3)}
    assert errors_for(brokers, mode="migration", zookeeper=ENSEMBLE) == [
        "no KRaft controllers to migrate to: put 1, 3 or 5 hosts in the kafka_controller group"]
    assert errors_for(separate_hosts(), mode="migration", zookeeper=ENSEMBLE[:2]) == [
        "2 ZooKeeper servers: an ensemble has 1, 3 or 5 servers (2 tolerate no more failures than 1)"]


def test_unknown_mode():
    assert errors_for(separate_hosts(), mode="zk") == ["platform_kafka_mode must be kraft or zookeeper, got 'zk'"]


def test_no_brokers():
    controllers = {"c%d" % i: host(controller=True, node_id=i) for i in range(3)}
    assert errors_for(controllers) == ["no brokers: put at least one host in the kafka_broker group"]


def test_mixed_racks():
    hosts = separate_hosts()
    hosts["b10"]["rack"] = None
    hosts["b12"]["rack"] = ""
    assert errors_for(hosts) == ["some brokers have a rack (kafka_broker_rack) and some do not: b10, b12; give every "
                                 "broker a rack or none"]


def test_no_racks_at_all_is_fine():
    hosts = separate_hosts()
    for name in ("b10", "b11", "b12"):
        hosts[name]["rack"] = None
    assert errors_for(hosts) == []


REPLICATION_KEYS = ["default.replication.factor", "offsets.topic.replication.factor",
                    "transaction.state.log.replication.factor", "min.insync.replicas", "transaction.state.log.min.isr"]


@pytest.mark.parametrize("key", REPLICATION_KEYS)
def test_replication_settings_larger_than_the_cluster(key):
    # a minimum ISR of 4 is also larger than the factors (3): the acks=all checks say so after this one
    assert errors_for(separate_hosts(), properties={key: "4"})[0] == "%s is 4 but the cluster has 3 broker(s)" % key
    assert errors_for(separate_hosts(), properties={key: 3}) == []


@pytest.mark.parametrize("key", REPLICATION_KEYS)
@pytest.mark.parametrize("value", [0, -1, "0"])
def test_replication_settings_below_one(key, value):
    assert errors_for(separate_hosts(), properties={key: value}) == [
        "%s must be at least 1, got %d" % (key, int(value))]


@pytest.mark.parametrize("key", REPLICATION_KEYS)
@pytest.mark.parametrize("value", ["three", "2.5", [3]])
def test_replication_settings_not_integers(key, value):
    assert errors_for(separate_hosts(), properties={key: value}) == ["%s must be an integer, got %r" % (key, value)]


def test_replication_setting_none_means_kafkas_default():
    # None removes the collection's default: the brokers then create topics with Kafka's default factor 1,
    # below the collection's min.insync.replicas (2 with three brokers)
    assert errors_for(separate_hosts(), properties={"default.replication.factor": None}) == [
        "min.insync.replicas (2, the collection's default) is larger than default.replication.factor (1, Kafka's "
        "default: kafka_broker_properties removes the key): a topic created with the default replication factor could "
        "never accept an acks=all write; lower min.insync.replicas or raise default.replication.factor"]
    assert errors_for(separate_hosts(), properties={"default.replication.factor": None, "min.insync.replicas": None}) == []


def test_min_insync_larger_than_replication_factor():
    assert errors_for(separate_hosts(), properties={"default.replication.factor": "2", "min.insync.replicas": 3}) == [
        "min.insync.replicas (3) is larger than default.replication.factor (2): a topic created with the default "
        "replication factor could never accept an acks=all write; lower min.insync.replicas or raise "
        "default.replication.factor"]
    assert errors_for(separate_hosts(), properties={"default.replication.factor": 2, "min.insync.replicas": 2}) == []


def test_min_insync_larger_than_the_offsets_topic_factor():
    assert errors_for(separate_hosts(), properties={"offsets.topic.replication.factor": 1}) == [
        "min.insync.replicas (2, the collection's default) is larger than offsets.topic.replication.factor (1): "
        "__consumer_offsets (consumer offsets) could never accept an acks=all write; lower min.insync.replicas or "
        "raise offsets.topic.replication.factor"]
    assert errors_for(separate_hosts(), properties={"offsets.topic.replication.factor": 2}) == []


def test_transaction_min_isr_larger_than_the_transaction_topic_factor():
    assert errors_for(separate_hosts(), properties={"transaction.state.log.replication.factor": 2,
                                                    "transaction.state.log.min.isr": 3}) == [
        "transaction.state.log.min.isr (3) is larger than transaction.state.log.replication.factor (2): "
        "__transaction_state (transactions) could never accept an acks=all write; lower transaction.state.log.min.isr "
        "or raise transaction.state.log.replication.factor"]
    # removed, the factor is Kafka's default 3, which three brokers can hold
    assert errors_for(separate_hosts(), properties={"transaction.state.log.replication.factor": None,
                                                    "transaction.state.log.min.isr": 3}) == []


def test_min_insync_does_not_apply_to_the_transaction_topic():
    # Kafka creates __transaction_state with min.insync.replicas = transaction.state.log.min.isr
    assert errors_for(separate_hosts(), properties={"min.insync.replicas": 3, "transaction.state.log.replication.factor": 2,
                                                    "transaction.state.log.min.isr": 2}) == []


@pytest.mark.parametrize("key", REPLICATION_KEYS)
@pytest.mark.parametrize("value", [1.5, "1.5", True, "abc", "1_0", "\u00b2"])
def test_replication_settings_are_never_truncated(key, value):
    assert errors_for(separate_hosts(), properties={key: value}) == ["%s must be an integer, got %r" % (key, value)]


def test_several_replication_problems_at_once():
    errors = errors_for({"b": host(broker=True, node_id=5), "c": host(controller=True, node_id=1)},
                        properties={"default.replication.factor": 3, "min.insync.replicas": 0})
    assert errors == ["default.replication.factor is 3 but the cluster has 1 broker(s)",
                      "min.insync.replicas must be at least 1, got 0"]


def test_invalid_cluster_id():
    assert errors_for(separate_hosts(), cluster_id="not-an-id", cluster_id_valid=False) == [
        "platform_cluster_id 'not-an-id' is not a KRaft cluster id (22 characters of URL-safe base64, as printed by "
        "'kafka-storage random-uuid')"]
    assert errors_for(separate_hosts(), cluster_id="", cluster_id_valid=False) == []
    assert errors_for(separate_hosts(), cluster_id=CLUSTER_ID) == []


def test_every_problem_is_reported_at_once():
    hosts = {"c1": host(controller=True, node_id=1, address="same"),
             "c2": host(controller=True, node_id=1, address="same")}
    errors = errors_for(hosts, cluster_id="x", cluster_id_valid=False)
    assert len(errors) == 5
    assert errors[0].startswith("kafka_node_id 1 is used by c1 and c2")
    assert errors[1].startswith("hosts c1, c2 all have the address same")
    assert errors[2].startswith("2 controllers")
    assert errors[3].startswith("no brokers")
    assert errors[4].startswith("platform_cluster_id 'x'")


@pytest.mark.parametrize("topology, settings, message", [
    (None, None, "topology must be a mapping, got null"),
    ([], None, "topology must be a mapping, got a list"),
    ({"processes": []}, None, "topology.processes must be a mapping, got a list"),
    ({"processes": {"b1": None}}, None, "topology.processes['b1'] must be a mapping, got null"),
    ({"processes": {"b1": {"address": "b1"}}}, None, "topology.processes['b1'] has no node_id"),
    ({"processes": {1: {"node_id": 1, "address": "b1"}}}, None, "topology.processes[1]: 1 is not a host name"),
    ({"brokers": [{"host": "b1"}]}, None, "topology.brokers[0] has no rack"),
    ({"brokers": "b1"}, None, "topology.brokers must be a list, got a string ('b1')"),
    ({"controllers": [None]}, None, "topology.controllers[0] must be a mapping, got null"),
    ({"controllers": [{"host": ["c1"]}]}, None, "topology.controllers[0].host must be a string, got a list"),
    ({}, "kraft", "settings must be a mapping, got a string ('kraft')"),
    ({}, {"properties": ["min.insync.replicas=2"]}, "properties (kafka_broker_properties) must be a mapping, got a list"),
    ({}, {"mode": "zookeeper", "zookeeper": [{"myid": 1}]}, "the ZooKeeper servers[0] has no host"),
])
def test_malformed_descriptions_are_refused(topology, settings, message):
    with pytest.raises((TopologyError, ZookeeperError)) as caught:
        topo.preflight_errors(topology, settings)
    assert str(caught.value) == message


def test_preflight_of_an_empty_description():
    assert topo.preflight_errors({}) == [
        "no KRaft controllers: put 1, 3 or 5 hosts in the kafka_controller group",
        "no brokers: put at least one host in the kafka_broker group",
    ]


# --------------------------------------------------------------------------------------------------
# resolve_cluster_id
# --------------------------------------------------------------------------------------------------

OTHER_ID = "BQYHCAkKCwwNDg8QERITFA"


def test_hosts_agree():
    assert topo.resolve_cluster_id("", {"b1": CLUSTER_ID, "b2": CLUSTER_ID, "b3": None, "b4": ""}) == (
        CLUSTER_ID, "hosts")
    assert topo.resolve_cluster_id(CLUSTER_ID, {"b1": CLUSTER_ID}) == (CLUSTER_ID, "hosts")


def test_hosts_disagree():
    with pytest.raises(TopologyError) as caught:
        topo.resolve_cluster_id(CLUSTER_ID, {"b1": CLUSTER_ID, "b2": OTHER_ID, "b3": CLUSTER_ID})
    assert str(caught.value) == ("the hosts belong to different clusters (%s on b1, b3; %s on b2): refusing to "
                                 "continue" % (CLUSTER_ID, OTHER_ID))


def test_configured_differs_from_found():
    with pytest.raises(TopologyError) as caught:
        topo.resolve_cluster_id(OTHER_ID, {"b2": CLUSTER_ID, "b1": CLUSTER_ID})
    assert str(caught.value) == (
        "platform_cluster_id is %s but the hosts are already formatted for cluster %s (b1, b2); set "
        "platform_cluster_id to %s or wipe the hosts" % (OTHER_ID, CLUSTER_ID, CLUSTER_ID))


def test_only_configured():
    assert topo.resolve_cluster_id(CLUSTER_ID, {}) == (CLUSTER_ID, "inventory")
    assert topo.resolve_cluster_id(CLUSTER_ID, {"b1": None}) == (CLUSTER_ID, "inventory")


@pytest.mark.parametrize("configured, found, message", [
    ("", None, "the cluster ids found on the hosts must be a mapping, got null"),
    ("", ["b1"], "the cluster ids found on the hosts must be a mapping, got a list"),
    (42, {}, "platform_cluster_id must be a string, got an integer (42)"),
    ("", {"b1": 42}, "the cluster id found on b1 must be a string, got an integer (42)"),
    ("", {"b1": CLUSTER_ID + "\n"},
     "the cluster id found on b1 %r holds a control character (a line break, tab, ...); remove it" % (CLUSTER_ID + "\n")),
    ("", {1: CLUSTER_ID}, "the cluster ids found on the hosts: 1 is not a host name"),
])
def test_malformed_cluster_ids_are_refused(configured, found, message):
    with pytest.raises(TopologyError) as caught:
        topo.resolve_cluster_id(configured, found)
    assert str(caught.value) == message


def test_nothing_means_generate():
    assert topo.resolve_cluster_id("", {}) == (None, "new")
    assert topo.resolve_cluster_id(None, {"b1": "", "b2": None}) == (None, "new")
