# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Kafka Connect, Schema Registry and ksqlDB on Kubernetes, after test_kubernetes.py (pytest -x, in order):

1. each service cluster of the inventory is a StatefulSet with the properties a VM host gets
   (bootstrap servers are the broker pods' DNS names, each pod advertises its own name), the
   connectors' secret in a Secret, the REST API's users in another (the readiness probe logs in),
   the plugin downloaded and checked by an init container, and
   its pods ready under kwok (no kubelet: nothing runs in them, so the REST steps are off);
2. the rendered objects validate against the oldest and newest supported Kubernetes;
3. day 2: a Connect property and a rotated connector secret roll the Connect pods (Kubernetes
   replaces them one at a time) and nothing else; the secret appears in no output; a second run
   changes nothing;
4. the preflight reads the service id the ksqlDB pods run with and refuses another one;
5. the REST steps (gate, connectors applied and recorded in a ConfigMap, purge of a recorded one,
   an unrecorded one left alone) through kafka_connect_kubernetes_url, against a stand-in for the
   pods' REST API: a real Connect worker on loopback (no kubelet runs the pods here).
"""
from __future__ import annotations

import base64
import json
import os
import sys
import urllib.request

import yaml
from k8s_checks import CONF, NAMESPACE, api, changed, objects, playbook, properties, validate_rendered

sys.path.insert(0, os.path.join(CONF["project"], "tests", "integration"))
from connect_local import LocalConnect  # noqa: E402
from kafka_local import LocalKafka  # noqa: E402

DOMAIN = "%s.svc.cluster.local" % NAMESPACE
# the services' clients bootstrap from the three combined nodes of the inventory
BROKERS = ",".join(["kafka-combined-%d.kafka-combined.%s:9092" % (i, DOMAIN) for i in range(3)])
# the brokers' properties of the inventory: these runs keep them, so that no Kafka pod restarts
BROKER_PROPERTIES = {"num.partitions": 6}
# the inventories these runs add to the scenario's (none: the brokers' scale-out is kubernetes-pods')
SCALED_OUT = []


def service_pods(name):
    return {pod_name: pod for pod_name, pod in objects("v1", "Pod").items()
            if pod["metadata"]["labels"].get("app.kubernetes.io/name") == name}


def ready(pod):
    return [c["status"] for c in pod["status"]["conditions"] if c["type"] == "Ready"] == ["True"]


def test_each_service_cluster_is_a_statefulset_with_the_inventorys_settings():
    sets = objects("apps/v1", "StatefulSet")
    config = objects("v1", "ConfigMap")
    connect = sets["kafka-connect"]["spec"]
    assert connect["replicas"] == 2 and connect["updateStrategy"]["type"] == "RollingUpdate"
    pod = connect["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "apache/kafka:4.3.1"
    assert container["resources"] == {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
    assert {e["name"]: e["value"] for e in container["env"]}["KAFKA_HEAP_OPTS"] == "-Xms512m -Xmx512m"
    # the REST API has users (kafka_connect_rest_users): the probe logs in with a header from the login Secret
    probe = container["readinessProbe"]["exec"]["command"][2]
    assert "GET /connectors HTTP/1.1" in probe and "/opt/kafkaops/rest-auth/probe-authorization" in probe
    env = {e["name"]: e["value"] for e in container["env"]}
    assert "-Djava.security.auth.login.config=/opt/kafkaops/rest-auth/rest-jaas.conf" in env["KAFKA_OPTS"].split()
    login = {k: base64.b64decode(v).decode() for k, v in objects("v1", "Secret")["kafka-connect-rest-auth"]["data"].items()}
    assert sorted(login) == ["probe-authorization", "rest-jaas.conf", "rest-users.properties"]
    assert properties(login["rest-users.properties"]) == {"ops": "Ops-s3cret-k8s"}
    assert 'file="/opt/kafkaops/rest-auth/rest-users.properties"' in login["rest-jaas.conf"]
    worker = properties(config["kafka-connect-config"]["data"]["worker.properties"])
    assert worker["bootstrap.servers"] == BROKERS
    assert worker["group.id"] == "connect" and worker["config.storage.topic"] == "connect-configs"
    assert worker["connector.client.config.override.policy"] == "None"
    assert worker["plugin.path"] == "/opt/kafka-connect/plugins"
    assert "rest.advertised.host.name" not in worker  # each pod sets its own
    assert worker["rest.extension.classes"] == "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
    assert 'host="${HOSTNAME}.kafka-connect-pods.%s"' % DOMAIN in config["kafka-connect-scripts"]["data"]["start.sh"]
    plugins = config["kafka-connect-scripts"]["data"]["plugins.sh"]
    assert ("https://artifacts.kafka.test/maven2/io/debezium/debezium-connector-postgres/3.6.1.Final/"
            "debezium-connector-postgres-3.6.1.Final-plugin.tar.gz") in plugins
    assert "sha1sum -c -" in plugins and "/opt/kafka-connect/plugins/debezium-postgres-3.6.1.Final" in plugins
    assert pod["initContainers"][0]["command"] == ["/bin/sh", "/opt/kafkaops/scripts/plugins.sh"]
    secret = objects("v1", "Secret")["kafka-connect-secrets"]["data"]
    assert base64.b64decode(secret["postgres.properties"]).decode().endswith("password=Pg-s3cret-k8s\n")

    registry = sets["kafka-schema-registry"]["spec"]
    assert registry["replicas"] == 2
    assert registry["template"]["spec"]["containers"][0]["image"] == "confluentinc/cp-schema-registry:7.9.0"
    assert "exec" in registry["template"]["spec"]["containers"][0]["readinessProbe"]
    # the registry's and ksqlDB's properties may hold client passwords: always a Secret
    secrets = {name: {key: base64.b64decode(value).decode() for key, value in secret.get("data", {}).items()}
               for name, secret in objects("v1", "Secret").items()}
    store = properties(secrets["kafka-schema-registry-config"]["schema-registry.properties"])
    assert store["kafkastore.bootstrap.servers"] == BROKERS
    assert "host.name" not in store

    ksql = sets["kafka-ksqldb"]["spec"]
    assert ksql["replicas"] == 1
    server = properties(secrets["kafka-ksqldb-config"]["ksql-server.properties"])
    assert server["ksql.service.id"] == "ksql_"
    assert server["ksql.schema.registry.url"] == "http://kafka-schema-registry.%s:8081" % DOMAIN
    assert server["ksql.queries.file"] == "/opt/kafkaops/config/queries.sql"
    assert "CREATE STREAM orders_raw" in secrets["kafka-ksqldb-config"]["queries.sql"]

    for name, count in (("kafka-connect", 2), ("schema-registry", 2), ("ksqldb", 1)):
        pods = service_pods(name)
        assert len(pods) == count and all(ready(p) for p in pods.values()), (name, sorted(pods))
    services = objects("v1", "Service")
    assert services["kafka-connect"]["spec"]["ports"][0]["port"] == 8083
    assert services["kafka-connect-pods"]["spec"]["clusterIP"] == "None"


def test_rendered_service_objects_are_valid_for_the_oldest_and_newest_supported_kubernetes():
    for component in ("connect", "schema-registry", "ksqldb"):
        path = os.path.join(CONF["workdir"], "manifests", "kafka-%s-%s.yaml" % (component, NAMESPACE))
        with open(path) as handle:
            rendered = yaml.safe_load(handle)
        assert os.stat(path).st_mode & 0o077 == 0
        assert {"StatefulSet", "Service", "ConfigMap", "PodDisruptionBudget"} <= {o["kind"] for o in rendered}
        # Secrets are written redacted
        assert "Pg-s3cret-k8s" not in json.dumps(rendered) and "Ops-s3cret-k8s" not in json.dumps(rendered)
        assert validate_rendered(rendered, crd_groups=[]) == 2 * len(rendered)


def test_a_connect_change_rolls_only_the_connect_pods_and_a_second_run_changes_nothing():
    uids = {name: pod["metadata"]["uid"] for name, pod in objects("v1", "Pod").items()}
    extra = {"kafka_broker_properties": BROKER_PROPERTIES,
             "kafka_connect_properties": {"offset.flush.interval.ms": 5000},
             "kafka_connect_secrets": {"postgres": {"password": "Pg-r0tated-k8s"}}}
    report = playbook("site.yml", extra, inventories=SCALED_OUT)
    text = json.dumps(report)
    assert "Pg-r0tated-k8s" not in text and "Pg-s3cret-k8s" not in text and "Ops-s3cret-k8s" not in text
    connect = objects("apps/v1", "StatefulSet")["kafka-connect"]
    revision = connect["status"]["updateRevision"]
    assert connect["status"]["currentRevision"] == revision
    after = objects("v1", "Pod")
    for name, pod in after.items():
        if name.startswith("kafka-connect-"):
            assert pod["metadata"]["uid"] != uids[name] and ready(pod)
            assert pod["metadata"]["labels"]["controller-revision-hash"] == revision
        else:
            assert pod["metadata"]["uid"] == uids.get(name), name
    worker = properties(objects("v1", "ConfigMap")["kafka-connect-config"]["data"]["worker.properties"])
    assert worker["offset.flush.interval.ms"] == "5000"
    again = playbook("site.yml", extra, inventories=SCALED_OUT)
    assert changed(again) == 0
    assert {n: p["metadata"]["uid"] for n, p in objects("v1", "Pod").items()} == {n: p["metadata"]["uid"] for n, p in after.items()}


def test_a_ksqldb_service_id_change_stops_before_anything_is_applied():
    before = objects("apps/v1", "StatefulSet")["kafka-ksqldb"]["metadata"]["resourceVersion"]
    report = playbook("site.yml", {"kafka_broker_properties": BROKER_PROPERTIES, "ksqldb_service_id": "orders_"},
                      inventories=SCALED_OUT, fails=True)
    messages = " ".join(str(msg) for _task, _host, msg in report["failures"])
    assert "ksql-1: ksqldb_service_id would change from 'ksql_' to 'orders_' on a running ksqlDB cluster" in messages, messages
    assert objects("apps/v1", "StatefulSet")["kafka-ksqldb"]["metadata"]["resourceVersion"] == before


def test_connectors_are_applied_recorded_and_purged_through_the_clusters_url(tmp_path):
    """platform_kubernetes_rest for the Connect hosts only (Schema Registry has no stand-in), with the REST API
    at a real worker on loopback standing in for the pods' Service; its plugins are Kafka's own, so the
    inventory's Debezium plugin is left out for this run. One run: the declared connector is applied and
    recorded, a recorded one no longer declared is purged, one the role never applied is left alone."""
    lines = tmp_path / "lines.txt"
    lines.write_text("one\ntwo\n")
    source = {"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "tasks.max": "1",
              "file": str(lines)}
    kafka = LocalKafka(1, controllers=1, heap="256m").start()
    try:
        with LocalConnect(kafka, workers=1) as connect:
            for name in ("stale-source", "hand-made"):
                request = urllib.request.Request("%s/connectors/%s/config" % (connect.url(1), name), method="PUT",
                                                 data=json.dumps(dict(source, topic=name)).encode(),
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
                    assert answer.status in (200, 201)
            # an earlier run applied stale-source (as the role records it)
            api_record = {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "kafka-connect-connectors", "namespace": NAMESPACE},
                          "data": {"managed-connectors.json": json.dumps(["stale-source"]) + "\n"}}
            api().resources.get(api_version="v1", kind="ConfigMap").server_side_apply(
                body=api_record, namespace=NAMESPACE, field_manager="kafkaops.platform", force_conflicts=True)
            rest = os.path.join(CONF["workdir"], "k8s-connect-rest.json")
            reach = {"platform_kubernetes_rest": True, "kafka_connect_kubernetes_url": connect.url(1),
                     "kafka_connect_plugins": []}
            with open(rest, "w") as handle:
                json.dump({"kafka_connect": {"hosts": {"connect-1": reach, "connect-2": reach}}}, handle)
            extra = {"kafka_broker_properties": BROKER_PROPERTIES, "kafka_connect_purge_connectors": True,
                     "kafka_connect_connectors": [{"name": "k8s-file-source", "config": dict(source, topic="k8s-lines")}]}
            report = playbook("site.yml", extra, inventories=SCALED_OUT + [rest])
            assert "Ops-s3cret-k8s" not in json.dumps(report)
            assert sorted(connect.get("/connectors")) == ["hand-made", "k8s-file-source"]
            assert connect.get("/connectors/k8s-file-source/status")["connector"]["state"] == "RUNNING"
            record = objects("v1", "ConfigMap")["kafka-connect-connectors"]["data"]["managed-connectors.json"]
            assert json.loads(record) == ["k8s-file-source"]
    finally:
        kafka.stop()
