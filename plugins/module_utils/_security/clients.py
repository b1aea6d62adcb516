# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""What Kafka clients are given: property sets for the admin tools, Connect, Schema Registry, ksqlDB,
producers and consumers, and the keyword arguments of the kafka-python client."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    CLIENT_KINDS,
    IDENTITY_NAMES,
    LOGIN_MODULES,
    OAUTH_LOGIN_HANDLER,
    ROOT,
    TLS_PROTOCOLS,
    Canonical,
    Identity,
    Listener,
    Properties,
    fail,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.listeners import (
    effective_tls,
    find_listener,
    sasl_mechanisms,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.normalize import normalize
from ansible_collections.kafkaops.platform.plugins.module_utils._security.render import (
    describe_store,
    jaas,
    kerberos_options,
    store_properties,
    substitute,
    tls_common,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.sections import (
    MECHANISM_NEEDS,
    has_material,
    parse_identity,
)


def client_properties(description: Any, client: str, listener: Optional[str] = None, identity: Any = None,
                      host: Optional[str] = None) -> Properties:
    """Kafka client properties (strings) for ``client``, one of :data:`CLIENT_KINDS`.

    ``listener`` defaults to ``admin_listener`` for ``admin`` and ``client_listener`` for
    the others. ``identity`` is a mapping (username/password, principal/keytab,
    client_id/client_secret, keystore) or the name of an identity in ``credentials``
    (``admin``, ``broker``, ``controller`` or a ``users`` username); ``admin`` defaults
    to ``credentials.admin``. ``host`` replaces ``{host}`` in paths and principals.
    """
    if client not in CLIENT_KINDS:
        fail("client", "%r is not a client kind; use one of %s" % (client, ", ".join(CLIENT_KINDS)))
    default_identity = "admin" if client == "admin" else None
    sec, chosen, resolved, mechanism = _client_context(description, listener, identity, default_identity, "client %s" % client)
    base = _client_base(sec, chosen, resolved, mechanism, host)
    if client in ("admin", "producer", "consumer"):
        return base
    if client == "connect":
        props = dict(base)
        for prefix in ("producer.", "consumer.", "admin."):
            props.update({prefix + key: value for key, value in base.items()})
        return props
    if client == "schema_registry":
        return {"kafkastore." + key: value for key, value in base.items()}
    return {"ksql.streams." + key: value for key, value in base.items()}


SUPPLIED_PARTS = ("sasl", "ca", "certificate")


def kafka_python_client_config(description: Any, listener: Optional[str] = None, identity: Any = None,
                               host: Optional[str] = None, supplied: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """Keyword arguments for kafka-python (3.x) clients: security settings only.

    The description is read as a client's (see :func:`normalize` with ``client=True``).
    Defaults to ``admin_listener`` and ``credentials.admin``. kafka-python reads PEM
    files only: the CA comes from ``tls.ca_file`` (or a PEM truststore path) and an mTLS
    identity needs a PEM keystore file holding the certificate chain and private key.
    ``supplied`` names the parts (of :data:`SUPPLIED_PARTS`) the caller gives itself - SASL
    login, CA, client certificate: the description is neither asked for them nor used for them.
    """
    unknown = [part for part in supplied if part not in SUPPLIED_PARTS]
    if unknown:
        fail("supplied", "unknown parts %s; use %s" % (", ".join(unknown), ", ".join(SUPPLIED_PARTS)))
    sec, chosen, resolved, mechanism = _client_context(description, listener, identity, "admin", "kafka-python",
                                                       client=True, supplied=supplied)
    config: Dict[str, Any] = {"security_protocol": chosen["protocol"]}
    if mechanism is not None:
        if mechanism == "OAUTHBEARER":
            fail("listener", "%s offers only OAUTHBEARER for this identity; kafka-python needs a token provider "
                             "object for it: point %s.admin_listener at a listener with another mechanism"
                 % (chosen["name"], ROOT))
        config["sasl_mechanism"] = mechanism
        if mechanism == "GSSAPI":
            config["sasl_kerberos_service_name"] = sec["kerberos"]["service_name"] if sec["kerberos"] else "kafka"
        elif "sasl" not in supplied:
            config["sasl_plain_username"] = resolved["username"] if resolved else None
            config["sasl_plain_password"] = resolved["password"] if resolved else None
    if chosen["protocol"] in TLS_PROTOCOLS:
        config.update(_kafka_python_tls(sec, chosen, resolved, host, supplied))
    return config


def _kafka_python_tls(sec: Canonical, chosen: Listener, resolved: Optional[Identity], host: Optional[str],
                      supplied: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """kafka-python's TLS arguments: hostname check, the PEM CA file and an mTLS identity's PEM file."""
    config: Dict[str, Any] = {"ssl_check_hostname": sec["tls"]["endpoint_identification"]}
    _keystore, truststore = effective_tls(sec, chosen)
    ca_file = sec["tls"]["ca_file"]
    if chosen["tls"] and chosen["tls"]["truststore"] is not None:
        own = chosen["tls"]["truststore"]
        ca_file = own["path"] if own["type"] == "PEM" and own["path"] else None
    if "ca" not in supplied:
        if truststore is not None and ca_file is None:
            fail(ROOT + ".tls.ca_file", "kafka-python reads a PEM CA file only, and the truststore of %s is %s; "
                                        "set tls.ca_file to a PEM bundle of the same CA" % (chosen["name"], describe_store(truststore)))
        if ca_file is not None:
            config["ssl_cafile"] = substitute(ca_file, host, ROOT + ".tls.ca_file")
    if "mtls" in chosen["authentication"] and resolved is not None and "certificate" not in supplied:
        keystore = resolved["keystore"]
        if keystore["type"] != "PEM" or keystore["path"] is None:
            fail("identity.keystore", "kafka-python needs a PEM file holding the certificate chain and private key, got %s"
                 % describe_store(keystore))
        config["ssl_certfile"] = substitute(keystore["path"], host, "identity.keystore.path")
        if keystore["key_password"] is not None:
            config["ssl_password"] = keystore["key_password"]
    return config


def _resolve_identity(sec: Canonical, identity: Any, path: str = "identity") -> Optional[Identity]:
    """An identity given as a mapping, or by its name in ``credentials``; ``None`` for none."""
    creds = sec["credentials"]
    if identity is None or isinstance(identity, dict):
        return parse_identity(identity, path) if isinstance(identity, dict) else None
    if not isinstance(identity, str):
        fail(path, "must be a mapping or the name of an identity in %s.credentials" % ROOT)
    if identity in IDENTITY_NAMES:
        if creds[identity] is None:
            fail(path, "%s.credentials.%s is not defined" % (ROOT, identity))
        return creds[identity]
    for user in creds["users"]:
        if user["username"] == identity:
            return user
    known = [n for n in IDENTITY_NAMES if creds[n] is not None] + [u["username"] for u in creds["users"]]
    fail(path, "no identity %r in %s.credentials (known: %s)" % (identity, ROOT, ", ".join(known) or "none"))


def _client_context(description: Any, client_listener: Optional[str], identity: Any, default_identity: Optional[str],
                    purpose: str, client: bool = False,
                    supplied: Tuple[str, ...] = ()) -> Tuple[Canonical, Listener, Optional[Identity], Optional[str]]:
    """The canonical form, the listener to connect to, the identity and the SASL mechanism it uses;
    ``client`` reads the description as a client-only one (see :func:`normalize`); the parts in
    ``supplied`` (see :func:`kafka_python_client_config`) are not asked of the identity."""
    sec = normalize(description, client=client)
    name = client_listener
    if name is None:
        name = sec["admin_listener"] if default_identity == "admin" else sec["client_listener"]
    listener = find_listener(sec, name)
    if listener is None:
        fail("listener", "%r is not defined in %s.listeners (defined: %s)"
             % (name, ROOT, ", ".join(lsn["name"] for lsn in sec["listeners"])))
    if identity is None and default_identity is not None and sec["credentials"][default_identity] is not None:
        identity = default_identity
    resolved = _resolve_identity(sec, identity)
    mechanism = None
    mechanisms = sasl_mechanisms(listener)
    if mechanisms and "sasl" in supplied:
        mechanism = mechanisms[0]
    elif mechanisms:
        usable = [m for m in mechanisms if has_material(resolved, m)]
        if not usable:
            fail("identity", "%s on listener %s needs an identity with %s (listener mechanisms: %s)"
                 % (purpose, name, " or ".join(sorted(set(MECHANISM_NEEDS[m] for m in mechanisms))), ", ".join(mechanisms)))
        mechanism = usable[0]
    if "mtls" in listener["authentication"] and "certificate" not in supplied and (resolved is None or resolved["keystore"] is None):
        fail("identity", "%s on listener %s needs an identity with a keystore (the listener uses mtls)" % (purpose, name))
    return sec, listener, resolved, mechanism


def _client_base(sec: Canonical, listener: Listener, identity: Optional[Identity], mechanism: Optional[str],
                 host: Optional[str]) -> Properties:
    """The plain client properties: protocol, SASL login, TLS stores."""
    props: Dict[str, Any] = {"security.protocol": listener["protocol"]}
    if mechanism is not None and identity is not None:
        props.update(_client_sasl(sec, identity, mechanism, host))
    if listener["protocol"] in TLS_PROTOCOLS:
        _keystore, truststore = effective_tls(sec, listener)
        keystore = identity["keystore"] if identity is not None and "mtls" in listener["authentication"] else None
        props.update(store_properties("", keystore, truststore, host, "identity"))
        props.update(tls_common(sec["tls"]))
    return props


def _client_sasl(sec: Canonical, identity: Identity, mechanism: str, host: Optional[str]) -> Properties:
    """``sasl.mechanism``, ``sasl.jaas.config`` and what the mechanism needs besides."""
    props = {"sasl.mechanism": mechanism}
    module = LOGIN_MODULES[mechanism]
    if mechanism == "GSSAPI":
        principal = substitute(identity["principal"], host, "identity.principal")
        keytab = substitute(identity["keytab"], host, "identity.keytab")
        props["sasl.jaas.config"] = jaas(module, kerberos_options(principal or "", keytab or ""))
        props["sasl.kerberos.service.name"] = sec["kerberos"]["service_name"] if sec["kerberos"] else "kafka"
    elif mechanism == "OAUTHBEARER":
        options = [("clientId", identity["client_id"]), ("clientSecret", identity["client_secret"])]
        if identity["scope"]:
            options.append(("scope", identity["scope"]))
        props["sasl.jaas.config"] = jaas(module, options)
        props["sasl.login.callback.handler.class"] = OAUTH_LOGIN_HANDLER
        token_url = sec["oauthbearer"]["token_endpoint_url"] if sec["oauthbearer"] else None
        if token_url is None:
            fail(ROOT + ".oauthbearer.token_endpoint_url", "is required for OAUTHBEARER clients")
        props["sasl.oauthbearer.token.endpoint.url"] = token_url
    else:
        props["sasl.jaas.config"] = jaas(module, [("username", identity["username"]), ("password", identity["password"])])
    return props
