# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Confluent Schema Registry and ksqlDB as the inventory describes them: their properties, the
checks that need the whole inventory (one group per cluster, URLs and TLS, a ksqlDB service id that
must not change under a running cluster) and the order to restart Schema Registry instances in.
Pure Python, no Ansible imports.

Both products are REST services in front of Kafka: their Kafka client settings come from the
security description (``client_properties(..., client="schema_registry"|"ksqldb")``, already
prefixed ``kafkastore.`` or ``ksql.streams.``); their own REST listener gets TLS from a keystore
the role makes from the internal CA's files.
"""
from __future__ import annotations

import re
from typing import Any

from ansible_collections.kafkaops.platform.plugins.module_utils import _checks
from ansible_collections.kafkaops.platform.plugins.module_utils.connect_cluster import rest_user_errors
from ansible_collections.kafkaops.platform.plugins.module_utils.properties import to_java_properties
from ansible_collections.kafkaops.platform.plugins.module_utils.security import format_host

__all__ = ["ConfluentError", "schema_registry_properties", "ksqldb_properties", "rest_tls_properties", "rest_auth",
           "rest_urls", "schema_registry_errors", "ksqldb_errors", "schema_registry_leader_host", "schema_registry_roll_order",
           "service_id_change"]

# HTTP basic auth of rest-utils (Schema Registry, ksqlDB): the JAAS section each product names in its
# docs, and Jetty's property-file login module, whose package moved with Jetty 12 (Confluent Platform 8)
REST_AUTH_REALMS = {"schema_registry": "SchemaRegistry-Props", "ksqldb": "KsqlServer-Props"}
_JETTY_LOGIN_MODULES = ((8, "org.eclipse.jetty.security.jaas.spi.PropertyFileLoginModule"),
                        (0, "org.eclipse.jetty.jaas.spi.PropertyFileLoginModule"))
REST_AUTH_FILES = ("rest-jaas.conf", "rest-users.properties")

_GROUP = re.compile(r"[A-Za-z0-9._-]{1,249}")
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
# ksqlDB prefixes its internal topics with the service id; letters, digits and _ keep them valid
_SERVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


class ConfluentError(ValueError):
    """A Schema Registry or ksqlDB description that cannot be rendered."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hosts(hosts: Any, role: str) -> dict[str, dict[str, Any]]:
    """``hosts`` checked: host name -> the mapping of its ``<role>_*`` variables."""
    hosts = _checks.mapping(hosts, "the %s hosts" % role, ConfluentError)
    for host, info in hosts.items():
        _checks.text(host, "a host of the %s group" % role, ConfluentError)
        _checks.mapping(info, "the variables of %s" % host, ConfluentError)
    return hosts


def _address(info: dict[str, Any], host: str) -> str:
    """The address a host's service is reached at (platform_host_address, else its name)."""
    return _checks.text(info.get("address") or host, "%s: platform_host_address" % host, ConfluentError)


def _spec(spec: Any, what: str, required: tuple[str, ...]) -> dict[str, Any]:
    """A properties description checked: the ``required`` keys, the address, port and bootstrap servers,
    and the optional mappings (client, authentication, overrides) and TLS settings."""
    spec = _checks.mapping(spec, what, ConfluentError)
    for key in required + ("address", "port", "bootstrap_servers"):
        _checks.key(spec, key, what, ConfluentError)
    _checks.text(spec["address"], "%s address" % what, ConfluentError)
    _checks.port(spec["port"], "%s port" % what, ConfluentError)
    for server in _checks.sequence(spec["bootstrap_servers"], "%s bootstrap_servers" % what, ConfluentError):
        _checks.text(server, "%s bootstrap_servers" % what, ConfluentError)
    for key in ("client", "authentication", "overrides", "tls"):
        _checks.mapping(spec.get(key) or None, "%s %s" % (what, key), ConfluentError, optional=True)
    return spec


def rest_urls(hosts: dict[str, dict[str, Any]], role: str, port: int, tls_required: bool) -> list[str]:
    """One REST URL per host (sorted by host) of the ``role`` group (``schema_registry``, ``ksqldb``):
    ``<role>_port`` (default ``port``), https where ``<role>_rest_tls`` (default ``tls_required``)."""
    urls = []
    hosts = _hosts(hosts, role)
    for host in sorted(hosts):
        info = hosts[host]
        tls = info.get(role + "_rest_tls")
        tls = tls_required if tls is None else bool(tls)
        address = format_host(_address(info, host))
        urls.append("%s://%s:%s" % ("https" if tls else "http", address, info.get(role + "_port", port)))
    return urls


def rest_tls_properties(tls: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """The REST listener's TLS settings (rest-utils keys): a PKCS12 keystore and truststore, and
    client certificates required when ``client_auth``."""
    if not tls:
        return {}
    tls = _checks.mapping(tls, "tls", ConfluentError)
    for key in ("keystore", "truststore", "password"):
        if not tls.get(key):
            raise ConfluentError("an HTTPS REST listener needs %s" % key)
    properties = {
        prefix + "ssl.keystore.location": tls["keystore"], prefix + "ssl.keystore.type": "PKCS12",
        prefix + "ssl.keystore.password": tls["password"], prefix + "ssl.key.password": tls["password"],
        prefix + "ssl.truststore.location": tls["truststore"], prefix + "ssl.truststore.type": "PKCS12",
        prefix + "ssl.truststore.password": tls["password"],
    }
    if tls.get("client_auth"):
        properties[prefix + "ssl.client.authentication"] = "REQUIRED"
    return properties


def _merge(properties: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    for key, value in (overrides or {}).items():
        if value is None:
            properties.pop(key, None)
        else:
            properties[key] = value
    return properties


def rest_auth(role: str, users: Any, directory: str, version: str) -> dict[str, Any]:
    """HTTP basic authentication on the REST API of Schema Registry or ksqlDB (``role``) for ``users``
    (``<role>_rest_users``: ``{name, password, roles}``, roles default ``[user]``), with the files in
    ``directory``, for Confluent Platform ``version``.

    Returns ``{"files": [{"path", "content"}], "paths", "jvm_options", "properties"}``: the JAAS login
    config (the product's realm, Jetty's PropertyFileLoginModule naming the users file) and the users
    file (``name: password,role...``), the JVM option naming the login config, and the properties
    (``authentication.method`` BASIC, the realm, and every user's roles as ``authentication.roles``).
    Without users, ``files``, ``jvm_options`` and ``properties`` are empty: the API is open."""
    if not isinstance(role, str) or role not in REST_AUTH_REALMS:
        raise ConfluentError("basic auth is for %s, not %r" % (" and ".join(sorted(REST_AUTH_REALMS)), role))
    errors = rest_user_errors(users, variable=role + "_rest", jetty=True)
    if errors:
        raise ConfluentError("; ".join(errors))
    if not isinstance(directory, str) or not directory.startswith("/") or re.search(r"[\x00-\x1f\x7f\"\\]", directory):
        raise ConfluentError("the directory of the REST API's login files must be an absolute path, got %r" % (directory,))
    major = re.match(r"(\d+)\.", str(version))
    if not major:
        raise ConfluentError("platform_confluent_version %r is not a version like 7.9.0" % (version,))
    module = next(name for first, name in _JETTY_LOGIN_MODULES if int(major.group(1)) >= first)
    jaas_path, users_path = ("%s/%s" % (directory.rstrip("/"), name) for name in REST_AUTH_FILES)
    result: dict[str, Any] = {"files": [], "paths": [jaas_path, users_path], "jvm_options": [], "properties": {}}
    if not users:
        return result
    entries = {user["name"]: ",".join([user["password"]] + list(user.get("roles") or ["user"])) for user in users}
    roles = sorted({r for user in users for r in (user.get("roles") or ["user"])})
    jaas = '%s {\n  %s required\n  file="%s";\n};\n' % (REST_AUTH_REALMS[role], module, users_path)
    result["files"] = [{"path": jaas_path, "content": jaas},
                       {"path": users_path, "content": to_java_properties(entries)}]
    result["jvm_options"] = ["-Djava.security.auth.login.config=%s" % jaas_path]
    result["properties"] = {"authentication.method": "BASIC", "authentication.realm": REST_AUTH_REALMS[role],
                            "authentication.roles": ",".join(roles)}
    return result


def schema_registry_properties(spec: dict[str, Any]) -> dict[str, Any]:
    """The properties of one Schema Registry instance.

    ``spec``: ``group_id``, ``address`` (what the instance advertises to the others: ``host.name``),
    ``port``, ``bootstrap_servers`` (list), ``client`` (the ``kafkastore.`` client properties),
    ``topic`` (the schemas topic), ``replication_factor``, ``leader_eligible``, ``tls`` (``None``
    or ``{"keystore", "truststore", "password", "client_auth"}``), ``authentication`` (the
    properties of :func:`rest_auth`) and ``overrides`` (``None`` removes a key). Precedence:
    generated < overrides.
    """
    spec = _spec(spec, "the Schema Registry description", ("group_id", "topic", "replication_factor"))
    scheme = "https" if spec.get("tls") else "http"
    properties: dict[str, Any] = dict(spec.get("client") or {})
    properties.update({
        "listeners": "%s://0.0.0.0:%s" % (scheme, spec["port"]),
        "host.name": spec["address"],
        "inter.instance.protocol": scheme,
        "schema.registry.group.id": spec["group_id"],
        "leader.eligibility": bool(spec.get("leader_eligible", True)),
        "kafkastore.bootstrap.servers": ",".join(spec["bootstrap_servers"]),
        "kafkastore.topic": spec["topic"],
        "kafkastore.topic.replication.factor": spec["replication_factor"],
    })
    properties.update(rest_tls_properties(spec.get("tls")))
    properties.update(spec.get("authentication") or {})
    return _merge(properties, spec.get("overrides"))


def ksqldb_properties(spec: dict[str, Any]) -> dict[str, Any]:
    """The properties of one ksqlDB server.

    ``spec``: ``service_id``, ``address``, ``port``, ``bootstrap_servers``, ``client`` (the
    ``ksql.streams.`` client properties), ``replication_factor`` (internal and processing-log
    topics), ``state_dir``, ``schema_registry_url`` (or empty), ``queries_file`` (headless mode, or
    empty), ``schema_registry_user_info`` (``name:password`` the registry's basic auth wants, or
    empty), ``tls`` and ``authentication`` as for Schema Registry, ``overrides``.
    """
    spec = _spec(spec, "the ksqlDB description", ("service_id", "replication_factor", "state_dir"))
    _checks.text(spec["service_id"], "the ksqlDB description service_id", ConfluentError)
    scheme = "https" if spec.get("tls") else "http"
    service_id = spec["service_id"]
    properties: dict[str, Any] = dict(spec.get("client") or {})
    properties.update({
        "listeners": "%s://0.0.0.0:%s" % (scheme, spec["port"]),
        "ksql.advertised.listener": "%s://%s:%s" % (scheme, format_host(spec["address"]), spec["port"]),
        "bootstrap.servers": ",".join(spec["bootstrap_servers"]),
        "ksql.streams.bootstrap.servers": ",".join(spec["bootstrap_servers"]),
        "ksql.service.id": service_id,
        "ksql.internal.topic.replicas": spec["replication_factor"],
        "ksql.streams.replication.factor": spec["replication_factor"],
        "ksql.streams.state.dir": spec["state_dir"],
        # the processing log: a topic and a stream of what failed to process, named after the service
        "ksql.logging.processing.topic.auto.create": True,
        "ksql.logging.processing.stream.auto.create": True,
        "ksql.logging.processing.topic.name": "%sksql_processing_log" % service_id,
        "ksql.logging.processing.topic.replication.factor": spec["replication_factor"],
    })
    if spec.get("schema_registry_url"):
        properties["ksql.schema.registry.url"] = spec["schema_registry_url"]
        if spec.get("schema_registry_user_info"):
            # ksqlDB hands ksql.schema.registry.* to its registry client without the prefix
            properties["ksql.schema.registry.basic.auth.credentials.source"] = "USER_INFO"
            properties["ksql.schema.registry.basic.auth.user.info"] = spec["schema_registry_user_info"]
    if spec.get("queries_file"):
        properties["ksql.queries.file"] = spec["queries_file"]
    properties.update(rest_tls_properties(spec.get("tls")))
    properties.update(spec.get("authentication") or {})
    return _merge(properties, spec.get("overrides"))


def _cluster_errors(kind: str, hosts: dict[str, dict[str, Any]], keys: tuple[str, ...]) -> list[str]:
    """Every host of one group agrees on the cluster-wide ``keys``."""
    errors = []
    first: dict[str, tuple[str, Any]] = {}
    for host in sorted(hosts):
        for key in keys:
            value = hosts[host].get(key)
            seen = first.setdefault(key, (host, value))
            if seen[1] != value:
                errors.append("%s: %s is %r but %s has %r; every %s host must agree"
                              % (host, key, value, seen[0], seen[1], kind))
    return errors


def _replication_errors(host: str, role: str, info: dict[str, Any], broker_count: int) -> list[str]:
    """``<role>_replication_factor`` is 0 (min(3, brokers)) or a positive integer the brokers can hold."""
    variable = role + "_replication_factor"
    factor = info.get(variable, 0)
    if not _is_int(factor) or factor < 0:
        return ["%s: %s must be 0 (min(3, brokers)) or a positive integer, got %r" % (host, variable, factor)]
    if broker_count and factor > broker_count:
        return ["%s: %s %d is more than the %d broker(s)" % (host, variable, factor, broker_count)]
    return []


def _rest_tls_errors(host: str, role: str, info: dict[str, Any], tls_required: bool) -> list[str]:
    """The REST listener uses TLS where the security description requires it, with a keystore password."""
    tls = info.get(role + "_rest_tls")
    tls = tls_required if tls is None else bool(tls)
    errors = []
    if tls_required and not tls:
        errors.append("%s: %s_rest_tls is false but the security description requires TLS (platform_tls_internal_ca); "
                      "its URL would be http://" % (host, role))
    if tls and not info.get(role + "_keystore_password"):
        errors.append("%s: %s_rest_tls needs %s_keystore_password (the password of the PKCS12 stores the role makes "
                      "from the internal CA's files)" % (host, role, role))
    return errors


def _rest_user_errors(role: str, hosts: dict[str, dict[str, Any]]) -> list[str]:
    """Each host's ``<role>_rest_users`` and ``<role>_rest_user`` are well-formed, and every host of the
    group has the same users (names, passwords, roles): the instances forward requests to each other
    with the caller's credentials. The messages name users, never a password."""
    errors: list[str] = []
    first: tuple[str, Any] | None = None
    for host in sorted(hosts):
        users = hosts[host].get(role + "_rest_users") or []
        found = rest_user_errors(users, hosts[host].get(role + "_rest_user"), "%s: " % host, variable=role + "_rest", jetty=True)
        errors.extend(found)
        if found:
            continue
        table = {u["name"]: (u["password"], tuple(u.get("roles") or ["user"])) for u in users}
        if first is None:
            first = (host, table)
            continue
        differ = sorted(name for name in set(table) | set(first[1]) if table.get(name) != first[1].get(name))
        if differ:
            errors.append("%s: %s_rest_users differs from %s's for %s; every instance must have the same users (they "
                          "forward requests to each other with the caller's credentials)" % (host, role, first[0], ", ".join(differ)))
    return errors


def schema_registry_errors(hosts: dict[str, dict[str, Any]], broker_count: int, tls_required: bool) -> list[str]:
    """Problems with the schema_registry group: ``hosts`` maps each host to its
    ``schema_registry_group_id``, ``schema_registry_topic``, ``schema_registry_replication_factor``,
    ``schema_registry_port``, ``schema_registry_rest_tls``, ``schema_registry_leader_eligible``,
    ``schema_registry_keystore_password``, ``schema_registry_rest_users`` and ``schema_registry_rest_user``.
    ``tls_required``: the security description asks for TLS
    on the REST listeners (the internal CA)."""
    hosts = _hosts(hosts, "schema_registry")
    errors = _cluster_errors("schema_registry", hosts, (
        "schema_registry_group_id", "schema_registry_topic", "schema_registry_replication_factor",
        "schema_registry_port", "schema_registry_rest_tls", "schema_registry_rest_user"))
    errors.extend(_rest_user_errors("schema_registry", hosts))
    if hosts and not any(h.get("schema_registry_leader_eligible", True) for h in hosts.values()):
        errors.append("no Schema Registry host may become leader (schema_registry_leader_eligible is false on all); "
                      "nothing could register a schema")
    for host in sorted(hosts):
        info = hosts[host]
        group = info.get("schema_registry_group_id", "schema-registry")
        if not isinstance(group, str) or not _GROUP.fullmatch(group):
            errors.append("%s: schema_registry_group_id %r must be 1 to 249 letters, digits, '.', '_' or '-'" % (host, group))
        topic = info.get("schema_registry_topic", "_schemas")
        if not isinstance(topic, str) or not _TOPIC.fullmatch(topic) or topic in (".", ".."):
            errors.append("%s: schema_registry_topic %r is not a Kafka topic name" % (host, topic))
        errors.extend(_replication_errors(host, "schema_registry", info, broker_count))
        errors.extend(_rest_tls_errors(host, "schema_registry", info, tls_required))
    return errors


def ksqldb_errors(hosts: dict[str, dict[str, Any]], broker_count: int, tls_required: bool) -> list[str]:
    """Problems with the ksqldb group (see :func:`schema_registry_errors`; the keys are the
    ``ksqldb_*`` variables, and ``ksqldb_schema_registry_url``)."""
    hosts = _hosts(hosts, "ksqldb")
    errors = _cluster_errors("ksqldb", hosts, (
        "ksqldb_service_id", "ksqldb_replication_factor", "ksqldb_port", "ksqldb_rest_tls",
        "ksqldb_schema_registry_url", "ksqldb_queries_file", "ksqldb_rest_user"))
    errors.extend(_rest_user_errors("ksqldb", hosts))
    for host in sorted(hosts):
        info = hosts[host]
        service_id = info.get("ksqldb_service_id", "ksql_")
        if not isinstance(service_id, str) or not _SERVICE_ID.fullmatch(service_id):
            errors.append("%s: ksqldb_service_id %r must be 1 to 100 letters, digits, '_' or '-' (it prefixes "
                          "ksqlDB's internal topics)" % (host, service_id))
        errors.extend(_replication_errors(host, "ksqldb", info, broker_count))
        url = info.get("ksqldb_schema_registry_url") or ""
        if url and (not isinstance(url, str) or not re.fullmatch(r"https?://[^\s,]+(,https?://[^\s,]+)*", url)):
            errors.append("%s: ksqldb_schema_registry_url %r must be http(s) URLs, comma-separated" % (host, url))
        elif tls_required and "http://" in url:
            errors.append("%s: ksqldb_schema_registry_url %s is plain http but the security description requires TLS "
                          "(platform_tls_internal_ca); use https://" % (host, url))
        errors.extend(_rest_tls_errors(host, "ksqldb", info, tls_required))
    return errors


def service_id_change(running: dict[str, str], desired: str) -> list[str]:
    """The hosts whose running ksqlDB has another service id than the inventory's. ``running``
    maps each host to the ``ksql.service.id`` of its current ksql-server.properties ("" where
    there is none yet). A new service id is a new ksqlDB cluster: its queries, command topic and
    state belong to the old id."""
    running = _checks.mapping(running, "the running service ids (host -> ksql.service.id)", ConfluentError)
    desired = _checks.text(desired, "ksqldb_service_id", ConfluentError)
    errors = []
    for host in sorted(running, key=str):
        current = _checks.text(running[host], "the ksql.service.id running on %s" % host, ConfluentError, optional=True)
        if current and current != desired:
            errors.append("%s: ksqldb_service_id would change from %r to %r on a running ksqlDB cluster; its persistent "
                          "queries and command topic belong to %r. Keep the old id, or deploy the new one as a new "
                          "cluster on other hosts and migrate the queries" % (host, current, desired, current))
    return errors


def schema_registry_leader_host(leader: dict[str, Any] | None, urls: dict[str, str]) -> str | None:
    """The inventory host of the registry's leader: ``leader`` is its identity as the registry's
    group tells it (``host``, the instance's ``host.name``, and ``port``), ``urls`` each host's
    REST URL (``scheme://address:port``). The address and port decide (the scheme may be what
    this run changes); an address alone when exactly one host has it (a port this run changes).
    None when no host, or more than one, matches."""
    leader = _checks.mapping(leader, "leader (kafka_info's schema_registry.leader)", ConfluentError, optional=True)
    urls = _checks.mapping(urls, "urls (host -> REST URL)", ConfluentError)
    if not leader.get("host"):
        return None
    wanted = str(leader["host"]).strip("[]").lower()
    by_address: dict[str, list[tuple[str, int | None]]] = {}
    for host, url in urls.items():
        authority = _checks.text(url, "the REST URL of %s" % host, ConfluentError, optional=True).partition("://")[2].split("/")[0]
        address, _colon, port = authority.rpartition(":")
        if not (port.isascii() and port.isdigit()):
            address, port = authority, ""
        by_address.setdefault(address.strip("[]").lower(), []).append((host, int(port) if port else None))
    candidates = by_address.get(wanted, [])
    exact = [host for host, port in candidates if port == leader.get("port")]
    if len(exact) == 1:
        return exact[0]
    return candidates[0][0] if len(candidates) == 1 and not exact else None


def schema_registry_roll_order(hosts: list[str], eligible: dict[str, bool], leader: str | None = None) -> list[str]:
    """The order to restart Schema Registry instances in: those that can never lead first, then
    the leader-eligible ones, the current leader (when known) last - so that the leader is
    elected once, not at each restart."""
    hosts = [_checks.text(host, "a Schema Registry host", ConfluentError)
             for host in _checks.sequence(hosts, "hosts (the schema_registry group)", ConfluentError)]
    eligible = _checks.mapping(eligible, "eligible (host -> schema_registry_leader_eligible)", ConfluentError)
    if leader is not None and not isinstance(leader, str):
        raise ConfluentError("leader must be a host name or null, got %s" % _checks.kind(leader))

    def rank(host: str) -> tuple[int, str]:
        if host == leader:
            return (2, host)
        return (1 if eligible.get(host, True) else 0, host)
    return sorted(hosts, key=rank)
