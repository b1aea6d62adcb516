# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Filters exposing the security model (plugins/module_utils/security.py) to playbooks.

Each filter takes the ``platform_security`` description as its input and keyword
arguments only; documentation lives in the sidecar ``<filter name>.yml`` files.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kafkaops.platform.plugins.module_utils import security


def _call(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except security.SecurityConfigError as error:
        raise AnsibleFilterError(str(error)) from error


def kafka_security_normalize(description):
    """Validate ``platform_security`` and return its canonical form."""
    return _call(security.normalize, description)


def kafka_server_properties(description, *, node):
    """Security properties of one Kafka broker/controller process."""
    return _call(security.server_properties, description, node)


def kafka_client_properties(description, *, client, listener=None, identity=None, host=None):
    """Client properties for admin tools, Connect, Schema Registry, ksqlDB, producers and consumers."""
    return _call(security.client_properties, description, client, listener=listener, identity=identity, host=host)


def kafka_zookeeper_security_properties(description, *, node=None):
    """ZooKeeper server (zoo.cfg) security settings."""
    return _call(security.zookeeper_properties, description, node)


def kafka_zookeeper_jaas(description, *, process):
    """JAAS file content for ZooKeeper digest authentication (zookeeper or kafka), or ""."""
    return _call(security.jaas_file, description, process)


def kafka_scram_credentials(description):
    """SCRAM users to add when KRaft storage is formatted."""
    return _call(security.scram_credentials, description)


class FilterModule:
    """Security filters of kafkaops.platform."""

    def filters(self):
        return {
            "kafka_security_normalize": kafka_security_normalize,
            "kafka_server_properties": kafka_server_properties,
            "kafka_client_properties": kafka_client_properties,
            "kafka_zookeeper_security_properties": kafka_zookeeper_security_properties,
            "kafka_scram_credentials": kafka_scram_credentials,
            "kafka_zookeeper_jaas": kafka_zookeeper_jaas,
        }
