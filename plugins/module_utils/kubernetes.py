# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The Kubernetes and OpenShift form of a Kafka cluster: pure functions from the same cluster
description the VM target uses (topology, per-process properties, security) to API objects.

Nothing here talks to a cluster. The role renders the objects with :func:`manifests` and applies
them with kubernetes.core (server-side apply); :func:`roll_order` decides which pods to restart
and in what order after a change.

Layout: hosts of the inventory are pods. Each process kind is one StatefulSet:

    <name>-controller   hosts only in kafka_controller (dedicated KRaft controllers)
    <name>-combined     hosts in both groups (combined broker + controller processes)
    <name>-broker       hosts only in kafka_broker
    <name>-zookeeper    hosts of the zookeeper group (ZooKeeper mode), keyed ``zookeeper/<host>``

A host's ordinal in its StatefulSet is its place in node-id order, so pod ``<set>-<ordinal>``
runs the properties rendered for that host (one ``server-<ordinal>.properties`` per pod in the
set's ConfigMap, or Secret when they hold secrets).
"""
from __future__ import annotations

import hashlib
import json
import re

COMPONENTS = ("zookeeper", "controller", "combined", "broker")
ZOOKEEPER_KEY = "zookeeper/"
BROKER_LABEL = "kafkaops.platform/broker"
PLATFORMS = ("kubernetes", "openshift")
EXTERNAL_TYPES = ("none", "NodePort", "LoadBalancer", "Route")
IMAGE_FLAVORS = ("apache", "confluent")
FIELD_MANAGER = "kafkaops.platform"
MANAGED_BY = "kafkaops.platform"
CONFIG_HASH = "kafkaops.platform/config-hash"

# where things live inside the Kafka container (the image's own directories are left alone)
CONFIG_DIR = "/opt/kafkaops/config"      # ConfigMap or Secret: server-<ordinal>.properties
SCRIPTS_DIR = "/opt/kafkaops/scripts"    # ConfigMap: start.sh
RUN_DIR = "/opt/kafkaops/run"            # emptyDir: the effective server.properties
LOG_DIR = "/opt/kafkaops/logs"           # emptyDir: Kafka's own log files (stdout has them too)
TLS_SOURCE_DIR = "/opt/kafkaops/tls-source"  # Secret: keystore-<ordinal>.pem, truststore.pem
JMX_DIR = "/opt/kafkaops/jmx"            # emptyDir: the JMX exporter agent, copied by an init container

# the Kafka scripts of each image flavour
_BIN = {
    "apache": {"start": "/opt/kafka/bin/kafka-server-start.sh", "storage": "/opt/kafka/bin/kafka-storage.sh",
               "zookeeper": "/opt/kafka/bin/zookeeper-server-start.sh", "uid": 1000},
    "confluent": {"start": "/usr/bin/kafka-server-start", "storage": "/usr/bin/kafka-storage",
                  "zookeeper": "/usr/bin/zookeeper-server-start", "uid": 1000},
}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$")


class KubernetesSpecError(ValueError):
    """The Kubernetes placement of the cluster cannot be rendered; the message says what to fix."""


def _fail(message):
    raise KubernetesSpecError(message)


# --------------------------------------------------------------------------------------------
# pods: which host is which pod


def set_name(name, component):
    """The StatefulSet (and headless Service) of a process kind."""
    return "%s-%s" % (name, component)


def component_of(roles):
    """``combined``, ``broker`` or ``controller``: the StatefulSet a process with ``roles`` belongs to."""
    if "broker" in roles:
        return "combined" if "controller" in roles else "broker"
    return "controller"


def pod_layout(topology, name, namespace, cluster_domain="cluster.local", zookeeper=None):
    """Map each host of ``topology`` (module_utils.topology.cluster_topology) to its pod.

    Returns ``{host: {"component", "set", "ordinal", "pod", "fqdn", "node_id", "roles",
    "broker_index"}}``. The ordinal is the host's place in node-id order within its StatefulSet,
    so adding hosts with higher node ids (scale-out) keeps every existing pod's identity;
    ``broker_index`` is a broker's place in node-id order among all brokers (external node ports).
    ``zookeeper`` (the ensemble, ``[{"host", "myid"}]``) adds its servers under the keys
    ``zookeeper/<host>`` (a host may run both a ZooKeeper server and a broker: two pods), with the
    myid as node id.
    """
    for what, value in (("name", name), ("namespace", namespace)):
        if not isinstance(value, str) or not _DNS_LABEL.match(value) or len(value) > 40:
            _fail("platform_kubernetes_%s %r must be a DNS label (lower-case letters, digits, '-'; at most 40 "
                  "characters)" % (what, value))
    processes = topology.get("processes") or {}
    per_set = {}
    for host, process in processes.items():
        component = component_of(process["roles"])
        per_set.setdefault(component, []).append((process["node_id"], host))
    layout = {}
    for component, members in per_set.items():
        members.sort(key=lambda item: (item[0] if isinstance(item[0], int) else 1 << 62, item[1]))
        sts = set_name(name, component)
        for ordinal, (node_id, host) in enumerate(members):
            pod = "%s-%d" % (sts, ordinal)
            layout[host] = {
                "component": component,
                "set": sts,
                "ordinal": ordinal,
                "pod": pod,
                "fqdn": "%s.%s.%s.svc.%s" % (pod, sts, namespace, cluster_domain),
                "node_id": node_id,
                "roles": list(processes[host]["roles"]),
                "broker_index": None,
            }
    brokers = sorted((e["node_id"] if isinstance(e["node_id"], int) else 1 << 62, h)
                     for h, e in layout.items() if "broker" in e["roles"])
    for index, (_node_id, host) in enumerate(brokers):
        layout[host]["broker_index"] = index
    servers = sorted(zookeeper or [], key=lambda s: (s["myid"] if isinstance(s["myid"], int) else 1 << 62, s["host"]))
    sts = set_name(name, "zookeeper")
    for ordinal, server in enumerate(servers):
        pod = "%s-%d" % (sts, ordinal)
        layout[ZOOKEEPER_KEY + server["host"]] = {
            "component": "zookeeper", "set": sts, "ordinal": ordinal, "pod": pod,
            "fqdn": "%s.%s.%s.svc.%s" % (pod, sts, namespace, cluster_domain),
            "node_id": server["myid"], "roles": ["zookeeper"], "broker_index": None}
    return layout


def kubernetes_zookeeper_servers(servers, layout):
    """The ensemble (``[{"host", "myid", "address"}]``) with the pods' DNS names as addresses."""
    moved = []
    for server in servers or []:
        copy = dict(server)
        entry = layout.get(ZOOKEEPER_KEY + server["host"])
        if entry:
            copy["address"] = entry["fqdn"]
        moved.append(copy)
    return moved


def kubernetes_topology(topology, layout):
    """``topology`` with every address replaced by the pod's stable DNS name."""
    def moved(entry):
        copy = dict(entry)
        if entry["host"] in layout:
            copy["address"] = layout[entry["host"]]["fqdn"]
        return copy
    processes = {}
    for host, process in (topology.get("processes") or {}).items():
        copy = dict(process)
        if host in layout:
            copy["address"] = layout[host]["fqdn"]
        processes[host] = copy
    return {"controllers": [moved(c) for c in topology["controllers"]],
            "brokers": [moved(b) for b in topology["brokers"]],
            "processes": processes}


def kafka_sets(processes, layout, secret=False):
    """Group the pods' processes into StatefulSets for :func:`manifests`.

    ``processes``: {host: {"roles", "log_dirs", "heap_size", "jvm_options", "environment",
    "storage", "resources", "properties_text"}, optional "format" (KRaft storage to format at
    start, default true), "jaas" (a JAAS file for ZooKeeper logins), "ports" (ZooKeeper:
    ``[{"name", "port"}]``), "data_root" (ZooKeeper: the volume's mount point)} (what the role
    computed for each host; ZooKeeper servers under ``zookeeper/<host>``). A
    StatefulSet has one pod template, so its placement settings come from its first pod; they must
    agree across its hosts (set them in group_vars).
    """
    sets = {}
    for host in sorted(processes):
        if host not in layout:
            _fail("host %s is not in the cluster layout" % host)
        process, entry = processes[host], layout[host]
        kafka_set = sets.get(entry["component"])
        if kafka_set is None:
            kafka_set = sets[entry["component"]] = {
                "component": entry["component"], "roles": list(process["roles"]), "secret": bool(secret),
                "heap_size": process["heap_size"], "jvm_options": list(process.get("jvm_options") or []),
                "environment": dict(process.get("environment") or {}), "log_dirs": list(process["log_dirs"]),
                "storage": dict(process["storage"]), "resources": dict(process.get("resources") or {}),
                "format": bool(process.get("format", True)), "jaas": process.get("jaas") or "",
                "ports": process.get("ports"), "data_root": process.get("data_root"),
                "pods": [], "_first": host}
        else:
            for key in ("roles", "heap_size", "jvm_options", "environment", "log_dirs", "storage", "resources",
                        "jaas", "ports", "data_root"):
                mine = process.get(key) or ({} if key in ("environment", "resources") else
                                            ("" if key == "jaas" else (None if key in ("ports", "data_root") else [])))
                theirs = kafka_set[key]
                if (sorted(mine) if key == "roles" else mine) != (sorted(theirs) if key == "roles" else theirs):
                    _fail("%s and %s share the StatefulSet %s but differ in %s; a StatefulSet has one pod template, "
                          "so set it for the whole group" % (kafka_set["_first"], host, entry["set"], key))
        kafka_set["pods"].append({"host": host, "ordinal": entry["ordinal"], "node_id": entry["node_id"],
                                  "broker_index": entry["broker_index"], "properties_text": process["properties_text"]})
    result = []
    for component in COMPONENTS:
        if component not in sets:
            continue
        kafka_set = sets[component]
        del kafka_set["_first"]
        kafka_set["pods"].sort(key=lambda pod: pod["ordinal"])
        ordinals = [pod["ordinal"] for pod in kafka_set["pods"]]
        if ordinals != list(range(len(ordinals))):
            _fail("the %s StatefulSet is missing pods: ordinals %s (run the play on every host of the inventory)"
                  % (component, ordinals))
        result.append(kafka_set)
    return result


def tls_names(layout_entry, name, namespace, cluster_domain, external=None, external_host=None):
    """The subject alternative names of a pod's certificate: its DNS names, its StatefulSet's and the
    bootstrap Service's names (clients verify the bootstrap address too), and its external name."""
    pod, sts = layout_entry["pod"], layout_entry["set"]
    names = [pod, layout_entry["fqdn"], "%s.%s.%s.svc" % (pod, sts, namespace),
             "%s.%s.svc.%s" % (sts, namespace, cluster_domain)]
    if "broker" in layout_entry["roles"]:
        names += ["%s-bootstrap" % name, "%s-bootstrap.%s.svc" % (name, namespace),
                  "%s-bootstrap.%s.svc.%s" % (name, namespace, cluster_domain)]
        if external_host:
            names.append(external_host)
        if external and external.get("type") == "Route":
            names.append(bootstrap_host(external, name, namespace))
    seen = []
    for entry in names:
        if entry not in seen:
            seen.append(entry)
    return seen


# --------------------------------------------------------------------------------------------
# external access


def _listener(security, name):
    for listener in security["listeners"]:
        if listener["name"] == name:
            return listener
    return None


def check_external(external, security, platform):
    """Validate the external access description; return it with defaults filled in."""
    external = dict(external or {})
    kind = external.get("type") or "none"
    if kind not in EXTERNAL_TYPES:
        _fail("platform_kubernetes_external.type must be one of %s, got %r" % (", ".join(EXTERNAL_TYPES), kind))
    external["type"] = kind
    if kind == "none":
        return external
    if kind == "Route" and platform != "openshift":
        _fail("platform_kubernetes_external.type Route needs platform_target openshift")
    name = external.get("listener") or ""
    listener = _listener(security, name)
    if listener is None:
        _fail("platform_kubernetes_external.listener %r is not a listener of platform_security (defined: %s)"
              % (name, ", ".join(lsn["name"] for lsn in security["listeners"])))
    if name in (security["controller_listener"], security["inter_broker_listener"]):
        _fail("platform_kubernetes_external.listener %s is the %s listener; give a client listener"
              % (name, "controller" if name == security["controller_listener"] else "inter-broker"))
    if kind == "Route" and listener["protocol"] not in ("SSL", "SASL_SSL"):
        _fail("platform_kubernetes_external: OpenShift Routes pass TLS through by SNI, so listener %s must use "
              "SSL or SASL_SSL (it uses %s)" % (name, listener["protocol"]))
    if kind == "NodePort":
        base = external.get("node_port_base")
        if not isinstance(base, int) or isinstance(base, bool) or not 1 <= base <= 65535:
            _fail("platform_kubernetes_external.node_port_base is required for NodePort access: the broker with the "
                  "N-th lowest node id (from 0) is advertised on node port node_port_base + N (e.g. 31090)")
        if not external.get("host"):
            _fail("platform_kubernetes_external.host is required for NodePort access: the node address clients use")
    if kind == "LoadBalancer" and not external.get("host"):
        _fail("platform_kubernetes_external.host is required for LoadBalancer access: the DNS name of each broker's "
              "load balancer, with {node_id}, {index} or {pod} in it (e.g. kafka-{node_id}.example.com)")
    if kind == "Route" and not (external.get("host") or external.get("route_domain")):
        _fail("platform_kubernetes_external needs route_domain (the router's wildcard domain, e.g. apps.example.com) "
              "or host (with {node_id}, {index} or {pod}) for Routes")
    if kind in ("LoadBalancer", "Route") and external.get("host") and not re.search(r"\{(node_id|index|pod)\}", external["host"]):
        _fail("platform_kubernetes_external.host %r must contain {node_id}, {index} or {pod}: each broker needs its own name"
              % external["host"])
    return external


def external_address(external, listener, entry, namespace):
    """The (host, port) a client outside the cluster uses for one broker (a pod_layout entry), or None."""
    kind = external["type"]
    if kind == "none":
        return None
    names = {"pod": entry["pod"], "node_id": entry["node_id"], "index": entry["broker_index"], "namespace": namespace}
    if kind == "NodePort":
        return external["host"], int(external["node_port_base"]) + int(entry["broker_index"])
    if kind == "LoadBalancer":
        return external["host"].format(**names), int(listener["advertised_port"])
    if external.get("host"):
        return external["host"].format(**names), 443
    host = "%s-%s.%s" % (entry["pod"], namespace, external["route_domain"])
    return host, 443


def bootstrap_host(external, name, namespace):
    """The host of the external bootstrap Route (OpenShift)."""
    if external.get("bootstrap_host"):
        return external["bootstrap_host"]
    if external.get("route_domain"):
        return "%s-bootstrap-%s.%s" % (name, namespace, external["route_domain"])
    return external["host"].format(node_id="bootstrap", index="bootstrap", pod="%s-bootstrap" % name, namespace=namespace)


def advertised_overrides(external, security, layout_entry, namespace):
    """The ``advertised`` entry of security.server_properties' node for a pod (external listener)."""
    if external["type"] == "none" or "broker" not in layout_entry["roles"]:
        return {}
    listener = _listener(security, external["listener"])
    host, port = external_address(external, listener, layout_entry, namespace)
    return {listener["name"]: {"host": host, "port": port}}


# --------------------------------------------------------------------------------------------
# objects


def _labels(spec, component=None):
    labels = {"app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": spec["name"],
              "app.kubernetes.io/managed-by": MANAGED_BY}
    if component:
        labels["app.kubernetes.io/component"] = component
    labels.update(spec.get("labels") or {})
    return labels


def _selector(spec, component=None):
    selector = {"app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": spec["name"]}
    if component:
        selector["app.kubernetes.io/component"] = component
    return selector


def _broker_selector(spec):
    """Every pod that serves clients (broker and combined StatefulSets)."""
    return dict(_selector(spec), **{BROKER_LABEL: "true"})


def _meta(spec, name, component=None, annotations=None):
    meta = {"name": name, "namespace": spec["namespace"], "labels": _labels(spec, component)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def digest(value):
    """A stable sha256 of any JSON-able value (pod template annotation: a change rolls the pods)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def start_script(flavor, component, rack_from_zone, tls, jmx_exporter, kraft_format=True, jaas=False, data_dir=None):
    """The container's command: pick this pod's configuration, add its rack, format KRaft storage
    once (or write a ZooKeeper server's myid), start."""
    binaries = _BIN[flavor]
    zookeeper = component == "zookeeper"
    lines = [
        "#!/bin/bash",
        "# Managed by kafkaops.platform: starts one %s pod of a StatefulSet." % ("ZooKeeper" if zookeeper else "Kafka"),
        "set -euo pipefail",
        'ordinal="${HOSTNAME##*-}"',
        'conf="%s/%s"' % (RUN_DIR, "zoo.cfg" if zookeeper else "server.properties"),
        'cp "%s/%s" "$conf"' % (CONFIG_DIR, "zoo-${ordinal}.cfg" if zookeeper else "server-${ordinal}.properties"),
        'chmod 0600 "$conf"',
    ]
    if zookeeper:
        lines += ['mkdir -p "%s"' % data_dir, 'cp "%s/myid-${ordinal}" "%s/myid"' % (CONFIG_DIR, data_dir)]
    if rack_from_zone and component in ("combined", "broker"):
        lines += [
            'if [ -n "${KAFKAOPS_ZONE:-}" ]; then',
            '  printf "broker.rack=%s\\n" "$KAFKAOPS_ZONE" >>"$conf"',
            "fi",
        ]
    if tls:
        lines += [
            'cp "%s/keystore-${ordinal}.pem" "%s/keystore.pem"' % (TLS_SOURCE_DIR, tls),
            'cp "%s/truststore.pem" "%s/truststore.pem"' % (TLS_SOURCE_DIR, tls),
            'chmod 0600 "%s/keystore.pem"' % tls,
        ]
    if jaas:
        lines.append('export KAFKA_OPTS="${KAFKA_OPTS:-} -Djava.security.auth.login.config=%s/jaas.conf"' % CONFIG_DIR)
    if kraft_format and not zookeeper:
        lines += [
            "format=(%s format --ignore-formatted --cluster-id \"$KAFKAOPS_CLUSTER_ID\" --config \"$conf\")"
            % binaries["storage"],
            'if [ -f "%s/scram-arguments" ]; then' % CONFIG_DIR,
            "  while IFS= read -r line; do [ -n \"$line\" ] && format+=(--add-scram \"$line\"); done <\"%s/scram-arguments\""
            % CONFIG_DIR,
            "fi",
            '"${format[@]}"',
        ]
    if jmx_exporter:
        lines.append('export KAFKA_OPTS="${KAFKA_OPTS:-} -javaagent:%s/agent.jar=%d:%s/jmx-exporter.yaml"'
                     % (JMX_DIR, int(jmx_exporter["port"]), SCRIPTS_DIR))
    lines.append('exec %s "$conf"' % binaries["zookeeper" if zookeeper else "start"])
    return "\n".join(lines) + "\n"


def _ports(security, roles):
    ports = []
    for listener in security["listeners"]:
        serves = "controller" if listener["name"] == security["controller_listener"] else "broker"
        if serves in roles:
            ports.append({"name": listener["name"].lower().replace("_", "-")[:15], "port": int(listener["port"])})
    return ports


def set_ports(security, kafka_set):
    """The container ports of a StatefulSet's pods: ZooKeeper's own list, or the listeners."""
    if kafka_set["component"] == "zookeeper":
        return [{"name": str(p["name"]), "port": int(p["port"])} for p in kafka_set.get("ports") or []]
    return _ports(security, kafka_set["roles"])


def _probe_port(security, roles):
    if "broker" in roles:
        return int(_listener(security, security["inter_broker_listener"])["port"])
    return int(_listener(security, security["controller_listener"])["port"])


def _pod_security(spec, flavor):
    pod = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    if spec["platform"] == "kubernetes":
        # OpenShift's restricted-v2 SCC assigns the UID and fsGroup from the namespace's range
        uid = int(spec.get("run_as_user") or _BIN[flavor]["uid"])
        pod.update({"runAsUser": uid, "runAsGroup": uid, "fsGroup": uid, "fsGroupChangePolicy": "OnRootMismatch"})
    container = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                 "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}
    return pod, container


def _statefulset(spec, kafka_set, config_kind, config_hash):
    component = kafka_set["component"]
    sts = set_name(spec["name"], component)
    security = spec["security"]
    flavor = spec.get("image_flavor") or "apache"
    roles = kafka_set["roles"]
    pod_security, container_security = _pod_security(spec, flavor)
    tls_dir = spec.get("tls_dir")
    jmx = spec.get("jmx_exporter") if (spec.get("jmx_exporter") or {}).get("enabled") else None
    zookeeper = component == "zookeeper"
    env = [] if zookeeper else [
        {"name": "KAFKAOPS_CLUSTER_ID",
         "valueFrom": {"configMapKeyRef": {"name": "%s-cluster" % spec["name"], "key": "cluster.id"}}}]
    env += [
        {"name": "KAFKA_HEAP_OPTS", "value": "-Xms%s -Xmx%s" % (kafka_set["heap_size"], kafka_set["heap_size"])},
        {"name": "KAFKA_OPTS", "value": " ".join(kafka_set.get("jvm_options") or [])},
        {"name": "LOG_DIR", "value": LOG_DIR},
    ]
    if spec.get("rack_from_zone") and "broker" in roles:
        env.append({"name": "KAFKAOPS_ZONE", "valueFrom": {"fieldRef": {
            "fieldPath": "metadata.labels['%s']" % spec.get("zone_label", "topology.kubernetes.io/zone")}}})
    for key in sorted(kafka_set.get("environment") or {}):
        env.append({"name": str(key), "value": str(kafka_set["environment"][key])})
    mounts = [
        {"name": "data", "mountPath": kafka_set.get("data_root") or spec["data_root"]},
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "scripts", "mountPath": SCRIPTS_DIR, "readOnly": True},
        {"name": "run", "mountPath": RUN_DIR},
        {"name": "logs", "mountPath": LOG_DIR},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    config_source = ({"secret": {"secretName": "%s-config" % sts, "defaultMode": 0o440}} if config_kind == "Secret"
                     else {"configMap": {"name": "%s-config" % sts, "defaultMode": 0o440}})
    volumes = [
        dict({"name": "config"}, **config_source),
        {"name": "scripts", "configMap": {"name": "%s-scripts" % sts, "defaultMode": 0o550}},
        {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
        {"name": "logs", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
    ]
    if tls_dir:
        mounts += [{"name": "tls-source", "mountPath": TLS_SOURCE_DIR, "readOnly": True},
                   {"name": "tls", "mountPath": tls_dir}]
        volumes += [{"name": "tls-source", "secret": {"secretName": "%s-tls" % sts, "defaultMode": 0o440}},
                    {"name": "tls", "emptyDir": {"medium": "Memory", "sizeLimit": "4Mi"}}]
    ports = [{"name": p["name"], "containerPort": p["port"], "protocol": "TCP"} for p in set_ports(security, kafka_set)]
    init_containers = []
    if jmx:
        mounts.append({"name": "jmx", "mountPath": JMX_DIR, "readOnly": True})
        volumes.append({"name": "jmx", "emptyDir": {"sizeLimit": "64Mi"}})
        ports.append({"name": "metrics", "containerPort": int(jmx["port"]), "protocol": "TCP"})
        init_containers.append({
            "name": "jmx-exporter",
            "image": jmx["image"],
            "imagePullPolicy": spec.get("image_pull_policy") or "IfNotPresent",
            "command": ["cp", jmx["agent_path"], "%s/agent.jar" % JMX_DIR],
            "volumeMounts": [{"name": "jmx", "mountPath": JMX_DIR}],
            "securityContext": container_security,
            "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
        })
    probe_port = set_ports(security, kafka_set)[0]["port"] if zookeeper else _probe_port(security, roles)
    container = {
        "name": "zookeeper" if zookeeper else "kafka",
        "image": spec["image"],
        "imagePullPolicy": spec.get("image_pull_policy") or "IfNotPresent",
        "command": ["/bin/bash", "%s/start.sh" % SCRIPTS_DIR],
        "env": env,
        "ports": ports,
        "volumeMounts": mounts,
        "securityContext": container_security,
        "readinessProbe": {"tcpSocket": {"port": probe_port}, "initialDelaySeconds": 10, "periodSeconds": 10,
                           "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"tcpSocket": {"port": probe_port}, "initialDelaySeconds": 60, "periodSeconds": 20,
                          "timeoutSeconds": 5, "failureThreshold": 6},
        "startupProbe": {"tcpSocket": {"port": probe_port}, "periodSeconds": 10, "failureThreshold": 60},
    }
    if kafka_set.get("resources"):
        container["resources"] = kafka_set["resources"]
    template_labels = _labels(spec, component)
    if "broker" in roles:
        template_labels[BROKER_LABEL] = "true"
    pod_spec = {
        "serviceAccountName": "%s-kafka" % spec["name"],
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security,
        "terminationGracePeriodSeconds": int(spec.get("termination_grace_period", 120)),
        "containers": [container],
        "volumes": volumes,
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": spec.get("zone_label", "topology.kubernetes.io/zone"),
             "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": _selector(spec, component)}},
            {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
             "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": _selector(spec, component)}},
        ],
    }
    if init_containers:
        pod_spec["initContainers"] = init_containers
    if spec.get("image_pull_secrets"):
        pod_spec["imagePullSecrets"] = [{"name": s} for s in spec["image_pull_secrets"]]
    if spec.get("node_selector"):
        pod_spec["nodeSelector"] = dict(spec["node_selector"])
    if spec.get("tolerations"):
        pod_spec["tolerations"] = list(spec["tolerations"])
    if spec.get("priority_class"):
        pod_spec["priorityClassName"] = spec["priority_class"]
    claim = {"metadata": {"name": "data", "labels": _labels(spec, component)},
             "spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": kafka_set["storage"]["size"]}}}}
    if kafka_set["storage"].get("class"):
        claim["spec"]["storageClassName"] = kafka_set["storage"]["class"]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(spec, sts, component),
        "spec": {
            "serviceName": sts,
            "replicas": len(kafka_set["pods"]),
            "podManagementPolicy": "Parallel",
            # pods restart only when the role deletes them, one at a time and gated on Kafka's health
            "updateStrategy": {"type": "OnDelete"},
            "selector": {"matchLabels": _selector(spec, component)},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": template_labels, "annotations": {CONFIG_HASH: config_hash}},
                "spec": pod_spec,
            },
            "volumeClaimTemplates": [claim],
        },
    }


def _service(spec, name, component, ports, selector, kind="ClusterIP", headless=False, annotations=None,
             extra=None):
    body = {"selector": selector, "ports": ports}
    if headless:
        body.update({"clusterIP": "None", "publishNotReadyAddresses": True})
    else:
        body["type"] = kind
    body.update(extra or {})
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(spec, name, component, annotations),
            "spec": body}


def _service_ports(ports):
    return [{"name": p["name"], "port": p["port"], "targetPort": p["port"], "protocol": "TCP"} for p in ports]


def _route(spec, name, host, service, port_name):
    return {"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": _meta(spec, name, "broker"),
            "spec": {"host": host, "to": {"kind": "Service", "name": service, "weight": 100},
                     "port": {"targetPort": port_name},
                     "tls": {"termination": "passthrough", "insecureEdgeTerminationPolicy": "None"},
                     "wildcardPolicy": "None"}}


def _data(kind, values):
    """ConfigMap data stays text; Secret values go to stringData (the API server encodes them)."""
    return {"stringData" if kind == "Secret" else "data": dict(values)}


def check_spec(spec):
    """Validate what the role passes to :func:`manifests` (the parts a user sets)."""
    if spec.get("platform") not in PLATFORMS:
        _fail("platform must be one of %s" % ", ".join(PLATFORMS))
    if (spec.get("image_flavor") or "apache") not in IMAGE_FLAVORS:
        _fail("platform_kubernetes_image_flavor must be one of %s" % ", ".join(IMAGE_FLAVORS))
    if not spec.get("image"):
        _fail("platform_kubernetes_image is empty")
    for kafka_set in spec.get("sets") or []:
        size = str(kafka_set["storage"].get("size") or "")
        if not _QUANTITY.match(size):
            _fail("%s storage size %r is not a Kubernetes quantity (e.g. 100Gi)" % (kafka_set["component"], size))
        root = kafka_set.get("data_root") or spec["data_root"]
        for path in kafka_set.get("log_dirs") or []:
            if not (str(path) + "/").startswith(root.rstrip("/") + "/"):
                _fail("%s data directory %s is not under %s, the mount point of the pod's volume (%s)"
                      % (kafka_set["component"], path, root,
                         "zookeeper_kubernetes_data_root" if kafka_set["component"] == "zookeeper" else "platform_data_root"))
    jmx = spec.get("jmx_exporter") or {}
    if jmx.get("enabled") and not (jmx.get("image") and jmx.get("agent_path")):
        _fail("platform_kubernetes_jmx_exporter needs image and agent_path (the agent jar inside that image)")
    if spec.get("service_monitor") and not jmx.get("enabled"):
        _fail("platform_kubernetes_service_monitor needs platform_kubernetes_jmx_exporter.enabled")


def manifests(spec):
    """Every API object of the cluster, in apply order.

    ``spec`` (built by the role from the inventory):
      name, namespace, platform (kubernetes/openshift), cluster_id, image, image_flavor,
      image_pull_policy, image_pull_secrets, labels, data_root, tls_dir (None without TLS),
      security (normalized), external (see :func:`check_external`), zone_label, rack_from_zone,
      network_policy {enabled, client_peers, metrics_peers}, jmx_exporter {enabled, image,
      agent_path, port, config}, service_monitor, node_selector, tolerations, pod_security
      (the namespace's Pod Security level, or "" to leave the namespace's labels alone),
      scram_arguments (kafka-storage --add-scram values, secret),
      tls_material {set: {"truststore": pem, "keystores": {ordinal: pem}}} (secret),
      sets: [{component, roles, heap_size, jvm_options, environment, resources, log_dirs,
              storage {class, size}, secret (properties hold secrets),
              pods: [{host, ordinal, properties_text}] (ordinal order)}]
    """
    check_spec(spec)
    security = spec["security"]
    external = check_external(spec.get("external"), security, spec["platform"])
    name, namespace = spec["name"], spec["namespace"]
    objects = []

    namespace_labels = {}
    if spec.get("pod_security"):
        namespace_labels = {"pod-security.kubernetes.io/enforce": spec["pod_security"],
                            "pod-security.kubernetes.io/warn": spec["pod_security"],
                            "pod-security.kubernetes.io/audit": spec["pod_security"]}
    if spec.get("create_namespace", True):
        objects.append({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": namespace, "labels": namespace_labels}})
    objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(spec, "%s-kafka" % name),
                    "automountServiceAccountToken": False})
    objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(spec, "%s-cluster" % name),
                    "data": {"cluster.id": spec["cluster_id"]}})

    jmx = spec.get("jmx_exporter") if (spec.get("jmx_exporter") or {}).get("enabled") else None
    all_ports = {}
    for kafka_set in spec["sets"]:
        component = kafka_set["component"]
        sts = set_name(name, component)
        config_kind = "Secret" if kafka_set.get("secret") else "ConfigMap"
        zookeeper = component == "zookeeper"
        if zookeeper:
            config = {"zoo-%d.cfg" % pod["ordinal"]: pod["properties_text"] for pod in kafka_set["pods"]}
            config.update({"myid-%d" % pod["ordinal"]: "%d\n" % int(pod["node_id"]) for pod in kafka_set["pods"]})
        else:
            config = {"server-%d.properties" % pod["ordinal"]: pod["properties_text"] for pod in kafka_set["pods"]}
        kraft_format = kafka_set.get("format", True) and not zookeeper
        if spec.get("scram_arguments") and kraft_format:
            config["scram-arguments"] = "".join("%s\n" % arg for arg in spec["scram_arguments"])
            config_kind = "Secret"
        if kafka_set.get("jaas"):
            config["jaas.conf"] = kafka_set["jaas"]
            config_kind = "Secret"
        data_dir = None
        if zookeeper:
            data_dir = next((d for d in kafka_set.get("log_dirs") or []), kafka_set.get("data_root"))
        scripts = {"start.sh": start_script(spec.get("image_flavor") or "apache", component,
                                            spec.get("rack_from_zone"), spec.get("tls_dir"), jmx,
                                            kraft_format=kraft_format, jaas=bool(kafka_set.get("jaas")),
                                            data_dir=data_dir)}
        if jmx:
            rules = jmx.get("config") or {"lowercaseOutputName": True, "rules": [{"pattern": ".*"}]}
            scripts["jmx-exporter.yaml"] = json.dumps(rules, indent=2, sort_keys=True) + "\n"
        tls = (spec.get("tls_material") or {}).get(sts)
        hashed = {"config": config, "scripts": scripts, "tls": tls, "cluster_id": spec["cluster_id"]}
        config_object = dict({"apiVersion": "v1", "kind": config_kind, "metadata": _meta(spec, "%s-config" % sts, component)},
                             **_data(config_kind, config))
        if config_kind == "Secret":
            config_object["type"] = "Opaque"
        objects.append(config_object)
        objects.append(dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(spec, "%s-scripts" % sts, component)},
                            **_data("ConfigMap", scripts)))
        if tls:
            tls_data = {"truststore.pem": tls["truststore"]}
            for ordinal, pem in sorted(tls["keystores"].items(), key=lambda item: int(item[0])):
                tls_data["keystore-%d.pem" % int(ordinal)] = pem
            objects.append(dict({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                 "metadata": _meta(spec, "%s-tls" % sts, component)}, **_data("Secret", tls_data)))
        ports = set_ports(security, kafka_set)
        if jmx:
            ports = ports + [{"name": "metrics", "port": int(jmx["port"])}]
        for port in ports:
            all_ports[port["port"]] = port
        objects.append(_service(spec, sts, component, _service_ports(ports), _selector(spec, component), headless=True))
        objects.append(_statefulset(spec, kafka_set, config_kind, digest(hashed)))
        objects.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(spec, sts, component),
                        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _selector(spec, component)}}})

    brokers = [s for s in spec["sets"] if "broker" in s["roles"]]
    client_ports = []
    if brokers:
        broker_ports = _ports(security, brokers[0]["roles"])
        client = {security["client_listener"], security["admin_listener"]}
        if external["type"] != "none":
            client.add(external["listener"])
        client_ports = [p for p in broker_ports
                        if any(lsn["name"] in client and int(lsn["port"]) == p["port"] for lsn in security["listeners"])]
        internal_ports = [p for p in client_ports
                          if external["type"] == "none" or p["port"] != int(_listener(security, external["listener"])["port"])]
        objects.append(_service(spec, "%s-bootstrap" % name, None, _service_ports(internal_ports or client_ports),
                                _broker_selector(spec)))
        objects.extend(_external_objects(spec, external, brokers, _layout_by_pod(spec)))

    if spec.get("network_policy", {}).get("enabled", True):
        objects.append(_network_policy(spec, all_ports, client_ports, external, jmx))
    if spec.get("service_monitor"):
        objects.append({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                        "metadata": _meta(spec, name),
                        "spec": {"selector": {"matchLabels": _selector(spec)},
                                 "namespaceSelector": {"matchNames": [namespace]},
                                 "endpoints": [{"port": "metrics", "interval": "30s"}]}})
    return objects


def _external_objects(spec, external, broker_sets, layout_by_pod):
    if external["type"] == "none":
        return []
    security = spec["security"]
    name, namespace = spec["name"], spec["namespace"]
    listener = _listener(security, external["listener"])
    port_name = listener["name"].lower().replace("_", "-")[:15]
    objects = []
    annotations = external.get("annotations") or {}
    service_type = "ClusterIP" if external["type"] == "Route" else external["type"]
    for kafka_set in broker_sets:
        sts = set_name(name, kafka_set["component"])
        for pod in kafka_set["pods"]:
            pod_name = "%s-%d" % (sts, pod["ordinal"])
            host, port = external_address(external, listener, layout_by_pod[pod_name], namespace)
            service_port = {"name": port_name, "port": int(listener["advertised_port"]),
                            "targetPort": int(listener["port"]), "protocol": "TCP"}
            extra = {}
            if external["type"] == "NodePort":
                service_port["nodePort"] = port
            elif external["type"] == "LoadBalancer":
                service_port["port"] = port
                extra["externalTrafficPolicy"] = "Local"
            objects.append(_service(spec, "%s-external" % pod_name, kafka_set["component"], [service_port],
                                    {"statefulset.kubernetes.io/pod-name": pod_name}, kind=service_type,
                                    annotations=annotations, extra=extra))
            if external["type"] == "Route":
                objects.append(_route(spec, pod_name, host, "%s-external" % pod_name, port_name))
    bootstrap_port = {"name": port_name, "port": int(listener["advertised_port"]), "targetPort": int(listener["port"]),
                      "protocol": "TCP"}
    if external["type"] == "NodePort" and external.get("bootstrap_node_port"):
        bootstrap_port["nodePort"] = int(external["bootstrap_node_port"])
    objects.append(_service(spec, "%s-bootstrap-external" % name, None, [bootstrap_port], _broker_selector(spec),
                            kind=service_type, annotations=annotations))
    if external["type"] == "Route":
        objects.append(_route(spec, "%s-bootstrap" % name, bootstrap_host(external, name, namespace),
                              "%s-bootstrap-external" % name, port_name))
    return objects


def _layout_by_pod(spec):
    """The pods of the sets by name, with what external addresses need (ordinal, node id, broker index)."""
    found = {}
    for kafka_set in spec["sets"]:
        sts = set_name(spec["name"], kafka_set["component"])
        for pod in kafka_set["pods"]:
            entry = {"pod": "%s-%d" % (sts, pod["ordinal"]), "ordinal": pod["ordinal"], "set": sts,
                     "node_id": pod.get("node_id"), "roles": kafka_set["roles"], "broker_index": pod.get("broker_index")}
            found[entry["pod"]] = entry
    return found


def _network_policy(spec, all_ports, client_ports, external, jmx):
    own = {"podSelector": {"matchLabels": _selector(spec)}}
    rules = [{"from": [own], "ports": [{"protocol": "TCP", "port": p} for p in sorted(all_ports)]}]
    peers = (spec.get("network_policy") or {}).get("client_peers") or []
    if client_ports:
        rule = {"ports": [{"protocol": "TCP", "port": p["port"]} for p in client_ports]}
        if peers and external["type"] == "none":
            rule["from"] = list(peers)
        rules.append(rule)
    if jmx:
        rule = {"ports": [{"protocol": "TCP", "port": int(jmx["port"])}]}
        metrics_peers = (spec.get("network_policy") or {}).get("metrics_peers") or []
        if metrics_peers:
            rule["from"] = list(metrics_peers)
        rules.append(rule)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(spec, spec["name"]),
            "spec": {"podSelector": {"matchLabels": _selector(spec)}, "policyTypes": ["Ingress"], "ingress": rules}}


def redacted(objects):
    """A copy of ``objects`` with every Secret value replaced by ``<redacted>``."""
    result = []
    for obj in objects:
        copy = dict(obj)
        if copy.get("kind") == "Secret":
            for key in ("data", "stringData"):
                if key in copy:
                    copy[key] = {name: "<redacted>" for name in copy[key]}
        result.append(copy)
    return result


# --------------------------------------------------------------------------------------------
# day 2


def outdated_pods(statefulsets, pods):
    """Pods that run an older revision than their StatefulSet's ``status.updateRevision``.

    ``statefulsets``: {set name: updateRevision}; ``pods``: [{"name", "set", "revision"}].
    """
    stale = []
    for pod in pods:
        want = statefulsets.get(pod["set"])
        if want and pod.get("revision") != want:
            stale.append(pod["name"])
    return sorted(stale)


def roll_order(layout, stale_pods, active_controller=None):
    """The order to restart ``stale_pods`` in: ZooKeeper servers first (as on VMs, where the ensemble
    is deployed before the brokers), then broker-only pods, combined pods, dedicated controllers,
    and the active controller (a Kafka node id) always last; highest ordinal first within each
    group, as the StatefulSet controller would."""
    by_pod = {entry["pod"]: entry for entry in layout.values()}
    unknown = sorted(set(stale_pods) - set(by_pod))
    if unknown:
        _fail("pods %s are not in the inventory (scale the StatefulSet through the inventory)" % ", ".join(unknown))

    def rank(pod):
        entry = by_pod[pod]
        group = {"zookeeper": -1, "broker": 0, "combined": 1}.get(entry["component"], 2)
        leader = 1 if (active_controller is not None and entry["component"] != "zookeeper"
                       and entry["node_id"] == active_controller) else 0
        return (leader, group, -entry["ordinal"], entry["set"])
    return sorted(set(stale_pods), key=rank)
