# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The security-related ``server.properties`` of one Kafka broker or controller.

:func:`server_properties` reads as its steps: which listeners the process serves and knows,
where they are (``listeners``, ``advertised.listeners``...), how each one authenticates (SASL
JAAS, TLS stores), the cluster-wide TLS/Kerberos/OAuth settings, principals and the authorizer,
and, for ZooKeeper mode and migration, how the broker reaches ZooKeeper.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    IDENTITY_NAMES,
    KRAFT_AUTHORIZER,
    LOGIN_MODULES,
    OAUTH_LOGIN_HANDLER,
    OAUTH_VALIDATOR_HANDLER,
    ROLES,
    ROOT,
    TLS_PROTOCOLS,
    ZK_NETTY_CLIENT,
    ZOOKEEPER_AUTHORIZER,
    Canonical,
    Identity,
    Listener,
    Properties,
    as_boolean,
    as_host,
    as_mapping,
    as_port,
    fail,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.listeners import (
    effective_tls,
    listener_named,
    listener_path,
    sasl_mechanisms,
    served_listeners,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.normalize import normalize
from ansible_collections.kafkaops.platform.plugins.module_utils._security.render import (
    format_host,
    jaas,
    kerberos_options,
    store_properties,
    substitute,
    tls_common,
)

NODE_KEYS = ("roles", "host", "advertised", "zookeeper_mode", "migration")


def parse_node(node: Any) -> Dict[str, Any]:
    """The process ``server_properties`` is for: roles, host, advertised overrides, ZooKeeper mode, migration."""
    path = "node"
    raw = as_mapping(node, path, NODE_KEYS)
    roles = raw.get("roles")
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, (list, tuple)) or not roles:
        fail(path + ".roles", "must be a non-empty list of broker and/or controller")
    for role in roles:
        if role not in ROLES:
            fail(path + ".roles", "%r is not a role; use broker and/or controller" % (role,))
    advertised = raw.get("advertised") or {}
    if not isinstance(advertised, dict):
        fail(path + ".advertised", "must be a mapping of listener name to host/port")
    checked = {}
    for name, value in advertised.items():
        entry = as_mapping(value, "%s.advertised.%s" % (path, name), ("host", "port"))
        checked[name] = {
            "host": as_host(entry.get("host"), "%s.advertised.%s.host" % (path, name)),
            "port": as_port(entry.get("port"), "%s.advertised.%s.port" % (path, name), required=False),
        }
    zk_mode = as_boolean(raw.get("zookeeper_mode"), path + ".zookeeper_mode", False)
    if zk_mode and "controller" in roles:
        fail(path + ".roles", "a ZooKeeper-mode node is a broker only; controllers exist in KRaft mode")
    return {
        "roles": list(roles),
        "host": as_host(raw.get("host"), path + ".host"),
        "advertised": checked,
        "zookeeper_mode": zk_mode,
        "migration": as_boolean(raw.get("migration"), path + ".migration", False),
    }


class _Plan(NamedTuple):
    """The listeners of one process."""

    is_broker: bool
    controller: Optional[str]  # the controller listener the process uses; None for a ZooKeeper-mode broker
    inter_broker: str
    migrating_controller: bool  # a migrating controller also sends requests to the ZooKeeper-mode brokers
    served: List[Listener]  # what it listens on
    known: List[Listener]  # what it listens on or connects to (listener.security.protocol.map)


def server_properties(description: Any, node: Any) -> Properties:
    """Security-related ``server.properties`` of one Kafka process, all values strings.

    ``node``: ``roles`` (broker and/or controller), ``host`` (advertised host name),
    optional ``advertised`` (per-listener ``host``/``port`` overrides) and optional
    ``zookeeper_mode`` (a 3.9 ZooKeeper-mode broker: no controller listener) and optional
    ``migration`` (ZooKeeper-to-KRaft migration: a ZooKeeper-mode broker also reaches the controller
    listener; a controller also reaches ZooKeeper and the brokers' inter-broker listener).
    """
    sec = normalize(description)
    node = parse_node(node)
    plan = _plan(sec, node)
    props = _listener_addresses(sec, node, plan)
    listener_props, used = _listener_security(sec, node, plan)
    props.update(listener_props)
    props.update(_mechanism_settings(sec, used))
    props.update(_principal_settings(sec, node["zookeeper_mode"]))
    if node["zookeeper_mode"] or node["migration"]:
        props.update(_zookeeper_client_properties(sec, node["host"]))
    return props


def _plan(sec: Canonical, node: Dict[str, Any]) -> _Plan:
    """Which listeners the process serves and knows; refuses a KRaft node without a controller listener."""
    is_broker = "broker" in node["roles"]
    is_controller = "controller" in node["roles"]
    zk_mode, migration = node["zookeeper_mode"], node["migration"]
    controller = None if zk_mode and not migration else sec["controller_listener"]
    if not zk_mode and controller is None:
        fail(ROOT + ".controller_listener", "is required for KRaft nodes (set node.zookeeper_mode for a ZooKeeper-mode broker)")
    if migration and controller is None:
        fail(ROOT + ".controller_listener", "is required to migrate to KRaft (brokers reach the controllers on it)")
    for name in node["advertised"]:
        if name not in [lsn["name"] for lsn in sec["listeners"]]:
            fail("node.advertised." + name, "listener %s is not defined in %s.listeners" % (name, ROOT))
    served = served_listeners(sec, node["roles"])
    known = list(served)
    if is_broker and controller is not None and listener_named(sec, controller) not in known:
        known.append(listener_named(sec, controller))
    inter_broker = sec["inter_broker_listener"]
    migrating_controller = is_controller and migration
    if migrating_controller and listener_named(sec, inter_broker) not in known:
        known.append(listener_named(sec, inter_broker))
    return _Plan(is_broker, controller, inter_broker, migrating_controller, served, known)


def _listener_addresses(sec: Canonical, node: Dict[str, Any], plan: _Plan) -> Dict[str, str]:
    """``listeners``, the protocol map, ``advertised.listeners`` and the listener names of each part."""
    props = {
        "listeners": ",".join("%s://%s:%d" % (lsn["name"], format_host(lsn["bind_address"]), lsn["port"]) for lsn in plan.served),
        "listener.security.protocol.map": ",".join("%s:%s" % (lsn["name"], lsn["protocol"]) for lsn in plan.known),
    }
    if plan.is_broker:
        advertised = []
        for listener in plan.served:
            if listener["name"] == plan.controller:
                continue  # clients never reach controllers through advertised.listeners
            override = node["advertised"].get(listener["name"], {})
            host = override.get("host") or listener["advertised_host"] or node["host"]
            if not host:
                fail("node.host", "is required: listener %s has no advertised_host" % listener["name"])
            port = override.get("port") or listener["advertised_port"]
            advertised.append("%s://%s:%d" % (listener["name"], format_host(host), port))
        props["advertised.listeners"] = ",".join(advertised)
        props["inter.broker.listener.name"] = plan.inter_broker
    if plan.migrating_controller:
        props["inter.broker.listener.name"] = plan.inter_broker
    if plan.controller is not None:
        props["controller.listener.names"] = plan.controller
    return props


def _listener_security(sec: Canonical, node: Dict[str, Any], plan: _Plan) -> Tuple[Properties, Set[str]]:
    """The SASL and TLS properties of each listener the process knows, and what they use
    (``tls``, ``gssapi``, ``oauth_server``, ``oauth_client``) for the cluster-wide settings."""
    props: Dict[str, str] = {}
    used: Set[str] = set()
    for listener in plan.known:
        prefix = "listener.name.%s." % listener["name"].lower()
        path = listener_path(sec, listener["name"])
        is_served = listener in plan.served
        client_of = None  # the identity this process logs in with when it connects to the listener as a client
        if listener["name"] == plan.inter_broker and (plan.is_broker or plan.migrating_controller):
            client_of = "broker"
        if listener["name"] == plan.controller:
            client_of = "controller"
        props.update(_listener_sasl(sec, node["host"], listener, client_of, is_served, used))
        if listener["protocol"] in TLS_PROTOCOLS:
            used.add("tls")
            keystore, truststore = effective_tls(sec, listener)
            props.update(store_properties(prefix, keystore, truststore, node["host"], path + ".tls"))
            if "mtls" in listener["authentication"] and is_served:
                props[prefix + "ssl.client.auth"] = "required"
    return props, used


def _listener_sasl(sec: Canonical, host: Optional[str], listener: Listener, client_of: Optional[str], is_served: bool,
                   used: Set[str]) -> Properties:
    """The SASL properties of one listener: enabled mechanisms where the process serves it, one JAAS
    per mechanism it serves, and the first mechanism's JAAS where it connects as ``client_of``."""
    props: Dict[str, str] = {}
    prefix = "listener.name.%s." % listener["name"].lower()
    path = listener_path(sec, listener["name"])
    mechanisms = sasl_mechanisms(listener)
    if mechanisms and client_of is not None:
        key = "sasl.mechanism.inter.broker.protocol" if client_of == "broker" else "sasl.mechanism.controller.protocol"
        props[key] = mechanisms[0]
    if mechanisms and is_served:
        props[prefix + "sasl.enabled.mechanisms"] = ",".join(mechanisms)
    for index, mechanism in enumerate(mechanisms):
        as_client = client_of is not None and index == 0
        if not is_served and not as_client:
            continue
        identity = sec["credentials"][client_of] if client_of is not None and as_client and mechanism != "GSSAPI" else None
        mech_prefix = prefix + mechanism.lower() + "."
        props[mech_prefix + "sasl.jaas.config"] = server_jaas(sec, listener, mechanism, identity, is_served, host, path)
        if mechanism == "GSSAPI":
            used.add("gssapi")
        if mechanism == "OAUTHBEARER":
            if is_served:
                used.add("oauth_server")
                props[mech_prefix + "sasl.server.callback.handler.class"] = OAUTH_VALIDATOR_HANDLER
            if as_client:
                used.add("oauth_client")
                props[mech_prefix + "sasl.login.callback.handler.class"] = OAUTH_LOGIN_HANDLER
    return props


# what Kafka's JAAS parser (a java.io.StreamTokenizer) reads as one word after "user_": letters, digits,
# "." "-" "_" "$" and everything from U+00A0 up; "@", "/", "+", quotes and the like would end the word
JAAS_WORD = re.compile("[A-Za-z0-9._$\\-\u00a0-\U0010ffff]+")


def server_jaas(sec: Canonical, listener: Listener, mechanism: str, client_identity: Optional[Identity], serve: bool,
                host: Optional[str], path: str) -> str:
    """JAAS of one mechanism of a listener.

    ``serve``: the process accepts connections on the listener (PLAIN then lists its
    users); ``client_identity``: the identity it logs in with when it connects to the
    listener itself (inter-broker or controller traffic), else ``None``.
    """
    module = LOGIN_MODULES[mechanism]
    if mechanism == "GSSAPI":
        kerberos = sec["kerberos"]
        principal = substitute(kerberos["principal"], host, ROOT + ".kerberos.principal")
        keytab = substitute(kerberos["keytab"], host, ROOT + ".kerberos.keytab")
        return jaas(module, kerberos_options(principal or "", keytab or ""))
    options = []
    if client_identity is not None:
        if mechanism == "OAUTHBEARER":
            options += [("clientId", client_identity["client_id"]), ("clientSecret", client_identity["client_secret"])]
            if client_identity["scope"]:
                options.append(("scope", client_identity["scope"]))
        else:
            options += [("username", client_identity["username"]), ("password", client_identity["password"])]
    if mechanism == "PLAIN" and serve:
        if listener["name"] == sec["controller_listener"]:
            users = _password_users(sec, ("controller", "admin"), with_users=False)
        else:
            users = _password_users(sec, IDENTITY_NAMES, with_users=True)
        if not users:
            fail(path + ".authentication", "plain needs at least one user to check passwords against: define %s.credentials" % ROOT)
        for name, _password in users:
            if not JAAS_WORD.fullmatch(name):
                fail(ROOT + ".credentials", "the PLAIN user %r cannot be a JAAS option name (user_<name>): use letters, digits "
                     "and . _ - $ in a name that PLAIN serves" % name)
        options += [("user_" + name, password) for name, password in users]
    return jaas(module, options)


def _password_users(sec: Canonical, names: Sequence[str], with_users: bool) -> List[Tuple[str, str]]:
    """(username, password) pairs of the cluster identities ``names`` (and the extra users)."""
    creds = sec["credentials"]
    users = []
    for identity in [creds[n] for n in names] + (creds["users"] if with_users else []):
        if identity is not None and identity["username"] is not None:
            pair = (identity["username"], identity["password"])
            if pair not in users:
                users.append(pair)
    return users


def _mechanism_settings(sec: Canonical, used: Set[str]) -> Properties:
    """Cluster-wide TLS, Kerberos and OAuth settings, for what the listeners use."""
    props: Dict[str, str] = {}
    if "tls" in used:
        props.update(tls_common(sec["tls"]))
    if "gssapi" in used:
        props["sasl.kerberos.service.name"] = sec["kerberos"]["service_name"]
    oauth = sec["oauthbearer"]
    if "oauth_server" in used:
        props["sasl.oauthbearer.jwks.endpoint.url"] = oauth["jwks_endpoint_url"]
        if oauth["expected_audience"]:
            props["sasl.oauthbearer.expected.audience"] = ",".join(oauth["expected_audience"])
        if oauth["expected_issuer"]:
            props["sasl.oauthbearer.expected.issuer"] = oauth["expected_issuer"]
        if oauth["scope_claim_name"]:
            props["sasl.oauthbearer.scope.claim.name"] = oauth["scope_claim_name"]
        if oauth["sub_claim_name"]:
            props["sasl.oauthbearer.sub.claim.name"] = oauth["sub_claim_name"]
    if "oauth_client" in used:
        props["sasl.oauthbearer.token.endpoint.url"] = oauth["token_endpoint_url"]
    return props


def _principal_settings(sec: Canonical, zk_mode: bool) -> Properties:
    """Principal mapping rules and the authorizer (the cluster identities are super users)."""
    props: Dict[str, str] = {}
    mapping = sec["principal_mapping"]
    if mapping["ssl"]:
        props["ssl.principal.mapping.rules"] = ",".join(mapping["ssl"])
    if mapping["kerberos"]:
        props["sasl.kerberos.principal.to.local.rules"] = ",".join(mapping["kerberos"])
    authorizer = sec["authorizer"]
    if authorizer["enabled"]:
        props["authorizer.class.name"] = ZOOKEEPER_AUTHORIZER if zk_mode else KRAFT_AUTHORIZER
        props["allow.everyone.if.no.acl.found"] = "true" if authorizer["allow_everyone_if_no_acl_found"] else "false"
        super_users = list(authorizer["super_users"])
        for name in _cluster_usernames(sec, IDENTITY_NAMES):
            principal = "User:" + name
            if principal not in super_users:
                super_users.append(principal)
        if super_users:
            props["super.users"] = ";".join(super_users)
    return props


def _cluster_usernames(sec: Canonical, names: Sequence[str]) -> List[str]:
    creds = sec["credentials"]
    return [creds[n]["username"] for n in names if creds[n] is not None and creds[n]["username"] is not None]


def _zookeeper_client_properties(sec: Canonical, host: Optional[str]) -> Properties:
    """How a ZooKeeper-mode or migrating process reaches ZooKeeper: ACLs and TLS."""
    zk = sec["zookeeper"]
    props: Dict[str, Any] = {"zookeeper.set.acl": "true" if zk["set_acl"] else "false"}
    if zk["tls"]:
        props["zookeeper.ssl.client.enable"] = "true"
        props["zookeeper.clientCnxnSocket"] = ZK_NETTY_CLIENT
        path = ROOT + ".zookeeper"
        if zk["authentication"] == "mtls":
            store = zk["keystore"]
            props["zookeeper.ssl.keystore.location"] = substitute(store["path"], host, path + ".keystore.path")
            props["zookeeper.ssl.keystore.type"] = store["type"]
            if store["password"] is not None:
                props["zookeeper.ssl.keystore.password"] = store["password"]
        store = zk["truststore"]
        if store is not None:
            props["zookeeper.ssl.truststore.location"] = substitute(store["path"], host, path + ".truststore.path")
            props["zookeeper.ssl.truststore.type"] = store["type"]
            if store["password"] is not None:
                props["zookeeper.ssl.truststore.password"] = store["password"]
        props["zookeeper.ssl.endpoint.identification.algorithm"] = "HTTPS" if sec["tls"]["endpoint_identification"] else ""
        if sec["tls"]["protocols"]:
            props["zookeeper.ssl.enabled.protocols"] = ",".join(sec["tls"]["protocols"])
        if sec["tls"]["cipher_suites"]:
            props["zookeeper.ssl.cipher.suites"] = ",".join(sec["tls"]["cipher_suites"])
    return props
