# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Filters for Confluent Schema Registry and ksqlDB: properties, checks and the restart order."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kafkaops.platform.plugins.module_utils import confluent as cf

_SCHEMA_REGISTRY = ("schema_registry_group_id", "schema_registry_topic", "schema_registry_replication_factor",
                    "schema_registry_port", "schema_registry_rest_tls", "schema_registry_leader_eligible",
                    "schema_registry_keystore_password")
_KSQLDB = ("ksqldb_service_id", "ksqldb_replication_factor", "ksqldb_port", "ksqldb_rest_tls",
           "ksqldb_schema_registry_url", "ksqldb_queries_file", "ksqldb_keystore_password")


def _wrap(func):
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except cf.ConfluentError as exc:
            raise AnsibleFilterError("%s: %s" % (func.__name__, exc)) from exc
    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    return run


def _group(groups, hostvars, group, keys):
    hosts = {}
    for name in groups.get(group, []) or []:
        hvars = hostvars[name]
        hosts[name] = {key: hvars[key] for key in keys if key in hvars}
        hosts[name]["address"] = hvars.get("platform_host_address") or name
    return hosts


def kafka_confluent_layout(groups, hostvars=None, brokers=0, tls_required=False):
    """Schema Registry and ksqlDB of the inventory: their REST URLs and every problem."""
    if hostvars is None:
        raise AnsibleFilterError("kafka_confluent_layout needs hostvars=hostvars")
    registry = _group(groups, hostvars, "schema_registry", _SCHEMA_REGISTRY)
    ksqldb = _group(groups, hostvars, "ksqldb", _KSQLDB)
    tls_required = bool(tls_required)
    if isinstance(brokers, str) and brokers.strip().isdigit():
        brokers = int(brokers)
    if not isinstance(brokers, int) or isinstance(brokers, bool):
        raise cf.ConfluentError("brokers must be the number of brokers, got %r" % (brokers,))

    def urls(hosts, port_key, tls_key, port):
        found = []
        for name in sorted(hosts):
            info = hosts[name]
            tls = info.get(tls_key)
            tls = tls_required if tls is None else bool(tls)
            address = info["address"]
            address = "[%s]" % address if ":" in address and not address.startswith("[") else address
            found.append("%s://%s:%s" % ("https" if tls else "http", address, info.get(port_key, port)))
        return found

    return {
        "schema_registry_urls": urls(registry, "schema_registry_port", "schema_registry_rest_tls", 8081),
        "ksqldb_urls": urls(ksqldb, "ksqldb_port", "ksqldb_rest_tls", 8088),
        "errors": cf.schema_registry_errors(registry, brokers, tls_required)
        + cf.ksqldb_errors(ksqldb, brokers, tls_required),
    }


def kafka_schema_registry_properties(spec):
    """The properties of a Schema Registry instance."""
    return cf.schema_registry_properties(spec)


def kafka_ksqldb_properties(spec):
    """The properties of a ksqlDB server."""
    return cf.ksqldb_properties(spec)


def kafka_schema_registry_roll_order(hosts, eligible=None, leader=None):
    """The order to restart Schema Registry instances in: never-leaders first, the leader last."""
    return cf.schema_registry_roll_order(list(hosts), eligible or {}, leader)


def kafka_ksqldb_service_id_errors(running, desired):
    """Hosts whose running ksqlDB has another service id than the inventory's."""
    return cf.service_id_change(running or {}, desired)


class FilterModule:
    """kafkaops.platform Schema Registry and ksqlDB filters."""

    def filters(self):
        chosen = (kafka_confluent_layout, kafka_schema_registry_properties, kafka_ksqldb_properties,
                  kafka_schema_registry_roll_order, kafka_ksqldb_service_id_errors)
        return {f.__name__: _wrap(f) for f in chosen}
