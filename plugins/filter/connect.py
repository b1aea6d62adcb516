# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Filters for Kafka Connect: the clusters of the inventory, the plugins to install, a worker's properties."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kafkaops.platform.plugins.module_utils import connect_cluster as cc

# the variables a Connect cluster is described by (read from every host of the group)
_VARIABLES = ("kafka_connect_cluster", "kafka_connect_group_id", "kafka_connect_config_topic",
              "kafka_connect_offset_topic", "kafka_connect_status_topic", "kafka_connect_replication_factor",
              "kafka_connect_rest_port", "kafka_connect_rest_tls", "kafka_connect_keystore_password")


def _wrap(func):
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except cc.ConnectError as exc:
            raise AnsibleFilterError("%s: %s" % (func.__name__, exc)) from exc
    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    return run


def kafka_connect_clusters(groups, hostvars=None, brokers=0, min_insync_replicas=None, rest_tls=False,
                           group="kafka_connect"):
    """The Connect clusters of the inventory and every problem with them."""
    if hostvars is None:
        raise AnsibleFilterError("kafka_connect_clusters needs hostvars=hostvars")
    hosts = {}
    for name in groups.get(group, []) or []:
        hvars = hostvars[name]
        hosts[name] = {key: hvars[key] for key in _VARIABLES if key in hvars}
        hosts[name]["address"] = hvars.get("platform_host_address") or name
    min_isr = min_insync_replicas
    if isinstance(min_isr, str) and min_isr.strip().isdigit():
        min_isr = int(min_isr)
    if isinstance(brokers, str) and brokers.strip().isdigit():
        brokers = int(brokers)
    if not isinstance(brokers, int) or isinstance(brokers, bool):
        raise cc.ConnectError("brokers must be the number of brokers, got %r" % (brokers,))
    return cc.connect_clusters(hosts, brokers, min_isr, bool(rest_tls))


def kafka_connect_plugins(plugins, repository="", root="/opt/kafka-connect/plugins"):
    """The declared plugins as install steps, one directory per plugin version."""
    return cc.plugin_sources(plugins, repository=repository or "", root=root)


def kafka_connect_worker_properties(spec):
    """A Connect worker's properties: defaults, cluster, security and overrides."""
    return cc.worker_properties(spec)


class FilterModule:
    """kafkaops.platform Kafka Connect filters."""

    def filters(self):
        chosen = (kafka_connect_clusters, kafka_connect_plugins, kafka_connect_worker_properties)
        return {f.__name__: _wrap(f) for f in chosen}
