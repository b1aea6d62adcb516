# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The kubernetes scenario after converge and idempotence, in order (pytest -x):

1. the objects in the API server have the content the inventory asks for (StatefulSet, Services,
   NodePorts matching the advertised listeners, PDB, NetworkPolicy, ServiceMonitor, PVCs bound,
   pods scheduled across zones and ready under kwok, the namespace enforcing the restricted Pod
   Security Standard); a Limit of one broker (an AWX job's) is refused before anything changes;
2. the rendered objects validate against the OpenAPI schemas of the oldest and newest supported
   Kubernetes versions;
3. day 2: a property change with the admin client on, against a real KRaft cluster on loopback
   standing in for the pods (no kubelet runs Kafka here; node ids 1-3 combined like the inventory,
   and broker 4 for the scale-out): the pods restart one at a time, the active controller last,
   each gated on Kafka's health; a second run changes nothing;
4. scale-out: scale_out.yml with a fourth host in kafka_broker makes it a broker StatefulSet's
   pod, bound and ready, then hands over to the reassignment, which moves the stand-in's
   partitions onto broker 4 with every message still readable;
5. ZooKeeper mode (a second cluster, Kafka 3.9.2, in its own namespace): a ZooKeeper StatefulSet
   whose zoo.cfg and myid come from the VM code, brokers registering in it; a change restarts the
   ZooKeeper pods first, then the brokers; a second run changes nothing.
"""
from __future__ import annotations

import json
import os
import sys

import pytest
import yaml
from k8s_checks import CONF, NAMESPACE, SUPPORTED, changed, core, objects, playbook, properties, task_names, validate_rendered, wait_for

sys.path.insert(0, os.path.join(CONF["project"], "tests", "integration"))
from kafka_local import LocalKafka  # noqa: E402

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


TOPIC = "orders"
MESSAGES = 600


@pytest.fixture(scope="module")
def stand_in():
    """A real KRaft cluster on loopback, the admin client's view of the cluster while the pods are
    only simulated: nodes 1-3 combined (like the inventory) and broker 4 (the scale-out host), with
    a topic whose replicas are all on 1-3."""
    cluster = LocalKafka(4, controllers=3, heap="256m").start()
    try:
        cluster.admin().create_topic(TOPIC, assignments={p: [1 + (p + i) % 3 for i in range(3)] for p in range(6)})
        cluster.produce(TOPIC, MESSAGES)
        yield cluster
    finally:
        cluster.stop()


def test_a_property_change_rolls_the_pods_one_at_a_time_active_controller_last(stand_in):
    before = {name: pod["metadata"]["uid"] for name, pod in kafka_pods().items()}
    extra = {"platform_kubernetes_admin": True, "platform_kubernetes_admin_bootstrap": stand_in.bootstrap_servers,
             "kafka_broker_properties": {"num.partitions": 6, "log.retention.hours": 72}}
    report = playbook("site.yml", extra)
    steps = task_names(report, r"^(Restart pod \d/\d: |Wait until the cluster allows restarting |"
                               r"Wait until every broker is back in sync \(and the controller caught up\) after restarting )")
    restarted = [s.split(": ", 1)[1] for s in steps if s.startswith("Restart pod")]
    assert sorted(restarted) == sorted(before)
    # each restart is preceded by the gate that lets it go down and followed by the gate that finds it
    # back (kafka_restart_gate, asking the stand-in cluster) before the next pod goes
    assert steps == [s for pod in restarted for s in (
        "Wait until the cluster allows restarting %s" % pod,
        "Restart pod %d/3: %s" % (restarted.index(pod) + 1, pod),
        "Wait until every broker is back in sync (and the controller caught up) after restarting %s" % pod)]
    quorum = [r for play in report["plays"] for task in play["tasks"] if task["task"]["name"].endswith("Learn the active controller")
              for r in task["hosts"].values()]
    leader = quorum[0]["quorum"]["leader_id"]
    assert restarted[-1] == "kafka-combined-%d" % (leader - 1), (leader, restarted)
    after = kafka_pods()
    sts = objects("apps/v1", "StatefulSet")[STS]
    for name, pod in after.items():
        assert pod["metadata"]["uid"] != before[name]
        assert pod["metadata"]["labels"]["controller-revision-hash"] == sts["status"]["updateRevision"]
    config = objects("v1", "ConfigMap")["%s-config" % STS]["data"]
    assert properties(config["server-1.properties"])["log.retention.hours"] == "72"
    again = playbook("site.yml", extra)
    assert changed(again) == 0
    assert task_names(again, r"^Restart pod") == []
    assert {name: pod["metadata"]["uid"] for name, pod in kafka_pods().items()} == \
        {name: pod["metadata"]["uid"] for name, pod in after.items()}


def test_scale_out_adds_a_broker_pod_and_rebalances_onto_it(stand_in):
    extra_inventory = os.path.join(CONF["workdir"], "k8s-scale-out.yml")
    with open(extra_inventory, "w") as handle:
        json.dump({"kafka_broker": {"hosts": {"kafka-4": {"kafka_node_id": 4, "ansible_connection": "local"}}}}, handle)
    assert not any(4 in p["replicas"] for p in stand_in.admin().partitions() if p["topic"] == TOPIC)
    extra = {"platform_kubernetes_admin": True, "platform_kubernetes_admin_bootstrap": stand_in.bootstrap_servers,
             "kafka_broker_properties": {"num.partitions": 6, "log.retention.hours": 72}}
    report = playbook("scale_out.yml", extra, inventories=[extra_inventory])
    assert task_names(report, r"^Restart pod") == []  # the existing pods keep their configuration
    brokers = objects("apps/v1", "StatefulSet")["kafka-broker"]
    assert brokers["spec"]["replicas"] == 1
    pod = wait_for(lambda: objects("v1", "Pod").get("kafka-broker-0"), what="pod kafka-broker-0")
    assert [c["status"] for c in pod["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
    server = properties(objects("v1", "ConfigMap")["kafka-broker-config"]["data"]["server-0.properties"])
    assert server["node.id"] == "4" and server["process.roles"] == "broker"
    assert "EXTERNAL://nodes.kafka.test:31093" in server["advertised.listeners"].split(",")
    assert objects("v1", "Service")["kafka-broker-0-external"]["spec"]["ports"][0]["nodePort"] == 31093
    # the reassignment took over: broker 4 holds its share (18 replicas over 4 brokers), nothing lost
    replicas = [r for p in stand_in.admin().partitions() if p["topic"] == TOPIC for r in p["replicas"]]
    assert replicas.count(4) in (4, 5), replicas
    assert stand_in.count_keys(TOPIC) == MESSAGES


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
