# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The cluster as the inventory describes it, and the cross-host checks run before any host
is changed.

``cluster_topology`` turns per-host facts (group membership, node id, address, rack) into the
list of Kafka processes the platform will run; ``preflight_errors`` returns every problem with
that description at once, each saying what to fix. Pure Python, no Ansible imports.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from ansible_collections.kafkaops.platform.plugins.module_utils import zookeeper as zk

__all__ = ["TopologyError", "cluster_topology", "preflight_errors", "resolve_cluster_id"]

_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.\-_:\[\]]*[A-Za-z0-9\]])?")
# broker settings that cannot exceed the broker count (preflight checks them against it)
_REPLICATION_SETTINGS = ("default.replication.factor", "offsets.topic.replication.factor",
                         "transaction.state.log.replication.factor", "min.insync.replicas",
                         "transaction.state.log.min.isr")


def _valid_address(address: Any) -> bool:
    """A host name or an IP address (IPv6 with or without brackets, e.g. ``::1``, ``[fe80::1]``)."""
    if not isinstance(address, str):
        return False
    try:
        ipaddress.ip_address(address[1:-1] if address[:1] == "[" and address[-1:] == "]" else address)
        return True
    except ValueError:
        return bool(_HOSTNAME.fullmatch(address))


class TopologyError(ValueError):
    """The inventory cannot describe a cluster."""


def cluster_topology(hosts: dict[str, dict[str, Any]], controller_port: int, combined: bool = True) -> dict[str, Any]:
    """Describe the processes of a KRaft (or ZooKeeper-mode) cluster.

    ``hosts`` maps inventory names to ``{"controller": bool, "broker": bool, "node_id": int|None,
    "address": str, "rack": str|None}`` (an empty rack is no rack). A host in both groups runs one
    combined process (``combined``), otherwise it runs what its group says.

    Returns ``{"controllers": [...], "brokers": [...], "processes": {host: {...}}}`` where each
    controller is ``{"host", "id", "address", "port"}`` and each broker ``{"host", "id",
    "address", "rack"}``, both sorted by node id then host name.
    """
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
            controllers.append({"host": name, "id": node_id, "address": address, "port": int(controller_port)})
        if is_broker:
            brokers.append({"host": name, "id": node_id, "address": address, "rack": rack})

    def order(entry: dict[str, Any]) -> tuple[int, str]:
        return (entry["id"] if isinstance(entry["id"], int) else 1 << 62, entry["host"])

    return {"controllers": sorted(controllers, key=order), "brokers": sorted(brokers, key=order),
            "processes": processes}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def preflight_errors(topology: dict[str, Any], settings: dict[str, Any] | None = None) -> list[str]:
    """Every problem with a cluster description, as messages that say what to fix.

    ``settings`` (all optional): ``mode`` ("kraft", "zookeeper", or "migration" while
    zookeeper_to_kraft.yml runs), ``properties`` (the cluster-wide broker overrides, to check
    replication settings against the broker count and the metadata mode), ``cluster_id`` (configured
    id, "" for automatic), ``cluster_id_valid`` (bool), ``zookeeper`` (the ensemble: ``[{"host",
    "myid", "address"}]``), ``version`` (the Kafka version).
    """
    settings = settings or {}
    mode = settings.get("mode", "kraft")
    processes = topology.get("processes", {})
    controllers = topology.get("controllers", [])
    brokers = topology.get("brokers", [])
    return (_node_id_and_address_errors(processes)
            + _shared_address_errors(processes)
            + _metadata_mode_errors(mode, settings, controllers, brokers)
            + _quorum_errors(mode, controllers)
            + _broker_errors(brokers)
            + _replication_errors(settings.get("properties") or {}, len(brokers))
            + _cluster_id_errors(settings))


def _node_id_and_address_errors(processes: dict[str, dict[str, Any]]) -> list[str]:
    """Every Kafka host has a non-negative integer node id of its own and a valid address."""
    errors = []
    hosts_by_id: dict[int, list[str]] = {}
    for host in sorted(processes):
        node_id = processes[host]["node_id"]
        if node_id is None:
            errors.append("%s: kafka_node_id is not set; give every Kafka host a unique integer node id" % host)
        elif not _is_int(node_id) or node_id < 0:
            errors.append("%s: kafka_node_id must be a non-negative integer, got %r" % (host, node_id))
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
    """There is a broker, and either every broker has a rack or none has."""
    errors = []
    if not brokers:
        errors.append("no brokers: put at least one host in the kafka_broker group")
    racks = {b["rack"] for b in brokers}
    if len(racks) > 1 and None in racks:
        errors.append("some brokers have a rack (kafka_broker_rack) and some do not: %s; give every broker "
                      "a rack or none" % ", ".join(b["host"] for b in brokers if b["rack"] is None))
    return errors


def _replication_errors(properties: dict[str, Any], broker_count: int) -> list[str]:
    """The replication settings are positive integers the brokers can satisfy, and acks=all writes can succeed."""
    errors = []
    for key in _REPLICATION_SETTINGS:
        if key in properties and properties[key] is not None:
            try:
                value = int(properties[key])
            except (TypeError, ValueError):
                errors.append("%s must be an integer, got %r" % (key, properties[key]))
                continue
            if broker_count and value > broker_count:
                errors.append("%s is %d but the cluster has %d broker(s)" % (key, value, broker_count))
            if value < 1:
                errors.append("%s must be at least 1, got %d" % (key, value))
    try:
        replication_factor = int(properties.get("default.replication.factor", 0) or 0)
        min_insync = int(properties.get("min.insync.replicas", 0) or 0)
    except (TypeError, ValueError):
        replication_factor = min_insync = 0
    if replication_factor and min_insync and min_insync > replication_factor:
        errors.append("min.insync.replicas (%d) is larger than default.replication.factor (%d): "
                      "no acks=all write could ever succeed" % (min_insync, replication_factor))
    return errors


def _cluster_id_errors(settings: dict[str, Any]) -> list[str]:
    """A configured cluster id is one Kafka accepts."""
    if settings.get("cluster_id") and not settings.get("cluster_id_valid", True):
        return ["platform_cluster_id %r is not a KRaft cluster id (22 characters of URL-safe base64, "
                "as printed by 'kafka-storage random-uuid')" % settings["cluster_id"]]
    return []


def resolve_cluster_id(configured: str, found: dict[str, str]) -> tuple[str | None, str]:
    """Decide the cluster id. ``found`` maps host -> cluster id read from its meta.properties.

    Returns ``(cluster_id or None, source)``; None means "generate one". Raises TopologyError
    when hosts disagree with each other or with the configured id: formatting them again would
    destroy a cluster's data, so this must be resolved by a person.
    """
    ids: dict[str, list[str]] = {}
    for host, value in sorted(found.items()):
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
