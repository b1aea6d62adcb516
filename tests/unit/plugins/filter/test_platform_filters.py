# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the platform filters as Ansible sees them: through FilterModule().filters(), with errors turned
into AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kafkaops.platform.plugins.filter import platform
from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils import security as sec
from ansible_collections.kafkaops.platform.plugins.module_utils import topology as topo
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import services as svc

FILTERS = platform.FilterModule().filters()
CLUSTER_ID = "AQIDBAUGBwgJCgsMDQ4PEA"
OTHER_ID = "BQYHCAkKCwwNDg8QERITFA"

SCRAM = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512",
         "advertised_host": "kafka.example.com", "advertised_port": 19092},
        {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_PLAINTEXT", "authentication": "plain"},
        {"name": "ADMIN", "port": 9094, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
    ],
    "admin_listener": "ADMIN",
    "credentials": {"broker": {"username": "broker", "password": "b-pw"},
                    "controller": {"username": "controller", "password": "c-pw"},
                    "admin": {"username": "admin", "password": "a-pw"}},
}
TLS_ONLY = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SSL"},
        {"name": "INTERNAL", "port": 9091, "protocol": "SSL"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "SSL"},
    ],
    "tls": {"keystore": {"path": "/etc/kafka/tls/{host}.p12", "password": "store-pw"},
            "truststore": {"path": "/etc/kafka/tls/trust.p12"}},
}
PEM_TLS = {
    "listeners": TLS_ONLY["listeners"],
    "tls": {"keystore": {"path": "/etc/kafka/tls/{host}.pem", "type": "PEM"},
            "truststore": {"path": "/etc/kafka/tls/ca.pem", "type": "PEM"}},
}


def test_the_filters():
    assert sorted(FILTERS) == sorted([
        "kafka_process_properties", "to_java_properties", "from_java_properties", "kafka_topology",
        "kafka_preflight_errors", "kafka_cluster_id", "kafka_bootstrap_servers", "kafka_listener_port", "kafka_process_ports",
        "kafka_security_has_secrets", "kafka_san", "kafka_tls_files", "kafka_secret_values",
        "kafka_zookeeper_servers", "kafka_zoo_cfg", "kafka_zookeeper_connect", "kafka_zookeeper_restart_order",
        "kafka_metadata_mode", "kafka_zk_migration_state",
        "kafka_kubernetes_layout", "kafka_kubernetes_topology", "kafka_kubernetes_advertised", "kafka_kubernetes_manifests",
        "kafka_kubernetes_outdated", "kafka_kubernetes_roll_order", "kafka_kubernetes_sets", "kafka_kubernetes_tls_names",
        "kafka_kubernetes_found_data", "kafka_kubernetes_redacted", "kafka_kubernetes_object_name",
        "kafka_kubernetes_zookeeper_servers", "kafka_kubernetes_service_manifests", "kafka_kubernetes_rollout_done",
        "kafka_kubernetes_pod_problems",
        "kafka_kubernetes_service_errors", "kafka_kubernetes_tls_pods", "kafka_kubernetes_service_tls_pods",
        "kafka_pkcs12_keystore", "kafka_pkcs12_truststore"])
    for name, func in FILTERS.items():
        assert func.__name__ == name
        assert func.__doc__


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,args,kwargs,cause,message", [
    ("kafka_process_properties", ({"roles": ["broker"]},), {}, props.PropertiesError,
     "kafka_process_properties: node_id must be an integer, got None"),
    ("kafka_process_properties",
     ({"roles": ["broker"], "node_id": 1, "log_dirs": ["/d"], "controllers": [{"host": "c", "port": 9093}]},), {},
     props.PropertiesError, r"kafka_process_properties: controllers\[0\].id must be an integer, got None"),
    ("kafka_kubernetes_service_manifests", ({"kind": "mirror", "name": "k", "component": "c"},), {}, svc.ServiceSpecError,
     "kafka_kubernetes_service_manifests: kind must be one of connect, ksqldb, schema-registry, got 'mirror'"),
    ("to_java_properties", (["not", "a", "dict"],), {}, props.PropertiesError,
     "to_java_properties: properties must be a dict, got list"),
    ("from_java_properties", ("a=\\u12",), {}, props.PropertiesError, "from_java_properties: malformed"),
    ("kafka_cluster_id", ({"b1": CLUSTER_ID, "b2": OTHER_ID},), {}, topo.TopologyError,
     "kafka_cluster_id: the hosts belong to different clusters"),
    ("kafka_cluster_id", ({"b1": CLUSTER_ID},), {"configured": OTHER_ID}, topo.TopologyError,
     "kafka_cluster_id: platform_cluster_id is " + OTHER_ID),
    ("kafka_listener_port", (SCRAM,), {"role": "broker"}, sec.SecurityConfigError,
     "kafka_listener_port: role must be one of controller, inter_broker, client, admin, got 'broker'"),
    ("kafka_listener_port", ({"listeners": "CLIENT"},), {}, sec.SecurityConfigError,
     "kafka_listener_port: platform_security.listeners"),
    ("kafka_process_ports", ({"bogus": 1},), {"roles": ["broker"]}, sec.SecurityConfigError,
     "kafka_process_ports: platform_security"),
    ("kafka_security_has_secrets", ({"tls": {"trustore": {}}},), {}, sec.SecurityConfigError,
     "kafka_security_has_secrets: platform_security.tls.trustore: unknown key"),
])
def test_errors_become_filter_errors(name, args, kwargs, cause, message):
    with pytest.raises(AnsibleFilterError, match=message) as caught:
        FILTERS[name](*args, **kwargs)
    assert isinstance(caught.value.__cause__, cause)


def test_topology_errors_become_filter_errors():
    groups = {"kafka_controller": ["k1"], "kafka_broker": ["k1"]}
    with pytest.raises(AnsibleFilterError, match="kafka_topology: host k1 is in both") as caught:
        FILTERS["kafka_topology"](groups, hostvars={"k1": {"kafka_node_id": 1}}, combined=False)
    assert isinstance(caught.value.__cause__, topo.TopologyError)


def test_topology_needs_hostvars():
    with pytest.raises(AnsibleFilterError, match="kafka_topology needs hostvars=hostvars"):
        FILTERS["kafka_topology"]({"kafka_broker": ["b1"]})


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

def test_properties_filters_wire_to_the_model():
    spec = {"roles": ["broker", "controller"], "node_id": 1, "log_dirs": ["/var/lib/kafka/data"],
            "controllers": [{"id": 1, "address": "k1", "port": 9093}], "overrides": {"x.y": "caf\xe9"}}
    merged = FILTERS["kafka_process_properties"](spec)
    assert merged == props.kafka_process_properties(spec)
    text = FILTERS["to_java_properties"](merged, header="Managed")
    assert text.startswith("# Managed\n")
    assert "x.y=caf\\u00e9\n" in text
    assert FILTERS["from_java_properties"](text) == merged


# --------------------------------------------------------------------------------------------------
# kafka_topology and kafka_preflight_errors
# --------------------------------------------------------------------------------------------------

GROUPS = {"all": ["c1", "c2", "c3", "b1", "b2", "zk1"], "kafka_controller": ["c3", "c1", "c2"],
          "kafka_broker": ["b2", "b1"], "zookeeper": ["zk1"]}
HOSTVARS = {
    "c1": {"kafka_node_id": "1", "platform_host_address": "10.0.0.1"},
    "c2": {"kafka_node_id": 2, "platform_host_address": "10.0.0.2"},
    "c3": {"kafka_node_id": " 3 ", "platform_host_address": ""},
    "b1": {"kafka_node_id": "11", "kafka_broker_rack": "", "platform_host_address": "10.0.1.1"},
    "b2": {"kafka_node_id": "12", "platform_host_address": "10.0.1.2"},
    "zk1": {"zookeeper_id": 1},
}


def test_topology_from_hostvars():
    topology = FILTERS["kafka_topology"](GROUPS, hostvars=HOSTVARS, controller_port="19093")
    assert topology["controllers"] == [
        {"host": "c1", "id": 1, "address": "10.0.0.1", "port": 19093},
        {"host": "c2", "id": 2, "address": "10.0.0.2", "port": 19093},
        {"host": "c3", "id": 3, "address": "c3", "port": 19093},
    ]
    assert topology["brokers"] == [
        {"host": "b1", "id": 11, "address": "10.0.1.1", "rack": None},
        {"host": "b2", "id": 12, "address": "10.0.1.2", "rack": None},
    ]
    assert "zk1" not in topology["processes"]
    assert FILTERS["kafka_preflight_errors"](topology) == []


def test_topology_keeps_ids_that_are_not_digits_for_preflight_to_report():
    hostvars = dict(HOSTVARS, b1={"kafka_node_id": "-1"}, b2={"kafka_node_id": "twelve"})
    topology = FILTERS["kafka_topology"](GROUPS, hostvars=hostvars)
    assert [b["id"] for b in topology["brokers"]] == ["-1", "twelve"]
    assert FILTERS["kafka_preflight_errors"](topology) == [
        "b1: kafka_node_id must be a non-negative integer, got '-1'",
        "b2: kafka_node_id must be a non-negative integer, got 'twelve'",
    ]


def test_topology_racks_and_custom_groups():
    groups = {"ctl": ["k1"], "brk": ["k1", "k2"]}
    hostvars = {"k1": {"kafka_node_id": 1, "kafka_broker_rack": "r1"},
                "k2": {"kafka_node_id": 2, "kafka_broker_rack": 7}}
    topology = FILTERS["kafka_topology"](groups, hostvars=hostvars, controller_group="ctl", broker_group="brk")
    assert topology["processes"]["k1"]["roles"] == ["broker", "controller"]
    assert [b["rack"] for b in topology["brokers"]] == ["r1", "7"]
    assert topology["controllers"] == [{"host": "k1", "id": 1, "address": "k1", "port": 9093}]
    mixed = dict(hostvars, k2={"kafka_node_id": 2, "kafka_broker_rack": ""})
    topology = FILTERS["kafka_topology"](groups, hostvars=mixed, controller_group="ctl", broker_group="brk")
    assert FILTERS["kafka_preflight_errors"](topology)[0].startswith(
        "some brokers have a rack (kafka_broker_rack) and some do not: k2")


def test_topology_with_missing_groups():
    assert FILTERS["kafka_topology"]({}, hostvars={}) == {"controllers": [], "brokers": [], "processes": {}}
    assert FILTERS["kafka_topology"]({"kafka_broker": None}, hostvars={})["brokers"] == []


@pytest.mark.parametrize("node_id, message", [
    ("2147483648", "kafka_node_id 2147483648 is out of range: Kafka node ids are 0..2147483647"),
    ("9" * 100, "kafka_node_id %s is out of range: Kafka node ids are 0..2147483647" % ("9" * 100)),
    ("1.5", "kafka_node_id must be a non-negative integer, got '1.5'"),
    ("\uff11\uff12", "kafka_node_id must be a non-negative integer, got '\uff11\uff12'"),  # full-width digits: not "12"
    ("\u00b2", "kafka_node_id must be a non-negative integer, got '\u00b2'"),
    ("11\n", None),  # blanks around the digits of an inventory value are dropped, as before
])
def test_topology_node_ids_from_the_inventory(node_id, message):
    topology = FILTERS["kafka_topology"](GROUPS, hostvars=dict(HOSTVARS, b1={"kafka_node_id": node_id}))
    errors = FILTERS["kafka_preflight_errors"](topology)
    assert errors == ([] if message is None else ["b1: " + message])


@pytest.mark.parametrize("kwargs, message", [
    ({"controller_port": "abc"}, "kafka_topology: controller_port must be a port number (1-65535), got 'abc'"),
    ({"controller_port": None}, "kafka_topology: controller_port must be a port number (1-65535), got None"),
    ({"combined": "maybe"}, "kafka_topology: combined must be true or false, got 'maybe'"),
    ({"hostvars": {"c1": {}}}, "kafka_topology: hostvars has no host b1 (pass hostvars=hostvars)"),
    ({"hostvars": dict(HOSTVARS, b1=None)}, "kafka_topology: hostvars['b1'] must be a mapping, got null"),
    ({"hostvars": ["c1"]}, "kafka_topology: hostvars must be a mapping, got a list"),
    ({"broker_group": "all", "hostvars": {"c1": {}}}, "kafka_topology: hostvars has no host b1 (pass hostvars=hostvars)"),
])
def test_topology_refuses_malformed_arguments(kwargs, message):
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS["kafka_topology"](GROUPS, **dict({"hostvars": HOSTVARS}, **kwargs))
    assert str(caught.value) == message
    assert isinstance(caught.value.__cause__, topo.TopologyError)


def test_topology_combined_reads_ansible_booleans():
    groups = {"kafka_controller": ["k1"], "kafka_broker": ["k1"]}
    with pytest.raises(AnsibleFilterError, match="combined mode is off"):
        FILTERS["kafka_topology"](groups, hostvars={"k1": {"kafka_node_id": 1}}, combined="false")


@pytest.mark.parametrize("groups, message", [
    ([], "kafka_topology: groups must be a mapping, got a list"),
    ({"kafka_broker": "b1"}, "kafka_topology: groups['kafka_broker'] must be a list, got a string ('b1')"),
    ({"kafka_broker": [["b1"]]}, "kafka_topology: a host of the group kafka_broker must be a string, got a list"),
])
def test_topology_refuses_malformed_groups(groups, message):
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS["kafka_topology"](groups, hostvars=HOSTVARS)
    assert str(caught.value) == message


def test_zookeeper_servers_from_hostvars():
    groups = {"zookeeper": ["z3", "z1", "z2", "zx"]}
    hostvars = {"z1": {"zookeeper_myid": "1"}, "z2": {"zookeeper_myid": 2, "platform_host_address": "10.0.0.2"},
                "z3": {"zookeeper_myid": " 3 "}, "zx": {"zookeeper_myid": "\u0663"}}
    servers = FILTERS["kafka_zookeeper_servers"](groups, hostvars=hostvars)
    assert servers == [{"host": "z1", "myid": 1, "address": "z1"}, {"host": "z2", "myid": 2, "address": "10.0.0.2"},
                       {"host": "z3", "myid": 3, "address": "z3"}, {"host": "zx", "myid": "\u0663", "address": "zx"}]
    with pytest.raises(AnsibleFilterError, match="kafka_zookeeper_servers needs hostvars=hostvars"):
        FILTERS["kafka_zookeeper_servers"](groups)
    with pytest.raises(AnsibleFilterError, match="kafka_zookeeper_servers: hostvars has no host z1"):
        FILTERS["kafka_zookeeper_servers"](groups, hostvars={})


def test_preflight_filter_checks_the_cluster_id_and_properties():
    topology = FILTERS["kafka_topology"](GROUPS, hostvars=HOSTVARS)
    assert FILTERS["kafka_preflight_errors"](topology, cluster_id=CLUSTER_ID) == []
    assert FILTERS["kafka_preflight_errors"](topology, cluster_id=CLUSTER_ID[:-1] + "B") == [
        "platform_cluster_id %r is not a KRaft cluster id (22 characters of URL-safe base64, as printed by "
        "'kafka-storage random-uuid')" % (CLUSTER_ID[:-1] + "B")]
    assert FILTERS["kafka_preflight_errors"](topology, properties={"min.insync.replicas": 3})[0] == (
        "min.insync.replicas is 3 but the cluster has 2 broker(s)")
    assert FILTERS["kafka_preflight_errors"](topology, mode="zookeeper")[0].startswith("ZooKeeper mode")


# --------------------------------------------------------------------------------------------------
# Cluster id
# --------------------------------------------------------------------------------------------------

def test_cluster_id_generated_when_nothing_is_known():
    first = FILTERS["kafka_cluster_id"]({})
    second = FILTERS["kafka_cluster_id"](None, configured="")
    assert props.valid_cluster_id(first)
    assert props.valid_cluster_id(second)
    assert first != second
    assert props.valid_cluster_id(FILTERS["kafka_cluster_id"]({"b1": "", "b2": None}))


def test_cluster_id_reused():
    assert FILTERS["kafka_cluster_id"]({"b1": CLUSTER_ID, "b2": None}) == CLUSTER_ID
    assert FILTERS["kafka_cluster_id"]({"b1": CLUSTER_ID}, configured=CLUSTER_ID) == CLUSTER_ID
    assert FILTERS["kafka_cluster_id"]({}, configured=OTHER_ID) == OTHER_ID
    assert FILTERS["kafka_cluster_id"]({"b1": None}, configured=OTHER_ID) == OTHER_ID


# --------------------------------------------------------------------------------------------------
# Listener ports
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("description,role,advertised,port", [
    ({}, "controller", False, 9093),
    ({}, "inter_broker", False, 9091),
    ({}, "client", False, 9092),
    ({}, "admin", False, 9092),
    ({}, "client", True, 9092),
    (None, "controller", False, 9093),
    (SCRAM, "controller", False, 9093),
    (SCRAM, "inter_broker", False, 9091),
    (SCRAM, "client", False, 9092),
    (SCRAM, "client", True, 19092),
    (SCRAM, "admin", False, 9094),
    (SCRAM, "admin", True, 9094),
    (SCRAM, "inter_broker", True, 9091),
])
def test_listener_port(description, role, advertised, port):
    assert FILTERS["kafka_listener_port"](description, role=role, advertised=advertised) == port


def test_listener_port_defaults_to_the_controller():
    assert FILTERS["kafka_listener_port"](SCRAM) == 9093


def test_listener_port_without_a_controller_listener():
    zk_mode = {"listeners": [{"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT"},
                             {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"}],
               "controller_listener": None}
    assert FILTERS["kafka_listener_port"](zk_mode, role="client") == 9092
    with pytest.raises(AnsibleFilterError, match="kafka_listener_port: listener None is not defined"):
        FILTERS["kafka_listener_port"](zk_mode, role="controller")


@pytest.mark.parametrize("description,roles,ports", [
    ({}, ["controller"], [9093]),
    ({}, ["broker"], [9091, 9092]),
    ({}, ["broker", "controller"], [9091, 9092, 9093]),
    ({}, [], []),
    (SCRAM, ["controller"], [9093]),
    (SCRAM, ["broker"], [9091, 9092, 9094]),
    (SCRAM, ["controller", "broker"], [9091, 9092, 9093, 9094]),
])
def test_process_ports(description, roles, ports):
    assert FILTERS["kafka_process_ports"](description, roles=roles) == ports


# --------------------------------------------------------------------------------------------------
# kafka_bootstrap_servers
# --------------------------------------------------------------------------------------------------

BROKERS = {"controllers": [], "processes": {},
           "brokers": [{"id": 1, "host": "k1", "address": "10.0.0.1"}, {"id": 2, "host": "k2", "address": "k2"}]}


def test_bootstrap_servers_use_the_advertised_admin_port():
    assert FILTERS["kafka_bootstrap_servers"](BROKERS, security=SCRAM) == ["10.0.0.1:9094", "k2:9094"]
    assert FILTERS["kafka_bootstrap_servers"](BROKERS) == ["10.0.0.1:9092", "k2:9092"]
    assert FILTERS["kafka_bootstrap_servers"](BROKERS["brokers"][1:], security=SCRAM, target="vm", override=["lb:1"]) == ["k2:9094"]
    assert FILTERS["kafka_bootstrap_servers"](BROKERS, security=SCRAM, target="openshift", override=["lb:1"]) == ["lb:1"]


def test_bootstrap_servers_are_what_the_role_expression_gave():
    """The filter replaces ``brokers | map(attribute='address') | product([port]) | map('join', ':')``."""
    port = FILTERS["kafka_listener_port"](SCRAM, role="admin", advertised=True)
    expected = [":".join(str(part) for part in pair) for pair in [(b["address"], port) for b in BROKERS["brokers"]]]
    assert FILTERS["kafka_bootstrap_servers"](BROKERS, security=SCRAM, target="kubernetes", override=[]) == expected


def test_bootstrap_servers_take_keywords_only():
    with pytest.raises(TypeError):
        platform.kafka_bootstrap_servers(BROKERS, SCRAM)  # pylint: disable=too-many-function-args


def test_bootstrap_server_errors_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match="kafka_bootstrap_servers: target must be one of vm, kubernetes, openshift") as caught:
        FILTERS["kafka_bootstrap_servers"](BROKERS, target="k8s")
    assert isinstance(caught.value.__cause__, sec.SecurityConfigError)


# --------------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("description,expected", [
    ({}, False),
    (None, False),
    (PEM_TLS, False),
    (SCRAM, True),
    (TLS_ONLY, True),
])
def test_security_has_secrets(description, expected):
    assert FILTERS["kafka_security_has_secrets"](description) is expected


def test_secrets_are_what_the_model_lists():
    assert sec.secret_values(SCRAM) == ["b-pw", "c-pw", "a-pw"]
    assert sec.secret_values(TLS_ONLY) == ["store-pw"]


# --------------------------------------------------------------------------------------------------
# TLS helpers

@pytest.mark.parametrize("name,san", [
    ("kafka1.example.com", "DNS:kafka1.example.com"),
    ("10.1.2.3", "IP:10.1.2.3"),
    ("::1", "IP:::1"),
    ("[fe80::1]", "IP:fe80::1"),
    ("kafka-1", "DNS:kafka-1"),
])
def test_san(name, san):
    assert FILTERS["kafka_san"](name) == san


def test_tls_files_of_a_plaintext_cluster():
    assert FILTERS["kafka_tls_files"]({}) == []


def test_tls_files_fill_in_the_host_and_skip_plaintext_listeners():
    description = {
        "listeners": [
            {"name": "CLIENT", "port": 9092, "protocol": "SSL", "authentication": "none",
             "tls": {"keystore": {"path": "/etc/kafka/tls/{host}-client.pem", "type": "PEM"}}},
            {"name": "INTERNAL", "port": 9091, "protocol": "SSL", "authentication": "mtls"},
            {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
        ],
        "tls": {"keystore": {"path": "/etc/kafka/tls/{host}.pem", "type": "PEM"},
                "truststore": {"path": "/etc/kafka/tls/ca.pem", "type": "PEM"}},
    }
    assert FILTERS["kafka_tls_files"](description, host="10.0.0.5") == [
        "/etc/kafka/tls/10.0.0.5-client.pem", "/etc/kafka/tls/10.0.0.5.pem", "/etc/kafka/tls/ca.pem"]


def test_secret_values_filter():
    description = {
        "listeners": [{"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
                      {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
                      {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"}],
        "credentials": {"admin": {"username": "admin", "password": "s3cret-a"},
                        "users": [{"username": "app", "password": "s3cret-b"}]},
    }
    assert sorted(FILTERS["kafka_secret_values"](description)) == ["s3cret-a", "s3cret-b"]


# ---------------------------------------------------------------------------------------------
# Kubernetes filters: the glue between Ansible's data (hostvars, k8s_info results) and module_utils


def k8s_topology():
    groups = {"kafka_controller": ["k1", "k2", "k3"], "kafka_broker": ["k1", "k2", "k3", "b4"]}
    hostvars = {h: {"kafka_node_id": i} for i, h in enumerate(["k1", "k2", "k3", "b4"], start=1)}
    return FILTERS["kafka_topology"](groups, hostvars=hostvars)


def test_kubernetes_layout_and_topology_from_the_inventory():
    layout = FILTERS["kafka_kubernetes_layout"](k8s_topology(), name="kafka", namespace="ns")
    assert layout["b4"]["pod"] == "kafka-broker-0" and layout["k2"]["pod"] == "kafka-combined-1"
    moved = FILTERS["kafka_kubernetes_topology"](k8s_topology(), layout)
    assert moved["controllers"][0]["address"] == "kafka-combined-0.kafka-combined.ns.svc.cluster.local"
    with pytest.raises(AnsibleFilterError, match="kafka_kubernetes_layout: .*DNS label"):
        FILTERS["kafka_kubernetes_layout"](k8s_topology(), name="Bad_Name", namespace="ns")


def test_kubernetes_advertised_checks_the_external_description():
    layout = FILTERS["kafka_kubernetes_layout"](k8s_topology(), name="kafka", namespace="ns")
    security = {"listeners": [{"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT"},
                              {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
                              {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
                              {"name": "EXTERNAL", "port": 9094, "protocol": "PLAINTEXT"}],
                "inter_broker_listener": "INTERNAL", "controller_listener": "CONTROLLER", "client_listener": "CLIENT"}
    external = {"type": "NodePort", "listener": "EXTERNAL", "host": "node1", "node_port_base": 30100}
    assert FILTERS["kafka_kubernetes_advertised"](layout["b4"], external, security, "ns") == {
        "EXTERNAL": {"host": "node1", "port": 30103}}
    assert FILTERS["kafka_kubernetes_advertised"](layout["k1"], {"type": "none"}, security, "ns") == {}
    with pytest.raises(AnsibleFilterError, match="Route needs platform_target openshift"):
        FILTERS["kafka_kubernetes_advertised"](layout["b4"], dict(external, type="Route"), security, "ns")
    names = FILTERS["kafka_kubernetes_tls_names"](layout["b4"], "kafka", "ns", external=external, security=security)
    assert "node1" in names and "kafka-broker-0.kafka-broker.ns.svc.cluster.local" in names
    # every pod of the layout, by host name, with the same names as kafka_kubernetes_tls_names
    pods = FILTERS["kafka_kubernetes_tls_pods"](layout, "kafka", "ns", external=external, security=security)
    assert [p["pod"] for p in pods] == [layout[h]["pod"] for h in sorted(layout)]
    assert next(p for p in pods if p["pod"] == layout["b4"]["pod"]) == {
        "pod": layout["b4"]["pod"], "set": layout["b4"]["set"], "ordinal": layout["b4"]["ordinal"], "names": names}
    service = {"name": "kafka", "namespace": "ns", "component": "ksqldb", "replicas": 1}
    assert FILTERS["kafka_kubernetes_service_tls_pods"](service)[0]["names"][:2] == [
        "kafka-ksqldb-0", "kafka-ksqldb-0.kafka-ksqldb-pods.ns.svc.cluster.local"]
    # the stores' errors reach the playbook as filter errors
    with pytest.raises(AnsibleFilterError, match="kafka_pkcs12_keystore: .*non-empty password"):
        FILTERS["kafka_pkcs12_keystore"]("pem", "")
    with pytest.raises(AnsibleFilterError, match="kafka_pkcs12_truststore: .*cannot be read"):
        FILTERS["kafka_pkcs12_truststore"]("-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n", "pw")


def test_kubernetes_outdated_pods_from_k8s_info_results():
    statefulsets = [{"metadata": {"name": "kafka-combined"}, "status": {"updateRevision": "kafka-combined-2"}}]
    pods = [
        {"metadata": {"name": "kafka-combined-0", "labels": {"controller-revision-hash": "kafka-combined-1"},
                      "ownerReferences": [{"kind": "StatefulSet", "name": "kafka-combined"}]}},
        {"metadata": {"name": "kafka-combined-1", "labels": {"controller-revision-hash": "kafka-combined-2"},
                      "ownerReferences": [{"kind": "StatefulSet", "name": "kafka-combined"}]}},
        {"metadata": {"name": "debug", "labels": {}}},
    ]
    assert FILTERS["kafka_kubernetes_outdated"](statefulsets, pods) == ["kafka-combined-0"]


def test_kubernetes_sets_from_hostvars():
    layout = FILTERS["kafka_kubernetes_layout"](k8s_topology(), name="kafka", namespace="ns")
    process = {"roles": ["broker", "controller"], "log_dirs": ["/var/lib/kafka/d"], "heap_size": "1g",
               "storage": {"size": "1Gi", "class": ""}, "properties_text": "node.id=1\n"}
    hosts = [{"inventory_hostname": h, "platform_kubernetes_process": dict(process)} for h in ("k1", "k2", "k3")]
    hosts.append({"inventory_hostname": "b4", "platform_kubernetes_process": dict(process, roles=["broker"])})
    sets = FILTERS["kafka_kubernetes_sets"](hosts, layout, secret=True)
    assert [(s["component"], len(s["pods"]), s["secret"]) for s in sets] == [("combined", 3, True), ("broker", 1, True)]
    # a host that also runs a ZooKeeper server contributes a second pod
    layout = FILTERS["kafka_kubernetes_layout"](k8s_topology(), name="kafka", namespace="ns",
                                                zookeeper=[{"host": "k1", "myid": 1, "address": "k1"}])
    zk = dict(process, roles=["zookeeper"], log_dirs=["/var/lib/zookeeper/data"], data_root="/var/lib/zookeeper",
              ports=[{"name": "client", "port": 2181}])
    hosts[0] = dict(hosts[0], zookeeper_kubernetes_process=zk)
    sets = FILTERS["kafka_kubernetes_sets"](hosts, layout)
    assert [(s["component"], len(s["pods"])) for s in sets] == [("zookeeper", 1), ("combined", 3), ("broker", 1)]
    servers = FILTERS["kafka_kubernetes_zookeeper_servers"]([{"host": "k1", "myid": 1, "address": "k1"}], layout)
    assert servers[0]["address"] == "kafka-zookeeper-0.kafka-zookeeper.ns.svc.cluster.local"


def test_kubernetes_found_data_redacted_and_object_names():
    results = [{"item": "a-tls", "resources": [{"data": {"k": "v"}}]}, {"item": "b-tls", "resources": []}]
    assert FILTERS["kafka_kubernetes_found_data"](results) == {"a-tls": {"k": "v"}, "b-tls": {}}
    secret = {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "pw"}}
    assert FILTERS["kafka_kubernetes_redacted"]([secret])[0]["stringData"] == {"password": "<redacted>"}
    assert FILTERS["kafka_kubernetes_object_name"](secret) == "Secret/s"
    assert FILTERS["kafka_kubernetes_object_name"](None) == "?/?"
