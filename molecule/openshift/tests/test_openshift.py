# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The openshift scenario after converge and idempotence, in order (pytest -x):

1. passthrough Routes for bootstrap and each broker, and brokers advertising their Route on the
   external listener;
2. the pod templates fit OpenShift's restricted-v2 SCC (evaluated here: the harness stores SCCs but
   does not enforce them) and the API server's own Pod Security admission (restricted) let the
   StatefulSet controller create every pod;
3. credentials and TLS material only in Secrets: certificates from the internal CA naming the
   pod, its Service and its Route; nothing secret in ConfigMaps;
   the Connect, Schema Registry and ksqlDB StatefulSets as rendered for OpenShift fit the same SCC,
   and all their objects pass the API server (server-side dry run);
4. the rendered objects validate for the oldest and newest supported Kubernetes;
5. day 2 without an admin route: brokers restart first, then controllers, one at a time; no secret
   reaches the playbook's output; a second run changes nothing.
"""
from __future__ import annotations

import base64
import json
import os

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from k8s_checks import CONF, NAMESPACE, SUPPORTED, api, changed, objects, playbook, properties, task_names, validate_rendered

from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import services

NAME = "events"
SECRETS = ("Adm1n-s3cret-OC", "App-s3cret-OC")
ROUTE_DOMAIN = "apps.ocp.kafka.test"

# OpenShift's restricted-v2 SecurityContextConstraints (the default for authenticated users)
RESTRICTED_V2 = {
    "apiVersion": "security.openshift.io/v1", "kind": "SecurityContextConstraints",
    "metadata": {"name": "restricted-v2"},
    "allowHostDirVolumePlugin": False, "allowHostIPC": False, "allowHostNetwork": False, "allowHostPID": False,
    "allowHostPorts": False, "allowPrivilegeEscalation": False, "allowPrivilegedContainer": False,
    "allowedCapabilities": ["NET_BIND_SERVICE"], "defaultAddCapabilities": None, "priority": None,
    "readOnlyRootFilesystem": False, "requiredDropCapabilities": ["ALL"],
    "fsGroup": {"type": "MustRunAs"}, "runAsUser": {"type": "MustRunAsRange"}, "seLinuxContext": {"type": "MustRunAs"},
    "supplementalGroups": {"type": "RunAsAny"}, "seccompProfiles": ["runtime/default"],
    "volumes": ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"],
}


def scc_violations(scc, pod):
    """What in a pod spec the SCC refuses (the checks of OpenShift's SCC admission that apply to a
    pod asking for no UID, fsGroup or SELinux level: those the SCC assigns from the namespace)."""
    problems = []
    for flag, key in (("hostNetwork", "allowHostNetwork"), ("hostPID", "allowHostPID"), ("hostIPC", "allowHostIPC")):
        if pod.get(flag) and not scc[key]:
            problems.append(flag)
    for volume in pod.get("volumes", []):
        kind = next(k for k in volume if k != "name")
        if kind not in scc["volumes"] and "*" not in scc["volumes"]:
            problems.append("volume %s (%s)" % (volume["name"], kind))
    context = pod.get("securityContext") or {}
    if scc["runAsUser"]["type"] == "MustRunAsRange" and "runAsUser" in context:
        problems.append("pod runAsUser %s (the SCC assigns the namespace's range)" % context["runAsUser"])
    if scc["fsGroup"]["type"] == "MustRunAs" and "fsGroup" in context:
        problems.append("pod fsGroup %s" % context["fsGroup"])
    seccomp = (context.get("seccompProfile") or {}).get("type")
    if seccomp and {"RuntimeDefault": "runtime/default"}.get(seccomp, seccomp) not in scc["seccompProfiles"]:
        problems.append("seccomp %s" % seccomp)
    for container in pod["containers"] + pod.get("initContainers", []):
        own = container.get("securityContext") or {}
        name = container["name"]
        if own.get("privileged") and not scc["allowPrivilegedContainer"]:
            problems.append("%s privileged" % name)
        if own.get("allowPrivilegeEscalation", True) and not scc["allowPrivilegeEscalation"]:
            problems.append("%s allows privilege escalation" % name)
        if "runAsUser" in own:
            problems.append("%s runAsUser" % name)
        dropped = set((own.get("capabilities") or {}).get("drop") or [])
        if not set(scc["requiredDropCapabilities"]) <= dropped and "ALL" not in dropped:
            problems.append("%s does not drop %s" % (name, scc["requiredDropCapabilities"]))
        added = set((own.get("capabilities") or {}).get("add") or [])
        if added - set(scc["allowedCapabilities"] or []):
            problems.append("%s adds %s" % (name, sorted(added)))
        if any(port.get("hostPort") for port in container.get("ports", [])) and not scc["allowHostPorts"]:
            problems.append("%s host port" % name)
    return problems


def test_routes_pass_tls_through_to_each_broker():
    routes = objects("route.openshift.io/v1", "Route")
    assert sorted(routes) == ["events-bootstrap", "events-broker-0", "events-broker-1", "events-broker-2"]
    config = objects("v1", "Secret")["events-broker-config"]["data"]
    services = objects("v1", "Service")
    for ordinal in range(3):
        route = routes["events-broker-%d" % ordinal]["spec"]
        host = "events-broker-%d-%s.%s" % (ordinal, NAMESPACE, ROUTE_DOMAIN)
        assert route["host"] == host
        assert route["tls"]["termination"] == "passthrough"
        assert route["to"] == {"kind": "Service", "name": "events-broker-%d-external" % ordinal, "weight": 100}
        service = services["events-broker-%d-external" % ordinal]["spec"]
        assert service["type"] == "ClusterIP" and service["ports"][0]["targetPort"] == 9094
        server = properties(base64.b64decode(config["server-%d.properties" % ordinal]).decode())
        assert "EXTERNAL://%s:443" % host in server["advertised.listeners"].split(",")
        assert server["node.id"] == str(11 + ordinal)
        assert server["process.roles"] == "broker"
    assert routes["events-bootstrap"]["spec"]["host"] == "events-bootstrap-%s.%s" % (NAMESPACE, ROUTE_DOMAIN)
    assert routes["events-bootstrap"]["spec"]["to"]["name"] == "events-bootstrap-external"


def test_pods_fit_the_restricted_v2_scc_and_pod_security_admission():
    resource = api().resources.get(api_version="security.openshift.io/v1", kind="SecurityContextConstraints")
    resource.server_side_apply(body=RESTRICTED_V2, field_manager="kafkaops-test", force_conflicts=True)
    scc = resource.get(name="restricted-v2").to_dict()
    for name, sts in objects("apps/v1", "StatefulSet").items():
        assert scc_violations(scc, sts["spec"]["template"]["spec"]) == [], name
    # the check can fail: a fixed UID is refused
    fixed = dict(objects("apps/v1", "StatefulSet")["events-broker"]["spec"]["template"]["spec"])
    fixed["securityContext"] = dict(fixed["securityContext"], runAsUser=1000)
    assert scc_violations(scc, fixed)
    # Pod Security admission (restricted) is real here: the controller created every pod
    pods = objects("v1", "Pod")
    assert sorted(pods) == ["events-broker-%d" % i for i in range(3)] + ["events-controller-%d" % i for i in range(3)]
    assert objects("v1", "Namespace", namespace=None)[NAMESPACE]["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"] == "restricted"


def test_connect_schema_registry_and_ksqldb_pods_fit_restricted_v2_and_pass_the_api_server():
    """The service StatefulSets as the roles render them for OpenShift (this scenario's clients use TLS, which
    the service pods do not get in this release, so they are rendered here rather than by the inventory)."""
    resource = api().resources.get(api_version="security.openshift.io/v1", kind="SecurityContextConstraints")
    scc = resource.get(name="restricted-v2").to_dict()
    base = {"name": NAME, "namespace": NAMESPACE, "platform": "openshift", "replicas": 2, "heap_size": "512m",
            "properties": {"bootstrap.servers": "events-bootstrap:9092"}}
    specs = [
        dict(base, kind="connect", component="connect", image="apache/kafka:4.3.1", port=8083, config_name="worker.properties",
             files={"db.properties": "password=x\n"}, files_dir="/etc/kafka/kafka-connect/secrets",
             plugin_root="/opt/kafka-connect/plugins",
             plugins=[{"name": "p", "version": "1.0", "directory": "p-1.0", "filename": "p-1.0.jar",
                       "url": "https://artifacts.kafka.test/p-1.0.jar", "checksum": "sha256:" + "a" * 64}]),
        dict(base, kind="schema-registry", component="schema-registry", image="confluentinc/cp-schema-registry:7.9.0",
             port=8081, config_name="schema-registry.properties", canary_subject="_kafkaops_canary"),
        dict(base, kind="ksqldb", component="ksqldb", image="confluentinc/cp-ksqldb-server:7.9.0", port=8088,
             config_name="ksql-server.properties", state_dir="/var/lib/kafka/ksqldb"),
    ]
    checked = 0
    for spec in specs:
        for obj in services.manifests(spec):
            if obj["kind"] == "StatefulSet":
                assert scc_violations(scc, obj["spec"]["template"]["spec"]) == [], obj["metadata"]["name"]
            kind = api().resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
            kind.server_side_apply(body=obj, namespace=NAMESPACE, field_manager="kafkaops-test", dry_run="All")
            checked += 1
    # each: ServiceAccount, configuration, scripts, two Services, StatefulSet, PDB; and Connect's secret files
    assert checked == 3 * 7 + 1


def test_tls_material_and_credentials_live_in_secrets():
    ca_path = os.path.join(CONF["workdir"], "ca", "ca.crt")
    with open(ca_path, "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    secrets = objects("v1", "Secret")
    for sts, count in (("events-broker", 3), ("events-controller", 3)):
        data = {k: base64.b64decode(v).decode() for k, v in secrets["%s-tls" % sts]["data"].items()}
        assert sorted(data) == ["keystore-%d.pem" % i for i in range(count)] + ["truststore.pem"]
        assert data["truststore.pem"].startswith("-----BEGIN CERTIFICATE-----")
        for ordinal in range(count):
            pem = data["keystore-%d.pem" % ordinal].encode()
            key = serialization.load_pem_private_key(pem, password=None)
            cert = x509.load_pem_x509_certificates(pem)[0]
            assert cert.issuer == ca.subject
            assert cert.public_key().public_numbers() == key.public_key().public_numbers()
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
            assert "%s-%d.%s.%s.svc.cluster.local" % (sts, ordinal, sts, NAMESPACE) in names
            if sts == "events-broker":
                assert "events-broker-%d-%s.%s" % (ordinal, NAMESPACE, ROUTE_DOMAIN) in names
                assert "events-bootstrap.%s.svc" % NAMESPACE in names
    scram = base64.b64decode(secrets["events-controller-config"]["data"]["scram-arguments"]).decode()
    assert "name=admin" in scram and SECRETS[0] in scram
    for name, configmap in objects("v1", "ConfigMap").items():
        assert not any(secret in str(configmap.get("data")) for secret in SECRETS), name
    sts = objects("apps/v1", "StatefulSet")["events-broker"]["spec"]["template"]["spec"]
    assert next(v for v in sts["volumes"] if v["name"] == "config")["secret"]["defaultMode"] == 0o440


def test_rendered_objects_are_valid_for_the_oldest_and_newest_supported_kubernetes():
    path = os.path.join(CONF["workdir"], "manifests", "%s-%s.yaml" % (NAME, NAMESPACE))
    with open(path) as handle:
        text = handle.read()
    assert not any(secret in text for secret in SECRETS)
    rendered = yaml.safe_load(text)
    checked = validate_rendered(rendered, crd_groups=["route.openshift.io"])
    assert checked == len(SUPPORTED) * len([o for o in rendered if o["kind"] != "Route"]) > 30


def test_brokers_restart_before_controllers_and_no_secret_is_shown():
    before = {name: pod["metadata"]["uid"] for name, pod in objects("v1", "Pod").items()}
    extra = {"kafka_broker_properties": {"log.retention.hours": 48},
             "kafka_controller_properties": {"controller.quorum.fetch.timeout.ms": 3000}}
    report = playbook("site.yml", extra)
    restarted = [s.split(": ", 1)[1] for s in task_names(report, r"^Restart pod \d/\d: ")]
    assert restarted == ["events-broker-2", "events-broker-1", "events-broker-0",
                         "events-controller-2", "events-controller-1", "events-controller-0"]
    after = objects("v1", "Pod")
    assert all(after[name]["metadata"]["uid"] != uid for name, uid in before.items())
    again = playbook("site.yml", extra)
    assert changed(again) == 0 and task_names(again, r"^Restart pod") == []
    shown = json.dumps(report) + json.dumps(again)
    assert not any(secret in shown for secret in SECRETS)
