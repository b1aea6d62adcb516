# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Checks of the inventory's own text, before any of it is rendered.

Most values the roles read end up in a line-oriented file: a properties file, a JAAS file, zoo.cfg,
a systemd unit. A line break (or any other control character) in one of them would start a new
line there, that is a setting nobody wrote. ``text_errors`` finds every such character in the
role variables of every host, naming the variable and the key inside it, never the value (it may
be a secret). ``secret_properties`` finds the property overrides that hold secrets, so the tasks
that show them hide their output and Kubernetes keeps them in a Secret.

Pure functions of plain data: the filter in plugins/filter/inventory.py hands them each host's
variables.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils._checks import CONTROL as _CONTROL

__all__ = ["InventoryError", "ROLE_PREFIXES", "secret_properties", "text_errors"]

# the variables of the roles of this collection
ROLE_PREFIXES = ("platform_", "kafka_", "zookeeper_", "schema_registry_", "ksqldb_")

# text that never reaches a line-oriented file: SQL, schemas and connector configurations go to
# REST APIs as JSON; the security description is checked, key by key, when it is normalized
# (where PEM content may span lines)
NOT_LINE_ORIENTED = frozenset({"ksqldb_queries", "schema_registry_schemas", "kafka_connect_connectors", "platform_security"})

# dicts of properties written into properties files (escaped there)
PROPERTY_VARIABLES = ("kafka_broker_properties", "kafka_controller_properties", "zookeeper_settings",
                      "kafka_connect_properties", "schema_registry_properties", "ksqldb_properties")
# properties whose value is PEM content, which spans lines; the properties renderer escapes them
PEM_PROPERTIES = frozenset({"ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.certificates"})
# variables of PEM text (CA certificates to trust, written into trust stores; the internal CA handed over)
PEM_VARIABLES = frozenset({"platform_tls_extra_ca_certs", "platform_tls_ca_certificate", "platform_tls_ca_key"})
# Connect's secret files: one properties file per key, the values may be PEM content
CONNECT_SECRETS = "kafka_connect_secrets"
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
# counts, sizes, ports and times: whole numbers from 1 (a port up to 65535; a replication factor
# may be 0, which lets the role pick one); yes/no is not a number
POSITIVE_SUFFIXES = ("_replication_factor", "_limit_nofile", "_port", "_timeout", "_validity_days", "_wait_delay",
                     "_max_moves", "_max_moves_per_broker", "_throttle")
PORT_MAX = 65535
# the environment of a service (``kafka_broker_environment``...): its keys are variable names
ENVIRONMENT_SUFFIX = "_environment"
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# what marks a property key as a secret (the security model's own list, and what the services
# use: Schema Registry's basic auth user info, cloud credentials)
SECRET_KEY = re.compile(r"(password|passphrase|secret|sasl\.jaas\.config|ssl\.keystore\.key|user\.info|credentials?)$"
                        r"|(^|\.)(secret|token|credentials?)(\.|$)", re.IGNORECASE)

_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class InventoryError(ValueError):
    """The variables handed to a check are not what the inventory can hold."""


def _walk(value: Any, path: str) -> Iterator[Tuple[str, Any, bool]]:
    """Every (path, text, is_key) of the strings in ``value``, dict keys included."""
    if isinstance(value, str):
        yield path, value, False
    elif isinstance(value, Mapping):
        for key, item in value.items():
            key_path = "%s[%r]" % (path, key)
            if isinstance(key, str):
                yield key_path, key, True
            yield from _walk(item, key_path)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk(item, "%s[%d]" % (path, index))


def _multiline_allowed(variable: str, path: str, is_key: bool) -> bool:
    if is_key:
        return False
    if variable in PEM_VARIABLES:
        return True
    if variable == CONNECT_SECRETS:
        return path.count("[") >= 2
    if variable in PROPERTY_VARIABLES:
        return any(path.endswith("[%r]" % key) for key in PEM_PROPERTIES)
    return False


def _control(text: str, multiline: bool) -> str:
    found = (_CONTROL_BUT_LINE_BREAKS if multiline else _CONTROL).search(text)
    if found is None:
        return ""
    return "U+%04X at position %d" % (ord(found.group()), found.start())


def _variables(hosts: Any) -> Iterable[Tuple[str, str, Any]]:
    """(host, variable, value) of the role variables of ``hosts`` (host -> variables)."""
    if not isinstance(hosts, Mapping):
        raise InventoryError("expected a mapping of host names to their variables, got %s" % type(hosts).__name__)
    for host in sorted(hosts):
        variables = hosts[host]
        if not isinstance(variables, Mapping):
            raise InventoryError("the variables of %s are not a mapping but %s" % (host, type(variables).__name__))
        for name in sorted(k for k in variables if isinstance(k, str) and k.startswith(ROLE_PREFIXES)):
            yield host, name, variables[name]


def _number_problem(variable: str, value: Any) -> str:
    """Why ``value`` is no count for ``variable`` (one named like one), or ``""``."""
    if not variable.endswith(POSITIVE_SUFFIXES) or value is None:
        return ""
    number = value
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int):
        return "%s must be a whole number, got %r" % (variable, value)
    lowest = 0 if variable.endswith("_replication_factor") else 1
    if number < lowest:
        return "%s must be at least %d, got %d" % (variable, lowest, number)
    if variable.endswith("_port") and number > PORT_MAX:
        return "%s must be a port number (1 to %d), got %d" % (variable, PORT_MAX, number)
    return ""


def _grouped(found: Dict[str, List[str]]) -> List[str]:
    """``host1, host2: message`` for each message, hosts in inventory order."""
    return ["%s: %s" % (", ".join(hosts), message) for message, hosts in found.items()]


def text_errors(hosts: Any) -> List[str]:
    """A message for every control character in the role variables of ``hosts`` (a mapping of host
    name to that host's variables), naming the host(s), the variable and the key, and a message for
    every Connect secret file name that is not a plain file name, every environment variable name
    (in ``*_environment``) that is not one, and every count, port, limit or time (named ``*_port``,
    ``*_replication_factor``, ``*_limit_nofile``, ``*_timeout``...) that is not a whole number from 1. Line breaks are allowed only in
    PEM content (the PEM properties, Connect's secret values). The values themselves are never
    shown: they may be secrets."""
    found: Dict[str, List[str]] = {}
    for host, variable, value in _variables(hosts):
        problem = _number_problem(variable, value)
        if problem:
            found.setdefault(problem, []).append(host)
        if variable in NOT_LINE_ORIENTED:
            continue
        for path, text, is_key in _walk(value, variable):
            where = _control(text, _multiline_allowed(variable, path, is_key))
            if where:
                message = ("%s %s a control character (%s): values written into properties files, JAAS lines, "
                           "zoo.cfg and systemd units must be one line of printable text"
                           % (path, "is a key with" if is_key else "contains", where))
                found.setdefault(message, []).append(host)
        if variable.endswith(ENVIRONMENT_SUFFIX) and isinstance(value, Mapping):
            for key in value:
                if not isinstance(key, str) or not VARIABLE_NAME.fullmatch(key):
                    message = ("%s[%r] is not an environment variable name: use letters, digits and _, "
                               "not starting with a digit" % (variable, key))
                    found.setdefault(message, []).append(host)
        if variable == CONNECT_SECRETS and isinstance(value, Mapping):
            for key in value:
                if not isinstance(key, str) or not FILE_NAME.fullmatch(key):
                    message = ("%s[%r] names a file (<key>.properties): use up to 128 letters, digits, '.', '_' and '-', "
                               "not starting with '.' or '-'" % (variable, key))
                    found.setdefault(message, []).append(host)
    return _grouped(found)


def is_secret_key(key: Any, marked: Iterable[str] = ()) -> bool:
    """True when a property key names a secret, or the user marked it as one."""
    return isinstance(key, str) and (key in set(marked) or bool(SECRET_KEY.search(key)))


def secret_properties(hosts: Any, marked: Any = None) -> List[str]:
    """The property overrides of ``hosts`` that hold secrets (``host: variable['key']``): keys that
    name a password, a JAAS line, a private key, a secret or credentials, and the keys listed in
    ``marked`` (``platform_secret_properties``)."""
    if marked is None:
        marked = []
    if isinstance(marked, str) or not isinstance(marked, (list, tuple)):
        raise InventoryError("platform_secret_properties must be a list of property names, got %s" % type(marked).__name__)
    found: Dict[str, List[str]] = {}
    for host, variable, value in _variables(hosts):
        if variable not in PROPERTY_VARIABLES or not isinstance(value, Mapping):
            continue
        for key in value:
            if is_secret_key(key, marked):
                found.setdefault("%s[%r]" % (variable, key), []).append(host)
    return _grouped(found)
