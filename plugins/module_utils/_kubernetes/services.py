# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The Kubernetes and OpenShift objects of one cluster of a REST service of the platform: a Kafka
Connect cluster, Schema Registry or ksqlDB.

Each service cluster is a StatefulSet, so that every pod has a stable DNS name it advertises to
the others (Connect forwards requests to its leader, Schema Registry forwards writes to its
leader, ksqlDB servers pull queries from each other). Its properties are the ones the VM roles
compute, with the one advertised key set by the start script from the pod's name. Kubernetes
rolls the pods itself (RollingUpdate: one pod at a time, highest ordinal first), each gated on its
readiness probe, which asks the same question the VM restart gates ask where a probe can:

- Connect: the worker's REST API lists its connectors (``/connectors``) - it has joined its group
  (logged in, when the API has users: the probe reads its header from the login Secret);
- Schema Registry: the canary subject is read from the store (or the store answers that it has no
  such subject yet, before the role first registered it) - ``/subjects`` alone is not enough;
- ksqlDB: ``/healthcheck``.

Connect's plugins come from an init container that downloads each declared file, checks its
checksum and unpacks it into the plugin path (a file on the control node cannot reach a pod: the
preflight refuses it on these targets). Connector secrets come from a Secret mounted where the
file config provider reads them on VMs, so connector configs are the same on every target.

With the internal CA, each pod gets what a VM host of the service gets, at the same paths under the
TLS directory: a PEM key store (its own key and certificate, naming the pod and the cluster's
Service) and the PEM trust store for its Kafka clients, and for a REST listener over TLS the PKCS12
key and trust stores, made on the control node (module_utils._kubernetes.tls) and kept in the
Secret ``<statefulset>-tls``; the start script copies them into a memory-backed directory.
"""
from __future__ import annotations

import re
import shlex
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils import _checks
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes.objects import (
    CONFIG_DIR,
    CONFIG_HASH,
    LOG_DIR,
    MANAGED_BY,
    RUN_DIR,
    SCRIPTS_DIR,
    TLS_SOURCE_DIR,
    Object,
    Spec,
    base_volumes,
    digest,
    object_data,
    security_contexts,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.properties import to_java_properties

# what differs between the three services: the key each pod sets to its own address (and how),
# the image's start script, the environment variables for heap and JVM options, the probe
KINDS: Dict[str, Dict[str, Any]] = {
    "connect": {"label": "kafka-connect", "advertise": "rest.advertised.host.name", "value": "{host}",
                "start": "/opt/kafka/bin/connect-distributed.sh", "heap": "KAFKA_HEAP_OPTS", "opts": "KAFKA_OPTS",
                "container": "connect"},
    "schema-registry": {"label": "schema-registry", "advertise": "host.name", "value": "{host}",
                        "start": "/usr/bin/schema-registry-start", "heap": "SCHEMA_REGISTRY_HEAP_OPTS",
                        "opts": "SCHEMA_REGISTRY_OPTS", "container": "schema-registry"},
    "ksqldb": {"label": "ksqldb", "advertise": "ksql.advertised.listener", "value": "{scheme}://{host}:{port}",
               "start": "/usr/bin/ksql-server-start", "heap": "KSQL_HEAP_OPTS", "opts": "KSQL_OPTS",
               "container": "ksqldb"},
}

# a DNS-1035 label: what a StatefulSet, its Services and pods may be called
_DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
# a DNS subdomain (RFC 1123): the cluster domain
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _names_a_set(name: str) -> bool:
    """Whether ``name`` can name a StatefulSet: a DNS-1035 label, and short enough that the pods'
    controller-revision-hash label (``<statefulset>-<10 characters>``) stays within 63."""
    return bool(_DNS_LABEL.fullmatch(name)) and len(name) <= 52


_UNPACK = {".tar.gz": "tar -xzf {file} -C {dir}", ".tgz": "tar -xzf {file} -C {dir}", ".zip": "unzip -q -o {file} -d {dir}",
           ".jar": "cp {file} {dir}/"}


class ServiceSpecError(ValueError):
    """The description of a service cluster cannot be turned into objects."""


def set_name(spec: Spec) -> str:
    """The StatefulSet (and client Service) of the service cluster."""
    return "%s-%s" % (spec["name"], spec["component"])


def _check_names(spec: Any, kind: bool = True) -> Spec:
    """What names the cluster's objects and pods: kind (unless not ``kind``), name and component (a
    StatefulSet name), namespace, cluster domain, and the number of replicas."""
    spec = _checks.mapping(spec, "the service cluster description (spec)", ServiceSpecError)
    if kind and not (isinstance(spec.get("kind"), str) and spec["kind"] in KINDS):
        raise ServiceSpecError("kind must be one of %s, got %r" % (", ".join(sorted(KINDS)), spec.get("kind")))
    for key in ("name", "component", "namespace"):
        _checks.text(spec.get(key), key, ServiceSpecError)
    sts = set_name(spec)
    if not _names_a_set(sts):
        raise ServiceSpecError(
            "%r (platform_kubernetes_name and the %s cluster's name) cannot name a StatefulSet: lower-case letters, "
            "digits and '-', starting with a letter, at most 52 characters" % (sts, spec.get("kind") or "service"))
    for key, pattern in (("namespace", _DNS_LABEL), ("cluster_domain", _DNS_NAME)):
        value = spec.get(key) or ("cluster.local" if key == "cluster_domain" else None)
        if not isinstance(value, str) or not pattern.fullmatch(value) or len(value) > 63 * (1 if key == "namespace" else 4):
            raise ServiceSpecError("%s %r must be a DNS %s (lower-case letters, digits and '-')"
                                   % (key, value, "label" if key == "namespace" else "name"))
    replicas = spec.get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
        raise ServiceSpecError("%s needs at least one replica, got %r" % (sts, replicas))
    return spec


def check(spec: Spec) -> None:
    """Refuse what would make invalid objects, naming the setting."""
    spec = _check_names(spec)
    sts = set_name(spec)
    if spec.get("platform") not in ("kubernetes", "openshift"):
        raise ServiceSpecError("platform must be kubernetes or openshift, got %r" % (spec.get("platform"),))
    if spec.get("run_as_user") not in (None, "", 0):
        _checks.integer(spec["run_as_user"], "%s run_as_user" % sts, ServiceSpecError, low=1)
    _checks.port(spec.get("port"), "%s port" % sts, ServiceSpecError)
    for key in ("labels", "tls_material", "files", "auth_files", "extra_config", "environment", "node_selector", "properties"):
        _checks.mapping(spec.get(key), "%s %s" % (sts, key), ServiceSpecError, optional=True)
    for key in ("image_pull_secrets", "tolerations", "jvm_options", "extra_names"):
        _checks.sequence(spec.get(key), "%s %s" % (sts, key), ServiceSpecError, optional=True)
    for key in ("config_name", "heap_size"):
        _checks.text(spec.get(key), "%s %s" % (sts, key), ServiceSpecError)
    if not spec.get("image"):
        raise ServiceSpecError("%s has no image" % sts)
    material = spec.get("tls_material") or {}
    if spec.get("tls_dir") and not material.get("keystores"):
        raise ServiceSpecError("%s: tls_dir is given without tls_material (the pods' key stores)" % sts)
    if spec.get("tls") and not (spec.get("tls_dir") and material.get("pkcs12") and material.get("truststore_pkcs12")
                                and spec.get("store_name")):
        raise ServiceSpecError("%s: a REST listener over TLS needs the pods' PKCS12 stores (tls_dir, store_name and "
                               "tls_material with pkcs12 and truststore_pkcs12: platform_tls_internal_ca)" % sts)
    for plugin in _checks.mappings(spec.get("plugins"), "%s plugins" % sts, ServiceSpecError, optional=True):
        if not plugin.get("url") or not plugin.get("checksum"):
            raise ServiceSpecError(
                "plugin %s: on Kubernetes and OpenShift a plugin is downloaded by the pods, so it needs maven or url "
                "with a checksum (a file on the control node cannot reach them; build it into the image instead)"
                % plugin.get("name"))


def service_labels(spec: Spec, selector: bool = False) -> Dict[str, str]:
    """The labels of the service cluster's objects (``selector``: only those that select its pods)."""
    labels = {"app.kubernetes.io/name": KINDS[spec["kind"]]["label"], "app.kubernetes.io/instance": spec["name"],
              "app.kubernetes.io/component": spec["component"]}
    if not selector:
        labels["app.kubernetes.io/managed-by"] = MANAGED_BY
        labels.update(spec.get("labels") or {})
    return labels


def _meta(spec: Spec, name: str) -> Dict[str, Any]:
    return {"name": name, "namespace": spec["namespace"], "labels": service_labels(spec)}


def pod_dns_suffix(spec: Spec) -> str:
    """What follows a pod's name in its DNS name: ``.<statefulset>-pods.<namespace>.svc.<domain>``."""
    return ".%s-pods.%s.svc.%s" % (set_name(spec), spec["namespace"], spec.get("cluster_domain") or "cluster.local")


def tls_pods(spec: Spec) -> List[Dict[str, Any]]:
    """Each pod of the service cluster as its certificate needs it: ``{pod, set, ordinal, names}``, the
    names being the pod's own (short and DNS), the cluster's Service names and ``spec["extra_names"]``."""
    spec = _check_names(spec, kind=False)
    extra_names = _checks.sequence(spec.get("extra_names"), "extra_names", ServiceSpecError, optional=True)
    for name in extra_names:
        _checks.text(name, "extra_names", ServiceSpecError, optional=True)
    sts = set_name(spec)
    domain = spec.get("cluster_domain") or "cluster.local"
    pods = []
    for ordinal in range(int(spec["replicas"])):
        pod = "%s-%d" % (sts, ordinal)
        names = [pod, pod + pod_dns_suffix(spec), "%s.%s-pods.%s.svc" % (pod, sts, spec["namespace"]),
                 sts, "%s.%s.svc" % (sts, spec["namespace"]), "%s.%s.svc.%s" % (sts, spec["namespace"], domain)]
        names += [name for name in extra_names if name and name not in names]
        pods.append({"pod": pod, "set": sts, "ordinal": ordinal, "names": names})
    return pods


def _tls_lines(spec: Spec) -> List[str]:
    """The start script's copy of this pod's TLS material from the Secret into the TLS directory."""
    tls = spec.get("tls_dir")
    if not tls:
        return []
    quoted = shlex.quote(tls)
    lines = ['ordinal="${HOSTNAME##*-}"',
             'cp -f "%s/keystore-${ordinal}.pem" %s/keystore.pem' % (TLS_SOURCE_DIR, quoted),
             'cp -f "%s/truststore.pem" %s/truststore.pem' % (TLS_SOURCE_DIR, quoted)]
    stores = ["%s/keystore.pem" % quoted]
    if spec.get("tls"):
        name = shlex.quote(spec["store_name"])
        lines += ['cp -f "%s/keystore-${ordinal}.p12" %s/%s-keystore.p12' % (TLS_SOURCE_DIR, quoted, name),
                  'cp -f "%s/truststore.p12" %s/%s-truststore.p12' % (TLS_SOURCE_DIR, quoted, name)]
        stores.append("%s/%s-keystore.p12" % (quoted, name))
    lines.append("chmod 0600 %s" % " ".join(stores))
    return lines


def _start_command(spec: Spec) -> str:
    if spec["kind"] == "connect" and spec.get("image_flavor") == "confluent":
        return "/usr/bin/connect-distributed"
    return KINDS[spec["kind"]]["start"]


def start_script(spec: Spec) -> str:
    """The container's command: this pod's configuration (its own address added), then the service."""
    kind = KINDS[spec["kind"]]
    config = spec["config_name"]
    value = kind["value"].format(host="${host}", scheme="https" if spec.get("tls") else "http", port=int(spec["port"]))
    lines = [
        "#!/bin/bash",
        "# Managed by kafkaops.platform: starts one %s pod of a StatefulSet." % kind["label"],
        "set -euo pipefail",
        'host="${HOSTNAME}%s"' % pod_dns_suffix(spec),
        'conf="%s/%s"' % (RUN_DIR, config),
        'cp -f "%s/%s" "$conf"' % (CONFIG_DIR, config),
    ]
    lines += _tls_lines(spec)
    lines += [
        'printf "%%s=%%s\\n" %s "%s" >>"$conf"' % (shlex.quote(kind["advertise"]), value),
        'chmod 0600 "$conf"',
        'exec %s "$conf"' % _start_command(spec),
    ]
    return "\n".join(lines) + "\n"


def plugins_script(spec: Spec) -> str:
    """The init container's command: download each plugin, check its checksum, unpack it into its own directory."""
    lines = ["#!/bin/sh", "# Managed by kafkaops.platform: installs the Connect plugins of this pod.", "set -eu"]
    for plugin in spec.get("plugins") or []:
        algorithm, expected = plugin["checksum"].split(":", 1)
        directory = "%s/%s" % (spec["plugin_root"].rstrip("/"), plugin["directory"])
        download = "/tmp/%s-%s" % (plugin["directory"], plugin["filename"])
        unpack = next(command for suffix, command in _UNPACK.items() if plugin["filename"].endswith(suffix))
        lines += [
            "echo %s" % shlex.quote("installing plugin %s %s" % (plugin["name"], plugin["version"])),
            "mkdir -p %s" % shlex.quote(directory),
            "wget -q -O %s %s" % (shlex.quote(download), shlex.quote(plugin["url"])),
            "echo %s | %ssum -c -" % (shlex.quote("%s  %s" % (expected, download)), algorithm),
            unpack.format(file=shlex.quote(download), dir=shlex.quote(directory)),
            "rm -f %s" % shlex.quote(download),
        ]
    return "\n".join(lines) + "\n"


PROBE_AUTHORIZATION = "probe-authorization"


def authenticated_probe(port: int, path: str, header_file: str, tls: bool = False) -> str:
    """A bash command that asks ``GET path`` on the local REST port with the Authorization header read
    from ``header_file`` (a probe's httpGet would need the credentials in the pod spec), and succeeds on
    200 only. Plain HTTP through bash's /dev/tcp (the images need no curl); over TLS through curl, which
    reads the header from a file, or wget where an image has no curl (the header then is an argument,
    seen only inside the pod). The certificate is not checked: the probe asks its own pod."""
    if tls:
        url = shlex.quote("https://127.0.0.1:%d%s" % (int(port), path))
        header = '<(printf "Authorization: %%s\\n" "$(cat %s)")' % shlex.quote(header_file)
        return ("if command -v curl >/dev/null 2>&1; then curl -sfk -o /dev/null -H @%s %s; "
                "else wget -q -O /dev/null --no-check-certificate --header \"Authorization: $(cat %s)\" %s; fi"
                % (header, url, shlex.quote(header_file), url))
    return ("exec 3<>/dev/tcp/127.0.0.1/%d && "
            "printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: %%s\r\nConnection: close\r\n\r\n' "
            '"$(cat %s)" >&3 && IFS= read -r -t 5 status <&3 && [[ "$status" == "HTTP/1."[01]" 200"* ]]'
            % (int(port), path, shlex.quote(header_file)))


def _probe(spec: Spec) -> Dict[str, Any]:
    scheme = "HTTPS" if spec.get("tls") else "HTTP"
    header_file = "%s/%s" % (spec.get("auth_dir"), PROBE_AUTHORIZATION) if spec.get("probe_authorization") else None
    if spec["kind"] in ("connect", "ksqldb"):
        path = "/connectors" if spec["kind"] == "connect" else "/healthcheck"
        if header_file:
            command = authenticated_probe(spec["port"], path, header_file, tls=bool(spec.get("tls")))
            return {"exec": {"command": ["/bin/bash", "-c", command]}}
        return {"httpGet": {"path": path, "port": "rest", "scheme": scheme}}
    # Schema Registry: read the canary subject from the store; 40401 (no such subject) only proves that the
    # store answered, which is all a pod can show before the role registered the canary
    url = "%s://localhost:%d/subjects/%s/versions/latest" % (scheme.lower(), int(spec["port"]), spec["canary_subject"])
    login = ' -H @<(printf "Authorization: %%s\\n" "$(cat %s)")' % shlex.quote(header_file) if header_file else ""
    script = ('code=$(curl -sk%s -o /tmp/probe -w "%%{http_code}" %s) || exit 1; '
              '[ "$code" = 200 ] || { [ "$code" = 404 ] && grep -q "\\"error_code\\":40401" /tmp/probe; }') % (
        login.replace("%%", "%%%%"), shlex.quote(url))
    return {"exec": {"command": ["/bin/bash", "-c", script]}}


def _environment(spec: Spec) -> List[Dict[str, Any]]:
    kind = KINDS[spec["kind"]]
    env = [{"name": kind["heap"], "value": "-Xms%s -Xmx%s" % (spec["heap_size"], spec["heap_size"])},
           {"name": kind["opts"], "value": " ".join(spec.get("jvm_options") or [])},
           {"name": "LOG_DIR", "value": LOG_DIR}]
    for key in sorted(spec.get("environment") or {}):
        env.append({"name": str(key), "value": str(spec["environment"][key])})
    return env


def _volumes(spec: Spec, config_kind: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    mounts, volumes = base_volumes(set_name(spec), config_kind, "512Mi")
    sts = set_name(spec)
    if spec.get("tls_dir"):
        mounts += [{"name": "tls-source", "mountPath": TLS_SOURCE_DIR, "readOnly": True},
                   {"name": "tls", "mountPath": spec["tls_dir"]}]
        volumes += [{"name": "tls-source", "secret": {"secretName": "%s-tls" % sts, "defaultMode": 0o440}},
                    {"name": "tls", "emptyDir": {"medium": "Memory", "sizeLimit": "4Mi"}}]
    if spec.get("files"):
        mounts.append({"name": "secrets", "mountPath": spec["files_dir"], "readOnly": True})
        volumes.append({"name": "secrets", "secret": {"secretName": "%s-secrets" % sts, "defaultMode": 0o400}})
    if spec.get("auth_files"):
        mounts.append({"name": "rest-auth", "mountPath": spec["auth_dir"], "readOnly": True})
        volumes.append({"name": "rest-auth", "secret": {"secretName": "%s-rest-auth" % sts, "defaultMode": 0o400}})
    if spec.get("plugins"):
        mounts.append({"name": "plugins", "mountPath": spec["plugin_root"], "readOnly": True})
        volumes.append({"name": "plugins", "emptyDir": {"sizeLimit": spec.get("plugin_size") or "2Gi"}})
    if spec.get("state_dir"):
        mounts.append({"name": "state", "mountPath": spec["state_dir"]})
        volumes.append({"name": "state", "emptyDir": {"sizeLimit": spec.get("state_size") or "10Gi"}})
    return mounts, volumes


def _pod_spec(spec: Spec, config_kind: str) -> Dict[str, Any]:
    # the Apache Kafka and Confluent images both run as uid 1000
    pod_security, container_security = security_contexts(spec, 1000)
    mounts, volumes = _volumes(spec, config_kind)
    probe = _probe(spec)
    container: Dict[str, Any] = {
        "name": KINDS[spec["kind"]]["container"],
        "image": spec["image"],
        "imagePullPolicy": spec.get("image_pull_policy") or "IfNotPresent",
        "command": ["/bin/bash", "%s/start.sh" % SCRIPTS_DIR],
        "env": _environment(spec),
        "ports": [{"name": "rest", "containerPort": int(spec["port"]), "protocol": "TCP"}],
        "volumeMounts": mounts,
        "securityContext": container_security,
        "startupProbe": dict(probe, periodSeconds=5, timeoutSeconds=5, failureThreshold=120),
        "readinessProbe": dict(probe, periodSeconds=10, timeoutSeconds=5, failureThreshold=3),
        "livenessProbe": {"tcpSocket": {"port": "rest"}, "periodSeconds": 20, "timeoutSeconds": 5, "failureThreshold": 6},
    }
    if spec.get("resources"):
        container["resources"] = spec["resources"]
    pod: Dict[str, Any] = {
        "serviceAccountName": set_name(spec),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security,
        "terminationGracePeriodSeconds": int(spec.get("termination_grace_period", 60)),
        "containers": [container],
        "volumes": volumes,
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": service_labels(spec, selector=True)}}],
    }
    if spec.get("plugins"):
        plugin_mounts = [m for m in mounts if m["name"] in ("scripts", "tmp")]
        plugin_mounts.append({"name": "plugins", "mountPath": spec["plugin_root"]})
        pod["initContainers"] = [{
            "name": "plugins",
            "image": spec.get("plugin_image") or spec["image"],
            "imagePullPolicy": spec.get("image_pull_policy") or "IfNotPresent",
            "command": ["/bin/sh", "%s/plugins.sh" % SCRIPTS_DIR],
            "volumeMounts": plugin_mounts,
            "securityContext": container_security,
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        }]
    if spec.get("image_pull_secrets"):
        pod["imagePullSecrets"] = [{"name": s} for s in spec["image_pull_secrets"]]
    if spec.get("node_selector"):
        pod["nodeSelector"] = dict(spec["node_selector"])
    if spec.get("tolerations"):
        pod["tolerations"] = list(spec["tolerations"])
    return pod


def manifests(spec: Spec) -> List[Object]:
    """Every object of one service cluster, in apply order.

    ``spec``: name (platform_kubernetes_name), namespace, platform (kubernetes/openshift),
    cluster_domain, labels, image, image_pull_policy, image_pull_secrets, node_selector,
    tolerations, run_as_user; kind (connect, schema-registry, ksqldb), image_flavor (apache or
    confluent: where Connect's start script is), component (the service
    cluster's name in object names), replicas, port, tls, config_name, properties (the VM role's
    properties; the advertised key is replaced per pod), secret (the properties hold secrets),
    files (secret files, by name) and files_dir (where they are mounted), plugins (Connect's plugin
    plan), plugin_root, plugin_image, canary_subject (Schema Registry), state_dir (ksqlDB), extra_config
    (more files of the configuration object, mounted beside the properties), heap_size,
    jvm_options, environment, resources; auth_files (Connect's REST login config and users, by name),
    auth_dir (where they are mounted) and probe_authorization (the Authorization header the readiness
    probe sends; the REST API then answers only logged-in requests); tls_dir (where the pods find their
    stores: the VM hosts' TLS directory), tls_material (``{truststore, keystores: {ordinal: pem}}``,
    with a REST listener over TLS also ``pkcs12: {ordinal: base64}`` and ``truststore_pkcs12``) and
    store_name (the PKCS12 files' prefix, as on VMs).
    """
    check(spec)
    sts = set_name(spec)
    properties = {key: value for key, value in (spec.get("properties") or {}).items()
                  if key != KINDS[spec["kind"]]["advertise"]}
    config = {spec["config_name"]: to_java_properties(properties, header="Managed by kafkaops.platform")}
    config.update(spec.get("extra_config") or {})
    config_kind = "Secret" if spec.get("secret") else "ConfigMap"
    scripts = {"start.sh": start_script(spec)}
    if spec.get("plugins"):
        scripts["plugins.sh"] = plugins_script(spec)
    files = dict(spec.get("files") or {})
    auth = dict(spec.get("auth_files") or {})
    if auth and spec.get("probe_authorization"):
        auth[PROBE_AUTHORIZATION] = spec["probe_authorization"]
    objects: List[Object] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(spec, sts), "automountServiceAccountToken": False},
        dict({"apiVersion": "v1", "kind": config_kind, "metadata": _meta(spec, "%s-config" % sts)}, **object_data(config_kind, config)),
        dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(spec, "%s-scripts" % sts)}, **object_data("ConfigMap", scripts)),
    ]
    if config_kind == "Secret":
        objects[1]["type"] = "Opaque"
    if files:
        objects.append(dict({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": _meta(spec, "%s-secrets" % sts)},
                            **object_data("Secret", files)))
    if auth:
        objects.append(dict({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": _meta(spec, "%s-rest-auth" % sts)},
                            **object_data("Secret", auth)))
    tls = _tls_secret(spec)
    if tls:
        objects.append(tls)
    selector = service_labels(spec, selector=True)
    ports = [{"name": "rest", "port": int(spec["port"]), "targetPort": "rest", "protocol": "TCP"}]
    objects.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta(spec, "%s-pods" % sts),
                    "spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": selector, "ports": ports}})
    objects.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta(spec, sts),
                    "spec": {"type": "ClusterIP", "selector": selector, "ports": ports}})
    hashed = {"config": config, "scripts": scripts, "files": files, "auth": auth}
    if tls:  # only then: pods without TLS keep the hash they had
        hashed["tls"] = spec["tls_material"]
    template_labels = service_labels(spec)
    objects.append({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta(spec, sts),
        "spec": {
            "serviceName": "%s-pods" % sts,
            "replicas": spec["replicas"],
            "podManagementPolicy": "Parallel",
            # Kubernetes restarts one pod at a time, the next only once the last one is ready again
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": template_labels, "annotations": {CONFIG_HASH: digest(hashed)}},
                         "spec": _pod_spec(spec, config_kind)},
        },
    })
    objects.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(spec, sts),
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}}})
    return objects


def _tls_secret(spec: Spec) -> Optional[Object]:
    """The Secret ``<statefulset>-tls``: each pod's PEM key store and the PEM trust store, and with a REST
    listener over TLS each pod's PKCS12 key store and the PKCS12 trust store (binary: base64 data)."""
    if not spec.get("tls_dir"):
        return None
    material = spec["tls_material"]
    text = {"truststore.pem": material["truststore"]}
    binary: Dict[str, str] = {}
    for ordinal, pem in sorted(material["keystores"].items(), key=lambda item: int(item[0])):
        text["keystore-%d.pem" % int(ordinal)] = pem
    if spec.get("tls"):
        for ordinal, store in sorted(material["pkcs12"].items(), key=lambda item: int(item[0])):
            binary["keystore-%d.p12" % int(ordinal)] = store
        binary["truststore.p12"] = material["truststore_pkcs12"]
    secret: Object = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": _meta(spec, "%s-tls" % set_name(spec)),
                      "stringData": text}
    if binary:
        secret["data"] = binary
    return secret


def rollout_done(statefulset: Optional[Dict[str, Any]]) -> bool:
    """Whether a StatefulSet (as the API server returns it) runs its newest revision on every pod, all ready."""
    if not statefulset:
        return False
    statefulset = _checks.mapping(statefulset, "the StatefulSet", ServiceSpecError)
    spec, status, metadata = (_checks.mapping(statefulset.get(key), "the StatefulSet's %s" % key, ServiceSpecError, optional=True)
                              for key in ("spec", "status", "metadata"))

    def count(value: Any, what: str) -> int:
        return _checks.integer(value, "the StatefulSet's %s" % what, ServiceSpecError, low=0)
    replicas = count(spec.get("replicas", 1), "spec.replicas")
    return (count(status.get("observedGeneration", 0), "status.observedGeneration")
            >= count(metadata.get("generation", 0), "metadata.generation")
            and status.get("updateRevision") is not None
            and status.get("currentRevision") == status.get("updateRevision")
            and count(status.get("updatedReplicas") or 0, "status.updatedReplicas") == replicas
            and count(status.get("readyReplicas") or 0, "status.readyReplicas") == replicas)


def connect_component(cluster: str) -> str:
    """The object-name part of a Connect cluster: ``connect`` for the default cluster, else ``connect-<cluster>``."""
    return "connect" if cluster == "connect" else "connect-%s" % cluster


def target_errors(spec: Spec) -> List[str]:
    """What the inventory asks of Connect, Schema Registry and ksqlDB that Kubernetes and OpenShift cannot
    give in this release, each naming the variable, for the preflight (before anything is applied).

    ``spec``: name (platform_kubernetes_name), connect (the clusters of ``connect_clusters``),
    schema_registry_urls, ksqldb_urls (the REST URLs the inventory gives them), plugins (host to
    its plugin plan), client_tls (the security description's client listener uses TLS), internal_ca
    (platform_tls_internal_ca: the pods' TLS material comes from it).
    """
    spec = _checks.mapping(spec, "the service description (spec)", ServiceSpecError)
    _checks.text(spec.get("name"), "name (platform_kubernetes_name)", ServiceSpecError)
    errors = []
    connect = _checks.mapping(spec.get("connect"), "connect (the Connect clusters)", ServiceSpecError, optional=True)
    for cluster, settings in connect.items():
        _checks.mapping(settings, "connect[%r]" % (cluster,), ServiceSpecError)
    for key in ("schema_registry_urls", "ksqldb_urls"):
        for url in _checks.sequence(spec.get(key), key, ServiceSpecError, optional=True):
            _checks.text(url, key, ServiceSpecError)
    plugins = _checks.mapping(spec.get("plugins"), "plugins (host -> plugin plan)", ServiceSpecError, optional=True)
    services = [("kafka_connect_cluster %r" % cluster, "%s-%s" % (spec["name"], connect_component(cluster)))
                for cluster in sorted(connect)]
    if spec.get("schema_registry_urls"):
        services.append(("the schema_registry group", "%s-schema-registry" % spec["name"]))
    if spec.get("ksqldb_urls"):
        services.append(("the ksqldb group", "%s-ksqldb" % spec["name"]))
    for what, sts in services:
        if not _names_a_set(sts):
            errors.append("%s makes the StatefulSet name %r: on Kubernetes it must be lower-case letters, digits and '-', "
                          "starting with a letter, at most 52 characters with platform_kubernetes_name" % (what, sts))
    if not spec.get("internal_ca"):
        tls_rest = [("kafka_connect_rest_tls (cluster %s)" % c) for c in sorted(connect) if connect[c].get("rest_tls")]
        tls_rest += ["schema_registry_rest_tls"] if any(u.startswith("https:") for u in spec.get("schema_registry_urls") or []) else []
        tls_rest += ["ksqldb_rest_tls"] if any(u.startswith("https:") for u in spec.get("ksqldb_urls") or []) else []
        for variable in tls_rest:
            errors.append("%s: REST over TLS on Kubernetes and OpenShift needs platform_tls_internal_ca (the pods get their "
                          "key stores from it, in Secrets)" % variable)
        if services and spec.get("client_tls"):
            errors.append("platform_security: the client listener uses TLS, and the Connect, Schema Registry and ksqlDB pods "
                          "get their TLS material only from the internal CA; set platform_tls_internal_ca")
    for host in sorted(plugins, key=str):
        for plugin in _checks.mappings(plugins[host], "plugins[%r]" % (host,), ServiceSpecError, optional=True):
            if plugin.get("src"):
                errors.append("%s: kafka_connect_plugins %s comes from a file on the control node, which cannot reach the "
                              "pods; give maven or url with a checksum, or build it into kafka_connect_kubernetes_image"
                              % (host, plugin.get("name")))
    return errors
