# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""A StatefulSet of the cluster and its pod template: the start script, the container (environment,
ports, probes, mounts), the volumes, the JMX exporter's init container and the data volume claim.

The ports come from the security model (``security.served_listeners``), as ``listeners`` in
``server.properties`` do.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils import security as security_model
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes.objects import (
    BROKER_LABEL,
    CONFIG_DIR,
    CONFIG_HASH,
    LOG_DIR,
    RUN_DIR,
    SCRIPTS_DIR,
    TLS_SOURCE_DIR,
    Object,
    Security,
    Spec,
    base_volumes,
    object_labels,
    object_meta,
    pod_selector,
    security_contexts,
    set_name,
)

# where things live inside the Kafka container besides objects.CONFIG_DIR (server-<ordinal>.properties),
# SCRIPTS_DIR, RUN_DIR and LOG_DIR (the image's own directories are left alone)
JMX_DIR = "/opt/kafkaops/jmx"            # emptyDir: the JMX exporter agent, copied by an init container

# the Kafka scripts of each image flavour
IMAGE_BINARIES: Dict[str, Dict[str, Any]] = {
    "apache": {"start": "/opt/kafka/bin/kafka-server-start.sh", "storage": "/opt/kafka/bin/kafka-storage.sh",
               "zookeeper": "/opt/kafka/bin/zookeeper-server-start.sh", "uid": 1000},
    "confluent": {"start": "/usr/bin/kafka-server-start", "storage": "/usr/bin/kafka-storage",
                  "zookeeper": "/usr/bin/zookeeper-server-start", "uid": 1000},
}


def start_script(flavor: str, component: str, rack_from_zone: Any, tls: Optional[str], jmx_exporter: Optional[Dict[str, Any]],
                 kraft_format: bool = True, jaas: bool = False, data_dir: Optional[str] = None) -> str:
    """The container's command: pick this pod's configuration, add its rack, format KRaft storage
    once (or write a ZooKeeper server's myid), start."""
    binaries = IMAGE_BINARIES[flavor]
    zookeeper = component == "zookeeper"
    lines = [
        "#!/bin/bash",
        "# Managed by kafkaops.platform: starts one %s pod of a StatefulSet." % ("ZooKeeper" if zookeeper else "Kafka"),
        "set -euo pipefail",
        'ordinal="${HOSTNAME##*-}"',
        'conf="%s/%s"' % (RUN_DIR, "zoo.cfg" if zookeeper else "server.properties"),
        # cp -f: a container restarted in the same pod finds the last start's copies in the emptyDir, some
        # of them read-only (a Secret's mode travels with cp): they are replaced, not written into
        'cp -f "%s/%s" "$conf"' % (CONFIG_DIR, "zoo-${ordinal}.cfg" if zookeeper else "server-${ordinal}.properties"),
        'chmod 0600 "$conf"',
    ]
    if zookeeper:
        lines += ['mkdir -p "%s"' % data_dir, 'cp -f "%s/myid-${ordinal}" "%s/myid"' % (CONFIG_DIR, data_dir)]
    if rack_from_zone and component in ("combined", "broker"):
        lines += [
            'if [ -n "${KAFKAOPS_ZONE:-}" ]; then',
            '  printf "broker.rack=%s\\n" "$KAFKAOPS_ZONE" >>"$conf"',
            "fi",
        ]
    if tls:
        lines += [
            'cp -f "%s/keystore-${ordinal}.pem" "%s/keystore.pem"' % (TLS_SOURCE_DIR, tls),
            'cp -f "%s/truststore.pem" "%s/truststore.pem"' % (TLS_SOURCE_DIR, tls),
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


def port_name(listener_name: str) -> str:
    """A listener's name as a container/Service port name (lower case, at most 15 characters)."""
    return listener_name.lower().replace("_", "-")[:15]


def listener_ports(security: Security, roles: Sequence[str]) -> List[Dict[str, Any]]:
    """``[{"name", "port"}]`` of the listeners a Kafka process with ``roles`` serves."""
    return [{"name": port_name(lsn["name"]), "port": int(lsn["port"])} for lsn in security_model.served_listeners(security, roles)]


def set_ports(security: Security, kafka_set: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The container ports of a StatefulSet's pods: ZooKeeper's own list, or the listeners."""
    if kafka_set["component"] == "zookeeper":
        return [{"name": str(p["name"]), "port": int(p["port"])} for p in kafka_set.get("ports") or []]
    return listener_ports(security, kafka_set["roles"])


def _probe_port(security: Security, kafka_set: Dict[str, Any]) -> int:
    """The port the probes knock on: ZooKeeper's first, a broker's inter-broker listener, a controller's own."""
    if kafka_set["component"] == "zookeeper":
        return int(set_ports(security, kafka_set)[0]["port"])
    return int(security_model.role_listener(security, "inter_broker" if "broker" in kafka_set["roles"] else "controller")["port"])


def _pod_security(spec: Spec, flavor: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The pod's and the container's security contexts (restricted Pod Security), as the image's user."""
    return security_contexts(spec, IMAGE_BINARIES[flavor]["uid"])


def jmx_settings(spec: Spec) -> Optional[Dict[str, Any]]:
    """The JMX exporter settings when it is enabled, else None."""
    return spec.get("jmx_exporter") if (spec.get("jmx_exporter") or {}).get("enabled") else None


def statefulset(spec: Spec, kafka_set: Dict[str, Any], config_kind: str, config_hash: str) -> Object:
    """The StatefulSet of one process kind: its pods' template (from :func:`_pod_spec`) and volume claim."""
    component = kafka_set["component"]
    sts = set_name(spec["name"], component)
    template_labels = object_labels(spec, component)
    if "broker" in kafka_set["roles"]:
        template_labels[BROKER_LABEL] = "true"
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": object_meta(spec, sts, component),
        "spec": {
            "serviceName": sts,
            "replicas": len(kafka_set["pods"]),
            "podManagementPolicy": "Parallel",
            # pods restart only when the role deletes them, one at a time and gated on Kafka's health
            "updateStrategy": {"type": "OnDelete"},
            "selector": {"matchLabels": pod_selector(spec, component)},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": template_labels, "annotations": {CONFIG_HASH: config_hash}},
                "spec": _pod_spec(spec, kafka_set, config_kind),
            },
            "volumeClaimTemplates": [_volume_claim(spec, kafka_set)],
        },
    }


def _pod_spec(spec: Spec, kafka_set: Dict[str, Any], config_kind: str) -> Dict[str, Any]:
    """The pod template's spec: one container (and the JMX exporter's init container), spread over zones and nodes."""
    component = kafka_set["component"]
    pod_security, container_security = _pod_security(spec, spec.get("image_flavor") or "apache")
    mounts, volumes = _volumes(spec, kafka_set, config_kind)
    ports = [{"name": p["name"], "containerPort": p["port"], "protocol": "TCP"} for p in set_ports(spec["security"], kafka_set)]
    init_containers = []
    jmx = jmx_settings(spec)
    if jmx:
        mounts.append({"name": "jmx", "mountPath": JMX_DIR, "readOnly": True})
        volumes.append({"name": "jmx", "emptyDir": {"sizeLimit": "64Mi"}})
        ports.append({"name": "metrics", "containerPort": int(jmx["port"]), "protocol": "TCP"})
        init_containers.append(_jmx_init_container(spec, jmx, container_security))
    container = _container(spec, kafka_set, mounts, ports, container_security)
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
             "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": pod_selector(spec, component)}},
            {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
             "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": pod_selector(spec, component)}},
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
    return pod_spec


def _environment(spec: Spec, kafka_set: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The container's environment: cluster id (Kafka), heap, JVM options, log directory, zone, the set's own."""
    env: List[Dict[str, Any]] = [] if kafka_set["component"] == "zookeeper" else [
        {"name": "KAFKAOPS_CLUSTER_ID",
         "valueFrom": {"configMapKeyRef": {"name": "%s-cluster" % spec["name"], "key": "cluster.id"}}}]
    env += [
        {"name": "KAFKA_HEAP_OPTS", "value": "-Xms%s -Xmx%s" % (kafka_set["heap_size"], kafka_set["heap_size"])},
        {"name": "KAFKA_OPTS", "value": " ".join(kafka_set.get("jvm_options") or [])},
        {"name": "LOG_DIR", "value": LOG_DIR},
    ]
    if spec.get("rack_from_zone") and "broker" in kafka_set["roles"]:
        env.append({"name": "KAFKAOPS_ZONE", "valueFrom": {"fieldRef": {
            "fieldPath": "metadata.labels['%s']" % spec.get("zone_label", "topology.kubernetes.io/zone")}}})
    for key in sorted(kafka_set.get("environment") or {}):
        env.append({"name": str(key), "value": str(kafka_set["environment"][key])})
    return env


def _volumes(spec: Spec, kafka_set: Dict[str, Any], config_kind: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """The container's mounts and the pod's volumes: data, configuration, scripts, scratch space, TLS material."""
    sts = set_name(spec["name"], kafka_set["component"])
    mounts, volumes = base_volumes(sts, config_kind, "256Mi")
    mounts.insert(0, {"name": "data", "mountPath": kafka_set.get("data_root") or spec["data_root"]})
    tls_dir = spec.get("tls_dir")
    if tls_dir:
        mounts += [{"name": "tls-source", "mountPath": TLS_SOURCE_DIR, "readOnly": True},
                   {"name": "tls", "mountPath": tls_dir}]
        volumes += [{"name": "tls-source", "secret": {"secretName": "%s-tls" % sts, "defaultMode": 0o440}},
                    {"name": "tls", "emptyDir": {"medium": "Memory", "sizeLimit": "4Mi"}}]
    return mounts, volumes


def _jmx_init_container(spec: Spec, jmx: Dict[str, Any], container_security: Dict[str, Any]) -> Dict[str, Any]:
    """The init container that copies the JMX exporter agent out of its image."""
    return {
        "name": "jmx-exporter",
        "image": jmx["image"],
        "imagePullPolicy": spec.get("image_pull_policy") or "IfNotPresent",
        "command": ["cp", jmx["agent_path"], "%s/agent.jar" % JMX_DIR],
        "volumeMounts": [{"name": "jmx", "mountPath": JMX_DIR}],
        "securityContext": container_security,
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
    }


def _container(spec: Spec, kafka_set: Dict[str, Any], mounts: List[Dict[str, Any]], ports: List[Dict[str, Any]],
               container_security: Dict[str, Any]) -> Dict[str, Any]:
    """The Kafka (or ZooKeeper) container: start script, environment, ports, mounts, TCP probes."""
    probe_port = _probe_port(spec["security"], kafka_set)
    container = {
        "name": "zookeeper" if kafka_set["component"] == "zookeeper" else "kafka",
        "image": spec["image"],
        "imagePullPolicy": spec.get("image_pull_policy") or "IfNotPresent",
        "command": ["/bin/bash", "%s/start.sh" % SCRIPTS_DIR],
        "env": _environment(spec, kafka_set),
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
    return container


def _volume_claim(spec: Spec, kafka_set: Dict[str, Any]) -> Dict[str, Any]:
    """The data volume of each pod."""
    claim: Dict[str, Any] = {"metadata": {"name": "data", "labels": object_labels(spec, kafka_set["component"])},
                             "spec": {"accessModes": ["ReadWriteOnce"],
                                      "resources": {"requests": {"storage": kafka_set["storage"]["size"]}}}}
    if kafka_set["storage"].get("class"):
        claim["spec"]["storageClassName"] = kafka_set["storage"]["class"]
    return claim
