# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Constants of the security model, its error, and the checks of single values.

Every check takes the value and its path in the description (``platform_security.tls.keystore``)
and raises :class:`SecurityConfigError` naming that path.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Any, Dict, Iterable, List, NoReturn, Optional, Pattern

from ansible_collections.kafkaops.platform.plugins.module_utils._checks import CONTROL as _CHECKS_CONTROL

ROOT = "platform_security"

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
TLS_PROTOCOLS = ("SSL", "SASL_SSL")
SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")

# authentication value (as written in the description) -> Kafka SASL mechanism name
SASL_MECHANISMS = {
    "plain": "PLAIN",
    "scram-sha-256": "SCRAM-SHA-256",
    "scram-sha-512": "SCRAM-SHA-512",
    "oauthbearer": "OAUTHBEARER",
    "gssapi": "GSSAPI",
}
AUTHENTICATIONS = ("none", "mtls") + tuple(SASL_MECHANISMS)
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")

LOGIN_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "OAUTHBEARER": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule",
    "GSSAPI": "com.sun.security.auth.module.Krb5LoginModule",
}
OAUTH_LOGIN_HANDLER = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"
OAUTH_VALIDATOR_HANDLER = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler"
KRAFT_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
ZOOKEEPER_AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"
ZK_DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule"
ZK_NETTY_SERVER = "org.apache.zookeeper.server.NettyServerCnxnFactory"
ZK_NETTY_CLIENT = "org.apache.zookeeper.ClientCnxnSocketNetty"
ZK_X509_PROVIDER = "org.apache.zookeeper.server.auth.X509AuthenticationProvider"
ZK_SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
OAUTH_ALLOWED_URLS_PROPERTY = "org.apache.kafka.sasl.oauthbearer.allowed.urls"

STORE_TYPES = ("PKCS12", "JKS", "PEM")
CLIENT_KINDS = ("admin", "producer", "consumer", "connect", "schema_registry", "ksqldb")
ROLES = ("broker", "controller")
IDENTITY_NAMES = ("broker", "controller", "admin")
HOST_PLACEHOLDER = "{host}"

DEFAULT_SECURITY = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT", "authentication": "none"},
        {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT", "authentication": "none"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT", "authentication": "none"},
    ],
    "inter_broker_listener": "INTERNAL",
    "controller_listener": "CONTROLLER",
}

# the canonical form (see normalize) and its parts: plain dicts whose keys are all present
Canonical = Dict[str, Any]
Listener = Dict[str, Any]
Store = Dict[str, Any]
Identity = Dict[str, Any]
Properties = Dict[str, str]

# every pattern is used with fullmatch: ``$`` would accept a final newline
LISTENER_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
PRINCIPAL = re.compile(r"[A-Za-z][A-Za-z0-9_-]*:[^;,\x00-\x1f\x7f-\x9f]+")
USERNAME = re.compile(r"[^\s,;=\"\\\x00-\x1f\x7f-\x9f]+")
# the C0 and C1 control characters and DEL: a line break in a value would start a new line of a
# properties file, a JAAS file, zoo.cfg or a systemd unit
CONTROL = _CHECKS_CONTROL
# PEM content spans lines: these may hold line breaks (the renderers escape them), nothing else
PEM_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HOST_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


class SecurityConfigError(ValueError):
    """The security description is invalid; the message names the key and what to fix."""


def fail(path: str, message: str) -> NoReturn:
    """Raise :class:`SecurityConfigError` for the key at ``path``."""
    raise SecurityConfigError("%s: %s" % (path, message))


def as_mapping(value: Any, path: str, allowed: Iterable[str]) -> Dict[str, Any]:
    """Check that ``value`` is a mapping whose keys are all in ``allowed``; return a dict."""
    allowed = tuple(allowed)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        fail(path, "must be a mapping, got %s" % type(value).__name__)
    for key in value:
        if not isinstance(key, str):
            fail(path, "keys must be strings, got %r" % (key,))
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.75)
            hint = " (did you mean %s?)" % close[0] if close else ""
            fail("%s.%s" % (path, key), "unknown key%s; valid keys: %s" % (hint, ", ".join(sorted(allowed))))
    return dict(value)


def control_character(text: str, multiline: bool = False) -> Optional[str]:
    """A description of the first control character in ``text`` (``U+000A at position 5``), or
    ``None``; with ``multiline``, line breaks are allowed (PEM content)."""
    found = (PEM_CONTROL if multiline else CONTROL).search(text)
    if found is None:
        return None
    return "U+%04X at position %d" % (ord(found.group()), found.start())


def as_string(value: Any, path: str, required: bool = False, allow_empty: bool = False,
              multiline: bool = False) -> Optional[str]:
    """A string of one line (of several with ``multiline``: PEM content), or ``None`` when absent
    and not ``required``."""
    if value is None:
        if required:
            fail(path, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        fail(path, "must be a string, got %s" % type(value).__name__)
    if not value and not allow_empty:
        fail(path, "must not be empty")
    found = control_character(value, multiline)
    if found is not None:
        fail(path, "contains a control character (%s); give one line of printable text" % found)
    return value


def valid_host(text: str) -> bool:
    """A host name (letters, digits, ``-`` and ``_`` in dot-separated labels of up to 63, 253 in
    all, the last one not all digits) or an IP address (IPv6 with or without brackets)."""
    literal = text[1:-1] if text[:1] == "[" and text[-1:] == "]" else text
    try:
        ipaddress.ip_address(literal)
        return True
    except ValueError:
        pass
    if literal != text or len(text) > 253:
        return False
    labels = text[:-1].split(".") if text.endswith(".") else text.split(".")
    return all(_HOST_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def as_host(value: Any, path: str, allow_empty: bool = False) -> Optional[str]:
    """A host name or an IP address, ``None`` when absent."""
    text = as_string(value, path, allow_empty=allow_empty)
    if text and not valid_host(text):
        fail(path, "%r is not a host name or an IP address" % text)
    return text


def required_string(value: Any, path: str) -> str:
    """A string that must be present and not empty."""
    text = as_string(value, path, required=True)
    if text is None:  # as_string has already failed; this keeps the type checker informed
        fail(path, "is required")
    return text


def as_secret(value: Any, path: str, required: bool = False) -> Optional[str]:
    """A secret string: never echoed in messages."""
    if value is None:
        if required:
            fail(path, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        fail(path, "must be a string (quote numbers in YAML), got %s" % type(value).__name__)
    if not value:
        fail(path, "must not be empty")
    if CONTROL.search(value):
        fail(path, "must not contain control characters such as newlines")
    return value


def as_boolean(value: Any, path: str, default: bool) -> bool:
    """A boolean, ``default`` when absent."""
    if value is None:
        return default
    if not isinstance(value, bool):
        fail(path, "must be true or false, got %r" % (value,))
    return value


def as_port(value: Any, path: str, required: bool = True) -> Optional[int]:
    """A TCP port (digit strings are accepted), ``None`` when absent and not ``required``."""
    if value is None:
        if required:
            fail(path, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        else:
            fail(path, "must be a port number, got %r" % (value,))
    if not 1 <= value <= 65535:
        fail(path, "must be between 1 and 65535, got %d" % value)
    return value


def as_string_list(value: Any, path: str, pattern: Optional[Pattern[str]] = None, what: str = "entry") -> List[str]:
    """A list of strings (one string counts as a list of one), each matching ``pattern`` if given."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        fail(path, "must be a list of strings")
    result = []
    for index, item in enumerate(value):
        item_path = "%s[%d]" % (path, index)
        text = required_string(item, item_path)
        if pattern is not None and not pattern.fullmatch(text):
            fail(item_path, "%r is not a valid %s" % (text, what))
        result.append(text)
    return result


def check_no_placeholder(value: Optional[str], path: str) -> None:
    """Refuse ``{host}`` where it is not replaced."""
    if value is not None and HOST_PLACEHOLDER in value:
        fail(path, "%s is only replaced in file paths and Kerberos principals" % HOST_PLACEHOLDER)
