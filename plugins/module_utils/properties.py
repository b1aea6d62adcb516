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
_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")
_CLUSTER_ID = re.compile(r"^[A-Za-z0-9_\-]{22}$")


class PropertiesError(ValueError):
    """A process description that cannot produce a valid configuration."""


def _value_text(value) -> str:
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
        elif char in "=:" and is_key:
            out.append("\\" + char)
        elif char in "#!" and index == 0:
            out.append("\\" + char)
        elif char == " " and (is_key or index == 0):
            out.append("\\ ")
        elif ord(char) > 0x7E or ord(char) < 0x20:
            out.append("\\u%04x" % ord(char) if ord(char) <= 0xFFFF else char)
        else:
            out.append(char)
    return "".join(out)


def to_java_properties(properties: dict, header: str | None = None) -> str:
    """Render a dict as a Java properties file: sorted keys, values escaped as
    ``java.util.Properties.load`` expects. ``None`` values are left out."""
    if not isinstance(properties, dict):
        raise PropertiesError("properties must be a dict, got %s" % type(properties).__name__)
    lines = []
    if header:
        lines.extend("# " + line for line in header.splitlines())
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
            if nxt == "u" and index + 6 <= len(text):
                out.append(chr(int(text[index + 2:index + 6], 16)))
                index += 6
                continue
            out.append(simple.get(nxt, nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def parse_java_properties(text: str) -> dict:
    """Parse the ``key=value`` / ``key: value`` / ``key value`` lines of a properties file
    (comments, blank lines, escapes and continuation lines handled)."""
    result = {}
    logical = []
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip() if not pending else raw.lstrip()
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
        rest = line[index:].lstrip(" \t\f")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t\f")
        result[_unescape("".join(key_chars))] = _unescape(rest)
    return result


def quorum_voters(controllers) -> str:
    """``controller.quorum.voters`` from ``[{"id": 1, "address": "h1", "port": 9093}, ...]``
    (``host`` is accepted where ``address`` is absent), sorted by id; ids and endpoints must be
    unique."""
    seen_ids = {}
    seen_endpoints = {}
    parts = []
    for entry in sorted(controllers, key=lambda c: int(c["id"])):
        node_id = int(entry["id"])
        host = entry.get("address") or entry.get("host")
        if not host:
            raise PropertiesError("controller %d has no address" % node_id)
        endpoint = "%s:%d" % (host, int(entry["port"]))
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


def kafka_process_properties(spec: dict) -> dict:
    """Merge the configuration of one Kafka process.

    ``spec`` keys:
      roles            list of "broker" / "controller" (KRaft); empty or absent with zookeeper_connect
      node_id          int
      log_dirs         list of data directories (brokers; controllers keep metadata there too)
      metadata_log_dir optional directory for the metadata log
      controllers      KRaft quorum: [{"id", "host", "port"}]
      zookeeper_connect  ZooKeeper-mode connect string (with chroot); excludes roles
      rack             optional broker.rack
      defaults         role defaults (lowest precedence)
      security         properties generated from the security description
      overrides        the user's properties (highest precedence; a value of None removes a key)
    """
    if not isinstance(spec, dict):
        raise PropertiesError("the process description must be a dict")
    unknown = set(spec) - {"roles", "node_id", "log_dirs", "metadata_log_dir", "controllers",
                           "zookeeper_connect", "rack", "defaults", "security", "overrides"}
    if unknown:
        raise PropertiesError("unknown keys in the process description: %s" % ", ".join(sorted(unknown)))
    roles = list(spec.get("roles") or [])
    zk_connect = spec.get("zookeeper_connect")
    bad = [r for r in roles if r not in PROCESS_ROLES]
    if bad:
        raise PropertiesError("unknown process role(s) %s; use broker and/or controller" % ", ".join(bad))
    if len(set(roles)) != len(roles):
        raise PropertiesError("process roles repeat: %s" % ", ".join(roles))
    if zk_connect and "controller" in roles:
        raise PropertiesError("a ZooKeeper-mode broker cannot also be a KRaft controller")
    if not zk_connect and not roles:
        raise PropertiesError("a KRaft process needs roles (broker, controller or both)")
    try:
        node_id = int(spec["node_id"])
    except (KeyError, TypeError, ValueError):
        raise PropertiesError("node_id must be an integer, got %r" % (spec.get("node_id"),)) from None
    if node_id < 0:
        raise PropertiesError("node_id must not be negative, got %d" % node_id)
    log_dirs = spec.get("log_dirs") or []
    if isinstance(log_dirs, str):
        log_dirs = [log_dirs]
    if not log_dirs:
        raise PropertiesError("log_dirs must name at least one directory")
    if any(not str(d).startswith("/") for d in log_dirs):
        raise PropertiesError("log_dirs must be absolute paths: %s" % ", ".join(map(str, log_dirs)))

    structural = {"log.dirs": ",".join(str(d) for d in log_dirs)}
    if zk_connect:
        structural["broker.id"] = str(node_id)
        structural["zookeeper.connect"] = zk_connect
    else:
        controllers = spec.get("controllers") or []
        if not controllers:
            raise PropertiesError("a KRaft process needs the controller quorum (controllers)")
        structural["node.id"] = str(node_id)
        structural["process.roles"] = ",".join(r for r in PROCESS_ROLES if r in roles)
        structural["controller.quorum.voters"] = quorum_voters(controllers)
        if "controller" in roles and node_id not in {int(c["id"]) for c in controllers}:
            raise PropertiesError("node %d is a controller but not one of the quorum voters" % node_id)
        if roles == ["broker"] and node_id in {int(c["id"]) for c in controllers}:
            raise PropertiesError("broker node id %d is also a controller's node id; "
                                  "node ids must be unique across the cluster" % node_id)
    if spec.get("metadata_log_dir"):
        structural["metadata.log.dir"] = str(spec["metadata_log_dir"])
    if spec.get("rack") not in (None, ""):
        structural["broker.rack"] = str(spec["rack"])

    merged = {}
    for layer in (spec.get("defaults") or {}, structural, spec.get("security") or {}):
        for key, value in layer.items():
            merged[str(key)] = _value_text(value)
    for key, value in (spec.get("overrides") or {}).items():
        if value is None:
            merged.pop(str(key), None)
        else:
            merged[str(key)] = _value_text(value)
    bad_keys = [k for k in merged if not _KEY.match(k)]
    if bad_keys:
        raise PropertiesError("invalid property name(s): %s" % ", ".join(sorted(bad_keys)))
    return merged


def valid_cluster_id(value) -> bool:
    """A KRaft cluster id: 16 bytes as URL-safe base64 without padding (22 characters)."""
    if not isinstance(value, str) or not _CLUSTER_ID.match(value):
        return False
    try:
        raw = base64.urlsafe_b64decode(value + "==")
    except (ValueError, TypeError):
        return False
    return len(raw) == 16 and any(raw) and not value.startswith("-")


def generate_cluster_id(random_bytes=os.urandom) -> str:
    """A fresh random cluster id in Kafka's ``Uuid`` text form. Like Kafka, ids whose text
    starts with '-' (they look like command-line options) are drawn again."""
    while True:
        text = base64.urlsafe_b64encode(random_bytes(16)).decode("ascii").rstrip("=")
        if valid_cluster_id(text):
            return text
