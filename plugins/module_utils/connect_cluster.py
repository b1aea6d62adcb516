# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Kafka Connect clusters as the inventory describes them: the cross-host checks, the plugins to
install and the worker properties. Pure Python, no Ansible imports.

An inventory may hold several Connect clusters: every host of the ``kafka_connect`` group runs one
worker of the cluster its ``kafka_connect_cluster`` names. ``connect_clusters`` groups the hosts,
fills in what is derived (group id, internal topic names, replication factor) and returns every
problem at once; ``plugin_sources`` turns the declared plugins into download or copy steps with one
directory per plugin version; ``worker_properties`` builds a worker's properties from a cluster,
the Kafka client properties of the security description and the user's overrides;
``rest_auth`` the files and the JVM option of HTTP basic authentication on the REST API.
"""
from __future__ import annotations

import re
from typing import Any

from ansible_collections.kafkaops.platform.plugins.module_utils import _checks
from ansible_collections.kafkaops.platform.plugins.module_utils.properties import to_java_properties
from ansible_collections.kafkaops.platform.plugins.module_utils.security import format_host

__all__ = ["ConnectError", "connect_clusters", "plugin_sources", "worker_properties", "rest_auth",
           "rest_user_errors", "BASIC_AUTH_EXTENSION", "CONFIG_PROVIDERS", "WORKER_DEFAULTS"]

# Kafka's own rule for topic names (org.apache.kafka.common.internals.Topic)
_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")
_GROUP_ID = re.compile(r"[A-Za-z0-9._-]{1,249}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_MAVEN_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_CHECKSUM = re.compile(r"(md5|sha1|sha224|sha256|sha384|sha512):[0-9a-fA-F]+")
_DIGEST_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
_ARCHIVES = (".tar.gz", ".tgz", ".zip", ".jar")
_TOPIC_KEYS = (("config", "kafka_connect_config_topic", "-configs"),
               ("offset", "kafka_connect_offset_topic", "-offsets"),
               ("status", "kafka_connect_status_topic", "-status"))
# the settings every worker of one cluster must share (the key of the result and its variable)
_SHARED = (("group_id", "kafka_connect_group_id"), ("config_topic", "kafka_connect_config_topic"),
           ("offset_topic", "kafka_connect_offset_topic"), ("status_topic", "kafka_connect_status_topic"),
           ("replication_factor", "kafka_connect_replication_factor"), ("rest_port", "kafka_connect_rest_port"),
           ("rest_tls", "kafka_connect_rest_tls"), ("rest_users", "kafka_connect_rest_users"))

# HTTP basic authentication on the REST API: Apache Kafka's extension (connect-basic-auth-extension,
# in the distribution's libs/) checks each request through the JAAS login config's KafkaConnect
# section, whose PropertyFileLoginModule reads name=password lines from a file
BASIC_AUTH_EXTENSION = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
_LOGIN_MODULE = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
_REST_AUTH_FILES = ("rest-jaas.conf", "rest-users.properties")
# a name the Authorization header can carry: "name:password", split at the first ':'
_USER = re.compile(r"[^\s:\x00-\x1f\x7f]+")

# the config providers every worker has: secrets live in files (0600) and environment variables,
# connector configs hold only ${provider:path:key} references
CONFIG_PROVIDERS = {
    "file": "org.apache.kafka.common.config.provider.FileConfigProvider",
    "directory": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
    "env": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
}

# what every worker gets unless the user overrides it
WORKER_DEFAULTS: dict[str, Any] = {
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    # a connector may not override its Kafka clients' settings (cp-ansible sets All)
    "connector.client.config.override.policy": "None",
    "offset.flush.interval.ms": 10000,
}


class ConnectError(ValueError):
    """The Connect part of the inventory cannot be used as written."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _given(value: Any) -> bool:
    return value not in (None, "")


def _host_settings(host: str, info: dict[str, Any], broker_count: int,
                   rest_tls: bool) -> tuple[dict[str, Any], list[str]]:
    """One host's Connect settings with the derived ones filled in, and what is wrong with them."""
    errors = []
    cluster = info.get("kafka_connect_cluster")
    cluster = "connect" if cluster in (None, "") else cluster
    if not isinstance(cluster, str) or not _NAME.fullmatch(cluster):
        errors.append("%s: kafka_connect_cluster %r must be a name of letters, digits, '.', '_' or '-'" % (host, cluster))
        cluster = str(cluster)
    group_id = info.get("kafka_connect_group_id")
    group_id = cluster if group_id in (None, "") else group_id
    if not isinstance(group_id, str) or not _GROUP_ID.fullmatch(group_id):
        errors.append("%s: kafka_connect_group_id %r must be 1 to 249 letters, digits, '.', '_' or '-'" % (host, group_id))
    settings: dict[str, Any] = {"cluster": cluster, "group_id": group_id}
    for kind, variable, suffix in _TOPIC_KEYS:
        topic = info.get(variable)
        topic = "%s%s" % (group_id, suffix) if topic in (None, "") else topic
        if not isinstance(topic, str) or not _TOPIC.fullmatch(topic) or topic in (".", ".."):
            errors.append("%s: %s %r is not a Kafka topic name (1 to 249 letters, digits, '.', '_' or '-')"
                          % (host, variable, topic))
        settings[kind + "_topic"] = topic
    factor = info.get("kafka_connect_replication_factor")
    if factor in (None, "", 0):
        factor = max(1, min(3, broker_count))
    if not _is_int(factor) or factor < 1:
        errors.append("%s: kafka_connect_replication_factor must be a positive integer, got %r" % (host, factor))
    elif broker_count and factor > broker_count:
        errors.append("%s: kafka_connect_replication_factor %d is more than the %d broker(s); Connect could not "
                      "create its internal topics" % (host, factor, broker_count))
    settings["replication_factor"] = factor
    port = info.get("kafka_connect_rest_port", 8083)
    if not _is_int(port) or not 1 <= port <= 65535:
        errors.append("%s: kafka_connect_rest_port must be a port number (1-65535), got %r" % (host, port))
    settings["rest_port"] = port
    tls = info.get("kafka_connect_rest_tls")
    settings["rest_tls"] = rest_tls if tls in (None, "") else bool(tls)
    if settings["rest_tls"] and not info.get("kafka_connect_keystore_password"):
        errors.append("%s: kafka_connect_rest_tls needs kafka_connect_keystore_password (the password of the PKCS12 "
                      "stores the role makes from the internal CA's files for the REST listener)" % host)
    users = info.get("kafka_connect_rest_users")
    errors.extend(rest_user_errors(users, info.get("kafka_connect_rest_user"), "%s: " % host))
    settings["rest_users"] = sorted(_credentials(users))
    address = info.get("address") or host
    if not isinstance(address, str) or _checks.has_control(address):
        errors.append("%s: platform_host_address %r must be a host name or an IP address" % (host, address))
        address = host
    settings["address"] = address
    return settings, errors


# what Jetty's PropertyUserStore (Schema Registry, ksqlDB) makes of a password: the text after the
# first comma is roles, surrounding blanks are trimmed, and these prefixes name a hashed credential
_JETTY_CREDENTIAL_PREFIXES = ("MD5:", "CRYPT:", "OBF:")
_ROLE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def rest_user_errors(users: Any, chosen: Any = None, where: str = "", variable: str = "kafka_connect_rest",
                     jetty: bool = False) -> list[str]:
    """What is wrong with a REST API's users (``<variable>_users``, a list of ``{name, password}``,
    with ``jetty`` also optional ``roles``) and the one the role logs in as (``<variable>_user``, empty
    for the first); ``where`` starts each message. ``jetty``: the users file is Jetty's (Schema
    Registry, ksqlDB), which reads a comma as the start of the roles. The messages never hold a password."""
    if users in (None, ""):
        users = []
    if not isinstance(users, list):
        return ["%s%s_users must be a list of {name, password}, got %s" % (where, variable, type(users).__name__)]
    errors: list[str] = []
    names: list[str] = []
    for index, user in enumerate(users):
        at = "%s%s_users[%d]" % (where, variable, index)
        if not isinstance(user, dict):
            errors.append("%s must be a mapping with name and password" % at)
            continue
        name = user.get("name")
        if not isinstance(name, str) or not _USER.fullmatch(name) or (jetty and ("=" in name or "#" in name[:1])):
            errors.append("%s.name %r must be a user name without ':', %swhitespace or control characters (HTTP basic "
                          "auth sends name:password)" % (at, name, "'=', a leading '#', " if jetty else ""))
        elif name in names:
            errors.append("%s.name %r is declared twice" % (at, name))
        else:
            names.append(name)
        password = user.get("password")
        if not isinstance(password, str) or not password:
            errors.append("%s.password must be a non-empty string (quote a number)" % at)
        elif jetty and ("," in password or password != password.strip() or password.startswith(_JETTY_CREDENTIAL_PREFIXES)
                        or re.search(r"[\x00-\x1f\x7f]", password)):
            errors.append("%s.password cannot be kept in Jetty's users file: no ',', control characters, leading or "
                          "trailing blanks, and no %s prefix" % (at, "/".join(_JETTY_CREDENTIAL_PREFIXES)))
        roles = user.get("roles", ["user"])
        if jetty and (not isinstance(roles, list) or not roles or not all(isinstance(r, str) and _ROLE.fullmatch(r) for r in roles)):
            errors.append("%s.roles must be a non-empty list of role names (letters, digits, '.', '_', '-'), got %r"
                          % (at, roles))
    if chosen not in (None, ""):
        if not users:
            errors.append("%s%s_user %r names a user but %s_users is empty" % (where, variable, chosen, variable))
        elif chosen not in names:
            errors.append("%s%s_user %r is not one of %s_users (%s)"
                          % (where, variable, chosen, variable, ", ".join(names) or "none valid"))
    return errors


def _credentials(users: Any) -> dict[str, str]:
    """The well-formed entries of ``kafka_connect_rest_users``, name to password."""
    if not isinstance(users, list):
        return {}
    return {user["name"]: user["password"] for user in users
            if isinstance(user, dict) and isinstance(user.get("name"), str) and isinstance(user.get("password"), str)}


def connect_clusters(hosts: dict[str, dict[str, Any]], broker_count: int,
                     min_insync_replicas: int | None = None, rest_tls: bool = False) -> dict[str, Any]:
    """Group the Connect hosts into clusters and check them.

    ``hosts`` maps each host of the kafka_connect group to its variables (``kafka_connect_cluster``,
    ``kafka_connect_group_id``, the three ``kafka_connect_*_topic``, ``kafka_connect_replication_factor``,
    ``kafka_connect_rest_port``, ``kafka_connect_rest_tls``, ``kafka_connect_rest_users``,
    ``kafka_connect_rest_user``) and ``address``; an unset or empty one takes its default (cluster
    ``connect``, group id = cluster name, topics ``<group id>-configs|-offsets|-status``, replication
    factor ``min(3, brokers)`` (also for 0), port 8083, REST over TLS as ``rest_tls`` says, no REST users).
    ``min_insync_replicas`` is the brokers' ``min.insync.replicas``: Connect writes its internal
    topics with acks=all, so their replication factor may not be lower.

    Returns ``{"clusters": {name: {group_id, config_topic, offset_topic, status_topic,
    replication_factor, rest_port, rest_tls, rest_users, hosts: [...], urls: [...]}}, "errors": [...]}``;
    ``rest_users`` holds the REST API's user names only, never a password.
    """
    if not isinstance(hosts, dict):
        raise ConnectError("the Connect hosts must be a mapping of host name to variables, got %s"
                           % type(hosts).__name__)
    for host in hosts:
        _checks.text(host, "a host of the kafka_connect group", ConnectError)
    broker_count = _checks.integer(broker_count, "the number of brokers", ConnectError, low=0)
    errors: list[str] = []
    clusters: dict[str, dict[str, Any]] = {}
    passwords: dict[str, dict[str, str]] = {}  # the first host's users of each cluster, kept out of the result
    for host in sorted(hosts):
        info = hosts[host] if isinstance(hosts[host], dict) else {}
        settings, host_errors = _host_settings(host, info, broker_count, bool(rest_tls))
        errors.extend(host_errors)
        cluster = clusters.setdefault(settings["cluster"], {
            key: settings[key] for key, _variable in _SHARED})
        for key, variable in _SHARED:
            if cluster[key] != settings[key]:
                errors.append("%s: %s is %r but %s of the same Connect cluster %r has %r; every worker of a cluster "
                              "must agree" % (host, variable, settings[key], cluster["hosts"][0], settings["cluster"],
                                              cluster[key]))
        users = passwords.setdefault(settings["cluster"], _credentials(info.get("kafka_connect_rest_users")))
        differ = sorted(name for name, password in _credentials(info.get("kafka_connect_rest_users")).items()
                        if name in users and users[name] != password)
        if differ:
            errors.append("%s: kafka_connect_rest_users gives %s another password than %s of the same Connect cluster "
                          "%r does; every worker of a cluster must agree (a worker forwards a request to the leader with "
                          "the caller's credentials)" % (host, ", ".join(differ), cluster["hosts"][0], settings["cluster"]))
        cluster.setdefault("hosts", []).append(host)
        scheme = "https" if cluster["rest_tls"] else "http"
        cluster.setdefault("urls", []).append("%s://%s:%s" % (scheme, format_host(settings["address"]), cluster["rest_port"]))
    errors.extend(_cross_cluster_errors(clusters, min_insync_replicas))
    return {"clusters": clusters, "errors": errors}


def _cross_cluster_errors(clusters: dict[str, dict[str, Any]], min_isr: int | None) -> list[str]:
    """No two clusters share a group id or an internal topic; a cluster's three topics differ; the
    internal topics' replication factor is at least min.insync.replicas."""
    errors = []
    owners: dict[tuple[str, str], str] = {}
    for name in sorted(clusters):
        cluster = clusters[name]
        topics = [cluster[kind + "_topic"] for kind, _variable, _suffix in _TOPIC_KEYS]
        if len(set(topics)) < len(topics):
            errors.append("Connect cluster %r: its config, offset and status topics must be three different topics, "
                          "got %s" % (name, ", ".join(map(str, topics))))
        for kind, value in [("group id", cluster["group_id"])] + [("topic", t) for t in sorted(set(map(str, topics)))]:
            other = owners.setdefault((kind, str(value)), name)
            if other != name:
                errors.append("Connect clusters %r and %r both use the %s %r; two clusters sharing it would join one "
                              "group or overwrite each other's %s" % (other, name, kind, value,
                                                                      "members" if kind == "group id" else "state"))
        factor = cluster["replication_factor"]
        if isinstance(min_isr, int) and _is_int(min_isr) and _is_int(factor) and factor < min_isr:
            errors.append("Connect cluster %r: kafka_connect_replication_factor %d is below the brokers' "
                          "min.insync.replicas %d; Connect writes its internal topics with acks=all and would fail"
                          % (name, factor, min_isr))
    return errors


def _checksum_errors(where: str, checksum: Any) -> list[str]:
    if not isinstance(checksum, str) or not _CHECKSUM.fullmatch(checksum):
        return ["%s.checksum must be ALGORITHM:HEX (for example sha256:...), got %r" % (where, checksum)]
    algorithm, digest = checksum.split(":", 1)
    if len(digest) != _DIGEST_LENGTHS[algorithm]:
        expected = _DIGEST_LENGTHS[algorithm]
        return ["%s.checksum: a %s digest has %d hex digits, this one %d" % (where, algorithm, expected, len(digest))]
    return []


def _maven_url(where: str, coordinates: Any, repository: str) -> tuple[str, str, str, list[str]]:
    """The URL, version and file name of ``group:artifact:version[:classifier[:extension]]``."""
    parts = coordinates.split(":") if isinstance(coordinates, str) else []
    if not 3 <= len(parts) <= 5 or not all(_MAVEN_PART.fullmatch(p) for p in parts):
        return "", "", "", ["%s.maven must be group:artifact:version[:classifier[:extension]], got %r"
                            % (where, coordinates)]
    group, artifact, version = parts[:3]
    classifier = parts[3] if len(parts) > 3 else ""
    extension = parts[4] if len(parts) > 4 else ("tar.gz" if classifier == "plugin" else "jar")
    filename = "%s-%s%s.%s" % (artifact, version, "-" + classifier if classifier else "", extension)
    if not repository:
        return "", version, filename, ["%s.maven needs kafka_connect_maven_repository (the Maven repository's URL)"
                                       % where]
    url = "%s/%s/%s/%s/%s" % (repository.rstrip("/"), group.replace(".", "/"), artifact, version, filename)
    return url, version, filename, []


def plugin_sources(plugins: Any, repository: str = "", root: str = "/opt/kafka-connect/plugins") -> dict[str, Any]:
    """The plugins to install, one directory per plugin version under ``root``.

    Each entry of ``plugins`` is ``{"name", "maven"|"url"|"src", "checksum", "version", "classes"}``:
    ``maven`` coordinates (``group:artifact:version[:classifier[:extension]]``, resolved against
    ``repository``; classifier ``plugin`` defaults to a ``tar.gz``), a ``url``, or ``src``, a file on
    the control node. A download needs a ``checksum``; ``version`` is taken from Maven coordinates
    and required otherwise. ``classes`` lists the connector or transform classes the workers must
    list under ``/connector-plugins`` once restarted.

    Returns ``{"plugins": [{name, version, directory, path, download, url, src, checksum, filename,
    unpack, classes}], "errors": [...]}``; ``download`` is where the file is kept (under
    ``root/.downloads``), so that a second run downloads nothing.
    """
    result: list[dict[str, Any]] = []
    errors: list[str] = []
    repository = _checks.text(repository, "kafka_connect_maven_repository", ConnectError, optional=True)
    root = _checks.text(root, "the plugin root", ConnectError)
    if not root.startswith("/"):
        raise ConnectError("the plugin root must be an absolute path, got %r" % root)
    if plugins in (None, ""):
        plugins = []
    if not isinstance(plugins, list):
        return {"plugins": [], "errors": ["kafka_connect_plugins must be a list, got %s" % type(plugins).__name__]}
    names: set[str] = set()
    for index, entry in enumerate(plugins):
        where = "kafka_connect_plugins[%d]" % index
        if not isinstance(entry, dict):
            errors.append("%s must be a mapping with name and one of maven, url or src" % where)
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            errors.append("%s.name %r must be a name of letters, digits, '.', '_' or '-'" % (where, name))
            continue
        where = "kafka_connect_plugins[%d] (%s)" % (index, name)
        if name in names:
            errors.append("%s: the name %r is declared twice" % (where, name))
        names.add(name)
        sources = [key for key in ("maven", "url", "src") if _given(entry.get(key))]
        if len(sources) != 1:
            errors.append("%s: give exactly one of maven, url or src, got %s" % (where, ", ".join(sources) or "none"))
            continue
        source = sources[0]
        url = src = ""
        version = entry.get("version")
        if source == "maven":
            url, maven_version, filename, found = _maven_url(where, entry["maven"], repository)
            errors.extend(found)
            version = maven_version if version in (None, "") else version
        elif source == "url":
            url = str(entry["url"])
            if not re.fullmatch(r"https?://[^\s]+", url):
                errors.append("%s.url must be an http or https URL, got %r" % (where, url))
            filename = url.rsplit("/", 1)[-1].split("?", 1)[0]
        else:
            src = str(entry["src"])
            filename = src.rsplit("/", 1)[-1]
        checksum = entry.get("checksum")
        if source != "src" or _given(checksum):
            errors.extend(_checksum_errors(where, checksum))
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            errors.append("%s.version %r must be a version such as 3.6.1.Final (it names the plugin's directory)"
                          % (where, version))
            continue
        unpack = next((suffix for suffix in _ARCHIVES if filename.endswith(suffix)), "")
        if not unpack:
            errors.append("%s: %r is not a .tar.gz, .tgz, .zip or .jar file" % (where, filename))
        classes = entry.get("classes") or []
        if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
            errors.append("%s.classes must be a list of Java class names" % where)
            classes = []
        directory = "%s-%s" % (name, version)
        result.append({"name": name, "version": version, "directory": directory,
                       "path": "%s/%s" % (root.rstrip("/"), directory),
                       "download": "%s/.downloads/%s-%s" % (root.rstrip("/"), directory, filename), "url": url, "src": src,
                       "checksum": checksum if _given(checksum) else "", "filename": filename,
                       "unpack": unpack != ".jar", "classes": list(classes)})
    return {"plugins": result, "errors": errors}


def worker_properties(spec: dict[str, Any]) -> dict[str, Any]:
    """The properties of one Connect worker.

    ``spec``: ``cluster`` (an entry of :func:`connect_clusters`), ``address`` (what the worker
    advertises), ``bootstrap_servers`` (list), ``client`` (the Kafka client properties of the
    security description for Connect: plain, ``producer.``, ``consumer.`` and ``admin.`` keys),
    ``plugin_path``, ``secrets_dir`` (the only directory the file and directory providers may
    read), ``rest_tls`` (``{"keystore", "truststore", "password", "client_auth"}``: PKCS12 stores,
    for an HTTPS listener),
    ``overrides`` (the user's properties; ``None`` removes a key). A cluster with ``rest_users``
    gets the basic auth extension (``rest.extension.classes``; :func:`rest_auth` makes its files).

    Precedence: defaults < generated < overrides.
    """
    spec = _worker_spec(spec)
    cluster = spec["cluster"]
    properties: dict[str, Any] = dict(WORKER_DEFAULTS)
    properties.update(spec.get("client") or {})
    scheme = "https" if cluster.get("rest_tls") else "http"
    port = cluster["rest_port"]
    properties.update({
        "bootstrap.servers": ",".join(spec["bootstrap_servers"]),
        "group.id": cluster["group_id"],
        "config.storage.topic": cluster["config_topic"],
        "offset.storage.topic": cluster["offset_topic"],
        "status.storage.topic": cluster["status_topic"],
        "config.storage.replication.factor": cluster["replication_factor"],
        "offset.storage.replication.factor": cluster["replication_factor"],
        "status.storage.replication.factor": cluster["replication_factor"],
        "listeners": "%s://0.0.0.0:%s" % (scheme, port),
        "rest.advertised.listener": scheme,
        "rest.advertised.host.name": spec["address"],
        "rest.advertised.port": port,
        "plugin.path": spec["plugin_path"],
        "config.providers": ",".join(CONFIG_PROVIDERS),
    })
    for name, cls in CONFIG_PROVIDERS.items():
        properties["config.providers.%s.class" % name] = cls
    for name in ("file", "directory"):
        # Kafka 3.8+: the file providers read nothing outside the secrets directory
        properties["config.providers.%s.param.allowed.paths" % name] = spec["secrets_dir"]
    if scheme == "https":
        tls = spec.get("rest_tls") or {}
        if not tls.get("keystore") or not tls.get("truststore") or not tls.get("password"):
            raise ConnectError("an HTTPS REST listener (kafka_connect_rest_tls) needs a keystore, a truststore and "
                               "their password")
        # Connect's REST server and the client it forwards requests with read only listeners.https.* once one
        # is set, through Jetty, which takes Java key stores (PKCS12), not Kafka's PEM stores
        prefix = "listeners.https."
        properties.update({
            prefix + "ssl.keystore.type": "PKCS12", prefix + "ssl.keystore.location": tls["keystore"],
            prefix + "ssl.keystore.password": tls["password"], prefix + "ssl.key.password": tls["password"],
            prefix + "ssl.truststore.type": "PKCS12", prefix + "ssl.truststore.location": tls["truststore"],
            prefix + "ssl.truststore.password": tls["password"],
        })
        if tls.get("client_auth"):
            properties[prefix + "ssl.client.auth"] = "required"
    if cluster.get("rest_users"):
        properties["rest.extension.classes"] = BASIC_AUTH_EXTENSION
    for key, value in (spec.get("overrides") or {}).items():
        if value is None:
            properties.pop(key, None)
        else:
            properties[key] = value
    return properties


# what worker_properties reads of its description, and of the cluster in it
_WORKER_KEYS = ("cluster", "address", "bootstrap_servers", "plugin_path", "secrets_dir")
_CLUSTER_KEYS = ("group_id", "config_topic", "offset_topic", "status_topic", "replication_factor", "rest_port")


def _worker_spec(spec: Any) -> dict[str, Any]:
    """A worker's description checked for the keys :func:`worker_properties` reads and their types."""
    spec = _checks.mapping(spec, "the worker description", ConnectError)
    for key in _WORKER_KEYS:
        _checks.key(spec, key, "the worker description", ConnectError)
    cluster = _checks.mapping(spec["cluster"], "the worker description's cluster", ConnectError)
    for key in _CLUSTER_KEYS:
        _checks.key(cluster, key, "the worker description's cluster", ConnectError)
    _checks.port(cluster["rest_port"], "the cluster's rest_port", ConnectError)
    for key in ("address", "plugin_path", "secrets_dir"):
        _checks.text(spec[key], "the worker's %s" % key, ConnectError)
    for server in _checks.sequence(spec["bootstrap_servers"], "the worker's bootstrap_servers", ConnectError):
        _checks.text(server, "the worker's bootstrap_servers", ConnectError)
    for key in ("client", "overrides", "rest_tls"):
        _checks.mapping(spec.get(key) or None, "the worker's %s" % key, ConnectError, optional=True)
    return spec


def rest_auth(users: Any, directory: str) -> dict[str, Any]:
    """HTTP basic authentication on a worker's REST API for ``users`` (``kafka_connect_rest_users``).

    Returns ``{"files": [{"path", "content"}], "paths": [...], "jvm_options": [...]}``: the JAAS
    login config (section ``KafkaConnect``: the extension's PropertyFileLoginModule with ``file=``
    the users file) and the users file (``name=password``), both in ``directory``, and the JVM
    option that names the login config. Without users, ``files`` and ``jvm_options`` are empty -
    the login module lets every request in when its file is empty. ``paths`` are the two files
    either way (to remove them when no user is left). The contents hold the passwords.
    """
    errors = rest_user_errors(users)
    if errors:
        raise ConnectError("; ".join(errors))
    if not isinstance(directory, str) or not directory.startswith("/") or re.search(r"[\x00-\x1f\x7f]", directory):
        raise ConnectError("the directory of the REST API's login files must be an absolute path, got %r" % (directory,))
    jaas_path, users_path = ("%s/%s" % (directory.rstrip("/"), name) for name in _REST_AUTH_FILES)
    result: dict[str, Any] = {"files": [], "paths": [jaas_path, users_path], "jvm_options": []}
    if not users:
        return result
    quoted = '"%s"' % users_path.replace("\\", "\\\\").replace('"', '\\"')
    jaas = "KafkaConnect {\n  %s required\n  file=%s;\n};\n" % (_LOGIN_MODULE, quoted)
    result["files"] = [{"path": jaas_path, "content": jaas},
                       {"path": users_path, "content": to_java_properties(_credentials(users))}]
    result["jvm_options"] = ["-Djava.security.auth.login.config=%s" % jaas_path]
    return result
