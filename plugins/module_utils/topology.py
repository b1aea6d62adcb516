# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The cluster as the inventory describes it, and the cross-host checks run before any host
is changed.

``cluster_topology`` turns per-host facts (group membership, node id, address, rack) into the
list of Kafka processes the platform will run; ``preflight_errors`` returns every problem with
that description at once, each saying what to fix. Pure Python, no Ansible imports.
"""
from __future__ import annotations

from typing import Any

from ansible_collections.kafkaops.platform.plugins.module_utils import _checks
from ansible_collections.kafkaops.platform.plugins.module_utils import zookeeper as zk
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import valid_host

__all__ = ["TopologyError", "cluster_topology", "preflight_errors", "resolve_cluster_id"]

# broker settings that cannot exceed the broker count (preflight checks them against it)
_REPLICATION_SETTINGS = ("default.replication.factor", "offsets.topic.replication.factor",
                         "transaction.state.log.replication.factor", "min.insync.replicas",
                         "transaction.state.log.min.isr")
# Kafka's defaults of those settings (what a broker runs with where kafka_broker_properties removes one)
_KAFKA_DEFAULTS = {"default.replication.factor": 1, "offsets.topic.replication.factor": 3,
                   "transaction.state.log.replication.factor": 3, "min.insync.replicas": 1,
                   "transaction.state.log.min.isr": 2}
# (minimum in-sync replicas, replication factor, the topics they meet on): acks=all writes need the first
# to be at most the second. __consumer_offsets takes the broker's min.insync.replicas; Kafka creates
# __transaction_state with min.insync.replicas = transaction.state.log.min.isr instead.
_MIN_ISR_PAIRS = (("min.insync.replicas", "default.replication.factor", "a topic created with the default replication factor"),
                  ("min.insync.replicas", "offsets.topic.replication.factor", "__consumer_offsets (consumer offsets)"),
                  ("transaction.state.log.min.isr", "transaction.state.log.replication.factor",
                   "__transaction_state (transactions)"))


def _valid_address(address: Any) -> bool:
    """A host name or an IP address (IPv6 with or without brackets, e.g. ``::1``, ``[fe80::1]``);
    not ``a:b``, ``a]b`` nor ``1.2.3``."""
    return isinstance(address, str) and valid_host(address)


class TopologyError(ValueError):
    """The inventory cannot describe a cluster."""


def cluster_topology(hosts: dict[str, dict[str, Any]], controller_port: int, combined: bool = True) -> dict[str, Any]:
    """Describe the processes of a KRaft (or ZooKeeper-mode) cluster.

    ``hosts`` maps inventory names to ``{"controller": bool, "broker": bool, "node_id": int|None,
    "address": str, "rack": str|None}`` (an empty rack is no rack). A host in both groups runs one
    combined process (``combined``), otherwise it runs what its group says. Node ids and addresses
    are kept as given: :func:`preflight_errors` reports the invalid ones, all at once.

    Returns ``{"controllers": [...], "brokers": [...], "processes": {host: {...}}}`` where each
    controller is ``{"host", "id", "address", "port"}`` and each broker ``{"host", "id",
    "address", "rack"}``, both sorted by node id then host name.
    """
    hosts = _host_facts(hosts)
    port = _checks.port(controller_port, "controller_port", TopologyError)
    controllers: list[dict[str, Any]] = []
    brokers: list[dict[str, Any]] = []
    processes: dict[str, dict[str, Any]] = {}
    for name in sorted(hosts):
        info = hosts[name]
        is_controller = bool(info.get("controller"))
        is_broker = bool(info.get("broker"))
        if not (is_controller or is_broker):
            continue
        node_id = info.get("node_id")
        address = info.get("address") or name
        roles = [r for r, on in (("broker", is_broker), ("controller", is_controller)) if on]
        if is_controller and is_broker and not combined:
            raise TopologyError("host %s is in both kafka_controller and kafka_broker but combined mode "
                                "is off: one host runs one Kafka process; put it in one group" % name)
        rack = None if info.get("rack") in (None, "") else info.get("rack")
        processes[name] = {"roles": roles, "node_id": node_id, "address": address, "rack": rack}
        if is_controller:
            controllers.append({"host": name, "id": node_id, "address": address, "port": port})
        if is_broker:
            brokers.append({"host": name, "id": node_id, "address": address, "rack": rack})

    def order(entry: dict[str, Any]) -> tuple[int, str]:
        return (entry["id"] if _node_id_problem(entry["id"]) is None else 1 << 62, entry["host"])

    return {"controllers": sorted(controllers, key=order), "brokers": sorted(brokers, key=order),
            "processes": processes}


def _host_facts(hosts: Any) -> dict[str, dict[str, Any]]:
    """``hosts`` checked: a mapping of host names (strings) to mappings."""
    hosts = _checks.mapping(hosts, "hosts", TopologyError)
    for name, info in hosts.items():
        if not isinstance(name, str) or not name:
            raise TopologyError("hosts: %r is not a host name" % (name,))
        _checks.mapping(info, "hosts[%r]" % name, TopologyError)
    return hosts


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _node_id_problem(node_id: Any) -> str | None:
    """What is wrong with a kafka_node_id (None when it is a valid one)."""
    if node_id is None:
        return "kafka_node_id is not set; give every Kafka host a unique integer node id"
    if not _is_int(node_id) or node_id < 0:
        return "kafka_node_id must be a non-negative integer, got %r" % (node_id,)
    if node_id > _checks.INT32_MAX:
        return "kafka_node_id %d is out of range: Kafka node ids are 0..%d" % (node_id, _checks.INT32_MAX)
    return None


def preflight_errors(topology: dict[str, Any], settings: dict[str, Any] | None = None) -> list[str]:
    """Every problem with a cluster description, as messages that say what to fix.

    ``settings`` (all optional): ``mode`` ("kraft", "zookeeper", or "migration" while
    zookeeper_to_kraft.yml runs), ``properties`` (the cluster-wide broker overrides,
    kafka_broker_properties, to check replication settings against the broker count, each other
    and the metadata mode), ``cluster_id`` (configured id, "" for automatic), ``cluster_id_valid``
    (bool), ``zookeeper`` (the ensemble: ``[{"host", "myid", "address"}]``), ``version`` (the Kafka
    version). A malformed ``topology`` or ``settings`` raises TopologyError.
    """
    settings = _checks.mapping(settings, "settings", TopologyError, optional=True)
    processes, controllers, brokers = _topology_parts(topology)
    properties = _checks.mapping(settings.get("properties"), "properties (kafka_broker_properties)", TopologyError,
                                 optional=True)
    mode = settings.get("mode", "kraft")
    return (_node_id_and_address_errors(processes)
            + _shared_address_errors(processes)
            + _metadata_mode_errors(mode, settings, controllers, brokers)
            + _quorum_errors(mode, controllers)
            + _broker_errors(brokers)
            + _replication_errors(properties, len(brokers))
            + _cluster_id_errors(settings))


def _topology_parts(topology: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The processes, controllers and brokers of a :func:`cluster_topology` result, each entry
    checked for the keys the preflight reads."""
    topology = _checks.mapping(topology, "topology", TopologyError)
    processes = _checks.mapping(topology.get("processes"), "topology.processes", TopologyError, optional=True)
    for host, process in processes.items():
        where = "topology.processes[%r]" % (host,)
        if not isinstance(host, str):
            raise TopologyError("%s: %r is not a host name" % (where, host))
        for name in ("node_id", "address"):
            _checks.key(_checks.mapping(process, where, TopologyError), name, where, TopologyError)
    parts = []
    for group, keys in (("controllers", ("host",)), ("brokers", ("host", "rack"))):
        entries = _checks.mappings(topology.get(group), "topology." + group, TopologyError, optional=True)
        for index, entry in enumerate(entries):
            for name in keys:
                _checks.key(entry, name, "topology.%s[%d]" % (group, index), TopologyError)
            _checks.text(entry["host"], "topology.%s[%d].host" % (group, index), TopologyError)
        parts.append(entries)
    return processes, parts[0], parts[1]


def _node_id_and_address_errors(processes: dict[str, dict[str, Any]]) -> list[str]:
    """Every Kafka host has a node id of its own (0..2147483647) and a valid address."""
    errors = []
    hosts_by_id: dict[int, list[str]] = {}
    for host in sorted(processes, key=str):
        node_id = processes[host]["node_id"]
        problem = _node_id_problem(node_id)
        if problem:
            errors.append("%s: %s" % (host, problem))
        else:
            hosts_by_id.setdefault(node_id, []).append(host)
        address = processes[host]["address"]
        if not _valid_address(address):
            errors.append("%s: platform_host_address %r is not a host name or IP address" % (host, address))
    for node_id, names in sorted(hosts_by_id.items()):
        if len(names) > 1:
            errors.append("kafka_node_id %d is used by %s; node ids must be unique across controllers and "
                          "brokers" % (node_id, " and ".join(names)))
    return errors


def _shared_address_errors(processes: dict[str, dict[str, Any]]) -> list[str]:
    """No two Kafka hosts share an address (host names compared without case)."""
    errors = []
    addresses: dict[str, tuple[str, list[str]]] = {}
    for host in sorted(processes):
        # host names are case-insensitive: Kafka1 and kafka1 are one machine
        address = str(processes[host]["address"])
        addresses.setdefault(address.lower(), (address, []))[1].append(host)
    for _key, (address, names) in sorted(addresses.items()):
        if len(names) > 1:
            errors.append("hosts %s all have the address %s; each Kafka host needs its own address "
                          "(platform_host_address)" % (", ".join(names), address))
    return errors


def _metadata_mode_errors(mode: Any, settings: dict[str, Any], controllers: list[dict[str, Any]],
                          brokers: list[dict[str, Any]]) -> list[str]:
    """The mode is known and the settings fit it; in ZooKeeper mode (and while migrating) the ensemble
    is sound and the controllers to migrate to run on hosts of their own."""
    properties = settings.get("properties") or {}
    version = settings.get("version") or ""
    if mode == "kraft":
        return zk.mode_errors("kraft", properties, version)
    if mode not in ("zookeeper", "migration"):
        return ["platform_kafka_mode must be kraft or zookeeper, got %r" % (mode,)]
    errors = zk.ensemble_errors(settings.get("zookeeper") or []) + zk.mode_errors("zookeeper", properties, version)
    broker_hosts = {b["host"] for b in brokers}
    both = sorted(c["host"] for c in controllers if c["host"] in broker_hosts)
    if both:
        errors.append("%s: in both kafka_controller and kafka_broker; a ZooKeeper cluster migrates to dedicated "
                      "KRaft controllers, so put the controllers on their own hosts" % ", ".join(both))
    return errors


def _quorum_errors(mode: Any, controllers: list[dict[str, Any]]) -> list[str]:
    """A KRaft cluster (or a migration) has controllers, an odd number of them and not too many; in
    ZooKeeper mode the kafka_controller group holds the controllers zookeeper_to_kraft.yml deploys."""
    errors = []
    if mode == "migration" and not controllers:
        errors.append("no KRaft controllers to migrate to: put 1, 3 or 5 hosts in the kafka_controller group")
    if mode != "kraft" and not controllers:
        return errors
    count = len(controllers)
    if count == 0:
        errors.append("no KRaft controllers: put 1, 3 or 5 hosts in the kafka_controller group")
    elif count % 2 == 0:
        errors.append("%d controllers: a KRaft quorum needs an odd number (3 or 5); %d tolerate no more "
                      "failures than %d" % (count, count, count - 1))
    elif count > 9:
        errors.append("%d controllers: more than 9 voters slows every metadata commit; use 3 or 5" % count)
    return errors


def _broker_errors(brokers: list[dict[str, Any]]) -> list[str]:
    """There is a broker, every rack is a plain name, and either every broker has a rack or none has."""
    errors = []
    if not brokers:
        errors.append("no brokers: put at least one host in the kafka_broker group")
    for broker in brokers:
        rack = broker["rack"]
        if rack is not None and (not isinstance(rack, str) or _checks.has_control(rack)):
            errors.append("%s: kafka_broker_rack %r must be a name without control characters" % (broker["host"], rack))
    racks = {b["rack"] is None for b in brokers}
    if len(racks) > 1:
        errors.append("some brokers have a rack (kafka_broker_rack) and some do not: %s; give every broker "
                      "a rack or none" % ", ".join(b["host"] for b in brokers if b["rack"] is None))
    return errors


def _replication_errors(properties: dict[str, Any], broker_count: int) -> list[str]:
    """The replication settings are positive integers the brokers can satisfy, and acks=all writes to
    every topic the brokers create can succeed."""
    errors = []
    for key in _REPLICATION_SETTINGS:
        if key in properties and properties[key] is not None:
            value = _checks.strict_int(properties[key])
            if value is None:
                errors.append("%s must be an integer, got %r" % (key, properties[key]))
                continue
            if broker_count and value > broker_count:
                errors.append("%s is %d but the cluster has %d broker(s)" % (key, value, broker_count))
            if value < 1:
                errors.append("%s must be at least 1, got %d" % (key, value))
    for min_isr_key, factor_key, topics in _MIN_ISR_PAIRS:
        min_isr, min_isr_source = _effective(properties, min_isr_key, broker_count)
        factor, factor_source = _effective(properties, factor_key, broker_count)
        if min_isr is not None and factor is not None and 1 <= factor < min_isr:
            errors.append("%s (%d%s) is larger than %s (%d%s): %s could never accept an acks=all write; lower %s or "
                          "raise %s" % (min_isr_key, min_isr, min_isr_source, factor_key, factor, factor_source, topics,
                                        min_isr_key, factor_key))
    return errors


def _effective(properties: dict[str, Any], key: str, broker_count: int) -> tuple[int | None, str]:
    """The value of a replication setting the brokers run with, and where it comes from (for a
    message): kafka_broker_properties, else the collection's default (roles/kafka_broker/vars), or
    Kafka's own default where kafka_broker_properties removes the key (None). None for a value
    that is not an integer (reported on its own)."""
    if key not in properties:
        if key in ("min.insync.replicas", "transaction.state.log.min.isr"):
            return (2 if broker_count >= 3 else 1), ", the collection's default"
        return min(3, broker_count), ", the collection's default"
    if properties[key] is None:
        return _KAFKA_DEFAULTS[key], ", Kafka's default: kafka_broker_properties removes the key"
    return _checks.strict_int(properties[key]), ""


def _cluster_id_errors(settings: dict[str, Any]) -> list[str]:
    """A configured cluster id is one Kafka accepts."""
    if settings.get("cluster_id") and not settings.get("cluster_id_valid", True):
        return ["platform_cluster_id %r is not a KRaft cluster id (22 characters of URL-safe base64, "
                "as printed by 'kafka-storage random-uuid')" % settings["cluster_id"]]
    return []


def resolve_cluster_id(configured: str | None, found: dict[str, str | None]) -> tuple[str | None, str]:
    """Decide the cluster id. ``found`` maps host -> cluster id read from its meta.properties
    (None or "" where there is none yet).

    Returns ``(cluster_id or None, source)``; None means "generate one". Raises TopologyError
    when hosts disagree with each other or with the configured id: formatting them again would
    destroy a cluster's data, so this must be resolved by a person; and for a ``configured`` that
    is not a string or a ``found`` that is not a mapping of host names to strings.
    """
    configured = _checks.text(configured, "platform_cluster_id", TopologyError, optional=True)
    ids: dict[str, list[str]] = {}
    for host, value in sorted(_found_ids(found).items()):
        if value:
            ids.setdefault(value, []).append(host)
    if len(ids) > 1:
        detail = "; ".join("%s on %s" % (cid, ", ".join(h)) for cid, h in sorted(ids.items()))
        raise TopologyError("the hosts belong to different clusters (%s): refusing to continue" % detail)
    if ids:
        existing = next(iter(ids))
        if configured and configured != existing:
            raise TopologyError("platform_cluster_id is %s but the hosts are already formatted for cluster %s "
                                "(%s); set platform_cluster_id to %s or wipe the hosts"
                                % (configured, existing, ", ".join(ids[existing]), existing))
        return existing, "hosts"
    if configured:
        return configured, "inventory"
    return None, "new"


def _found_ids(found: Any) -> dict[str, str]:
    """``found`` checked: host name -> the cluster id its meta.properties holds ("" for none)."""
    found = _checks.mapping(found, "the cluster ids found on the hosts", TopologyError)
    result = {}
    for host, value in found.items():
        if not isinstance(host, str):
            raise TopologyError("the cluster ids found on the hosts: %r is not a host name" % (host,))
        result[host] = _checks.text(value, "the cluster id found on %s" % host, TopologyError, optional=True)
    return result
