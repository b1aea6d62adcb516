# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Pieces of property values shared by servers and clients: JAAS lines, key and trust store
properties, TLS settings, ``{host}`` substitution and host formatting."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    CONTROL,
    HOST_PLACEHOLDER,
    Properties,
    Store,
    fail,
)


def quote(value: str, path: str) -> str:
    """A JAAS option value in double quotes, escaped for Kafka's JAAS parser."""
    if CONTROL.search(value):
        fail(path, "must not contain control characters")
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def jaas(module: str, options: Sequence[Tuple[str, str]]) -> str:
    """One ``sasl.jaas.config`` value: the login module, ``required`` and the options."""
    parts = [module, "required"]
    for key, value in options:
        parts.append("%s=%s" % (key, value if value in ("true", "false") else quote(value, key)))
    return " ".join(parts) + ";"


def kerberos_options(principal: str, keytab: str) -> List[Tuple[str, str]]:
    """The Krb5LoginModule options that log in with a keytab."""
    return [("useKeyTab", "true"), ("storeKey", "true"), ("keyTab", keytab), ("principal", principal)]


def substitute(value: Optional[str], host: Optional[str], path: str) -> Optional[str]:
    """``value`` with ``{host}`` replaced by ``host``; fails when it needs a host and has none."""
    if value is None or HOST_PLACEHOLDER not in value:
        return value
    if not host:
        fail(path, "uses %s but no host was given" % HOST_PLACEHOLDER)
    return value.replace(HOST_PLACEHOLDER, host)


def format_host(host: str) -> str:
    """A host as it goes before ``:port`` (an IPv6 address in brackets)."""
    if ":" in host and not host.startswith("["):
        return "[%s]" % host
    return host


def store_properties(prefix: str, keystore: Optional[Store], truststore: Optional[Store], host: Optional[str],
                     path: str) -> Properties:
    """``ssl.keystore.*`` and ``ssl.truststore.*`` properties (files or inline PEM), keys prefixed with ``prefix``."""
    props: Dict[str, Any] = {}
    if keystore is not None:
        if keystore["path"] is not None:
            props[prefix + "ssl.keystore.location"] = substitute(keystore["path"], host, path + ".keystore.path")
        else:
            props[prefix + "ssl.keystore.certificate.chain"] = keystore["certificate_chain"]
            props[prefix + "ssl.keystore.key"] = keystore["key"]
        props[prefix + "ssl.keystore.type"] = keystore["type"]
        if keystore["password"] is not None:
            props[prefix + "ssl.keystore.password"] = keystore["password"]
        if keystore["key_password"] is not None:
            props[prefix + "ssl.key.password"] = keystore["key_password"]
    if truststore is not None:
        if truststore["path"] is not None:
            props[prefix + "ssl.truststore.location"] = substitute(truststore["path"], host, path + ".truststore.path")
        else:
            props[prefix + "ssl.truststore.certificates"] = truststore["certificates"]
        props[prefix + "ssl.truststore.type"] = truststore["type"]
        if truststore["password"] is not None:
            props[prefix + "ssl.truststore.password"] = truststore["password"]
    return props


def tls_common(tls: Dict[str, Any]) -> Properties:
    """Endpoint identification, protocols and cipher suites of the global ``tls`` section."""
    props = {"ssl.endpoint.identification.algorithm": "https" if tls["endpoint_identification"] else ""}
    if tls["protocols"]:
        props["ssl.enabled.protocols"] = ",".join(tls["protocols"])
    if tls["cipher_suites"]:
        props["ssl.cipher.suites"] = ",".join(tls["cipher_suites"])
    return props


def describe_store(store: Store) -> str:
    """A store as an error message names it (``a PKCS12 file``, ``inline PEM``)."""
    return "a %s file" % store["type"] if store["path"] else "inline PEM"
