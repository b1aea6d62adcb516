# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Filters for the services in front of Kafka - Kafka Connect, Schema Registry, ksqlDB: what the
inventory says of them, their properties and checks, the order to restart them in."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kafkaops.platform.plugins.module_utils import _checks
from ansible_collections.kafkaops.platform.plugins.module_utils import confluent as cf
from ansible_collections.kafkaops.platform.plugins.module_utils import connect_cluster as cc
from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils import security as sec

# the variables each group is described by (read from every host of the group)
_CONNECT = ("kafka_connect_cluster", "kafka_connect_group_id", "kafka_connect_config_topic",
            "kafka_connect_offset_topic", "kafka_connect_status_topic", "kafka_connect_replication_factor",
            "kafka_connect_rest_port", "kafka_connect_rest_tls", "kafka_connect_keystore_password",
            "kafka_connect_rest_users", "kafka_connect_rest_user")
_SCHEMA_REGISTRY = ("schema_registry_group_id", "schema_registry_topic", "schema_registry_replication_factor",
                    "schema_registry_port", "schema_registry_rest_tls", "schema_registry_leader_eligible",
                    "schema_registry_keystore_password", "schema_registry_rest_users", "schema_registry_rest_user")
_KSQLDB = ("ksqldb_service_id", "ksqldb_replication_factor", "ksqldb_port", "ksqldb_rest_tls",
           "ksqldb_schema_registry_url", "ksqldb_queries_file", "ksqldb_keystore_password", "ksqldb_rest_users",
           "ksqldb_rest_user")


# the errors of the module_utils these filters call: each says what to fix, and becomes an AnsibleFilterError
ERRORS = (cc.ConnectError, cf.ConfluentError, props.PropertiesError, sec.SecurityConfigError)


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


def _group(name, groups, hostvars, group, keys, error):
    """Each host of ``group`` with the ``keys`` it sets and its address."""
    if hostvars is None:
        raise AnsibleFilterError("%s needs hostvars=hostvars" % name)
    group = _checks.text(group, "the group name", error)
    members = _checks.sequence(_checks.mapping(groups, "groups", error).get(group), "groups[%r]" % group, error, optional=True)
    _checks.mapping(hostvars, "hostvars", error)
    hosts = {}
    for host in members:
        _checks.text(host, "a host of the group %s" % group, error)
        if host not in hostvars:
            raise error("hostvars has no host %s (pass hostvars=hostvars)" % host)
        hvars = _checks.mapping(hostvars[host], "hostvars[%r]" % host, error)
        hosts[host] = {key: hvars[key] for key in keys if key in hvars}
        hosts[host]["address"] = hvars.get("platform_host_address") or host
    return hosts


def _count(value, what, error=cc.ConnectError):
    """A count given as an integer or as a string of digits."""
    number = _checks.strict_int(value)
    if number is None or number < 0:
        raise error("%s must be the number of %s, got %r" % (what, what, value))
    return number


def kafka_connect_clusters(groups, hostvars=None, brokers=0, min_insync_replicas=None, rest_tls=False,
                           group="kafka_connect"):
    """The Connect clusters of the inventory and every problem with them."""
    hosts = _group("kafka_connect_clusters", groups, hostvars, group, _CONNECT, cc.ConnectError)
    # a min.insync.replicas that is no integer is the preflight's to report (kafka_preflight_errors)
    min_isr = _checks.strict_int(min_insync_replicas)
    return cc.connect_clusters(hosts, _count(brokers, "brokers"), min_isr, _flag(rest_tls, "rest_tls", cc.ConnectError))


def kafka_connect_plugins(plugins, repository="", root="/opt/kafka-connect/plugins"):
    """The declared plugins as install steps, one directory per plugin version."""
    repository = _checks.text(repository, "repository (kafka_connect_maven_repository)", cc.ConnectError, optional=True)
    return cc.plugin_sources(plugins, repository=repository, root=root)


def kafka_connect_worker_properties(spec):
    """A Connect worker's properties: defaults, cluster, security and overrides."""
    return cc.worker_properties(spec)


def kafka_connect_rest_auth(users, directory):
    """The files and JVM option of HTTP basic authentication on a worker's REST API."""
    return cc.rest_auth(users, directory)


def kafka_confluent_rest_auth(users, role, directory, version):
    """The files, JVM option and properties of HTTP basic authentication on Schema Registry's or ksqlDB's REST API."""
    return cf.rest_auth(role, users, directory, version)


def kafka_confluent_layout(groups, hostvars=None, brokers=0, tls_required=False):
    """Schema Registry and ksqlDB of the inventory: their REST URLs and every problem."""
    registry = _group("kafka_confluent_layout", groups, hostvars, "schema_registry", _SCHEMA_REGISTRY, cf.ConfluentError)
    ksqldb = _group("kafka_confluent_layout", groups, hostvars, "ksqldb", _KSQLDB, cf.ConfluentError)
    tls_required = _flag(tls_required, "tls_required", cf.ConfluentError)
    brokers = _count(brokers, "brokers", cf.ConfluentError)
    return {
        "schema_registry_urls": cf.rest_urls(registry, "schema_registry", 8081, tls_required),
        "ksqldb_urls": cf.rest_urls(ksqldb, "ksqldb", 8088, tls_required),
        "errors": cf.schema_registry_errors(registry, brokers, tls_required) + cf.ksqldb_errors(ksqldb, brokers, tls_required),
    }


def kafka_schema_registry_properties(spec):
    """The properties of a Schema Registry instance."""
    return cf.schema_registry_properties(spec)


def kafka_ksqldb_properties(spec):
    """The properties of a ksqlDB server."""
    return cf.ksqldb_properties(spec)


def kafka_schema_registry_roll_order(hosts, eligible=None, leader=None):
    """The order to restart Schema Registry instances in: never-leaders first, the leader last."""
    if isinstance(hosts, Iterable) and not isinstance(hosts, (str, bytes, Mapping)):
        hosts = list(hosts)  # a Jinja filter's result (map, select) is a generator
    return cf.schema_registry_roll_order(hosts, eligible or {}, leader or None)


def kafka_schema_registry_leader_host(leader, urls=None):
    """The host whose instance leads the registry: ``leader`` as kafka_info reads it from the
    registry's group (``schema_registry.leader``), ``urls`` host to REST URL; None when unknown."""
    return cf.schema_registry_leader_host(leader, urls or {})


def kafka_ksqldb_service_id_errors(running, desired):
    """Hosts whose running ksqlDB has another service id than the inventory's."""
    return cf.service_id_change(running or {}, desired)


class FilterModule:
    """kafkaops.platform filters of Kafka Connect, Schema Registry and ksqlDB."""

    def filters(self):
        chosen = (kafka_connect_clusters, kafka_connect_plugins, kafka_connect_worker_properties, kafka_connect_rest_auth,
                  kafka_confluent_rest_auth,
                  kafka_confluent_layout, kafka_schema_registry_properties, kafka_ksqldb_properties,
                  kafka_schema_registry_roll_order, kafka_schema_registry_leader_host, kafka_ksqldb_service_id_errors)
        return {f.__name__: _wrap(f) for f in chosen}
