# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Secrets and bootstrap data: the SCRAM users KRaft storage is formatted with, every secret of the
description (to keep out of logs), which property keys are secret, and the JVM system properties."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    IDENTITY_NAMES,
    OAUTH_ALLOWED_URLS_PROPERTY,
    ROOT,
    SCRAM_MECHANISMS,
    Properties,
    Store,
    fail,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.listeners import sasl_mechanisms
from ansible_collections.kafkaops.platform.plugins.module_utils._security.normalize import normalize

SECRET_SUFFIXES = (
    ".password",
    "sasl.jaas.config",
    "ssl.keystore.key",
    "client.credentials.client.secret",
    "passphrase",
)


def _scram_safe(value: str, path: str) -> None:
    if "," in value or value != value.strip() or (value.startswith('"') and value.endswith('"')):
        fail(path, "kafka-storage --add-scram splits on commas and trims spaces and quotes: "
                   "a SCRAM name or password cannot contain a comma nor begin or end with a space or a double quote")


def scram_credentials(description: Any) -> List[Dict[str, Any]]:
    """SCRAM users to create when KRaft storage is formatted (``kafka-storage format --add-scram``).

    One entry per user and SCRAM mechanism used by any listener: ``{"mechanism",
    "username", "argument", "no_log": True}``; ``argument`` holds the password, so pass
    it with ``no_log``.
    """
    sec = normalize(description)
    mechanisms: List[str] = []
    for listener in sec["listeners"]:
        for mechanism in sasl_mechanisms(listener):
            if mechanism in SCRAM_MECHANISMS and mechanism not in mechanisms:
                mechanisms.append(mechanism)
    result = []
    creds = sec["credentials"]
    entries = [("%s.credentials.%s" % (ROOT, n), creds[n]) for n in IDENTITY_NAMES]
    entries += [("%s.credentials.users[%d]" % (ROOT, i), u) for i, u in enumerate(creds["users"])]
    seen = set()
    for path, identity in entries:
        if identity is None or identity["username"] is None or identity["username"] in seen:
            continue
        seen.add(identity["username"])
        _scram_safe(identity["username"], path + ".username")
        _scram_safe(identity["password"], path + ".password")
        for mechanism in mechanisms:
            result.append({
                "mechanism": mechanism,
                "username": identity["username"],
                "argument": "%s=[name=%s,password=%s]" % (mechanism, identity["username"], identity["password"]),
                "no_log": True,
            })
    return result


def secret_values(description: Any) -> List[str]:
    """Every secret string of the description (passwords, client secrets, private keys)."""
    sec = normalize(description)
    secrets: List[str] = []

    def add(value: Optional[str]) -> None:
        if value and value not in secrets:
            secrets.append(value)

    def store(value: Optional[Store]) -> None:
        if value is not None:
            for key in ("password", "key_password", "key"):
                add(value.get(key))

    store(sec["tls"]["keystore"])
    store(sec["tls"]["truststore"])
    for listener in sec["listeners"]:
        if listener["tls"]:
            store(listener["tls"]["keystore"])
            store(listener["tls"]["truststore"])
    creds = sec["credentials"]
    for identity in [creds[n] for n in IDENTITY_NAMES] + creds["users"]:
        if identity is not None:
            add(identity["password"])
            add(identity["client_secret"])
            store(identity["keystore"])
    zk = sec["zookeeper"]
    store(zk["keystore"])
    store(zk["truststore"])
    for identity in zk["credentials"].values():
        if identity is not None:
            add(identity["password"])
    return secrets


def is_secret_property(key: str) -> bool:
    """True when a generated property key carries a secret (mark it no_log, hide it in diffs)."""
    return key.endswith(SECRET_SUFFIXES)


def jvm_system_properties(description: Any) -> Properties:
    """JVM system properties (``-Dkey=value``) the Kafka processes need for this description.

    Kafka 4.0 and later refuse OAuth endpoints that are not listed in
    ``org.apache.kafka.sasl.oauthbearer.allowed.urls``.
    """
    sec = normalize(description)
    props = {}
    oauth = sec["oauthbearer"]
    if oauth is not None:
        urls = [u for u in (oauth["jwks_endpoint_url"], oauth["token_endpoint_url"]) if u]
        if urls:
            props[OAUTH_ALLOWED_URLS_PROPERTY] = ",".join(urls)
    return props
