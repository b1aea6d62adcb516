# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The kubernetes-pods scenario after converge and idempotence, in order (pytest -x), on pods that
really run (tests/harness/k8s/node.sh):

1. the pods run the local image, their probes pass (Ready), their volumes are bound;
2. Kafka itself, asked from outside through the NodePorts with SASL_SSL: every broker of the inventory
   registered and advertising its own NodePort at the node's address; asked from inside a pod with
   Kafka's own tools over the cluster DNS name: the quorum has the inventory's voters;
3. a client on the control node produces with acks=all and consumes through the NodePorts; a client
   in a pod produces over SASL_SSL through the bootstrap Service, and the control node reads it all;
4. a property change rolls the pods one at a time, gated on Kafka's health, the active controller
   last, with numbered messages sent under acks=all all along: none lost, none duplicated;
5. a pod deleted by hand comes back on its own volume: the same segment files (inode and size)
   and the same log end offsets;
6. scale_out.yml adds a broker pod and the reassignment moves data onto it, every message still there;
7. faults: an image the node does not have, a volume claim that cannot bind and a process that
   exits at start make site.yml fail within its timeout, with the pods' events and last log lines.

Expected values come from the inventory as a person reads it (molecule.yml), not from the
collection's filters. The figures go to .cache/molecule/kubernetes-pods-figures.json.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid

import yaml
from k8s_checks import CONF, NAMESPACE, core, objects, playbook, task_names, wait_for
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError
from kubernetes.stream import stream

sys.path.insert(0, os.path.join(CONF["project"], "tests", "harness"))
from numbered_load import NumberedLoad  # noqa: E402

with open(os.path.join(CONF["project"], "molecule", "kubernetes-pods", "molecule.yml")) as _scenario:
    SCENARIO = yaml.safe_load(_scenario)
VARS = SCENARIO["provisioner"]["inventory"]["group_vars"]["all"]
EXTERNAL = VARS["platform_kubernetes_external"]
NODE_ADDRESS = EXTERNAL["host"]
BOOTSTRAP = ["%s:%d" % (NODE_ADDRESS, EXTERNAL["bootstrap_node_port"])]
NODE_IDS = sorted(CONF["hosts"].values())
CA = os.path.join(CONF["workdir"], "ca", "ca.crt")
ADMIN = ("admin", VARS["security_admin_password"])
APP = ("app", VARS["security_app_password"])
STS = "kafka-combined"
DATA_DIR = "/var/lib/kafka/kafka-broker"
ROLL_TOPIC = "pods-roll"
FIGURES = os.path.join(CONF["project"], ".cache", "molecule", "kubernetes-pods-figures.json")
STATE = {}


def client(user):
    return {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": user[0],
            "sasl_plain_password": user[1], "ssl_cafile": CA}


def admin():
    return KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=30000, **client(ADMIN))


def record(**figures):
    known = {}
    if os.path.exists(FIGURES):
        with open(FIGURES) as handle:
            known = json.load(handle)
    known.update(figures)
    with open(FIGURES, "w") as handle:
        json.dump(known, handle, indent=1, sort_keys=True)


def kafka_pods():
    return {name: pod for name, pod in objects("v1", "Pod").items()
            if pod["metadata"]["labels"].get("app.kubernetes.io/name") == "kafka"}


def ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions") or [])


def pod_exec(pod, script, timeout=180):
    """Run ``script`` with bash in the pod's kafka container (through the API server and the kubelet)."""
    response = stream(core().connect_get_namespaced_pod_exec, pod, NAMESPACE, container="kafka",
                      command=["/bin/bash", "-c", script], stderr=True, stdin=False, stdout=True, tty=False,
                      _preload_content=False)
    response.run_forever(timeout=timeout)
    out, err = response.read_stdout(), response.read_stderr()
    assert response.returncode == 0, "exec in %s failed (%s): %s %s" % (pod, response.returncode, out[-2000:], err[-2000:])
    return out


def client_properties(user):
    """A Kafka client configuration inside a pod: SASL_SSL with SCRAM, trusting the pod's CA bundle."""
    return "\n".join([
        "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";' % user,
        "ssl.truststore.type=PEM", "ssl.truststore.location=/etc/kafka/tls/truststore.pem"]) + "\n"


def kafka_tool(pod, user, tool_args, timeout=180):
    """One of Kafka's own tools, run in the pod with a client configuration for ``user``."""
    conf = "/opt/kafkaops/run/client-%s.properties" % user[0]
    script = ("umask 077; cat >%s <<'EOF'\n%sEOF\n" % (conf, client_properties(user))
              + 'java -Xmx192m -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp "/opt/kafka/libs/*" '
              + tool_args.replace("@CONF@", conf) + " 2>&1 | grep -v ' INFO '")
    return pod_exec(pod, script, timeout)


def reachable(ask, timeout=90):
    """``ask()``, asked again while a broker's NodePort refuses connections: for a moment after a pod
    is back, its Service has no ready endpoint yet and kube-proxy rejects what comes in."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return ask()
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def in_sync(topic):
    def ask():
        with admin() as adm:
            described = adm.describe_topics([topic])
        return all(sorted(p["isr_nodes"]) == sorted(p["replica_nodes"]) for t in described for p in t["partitions"])
    return reachable(ask)


def end_offsets(topic):
    def ask():
        consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP, **client(ADMIN))
        try:
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
            return {tp.partition: offset for tp, offset in consumer.end_offsets(partitions).items()}
        finally:
            consumer.close()
    return reachable(ask)


def test_pods_run_the_local_image_with_probes_passing_and_volumes_bound():
    pods = kafka_pods()
    assert sorted(pods) == ["%s-%d" % (STS, i) for i in range(len(NODE_IDS))]
    for name, pod in pods.items():
        assert pod["status"]["phase"] == "Running" and ready(pod), (name, pod["status"])
        container = pod["spec"]["containers"][0]
        assert container["image"] == VARS["platform_kubernetes_image"]
        assert container["readinessProbe"] and container["startupProbe"]
        status = pod["status"]["containerStatuses"][0]
        assert status["ready"] and status["started"] and "running" in status["state"]
        assert pod["spec"]["nodeName"] == "harness-node"
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    claims = objects("v1", "PersistentVolumeClaim")
    assert sorted(claims) == ["data-%s-%d" % (STS, i) for i in range(len(NODE_IDS))]
    assert all(c["status"]["phase"] == "Bound" for c in claims.values()), {n: c["status"] for n, c in claims.items()}
    namespace = objects("v1", "Namespace", namespace=None)[NAMESPACE]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_broker_registers_with_its_node_port_and_the_quorum_forms():
    with admin() as adm:
        cluster = adm.describe_cluster()
    brokers = {b["broker_id"]: (b["host"], b["port"]) for b in cluster["brokers"]}
    # the inventory's node ids, each advertised on its own NodePort at the node's address
    assert brokers == {n: (NODE_ADDRESS, EXTERNAL["node_port_base"] + n - 1) for n in NODE_IDS}
    # inside the cluster: Kafka's own tool, over SASL_SSL through the bootstrap Service's DNS name
    out = kafka_tool("%s-0" % STS, ADMIN, "org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "
                     "kafka-bootstrap.%s.svc.cluster.local:9092 --command-config @CONF@ describe --status" % NAMESPACE)
    voters = sorted(int(v) for v in re.findall(r'"id":\s*(\d+)', re.search(r"CurrentVoters:\s*(\[.*?\])\n", out + "\n").group(1)))
    assert voters == NODE_IDS, out
    leader = int(re.search(r"LeaderId:\s*(\d+)", out).group(1))
    assert leader in NODE_IDS
    STATE["leader"] = leader


def test_clients_inside_and_outside_the_cluster_produce_and_consume_over_sasl_ssl():
    topic = "pods-round-trip"
    with admin() as adm:
        adm.create_topics([NewTopic(topic, 3, 3, topic_configs={"min.insync.replicas": "2"})])
        adm.create_topics([NewTopic(ROLL_TOPIC, 3, 3, topic_configs={"min.insync.replicas": "2"})])
    wait_for(lambda: in_sync(topic) and in_sync(ROLL_TOPIC), what="the new topics in sync")
    # outside: numbered messages with acks=all from the control node, through the NodePorts
    load = NumberedLoad(BOOTSTRAP, topic, rate=100, client=client(APP))
    load.start()
    time.sleep(5)
    load.finish()
    counted = load.count()
    print("outside round trip:", counted)
    assert counted["acknowledged"] >= 300, counted
    assert counted["lost"] == 0 and counted["duplicated"] == 0 and counted["failed"] == 0 and counted["unanswered"] == 0, counted
    # inside: Kafka's producer in a pod, through the bootstrap Service's cluster DNS name
    inside = 500
    out = kafka_tool("%s-1" % STS, APP, "org.apache.kafka.tools.ProducerPerformance --topic %s --num-records %d "
                     "--record-size 64 --throughput -1 --producer-props acks=all "
                     "bootstrap.servers=kafka-bootstrap.%s.svc.cluster.local:9092 --producer.config @CONF@"
                     % (topic, inside, NAMESPACE))
    assert re.search(r"\b%d records sent" % inside, out), out
    offsets = end_offsets(topic)
    assert sum(offsets.values()) == counted["acknowledged"] + inside, (offsets, counted)
    record(outside_round_trip=counted, inside_records=inside)


def test_a_property_change_rolls_the_pods_one_at_a_time_under_load_losing_nothing():
    before = {name: pod["metadata"]["uid"] for name, pod in kafka_pods().items()}
    load = NumberedLoad(BOOTSTRAP, ROLL_TOPIC, rate=25, client=client(APP))
    load.start()
    time.sleep(3)
    started = time.monotonic()
    report = playbook("site.yml", {"kafka_broker_properties": {"num.partitions": 3, "log.cleaner.threads": 2}})
    roll_seconds = round(time.monotonic() - started, 1)
    time.sleep(3)
    load.finish()
    counted = load.count()
    print("roll under load:", counted, "site.yml %ss" % roll_seconds)
    record(roll=counted, roll_site_seconds=roll_seconds)
    assert counted["lost"] == 0 and counted["duplicated"] == 0 and counted["failed"] == 0 and counted["unanswered"] == 0, counted
    assert counted["acknowledged"] > 25 * roll_seconds * 0.8, counted
    steps = task_names(report, r"^(Restart pod \d/\d: |Wait until the cluster allows restarting |"
                               r"Wait until every broker is back in sync \(and the controller caught up\) after restarting )")
    restarted = [s.split(": ", 1)[1] for s in steps if s.startswith("Restart pod")]
    assert sorted(restarted) == sorted(before)
    assert steps == [s for pod in restarted for s in (
        "Wait until the cluster allows restarting %s" % pod,
        "Restart pod %d/3: %s" % (restarted.index(pod) + 1, pod),
        "Wait until every broker is back in sync (and the controller caught up) after restarting %s" % pod)]
    quorum = [r for play in report["plays"] for task in play["tasks"] if task["task"]["name"].endswith("Learn the active controller")
              for r in task["hosts"].values()]
    leader = quorum[0]["quorum"]["leader_id"]
    assert restarted[-1] == "%s-%d" % (STS, leader - 1), (leader, restarted)
    after = kafka_pods()
    assert all(after[name]["metadata"]["uid"] != uid for name, uid in before.items())
    # the pods started in the order they were restarted, one after the other
    started_at = [after[name]["status"]["startTime"] for name in restarted]
    assert started_at == sorted(started_at), started_at
    # every broker runs the new value: Kafka's own kafka-configs, asked in a pod over SASL_SSL
    for node in NODE_IDS:
        out = kafka_tool("%s-0" % STS, ADMIN, "kafka.admin.ConfigCommand --bootstrap-server kafka-bootstrap.%s.svc.cluster.local:9092 "
                         "--command-config @CONF@ --entity-type brokers --entity-name %d --describe --all" % (NAMESPACE, node))
        assert re.search(r"^\s*log\.cleaner\.threads=2 ", out, re.M), (node, out[-3000:])
    STATE["load"] = load


def test_a_pod_deleted_by_hand_comes_back_with_its_data():
    pod = "%s-1" % STS
    wait_for(lambda: in_sync(ROLL_TOPIC), what="%s in sync" % ROLL_TOPIC)
    listing = "stat -c '%%n %%i %%s' %s/%s-*/00000000000000000000.log" % (DATA_DIR, ROLL_TOPIC)
    segments = pod_exec(pod, listing)
    assert len(segments.split("\n")) >= 3 and all(int(line.split()[2]) > 0 for line in segments.split("\n") if line), segments
    offsets = end_offsets(ROLL_TOPIC)
    uid = core().read_namespaced_pod(pod, NAMESPACE).metadata.uid
    claim = objects("v1", "PersistentVolumeClaim")["data-%s" % pod]["metadata"]["uid"]
    started = time.monotonic()
    core().delete_namespaced_pod(pod, NAMESPACE)
    def replaced():
        found = kafka_pods().get(pod)
        return found if found and found["metadata"]["uid"] != uid and ready(found) else None
    back = wait_for(replaced, timeout=300, interval=2, what="pod %s back and ready" % pod)
    wait_for(lambda: in_sync(ROLL_TOPIC), timeout=180, interval=2, what="%s in sync again" % ROLL_TOPIC)
    record(pod_back_seconds=round(time.monotonic() - started, 1))
    assert back["status"]["containerStatuses"][0]["restartCount"] == 0
    assert objects("v1", "PersistentVolumeClaim")["data-%s" % pod]["metadata"]["uid"] == claim
    # the same files on the same volume, not a copy fetched again from the other replicas
    assert pod_exec(pod, listing) == segments
    assert end_offsets(ROLL_TOPIC) == offsets


def test_scale_out_adds_a_broker_pod_and_moves_data_onto_it():
    extra_inventory = os.path.join(CONF["workdir"], "pods-scale-out.yml")
    with open(extra_inventory, "w") as handle:
        json.dump({"kafka_broker": {"hosts": {"kafka-4": {"kafka_node_id": 4, "ansible_connection": "local"}}}}, handle)
    started = time.monotonic()
    report = playbook("scale_out.yml", {"kafka_broker_properties": {"num.partitions": 3, "log.cleaner.threads": 2}},
                      inventories=[extra_inventory])
    record(scale_out_seconds=round(time.monotonic() - started, 1))
    assert task_names(report, r"^Restart pod") == []
    pod = objects("v1", "Pod")["kafka-broker-0"]
    assert ready(pod)
    with admin() as adm:
        brokers = {b["broker_id"]: (b["host"], b["port"]) for b in adm.describe_cluster()["brokers"]}
        assert brokers[4] == (NODE_ADDRESS, EXTERNAL["node_port_base"] + 3)
        every = [p for t in adm.describe_topics(adm.list_topics()) for p in t["partitions"]]
        partitions = [p for t in adm.describe_topics([ROLL_TOPIC]) for p in t["partitions"]]
    replicas = [r for p in every for r in p["replica_nodes"]]
    # the new broker holds its share of the cluster's replicas (18 over 4 brokers: at least 4)
    assert replicas.count(4) >= len(replicas) // 4, replicas
    assert all(sorted(p["isr_nodes"]) == sorted(p["replica_nodes"]) for p in partitions), partitions
    counted = STATE["load"].count()
    assert counted["lost"] == 0 and counted["duplicated"] == 0, counted
    # broker 4's copy of a partition it now holds has every message
    moved = next(p["partition_index"] for p in partitions if 4 in p["replica_nodes"])
    listing = pod_exec("kafka-broker-0", "stat -c '%%s' %s/%s-%d/00000000000000000000.log" % (DATA_DIR, ROLL_TOPIC, moved))
    assert int(listing.strip()) > 0


def _faulty_run(name, hosts, extra, timeout=30):
    """site.yml with an inventory of its own (``hosts``: group -> {host: vars}), the scenario's settings
    plus ``extra``, into a namespace of its own: it must fail within the wait timeout, and say why."""
    namespace = "kafka-pods-%s-%s" % (name, uuid.uuid4().hex[:4])
    inventory = os.path.join(CONF["workdir"], "pods-%s.json" % name)
    settings = dict(VARS, platform_kubernetes_namespace=namespace, platform_kubernetes_wait_timeout=timeout,
                    platform_kubernetes_external={"type": "none"}, platform_kubernetes_admin_bootstrap=[], **extra)
    with open(inventory, "w") as handle:
        json.dump({"all": {"vars": settings, "children": {group: {"hosts": {h: dict(v, ansible_connection="local")
                                                                           for h, v in members.items()}}
                                                        for group, members in hosts.items()}}}, handle)
    os.chmod(inventory, 0o600)
    started = time.monotonic()
    report = playbook("site.yml", inventories=[inventory], own_inventory=True, fails=True)
    seconds = round(time.monotonic() - started, 1)
    message = " ".join(" ".join(str(m).split()) for _task, _host, m in report["failures"])
    print(name, "failed after", seconds, "s:", message[:3000])
    assert seconds < timeout + 90, seconds
    for secret in (ADMIN[1], APP[1]):
        assert secret not in message
    core().delete_namespace(namespace)
    return message, seconds


def test_an_image_the_node_does_not_have_fails_the_run_with_the_pods_events():
    # plain listeners and no CA: this run is about the image alone (the next one keeps the security)
    plain = {"listeners": [{"name": name, "port": port, "protocol": "PLAINTEXT"}
                           for name, port in (("CLIENT", 9092), ("INTERNAL", 9091), ("CONTROLLER", 9093))],
             "inter_broker_listener": "INTERNAL", "controller_listener": "CONTROLLER", "client_listener": "CLIENT"}
    message, seconds = _faulty_run("image", {"kafka_controller": {"bad-1": {"kafka_node_id": 1}},
                                             "kafka_broker": {"bad-1": {}}},
                                   {"platform_kubernetes_image": "localhost/kafkaops-kafka:0.0.0-absent",
                                    "platform_security": plain, "platform_tls_internal_ca": False, "platform_acls": []})
    record(fault_image_seconds=seconds)
    assert "kafka-combined-0" in message and "ErrImageNeverPull" in message, message
    assert "localhost/kafkaops-kafka:0.0.0-absent" in message, message


def test_an_unbound_claim_and_a_process_that_exits_fail_the_run_with_events_and_log_lines():
    message, seconds = _faulty_run("faults", {"kafka_controller": {"ctl-1": {"kafka_node_id": 1}},
                                              "kafka_broker": {"brk-1": {"kafka_node_id": 2}}},
                                   {"kafka_broker_kubernetes_storage_class": "no-such-class",
                                    "kafka_controller_properties": {"principal.builder.class": "com.example.NoSuchBuilder"}},
                                   # the controller's JVM has to read its configuration and exit within the wait,
                                   # beside the other lane's scenario on 2 cores (3 restarts in 60 s measured there)
                                   timeout=45)
    record(fault_claim_and_crash_seconds=seconds)
    # the broker's claim names a class that does not exist: the pod is never scheduled
    assert "kafka-broker-0" in message and "Pending" in message, message
    assert "data-kafka-broker-0" in message and "no-such-class" in message, message
    # the controller starts and exits: its last log lines say why
    assert "kafka-controller-0" in message, message
    assert "com.example.NoSuchBuilder" in message, message
    assert "unable to retrieve container logs" not in message, message
