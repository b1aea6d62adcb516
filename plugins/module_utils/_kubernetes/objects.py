# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""What every API object of the cluster shares: labels, selectors and metadata, and the small
objects (Services, Routes) and data blocks (ConfigMap/Secret) the manifests are built from."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Iterable, List, Optional, Tuple

BROKER_LABEL = "kafkaops.platform/broker"
MANAGED_BY = "kafkaops.platform"
# the pod template's hash of what its pods read: a change rolls them
CONFIG_HASH = "kafkaops.platform/config-hash"

# where things live inside the platform's containers (the image's own directories are left alone)
CONFIG_DIR = "/opt/kafkaops/config"      # ConfigMap or Secret: the properties
SCRIPTS_DIR = "/opt/kafkaops/scripts"    # ConfigMap: start.sh
RUN_DIR = "/opt/kafkaops/run"            # emptyDir: the effective properties
LOG_DIR = "/opt/kafkaops/logs"           # emptyDir: the process's own log files (stdout has them too)
TLS_SOURCE_DIR = "/opt/kafkaops/tls-source"  # Secret <set>-tls: keystore-<ordinal>.pem, truststore.pem (and PKCS12 stores)

# an API object, the spec manifests() renders, the canonical security description
# (security.normalize) and one of its listeners: plain dicts
Object = Dict[str, Any]
Spec = Dict[str, Any]
Security = Dict[str, Any]
Listener = Dict[str, Any]


def set_name(name: str, component: str) -> str:
    """The StatefulSet (and headless Service) of a process kind."""
    return "%s-%s" % (name, component)


def object_labels(spec: Spec, component: Optional[str] = None) -> Dict[str, str]:
    """The labels of an object of the cluster (of one process kind, with ``component``), with the user's own."""
    labels = {"app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": spec["name"],
              "app.kubernetes.io/managed-by": MANAGED_BY}
    if component:
        labels["app.kubernetes.io/component"] = component
    labels.update(spec.get("labels") or {})
    return labels


def pod_selector(spec: Spec, component: Optional[str] = None) -> Dict[str, str]:
    """The labels that select the cluster's pods (of one process kind, with ``component``)."""
    selector = {"app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": spec["name"]}
    if component:
        selector["app.kubernetes.io/component"] = component
    return selector


def broker_selector(spec: Spec) -> Dict[str, str]:
    """Every pod that serves clients (broker and combined StatefulSets)."""
    return dict(pod_selector(spec), **{BROKER_LABEL: "true"})


def object_meta(spec: Spec, name: str, component: Optional[str] = None,
                annotations: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """``metadata`` of an object: name, namespace, labels, annotations."""
    meta: Dict[str, Any] = {"name": name, "namespace": spec["namespace"], "labels": object_labels(spec, component)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def digest(value: Any) -> str:
    """A stable sha256 of any JSON-able value (pod template annotation: a change rolls the pods)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def service_object(spec: Spec, name: str, component: Optional[str], ports: List[Dict[str, Any]], selector: Dict[str, str],
                   kind: str = "ClusterIP", headless: bool = False, annotations: Optional[Dict[str, str]] = None,
                   extra: Optional[Dict[str, Any]] = None) -> Object:
    """A Service: headless (a StatefulSet's pod names), or of ``kind`` (ClusterIP, NodePort, LoadBalancer)."""
    body: Dict[str, Any] = {"selector": selector, "ports": ports}
    if headless:
        body.update({"clusterIP": "None", "publishNotReadyAddresses": True})
    else:
        body["type"] = kind
    body.update(extra or {})
    return {"apiVersion": "v1", "kind": "Service", "metadata": object_meta(spec, name, component, annotations),
            "spec": body}


def service_ports(ports: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Service ports from ``[{"name", "port"}]`` (the same port on the pods)."""
    return [{"name": p["name"], "port": p["port"], "targetPort": p["port"], "protocol": "TCP"} for p in ports]


def route_object(spec: Spec, name: str, host: str, service: str, port_name: str) -> Object:
    """An OpenShift Route that passes TLS through to ``service`` by SNI."""
    return {"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": object_meta(spec, name, "broker"),
            "spec": {"host": host, "to": {"kind": "Service", "name": service, "weight": 100},
                     "port": {"targetPort": port_name},
                     "tls": {"termination": "passthrough", "insecureEdgeTerminationPolicy": "None"},
                     "wildcardPolicy": "None"}}


def object_data(kind: str, values: Dict[str, str]) -> Dict[str, Dict[str, str]]:
    """ConfigMap data stays text; Secret values go to stringData (the API server encodes them)."""
    return {"stringData" if kind == "Secret" else "data": dict(values)}


def security_contexts(spec: Spec, uid: int) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The pod's and the container's security contexts (restricted Pod Security). On Kubernetes the pod
    runs as ``uid`` (or ``spec["run_as_user"]``); OpenShift's restricted-v2 SCC assigns the UID and
    fsGroup from the namespace's range, so none is set there."""
    pod: Dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    if spec["platform"] == "kubernetes":
        uid = int(spec.get("run_as_user") or uid)
        pod.update({"runAsUser": uid, "runAsGroup": uid, "fsGroup": uid, "fsGroupChangePolicy": "OnRootMismatch"})
    container = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                 "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}
    return pod, container


def base_volumes(set_name_: str, config_kind: str, tmp_size: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """The mounts and volumes every pod of the platform has: its configuration (ConfigMap or Secret
    ``<set>-config``), scripts (``<set>-scripts``), and scratch space for the effective properties,
    logs and /tmp (the root file system is read-only)."""
    mounts: List[Dict[str, Any]] = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "scripts", "mountPath": SCRIPTS_DIR, "readOnly": True},
        {"name": "run", "mountPath": RUN_DIR},
        {"name": "logs", "mountPath": LOG_DIR},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    config_source = ({"secret": {"secretName": "%s-config" % set_name_, "defaultMode": 0o440}} if config_kind == "Secret"
                     else {"configMap": {"name": "%s-config" % set_name_, "defaultMode": 0o440}})
    volumes: List[Dict[str, Any]] = [
        dict({"name": "config"}, **config_source),
        {"name": "scripts", "configMap": {"name": "%s-scripts" % set_name_, "defaultMode": 0o550}},
        {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
        {"name": "logs", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": tmp_size}},
    ]
    return mounts, volumes
