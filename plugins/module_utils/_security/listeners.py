# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Listeners of the canonical form: which one is which, which ones a process serves, their TLS stores.

The one place that answers these questions for the validation (``normalize``), ``server.properties``,
the Kubernetes objects (container ports, probes, Services) and, through ``endpoints``, the filters.
Every function takes the canonical form (``sec``, what ``normalize`` returns).
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    ROOT,
    SASL_MECHANISMS,
    Canonical,
    Listener,
    SecurityConfigError,
    Store,
)

# the part a listener plays -> the key of the description that names it
LISTENER_ROLES = {
    "controller": "controller_listener",
    "inter_broker": "inter_broker_listener",
    "client": "client_listener",
    "admin": "admin_listener",
}


def find_listener(sec: Canonical, name: Optional[str]) -> Optional[Listener]:
    """The listener called ``name``, or ``None`` (the caller says what is wrong)."""
    for listener in sec["listeners"]:
        if listener["name"] == name:
            return listener
    return None


def listener_named(sec: Canonical, name: Optional[str]) -> Listener:
    """The listener called ``name``; raises :class:`SecurityConfigError` when there is none."""
    listener = find_listener(sec, name)
    if listener is None:
        raise SecurityConfigError("listener %s is not defined in %s.listeners" % (name, ROOT))
    return listener


def listener_path(sec: Canonical, name: str) -> str:
    """Where the listener called ``name`` is in the description (``platform_security.listeners[2]``)."""
    index = next(i for i, lsn in enumerate(sec["listeners"]) if lsn["name"] == name)
    return "%s.listeners[%d]" % (ROOT, index)


def sasl_mechanisms(listener: Listener) -> List[str]:
    """The Kafka SASL mechanisms (``SCRAM-SHA-512``...) of a listener, in the description's order."""
    return [SASL_MECHANISMS[a] for a in listener["authentication"] if a in SASL_MECHANISMS]


def role_listener(sec: Canonical, role: str) -> Listener:
    """The listener that serves ``role``: controller, inter_broker, client or admin."""
    check_role(role)
    return listener_named(sec, sec[LISTENER_ROLES[role]])


def check_role(role: str) -> None:
    """Refuse a ``role`` that is not a key of :data:`LISTENER_ROLES`."""
    if role not in LISTENER_ROLES:
        raise SecurityConfigError("role must be one of %s, got %r" % (", ".join(LISTENER_ROLES), role))


def served_listeners(sec: Canonical, roles: Sequence[str]) -> List[Listener]:
    """The listeners a process with ``roles`` listens on, in the description's order: the controller
    listener for a controller, every other listener for a broker."""
    controller = sec["controller_listener"]
    return [lsn for lsn in sec["listeners"]
            if ("broker" in roles and lsn["name"] != controller) or ("controller" in roles and lsn["name"] == controller)]


def effective_tls(sec: Canonical, listener: Listener) -> Tuple[Optional[Store], Optional[Store]]:
    """Keystore and truststore a listener uses: its own ``tls`` block, else the global one."""
    own = listener["tls"] or {}
    return (own.get("keystore") or sec["tls"]["keystore"], own.get("truststore") or sec["tls"]["truststore"])
