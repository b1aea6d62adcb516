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
   Connect, Schema Registry and ksqlDB from the inventory: SCRAM over TLS to the brokers and REST
   over TLS, each pod's PEM and PKCS12 key stores and the PKCS12 trust store in the Secret
   <set>-tls, opening with the inventory's store password, naming the pod and the cluster's Service,
   where the properties (the VM hosts' own) look for them;
4. the rendered objects validate for the oldest and newest supported Kubernetes;
5. day 2 without an admin route: brokers restart first, then controllers, one at a time; no secret
   reaches the playbook's output; a second run changes nothing;
6. the CA across jobs: a run without the CA that signed the pods stops before anything changes; the CA
   kept in a Secret (platform_tls_ca_kubernetes_secret) serves a run from an empty CA directory.
"""
from __future__ import annotations

import base64
import json
import os

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from k8s_checks import CONF, NAMESPACE, SUPPORTED, api, changed, objects, playbook, properties, task_names, validate_rendered

NAME = "events"
SECRETS = ("Adm1n-s3cret-OC", "App-s3cret-OC", "Svc-s3cret-OC", "St0re-s3cret-OC")
STORE_PASSWORD = b"St0re-s3cret-OC"
# each service cluster of the inventory: its StatefulSet, pods, configuration file and PKCS12 store prefix
SERVICES = {"events-connect": (2, "worker.properties", "kafka-connect"),
            "events-schema-registry": (1, "schema-registry.properties", "schema-registry"),
            "events-ksqldb": (1, "ksql-server.properties", "ksqldb")}
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
    expected = ["events-broker-%d" % i for i in range(3)] + ["events-controller-%d" % i for i in range(3)]
    expected += ["%s-%d" % (sts, i) for sts, (count, _config, _store) in SERVICES.items() for i in range(count)]
    assert sorted(pods) == sorted(expected)
    assert objects("v1", "Namespace", namespace=None)[NAMESPACE]["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"] == "restricted"


def test_service_pods_get_their_tls_material_from_the_internal_ca():
    """Connect, Schema Registry and ksqlDB as the inventory deploys them: SCRAM over TLS to the brokers,
    REST over TLS, the stores where the properties look for them, opening with the inventory's password."""
    ca_path = os.path.join(CONF["workdir"], "ca", "ca.crt")
    with open(ca_path, "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    secrets = objects("v1", "Secret")
    sets = objects("apps/v1", "StatefulSet")
    for sts, (count, config_name, store) in SERVICES.items():
        assert sets[sts]["spec"]["replicas"] == count
        # the store password is in the properties: a Secret, never a ConfigMap
        config = properties(base64.b64decode(secrets["%s-config" % sts]["data"][config_name]).decode())
        keystore_key = "listeners.https.ssl.keystore.location" if store == "kafka-connect" else "ssl.keystore.location"
        assert config[keystore_key] == "/etc/kafka/tls/%s-keystore.p12" % store
        assert config["listeners"].startswith("https://0.0.0.0:")
        protocol = {"kafka-connect": "security.protocol", "schema-registry": "kafkastore.security.protocol",
                    "ksqldb": "ksql.streams.security.protocol"}[store]
        assert config[protocol] == "SASL_SSL"
        assert config[protocol.replace("security.protocol", "ssl.truststore.location")] == "/etc/kafka/tls/truststore.pem"
        data = {k: base64.b64decode(v) for k, v in secrets["%s-tls" % sts]["data"].items()}
        assert sorted(data) == sorted(["keystore-%d.pem" % i for i in range(count)] + ["keystore-%d.p12" % i for i in range(count)]
                                      + ["truststore.pem", "truststore.p12"])
        trusted = pkcs12.load_pkcs12(data["truststore.p12"], STORE_PASSWORD)
        assert [c.certificate for c in trusted.additional_certs] == [ca] and trusted.key is None
        for ordinal in range(count):
            pod = "%s-%d" % (sts, ordinal)
            key, cert, chain = pkcs12.load_key_and_certificates(data["keystore-%d.p12" % ordinal], STORE_PASSWORD)
            pem = data["keystore-%d.pem" % ordinal]
            assert cert == x509.load_pem_x509_certificates(pem)[0] and chain == [ca] and cert.issuer == ca.subject
            assert key.private_numbers() == serialization.load_pem_private_key(pem, password=None).private_numbers()
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
            assert "%s.%s-pods.%s.svc.cluster.local" % (pod, sts, NAMESPACE) in names
            assert "%s.%s.svc.cluster.local" % (sts, NAMESPACE) in names
        template = sets[sts]["spec"]["template"]["spec"]
        container = template["containers"][0]
        assert {"name": "tls", "mountPath": "/etc/kafka/tls"} in container["volumeMounts"]
        probe = container["readinessProbe"]
        assert probe.get("httpGet", {}).get("scheme", "HTTPS") == "HTTPS" and "http://" not in json.dumps(probe)
        start = objects("v1", "ConfigMap")["%s-scripts" % sts]["data"]["start.sh"]
        assert 'cp -f "/opt/kafkaops/tls-source/keystore-${ordinal}.p12" /etc/kafka/tls/%s-keystore.p12' % store in start
    # HTTP basic auth on Schema Registry and ksqlDB: the login files in a Secret, the JVM option, the probe logs in
    for sts, realm, option, roles in (("events-schema-registry", "SchemaRegistry-Props", "SCHEMA_REGISTRY_OPTS", "user"),
                                      ("events-ksqldb", "KsqlServer-Props", "KSQL_OPTS", "admin")):
        login = {k: base64.b64decode(v).decode() for k, v in secrets["%s-rest-auth" % sts]["data"].items()}
        assert sorted(login) == ["probe-authorization", "rest-jaas.conf", "rest-users.properties"]
        assert login["rest-jaas.conf"].startswith(realm + " {")
        assert 'file="/opt/kafkaops/rest-auth/rest-users.properties"' in login["rest-jaas.conf"]
        container = sets[sts]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert "-Djava.security.auth.login.config=/opt/kafkaops/rest-auth/rest-jaas.conf" in env[option].split()
        assert "/opt/kafkaops/rest-auth/probe-authorization" in container["readinessProbe"]["exec"]["command"][2]
        config_name = SERVICES[sts][1]
        config = properties(base64.b64decode(secrets["%s-config" % sts]["data"][config_name]).decode())
        assert (config["authentication.method"], config["authentication.realm"], config["authentication.roles"]) == (
            "BASIC", realm, roles)
    # ksqlDB reaches the registry's Service over https
    ksql = properties(base64.b64decode(secrets["events-ksqldb-config"]["data"]["ksql-server.properties"]).decode())
    assert ksql["ksql.schema.registry.url"] == "https://events-schema-registry.%s.svc.cluster.local:8081" % NAMESPACE
    # and logs in to it as the registry's own login user
    assert ksql["ksql.schema.registry.basic.auth.credentials.source"] == "USER_INFO"
    assert ksql["ksql.schema.registry.basic.auth.user.info"] == "registry-ops:Svc-s3cret-OC"


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
    for component in ("connect", "schema-registry", "ksqldb"):
        with open(os.path.join(CONF["workdir"], "manifests", "%s-%s-%s.yaml" % (NAME, component, NAMESPACE))) as handle:
            text = handle.read()
        assert not any(secret in text for secret in SECRETS), component
        rendered = yaml.safe_load(text)
        assert validate_rendered(rendered, crd_groups=[]) == len(SUPPORTED) * len(rendered)


# the properties the day-2 run changes; the runs after it keep them (a run without them would roll the pods back).
# From the day-2 run on, the CA is kept in a Secret too (test_the_ca_kept_in_a_secret_...).
CA_SECRET = "%s-internal-ca" % NAME
DAY2 = {"kafka_broker_properties": {"log.retention.hours": 48},
        "kafka_controller_properties": {"controller.quorum.fetch.timeout.ms": 3000},
        "platform_tls_ca_kubernetes_secret": CA_SECRET}


def test_brokers_restart_before_controllers_and_no_secret_is_shown():
    before = {name: pod["metadata"]["uid"] for name, pod in objects("v1", "Pod").items()}
    extra = DAY2
    report = playbook("site.yml", extra)
    restarted = [s.split(": ", 1)[1] for s in task_names(report, r"^Restart pod \d/\d: ")]
    assert restarted == ["events-broker-2", "events-broker-1", "events-broker-0",
                         "events-controller-2", "events-controller-1", "events-controller-0"]
    after = objects("v1", "Pod")
    kafka = [name for name in before if not name.startswith(tuple(SERVICES))]
    assert all(after[name]["metadata"]["uid"] != before[name] for name in kafka)
    # the services' pods were not touched: their stores were read back and kept, the templates unchanged
    assert all(after[name]["metadata"]["uid"] == uid for name, uid in before.items() if name not in kafka)
    again = playbook("site.yml", extra)
    assert changed(again) == 0 and task_names(again, r"^Restart pod") == []
    shown = json.dumps(report) + json.dumps(again)
    assert not any(secret in shown for secret in SECRETS)


def _pod_uids():
    return {name: pod["metadata"]["uid"] for name, pod in objects("v1", "Pod").items()}


def _tls_versions():
    return {name: secret["metadata"]["resourceVersion"] for name, secret in objects("v1", "Secret").items()
            if name.endswith("-tls")}


def test_a_run_without_the_ca_that_signed_the_pods_stops_before_anything_changes(tmp_path):
    """A fresh AWX execution environment: the CA directory is empty and no CA is handed over. The run must not
    make a new CA and re-sign the pods under it."""
    empty = tmp_path / "no-ca"
    empty.mkdir()
    pods, stores = _pod_uids(), _tls_versions()
    report = playbook("site.yml", dict(DAY2, platform_tls_ca_dir=str(empty), platform_tls_ca_kubernetes_secret=""),
                      fails=True)
    said = " ".join(" ".join(str(message) for _task, _host, message in report["failures"]).split())
    assert "%s-broker-tls" % NAME in said and "platform_tls_ca_kubernetes_secret is not set" in said, said
    assert "would make a new CA" in said, said
    assert os.listdir(empty) == [], "the refused run wrote into the CA directory"
    assert (_pod_uids(), _tls_versions()) == (pods, stores)


def test_the_ca_kept_in_a_secret_serves_a_run_without_the_ca_directory(tmp_path):
    """platform_tls_ca_kubernetes_secret: a run with the CA writes it into the Secret (the day-2 run above; the
    run after it changed nothing); a run from an empty CA directory (a new AWX job) takes it from there - the
    same key - and re-signs, restarts and rewrites nothing."""
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "ca", "ca.key")) as handle:
        ca_key = handle.read().strip()
    # written by the day-2 run (DAY2 names it), and left alone by the second day-2 run (no change at all)
    secret = objects("v1", "Secret")[CA_SECRET]
    assert base64.b64decode(secret["data"]["ca.key"]).decode().strip() == ca_key
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kafkaops.platform"
    pods, stores = _pod_uids(), _tls_versions()
    fresh = tmp_path / "job-ca"
    report = playbook("site.yml", dict(DAY2, platform_tls_ca_dir=str(fresh)))
    assert (fresh / "ca.key").read_text().strip() == ca_key
    assert oct((fresh / "ca.key").stat().st_mode & 0o777) == "0o600"
    assert task_names(report, r"^Restart pod") == []
    assert (_pod_uids(), _tls_versions()) == (pods, stores), "pods or their TLS Secrets changed"
    assert ca_key.splitlines()[1] not in json.dumps(report), "the CA key reached the output"
