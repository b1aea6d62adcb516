# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Kafka configuration as data.

Every Kafka process's configuration is one flat dict of properties, merged here from role
defaults, the structural settings of the process (node id, roles, quorum, directories), the
properties generated from the security description, and the user's overrides, in that order.
The result is rendered by :func:`to_java_properties` as sorted ``key=value`` lines, so a template
never holds feature logic and any Kafka property can be set without editing one.

Pure Python: no Ansible imports, unit-tested with plain pytest.
"""
from __future__ import annotations

import base64
import os
import re
from typing import Any, Callable

from ansible_collections.kafkaops.platform.plugins.module_utils._checks import CONTROL as _CONTROL
from ansible_collections.kafkaops.platform.plugins.module_utils._checks import INT32_MAX

__all__ = [
    "PropertiesError",
    "to_java_properties",
    "parse_java_properties",
    "kafka_process_properties",
    "quorum_voters",
    "generate_cluster_id",
    "valid_cluster_id",
]

PROCESS_ROLES = ("broker", "controller")
_KEY = re.compile(r"[A-Za-z0-9_.\-]+")
_CLUSTER_ID = re.compile(r"[A-Za-z0-9_\-]{22}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
# java.util.Properties ends lines at \n, \r and \r\n only, and its white space is space, tab, form feed
_LINE_END = re.compile(r"\r\n|\r|\n")
_WHITE = " \t\f"


class PropertiesError(ValueError):
    """A process description that cannot produce a valid configuration."""


def _value_text(value: Any) -> str:
    """Kafka's text form of a Python value (booleans lower-case, lists comma-separated)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_value_text(v) for v in value)
    if value is None:
        return ""
    return str(value)


def _escape(text: str, is_key: bool) -> str:
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char == "\f":
            out.append("\\f")
        elif (char in "=:" and is_key) or (char in "#!" and index == 0):
            out.append("\\" + char)
        elif char == " " and (is_key or index == 0):
            out.append("\\ ")
        elif ord(char) > 0x7E or ord(char) < 0x20:
            out.append(_unicode_escape(char))
        else:
            out.append(char)
    return "".join(out)


def _unicode_escape(char: str) -> str:
    """``\\uXXXX`` escape(s) of one character; Java strings are UTF-16, so a character above
    U+FFFF becomes its surrogate pair, two escapes."""
    code = ord(char)
    if code <= 0xFFFF:
        return "\\u%04x" % code
    code -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def _comment(line: str) -> str:
    """A header line as a comment, with non-ASCII escaped so that the file stays ASCII
    (``java.util.Properties.load(InputStream)`` reads ISO-8859-1)."""
    return "# " + "".join(c if " " <= c <= "~" or c == "\t" else _unicode_escape(c) for c in line)


def to_java_properties(properties: dict[Any, Any], header: str | None = None) -> str:
    """Render a dict as a Java properties file: sorted keys, values escaped as
    ``java.util.Properties.load`` expects. ``None`` values are left out."""
    if not isinstance(properties, dict):
        raise PropertiesError("properties must be a dict, got %s" % type(properties).__name__)
    lines: list[str] = []
    if header:
        lines.extend(_comment(line) for line in header.splitlines())
    for key in sorted(properties, key=str):
        value = properties[key]
        if value is None:
            continue
        key_text = str(key)
        if not key_text:
            raise PropertiesError("empty property name")
        lines.append("%s=%s" % (_escape(key_text, True), _escape(_value_text(value), False)))
    return "\n".join(lines) + "\n"


def _unescape(text: str) -> str:
    out = []
    index = 0
    simple = {"n": "\n", "r": "\r", "t": "\t", "f": "\f"}
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            nxt = text[index + 1]
            if nxt == "u":
                digits = text[index + 2:index + 6]
                if not _HEX4.fullmatch(digits):
                    raise PropertiesError("malformed \\uXXXX escape: %r" % text[index:index + 6])
                out.append(chr(int(digits, 16)))
                index += 6
                continue
            out.append(simple.get(nxt, nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    # \uD83D\uDE00 (a UTF-16 surrogate pair) is one character; lone surrogates stay as they are
    return "".join(out).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def parse_java_properties(text: str) -> dict[str, str]:
    """Parse the ``key=value`` / ``key: value`` / ``key value`` lines of a properties file
    (comments, blank lines, escapes and continuation lines handled)."""
    result: dict[str, str] = {}
    logical: list[str] = []
    pending = ""
    for raw in _LINE_END.split(text):
        line = raw.lstrip(_WHITE)
        if not pending and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            pending += line[:-1]
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    for line in logical:
        index = 0
        key_chars = []
        while index < len(line):
            char = line[index]
            if char == "\\" and index + 1 < len(line):
                key_chars.append(line[index:index + 2])
                index += 2
                continue
            if char in "=: \t\f":
                break
            key_chars.append(char)
            index += 1
        rest = line[index:].lstrip(_WHITE)
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(_WHITE)
        result[_unescape("".join(key_chars))] = _unescape(rest)
    return result


_DIGITS = re.compile(r"-?[0-9]+")


def _int_field(value: Any, what: str) -> int:
    """An integer given as int or as ASCII decimal digits; bools, fractions and text such as "1_0"
    are refused."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise PropertiesError("%s must be an integer, got %r" % (what, value))
    if isinstance(value, str) and not _DIGITS.fullmatch(value.strip()):
        raise PropertiesError("%s must be an integer, got %r" % (what, value))
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PropertiesError("%s must be an integer, got %r" % (what, value)) from None


def _mapping(value: Any, what: str) -> dict[Any, Any]:
    """A dict, an empty one for None."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PropertiesError("%s must be a mapping of property names to values, got %s" % (what, type(value).__name__))
    return value


def _path(value: Any, what: str) -> str:
    """An absolute path of one line."""
    text = value if isinstance(value, str) else None
    if text is None or not text.startswith("/"):
        raise PropertiesError("%s must be an absolute path: %s" % (what, value))
    if _CONTROL.search(text):
        raise PropertiesError("%s %r contains a control character" % (what, text))
    return text


def _voter(entry: Any, index: int) -> tuple[int, Any, int]:
    if not isinstance(entry, dict):
        raise PropertiesError("controllers[%d] must be a dict with id, address and port, got %r" % (index, entry))
    node_id = _int_field(entry.get("id"), "controllers[%d].id" % index)
    if node_id < 0:
        raise PropertiesError("controllers[%d].id must not be negative, got %d" % (index, node_id))
    if node_id > INT32_MAX:
        raise PropertiesError("controllers[%d].id must be at most %d (Kafka node ids are int32), got %d" % (index, INT32_MAX, node_id))
    port = _int_field(entry.get("port"), "controllers[%d].port (controller %d)" % (index, node_id))
    if not 0 < port < 65536:
        raise PropertiesError("controller %d: port must be 1-65535, got %d" % (node_id, port))
    return node_id, entry.get("address") or entry.get("host"), port


def quorum_voters(controllers: Any) -> str:
    """``controller.quorum.voters`` from ``[{"id": 1, "address": "h1", "port": 9093}, ...]``
    (``host`` is accepted where ``address`` is absent), sorted by id; ids and endpoints must be
    unique."""
    if not isinstance(controllers, (list, tuple)):
        raise PropertiesError("controllers must be a list of {id, address, port}, got %r" % (controllers,))
    seen_ids: dict[int, str] = {}
    seen_endpoints: dict[str, int] = {}
    parts: list[str] = []
    voters = sorted((_voter(entry, index) for index, entry in enumerate(controllers)), key=lambda voter: voter[0])
    for node_id, host, port in voters:
        if not host:
            raise PropertiesError("controller %d has no address" % node_id)
        endpoint = "%s:%d" % (host, port)
        if node_id in seen_ids:
            raise PropertiesError("controller node id %d is used by both %s and %s"
                                  % (node_id, seen_ids[node_id], endpoint))
        if endpoint in seen_endpoints:
            raise PropertiesError("controllers %d and %d share the endpoint %s"
                                  % (seen_endpoints[endpoint], node_id, endpoint))
        seen_ids[node_id] = endpoint
        seen_endpoints[endpoint] = node_id
        parts.append("%d@%s" % (node_id, endpoint))
    return ",".join(parts)


_SPEC_KEYS = frozenset({"roles", "node_id", "log_dirs", "metadata_log_dir", "controllers", "zookeeper_connect",
                        "migration", "inter_broker_protocol", "rack", "defaults", "security", "overrides"})


def kafka_process_properties(spec: dict[str, Any]) -> dict[str, str]:
    """Merge the configuration of one Kafka process.

    ``spec`` keys:
      roles            list of "broker" / "controller" (KRaft); empty or absent with zookeeper_connect
      node_id          int
      log_dirs         list of data directories (brokers; controllers keep metadata there too)
      metadata_log_dir optional directory for the metadata log
      controllers      KRaft quorum: [{"id", "host", "port"}]
      zookeeper_connect  ZooKeeper connect string (with chroot): a ZooKeeper-mode broker (no roles),
                       or a controller that migrates a ZooKeeper cluster (with migration)
      migration        ZooKeeper-to-KRaft migration: a ZooKeeper-mode broker in migration mode (it
                       also learns the controller quorum), or a controller with migration enabled
      inter_broker_protocol  inter.broker.protocol.version of a ZooKeeper-mode broker (e.g. 3.9)
      rack             optional broker.rack
      defaults         role defaults (lowest precedence; a value of None sets nothing)
      security         properties generated from the security description (None sets nothing)
      overrides        the user's properties (highest precedence; a value of None removes a key)
    """
    _check_spec_keys(spec)
    roles = _process_roles(spec.get("roles"))
    zk_connect = spec.get("zookeeper_connect")
    migration = bool(spec.get("migration"))
    _check_metadata_mode(roles, zk_connect, migration)
    node_id = _node_id(spec.get("node_id"))
    log_dirs = _log_dirs(spec.get("log_dirs"))
    controllers = spec.get("controllers") or []

    structural = {"log.dirs": ",".join(str(d) for d in log_dirs)}
    if zk_connect:
        structural["zookeeper.connect"] = zk_connect
    if migration:
        structural["zookeeper.metadata.migration.enable"] = "true"
    if zk_connect and "controller" not in roles:
        structural.update(_zookeeper_broker_properties(node_id, controllers, migration, spec.get("inter_broker_protocol")))
    else:
        structural.update(_kraft_properties(node_id, roles, controllers))
    structural.update(_placement_properties(spec.get("metadata_log_dir"), spec.get("rack")))
    return _merge_layers(_mapping(spec.get("defaults"), "defaults"), structural, _mapping(spec.get("security"), "security"),
                         _mapping(spec.get("overrides"), "overrides"))


def _check_spec_keys(spec: Any) -> None:
    if not isinstance(spec, dict):
        raise PropertiesError("the process description must be a dict")
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise PropertiesError("unknown keys in the process description: %s" % ", ".join(sorted(unknown)))


def _process_roles(value: Any) -> list[str]:
    """The roles as a list (a single role may be given as a string); known roles, each once."""
    roles = value or []
    if not isinstance(roles, (str, list, tuple)):
        raise PropertiesError("roles must be a list of broker and/or controller, got %r" % (roles,))
    roles = [roles] if isinstance(roles, str) else list(roles)
    unknown = [str(role) for role in roles if role not in PROCESS_ROLES]
    if unknown:
        raise PropertiesError("unknown process role(s) %s; use broker and/or controller" % ", ".join(unknown))
    if len(set(roles)) != len(roles):
        raise PropertiesError("process roles repeat: %s" % ", ".join(roles))
    return roles


def _check_metadata_mode(roles: list[str], zk_connect: Any, migration: bool) -> None:
    """The roles, zookeeper_connect and migration describe one of: a KRaft process, a ZooKeeper-mode
    broker (possibly in migration mode), or a KRaft controller migrating a ZooKeeper cluster."""
    if zk_connect and "controller" in roles and "broker" in roles:
        raise PropertiesError("a ZooKeeper-mode broker cannot also be a KRaft controller")
    if zk_connect and "controller" in roles and not migration:
        raise PropertiesError("a KRaft controller connects to ZooKeeper only to migrate it (set migration)")
    if migration and not zk_connect:
        raise PropertiesError("migration needs zookeeper_connect (the ensemble the metadata comes from)")
    if not zk_connect and not roles:
        raise PropertiesError("a KRaft process needs roles (broker, controller or both)")


def _node_id(value: Any) -> int:
    node_id = _int_field(value, "node_id")
    if node_id < 0:
        raise PropertiesError("node_id must not be negative, got %d" % node_id)
    if node_id > INT32_MAX:
        raise PropertiesError("node_id must be at most %d (Kafka node ids are int32), got %d" % (INT32_MAX, node_id))
    return node_id


def _log_dirs(value: Any) -> list[Any]:
    """At least one data directory, every one an absolute path (a single one may be a string)."""
    log_dirs = value or []
    if isinstance(log_dirs, str):
        log_dirs = [log_dirs]
    if not isinstance(log_dirs, (list, tuple)):
        raise PropertiesError("log_dirs must be a list of absolute paths, got %r" % (log_dirs,))
    if not log_dirs:
        raise PropertiesError("log_dirs must name at least one directory")
    if any(not isinstance(d, str) or not d.startswith("/") for d in log_dirs):
        raise PropertiesError("log_dirs must be absolute paths: %s" % ", ".join(map(str, log_dirs)))
    return [_path(d, "log_dirs") for d in log_dirs]


def _voter_ids(controllers: Any) -> set[int]:
    return {_voter(entry, index)[0] for index, entry in enumerate(controllers)}


def _zookeeper_broker_properties(node_id: int, controllers: Any, migration: bool, inter_broker_protocol: Any) -> dict[str, str]:
    """broker.id and the protocol version of a ZooKeeper-mode broker; in migration mode also the
    controller quorum it hands its metadata to."""
    structural = {"broker.id": str(node_id)}
    if inter_broker_protocol:
        structural["inter.broker.protocol.version"] = str(inter_broker_protocol)
    if migration:
        if not controllers:
            raise PropertiesError("a broker in migration mode needs the controller quorum (controllers)")
        structural["controller.quorum.voters"] = quorum_voters(controllers)
        if node_id in _voter_ids(controllers):
            raise PropertiesError("broker id %d is also a controller's node id; node ids must be unique "
                                  "across the cluster" % node_id)
    return structural


def _kraft_properties(node_id: int, roles: list[str], controllers: Any) -> dict[str, str]:
    """node.id, process.roles and the quorum of a KRaft process (a migrating controller included):
    a controller is one of the voters, a broker-only node is none of them."""
    if not controllers:
        raise PropertiesError("a KRaft process needs the controller quorum (controllers)")
    structural = {
        "node.id": str(node_id),
        "process.roles": ",".join(role for role in PROCESS_ROLES if role in roles),
        "controller.quorum.voters": quorum_voters(controllers),
    }
    voter_ids = _voter_ids(controllers)
    if "controller" in roles and node_id not in voter_ids:
        raise PropertiesError("node %d is a controller but not one of the quorum voters" % node_id)
    if roles == ["broker"] and node_id in voter_ids:
        raise PropertiesError("broker node id %d is also a controller's node id; "
                              "node ids must be unique across the cluster" % node_id)
    return structural


def _placement_properties(metadata_log_dir: Any, rack: Any) -> dict[str, str]:
    """metadata.log.dir (an absolute path) and broker.rack, when given."""
    structural: dict[str, str] = {}
    if metadata_log_dir:
        structural["metadata.log.dir"] = _path(metadata_log_dir, "metadata_log_dir")
    if rack not in (None, ""):
        structural["broker.rack"] = str(rack)
    return structural


def _merge_layers(defaults: dict[Any, Any], structural: dict[str, str], security: dict[Any, Any],
                  overrides: dict[Any, Any]) -> dict[str, str]:
    """The layers merged, later ones winning, every value as Kafka's text; property names checked."""
    merged: dict[str, str] = {}
    for layer in (defaults, structural, security):
        for key, value in layer.items():
            if value is not None:  # None: this layer does not set the key (never an empty value)
                merged[str(key)] = _value_text(value)
    for key, value in overrides.items():
        if value is None:
            merged.pop(str(key), None)
        else:
            merged[str(key)] = _value_text(value)
    bad_keys = [k for k in merged if not _KEY.fullmatch(k)]
    if bad_keys:
        raise PropertiesError("invalid property name(s): %s" % ", ".join(sorted(bad_keys)))
    return merged


def valid_cluster_id(value: Any, allow_dash: bool = False) -> bool:
    """A KRaft cluster id: 16 bytes as URL-safe base64 without padding (22 characters), in the
    canonical form Kafka prints (the unused low bits of the last character are zero). An id that
    starts with '-' looks like a command-line option and is refused unless ``allow_dash``: a
    ZooKeeper-mode cluster's id (Kafka 3.9 draws it without that rule) may start with one, and the
    migration keeps it."""
    if not isinstance(value, str) or not _CLUSTER_ID.fullmatch(value):
        return False
    try:
        raw = base64.urlsafe_b64decode(value + "==")
    except (ValueError, TypeError):
        return False
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != value:
        return False
    return len(raw) == 16 and any(raw) and (allow_dash or not value.startswith("-"))


def generate_cluster_id(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A fresh random cluster id in Kafka's ``Uuid`` text form. Like Kafka, ids whose text
    starts with '-' (they look like command-line options) are drawn again."""
    while True:
        text = base64.urlsafe_b64encode(random_bytes(16)).decode("ascii").rstrip("=")
        if valid_cluster_id(text):
            return text
