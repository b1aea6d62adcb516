# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _kubernetes.services: the objects of a Connect, Schema Registry or ksqlDB cluster on
Kubernetes and OpenShift (also validated against the OpenAPI schemas of the oldest and newest
supported Kubernetes), the scripts the pods run (executed here with bash and busybox-like tools),
the roll-out check and the preflight's refusals."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile

import kubernetes_validate
import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import services as svc

SUPPORTED = ("1.29.0", "1.37.0")

PLUGIN = {"name": "debezium-postgres", "version": "3.6.1.Final", "directory": "debezium-postgres-3.6.1.Final",
          "url": "https://repo.example/io/debezium/debezium-connector-postgres-3.6.1.Final-plugin.tar.gz",
          "checksum": "sha256:" + "a" * 64, "filename": "debezium-connector-postgres-3.6.1.Final-plugin.tar.gz",
          "classes": ["io.debezium.connector.postgresql.PostgresConnector"], "src": ""}


def connect_spec(**changes):
    spec = {"name": "kafka", "namespace": "kafka-prod", "platform": "kubernetes", "kind": "connect", "component": "connect",
            "replicas": 2, "image": "apache/kafka:4.3.1", "port": 8083, "config_name": "worker.properties",
            "properties": {"bootstrap.servers": "kafka-combined-0.kafka-combined.kafka-prod.svc.cluster.local:9092",
                           "group.id": "connect", "rest.advertised.host.name": "connect-1",
                           "plugin.path": "/opt/kafka-connect/plugins"},
            "secret": False, "files": {"postgres.properties": "password=s3cret\n"}, "files_dir": "/etc/kafka/kafka-connect/secrets",
            "plugins": [dict(PLUGIN)], "plugin_root": "/opt/kafka-connect/plugins", "heap_size": "1g",
            "jvm_options": ["-XX:+UseG1GC"], "environment": {"EXTRA": "1"}, "resources": {"limits": {"memory": "2Gi"}}}
    spec.update(changes)
    return spec


def by_kind(objects):
    found = {}
    for obj in objects:
        found.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    return found


def test_a_connect_cluster_is_a_statefulset_with_its_services_secrets_and_budget():
    objects = by_kind(svc.manifests(connect_spec()))
    sts = objects["StatefulSet"]["kafka-connect"]["spec"]
    assert sts["replicas"] == 2 and sts["serviceName"] == "kafka-connect-pods"
    assert sts["updateStrategy"]["type"] == "RollingUpdate"
    assert objects["Service"]["kafka-connect-pods"]["spec"]["clusterIP"] == "None"
    assert objects["Service"]["kafka-connect"]["spec"]["ports"] == [
        {"name": "rest", "port": 8083, "targetPort": "rest", "protocol": "TCP"}]
    assert objects["PodDisruptionBudget"]["kafka-connect"]["spec"]["maxUnavailable"] == 1
    # the connectors' secrets are a Secret, mounted where the file config provider reads them on VMs
    assert objects["Secret"]["kafka-connect-secrets"]["stringData"] == {"postgres.properties": "password=s3cret\n"}
    pod = sts["template"]["spec"]
    container = pod["containers"][0]
    assert {"name": "secrets", "mountPath": "/etc/kafka/kafka-connect/secrets", "readOnly": True} in container["volumeMounts"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/connectors", "port": "rest", "scheme": "HTTP"}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["KAFKA_HEAP_OPTS"] == "-Xms1g -Xmx1g" and env["KAFKA_OPTS"] == "-XX:+UseG1GC" and env["EXTRA"] == "1"
    assert container["resources"] == {"limits": {"memory": "2Gi"}}
    # restricted Pod Security: non-root, no privilege escalation, read-only root file system
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 1000
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["initContainers"][0]["name"] == "plugins"
    # the brokers' selectors (app.kubernetes.io/name=kafka) never pick these pods
    assert sts["selector"]["matchLabels"]["app.kubernetes.io/name"] == "kafka-connect"


def test_the_properties_leave_the_advertised_name_to_each_pod():
    objects = by_kind(svc.manifests(connect_spec()))
    text = objects["ConfigMap"]["kafka-connect-config"]["data"]["worker.properties"]
    parsed = props.parse_java_properties(text)
    assert "rest.advertised.host.name" not in parsed and parsed["group.id"] == "connect"
    script = objects["ConfigMap"]["kafka-connect-scripts"]["data"]["start.sh"]
    assert 'host="${HOSTNAME}.kafka-connect-pods.kafka-prod.svc.cluster.local"' in script
    assert script.rstrip().endswith('exec /opt/kafka/bin/connect-distributed.sh "$conf"')


def test_properties_with_secrets_go_to_a_secret():
    objects = by_kind(svc.manifests(connect_spec(secret=True)))
    assert "kafka-connect-config" in objects["Secret"]
    volumes = {v["name"]: v for v in objects["StatefulSet"]["kafka-connect"]["spec"]["template"]["spec"]["volumes"]}
    assert volumes["config"]["secret"]["secretName"] == "kafka-connect-config"


def test_a_changed_property_or_secret_changes_the_pod_template_and_nothing_else_does():
    def template_hash(spec):
        sts = by_kind(svc.manifests(spec))["StatefulSet"]["kafka-connect"]
        return sts["spec"]["template"]["metadata"]["annotations"][svc.CONFIG_HASH]

    base = template_hash(connect_spec())
    assert template_hash(connect_spec()) == base
    changed = connect_spec()
    changed["properties"] = dict(changed["properties"], **{"offset.flush.interval.ms": 5000})
    assert template_hash(changed) != base
    assert template_hash(connect_spec(files={"postgres.properties": "password=rotated\n"})) != base
    # the advertised name is the pod's own: the VM value given for it changes nothing
    other = connect_spec()
    other["properties"] = dict(other["properties"], **{"rest.advertised.host.name": "connect-2"})
    assert template_hash(other) == base


@pytest.mark.parametrize("kind,component,probe", [
    ("schema-registry", "schema-registry", "exec"),
    ("ksqldb", "ksqldb", "httpGet"),
])
def test_schema_registry_and_ksqldb(kind, component, probe):
    spec = connect_spec(kind=kind, component=component, image="confluentinc/cp-%s:7.9.0" % kind, port=8081,
                        config_name="x.properties", files={}, plugins=[], canary_subject="_kafkaops_canary",
                        state_dir="/var/lib/kafka/ksqldb" if kind == "ksqldb" else None)
    objects = by_kind(svc.manifests(spec))
    container = objects["StatefulSet"]["kafka-%s" % component]["spec"]["template"]["spec"]["containers"][0]
    assert probe in container["readinessProbe"]
    assert "Secret" not in objects
    script = objects["ConfigMap"]["kafka-%s-scripts" % component]["data"]["start.sh"]
    assert svc.KINDS[kind]["start"] in script and svc.KINDS[kind]["advertise"] in script
    if kind == "ksqldb":
        assert {"name": "state", "mountPath": "/var/lib/kafka/ksqldb"} in container["volumeMounts"]
        assert 'ksql.advertised.listener "http://${host}:8081"' in script


def test_openshift_pods_take_their_uid_from_the_namespace():
    pod = by_kind(svc.manifests(connect_spec(platform="openshift")))["StatefulSet"]["kafka-connect"]["spec"]["template"]["spec"]
    assert "runAsUser" not in pod["securityContext"] and pod["securityContext"]["runAsNonRoot"] is True


def test_the_objects_are_valid_for_the_oldest_and_newest_supported_kubernetes():
    rendered = svc.manifests(connect_spec())
    rendered += svc.manifests(connect_spec(kind="schema-registry", component="schema-registry", plugins=[], files={},
                                           canary_subject="_c"))
    rendered += svc.manifests(connect_spec(kind="ksqldb", component="ksqldb", plugins=[], files={}, state_dir="/s",
                                           extra_config={"queries.sql": "CREATE STREAM s (a INT) WITH (kafka_topic='t');\n"}))
    for version in SUPPORTED:
        for obj in rendered:
            kubernetes_validate.validate(obj, version, strict=True)


def run(script, cwd, env=None):
    path = os.path.join(cwd, "script.sh")
    with open(path, "w") as handle:
        handle.write(script)
    return subprocess.run(["bash", path], check=False, cwd=cwd, env=dict(os.environ, **(env or {})), capture_output=True, text=True)


def test_the_start_script_writes_the_pods_own_address(tmp_path):
    spec = connect_spec(kind="ksqldb", component="ksqldb", tls=True)
    script = svc.start_script(spec)
    config, run_dir = tmp_path / "config", tmp_path / "run"
    config.mkdir()
    run_dir.mkdir()
    (config / "worker.properties").write_text("a=1\n")
    script = script.replace(svc.CONFIG_DIR, str(config)).replace(svc.RUN_DIR, str(run_dir))
    script = script.replace("exec /usr/bin/ksql-server-start", "cat")
    result = run(script, str(tmp_path), {"HOSTNAME": "kafka-ksqldb-1"})
    assert result.returncode == 0, result.stderr
    parsed = props.parse_java_properties(result.stdout)
    assert parsed == {"a": "1", "ksql.advertised.listener": "https://kafka-ksqldb-1.kafka-ksqldb-pods.kafka-prod.svc.cluster.local:8083"}
    assert oct((run_dir / "worker.properties").stat().st_mode & 0o777) == "0o600"


def test_the_plugin_script_checks_the_checksum_and_unpacks(tmp_path):
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:gz") as archive:
        data = b"jar bytes"
        info = tarfile.TarInfo("debezium-connector-postgres/debezium.jar")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    served = tmp_path / "served.tar.gz"
    served.write_bytes(payload.getvalue())
    root = tmp_path / "plugins"
    good = dict(PLUGIN, checksum="sha256:" + hashlib.sha256(payload.getvalue()).hexdigest())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # a stand-in for wget that copies the served file (no network in unit tests)
    (bin_dir / "wget").write_text('#!/bin/sh\n[ "$1" = -q ] && [ "$2" = -O ] && cp %s "$3"\n' % served)
    (bin_dir / "wget").chmod(0o755)
    env = {"PATH": "%s:%s" % (bin_dir, os.environ["PATH"])}

    def install(plugin):
        script = svc.plugins_script(connect_spec(plugins=[plugin], plugin_root="/plugin-root"))
        script = script.replace("/tmp/", str(tmp_path) + "/").replace("/plugin-root", str(root))
        return run(script, str(tmp_path), env)

    result = install(good)
    assert result.returncode == 0, result.stderr
    assert (root / "debezium-postgres-3.6.1.Final" / "debezium-connector-postgres" / "debezium.jar").read_bytes() == b"jar bytes"
    bad = dict(PLUGIN, checksum="sha256:" + "0" * 64, directory="other-1.0")
    result = install(bad)
    assert result.returncode != 0
    assert not (root / "other-1.0" / "debezium-connector-postgres").exists()


def test_rollout_done():
    sts = {"metadata": {"generation": 3}, "spec": {"replicas": 2},
           "status": {"observedGeneration": 3, "currentRevision": "r2", "updateRevision": "r2", "updatedReplicas": 2,
                      "readyReplicas": 2}}
    assert svc.rollout_done(sts)
    assert not svc.rollout_done(None)
    for key, value in (("observedGeneration", 2), ("currentRevision", "r1"), ("updatedReplicas", 1), ("readyReplicas", 1)):
        assert not svc.rollout_done(dict(sts, status=dict(sts["status"], **{key: value})))
    for broken, message in (("sts", "the StatefulSet must be a mapping, got a string ('sts')"),
                            (dict(sts, spec=["x"]), "the StatefulSet's spec must be a mapping, got a list"),
                            (dict(sts, spec={"replicas": "two"}), "the StatefulSet's spec.replicas must be an integer, got 'two'"),
                            (dict(sts, status=dict(sts["status"], readyReplicas=1.5)),
                             "the StatefulSet's status.readyReplicas must be an integer, got 1.5")):
        with pytest.raises(svc.ServiceSpecError) as caught:
            svc.rollout_done(broken)
        assert str(caught.value) == message


@pytest.mark.parametrize("changes,message", [
    ({"component": "Connect_A"}, "cannot name a StatefulSet"),
    ({"replicas": 0}, "at least one replica"),
    ({"image": ""}, "has no image"),
    ({"plugins": [dict(PLUGIN, url="", src="/tmp/x.jar")]}, "cannot reach them"),
    ({"kind": "mirror"}, "kind must be one of"),
    ({"kind": ["connect"]}, "kind must be one of"),
    ({"replicas": True}, "at least one replica, got True"),
    ({"replicas": "2"}, "at least one replica, got '2'"),
    ({"namespace": "kafka-prod\n"}, "namespace 'kafka-prod\\\\n' holds a control character"),
    ({"namespace": None}, "namespace must be a string, got null"),
    ({"cluster_domain": "cluster.local\n"}, "cluster_domain 'cluster.local\\\\n' must be a DNS name"),
    ({"name": ["kafka"]}, "name must be a string, got a list"),
    ({"platform": "nomad"}, "platform must be kubernetes or openshift, got 'nomad'"),
    ({"port": "http"}, "kafka-connect port must be a port number"),
    ({"run_as_user": "root"}, "kafka-connect run_as_user must be an integer"),
    ({"heap_size": None}, "kafka-connect heap_size must be a string, got null"),
    ({"files": ["a"]}, "kafka-connect files must be a mapping, got a list"),
    ({"plugins": [None]}, r"kafka-connect plugins\[0\] must be a mapping, got null"),
    ({"extra_names": "x"}, "kafka-connect extra_names must be a list"),
])
def test_bad_descriptions_are_refused_with_the_setting_named(changes, message):
    with pytest.raises(svc.ServiceSpecError, match=message):
        svc.manifests(connect_spec(**changes))


@pytest.mark.parametrize("spec, message", [
    (None, "the service description (spec) must be a mapping, got null"),
    ({"name": None}, "name (platform_kubernetes_name) must be a string, got null"),
    ({"name": "kafka", "connect": ["connect"]}, "connect (the Connect clusters) must be a mapping, got a list"),
    ({"name": "kafka", "connect": {"c": None}}, "connect['c'] must be a mapping, got null"),
    ({"name": "kafka", "schema_registry_urls": "https://sr:8081"}, "schema_registry_urls must be a list, got a string"),
    ({"name": "kafka", "plugins": {"w1": [42]}}, "plugins['w1'][0] must be a mapping, got an integer (42)"),
])
def test_target_errors_refuse_malformed_descriptions(spec, message):
    with pytest.raises(svc.ServiceSpecError) as caught:
        svc.target_errors(spec)
    assert str(caught.value).startswith(message)


def test_tls_pods_refuse_malformed_descriptions():
    with pytest.raises(svc.ServiceSpecError, match="replica, got None"):
        svc.tls_pods({"name": "kafka", "namespace": "ns", "component": "connect"})
    with pytest.raises(svc.ServiceSpecError, match="extra_names must be a string, got a list"):
        svc.tls_pods({"name": "kafka", "namespace": "ns", "component": "connect", "replicas": 1, "extra_names": [["x"]]})


def test_target_errors_name_what_the_pods_cannot_do():
    spec = {"name": "kafka", "connect": {"connect": {"rest_tls": False}, "Big_One": {"rest_tls": True}},
            "schema_registry_urls": ["https://sr-1:8081"], "ksqldb_urls": ["http://k-1:8088"],
            "plugins": {"connect-1": [{"name": "local", "src": "/tmp/p.jar"}, {"name": "remote", "maven": "a:b:1"}]},
            "client_tls": True}
    errors = svc.target_errors(spec)
    assert any("'Big_One'" in e and "kafka-connect-Big_One" in e for e in errors)
    assert any(e.startswith("kafka_connect_rest_tls (cluster Big_One)") and "platform_tls_internal_ca" in e for e in errors)
    assert any(e.startswith("schema_registry_rest_tls") for e in errors)
    assert not any(e.startswith("ksqldb_rest_tls") for e in errors)
    assert any("client listener uses TLS" in e for e in errors)
    assert any("connect-1: kafka_connect_plugins local" in e for e in errors)
    assert not any("remote" in e for e in errors)
    # with the internal CA the pods get their TLS material: only the name and the plugin file remain
    with_ca = svc.target_errors(dict(spec, internal_ca=True))
    assert len(with_ca) == 2 and not any("TLS" in e for e in with_ca)
    assert svc.target_errors({"name": "kafka", "connect": {"connect": {"rest_tls": False}}, "client_tls": False}) == []
    # no service at all: nothing to refuse, even with a TLS client listener
    assert svc.target_errors({"name": "kafka", "client_tls": True}) == []


def tls_material(ordinals=(0, 1), rest=True):
    material = {"truststore": "CA\n", "keystores": {str(o): "KEY-%d\nCERT-%d\n" % (o, o) for o in ordinals}}
    if rest:
        material.update({"pkcs12": {str(o): "UDEy%d" % o for o in ordinals}, "truststore_pkcs12": "VFJVU1Q="})
    return material


def test_tls_pods_name_each_pod_and_the_clusters_service():
    pods = svc.tls_pods(connect_spec(extra_names=["connect.kafka.example", "kafka-connect"]))
    assert [p["pod"] for p in pods] == ["kafka-connect-0", "kafka-connect-1"]
    assert pods[1] == {"pod": "kafka-connect-1", "set": "kafka-connect", "ordinal": 1, "names": [
        "kafka-connect-1", "kafka-connect-1.kafka-connect-pods.kafka-prod.svc.cluster.local",
        "kafka-connect-1.kafka-connect-pods.kafka-prod.svc", "kafka-connect", "kafka-connect.kafka-prod.svc",
        "kafka-connect.kafka-prod.svc.cluster.local", "connect.kafka.example"]}


def test_with_the_internal_ca_each_pod_gets_its_stores_from_a_secret(tmp_path):
    spec = connect_spec(tls=True, tls_dir="/etc/kafka/tls", store_name="kafka-connect", tls_material=tls_material())
    objects = by_kind(svc.manifests(spec))
    secret = objects["Secret"]["kafka-connect-tls"]
    assert secret["stringData"] == {"truststore.pem": "CA\n", "keystore-0.pem": "KEY-0\nCERT-0\n", "keystore-1.pem": "KEY-1\nCERT-1\n"}
    assert secret["data"] == {"keystore-0.p12": "UDEy0", "keystore-1.p12": "UDEy1", "truststore.p12": "VFJVU1Q="}
    container = objects["StatefulSet"]["kafka-connect"]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "tls", "mountPath": "/etc/kafka/tls"} in container["volumeMounts"]
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    # the TLS material is in no ConfigMap
    for configmap in objects["ConfigMap"].values():
        assert "KEY-0" not in str(configmap) and "UDEy0" not in str(configmap)
    # the start script copies this pod's stores (by ordinal) where the properties name them, 0600
    source, tls_dir = tmp_path / "source", tmp_path / "tls"
    source.mkdir()
    tls_dir.mkdir()
    for name, value in dict(secret["stringData"], **secret["data"]).items():
        (source / name).write_text(value)
    config, run_dir = tmp_path / "config", tmp_path / "run"
    config.mkdir()
    run_dir.mkdir()
    (config / "worker.properties").write_text("a=1\n")
    script = (objects["ConfigMap"]["kafka-connect-scripts"]["data"]["start.sh"]
              .replace(svc.TLS_SOURCE_DIR, str(source)).replace("/etc/kafka/tls", str(tls_dir))
              .replace(svc.CONFIG_DIR, str(config)).replace(svc.RUN_DIR, str(run_dir))
              .replace("exec /opt/kafka/bin/connect-distributed.sh", "cat"))
    result = run(script, str(tmp_path), {"HOSTNAME": "kafka-connect-1"})
    assert result.returncode == 0, result.stderr
    assert (tls_dir / "keystore.pem").read_text() == "KEY-1\nCERT-1\n"
    assert (tls_dir / "kafka-connect-keystore.p12").read_text() == "UDEy1"
    assert (tls_dir / "kafka-connect-truststore.p12").read_text() == "VFJVU1Q="
    assert oct((tls_dir / "kafka-connect-keystore.p12").stat().st_mode & 0o777) == "0o600"
    # new material rolls the pods; the same material does not
    template = [by_kind(svc.manifests(s))["StatefulSet"]["kafka-connect"]["spec"]["template"]["metadata"]["annotations"]
                for s in (spec, dict(spec), dict(spec, tls_material=dict(tls_material(), truststore="CA2\n")))]
    assert template[0] == template[1] != template[2]


def test_pem_stores_only_without_a_rest_listener_over_tls():
    spec = connect_spec(tls=False, tls_dir="/etc/kafka/tls", tls_material=tls_material(rest=False))
    secret = by_kind(svc.manifests(spec))["Secret"]["kafka-connect-tls"]
    assert "data" not in secret and sorted(secret["stringData"]) == ["keystore-0.pem", "keystore-1.pem", "truststore.pem"]
    assert ".p12" not in svc.start_script(spec)


@pytest.mark.parametrize("changes,message", [
    ({"tls": True}, "needs the pods' PKCS12 stores"),
    ({"tls": True, "tls_dir": "/etc/kafka/tls", "tls_material": tls_material(rest=False), "store_name": "x"}, "PKCS12"),
    ({"tls_dir": "/etc/kafka/tls"}, "without tls_material"),
])
def test_tls_without_its_material_is_refused(changes, message):
    with pytest.raises(svc.ServiceSpecError, match=message):
        svc.manifests(connect_spec(**changes))


def test_connect_component():
    assert svc.connect_component("connect") == "connect"
    assert svc.connect_component("analytics") == "connect-analytics"


def test_basic_auth_files_go_to_their_own_secret_and_the_probe_logs_in():
    spec = connect_spec(auth_files={"rest-jaas.conf": "KafkaConnect {...};\n", "rest-users.properties": "ops=pw\n"},
                        auth_dir="/opt/kafkaops/rest-auth", probe_authorization="Basic b3BzOnB3")
    objects = by_kind(svc.manifests(spec))
    auth = objects["Secret"]["kafka-connect-rest-auth"]["stringData"]
    assert sorted(auth) == ["probe-authorization", "rest-jaas.conf", "rest-users.properties"]
    pod = objects["StatefulSet"]["kafka-connect"]["spec"]["template"]["spec"]
    mounts = pod["containers"][0]["volumeMounts"]
    assert {"name": "rest-auth", "mountPath": "/opt/kafkaops/rest-auth", "readOnly": True} in mounts
    probe = pod["containers"][0]["readinessProbe"]
    assert "httpGet" not in probe and "/opt/kafkaops/rest-auth/probe-authorization" in probe["exec"]["command"][2]
    # the connectors' file provider reads only the secrets directory: the REST passwords are elsewhere
    assert objects["Secret"]["kafka-connect-secrets"]["stringData"] == {"postgres.properties": "password=s3cret\n"}
    # a changed password rolls the workers (they read the users file at start)
    rotated = dict(spec, auth_files={"rest-jaas.conf": "KafkaConnect {...};\n", "rest-users.properties": "ops=new\n"})
    hashes = [by_kind(svc.manifests(s))["StatefulSet"]["kafka-connect"]["spec"]["template"]["metadata"]["annotations"]
              for s in (spec, rotated)]
    assert hashes[0] != hashes[1]


def test_the_authenticated_probe_passes_only_on_200_with_the_header(tmp_path):
    import base64
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            good = self.headers.get("Authorization") == "Basic " + base64.b64encode(b"ops:pw").decode()
            self.send_response(200 if good and self.path == "/connectors" else 401)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        header = tmp_path / "probe-authorization"
        port = server.server_address[1]
        for value, expected in (("Basic " + base64.b64encode(b"ops:pw").decode(), 0),
                                ("Basic " + base64.b64encode(b"ops:wrong").decode(), 1)):
            header.write_text(value)
            command = svc.authenticated_probe(port, "/connectors", str(header))
            result = subprocess.run(["bash", "-c", command], check=False, capture_output=True, text=True, timeout=20)
            assert (result.returncode != 0) == bool(expected), (value, result.returncode, result.stderr)
        # nothing listening: the probe fails rather than hangs
        server.shutdown()
        server.server_close()
        command = svc.authenticated_probe(port, "/connectors", str(header))
        assert subprocess.run(["bash", "-c", command], check=False, capture_output=True, timeout=20).returncode != 0
    finally:
        server.server_close()


@pytest.mark.parametrize("kind, component, path, status, body", [
    ("schema-registry", "schema-registry", "/subjects/_kafkaops_canary-value/versions/latest", 404,
     b'{"error_code":40401,"message":"Subject not found."}'),
    ("ksqldb", "ksqldb", "/healthcheck", 200, b'{"isHealthy":true}'),
])
def test_schema_registry_and_ksqldb_probes_log_in_with_basic_auth(tmp_path, kind, component, path, status, body):
    """With REST users the pods' probes send the Authorization header read from the login Secret, and pass
    only when the server accepts it (a local HTTP server standing in for the product's REST API)."""
    import base64
    import http.server
    import threading

    good = "Basic " + base64.b64encode(b"ops:pw").decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.headers.get("Authorization") == good and self.path == path
            payload = body if ok else b'{"error_code":401,"message":"Unauthorized"}'
            self.send_response(status if ok else 401)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        spec = connect_spec(kind=kind, component=component, port=port, plugins=[], files={},
                            canary_subject="_kafkaops_canary-value", state_dir="/var/lib/kafka/ksqldb",
                            auth_files={"rest-jaas.conf": "X {};\n", "rest-users.properties": "ops=pw,user\n"},
                            auth_dir="/opt/kafkaops/rest-auth", probe_authorization=good)
        objects = by_kind(svc.manifests(spec))
        assert sorted(objects["Secret"]["kafka-%s-rest-auth" % component]["stringData"]) == [
            "probe-authorization", "rest-jaas.conf", "rest-users.properties"]
        container = objects["StatefulSet"]["kafka-%s" % component]["spec"]["template"]["spec"]["containers"][0]
        command = container["readinessProbe"]["exec"]["command"][2]
        header = tmp_path / "probe-authorization"
        command = command.replace("/opt/kafkaops/rest-auth/probe-authorization", str(header)).replace("localhost", "127.0.0.1")
        for value, passes in ((good, True), ("Basic " + base64.b64encode(b"ops:wrong").decode(), False)):
            header.write_text(value)
            result = subprocess.run(["bash", "-c", command], cwd=str(tmp_path), capture_output=True, text=True, timeout=20,
                                    check=False)
            assert (result.returncode == 0) == passes, (value, result.returncode, result.stderr)
    finally:
        server.shutdown()
        server.server_close()
