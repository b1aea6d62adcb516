# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The kubernetes scenario after converge and idempotence, in order (pytest -x):

1. the objects in the API server have the content the inventory asks for (StatefulSet, Services,
   NodePorts matching the advertised listeners, PDB, NetworkPolicy, ServiceMonitor, PVCs bound,
   pods scheduled across zones and ready under kwok, the namespace enforcing the restricted Pod
   Security Standard); a Limit of one broker (an AWX job's) is refused before anything changes;
2. the rendered objects validate against the OpenAPI schemas of the oldest and newest supported
   Kubernetes versions;
3. ZooKeeper mode (a second cluster, Kafka 3.9.2, in its own namespace): a ZooKeeper StatefulSet
   whose zoo.cfg and myid come from the VM code, brokers registering in it; a change restarts the
   ZooKeeper pods first, then the brokers; a second run changes nothing.

The rolling restart gated on Kafka's health and the scale-out run on pods that really run, in the
kubernetes-pods scenario (a real node; here kwok only reports pods ready).
"""
from __future__ import annotations

import json
import os
import sys

import yaml
from k8s_checks import CONF, NAMESPACE, SUPPORTED, changed, core, objects, playbook, properties, task_names, validate_rendered

NAME = "kafka"
STS = "kafka-combined"


def kafka_pods():
    """The Kafka pods (the namespace also holds the Connect, Schema Registry and ksqlDB pods: test_services.py)."""
    return {name: pod for name, pod in objects("v1", "Pod").items()
            if pod["metadata"]["labels"].get("app.kubernetes.io/name") == "kafka"}


def test_statefulset_matches_the_inventory():
    sts = objects("apps/v1", "StatefulSet")[STS]
    spec = sts["spec"]
    assert spec["replicas"] == 3
    assert spec["updateStrategy"]["type"] == "OnDelete"
    assert spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "5Gi"
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "apache/kafka:4.3.1"
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "1536Mi"}, "limits": {"memory": "1536Mi"}}
    env = {e["name"]: e for e in container["env"]}
    assert env["KAFKA_HEAP_OPTS"]["value"] == "-Xms768m -Xmx768m"
    assert env["KAFKAOPS_ZONE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.labels['topology.kubernetes.io/zone']"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 1000
    assert pod["initContainers"][0]["image"] == "docker.io/bitnami/jmx-exporter:1.1.0"
    assert container["readinessProbe"]["tcpSocket"]["port"] == 9091


def test_a_limit_that_leaves_out_part_of_a_group_is_refused_before_anything_changes():
    """An AWX job's Limit of one broker: the StatefulSet would be rebuilt from one host (replicas 1)."""
    before = objects("apps/v1", "StatefulSet")[STS]
    report = playbook("site.yml", limit="kafka-1", fails=True)
    messages = [message for _task, _host, message in report["failures"]]
    assert any("The Limit of this run leaves out kafka-2, kafka-3, of a group it includes: every group is a StatefulSet"
               in (m or "") for m in messages), report["failures"]
    after = objects("apps/v1", "StatefulSet")[STS]
    assert after["spec"]["replicas"] == 3
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_pods_are_ready_spread_over_zones_with_bound_volumes():
    pods = kafka_pods()
    assert sorted(pods) == ["kafka-combined-0", "kafka-combined-1", "kafka-combined-2"]
    zones = set()
    for pod in pods.values():
        ready = [c for c in pod["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True"
        zones.add(pod["metadata"]["labels"]["topology.kubernetes.io/zone"])
    assert zones == {"zone-a", "zone-b", "zone-c"}
    claims = objects("v1", "PersistentVolumeClaim")
    assert sorted(claims) == ["data-kafka-combined-0", "data-kafka-combined-1", "data-kafka-combined-2"]
    assert {c["status"]["phase"] for c in claims.values()} == {"Bound"}


def test_each_broker_advertises_its_node_port():
    config = objects("v1", "ConfigMap")["%s-config" % STS]["data"]
    services = objects("v1", "Service")
    for ordinal in range(3):
        server = properties(config["server-%d.properties" % ordinal])
        assert server["node.id"] == str(ordinal + 1)
        assert server["num.partitions"] == "6"
        advertised = server["advertised.listeners"].split(",")
        assert "EXTERNAL://nodes.kafka.test:%d" % (31090 + ordinal) in advertised
        assert "INTERNAL://kafka-combined-%d.kafka-combined.kafka-molecule.svc.cluster.local:9091" % ordinal in advertised
        service = services["kafka-combined-%d-external" % ordinal]["spec"]
        assert service["type"] == "NodePort"
        assert service["ports"][0]["nodePort"] == 31090 + ordinal
        assert service["selector"] == {"statefulset.kubernetes.io/pod-name": "kafka-combined-%d" % ordinal}
    voters = properties(config["server-0.properties"])["controller.quorum.voters"]
    assert voters.split(",")[2] == "3@kafka-combined-2.kafka-combined.kafka-molecule.svc.cluster.local:9093"
    assert services["kafka-bootstrap-external"]["spec"]["ports"][0]["nodePort"] == 31089
    assert services["kafka-combined"]["spec"]["clusterIP"] == "None"
    assert services["kafka-bootstrap"]["spec"]["selector"]["kafkaops.platform/broker"] == "true"


def test_disruption_budget_network_policy_and_monitoring():
    pdb = objects("policy/v1", "PodDisruptionBudget")[STS]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["status"]["expectedPods"] == 3 and pdb["status"]["disruptionsAllowed"] == 1
    policy = objects("networking.k8s.io/v1", "NetworkPolicy")[NAME]["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    opened = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
    assert opened == {9091, 9092, 9093, 9094, 9404}
    monitor = objects("monitoring.coreos.com/v1", "ServiceMonitor")[NAME]
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    namespace = core().read_namespace(NAMESPACE).metadata.labels
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"


def test_rendered_objects_are_valid_for_the_oldest_and_newest_supported_kubernetes():
    path = os.path.join(CONF["workdir"], "manifests", "%s-%s.yaml" % (NAME, NAMESPACE))
    with open(path) as handle:
        rendered = yaml.safe_load(handle)
    assert os.stat(path).st_mode & 0o077 == 0
    kinds = {o["kind"] for o in rendered}
    assert {"StatefulSet", "Service", "ConfigMap", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor"} <= kinds
    checked = validate_rendered(rendered, crd_groups=["monitoring.coreos.com"])
    assert checked == len(SUPPORTED) * (len(rendered) - 1)


def test_zookeeper_mode_cluster():
    inventory = os.path.join(CONF["workdir"], "k8s-zookeeper.json")
    hosts = {"zk-%d" % i: {"zookeeper_myid": i, "kafka_node_id": i} for i in (1, 2, 3)}
    with open(inventory, "w") as handle:
        json.dump({"all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                     "platform_target": "kubernetes", "platform_kafka_mode": "zookeeper", "platform_kafka_version": "3.9.2",
                     "platform_kubernetes_kubeconfig": CONF["kubeconfig"], "platform_kubernetes_namespace": "kafka-zookeeper",
                     "platform_kubernetes_name": "legacy", "platform_kubernetes_admin": False,
                     "platform_kubernetes_wait_timeout": 180, "platform_kubernetes_wait_delay": 2,
                     "kafka_broker_kubernetes_storage_size": "2Gi",
                     "zookeeper_kubernetes_storage_size": "1Gi"},
            "children": {"zookeeper": {"hosts": hosts}, "kafka_broker": {"hosts": {h: {} for h in hosts}}}}}, handle)
    first = playbook("site.yml", inventories=[inventory], own_inventory=True)
    assert changed(first) > 0
    namespace = "kafka-zookeeper"
    sets = objects("apps/v1", "StatefulSet", namespace=namespace)
    assert sorted(sets) == ["legacy-broker", "legacy-zookeeper"]
    assert sets["legacy-zookeeper"]["spec"]["template"]["spec"]["containers"][0]["image"] == "apache/kafka:3.9.2"
    config = objects("v1", "ConfigMap", namespace=namespace)
    zoo = properties(config["legacy-zookeeper-config"]["data"]["zoo-1.cfg"])
    for i in (1, 2, 3):
        assert zoo["server.%d" % i].startswith("legacy-zookeeper-%d.legacy-zookeeper.kafka-zookeeper.svc.cluster.local:2888:3888"
                                               % (i - 1))
    assert config["legacy-zookeeper-config"]["data"]["myid-1"] == "2\n"
    broker = properties(config["legacy-broker-config"]["data"]["server-2.properties"])
    assert broker["broker.id"] == "3" and "process.roles" not in broker
    assert broker["zookeeper.connect"] == ",".join(
        "legacy-zookeeper-%d.legacy-zookeeper.kafka-zookeeper.svc.cluster.local:2181" % i for i in range(3)) + "/kafka"
    assert "kafka-storage" not in config["legacy-broker-scripts"]["data"]["start.sh"]
    pods = objects("v1", "Pod", namespace=namespace)
    assert len(pods) == 6
    assert all([c["status"] for c in p["status"]["conditions"] if c["type"] == "Ready"] == ["True"] for p in pods.values())
    extra = {"zookeeper_settings": {"maxClientCnxns": 100}, "kafka_broker_properties": {"log.retention.hours": 24}}
    report = playbook("site.yml", extra, inventories=[inventory], own_inventory=True)
    restarted = [s.split(": ", 1)[1] for s in task_names(report, r"^Restart pod \d/\d: ")]
    assert restarted == ["legacy-zookeeper-2", "legacy-zookeeper-1", "legacy-zookeeper-0",
                         "legacy-broker-2", "legacy-broker-1", "legacy-broker-0"]
    again = playbook("site.yml", extra, inventories=[inventory], own_inventory=True)
    assert changed(again) == 0 and task_names(again, r"^Restart pod") == []
