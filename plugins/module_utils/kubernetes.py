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

Which listeners a pod serves, and on which ports, comes from the security model
(``module_utils.security``), as it does for ``server.properties`` and the VM target.
"""
from __future__ import annotations

import json
import re
import string
from typing import Any, Collection, Dict, List, NoReturn, Optional, Sequence, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils import _checks
from ansible_collections.kafkaops.platform.plugins.module_utils import security as sec
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes.objects import (
    BROKER_LABEL,
    MANAGED_BY,
    Listener,
    Object,
    Security,
    Spec,
    broker_selector,
    digest,
    object_data,
    object_meta,
    pod_selector,
    route_object,
    service_object,
    service_ports,
    set_name,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes.statefulset import (
    CONFIG_DIR,
    CONFIG_HASH,
    JMX_DIR,
    LOG_DIR,
    RUN_DIR,
    SCRIPTS_DIR,
    TLS_SOURCE_DIR,
    jmx_settings,
    port_name,
    set_ports,
    start_script,
    statefulset,
)

COMPONENTS = ("zookeeper", "controller", "combined", "broker")
ZOOKEEPER_KEY = "zookeeper/"
PLATFORMS = ("kubernetes", "openshift")
EXTERNAL_TYPES = ("none", "NodePort", "LoadBalancer", "Route")
IMAGE_FLAVORS = ("apache", "confluent")
FIELD_MANAGER = "kafkaops.platform"

# names other code may use from here, whichever private module holds them
__all__ = [
    "BROKER_LABEL", "COMPONENTS", "CONFIG_DIR", "CONFIG_HASH", "EXTERNAL_TYPES", "FIELD_MANAGER", "IMAGE_FLAVORS",
    "JMX_DIR", "LOG_DIR", "MANAGED_BY", "PLATFORMS", "RUN_DIR", "SCRIPTS_DIR", "TLS_SOURCE_DIR", "ZOOKEEPER_KEY",
    "KubernetesSpecError", "advertised_overrides", "bootstrap_host", "check_external", "check_layout", "check_spec",
    "component_of",
    "digest", "external_address", "kafka_sets", "kubernetes_topology", "kubernetes_zookeeper_servers", "manifests",
    "outdated_pods", "pod_layout", "redacted", "roll_order", "set_name", "set_ports", "start_script", "tls_names",
]

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# a DNS subdomain (RFC 1123): labels joined by dots, at most 253 characters
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?")
# what every pod_layout entry holds
LAYOUT_KEYS = ("component", "set", "ordinal", "pod", "fqdn", "node_id", "roles", "broker_index")

# a pod_layout entry, and the whole layout (host -> entry)
Entry = Dict[str, Any]
Layout = Dict[str, Entry]


class KubernetesSpecError(ValueError):
    """The Kubernetes placement of the cluster cannot be rendered; the message says what to fix."""


def _fail(message: str) -> NoReturn:
    raise KubernetesSpecError(message)


def _mapping(value: Any, what: str, optional: bool = False) -> Any:
    return _checks.mapping(value, what, KubernetesSpecError, optional)


def _mappings(value: Any, what: str, keys: Sequence[str] = (), optional: bool = False) -> List[Dict[str, Any]]:
    """A list of mappings, each holding ``keys``."""
    entries = _checks.mappings(value, what, KubernetesSpecError, optional)
    for index, entry in enumerate(entries):
        for key in keys:
            _checks.key(entry, key, "%s[%d]" % (what, index), KubernetesSpecError)
    return entries


def check_layout(layout: Any) -> Layout:
    """``layout`` when it is what :func:`pod_layout` returns: host -> an entry with every LAYOUT_KEYS key."""
    layout = _mapping(layout, "layout (kafka_kubernetes_layout)")
    for host, entry in layout.items():
        _check_layout_entry(entry, "layout[%r]" % (host,))
    return layout


def _check_layout_entry(entry: Any, where: str) -> Entry:
    """One entry of a :func:`pod_layout` result: its keys and their types."""
    for key in LAYOUT_KEYS:
        _checks.key(_mapping(entry, where), key, where, KubernetesSpecError)
    if not isinstance(entry["component"], str) or entry["component"] not in COMPONENTS:
        _fail("%s.component must be one of %s, got %r" % (where, ", ".join(COMPONENTS), entry["component"]))
    for key in ("set", "pod", "fqdn"):
        _checks.text(entry[key], "%s.%s" % (where, key), KubernetesSpecError)
    _index(entry["ordinal"], where + ".ordinal")
    roles = _roles(entry["roles"], where + ".roles", ("broker", "controller", "zookeeper"))
    if entry["broker_index"] is not None or "broker" in roles:  # a broker's place among all brokers
        _index(entry["broker_index"], where + ".broker_index")
    return entry


def _index(value: Any, what: str) -> int:
    """An ordinal or index: a non-negative int (what pod_layout makes; not digits, which names cannot take)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        _fail("%s must be a non-negative integer, got %r" % (what, value))
    return value


def _roles(value: Any, what: str, known: Sequence[str] = ("broker", "controller")) -> List[str]:
    """A non-empty list of known roles."""
    roles = _checks.sequence(value, what, KubernetesSpecError)
    if not roles or not all(isinstance(role, str) and role in known for role in roles):
        _fail("%s must list %s, got %r" % (what, " and/or ".join(known), roles))
    return roles


def _topology_processes(topology: Any) -> Dict[str, Dict[str, Any]]:
    """The processes of a cluster_topology result, each with its roles (a list) and node id."""
    processes = _mapping(_mapping(topology, "topology").get("processes"), "topology.processes", optional=True)
    for host, process in processes.items():
        where = "topology.processes[%r]" % (host,)
        _checks.key(_mapping(process, where), "node_id", where, KubernetesSpecError)
        _roles(_checks.key(process, "roles", where, KubernetesSpecError), where + ".roles")
    return processes


def _dns_name(value: Any, what: str, label: bool = False, length: int = 253) -> str:
    """``value`` when it is a DNS label (``label``) or subdomain of at most ``length`` characters."""
    pattern = _DNS_LABEL if label else _DNS_NAME
    if not isinstance(value, str) or not pattern.fullmatch(value) or len(value) > length:
        _fail("%s %r must be a DNS %s (lower-case letters, digits, '-'%s; at most %d characters)"
              % (what, value, "label" if label else "name", "" if label else ", '.'", length))
    return value


# --------------------------------------------------------------------------------------------
# pods: which host is which pod


def component_of(roles: Sequence[str]) -> str:
    """``combined``, ``broker`` or ``controller``: the StatefulSet a process with ``roles`` belongs to."""
    if "broker" in roles:
        return "combined" if "controller" in roles else "broker"
    return "controller"


def _node_order(node_id: Any) -> int:
    """Sort key of a node id; hosts without a valid one go last."""
    return node_id if isinstance(node_id, int) and not isinstance(node_id, bool) and 0 <= node_id < 1 << 62 else 1 << 62


def pod_layout(topology: Dict[str, Any], name: str, namespace: str, cluster_domain: str = "cluster.local",
               zookeeper: Optional[List[Dict[str, Any]]] = None) -> Layout:
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
        _dns_name(value, "platform_kubernetes_%s" % what, label=True, length=40)
    _dns_name(cluster_domain, "platform_kubernetes_cluster_domain")
    processes = _topology_processes(topology)
    servers = _mappings(zookeeper, "zookeeper (kafka_zookeeper_servers)", ("host", "myid"), optional=True)
    for index, server in enumerate(servers):
        _checks.text(server["host"], "zookeeper[%d].host" % index, KubernetesSpecError)
    per_set: Dict[str, List[Tuple[Any, str]]] = {}
    for host, process in processes.items():
        component = component_of(process["roles"])
        per_set.setdefault(component, []).append((process["node_id"], host))
    layout: Layout = {}
    for component, members in per_set.items():
        members.sort(key=lambda item: (_node_order(item[0]), item[1]))
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
    brokers = sorted((_node_order(e["node_id"]), h) for h, e in layout.items() if "broker" in e["roles"])
    for index, (_node_id, host) in enumerate(brokers):
        layout[host]["broker_index"] = index
    servers = sorted(servers, key=lambda s: (_node_order(s["myid"]), str(s["host"])))
    sts = set_name(name, "zookeeper")
    for ordinal, server in enumerate(servers):
        pod = "%s-%d" % (sts, ordinal)
        layout[ZOOKEEPER_KEY + server["host"]] = {
            "component": "zookeeper", "set": sts, "ordinal": ordinal, "pod": pod,
            "fqdn": "%s.%s.%s.svc.%s" % (pod, sts, namespace, cluster_domain),
            "node_id": server["myid"], "roles": ["zookeeper"], "broker_index": None}
    return layout


def kubernetes_zookeeper_servers(servers: Optional[List[Dict[str, Any]]], layout: Layout) -> List[Dict[str, Any]]:
    """The ensemble (``[{"host", "myid", "address"}]``) with the pods' DNS names as addresses."""
    layout = check_layout(layout)
    moved = []
    for index, server in enumerate(_mappings(servers, "servers (kafka_zookeeper_servers)", ("host",), optional=True)):
        _checks.text(server["host"], "servers[%d].host" % index, KubernetesSpecError)
        copy = dict(server)
        entry = layout.get(ZOOKEEPER_KEY + server["host"])
        if entry:
            copy["address"] = entry["fqdn"]
        moved.append(copy)
    return moved


def kubernetes_topology(topology: Dict[str, Any], layout: Layout) -> Dict[str, Any]:
    """``topology`` with every address replaced by the pod's stable DNS name."""
    layout = check_layout(layout)
    parts = {group: _mappings(_mapping(topology, "topology").get(group), "topology.%s" % group, ("host",), optional=True)
             for group in ("controllers", "brokers")}
    for group, entries in parts.items():
        for index, entry in enumerate(entries):
            _checks.text(entry["host"], "topology.%s[%d].host" % (group, index), KubernetesSpecError)

    def moved(entry: Dict[str, Any]) -> Dict[str, Any]:
        copy = dict(entry)
        if entry["host"] in layout:
            copy["address"] = layout[entry["host"]]["fqdn"]
        return copy
    processes = {}
    for host, process in _mapping(topology.get("processes"), "topology.processes", optional=True).items():
        copy = dict(_mapping(process, "topology.processes[%r]" % (host,)))
        if host in layout:
            copy["address"] = layout[host]["fqdn"]
        processes[host] = copy
    return {"controllers": [moved(c) for c in parts["controllers"]],
            "brokers": [moved(b) for b in parts["brokers"]],
            "processes": processes}


# what a StatefulSet's pods must agree on (one pod template), and the value of a process that does not set it
_SHARED_KEYS: Dict[str, Any] = {"roles": [], "heap_size": [], "jvm_options": [], "environment": {}, "log_dirs": [],
                                "storage": [], "resources": {}, "jaas": "", "ports": None, "data_root": None}


def kafka_sets(processes: Dict[str, Dict[str, Any]], layout: Layout, secret: bool = False) -> List[Dict[str, Any]]:
    """Group the pods' processes into StatefulSets for :func:`manifests`.

    ``processes``: {host: {"roles", "log_dirs", "heap_size", "jvm_options", "environment",
    "storage", "resources", "properties_text"}, optional "format" (KRaft storage to format at
    start, default true), "jaas" (a JAAS file for ZooKeeper logins), "ports" (ZooKeeper:
    ``[{"name", "port"}]``), "data_root" (ZooKeeper: the volume's mount point)} (what the role
    computed for each host; ZooKeeper servers under ``zookeeper/<host>``). A
    StatefulSet has one pod template, so its placement settings come from its first pod; they must
    agree across its hosts (set them in group_vars).
    """
    layout = check_layout(layout)
    processes = _mapping(processes, "processes")
    sets: Dict[str, Dict[str, Any]] = {}
    for host in sorted(processes, key=str):
        if host not in layout:
            _fail("host %s is not in the cluster layout" % host)
        process, entry = _process(processes[host], host), layout[host]
        kafka_set = sets.get(entry["component"])
        if kafka_set is None:
            kafka_set = sets[entry["component"]] = _new_set(entry["component"], process, host, secret)
        else:
            _check_same_template(kafka_set, process, host, entry["set"])
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


def _process(process: Any, host: str) -> Dict[str, Any]:
    """One host's process for :func:`kafka_sets`, checked for the keys it reads and their types."""
    where = "the process of %s" % host
    process = _mapping(process, where)
    _roles(_checks.key(process, "roles", where, KubernetesSpecError), where + ".roles", ("broker", "controller", "zookeeper"))
    _checks.sequence(_checks.key(process, "log_dirs", where, KubernetesSpecError), where + ".log_dirs", KubernetesSpecError)
    _mapping(_checks.key(process, "storage", where, KubernetesSpecError), where + ".storage")
    _checks.text(_checks.key(process, "heap_size", where, KubernetesSpecError), where + ".heap_size", KubernetesSpecError)
    if not isinstance(_checks.key(process, "properties_text", where, KubernetesSpecError), str):
        _fail("%s.properties_text must be a string, got %s" % (where, _checks.kind(process["properties_text"])))
    _checks.sequence(process.get("jvm_options"), where + ".jvm_options", KubernetesSpecError, optional=True)
    for key in ("environment", "resources"):
        _mapping(process.get(key), "%s.%s" % (where, key), optional=True)
    return process


def _new_set(component: str, process: Dict[str, Any], host: str, secret: bool) -> Dict[str, Any]:
    """A StatefulSet whose pod template comes from its first process (``host``)."""
    return {
        "component": component, "roles": list(process["roles"]), "secret": bool(secret),
        "heap_size": process["heap_size"], "jvm_options": list(process.get("jvm_options") or []),
        "environment": dict(process.get("environment") or {}), "log_dirs": list(process["log_dirs"]),
        "storage": dict(process["storage"]), "resources": dict(process.get("resources") or {}),
        "format": bool(process.get("format", True)), "jaas": process.get("jaas") or "",
        "ports": process.get("ports"), "data_root": process.get("data_root"),
        "pods": [], "_first": host}


def _check_same_template(kafka_set: Dict[str, Any], process: Dict[str, Any], host: str, sts: str) -> None:
    """Refuse a process whose pod template settings differ from its StatefulSet's first process."""
    for key, absent in _SHARED_KEYS.items():
        mine = process.get(key) or absent
        theirs = kafka_set[key]
        if (sorted(mine) if key == "roles" else mine) != (sorted(theirs) if key == "roles" else theirs):
            _fail("%s and %s share the StatefulSet %s but differ in %s; a StatefulSet has one pod template, "
                  "so set it for the whole group" % (kafka_set["_first"], host, sts, key))


def tls_names(layout_entry: Entry, name: str, namespace: str, cluster_domain: str, external: Optional[Dict[str, Any]] = None,
              external_host: Optional[str] = None) -> List[str]:
    """The subject alternative names of a pod's certificate: its DNS names, its StatefulSet's and the
    bootstrap Service's names (clients verify the bootstrap address too), and its external name."""
    layout_entry = _check_layout_entry(layout_entry, "the layout entry")
    for what, value in (("name", name), ("namespace", namespace)):
        _dns_name(value, "platform_kubernetes_%s" % what, label=True, length=40)
    _dns_name(cluster_domain, "platform_kubernetes_cluster_domain")
    external = _mapping(external, "platform_kubernetes_external", optional=True)
    _checks.text(external_host, "the external host", KubernetesSpecError, optional=True)
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
    seen: List[str] = []
    for entry in names:
        if entry not in seen:
            seen.append(entry)
    return seen


# --------------------------------------------------------------------------------------------
# external access


def check_external(external: Optional[Dict[str, Any]], security: Security, platform: str) -> Dict[str, Any]:
    """Validate the external access description; return it with defaults filled in.

    ``security`` is the canonical security description (``security.normalize``)."""
    external = dict(_mapping(external, "platform_kubernetes_external", optional=True))
    kind = external.get("type") or "none"
    if kind not in EXTERNAL_TYPES:
        _fail("platform_kubernetes_external.type must be one of %s, got %r" % (", ".join(EXTERNAL_TYPES), kind))
    external["type"] = kind
    if kind == "none":
        return external
    if kind == "Route" and platform != "openshift":
        _fail("platform_kubernetes_external.type Route needs platform_target openshift")
    _check_external_listener(external.get("listener") or "", kind, security)
    _check_external_addresses(external, kind)
    return external


def _check_external_listener(name: str, kind: str, security: Security) -> None:
    """The external listener is a client listener of the description (a TLS one for Routes)."""
    listener = sec.find_listener(security, name)
    if listener is None:
        _fail("platform_kubernetes_external.listener %r is not a listener of platform_security (defined: %s)"
              % (name, ", ".join(lsn["name"] for lsn in security["listeners"])))
    if name in (security["controller_listener"], security["inter_broker_listener"]):
        _fail("platform_kubernetes_external.listener %s is the %s listener; give a client listener"
              % (name, "controller" if name == security["controller_listener"] else "inter-broker"))
    if kind == "Route" and listener["protocol"] not in ("SSL", "SASL_SSL"):
        _fail("platform_kubernetes_external: OpenShift Routes pass TLS through by SNI, so listener %s must use "
              "SSL or SASL_SSL (it uses %s)" % (name, listener["protocol"]))


def _check_external_addresses(external: Dict[str, Any], kind: str) -> None:
    """Each kind of external access has the host names or ports it needs to give each broker its own address."""
    for key in ("host", "bootstrap_host", "route_domain"):
        _host_template(external.get(key), "platform_kubernetes_external.%s" % key)
    _mapping(external.get("annotations"), "platform_kubernetes_external.annotations", optional=True)
    if external.get("bootstrap_node_port") not in (None, "", 0):
        _checks.port(external["bootstrap_node_port"], "platform_kubernetes_external.bootstrap_node_port", KubernetesSpecError)
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


_HOST_FIELDS = ("node_id", "index", "pod", "namespace")


def _host_template(value: Any, what: str) -> None:
    """A host name, or a template of one with {node_id}, {index}, {pod} or {namespace}: no blanks or
    control characters, and no other braces (str.format would fail on them)."""
    if value in (None, ""):
        return
    text = _checks.text(value, what, KubernetesSpecError)
    if any(char.isspace() for char in text):
        _fail("%s %r must be a host name without blanks" % (what, text))
    try:
        fields = [(name, spec, conversion) for _literal, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None]
    except ValueError:
        fields = [("{", "", None)]
    for name, spec, conversion in fields:
        if name not in _HOST_FIELDS or spec or conversion:
            _fail("%s %r: braces may only hold {node_id}, {index}, {pod} or {namespace}" % (what, text))


def external_address(external: Dict[str, Any], listener: Listener, entry: Entry, namespace: str) -> Optional[Tuple[str, int]]:
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


def bootstrap_host(external: Dict[str, Any], name: str, namespace: str) -> str:
    """The host of the external bootstrap Route (OpenShift)."""
    if external.get("bootstrap_host"):
        return external["bootstrap_host"]
    if external.get("route_domain"):
        return "%s-bootstrap-%s.%s" % (name, namespace, external["route_domain"])
    return external["host"].format(node_id="bootstrap", index="bootstrap", pod="%s-bootstrap" % name, namespace=namespace)


def advertised_overrides(external: Dict[str, Any], security: Security, layout_entry: Entry,
                         namespace: str) -> Dict[str, Dict[str, Any]]:
    """The ``advertised`` entry of security.server_properties' node for a pod (external listener)."""
    external = _mapping(external, "platform_kubernetes_external")
    layout_entry = _check_layout_entry(layout_entry, "the layout entry")
    _dns_name(namespace, "platform_kubernetes_namespace", label=True, length=40)
    if external.get("type", "none") == "none" or "broker" not in layout_entry["roles"]:
        return {}
    listener = sec.listener_named(security, external["listener"])
    address = external_address(external, listener, layout_entry, namespace)
    host, port = address if address is not None else (None, None)
    return {listener["name"]: {"host": host, "port": port}}


# --------------------------------------------------------------------------------------------
# objects (the StatefulSets' own in _kubernetes.statefulset)


def check_spec(spec: Spec) -> None:
    """Validate what the role passes to :func:`manifests` (the parts a user sets)."""
    spec = _mapping(spec, "the Kubernetes description (spec)")
    if spec.get("platform") not in PLATFORMS:
        _fail("platform must be one of %s" % ", ".join(PLATFORMS))
    if (spec.get("image_flavor") or "apache") not in IMAGE_FLAVORS:
        _fail("platform_kubernetes_image_flavor must be one of %s" % ", ".join(IMAGE_FLAVORS))
    if not spec.get("image"):
        _fail("platform_kubernetes_image is empty")
    for kafka_set in _mappings(spec.get("sets"), "sets", ("component", "roles", "storage", "pods")):
        _check_set(kafka_set)
        size = str(kafka_set["storage"].get("size") or "")
        if not _QUANTITY.fullmatch(size):
            _fail("%s storage size %r is not a Kubernetes quantity (e.g. 100Gi)" % (kafka_set["component"], size))
        root = _checks.text(kafka_set.get("data_root") or spec.get("data_root"), "%s data_root" % kafka_set["component"],
                            KubernetesSpecError)
        for path in kafka_set.get("log_dirs") or []:
            if not (str(path) + "/").startswith(root.rstrip("/") + "/"):
                _fail("%s data directory %s is not under %s, the mount point of the pod's volume (%s)"
                      % (kafka_set["component"], path, root,
                         "zookeeper_kubernetes_data_root" if kafka_set["component"] == "zookeeper" else "platform_data_root"))
    jmx = _mapping(spec.get("jmx_exporter"), "platform_kubernetes_jmx_exporter", optional=True)
    if jmx.get("enabled") and not (jmx.get("image") and jmx.get("agent_path")):
        _fail("platform_kubernetes_jmx_exporter needs image and agent_path (the agent jar inside that image)")
    if spec.get("service_monitor") and not jmx.get("enabled"):
        _fail("platform_kubernetes_service_monitor needs platform_kubernetes_jmx_exporter.enabled")
    _check_cluster_keys(spec)


def _check_set(kafka_set: Dict[str, Any]) -> None:
    """One entry of ``sets`` (kafka_sets) holds what the objects are made of."""
    component = kafka_set["component"]
    if component not in COMPONENTS:
        _fail("sets: component must be one of %s, got %r" % (", ".join(COMPONENTS), component))
    where = "the %s StatefulSet" % component
    _checks.sequence(kafka_set["roles"], where + ".roles", KubernetesSpecError)
    _mapping(kafka_set["storage"], where + ".storage")
    _checks.sequence(kafka_set.get("log_dirs"), where + ".log_dirs", KubernetesSpecError, optional=True)
    for index, pod in enumerate(_mappings(kafka_set["pods"], where + ".pods", ("ordinal", "properties_text"))):
        _index(pod["ordinal"], "%s.pods[%d].ordinal" % (where, index))
        if component == "zookeeper":  # its myid file
            _checks.integer(pod.get("node_id"), "%s.pods[%d].node_id (zookeeper_myid)" % (where, index), KubernetesSpecError,
                            low=1, high=255)
        if not isinstance(pod["properties_text"], str):
            _fail("%s.pods[%d].properties_text must be a string" % (where, index))


def _check_cluster_keys(spec: Spec) -> None:
    """The keys of the whole cluster that every object is named or built from."""
    for what in ("name", "namespace"):
        _dns_name(spec.get(what), "platform_kubernetes_%s" % what, label=True, length=40)
    _checks.text(spec.get("cluster_id"), "the cluster id", KubernetesSpecError)
    if spec.get("run_as_user") not in (None, "", 0):
        _checks.integer(spec["run_as_user"], "run_as_user", KubernetesSpecError, low=1)
    _mapping(spec.get("security"), "security (the normalized platform_security)")
    for key in ("network_policy", "tls_material", "labels", "node_selector"):
        _mapping(spec.get(key), key, optional=True)
    for key in ("tolerations", "image_pull_secrets", "scram_arguments"):
        _checks.sequence(spec.get(key), key, KubernetesSpecError, optional=True)


def manifests(spec: Spec) -> List[Object]:
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
    external = check_external(spec.get("external"), spec["security"], spec["platform"])
    objects = _cluster_objects(spec)
    all_ports: Dict[int, Dict[str, Any]] = {}
    for kafka_set in spec["sets"]:
        set_objects, ports = _set_objects(spec, kafka_set)
        objects.extend(set_objects)
        for port in ports:
            all_ports[port["port"]] = port
    brokers = [s for s in spec["sets"] if "broker" in s["roles"]]
    client_ports: List[Dict[str, Any]] = []
    if brokers:
        client_ports, internal_ports = _client_ports(spec["security"], brokers[0]["roles"], external)
        objects.append(service_object(spec, "%s-bootstrap" % spec["name"], None, service_ports(internal_ports or client_ports),
                                      broker_selector(spec)))
        objects.extend(_external_objects(spec, external, brokers, _layout_by_pod(spec)))
    if spec.get("network_policy", {}).get("enabled", True):
        objects.append(_network_policy(spec, all_ports, client_ports, external, jmx_settings(spec)))
    if spec.get("service_monitor"):
        objects.append({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                        "metadata": object_meta(spec, spec["name"]),
                        "spec": {"selector": {"matchLabels": pod_selector(spec)},
                                 "namespaceSelector": {"matchNames": [spec["namespace"]]},
                                 "endpoints": [{"port": "metrics", "interval": "30s"}]}})
    return objects


def _cluster_objects(spec: Spec) -> List[Object]:
    """What the whole cluster shares: the namespace (unless it exists already), the service account, the cluster id."""
    name, namespace = spec["name"], spec["namespace"]
    objects: List[Object] = []
    namespace_labels = {}
    if spec.get("pod_security"):
        namespace_labels = {"pod-security.kubernetes.io/enforce": spec["pod_security"],
                            "pod-security.kubernetes.io/warn": spec["pod_security"],
                            "pod-security.kubernetes.io/audit": spec["pod_security"]}
    if spec.get("create_namespace", True):
        objects.append({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": namespace, "labels": namespace_labels}})
    objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": object_meta(spec, "%s-kafka" % name),
                    "automountServiceAccountToken": False})
    objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": object_meta(spec, "%s-cluster" % name),
                    "data": {"cluster.id": spec["cluster_id"]}})
    return objects


def _set_objects(spec: Spec, kafka_set: Dict[str, Any]) -> Tuple[List[Object], List[Dict[str, Any]]]:
    """The objects of one StatefulSet (configuration, scripts, TLS material, headless Service, the set
    itself, its disruption budget) and the ports its pods open."""
    component = kafka_set["component"]
    sts = set_name(spec["name"], component)
    jmx = jmx_settings(spec)
    config, config_kind, kraft_format = _set_configuration(spec, kafka_set)
    scripts = _set_scripts(spec, kafka_set, jmx, kraft_format)
    tls = (spec.get("tls_material") or {}).get(sts)
    hashed = {"config": config, "scripts": scripts, "tls": tls, "cluster_id": spec["cluster_id"]}
    config_object = dict({"apiVersion": "v1", "kind": config_kind, "metadata": object_meta(spec, "%s-config" % sts, component)},
                         **object_data(config_kind, config))
    if config_kind == "Secret":
        config_object["type"] = "Opaque"
    objects = [config_object,
               dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": object_meta(spec, "%s-scripts" % sts, component)},
                    **object_data("ConfigMap", scripts))]
    if tls:
        tls_data = {"truststore.pem": tls["truststore"]}
        for ordinal, pem in sorted(tls["keystores"].items(), key=lambda item: int(item[0])):
            tls_data["keystore-%d.pem" % int(ordinal)] = pem
        objects.append(dict({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                             "metadata": object_meta(spec, "%s-tls" % sts, component)}, **object_data("Secret", tls_data)))
    ports = set_ports(spec["security"], kafka_set)
    if jmx:
        ports = ports + [{"name": "metrics", "port": int(jmx["port"])}]
    objects.append(service_object(spec, sts, component, service_ports(ports), pod_selector(spec, component), headless=True))
    objects.append(statefulset(spec, kafka_set, config_kind, digest(hashed)))
    objects.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": object_meta(spec, sts, component),
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": pod_selector(spec, component)}}})
    return objects, ports


def _set_configuration(spec: Spec, kafka_set: Dict[str, Any]) -> Tuple[Dict[str, str], str, bool]:
    """The files of a set's configuration object, whether that is a Secret or a ConfigMap, and
    whether its pods format KRaft storage."""
    zookeeper = kafka_set["component"] == "zookeeper"
    config_kind = "Secret" if kafka_set.get("secret") else "ConfigMap"
    if zookeeper:
        config = {"zoo-%d.cfg" % pod["ordinal"]: pod["properties_text"] for pod in kafka_set["pods"]}
        config.update({"myid-%d" % pod["ordinal"]: "%d\n" % int(pod["node_id"]) for pod in kafka_set["pods"]})
    else:
        config = {"server-%d.properties" % pod["ordinal"]: pod["properties_text"] for pod in kafka_set["pods"]}
    kraft_format = bool(kafka_set.get("format", True)) and not zookeeper
    if spec.get("scram_arguments") and kraft_format:
        config["scram-arguments"] = "".join("%s\n" % arg for arg in spec["scram_arguments"])
        config_kind = "Secret"
    if kafka_set.get("jaas"):
        config["jaas.conf"] = kafka_set["jaas"]
        config_kind = "Secret"
    return config, config_kind, kraft_format


def _set_scripts(spec: Spec, kafka_set: Dict[str, Any], jmx: Optional[Dict[str, Any]], kraft_format: bool) -> Dict[str, str]:
    """The set's scripts ConfigMap: the start script, and the JMX exporter's rules."""
    component = kafka_set["component"]
    data_dir = None
    if component == "zookeeper":
        data_dir = next((d for d in kafka_set.get("log_dirs") or []), kafka_set.get("data_root"))
    scripts = {"start.sh": start_script(spec.get("image_flavor") or "apache", component,
                                        spec.get("rack_from_zone"), spec.get("tls_dir"), jmx,
                                        kraft_format=kraft_format, jaas=bool(kafka_set.get("jaas")),
                                        data_dir=data_dir)}
    if jmx:
        rules = jmx.get("config") or {"lowercaseOutputName": True, "rules": [{"pattern": ".*"}]}
        scripts["jmx-exporter.yaml"] = json.dumps(rules, indent=2, sort_keys=True) + "\n"
    return scripts


def _client_ports(security: Security, roles: Sequence[str],
                  external: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """The broker ports clients use (client, admin and external listeners), and those of them the
    in-cluster bootstrap Service offers (all but the external listener's)."""
    client = {security["client_listener"], security["admin_listener"]}
    if external["type"] != "none":
        client.add(external["listener"])
    served = [lsn for lsn in sec.served_listeners(security, roles) if lsn["name"] in client]
    client_ports = [{"name": port_name(lsn["name"]), "port": int(lsn["port"])} for lsn in served]
    internal_ports = [{"name": port_name(lsn["name"]), "port": int(lsn["port"])} for lsn in served
                      if external["type"] == "none" or lsn["name"] != external["listener"]]
    return client_ports, internal_ports


def _external_objects(spec: Spec, external: Dict[str, Any], broker_sets: List[Dict[str, Any]],
                      layout_by_pod: Dict[str, Entry]) -> List[Object]:
    """A Service (and Route) per broker pod for clients outside the cluster, and a bootstrap one."""
    if external["type"] == "none":
        return []
    name, namespace = spec["name"], spec["namespace"]
    listener = sec.listener_named(spec["security"], external["listener"])
    listener_port_name = port_name(listener["name"])
    objects = []
    annotations = external.get("annotations") or {}
    service_type = "ClusterIP" if external["type"] == "Route" else external["type"]
    for kafka_set in broker_sets:
        sts = set_name(name, kafka_set["component"])
        for pod in kafka_set["pods"]:
            pod_name = "%s-%d" % (sts, pod["ordinal"])
            address = external_address(external, listener, layout_by_pod[pod_name], namespace)
            host, port = address if address is not None else ("", 0)
            service_port = {"name": listener_port_name, "port": int(listener["advertised_port"]),
                            "targetPort": int(listener["port"]), "protocol": "TCP"}
            extra = {}
            if external["type"] == "NodePort":
                service_port["nodePort"] = port
            elif external["type"] == "LoadBalancer":
                service_port["port"] = port
                extra["externalTrafficPolicy"] = "Local"
            objects.append(service_object(spec, "%s-external" % pod_name, kafka_set["component"], [service_port],
                                          {"statefulset.kubernetes.io/pod-name": pod_name}, kind=service_type,
                                          annotations=annotations, extra=extra))
            if external["type"] == "Route":
                objects.append(route_object(spec, pod_name, host, "%s-external" % pod_name, listener_port_name))
    bootstrap_port = {"name": listener_port_name, "port": int(listener["advertised_port"]), "targetPort": int(listener["port"]),
                      "protocol": "TCP"}
    if external["type"] == "NodePort" and external.get("bootstrap_node_port"):
        bootstrap_port["nodePort"] = int(external["bootstrap_node_port"])
    objects.append(service_object(spec, "%s-bootstrap-external" % name, None, [bootstrap_port], broker_selector(spec),
                                  kind=service_type, annotations=annotations))
    if external["type"] == "Route":
        objects.append(route_object(spec, "%s-bootstrap" % name, bootstrap_host(external, name, namespace),
                                    "%s-bootstrap-external" % name, listener_port_name))
    return objects


def _layout_by_pod(spec: Spec) -> Dict[str, Entry]:
    """The pods of the sets by name, with what external addresses need (ordinal, node id, broker index)."""
    found = {}
    for kafka_set in spec["sets"]:
        sts = set_name(spec["name"], kafka_set["component"])
        for pod in kafka_set["pods"]:
            entry = {"pod": "%s-%d" % (sts, pod["ordinal"]), "ordinal": pod["ordinal"], "set": sts,
                     "node_id": pod.get("node_id"), "roles": kafka_set["roles"], "broker_index": pod.get("broker_index")}
            found[entry["pod"]] = entry
    return found


def _network_policy(spec: Spec, all_ports: Dict[int, Dict[str, Any]], client_ports: List[Dict[str, Any]],
                    external: Dict[str, Any], jmx: Optional[Dict[str, Any]]) -> Object:
    own = {"podSelector": {"matchLabels": pod_selector(spec)}}
    rules: List[Dict[str, Any]] = [{"from": [own], "ports": [{"protocol": "TCP", "port": p} for p in sorted(all_ports)]}]
    peers = (spec.get("network_policy") or {}).get("client_peers") or []
    if client_ports:
        rule: Dict[str, Any] = {"ports": [{"protocol": "TCP", "port": p["port"]} for p in client_ports]}
        if peers and external["type"] == "none":
            rule["from"] = list(peers)
        rules.append(rule)
    if jmx:
        rule = {"ports": [{"protocol": "TCP", "port": int(jmx["port"])}]}
        metrics_peers = (spec.get("network_policy") or {}).get("metrics_peers") or []
        if metrics_peers:
            rule["from"] = list(metrics_peers)
        rules.append(rule)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": object_meta(spec, spec["name"]),
            "spec": {"podSelector": {"matchLabels": pod_selector(spec)}, "policyTypes": ["Ingress"], "ingress": rules}}


def redacted(objects: List[Object]) -> List[Object]:
    """A copy of ``objects`` with every Secret value replaced by ``<redacted>``."""
    result = []
    for index, obj in enumerate(_mappings(objects, "objects")):
        copy = dict(obj)
        if copy.get("kind") == "Secret":
            for key in ("data", "stringData"):
                if key in copy:
                    copy[key] = {name: "<redacted>" for name in _mapping(copy[key], "objects[%d].%s" % (index, key))}
        result.append(copy)
    return result


# --------------------------------------------------------------------------------------------
# day 2


def outdated_pods(statefulsets: Dict[str, Optional[str]], pods: List[Dict[str, Any]]) -> List[str]:
    """Pods that run an older revision than their StatefulSet's ``status.updateRevision``.

    ``statefulsets``: {set name: updateRevision}; ``pods``: [{"name", "set", "revision"}].
    """
    statefulsets = _mapping(statefulsets, "statefulsets (name -> updateRevision)")
    stale = []
    for pod in _mappings(pods, "pods", ("name", "set")):
        want = statefulsets.get(pod["set"])
        if want and pod.get("revision") != want:
            stale.append(pod["name"])
    return sorted(stale)


def roll_order(layout: Layout, stale_pods: Collection[str], active_controller: Optional[int] = None) -> List[str]:
    """The order to restart ``stale_pods`` in: ZooKeeper servers first (as on VMs, where the ensemble
    is deployed before the brokers), then broker-only pods, combined pods, dedicated controllers,
    and the active controller (a Kafka node id) always last; highest ordinal first within each
    group, as the StatefulSet controller would."""
    by_pod = {entry["pod"]: entry for entry in check_layout(layout).values()}
    stale_pods = [_checks.text(pod, "a stale pod", KubernetesSpecError) for pod in
                  _checks.sequence(stale_pods, "stale_pods", KubernetesSpecError, optional=True)]
    if active_controller is not None and _checks.strict_int(active_controller) is None:
        _fail("active_controller must be a Kafka node id or null, got %r" % (active_controller,))
    active_controller = None if active_controller is None else _checks.strict_int(active_controller)
    unknown = sorted(set(stale_pods) - set(by_pod))
    if unknown:
        _fail("pods %s are not in the inventory (scale the StatefulSet through the inventory)" % ", ".join(unknown))

    def rank(pod: str) -> Tuple[int, int, int, str]:
        entry = by_pod[pod]
        group = {"zookeeper": -1, "broker": 0, "combined": 1}.get(entry["component"], 2)
        leader = 1 if (active_controller is not None and entry["component"] != "zookeeper"
                       and entry["node_id"] == active_controller) else 0
        return (leader, group, -entry["ordinal"], entry["set"])
    return sorted(set(stale_pods), key=rank)
