# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of module_utils.kubernetes: hosts to pods, external access, the rendered objects (also
validated against the Kubernetes OpenAPI schemas of the oldest and newest supported versions),
and the day-2 restart order."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import kubernetes as kube
from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils import security as sec
from ansible_collections.kafkaops.platform.plugins.module_utils import topology as topo
from ansible_collections.kafkaops.platform.plugins.module_utils.kubernetes import KubernetesSpecError

# the Kubernetes versions the collection supports: the oldest and the newest are validated
SUPPORTED = ("1.29.0", "1.37.0")

PLAIN = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT"},
        {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
        {"name": "EXTERNAL", "port": 9094, "protocol": "PLAINTEXT"},
    ],
    "inter_broker_listener": "INTERNAL", "controller_listener": "CONTROLLER", "client_listener": "CLIENT",
}

TLS = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_SSL", "authentication": "scram-sha-512"},
        {"name": "INTERNAL", "port": 9091, "protocol": "SSL", "authentication": "mtls"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "SSL", "authentication": "mtls"},
        {"name": "EXTERNAL", "port": 9094, "protocol": "SASL_SSL", "authentication": "scram-sha-512"},
    ],
    "inter_broker_listener": "INTERNAL", "controller_listener": "CONTROLLER", "client_listener": "CLIENT",
    "tls": {"keystore": {"path": "/etc/kafka/tls/keystore.pem", "type": "PEM"},
            "truststore": {"path": "/etc/kafka/tls/truststore.pem", "type": "PEM"}},
    "credentials": {"admin": {"username": "admin", "password": "s3cret-admin"}},
}


def hosts(dedicated=True):
    if dedicated:
        found = {"c%d" % i: {"controller": True, "broker": False, "node_id": i, "address": "c%d" % i} for i in (1, 2, 3)}
        # inventory order differs from node-id order on purpose
        found.update({"b%d" % i: {"controller": False, "broker": True, "node_id": i, "address": "b%d" % i}
                      for i in (12, 10, 11)})
        return found
    return {"k%d" % i: {"controller": True, "broker": True, "node_id": i, "address": "k%d" % i} for i in (1, 2, 3)}


def render(dedicated=True, security=None, external=None, platform="kubernetes", extra=None, overrides=None,
           secret=False, tls_material=None):
    """Render a whole cluster the way the role does: topology, pods, per-pod properties, objects."""
    security = sec.normalize(security or PLAIN)
    topology = topo.cluster_topology(hosts(dedicated), 9093)
    layout = kube.pod_layout(topology, "kafka", "streams")
    topology = kube.kubernetes_topology(topology, layout)
    checked = kube.check_external(external or {"type": "none"}, security, platform)
    processes = {}
    for host, entry in layout.items():
        node = {"roles": entry["roles"], "host": entry["fqdn"],
                "advertised": kube.advertised_overrides(checked, security, entry, "streams")}
        properties = props.kafka_process_properties({
            "roles": entry["roles"], "node_id": entry["node_id"], "log_dirs": ["/var/lib/kafka/data"],
            "controllers": topology["controllers"], "security": sec.server_properties(security, node),
            "overrides": overrides or {}})
        processes[host] = {"roles": entry["roles"], "log_dirs": ["/var/lib/kafka/data"], "heap_size": "1g",
                           "jvm_options": ["-XX:+UseG1GC"], "environment": {},
                           "storage": {"size": "10Gi", "class": ""}, "resources": {},
                           "properties_text": props.to_java_properties(properties)}
    spec = {"name": "kafka", "namespace": "streams", "platform": platform, "cluster_id": "AQIDBAUGBwgJCgsMDQ4PEA",
            "image": "apache/kafka:4.3.1", "data_root": "/var/lib/kafka", "security": security,
            "external": external or {"type": "none"}, "pod_security": "restricted",
            "sets": kube.kafka_sets(processes, layout, secret=secret), "tls_material": tls_material}
    spec.update(extra or {})
    return kube.manifests(spec), layout


def template_hash(objects, name):
    return by_kind(objects, "StatefulSet")[name]["spec"]["template"]["metadata"]["annotations"][kube.CONFIG_HASH]


def by_kind(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


# ---------------------------------------------------------------------------------------------
# pods


def test_pods_are_ordered_by_node_id_within_their_statefulset():
    layout = kube.pod_layout(topo.cluster_topology(hosts(), 9093), "kafka", "streams")
    assert {h: (e["pod"], e["node_id"]) for h, e in layout.items()} == {
        "c1": ("kafka-controller-0", 1), "c2": ("kafka-controller-1", 2), "c3": ("kafka-controller-2", 3),
        "b10": ("kafka-broker-0", 10), "b11": ("kafka-broker-1", 11), "b12": ("kafka-broker-2", 12)}
    assert layout["b11"]["fqdn"] == "kafka-broker-1.kafka-broker.streams.svc.cluster.local"


def test_combined_nodes_are_brokers():
    layout = kube.pod_layout(topo.cluster_topology(hosts(dedicated=False), 9093), "kafka", "streams", "example.org")
    assert sorted(e["pod"] for e in layout.values()) == ["kafka-combined-0", "kafka-combined-1", "kafka-combined-2"]
    assert layout["k1"]["roles"] == ["broker", "controller"]
    assert layout["k3"]["fqdn"].endswith(".svc.example.org")


@pytest.mark.parametrize("name, namespace", [("Kafka", "ns"), ("kafka", "a_b"), ("k" * 41, "ns"), ("kafka", ""),
                                             ("kafka\n", "ns"), ("kafka", "ns\n"), (None, "ns"), ("kafka", ["ns"])])
def test_names_must_be_dns_labels(name, namespace):
    with pytest.raises(KubernetesSpecError, match="DNS label"):
        kube.pod_layout(topo.cluster_topology(hosts(), 9093), name, namespace)


@pytest.mark.parametrize("domain", ["cluster.local\n", "Cluster.Local", "cluster..local", "", None, ".local"])
def test_the_cluster_domain_must_be_a_dns_name(domain):
    with pytest.raises(KubernetesSpecError, match="platform_kubernetes_cluster_domain .* must be a DNS name"):
        kube.pod_layout(topo.cluster_topology(hosts(), 9093), "kafka", "ns", domain)


@pytest.mark.parametrize("topology, zookeeper, message", [
    (None, None, "topology must be a mapping, got null"),
    ({"processes": [1]}, None, "topology.processes must be a mapping, got a list"),
    ({"processes": {"b1": {"node_id": 1}}}, None, "topology.processes['b1'] has no roles"),
    ({"processes": {"b1": {"node_id": 1, "roles": "broker"}}}, None,
     "topology.processes['b1'].roles must be a list, got a string ('broker')"),
    ({"processes": {"b1": {"node_id": 1, "roles": ["zookeeper"]}}}, None,
     "topology.processes['b1'].roles must list broker and/or controller, got ['zookeeper']"),
    ({}, [{"host": "z1"}], "zookeeper (kafka_zookeeper_servers)[0] has no myid"),
    ({}, [{"host": None, "myid": 1}], "zookeeper[0].host must be a string, got null"),
])
def test_malformed_topologies_are_refused(topology, zookeeper, message):
    with pytest.raises(KubernetesSpecError) as caught:
        kube.pod_layout(topology, "kafka", "ns", zookeeper=zookeeper)
    assert str(caught.value) == message


@pytest.mark.parametrize("change, message", [
    (None, "layout['b10'] must be a mapping, got null"),
    ({"fqdn": ...}, "layout['b10'] has no fqdn"),
    ({"component": "mirror"}, "layout['b10'].component must be one of zookeeper, controller, combined, broker, got 'mirror'"),
    ({"ordinal": -1}, "layout['b10'].ordinal must be a non-negative integer, got -1"),
    ({"ordinal": "0"}, "layout['b10'].ordinal must be a non-negative integer, got '0'"),
    ({"broker_index": None}, "layout['b10'].broker_index must be a non-negative integer, got None"),
    ({"roles": "broker"}, "layout['b10'].roles must be a list, got a string ('broker')"),
    ({"pod": "kafka-broker-0\n"},
     "layout['b10'].pod 'kafka-broker-0\\n' holds a control character (a line break, tab, ...); remove it"),
])
@pytest.mark.parametrize("call", [lambda layout: kube.roll_order(layout, []), lambda layout: kube.kubernetes_topology({}, layout),
                                  lambda layout: kube.kafka_sets({}, layout), kube.check_layout])
def test_malformed_layouts_are_refused(change, message, call):
    layout = kube.pod_layout(topo.cluster_topology(hosts(), 9093), "kafka", "streams")
    layout["b10"] = None if change is None else {k: v for k, v in dict(layout["b10"], **change).items() if v is not ...}
    with pytest.raises(KubernetesSpecError) as caught:
        call(layout)
    assert str(caught.value) == message


def test_a_layout_entry_holds_every_key():
    with pytest.raises(KubernetesSpecError, match="the layout entry has no component"):
        kube.tls_names({"set": "s"}, "kafka", "streams", "cluster.local")


def test_addresses_become_pod_dns_names():
    topology = topo.cluster_topology(hosts(), 9093)
    moved = kube.kubernetes_topology(topology, kube.pod_layout(topology, "kafka", "streams"))
    assert [c["address"] for c in moved["controllers"]] == [
        "kafka-controller-%d.kafka-controller.streams.svc.cluster.local" % i for i in range(3)]
    assert moved["processes"]["b10"]["address"].startswith("kafka-broker-0.")
    assert topology["controllers"][0]["address"] == "c1"  # the input is left alone


def test_quorum_voters_use_the_pod_names():
    objects, _layout = render()
    config = by_kind(objects, "ConfigMap")["kafka-broker-config"]["data"]
    parsed = props.parse_java_properties(config["server-0.properties"])
    assert parsed["controller.quorum.voters"].split(",")[0] == \
        "1@kafka-controller-0.kafka-controller.streams.svc.cluster.local:9093"
    assert parsed["node.id"] == "10"
    assert sorted(config) == ["server-0.properties", "server-1.properties", "server-2.properties"]


# ---------------------------------------------------------------------------------------------
# external access


@pytest.mark.parametrize("external, message", [
    ({"type": "Ingress"}, "must be one of"),
    ({"type": "NodePort", "listener": "NOPE", "host": "n", "node_port_base": 31000}, "is not a listener"),
    ({"type": "NodePort", "listener": "INTERNAL", "host": "n", "node_port_base": 31000}, "inter-broker"),
    ({"type": "NodePort", "listener": "CONTROLLER", "host": "n", "node_port_base": 31000}, "controller"),
    ({"type": "NodePort", "listener": "EXTERNAL", "host": "n"}, "node_port_base is required"),
    ({"type": "NodePort", "listener": "EXTERNAL", "node_port_base": 31000}, "host is required"),
    ({"type": "LoadBalancer", "listener": "EXTERNAL"}, "host is required"),
    ({"type": "LoadBalancer", "listener": "EXTERNAL", "host": "kafka.example.com"}, "must contain"),
    ({"type": "Route", "listener": "EXTERNAL", "route_domain": "apps.example.com"}, "needs platform_target openshift"),
])
def test_bad_external_access_is_refused(external, message):
    with pytest.raises(KubernetesSpecError, match=message):
        kube.check_external(external, sec.normalize(PLAIN), "kubernetes")


@pytest.mark.parametrize("external, message", [
    ("NodePort", "platform_kubernetes_external must be a mapping, got a string ('NodePort')"),
    ({"type": "LoadBalancer", "listener": "EXTERNAL", "host": "b{node_id}.example.com\n"},
     "platform_kubernetes_external.host 'b{node_id}.example.com\\n' holds a control character"),
    ({"type": "LoadBalancer", "listener": "EXTERNAL", "host": "b{node}.example.com"},
     "platform_kubernetes_external.host 'b{node}.example.com': braces may only hold {node_id}, {index}, {pod} or {namespace}"),
    ({"type": "LoadBalancer", "listener": "EXTERNAL", "host": "b{node_id.example.com"}, "braces may only hold"),
    ({"type": "LoadBalancer", "listener": "EXTERNAL", "host": "b{node_id!r}.example.com"}, "braces may only hold"),
    ({"type": "LoadBalancer", "listener": "EXTERNAL", "host": "b{node_id} .example.com"}, "must be a host name without blanks"),
    ({"type": "NodePort", "listener": "EXTERNAL", "host": ["n"], "node_port_base": 31000},
     "platform_kubernetes_external.host must be a string, got a list"),
    ({"type": "NodePort", "listener": "EXTERNAL", "host": "n", "node_port_base": 31000, "bootstrap_node_port": "x"},
     "platform_kubernetes_external.bootstrap_node_port must be a port number"),
    ({"type": "NodePort", "listener": "EXTERNAL", "host": "n", "node_port_base": 31000, "annotations": ["a"]},
     "platform_kubernetes_external.annotations must be a mapping, got a list"),
])
def test_malformed_external_access_is_refused(external, message):
    with pytest.raises(KubernetesSpecError) as caught:
        kube.check_external(external, sec.normalize(PLAIN), "kubernetes")
    assert message in str(caught.value)


def test_routes_need_tls():
    with pytest.raises(KubernetesSpecError, match="SSL or SASL_SSL"):
        kube.check_external({"type": "Route", "listener": "EXTERNAL", "route_domain": "apps.example.com"},
                            sec.normalize(PLAIN), "openshift")


def test_each_broker_advertises_its_own_node_port():
    external = {"type": "NodePort", "listener": "EXTERNAL", "host": "nodes.example.com", "node_port_base": 31090}
    objects, _layout = render(external=external)
    config = by_kind(objects, "ConfigMap")["kafka-broker-config"]["data"]
    for ordinal in range(3):
        advertised = props.parse_java_properties(config["server-%d.properties" % ordinal])["advertised.listeners"]
        assert "EXTERNAL://nodes.example.com:%d" % (31090 + ordinal) in advertised.split(",")
        assert "CLIENT://kafka-broker-%d.kafka-broker.streams.svc.cluster.local:9092" % ordinal in advertised
    services = by_kind(objects, "Service")
    port = services["kafka-broker-2-external"]["spec"]["ports"][0]
    assert services["kafka-broker-2-external"]["spec"]["type"] == "NodePort"
    assert (port["nodePort"], port["targetPort"]) == (31092, 9094)
    assert services["kafka-broker-2-external"]["spec"]["selector"] == {"statefulset.kubernetes.io/pod-name": "kafka-broker-2"}


def test_load_balancer_names_follow_the_pattern():
    external = {"type": "LoadBalancer", "listener": "EXTERNAL", "host": "b{node_id}.kafka.example.com",
                "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}}
    objects, _layout = render(external=external)
    advertised = props.parse_java_properties(
        by_kind(objects, "ConfigMap")["kafka-broker-config"]["data"]["server-1.properties"])["advertised.listeners"]
    assert "EXTERNAL://b11.kafka.example.com:9094" in advertised
    service = by_kind(objects, "Service")["kafka-broker-1-external"]
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == external["annotations"]


def test_openshift_routes_pass_tls_through():
    external = {"type": "Route", "listener": "EXTERNAL", "route_domain": "apps.example.com"}
    objects, _layout = render(security=TLS, external=external, platform="openshift", secret=True)
    routes = by_kind(objects, "Route")
    assert sorted(routes) == ["kafka-bootstrap", "kafka-broker-0", "kafka-broker-1", "kafka-broker-2"]
    route = routes["kafka-broker-1"]
    assert route["spec"]["host"] == "kafka-broker-1-streams.apps.example.com"
    assert route["spec"]["tls"]["termination"] == "passthrough"
    assert route["spec"]["to"]["name"] == "kafka-broker-1-external"
    assert routes["kafka-bootstrap"]["spec"]["host"] == "kafka-bootstrap-streams.apps.example.com"
    services = by_kind(objects, "Service")
    assert services["kafka-broker-1-external"]["spec"]["type"] == "ClusterIP"
    config = by_kind(objects, "Secret")["kafka-broker-config"]["stringData"]["server-1.properties"]
    assert "EXTERNAL://kafka-broker-1-streams.apps.example.com:443" in props.parse_java_properties(config)["advertised.listeners"]


# ---------------------------------------------------------------------------------------------
# objects


def test_every_object_is_valid_for_the_oldest_and_newest_supported_kubernetes():
    external = {"type": "NodePort", "listener": "EXTERNAL", "host": "n.example.com", "node_port_base": 31090}
    jmx = {"enabled": True, "image": "example/jmx:1", "agent_path": "/jmx.jar", "port": 9404}
    tolerations = [{"key": "kafka", "operator": "Exists", "effect": "NoSchedule"}]
    extra = {"jmx_exporter": jmx, "service_monitor": True, "rack_from_zone": True, "tolerations": tolerations}
    objects, _layout = render(external=external, extra=extra)
    openshift, _layout = render(security=TLS, platform="openshift", secret=True, external={
        "type": "Route", "listener": "EXTERNAL", "route_domain": "apps.example.com"},
        tls_material={"kafka-broker": {"truststore": "T", "keystores": {0: "K0", 1: "K1", 2: "K2"}}})
    checked = 0
    for version in SUPPORTED:
        for obj in objects + openshift:
            if obj["apiVersion"].split("/")[0] in ("route.openshift.io", "monitoring.coreos.com"):
                continue  # CRDs: the API server checks these (molecule openshift/kubernetes scenarios)
            kubernetes_validate.validate(obj, version, strict=True)
            checked += 1
    assert checked > 40


def test_statefulsets_roll_only_when_the_role_says_so():
    objects, _layout = render()
    for sts in by_kind(objects, "StatefulSet").values():
        assert sts["spec"]["updateStrategy"] == {"type": "OnDelete"}
        assert sts["spec"]["podManagementPolicy"] == "Parallel"
        assert sts["spec"]["serviceName"] == sts["metadata"]["name"]
        assert sts["spec"]["replicas"] == 3
    headless = by_kind(objects, "Service")["kafka-controller"]["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    pdbs = by_kind(objects, "PodDisruptionBudget")
    assert sorted(pdbs) == ["kafka-broker", "kafka-controller"]
    assert all(p["spec"]["maxUnavailable"] == 1 for p in pdbs.values())


def test_a_property_change_changes_only_that_statefulsets_template():
    before, _layout = render()
    after, _layout = render(overrides={"log.retention.hours": 24})
    hashes = [{name: s["spec"]["template"]["metadata"]["annotations"][kube.CONFIG_HASH]
               for name, s in by_kind(objects, "StatefulSet").items()} for objects in (before, after)]
    assert hashes[0]["kafka-broker"] != hashes[1]["kafka-broker"]
    assert hashes[0]["kafka-controller"] != hashes[1]["kafka-controller"]  # both got the override here
    again, _layout = render()
    assert before == again  # rendering is deterministic: a second run changes nothing


def test_kubernetes_pods_run_as_a_fixed_non_root_user():
    objects, _layout = render()
    pod = by_kind(objects, "StatefulSet")["kafka-broker"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 1000 and pod["securityContext"]["fsGroup"] == 1000
    assert_restricted(pod)


def test_openshift_pods_leave_the_uid_to_the_scc():
    objects, _layout = render(security=TLS, platform="openshift", secret=True)
    for sts in by_kind(objects, "StatefulSet").values():
        pod = sts["spec"]["template"]["spec"]
        for key in ("runAsUser", "runAsGroup", "fsGroup"):
            assert key not in pod["securityContext"]
        assert_restricted(pod)


def assert_restricted(pod):
    """The Pod Security Standard 'restricted' (and with it OpenShift's restricted-v2 SCC)."""
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    allowed = {"configMap", "secret", "emptyDir", "persistentVolumeClaim", "projected", "downwardAPI", "ephemeral", "csi"}
    for volume in pod["volumes"]:
        assert set(volume) - {"name"} <= allowed, volume
    for container in pod["containers"] + pod.get("initContainers", []):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert not context.get("privileged")
        assert not any(p.get("hostPort") for p in container.get("ports", []))


def test_secrets_move_the_properties_into_a_secret():
    objects, _layout = render(security=TLS, secret=True,
                              extra={"scram_arguments": ["SCRAM-SHA-512=[name=admin,password=s3cret-admin]"]})
    assert "kafka-broker-config" not in by_kind(objects, "ConfigMap")
    secret = by_kind(objects, "Secret")["kafka-broker-config"]
    assert "node.id=10" in secret["stringData"]["server-0.properties"]
    assert "s3cret-admin" in secret["stringData"]["scram-arguments"]
    sts = by_kind(objects, "StatefulSet")["kafka-broker"]
    volume = next(v for v in sts["spec"]["template"]["spec"]["volumes"] if v["name"] == "config")
    assert volume["secret"] == {"secretName": "kafka-broker-config", "defaultMode": 0o440}
    assert not any("s3cret" in str(o) for o in objects if o["kind"] != "Secret")


def test_scram_credentials_are_formatted_from_a_secret():
    objects, _layout = render(extra={"scram_arguments": ["SCRAM-SHA-512=[name=admin,password=pw]"]})
    secret = by_kind(objects, "Secret")["kafka-controller-config"]["stringData"]
    assert secret["scram-arguments"] == "SCRAM-SHA-512=[name=admin,password=pw]\n"
    script = by_kind(objects, "ConfigMap")["kafka-controller-scripts"]["data"]["start.sh"]
    assert "--add-scram" in script and "pw" not in script


def test_tls_material_goes_to_a_secret_and_the_tls_directory():
    material = {"kafka-broker": {"truststore": "CA", "keystores": {"0": "K0", "1": "K1", "2": "K2"}}}
    objects, _layout = render(security=TLS, secret=True, tls_material=material, extra={"tls_dir": "/etc/kafka/tls"})
    secret = by_kind(objects, "Secret")["kafka-broker-tls"]["stringData"]
    assert secret == {"truststore.pem": "CA", "keystore-0.pem": "K0", "keystore-1.pem": "K1", "keystore-2.pem": "K2"}
    pod = by_kind(objects, "StatefulSet")["kafka-broker"]["spec"]["template"]["spec"]
    assert {"name": "tls", "mountPath": "/etc/kafka/tls"} in pod["containers"][0]["volumeMounts"]
    script = by_kind(objects, "ConfigMap")["kafka-broker-scripts"]["data"]["start.sh"]
    assert 'keystore-${ordinal}.pem" "/etc/kafka/tls/keystore.pem"' in script
    renewed = copy.deepcopy(material)
    renewed["kafka-broker"]["keystores"]["1"] = "K1-new"
    changed, _layout = render(security=TLS, secret=True, tls_material=renewed, extra={"tls_dir": "/etc/kafka/tls"})
    assert template_hash(objects, "kafka-broker") != template_hash(changed, "kafka-broker")


def test_rack_comes_from_the_zone_label():
    objects, _layout = render(extra={"rack_from_zone": True, "zone_label": "topology.kubernetes.io/zone"})
    container = by_kind(objects, "StatefulSet")["kafka-broker"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["KAFKAOPS_ZONE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.labels['topology.kubernetes.io/zone']"
    script = by_kind(objects, "ConfigMap")["kafka-broker-scripts"]["data"]["start.sh"]
    assert "broker.rack=" in script
    controller_script = by_kind(objects, "ConfigMap")["kafka-controller-scripts"]["data"]["start.sh"]
    assert "broker.rack" not in controller_script


def test_network_policy_opens_client_ports_and_keeps_the_rest_inside():
    peers = [{"namespaceSelector": {"matchLabels": {"team": "apps"}}}]
    objects, _layout = render(extra={"network_policy": {"enabled": True, "client_peers": peers}})
    policy = by_kind(objects, "NetworkPolicy")["kafka"]["spec"]
    inside, clients = policy["ingress"]
    assert sorted(p["port"] for p in inside["ports"]) == [9091, 9092, 9093, 9094]
    assert inside["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "kafka",
                                                               "app.kubernetes.io/instance": "kafka"}}}]
    assert [p["port"] for p in clients["ports"]] == [9092]
    assert clients["from"] == peers
    off, _layout = render(extra={"network_policy": {"enabled": False}})
    assert not by_kind(off, "NetworkPolicy")


def test_jmx_exporter_and_service_monitor():
    jmx = {"enabled": True, "image": "example/jmx:1", "agent_path": "/jmx.jar", "port": 9404,
           "config": {"rules": [{"pattern": "kafka.*"}]}}
    objects, _layout = render(extra={"jmx_exporter": jmx, "service_monitor": True})
    pod = by_kind(objects, "StatefulSet")["kafka-broker"]["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["command"] == ["cp", "/jmx.jar", "/opt/kafkaops/jmx/agent.jar"]
    assert {"name": "metrics", "containerPort": 9404, "protocol": "TCP"} in pod["containers"][0]["ports"]
    assert "-javaagent:/opt/kafkaops/jmx/agent.jar=9404:" in by_kind(objects, "ConfigMap")["kafka-broker-scripts"]["data"]["start.sh"]
    monitor = by_kind(objects, "ServiceMonitor")["kafka"]
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "interval": "30s"}]
    with pytest.raises(KubernetesSpecError, match="needs platform_kubernetes_jmx_exporter.enabled"):
        render(extra={"service_monitor": True})
    with pytest.raises(KubernetesSpecError, match="agent_path"):
        render(extra={"jmx_exporter": {"enabled": True, "image": "x"}})


@pytest.mark.parametrize("extra, message", [
    ({"image": ""}, "platform_kubernetes_image is empty"),
    ({"image_flavor": "bitnami"}, "image_flavor"),
    ({"platform": "nomad"}, "platform must be"),
    ({"data_root": "/data"}, "not under /data, the mount point of the pod.s volume .platform_data_root."),
])
def test_bad_specs_are_refused(extra, message):
    with pytest.raises(KubernetesSpecError, match=message):
        render(extra=extra)


def test_bad_storage_size_is_refused():
    topology = topo.cluster_topology(hosts(dedicated=False), 9093)
    layout = kube.pod_layout(topology, "kafka", "ns")
    process = {"roles": ["broker", "controller"], "log_dirs": ["/var/lib/kafka/d"], "heap_size": "1g",
               "storage": {"size": "ten gigs"}, "properties_text": ""}
    sets = kube.kafka_sets({h: process for h in layout}, layout)
    with pytest.raises(KubernetesSpecError, match="not a Kubernetes quantity"):
        kube.manifests({"name": "kafka", "namespace": "ns", "platform": "kubernetes", "cluster_id": "x",
                        "image": "i", "data_root": "/var/lib/kafka", "security": sec.normalize(PLAIN), "sets": sets})


def test_a_statefulset_has_one_pod_template():
    topology = topo.cluster_topology(hosts(dedicated=False), 9093)
    layout = kube.pod_layout(topology, "kafka", "ns")
    base = {"roles": ["broker", "controller"], "log_dirs": ["/var/lib/kafka/d"], "heap_size": "1g",
            "storage": {"size": "1Gi"}, "properties_text": ""}
    processes = {h: dict(base) for h in layout}
    processes["k2"]["heap_size"] = "2g"
    with pytest.raises(KubernetesSpecError, match="differ in heap_size"):
        kube.kafka_sets(processes, layout)
    del processes["k2"]
    with pytest.raises(KubernetesSpecError, match="missing pods"):
        kube.kafka_sets(processes, layout)


def test_certificate_names_cover_pod_service_and_external_names():
    layout = kube.pod_layout(topo.cluster_topology(hosts(), 9093), "kafka", "streams")
    external = {"type": "Route", "listener": "EXTERNAL", "route_domain": "apps.example.com"}
    names = kube.tls_names(layout["b10"], "kafka", "streams", "cluster.local", external,
                           "kafka-broker-0-streams.apps.example.com")
    assert names[:2] == ["kafka-broker-0", "kafka-broker-0.kafka-broker.streams.svc.cluster.local"]
    for expected in ("kafka-bootstrap.streams.svc", "kafka-broker-0-streams.apps.example.com",
                     "kafka-bootstrap-streams.apps.example.com"):
        assert expected in names
    controller = kube.tls_names(layout["c1"], "kafka", "streams", "cluster.local")
    assert not any("bootstrap" in n for n in controller)


# ---------------------------------------------------------------------------------------------
# day 2


def test_outdated_pods_are_those_behind_their_statefulset():
    pods = [{"name": "kafka-broker-0", "set": "kafka-broker", "revision": "r2"},
            {"name": "kafka-broker-1", "set": "kafka-broker", "revision": "r1"},
            {"name": "kafka-controller-0", "set": "kafka-controller", "revision": "c1"}]
    assert kube.outdated_pods({"kafka-broker": "r2", "kafka-controller": "c2"}, pods) == [
        "kafka-broker-1", "kafka-controller-0"]
    assert kube.outdated_pods({"kafka-broker": None}, pods[:2]) == []


def test_restart_order_brokers_then_controllers_active_controller_last():
    layout = kube.pod_layout(topo.cluster_topology(hosts(), 9093), "kafka", "streams")
    everything = sorted(e["pod"] for e in layout.values())
    assert kube.roll_order(layout, everything, active_controller=2) == [
        "kafka-broker-2", "kafka-broker-1", "kafka-broker-0",
        "kafka-controller-2", "kafka-controller-0", "kafka-controller-1"]
    assert kube.roll_order(layout, ["kafka-controller-0", "kafka-broker-1"]) == ["kafka-broker-1", "kafka-controller-0"]
    with pytest.raises(KubernetesSpecError, match="not in the inventory"):
        kube.roll_order(layout, ["kafka-broker-9"])


def test_combined_pods_restart_with_the_active_controller_last():
    layout = kube.pod_layout(topo.cluster_topology(hosts(dedicated=False), 9093), "kafka", "streams")
    order = kube.roll_order(layout, ["kafka-combined-0", "kafka-combined-1", "kafka-combined-2"], active_controller=3)
    assert order == ["kafka-combined-1", "kafka-combined-0", "kafka-combined-2"]


def test_brokers_added_to_a_combined_cluster_get_their_own_statefulset():
    found = hosts(dedicated=False)
    found["k4"] = {"controller": False, "broker": True, "node_id": 4, "address": "k4"}
    layout = kube.pod_layout(topo.cluster_topology(found, 9093), "kafka", "streams")
    assert layout["k4"]["pod"] == "kafka-broker-0"
    assert [layout[h]["broker_index"] for h in ("k1", "k2", "k3", "k4")] == [0, 1, 2, 3]
    assert kube.roll_order(layout, ["kafka-combined-0", "kafka-broker-0"], active_controller=1) == [
        "kafka-broker-0", "kafka-combined-0"]


@pytest.mark.parametrize("stale, active, message", [
    ("kafka-broker-0", None, "stale_pods must be a list, got a string ('kafka-broker-0')"),
    ([["kafka-broker-0"]], None, "a stale pod must be a string, got a list"),
    (["kafka-broker-0"], "two", "active_controller must be a Kafka node id or null, got 'two'"),
    (["kafka-broker-0"], True, "active_controller must be a Kafka node id or null, got True"),
])
def test_roll_order_refuses_malformed_arguments(stale, active, message):
    layout = kube.pod_layout(topo.cluster_topology(hosts(), 9093), "kafka", "streams")
    with pytest.raises(KubernetesSpecError) as caught:
        kube.roll_order(layout, stale, active_controller=active)
    assert str(caught.value) == message
    assert kube.roll_order(layout, ["kafka-controller-1", "kafka-controller-0"], active_controller="2") == [
        "kafka-controller-0", "kafka-controller-1"]


def test_outdated_pods_and_redacted_refuse_malformed_input():
    with pytest.raises(KubernetesSpecError, match="statefulsets .name -> updateRevision. must be a mapping, got a list"):
        kube.outdated_pods([], [])
    with pytest.raises(KubernetesSpecError, match=r"pods\[0\] has no set"):
        kube.outdated_pods({}, [{"name": "p"}])
    with pytest.raises(KubernetesSpecError, match=r"objects\[0\] must be a mapping, got a string"):
        kube.redacted(["Secret/s"])
    with pytest.raises(KubernetesSpecError, match=r"objects\[0\].data must be a mapping, got a list"):
        kube.redacted([{"kind": "Secret", "data": ["password"]}])


@pytest.mark.parametrize("change, message", [
    ({"sets": None}, "sets must be a list, got null"),
    ({"sets": [{"component": "broker"}]}, "sets[0] has no roles"),
    ({"name": "kafka\n"}, "platform_kubernetes_name 'kafka\\n' must be a DNS label"),
    ({"cluster_id": None}, "the cluster id must be a string, got null"),
    ({"security": "PLAINTEXT"}, "security (the normalized platform_security) must be a mapping"),
    ({"run_as_user": "root"}, "run_as_user must be an integer, got 'root'"),
    ({"tolerations": {"key": "x"}}, "tolerations must be a list, got a mapping"),
    ({"jmx_exporter": True}, "platform_kubernetes_jmx_exporter must be a mapping, got a boolean (True)"),
])
def test_manifests_refuse_malformed_descriptions(change, message):
    spec = {"name": "kafka", "namespace": "streams", "platform": "kubernetes", "cluster_id": "AQIDBAUGBwgJCgsMDQ4PEA",
            "image": "apache/kafka:4.3.1", "data_root": "/var/lib/kafka", "security": sec.normalize(PLAIN), "sets": []}
    with pytest.raises(KubernetesSpecError) as caught:
        kube.manifests(dict(spec, **change))
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("change, message", [
    ({"storage": {"size": "10Gi\n"}}, "broker storage size '10Gi\\n' is not a Kubernetes quantity"),
    ({"component": "mirror"}, "sets: component must be one of zookeeper, controller, combined, broker, got 'mirror'"),
    ({"pods": [{"ordinal": "0", "properties_text": ""}]}, "the broker StatefulSet.pods[0].ordinal must be a non-negative integer"),
    ({"pods": [{"ordinal": 0, "properties_text": None}]}, "the broker StatefulSet.pods[0].properties_text must be a string"),
    ({"storage": "10Gi"}, "the broker StatefulSet.storage must be a mapping"),
])
def test_manifests_refuse_malformed_sets(change, message):
    topology = topo.cluster_topology(hosts(), 9093)
    layout = kube.pod_layout(topology, "kafka", "streams")
    process = {"roles": ["broker"], "log_dirs": ["/var/lib/kafka/data"], "heap_size": "1g", "storage": {"size": "10Gi"},
               "properties_text": "node.id=10\n"}
    sets = kube.kafka_sets({h: dict(process) for h in ("b10", "b11", "b12")}, layout)
    valid = copy.deepcopy(sets)
    sets[0].update(change)
    spec = {"name": "kafka", "namespace": "streams", "platform": "kubernetes", "cluster_id": "AQIDBAUGBwgJCgsMDQ4PEA",
            "image": "apache/kafka:4.3.1", "data_root": "/var/lib/kafka", "security": sec.normalize(PLAIN), "sets": sets}
    kube.manifests(dict(spec, sets=copy.deepcopy(valid)))  # the description is valid but for the change
    with pytest.raises(KubernetesSpecError) as caught:
        kube.manifests(spec)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("change, message", [
    ({"heap_size": None}, "the process of b10.heap_size must be a string, got null"),
    ({"roles": "broker"}, "the process of b10.roles must be a list, got a string ('broker')"),
    ({"storage": None}, "the process of b10.storage must be a mapping, got null"),
    ({"properties_text": b"x"}, "the process of b10.properties_text must be a string, got a bytes"),
    ({"environment": ["A=1"]}, "the process of b10.environment must be a mapping, got a list"),
])
def test_kafka_sets_refuse_malformed_processes(change, message):
    layout = kube.pod_layout(topo.cluster_topology(hosts(), 9093), "kafka", "streams")
    process = dict({"roles": ["broker"], "log_dirs": ["/d"], "heap_size": "1g", "storage": {"size": "1Gi"},
                    "properties_text": ""}, **change)
    with pytest.raises(KubernetesSpecError) as caught:
        kube.kafka_sets({"b10": process}, layout)
    assert str(caught.value) == message


def test_redacted_hides_every_secret_value():
    objects, _layout = render(security=TLS, secret=True,
                              extra={"scram_arguments": ["SCRAM-SHA-512=[name=admin,password=s3cret-admin]"]})
    hidden = kube.redacted(objects)
    assert "s3cret-admin" not in str(hidden)
    secret = by_kind(hidden, "Secret")["kafka-broker-config"]
    assert secret["stringData"]["scram-arguments"] == "<redacted>"
    assert "s3cret-admin" in str(objects)  # the input is left alone


# ---------------------------------------------------------------------------------------------
# ZooKeeper mode


def render_zookeeper(jaas=""):
    """Three hosts each running a ZooKeeper server and a ZooKeeper-mode broker (as the VM scenario)."""
    security = sec.normalize(PLAIN)
    found = {"z%d" % i: {"controller": False, "broker": True, "node_id": i, "address": "z%d" % i} for i in (1, 2, 3)}
    topology = topo.cluster_topology(found, 9093)
    servers = [{"host": "z%d" % i, "myid": i, "address": "z%d" % i} for i in (3, 1, 2)]
    layout = kube.pod_layout(topology, "legacy", "streams", zookeeper=servers)
    servers = kube.kubernetes_zookeeper_servers(servers, layout)
    processes = {}
    for host in ("z1", "z2", "z3"):
        entry = layout[host]
        processes[host] = {"roles": ["broker"], "log_dirs": ["/var/lib/kafka/data"], "heap_size": "1g", "format": False,
                           "jaas": jaas, "storage": {"size": "10Gi"},
                           "properties_text": "broker.id=%d\nzookeeper.connect=%s\n" % (
                               entry["node_id"], ",".join("%s:2181" % s["address"] for s in servers))}
        zk = layout["zookeeper/" + host]
        processes["zookeeper/" + host] = {
            "roles": ["zookeeper"], "log_dirs": ["/var/lib/zookeeper/data", "/var/lib/zookeeper/txlog"],
            "data_root": "/var/lib/zookeeper", "heap_size": "512m", "format": False, "jaas": jaas,
            "storage": {"size": "2Gi"},
            "ports": [{"name": "client", "port": 2181}, {"name": "quorum", "port": 2888}, {"name": "election", "port": 3888}],
            "properties_text": "dataDir=/var/lib/zookeeper/data\nserver.%d=%s:2888:3888\n" % (zk["node_id"], zk["fqdn"])}
    spec = {"name": "legacy", "namespace": "streams", "platform": "kubernetes", "cluster_id": "AQIDBAUGBwgJCgsMDQ4PEA",
            "image": "apache/kafka:3.9.2", "data_root": "/var/lib/kafka", "security": security,
            "sets": kube.kafka_sets(processes, layout, secret=bool(jaas))}
    return kube.manifests(spec), layout, servers


def test_a_zookeeper_pod_needs_a_myid_zookeeper_takes():
    security = sec.normalize(PLAIN)
    sets = [{"component": "zookeeper", "roles": ["zookeeper"], "storage": {"size": "2Gi"}, "log_dirs": [],
             "pods": [{"ordinal": 0, "properties_text": "", "node_id": 256}]}]
    spec = {"name": "legacy", "namespace": "streams", "platform": "kubernetes", "cluster_id": "AQIDBAUGBwgJCgsMDQ4PEA",
            "image": "apache/kafka:3.9.2", "data_root": "/var/lib/kafka", "security": security, "sets": sets}
    with pytest.raises(KubernetesSpecError, match=r"the zookeeper StatefulSet.pods\[0\].node_id \(zookeeper_myid\) 256 is "
                                                  r"out of range \(1..255\)"):
        kube.manifests(spec)


def test_zookeeper_servers_are_pods_of_their_own_statefulset():
    objects, layout, servers = render_zookeeper()
    assert layout["zookeeper/z1"]["pod"] == "legacy-zookeeper-0" and layout["zookeeper/z3"]["node_id"] == 3
    assert layout["z1"]["pod"] == "legacy-broker-0"  # the same host also runs a broker pod
    assert [s["address"] for s in servers] == [
        "legacy-zookeeper-2.legacy-zookeeper.streams.svc.cluster.local",
        "legacy-zookeeper-0.legacy-zookeeper.streams.svc.cluster.local",
        "legacy-zookeeper-1.legacy-zookeeper.streams.svc.cluster.local"]
    sets = by_kind(objects, "StatefulSet")
    assert sorted(sets) == ["legacy-broker", "legacy-zookeeper"]
    pod = sets["legacy-zookeeper"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["name"] == "zookeeper"
    assert [p["containerPort"] for p in container["ports"]] == [2181, 2888, 3888]
    assert container["readinessProbe"]["tcpSocket"]["port"] == 2181
    assert {"name": "data", "mountPath": "/var/lib/zookeeper"} in container["volumeMounts"]
    assert "KAFKAOPS_CLUSTER_ID" not in {e["name"] for e in container["env"]}
    config = by_kind(objects, "ConfigMap")["legacy-zookeeper-config"]["data"]
    assert config["myid-2"] == "3\n" and "server.3=legacy-zookeeper-2." in config["zoo-2.cfg"]
    script = by_kind(objects, "ConfigMap")["legacy-zookeeper-scripts"]["data"]["start.sh"]
    assert 'cp -f "/opt/kafkaops/config/myid-${ordinal}" "/var/lib/zookeeper/data/myid"' in script
    assert script.rstrip().endswith('exec /opt/kafka/bin/zookeeper-server-start.sh "$conf"')
    assert "kafka-storage" not in script
    headless = by_kind(objects, "Service")["legacy-zookeeper"]["spec"]
    assert headless["publishNotReadyAddresses"] is True
    assert sorted(p["port"] for p in headless["ports"]) == [2181, 2888, 3888]
    policy = by_kind(objects, "NetworkPolicy")["legacy"]["spec"]["ingress"][0]
    assert {2181, 2888, 3888} <= {p["port"] for p in policy["ports"]}
    for version in SUPPORTED:
        for obj in objects:
            kubernetes_validate.validate(obj, version, strict=True)


def test_zookeeper_mode_brokers_are_not_formatted_and_log_in_with_jaas():
    objects, _layout, _servers = render_zookeeper(jaas="Client { digest };\n")
    broker_script = by_kind(objects, "ConfigMap")["legacy-broker-scripts"]["data"]["start.sh"]
    assert "kafka-storage" not in broker_script
    assert "-Djava.security.auth.login.config=/opt/kafkaops/config/jaas.conf" in broker_script
    secrets = by_kind(objects, "Secret")
    assert secrets["legacy-broker-config"]["stringData"]["jaas.conf"] == "Client { digest };\n"
    assert "jaas.conf" in secrets["legacy-zookeeper-config"]["stringData"]
    assert "legacy-broker-config" not in by_kind(objects, "ConfigMap")


def test_zookeeper_restarts_first_and_its_ids_never_count_as_the_active_controller():
    _objects, layout, _servers = render_zookeeper()
    stale = [e["pod"] for e in layout.values()]
    assert kube.roll_order(layout, stale, active_controller=1) == [
        "legacy-zookeeper-2", "legacy-zookeeper-1", "legacy-zookeeper-0",
        "legacy-broker-2", "legacy-broker-1", "legacy-broker-0"]


def test_zookeeper_data_must_be_on_its_volume():
    security = sec.normalize(PLAIN)
    layout = kube.pod_layout({"processes": {}, "controllers": [], "brokers": []}, "legacy", "ns",
                             zookeeper=[{"host": "z1", "myid": 1}])
    process = {"roles": ["zookeeper"], "log_dirs": ["/data/zk"], "data_root": "/var/lib/zookeeper", "heap_size": "1g",
               "storage": {"size": "1Gi"}, "ports": [{"name": "client", "port": 2181}], "properties_text": ""}
    sets = kube.kafka_sets({"zookeeper/z1": process}, layout)
    with pytest.raises(KubernetesSpecError, match="zookeeper_kubernetes_data_root"):
        kube.manifests({"name": "legacy", "namespace": "ns", "platform": "kubernetes", "cluster_id": "x", "image": "i",
                        "data_root": "/var/lib/kafka", "security": security, "sets": sets})
