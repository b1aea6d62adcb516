# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Ports, files and addresses as the playbooks ask for them: the ports a process listens on, the port
of the controller or admin listener, the TLS files a host must have, the bootstrap servers of the
control node's admin client.

Each function takes the raw description and normalizes it itself, like the rest of the model;
the answers come from ``listeners``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, List, Optional

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    HOST_PLACEHOLDER,
    TLS_PROTOCOLS,
    SecurityConfigError,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.listeners import (
    check_role,
    effective_tls,
    role_listener,
    served_listeners,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.normalize import normalize

TARGETS = ("vm", "kubernetes", "openshift")


def listener_port(description: Any, role: str = "controller", advertised: bool = False) -> int:
    """The port of the listener that serves ``role`` (controller, inter_broker, client, admin);
    with ``advertised``, the port clients are told (``advertised_port``)."""
    check_role(role)  # before the description, as the filter always has
    listener = role_listener(normalize(description), role)
    return int(listener["advertised_port"] if advertised else listener["port"])


def process_ports(description: Any, roles: Sequence[str]) -> List[int]:
    """The ports a Kafka process with ``roles`` listens on, sorted (see :func:`served_listeners`)."""
    return sorted(int(lsn["port"]) for lsn in served_listeners(normalize(description), roles))


def tls_files(description: Any, host: Optional[Any] = None) -> List[str]:
    """The files on a host that the TLS listeners read (key and trust store files, and the Kerberos
    keytab), sorted, with ``{host}`` filled in when ``host`` is given; inline PEM is no file."""
    sec = normalize(description)
    paths = []
    for listener in sec["listeners"]:
        if listener["protocol"] not in TLS_PROTOCOLS:
            continue
        for store in effective_tls(sec, listener):
            if store and store.get("path"):
                paths.append(_with_host(store["path"], host))
    if sec.get("kerberos") and sec["kerberos"].get("keytab"):
        paths.append(_with_host(sec["kerberos"]["keytab"], host))
    return sorted(set(paths))


def _with_host(path: str, host: Optional[Any]) -> str:
    return path.replace(HOST_PLACEHOLDER, str(host)) if host is not None else path


def bootstrap_servers(topology: Any, description: Any, target: str = "vm", override: Any = None) -> List[str]:
    """The bootstrap servers (``host:port``) through which the control node's admin client reaches the brokers.

    ``topology``: the cluster topology (its ``brokers`` are used) or the broker entries themselves
    (a list, or any iterable such as a Jinja filter's result), each with an ``address``; the port
    is the admin listener's advertised port. On Kubernetes and OpenShift (``target`` other than
    ``vm``) a non-empty ``override`` (a list, or a comma-separated string, of ``host:port``)
    replaces them - the route from outside the cluster - and the description is not read.
    """
    if target not in TARGETS:
        raise SecurityConfigError("target must be one of %s, got %r" % (", ".join(TARGETS), target))
    if target != "vm":
        servers = _server_list(override)
        if servers:
            return servers
    brokers = topology.get("brokers") if isinstance(topology, Mapping) else topology
    if isinstance(brokers, (str, bytes)) or not isinstance(brokers, Iterable):
        raise SecurityConfigError("topology must be the cluster topology or a list of its brokers, got %s"
                                  % type(brokers).__name__)
    port = listener_port(description, "admin", advertised=True)
    addresses = []
    for index, broker in enumerate(brokers):
        address = broker.get("address") if isinstance(broker, Mapping) else None
        if not address:
            raise SecurityConfigError("brokers[%d] has no address" % index)
        addresses.append("%s:%d" % (address, port))
    return addresses


def _server_list(override: Any) -> List[str]:
    """``host:port`` entries of an override: a list, or a comma-separated string."""
    if override is None:
        return []
    if isinstance(override, str):
        return [part.strip() for part in override.split(",") if part.strip()]
    if not isinstance(override, Sequence) or not all(isinstance(server, str) for server in override):
        raise SecurityConfigError("override must be a list of host:port strings, got %r" % (override,))
    return list(override)
