# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Filters that turn the inventory into Kafka configuration: properties, topology, preflight."""
from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kafkaops.platform.plugins.module_utils import _checks
from ansible_collections.kafkaops.platform.plugins.module_utils import kubernetes as kube
from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils import security as sec
from ansible_collections.kafkaops.platform.plugins.module_utils import topology as topo
from ansible_collections.kafkaops.platform.plugins.module_utils import zookeeper as zk
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import diagnosis as kube_diagnosis
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import services as kube_services
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import tls as kube_tls

# the errors of the module_utils these filters call: each says what to fix, and becomes an AnsibleFilterError
ERRORS = (props.PropertiesError, topo.TopologyError, sec.SecurityConfigError, zk.ZookeeperError,
          kube.KubernetesSpecError, kube_services.ServiceSpecError, kube_tls.TlsMaterialError,
          kube_diagnosis.PodDiagnosisError)


def _wrap(func):
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ERRORS as exc:
            raise AnsibleFilterError("%s: %s" % (func.__name__, exc)) from exc
    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    run.__wrapped__ = func
    return run


def _flag(value, what, error):
    """A boolean option: a bool, or what Ansible reads as one (``"false"``, ``"yes"``, 0, 1)."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise error("%s must be true or false, got %r" % (what, value)) from None


def _group_members(groups, group, error):
    """The host names of an inventory group (none when the group does not exist)."""
    group = _checks.text(group, "the group name", error)
    members = _checks.sequence(_checks.mapping(groups, "groups", error).get(group), "groups[%r]" % (group,), error,
                               optional=True)
    for member in members:
        _checks.text(member, "a host of the group %s" % group, error)
    return members


def _host_vars(filter_name, hostvars, host, error):
    """The variables of ``host`` (``hostvars`` is Ansible's hostvars)."""
    if hostvars is None:
        raise AnsibleFilterError("%s needs hostvars=hostvars" % filter_name)
    _checks.mapping(hostvars, "hostvars", error)
    if host not in hostvars:
        raise error("hostvars has no host %s (pass hostvars=hostvars)" % host)
    return _checks.mapping(hostvars[host], "hostvars[%r]" % host, error)


def _inventory_number(value):
    """An id written as decimal digits in the inventory (``"3"``) as an int; anything else as it is,
    for the checks to report (``"-1"``, ``"1.5"``, ``"²"``, ``True``)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return value


def kafka_process_properties(spec):
    """One Kafka process's properties merged from defaults, structure, security and overrides."""
    return props.kafka_process_properties(spec)


def to_java_properties(properties, header=None):
    """Render a dict as a Java properties file."""
    if header is not None and not isinstance(header, str):
        raise props.PropertiesError("header must be text, got %s" % _checks.kind(header))
    return props.to_java_properties(properties, header=header)


def from_java_properties(text):
    """Parse a Java properties file into a dict."""
    if not isinstance(text, str):
        raise props.PropertiesError("the properties file must be text, got %s" % _checks.kind(text))
    return props.parse_java_properties(text)


def kafka_topology(groups, hostvars=None, controller_port=9093, combined=True,
                   controller_group="kafka_controller", broker_group="kafka_broker"):
    """The Kafka processes the inventory describes (see module_utils.topology.cluster_topology)."""
    if hostvars is None:
        raise AnsibleFilterError("kafka_topology needs hostvars=hostvars")
    controllers = set(_group_members(groups, controller_group, topo.TopologyError))
    brokers = set(_group_members(groups, broker_group, topo.TopologyError))
    hosts = {}
    for name in sorted(controllers | brokers):
        hvars = _host_vars("kafka_topology", hostvars, name, topo.TopologyError)
        rack = hvars.get("kafka_broker_rack")
        hosts[name] = {
            "controller": name in controllers,
            "broker": name in brokers,
            "node_id": _inventory_number(hvars.get("kafka_node_id")),
            "address": hvars.get("platform_host_address") or name,
            "rack": None if rack in (None, "") else str(rack),
        }
    return topo.cluster_topology(hosts, controller_port=controller_port,
                                 combined=_flag(combined, "combined", topo.TopologyError))


def kafka_preflight_errors(topology, mode="kraft", properties=None, cluster_id="", zookeeper=None, version=""):
    """Every problem with the cluster description, as messages that say what to fix."""
    return topo.preflight_errors(topology, {
        "mode": mode,
        "properties": properties or {},
        "cluster_id": cluster_id,
        "cluster_id_valid": props.valid_cluster_id(cluster_id) if cluster_id else True,
        "zookeeper": zookeeper or [],
        "version": version,
    })


def kafka_zookeeper_servers(groups, hostvars=None, group="zookeeper"):
    """The ZooKeeper ensemble of the inventory: ``[{"host", "myid", "address"}]`` sorted by myid
    (hosts without a valid myid last, so that preflight can name them)."""
    if hostvars is None:
        raise AnsibleFilterError("kafka_zookeeper_servers needs hostvars=hostvars")
    servers = []
    for name in sorted(_group_members(groups, group, zk.ZookeeperError)):
        hvars = _host_vars("kafka_zookeeper_servers", hostvars, name, zk.ZookeeperError)
        myid = _inventory_number(hvars.get("zookeeper_myid"))
        servers.append({"host": name, "myid": myid, "address": hvars.get("platform_host_address") or name})
    return sorted(servers, key=lambda s: (s["myid"] if isinstance(s["myid"], int) and not isinstance(s["myid"], bool)
                                          and 1 <= s["myid"] <= 255 else 1 << 30, s["host"]))


def kafka_zoo_cfg(spec):
    """The settings of one ZooKeeper server (zoo.cfg) merged from a description (see
    module_utils.zookeeper.zoo_cfg); render them with to_java_properties."""
    return zk.zoo_cfg(spec)


def kafka_zookeeper_connect(servers, port=2181, chroot=""):
    """The zookeeper.connect string (host:port,.../chroot) of an ensemble."""
    return zk.zookeeper_connect(servers, port, chroot)


def kafka_zookeeper_restart_order(modes):
    """Hosts in rolling-restart order (followers first, the leader last) from host -> mode."""
    return zk.restart_order(modes)


def kafka_metadata_mode(properties):
    """absent, zookeeper, migration or kraft: where a process stands, from its server.properties."""
    return zk.metadata_mode(properties)


def kafka_zk_migration_state(jmx_output):
    """The ZkMigrationState of a controller from kafka.tools.JmxTool output: value, state, migrated."""
    return zk.migration_state(jmx_output)


def kafka_cluster_id(found, configured=""):
    """The cluster id: the one the hosts are formatted with, else the configured one, else a new
    random one. Fails when hosts disagree with each other or with the configured id."""
    value, _source = topo.resolve_cluster_id(configured or "", found or {})
    return value or props.generate_cluster_id()


def kafka_listener_port(security, role="controller", advertised=False):
    """The port of the listener that serves ``role`` (controller, inter_broker, client, admin)."""
    if not isinstance(role, str):
        raise sec.SecurityConfigError("role must be controller, inter_broker, client or admin, got %s" % _checks.kind(role))
    return sec.listener_port(security, role, _flag(advertised, "advertised", sec.SecurityConfigError))


def kafka_process_ports(security, roles):
    """The ports a Kafka process with ``roles`` listens on: the controller listener for a
    controller, every other listener for a broker."""
    roles = _checks.sequence(roles, "roles", sec.SecurityConfigError)
    if not all(isinstance(role, str) for role in roles):
        raise sec.SecurityConfigError("roles must list broker and/or controller, got %r" % (roles,))
    return sec.process_ports(security, roles)


def kafka_bootstrap_servers(topology, *, security=None, target="vm", override=None):
    """The ``host:port`` list the control node's admin client bootstraps from: each broker of
    ``topology`` (or a list of its brokers) on the admin listener's advertised port, or ``override``
    on Kubernetes/OpenShift when it is not empty."""
    return sec.bootstrap_servers(topology, security, target=target, override=override)


def kafka_security_has_secrets(security):
    """Whether the security description holds any secret (tasks that show it must be no_log)."""
    return bool(sec.secret_values(security))


def kafka_secret_values(security):
    """Every secret string in the security description (to check that none leaks)."""
    return sec.secret_values(security)


def kafka_tls_files(security, host=None):
    """The files on a host that the TLS listeners of ``security`` read (key and trust stores,
    with ``{host}`` filled in), so preflight can check that they exist before anything starts."""
    return sec.tls_files(security, host)


def kafka_san(name):
    """A subjectAltName entry for a host name or an IP address (``IP:10.0.0.1``, ``DNS:kafka1``)."""
    if not isinstance(name, str) or not name.strip("[]"):
        raise sec.SecurityConfigError("a certificate name must be a host name or an IP address, got %s" % _checks.kind(name))
    text = _checks.text(name, "the certificate name", sec.SecurityConfigError).strip("[]")
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return "DNS:" + text
    return "IP:" + text


def kafka_kubernetes_layout(topology, name="kafka", namespace="kafka", cluster_domain="cluster.local", zookeeper=None):
    """Each host's pod: StatefulSet, ordinal, pod name and stable DNS name (module_utils.kubernetes.pod_layout);
    ZooKeeper servers (``zookeeper``: kafka_zookeeper_servers) under ``zookeeper/<host>``."""
    return kube.pod_layout(topology, name, namespace, cluster_domain, zookeeper=zookeeper)


def kafka_kubernetes_zookeeper_servers(servers, layout):
    """The ensemble with the ZooKeeper pods' DNS names as addresses."""
    return kube.kubernetes_zookeeper_servers(servers, layout)


def kafka_kubernetes_topology(topology, layout):
    """The topology with the pods' DNS names as addresses."""
    return kube.kubernetes_topology(topology, layout)


def kafka_kubernetes_advertised(entry, external, security, namespace, platform="kubernetes"):
    """Per-listener advertised host/port of a pod's external listener (node.advertised of kafka_server_properties)."""
    normalized = sec.normalize(security)
    checked = kube.check_external(external, normalized, platform)
    return kube.advertised_overrides(checked, normalized, entry, namespace)


def kafka_kubernetes_manifests(spec):
    """Every Kubernetes/OpenShift object of the cluster (module_utils.kubernetes.manifests)."""
    spec = dict(_checks.mapping(spec, "the Kubernetes description (spec)", kube.KubernetesSpecError))
    spec["security"] = sec.normalize(spec.get("security"))
    return kube.manifests(spec)


def kafka_kubernetes_service_manifests(spec):
    """Every Kubernetes/OpenShift object of one Connect, Schema Registry or ksqlDB cluster
    (module_utils._kubernetes.services.manifests)."""
    return kube_services.manifests(spec)


def kafka_kubernetes_service_errors(spec):
    """What Connect, Schema Registry and ksqlDB ask that Kubernetes and OpenShift cannot give in this release
    (module_utils._kubernetes.services.target_errors), for the preflight."""
    return kube_services.target_errors(spec)


def kafka_kubernetes_rollout_done(statefulset):
    """Whether a StatefulSet read from the API server runs its newest revision on every pod, all ready."""
    return kube_services.rollout_done(statefulset)


def kafka_kubernetes_pod_problems(pods, expected, events=None, logs=None, claims=None, timeout=None, namespace=None,
                                  previous_logs=None):
    """Why the expected pods are not ready, one line per pod, from the Pods, Events, PersistentVolumeClaims and
    last log lines the API server gives (module_utils._kubernetes.diagnosis.pod_problems); empty when all are."""
    return kube_diagnosis.pod_problems(pods, expected, events=events, logs=logs, claims=claims, timeout=timeout,
                                       namespace=namespace, previous_logs=previous_logs)


def kafka_kubernetes_sets(hosts, layout, secret=False):
    """The StatefulSets of the cluster from the hosts' platform_kubernetes_process and
    zookeeper_kubernetes_process facts (``hosts``: hostvars entries)."""
    processes = {}
    for index, hvars in enumerate(_checks.mappings(hosts, "hosts (hostvars entries)", kube.KubernetesSpecError)):
        _checks.text(_checks.key(hvars, "inventory_hostname", "hosts[%d]" % index, kube.KubernetesSpecError),
                     "hosts[%d].inventory_hostname" % index, kube.KubernetesSpecError)
        if "platform_kubernetes_process" in hvars:
            processes[hvars["inventory_hostname"]] = hvars["platform_kubernetes_process"]
        if "zookeeper_kubernetes_process" in hvars:
            processes[kube.ZOOKEEPER_KEY + hvars["inventory_hostname"]] = hvars["zookeeper_kubernetes_process"]
    return kube.kafka_sets(processes, layout, secret=_flag(secret, "secret", kube.KubernetesSpecError))


def kafka_kubernetes_tls_names(entry, name, namespace, cluster_domain="cluster.local", external=None, security=None,
                               platform="kubernetes"):
    """The names in a pod's certificate (module_utils.kubernetes.tls_names)."""
    external_host = None
    checked = None
    if external and security is not None:
        normalized = sec.normalize(security)
        checked = kube.check_external(external, normalized, platform)
        advertised = kube.advertised_overrides(checked, normalized, entry, namespace)
        external_host = next((value["host"] for value in advertised.values()), None)
    return kube.tls_names(entry, name, namespace, cluster_domain, checked, external_host)


def kafka_kubernetes_tls_pods(layout, name, namespace, cluster_domain="cluster.local", external=None, security=None,
                              platform="kubernetes"):
    """Each Kafka pod of the layout as its certificate needs it: ``{pod, set, ordinal, names}``, by host name."""
    return [{"pod": entry["pod"], "set": entry["set"], "ordinal": entry["ordinal"],
             "names": kafka_kubernetes_tls_names(entry, name, namespace, cluster_domain, external, security, platform)}
            for _host, entry in sorted(kube.check_layout(layout).items())]


def kafka_kubernetes_service_tls_pods(spec):
    """Each pod of a Connect, Schema Registry or ksqlDB cluster as its certificate needs it
    (module_utils._kubernetes.services.tls_pods)."""
    return kube_services.tls_pods(spec)


def kafka_pkcs12_keystore(pem, password, current=None, alias="kafkaops"):
    """A PKCS12 key store (base64) from a PEM key store, the current one kept when it holds the same
    (module_utils._kubernetes.tls.pkcs12_keystore)."""
    return kube_tls.pkcs12_keystore(pem, password, current=current, alias=alias)


def kafka_pkcs12_truststore(bundle, password, current=None):
    """A Java PKCS12 trust store (base64) from a PEM bundle, the current one kept when it trusts the same
    (module_utils._kubernetes.tls.pkcs12_truststore)."""
    return kube_tls.pkcs12_truststore(bundle, password, current=current)


def kafka_kubernetes_redacted(objects):
    """The objects with every Secret value replaced by a placeholder (for files and review)."""
    return kube.redacted(objects)


def kafka_kubernetes_object_name(obj):
    """``Kind/name`` of an API object (for progress messages)."""
    obj = _checks.mapping(obj, "the object", kube.KubernetesSpecError, optional=True)
    metadata = _checks.mapping(obj.get("metadata"), "the object's metadata", kube.KubernetesSpecError, optional=True)
    return "%s/%s" % (obj.get("kind", "?"), metadata.get("name", "?"))


def kafka_kubernetes_found_data(results):
    """``{item: data}`` from a looped k8s_info registration (``{}`` for an object not found)."""
    found = {}
    error = kube.KubernetesSpecError
    for index, result in enumerate(_checks.mappings(results, "results (a looped k8s_info registration)", error, optional=True)):
        where = "results[%d]" % index
        item = _checks.text(_checks.key(result, "item", where, error), where + ".item", error)
        resources = _checks.mappings(result.get("resources"), where + ".resources", error, optional=True)
        found[item] = dict(_checks.mapping(resources[0].get("data"), where + ".resources[0].data", error, optional=True)) if resources else {}
    return found


def kafka_kubernetes_outdated(statefulsets, pods):
    """Pod names whose controller-revision-hash is not their StatefulSet's updateRevision.

    ``statefulsets``: the StatefulSet objects (k8s_info resources); ``pods``: the Pod objects."""
    error = kube.KubernetesSpecError
    revisions = {}
    for index, sts in enumerate(_checks.mappings(statefulsets, "statefulsets", error)):
        status = _checks.mapping(sts.get("status"), "statefulsets[%d].status" % index, error, optional=True)
        revisions[_object_name(sts, "statefulsets[%d]" % index)] = status.get("updateRevision")
    described = []
    for index, pod in enumerate(_checks.mappings(pods, "pods", error)):
        where = "pods[%d]" % index
        name = _object_name(pod, where)
        references = _checks.mappings(pod["metadata"].get("ownerReferences"), where + ".metadata.ownerReferences", error,
                                      optional=True)
        owners = [_checks.text(o.get("name"), where + ".metadata.ownerReferences.name", error)
                  for o in references if o.get("kind") == "StatefulSet"]
        if owners:
            labels = _checks.mapping(pod["metadata"].get("labels"), where + ".metadata.labels", error, optional=True)
            described.append({"name": name, "set": owners[0], "revision": labels.get("controller-revision-hash")})
    return kube.outdated_pods(revisions, described)


def _object_name(obj, where):
    """``metadata.name`` of an API object."""
    metadata = _checks.mapping(obj.get("metadata"), where + ".metadata", kube.KubernetesSpecError)
    return _checks.text(_checks.key(metadata, "name", where + ".metadata", kube.KubernetesSpecError), where + ".metadata.name",
                        kube.KubernetesSpecError)


def kafka_kubernetes_roll_order(stale_pods, layout, active_controller=None):
    """The order to restart pods in: brokers, combined, controllers, the active controller last."""
    return kube.roll_order(layout, stale_pods, active_controller)


class FilterModule:
    """kafkaops.platform configuration filters."""

    def filters(self):
        return {f.__name__: _wrap(f) for f in (
            kafka_process_properties, to_java_properties, from_java_properties,
            kafka_topology, kafka_preflight_errors, kafka_cluster_id, kafka_bootstrap_servers,
            kafka_listener_port, kafka_process_ports, kafka_security_has_secrets, kafka_san,
            kafka_tls_files, kafka_secret_values, kafka_zookeeper_servers, kafka_zoo_cfg, kafka_zookeeper_connect,
            kafka_zookeeper_restart_order, kafka_metadata_mode, kafka_zk_migration_state,
            kafka_kubernetes_layout, kafka_kubernetes_topology, kafka_kubernetes_advertised, kafka_kubernetes_manifests,
            kafka_kubernetes_outdated, kafka_kubernetes_roll_order, kafka_kubernetes_sets, kafka_kubernetes_tls_names,
            kafka_kubernetes_found_data, kafka_kubernetes_redacted, kafka_kubernetes_object_name,
            kafka_kubernetes_zookeeper_servers, kafka_kubernetes_service_manifests, kafka_kubernetes_rollout_done,
            kafka_kubernetes_pod_problems,
            kafka_kubernetes_service_errors, kafka_kubernetes_tls_pods, kafka_kubernetes_service_tls_pods,
            kafka_pkcs12_keystore, kafka_pkcs12_truststore)}
