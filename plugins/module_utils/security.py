# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The security model of a Kafka platform: one description, every component's configuration.

A single dictionary (the Ansible variable ``platform_security``) describes the listeners,
TLS material, SASL mechanisms, identities, authorizer and ZooKeeper security of a cluster.
:func:`normalize` validates it and returns its canonical form; the other functions derive
the configuration of each process from it:

* :func:`server_properties` - ``server.properties`` security keys of one broker/controller;
* :func:`client_properties` - property sets of Kafka clients (admin tools, Connect,
  Schema Registry, ksqlDB, plain producers and consumers);
* :func:`kafka_python_client_config` - keyword arguments of the kafka-python client;
* :func:`zookeeper_properties` and :func:`jaas_file` - ZooKeeper server settings and the
  JAAS files that ZooKeeper SASL needs;
* :func:`scram_credentials` - SCRAM users created when KRaft storage is formatted;
* :func:`secret_values` - every secret of the description, to check logs against;
* :func:`listener_port`, :func:`process_ports`, :func:`tls_files` and :func:`bootstrap_servers` -
  the port of the listener that serves a role, the ports a process listens on, the files a
  host must have, and the servers the control node's admin client bootstraps from.

Pure standard library, no Ansible imports: the functions are tested with plain pytest.
Every function takes the raw description and normalizes it itself, so a caller never
has to remember to call :func:`normalize` first (normalizing twice gives the same result).
The exceptions take the canonical form, for code that already holds it (the Kubernetes
objects): :func:`find_listener`, :func:`listener_named`, :func:`role_listener`,
:func:`served_listeners` and :func:`effective_tls`.

This module is the public face; the code lives in the private package ``_security``
(see its ``__init__`` for what is where).
"""

from __future__ import annotations

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    AUTHENTICATIONS,
    CLIENT_KINDS,
    DEFAULT_SECURITY,
    HOST_PLACEHOLDER,
    IDENTITY_NAMES,
    KRAFT_AUTHORIZER,
    LOGIN_MODULES,
    OAUTH_ALLOWED_URLS_PROPERTY,
    OAUTH_LOGIN_HANDLER,
    OAUTH_VALIDATOR_HANDLER,
    PROTOCOLS,
    ROLES,
    ROOT,
    SASL_MECHANISMS,
    SASL_PROTOCOLS,
    SCRAM_MECHANISMS,
    STORE_TYPES,
    TLS_PROTOCOLS,
    ZK_DIGEST_LOGIN_MODULE,
    ZK_NETTY_CLIENT,
    ZK_NETTY_SERVER,
    ZK_SASL_PROVIDER,
    ZK_X509_PROVIDER,
    ZOOKEEPER_AUTHORIZER,
    SecurityConfigError,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.clients import (
    client_properties,
    kafka_python_client_config,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.endpoints import (
    TARGETS,
    bootstrap_servers,
    listener_port,
    process_ports,
    tls_files,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.listeners import (
    LISTENER_ROLES,
    effective_tls,
    find_listener,
    listener_named,
    role_listener,
    served_listeners,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.normalize import normalize
from ansible_collections.kafkaops.platform.plugins.module_utils._security.render import format_host
from ansible_collections.kafkaops.platform.plugins.module_utils._security.secrets import (
    is_secret_property,
    jvm_system_properties,
    scram_credentials,
    secret_values,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.server import server_properties
from ansible_collections.kafkaops.platform.plugins.module_utils._security.zookeeper import jaas_file, zookeeper_properties

__all__ = [
    "AUTHENTICATIONS",
    "CLIENT_KINDS",
    "DEFAULT_SECURITY",
    "HOST_PLACEHOLDER",
    "IDENTITY_NAMES",
    "KRAFT_AUTHORIZER",
    "LISTENER_ROLES",
    "LOGIN_MODULES",
    "OAUTH_ALLOWED_URLS_PROPERTY",
    "OAUTH_LOGIN_HANDLER",
    "OAUTH_VALIDATOR_HANDLER",
    "PROTOCOLS",
    "ROLES",
    "ROOT",
    "SASL_MECHANISMS",
    "SASL_PROTOCOLS",
    "SCRAM_MECHANISMS",
    "STORE_TYPES",
    "TARGETS",
    "TLS_PROTOCOLS",
    "ZK_DIGEST_LOGIN_MODULE",
    "ZK_NETTY_CLIENT",
    "ZK_NETTY_SERVER",
    "ZK_SASL_PROVIDER",
    "ZK_X509_PROVIDER",
    "ZOOKEEPER_AUTHORIZER",
    "SecurityConfigError",
    "bootstrap_servers",
    "client_properties",
    "effective_tls",
    "find_listener",
    "format_host",
    "is_secret_property",
    "jaas_file",
    "jvm_system_properties",
    "kafka_python_client_config",
    "listener_named",
    "listener_port",
    "normalize",
    "process_ports",
    "role_listener",
    "scram_credentials",
    "secret_values",
    "served_listeners",
    "server_properties",
    "tls_files",
    "zookeeper_properties",
]
