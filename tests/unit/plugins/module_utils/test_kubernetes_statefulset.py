# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _kubernetes.statefulset: the start script, ports and probes from the security model, the pod template."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import security as sec
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import statefulset

SECURITY = sec.normalize({
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT"},
        {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
        {"name": "EXTERNAL_CLIENTS_LONG", "port": 9094, "protocol": "PLAINTEXT"},
    ],
})


def kafka_set(component="broker", roles=("broker",), **extra):
    found = {"component": component, "roles": list(roles), "heap_size": "1g", "jvm_options": ["-XX:+UseG1GC"],
             "environment": {"B": 2, "A": "1"}, "log_dirs": ["/var/lib/kafka/data"], "storage": {"size": "10Gi", "class": "fast"},
             "resources": {}, "pods": [{"ordinal": 0}, {"ordinal": 1}]}
    found.update(extra)
    return found


def spec(**extra):
    found = {"name": "kafka", "namespace": "streams", "platform": "kubernetes", "image": "apache/kafka:4.3.1",
             "data_root": "/var/lib/kafka", "security": SECURITY}
    found.update(extra)
    return found


def test_port_names_are_service_port_names():
    assert statefulset.port_name("EXTERNAL_CLIENTS_LONG") == "external-client"
    assert len(statefulset.port_name("A" * 40)) == 15


@pytest.mark.parametrize("roles,ports", [
    (["broker"], [("client", 9092), ("internal", 9091), ("external-client", 9094)]),
    (["controller"], [("controller", 9093)]),
    (["broker", "controller"], [("client", 9092), ("internal", 9091), ("controller", 9093), ("external-client", 9094)]),
])
def test_listener_ports_come_from_the_served_listeners(roles, ports):
    assert [(p["name"], p["port"]) for p in statefulset.listener_ports(SECURITY, roles)] == ports


def test_zookeeper_brings_its_own_ports():
    zk = kafka_set("zookeeper", ["zookeeper"], ports=[{"name": "client", "port": "2181"}, {"name": "peer", "port": 2888}])
    assert statefulset.set_ports(SECURITY, zk) == [{"name": "client", "port": 2181}, {"name": "peer", "port": 2888}]


@pytest.mark.parametrize("component,roles,probe", [
    ("broker", ["broker"], 9091), ("combined", ["broker", "controller"], 9091), ("controller", ["controller"], 9093),
])
def test_probes_knock_on_the_inter_broker_or_controller_listener(component, roles, probe):
    container = statefulset.statefulset(spec(), kafka_set(component, roles), "ConfigMap", "hash")["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["tcpSocket"]["port"] == probe
    assert container["startupProbe"]["tcpSocket"]["port"] == probe


def test_a_statefulset():
    sts = statefulset.statefulset(spec(tls_dir="/etc/kafka/tls", rack_from_zone=True), kafka_set(), "Secret", "abc")
    assert sts["metadata"]["name"] == "kafka-broker"
    assert sts["spec"]["replicas"] == 2
    assert sts["spec"]["updateStrategy"] == {"type": "OnDelete"}
    template = sts["spec"]["template"]
    assert template["metadata"]["annotations"] == {statefulset.CONFIG_HASH: "abc"}
    assert template["metadata"]["labels"]["kafkaops.platform/broker"] == "true"
    pod = template["spec"]
    assert pod["securityContext"]["runAsUser"] == 1000
    assert [v["name"] for v in pod["volumes"]] == ["config", "scripts", "run", "logs", "tmp", "tls-source", "tls"]
    assert pod["volumes"][0]["secret"]["secretName"] == "kafka-broker-config"
    container = pod["containers"][0]
    assert [e["name"] for e in container["env"]] == ["KAFKAOPS_CLUSTER_ID", "KAFKA_HEAP_OPTS", "KAFKA_OPTS", "LOG_DIR",
                                                     "KAFKAOPS_ZONE", "A", "B"]
    assert container["env"][-1] == {"name": "B", "value": "2"}
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "fast"


def test_openshift_and_the_jmx_exporter():
    jmx = {"enabled": True, "image": "exporter:1", "agent_path": "/agent.jar", "port": 9404}
    pod = statefulset.statefulset(spec(platform="openshift", jmx_exporter=jmx, priority_class="high"),
                                  kafka_set("controller", ["controller"]), "ConfigMap", "h")["spec"]["template"]["spec"]
    assert "runAsUser" not in pod["securityContext"]
    assert pod["initContainers"][0]["command"] == ["cp", "/agent.jar", "/opt/kafkaops/jmx/agent.jar"]
    assert pod["containers"][0]["ports"][-1] == {"name": "metrics", "containerPort": 9404, "protocol": "TCP"}
    assert pod["priorityClassName"] == "high"
    assert statefulset.jmx_settings(spec(jmx_exporter=dict(jmx, enabled=False))) is None


def test_start_scripts():
    kafka = statefulset.start_script("apache", "broker", True, "/etc/kafka/tls", {"port": 9404}, jaas=True)
    assert kafka.startswith("#!/bin/bash\n")
    assert "broker.rack" in kafka and "keystore-${ordinal}.pem" in kafka and "jaas.conf" in kafka
    assert "/opt/kafka/bin/kafka-storage.sh format" in kafka and "-javaagent:" in kafka
    assert kafka.endswith('exec /opt/kafka/bin/kafka-server-start.sh "$conf"\n')
    zookeeper = statefulset.start_script("confluent", "zookeeper", True, None, None, data_dir="/var/lib/zookeeper")
    assert 'cp -f "/opt/kafkaops/config/myid-${ordinal}" "/var/lib/zookeeper/myid"' in zookeeper
    assert "broker.rack" not in zookeeper and "format" not in zookeeper
    assert zookeeper.endswith('exec /usr/bin/zookeeper-server-start "$conf"\n')
    assert "format" not in statefulset.start_script("apache", "broker", False, None, None, kraft_format=False)
