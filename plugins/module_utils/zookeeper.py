# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""ZooKeeper ensembles and the ZooKeeper-to-KRaft migration, as data.

* :func:`zoo_cfg` merges the configuration of one ZooKeeper server (``zoo.cfg``) from settings,
  the ensemble, the security description's ZooKeeper part and the user's overrides; it is rendered
  by ``to_java_properties`` like every Kafka configuration (ZooKeeper reads ``zoo.cfg`` with
  ``java.util.Properties``).
* :func:`zookeeper_connect` is the connect string brokers and migrating controllers use.
* :func:`parse_four_letter_word` and :func:`restart_order` drive the quorum-keeping rolling restart.
* :func:`ensemble_errors` and :func:`mode_errors` are the cross-host checks of ZooKeeper mode.
* :func:`metadata_mode` and :func:`migration_state` tell where a migration to KRaft stands.

Pure Python: no Ansible imports, unit-tested with plain pytest.
"""
from __future__ import annotations

import csv
import re
from typing import Any

from ansible_collections.kafkaops.platform.plugins.module_utils import _checks

__all__ = [
    "ZookeeperError",
    "zoo_cfg",
    "zookeeper_connect",
    "parse_four_letter_word",
    "restart_order",
    "ensemble_errors",
    "mode_errors",
    "metadata_mode",
    "migration_state",
    "MIGRATION_STATES",
    "KRAFT_ONLY_PROPERTIES",
]

ENSEMBLE_SIZES = (1, 3, 5)
FOUR_LETTER_WORDS = ("conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "isro", "mntr", "ruok", "srst",
                     "srvr", "stat", "stmk", "wchc", "wchp", "wchs")
_CHROOT = re.compile(r"(/[A-Za-z0-9_.\-]+)+")
_SETTING = re.compile(r"[A-Za-z0-9_.\-]+")

# Settings of zoo.cfg that come from the ensemble or the security description; an override of one
# of them would silently break the quorum, so overrides of these are refused.
STRUCTURAL_SETTINGS = ("dataDir", "dataLogDir", "clientPort", "secureClientPort")

# Broker properties that only mean something to a KRaft node: refused in ZooKeeper mode.
KRAFT_ONLY_PROPERTIES = ("process.roles", "node.id", "controller.quorum.voters", "controller.quorum.bootstrap.servers",
                         "controller.listener.names", "metadata.log.dir", "zookeeper.metadata.migration.enable")

# kafka.controller:type=KafkaController,name=ZkMigrationState (KIP-866/KIP-868): the value the
# controllers report, from the ZkMigrationState record of the metadata log.
MIGRATION_STATES = {0: "NONE", 1: "MIGRATION", 2: "PRE_MIGRATION", 3: "POST_MIGRATION", 4: "ZK"}


class ZookeeperError(ValueError):
    """An ensemble description that cannot produce a valid configuration."""


def _int(value: Any, what: str) -> int:
    """An int, or decimal digits; never a bool or a fraction (``1.5`` is not silently 1)."""
    number = _checks.strict_int(value)
    if number is None:
        raise ZookeeperError("%s must be an integer, got %r" % (what, value))
    return number


def _servers(servers: Any) -> list[dict[str, Any]]:
    if not isinstance(servers, (list, tuple)) or not servers:
        raise ZookeeperError("servers must be a non-empty list of {myid, address}")
    result: list[dict[str, Any]] = []
    for index, entry in enumerate(servers):
        if not isinstance(entry, dict):
            raise ZookeeperError("servers[%d] must be a dict with myid and address, got %r" % (index, entry))
        myid = _int(entry.get("myid"), "servers[%d].myid" % index)
        if not 1 <= myid <= 255:
            raise ZookeeperError("servers[%d].myid must be 1-255, got %d" % (index, myid))
        address = entry.get("address") or entry.get("host")
        if not address:
            raise ZookeeperError("servers[%d] (myid %d) has no address" % (index, myid))
        result.append({"myid": myid, "address": _checks.text(address, "servers[%d].address" % index, ZookeeperError)})
    ids = [s["myid"] for s in result]
    if len(set(ids)) != len(ids):
        raise ZookeeperError("myids repeat: %s" % ", ".join(map(str, sorted(ids))))
    return sorted(result, key=lambda s: s["myid"])


def _bracket(address: str) -> str:
    return "[%s]" % address if ":" in address and not address.startswith("[") else address


def zoo_cfg(spec: dict[str, Any]) -> dict[str, str]:
    """The settings of one ZooKeeper server, every value a string.

    ``spec`` keys:
      myid             this server's id (must be one of ``servers``)
      servers          the ensemble: ``[{"myid": 1, "address": "zk1"}, ...]``
      data_dir         snapshots and ``myid`` (``dataDir``)
      data_log_dir     transaction log (``dataLogDir``), on its own disk ideally
      quorum_port      follower connections (default 2888)
      election_port    leader election (default 3888)
      four_letter_words  the whitelisted words (``4lw.commands.whitelist``)
      admin_server     ``{"enabled": bool, "port": int, "address": str}``
      defaults         settings below everything else (tickTime, initLimit, ...)
      security         the settings of the security description (client ports, TLS, SASL)
      overrides        the user's settings (highest precedence; None removes a key)
    """
    if not isinstance(spec, dict):
        raise ZookeeperError("the ZooKeeper server description must be a dict")
    unknown = set(spec) - {"myid", "servers", "data_dir", "data_log_dir", "quorum_port", "election_port",
                           "four_letter_words", "admin_server", "defaults", "security", "overrides"}
    if unknown:
        raise ZookeeperError("unknown keys in the ZooKeeper server description: %s" % ", ".join(sorted(unknown)))
    servers = _servers(spec.get("servers"))
    myid = _int(spec.get("myid"), "myid")
    if myid not in [s["myid"] for s in servers]:
        raise ZookeeperError("myid %d is not one of the ensemble's servers (%s)"
                             % (myid, ", ".join(str(s["myid"]) for s in servers)))
    for key in ("data_dir", "data_log_dir"):
        if not _checks.text(spec.get(key), key, ZookeeperError, optional=True).startswith("/"):
            raise ZookeeperError("%s must be an absolute path, got %r" % (key, spec.get(key)))
    quorum_port = _checks.port(spec.get("quorum_port", 2888), "quorum_port", ZookeeperError)
    election_port = _checks.port(spec.get("election_port", 3888), "election_port", ZookeeperError)
    if quorum_port == election_port:
        raise ZookeeperError("quorum_port and election_port are both %d" % quorum_port)
    words = _four_letter_words(spec.get("four_letter_words"))
    admin = _checks.mapping(spec.get("admin_server"), "admin_server", ZookeeperError, optional=True)
    security = dict(_checks.mapping(spec.get("security"), "security", ZookeeperError, optional=True))
    if not security.get("clientPort") and not security.get("secureClientPort"):
        raise ZookeeperError("the security settings give no client port (clientPort or secureClientPort)")

    structural = {
        "dataDir": str(spec["data_dir"]),
        "dataLogDir": str(spec["data_log_dir"]),
        "4lw.commands.whitelist": ",".join(dict.fromkeys(words)) if words else None,
        "admin.enableServer": "true" if admin.get("enabled") else "false",
    }
    if admin.get("enabled"):
        structural["admin.serverPort"] = str(_checks.port(admin.get("port", 8080), "admin_server.port", ZookeeperError))
        structural["admin.serverAddress"] = _checks.text(admin.get("address") or "0.0.0.0", "admin_server.address",
                                                         ZookeeperError)
    if len(servers) > 1:
        for server in servers:
            structural["server.%d" % server["myid"]] = "%s:%d:%d" % (_bracket(server["address"]), quorum_port,
                                                                     election_port)
    merged: dict[str, str] = {}
    for layer in (_checks.mapping(spec.get("defaults"), "defaults", ZookeeperError, optional=True), structural, security):
        for key, value in layer.items():
            if value is not None:
                merged[str(key)] = _text(value)
    for key, value in _checks.mapping(spec.get("overrides"), "overrides", ZookeeperError, optional=True).items():
        if str(key) in STRUCTURAL_SETTINGS or str(key).startswith("server."):
            raise ZookeeperError("%s comes from the ensemble and the security description; it cannot be "
                                 "overridden" % key)
        if value is None:
            merged.pop(str(key), None)
        else:
            merged[str(key)] = _text(value)
    bad_keys = [k for k in merged if not _SETTING.fullmatch(k)]
    if bad_keys:
        raise ZookeeperError("invalid setting name(s): %s" % ", ".join(sorted(bad_keys)))
    return merged


def _four_letter_words(words: Any) -> list[str]:
    """The whitelisted four-letter words: a list, or a comma-separated string; each a known word or ``*``."""
    words = words or []
    if isinstance(words, str):
        words = [w.strip() for w in words.split(",") if w.strip()]
    words = _checks.sequence(words, "four_letter_words", ZookeeperError)
    bad = [repr(w) if not isinstance(w, str) else w for w in words if w != "*" and w not in FOUR_LETTER_WORDS]
    if bad:
        raise ZookeeperError("unknown four-letter word(s) %s; known: %s" % (", ".join(bad), ", ".join(FOUR_LETTER_WORDS)))
    return words


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return str(value)


def zookeeper_connect(servers: Any, port: Any, chroot: str | None = "") -> str:
    """``host:port,host:port/chroot`` for the ensemble, sorted by myid."""
    port = _int(port, "port")
    if not 0 < port < 65536:
        raise ZookeeperError("port must be 1-65535, got %d" % port)
    chroot = _checks.text(chroot or "", "chroot", ZookeeperError)
    if chroot and not _CHROOT.fullmatch(chroot):
        raise ZookeeperError("chroot %r must be an absolute ZooKeeper path such as /kafka (no trailing slash)" % chroot)
    hosts = ",".join("%s:%d" % (_bracket(s["address"]), port) for s in _servers(servers))
    return hosts + chroot


def parse_four_letter_word(text: str) -> dict[str, Any]:
    """The answer to ``srvr``/``stat`` (``Key: value`` lines) or ``mntr`` (``key<TAB>value``
    lines) as a dict, plus ``mode`` (leader, follower, standalone, observer) when it says.

    ZooKeeper answers a word that is not whitelisted with a sentence instead; that raises."""
    if not isinstance(text, str):
        raise ZookeeperError("the answer must be text")
    if "is not executed because it is not in the whitelist" in text:
        raise ZookeeperError("ZooKeeper refused the command: %s (add it to the four-letter-word whitelist)"
                             % text.strip())
    if "not currently serving requests" in text:
        return {"serving": False, "mode": None}
    result: dict[str, Any] = {}
    for line in text.splitlines():
        separator = "\t" if "\t" in line else ": "
        if separator not in line:
            continue
        key, value = line.split(separator, 1)
        result[key.strip()] = value.strip()
    mode = result.get("zk_server_state") or result.get("Mode")
    result["mode"] = mode.lower() if mode else None
    result["serving"] = result["mode"] is not None
    return result


def restart_order(modes: dict[str, str | None]) -> list[str]:
    """Hosts in the order a rolling restart takes them: followers (and observers) first, by name,
    then the leader, so the ensemble elects a new leader once, at the end. ``modes`` maps host ->
    mode as :func:`parse_four_letter_word` reports it (None for a server that does not answer:
    it goes first, since restarting it cannot cost the quorum anything it still has)."""
    modes = _checks.mapping(modes, "modes (host -> mode)", ZookeeperError)
    for host, mode in modes.items():
        if not isinstance(host, str) or not (mode is None or isinstance(mode, str)):
            raise ZookeeperError("modes must map host names to a mode (leader, follower, ...) or null, got %r: %r"
                                 % (host, mode))
    leaders = sorted(h for h, m in modes.items() if m == "leader")
    if len(leaders) > 1:
        raise ZookeeperError("more than one server says it is the leader: %s" % ", ".join(leaders))
    silent = sorted(h for h, m in modes.items() if m is None)
    others = sorted(h for h, m in modes.items() if m is not None and m != "leader")
    return silent + others + leaders


def ensemble_errors(servers: list[dict[str, Any]], version: str = "") -> list[str]:
    """Problems with the ZooKeeper ensemble of the inventory. ``servers``: ``[{"host", "myid",
    "address"}]``; ``version``: the Kafka version whose distribution runs the ensemble."""
    servers = _checks.mappings(servers, "the ZooKeeper servers", ZookeeperError)
    for index, server in enumerate(servers):
        _checks.key(server, "host", "the ZooKeeper servers[%d]" % index, ZookeeperError)
    errors = []
    count = len(servers)
    if count == 0:
        errors.append("ZooKeeper mode needs an ensemble: put 1, 3 or 5 hosts in the zookeeper group")
    elif count % 2 == 0:
        errors.append("%d ZooKeeper servers: an ensemble has 1, 3 or 5 servers (%d tolerate no more failures than %d)"
                      % (count, count, count - 1))
    elif count not in ENSEMBLE_SIZES:
        errors.append("%d ZooKeeper servers: an ensemble has 1, 3 or 5 servers; more slow every write" % count)
    by_id: dict[int, list[str]] = {}
    for server in servers:
        myid = server.get("myid")
        if myid is None:
            errors.append("%s: zookeeper_myid is not set; give every ZooKeeper host a unique id from 1 to 255"
                          % server["host"])
        elif isinstance(myid, bool) or not isinstance(myid, int) or not 1 <= myid <= 255:
            errors.append("%s: zookeeper_myid must be an integer from 1 to 255, got %r" % (server["host"], myid))
        else:
            by_id.setdefault(myid, []).append(server["host"])
    for myid, hosts in sorted(by_id.items()):
        if len(hosts) > 1:
            errors.append("zookeeper_myid %d is used by %s; every ZooKeeper server needs its own" % (myid, " and ".join(hosts)))
    if servers and version and not str(version).startswith("3."):
        errors.append("platform_kafka_version is %s: ZooKeeper mode needs Kafka 3.x (3.9 is the last line with "
                      "ZooKeeper); Kafka 4 is KRaft only" % version)
    return errors


def mode_errors(mode: str, properties: dict[str, Any] | None, version: str = "") -> list[str]:
    """Settings that contradict the metadata mode: KRaft-only broker properties in ZooKeeper mode,
    ``zookeeper.connect`` in KRaft mode, ZooKeeper mode on Kafka 4."""
    errors = []
    properties = _checks.mapping(properties, "kafka_broker_properties", ZookeeperError, optional=True)
    if mode == "zookeeper":
        bad = sorted(str(k) for k in properties if k in KRAFT_ONLY_PROPERTIES and properties[k] is not None)
        if bad:
            errors.append("kafka_broker_properties sets %s, which only KRaft nodes read; ZooKeeper mode takes "
                          "broker.id from kafka_node_id and zookeeper.connect from the zookeeper group" % ", ".join(bad))
        if version and not str(version).startswith("3."):
            errors.append("platform_kafka_mode is zookeeper but platform_kafka_version is %s; Kafka 4 removed "
                          "ZooKeeper mode: use 3.9.x, or migrate to KRaft first (zookeeper_to_kraft.yml)" % version)
    elif mode == "kraft":
        bad = sorted(str(k) for k in properties if str(k).startswith("zookeeper.") and properties[k] is not None)
        if bad:
            errors.append("kafka_broker_properties sets %s, which only ZooKeeper-mode brokers read; set "
                          "platform_kafka_mode: zookeeper for a ZooKeeper cluster" % ", ".join(bad))
    else:
        errors.append("platform_kafka_mode must be kraft or zookeeper, got %r" % (mode,))
    return errors


def metadata_mode(properties: dict[str, Any] | None) -> str:
    """Where one Kafka process stands, from its ``server.properties`` (a dict; None or {} when
    there is none yet): ``absent``, ``zookeeper`` (a ZooKeeper-mode broker), ``migration`` (a
    ZooKeeper-mode broker or a controller with ``zookeeper.metadata.migration.enable``) or
    ``kraft``."""
    if not properties:
        return "absent"
    properties = _checks.mapping(properties, "the server.properties", ZookeeperError)
    migrating = str(properties.get("zookeeper.metadata.migration.enable", "false")).strip().lower() == "true"
    if migrating:
        return "migration"
    if properties.get("process.roles"):
        return "kraft"
    if properties.get("zookeeper.connect"):
        return "zookeeper"
    return "absent"


def migration_state(jmx_output: str | None) -> dict[str, Any]:
    """The ZkMigrationState a controller reports, from the CSV ``kafka.tools.JmxTool --one-time``
    prints (a header line of attribute names, then one line of values).

    Returns ``{"value": int, "state": name, "migrated": bool}``; ``migrated`` is true once the
    metadata copy from ZooKeeper is committed to the KRaft log (MIGRATION: dual-write mode) or the
    migration is finalized (POST_MIGRATION)."""
    if jmx_output is not None and not isinstance(jmx_output, str):
        raise ZookeeperError("the JmxTool output must be text, got %s" % _checks.kind(jmx_output))
    lines = [line.strip() for line in (jmx_output or "").splitlines() if line.strip()]
    header_index = None
    for index, line in enumerate(lines):
        if "ZkMigrationState" in line and "," in line:
            header_index = index
    if header_index is None or header_index + 1 >= len(lines):
        raise ZookeeperError("no ZkMigrationState in the JMX output: %r" % (jmx_output or "")[-300:])
    # object names hold commas themselves, inside the quotes of the CSV header
    names, values = list(csv.reader(lines[header_index:header_index + 2]))[:2]
    for name, value in zip(names, values):
        if "ZkMigrationState" in name:
            try:
                number = int(float(value))
            except (ValueError, OverflowError):
                raise ZookeeperError("ZkMigrationState is not a number: %r" % value) from None
            state = MIGRATION_STATES.get(number, "UNKNOWN(%d)" % number)
            return {"value": number, "state": state, "migrated": state in ("MIGRATION", "POST_MIGRATION")}
    raise ZookeeperError("no ZkMigrationState value in the JMX output: %r" % (jmx_output or "")[-300:])
