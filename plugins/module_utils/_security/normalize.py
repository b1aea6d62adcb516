# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The whole security description validated into its canonical form, with the checks that span sections
(TLS material of each TLS listener, credentials each SASL listener needs, an authorizer's authenticated peers)."""

from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    DEFAULT_SECURITY,
    ROOT,
    SCRAM_MECHANISMS,
    TLS_PROTOCOLS,
    Canonical,
    Listener,
    as_mapping,
    fail,
    required_string,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.listeners import (
    effective_tls,
    listener_named,
    listener_path,
    sasl_mechanisms,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.sections import (
    MECHANISM_NEEDS,
    has_material,
    parse_authorizer,
    parse_credentials,
    parse_kerberos,
    parse_listener,
    parse_oauthbearer,
    parse_principal_mapping,
    parse_tls,
    parse_zookeeper,
)

TOP_KEYS = ("listeners", "inter_broker_listener", "controller_listener", "client_listener", "admin_listener",
            "tls", "authorizer", "principal_mapping", "kerberos", "oauthbearer", "credentials", "zookeeper")


def normalize(description: Any, client: bool = False) -> Canonical:
    """Validate a security description and return its canonical form.

    ``None`` or ``{}`` mean :data:`DEFAULT_SECURITY`. Keys that are absent take their
    defaults; every key of the canonical form is present. Raises
    :class:`SecurityConfigError` naming the offending key.

    ``client=True`` reads the description as a client does (the modules' ``security``
    option): the listeners it connects to, their protocols and mechanisms, the CA and the
    credentials. What only the servers need is not asked for: a controller listener, server
    key stores, the brokers' and controllers' own credentials, Kerberos and OAuth validation
    settings, an authenticated inter-broker listener for the authorizer.
    """
    raw = as_mapping(description, ROOT, TOP_KEYS)
    sec: Dict[str, Any] = {"listeners": _parse_listeners(raw.get("listeners", DEFAULT_SECURITY["listeners"]))}
    _name_listener_roles(raw, sec, client)
    sec["tls"] = parse_tls(raw.get("tls"), ROOT + ".tls")
    sec["authorizer"] = parse_authorizer(raw.get("authorizer"), ROOT + ".authorizer")
    sec["principal_mapping"] = parse_principal_mapping(raw.get("principal_mapping"), ROOT + ".principal_mapping")
    sec["kerberos"] = parse_kerberos(raw.get("kerberos"), ROOT + ".kerberos")
    sec["oauthbearer"] = parse_oauthbearer(raw.get("oauthbearer"), ROOT + ".oauthbearer")
    sec["credentials"] = parse_credentials(raw.get("credentials"), ROOT + ".credentials")
    sec["zookeeper"] = parse_zookeeper(raw.get("zookeeper"), ROOT + ".zookeeper", sec["tls"])
    if client:
        return sec

    _check_tls_material(sec)
    _check_sasl(sec)
    _check_authorizer(sec)
    return sec


def _parse_listeners(value: Any) -> List[Listener]:
    """The listeners, each name and port used once."""
    if not isinstance(value, list) or not value:
        fail(ROOT + ".listeners", "must be a non-empty list of listeners")
    listeners = []
    names: Dict[str, int] = {}
    ports: Dict[int, str] = {}
    for index, item in enumerate(value):
        path = "%s.listeners[%d]" % (ROOT, index)
        listener = parse_listener(item, path)
        if listener["name"] in names:
            fail(path + ".name", "duplicate listener name %s (also listeners[%d])" % (listener["name"], names[listener["name"]]))
        if listener["port"] in ports:
            fail(path + ".port", "duplicate port %d (also used by %s)" % (listener["port"], ports[listener["port"]]))
        names[listener["name"]] = index
        ports[listener["port"]] = listener["name"]
        listeners.append(listener)
    return listeners


def _name_listener_roles(raw: Dict[str, Any], sec: Dict[str, Any], client: bool = False) -> None:
    """Set the controller, inter-broker, client and admin listeners of ``sec`` (defaults filled in).

    For a client (``client=True``) a default that names no defined listener is dropped: the
    controller listener becomes ``None`` and the inter-broker one the first other listener.
    """
    listeners = sec["listeners"]
    known = [lsn["name"] for lsn in listeners]

    def reference(key: str, default: Any, allow_null: bool = False) -> Any:
        if client and key not in raw and default not in known:
            others = [name for name in known if name != sec.get("controller_listener")]
            default = None if allow_null else (others or known)[0]
        value = raw.get(key, default)
        if value is None and allow_null:
            return None
        value = required_string(value, "%s.%s" % (ROOT, key))
        if value not in known:
            origin = " (the default)" if key not in raw else ""
            fail("%s.%s" % (ROOT, key), "listener %s%s is not defined in %s.listeners (defined: %s)"
                 % (value, origin, ROOT, ", ".join(known)))
        return value

    sec["controller_listener"] = reference("controller_listener", DEFAULT_SECURITY["controller_listener"], allow_null=True)
    sec["inter_broker_listener"] = reference("inter_broker_listener", DEFAULT_SECURITY["inter_broker_listener"])
    if sec["inter_broker_listener"] == sec["controller_listener"]:
        fail(ROOT + ".inter_broker_listener", "%s is the controller listener; brokers must replicate over a different listener"
             % sec["inter_broker_listener"])
    default_client = next((name for name in known if name not in (sec["controller_listener"], sec["inter_broker_listener"])),
                          sec["inter_broker_listener"])
    sec["client_listener"] = reference("client_listener", default_client)
    sec["admin_listener"] = reference("admin_listener", sec["client_listener"])
    for key in ("client_listener", "admin_listener"):
        if sec[key] == sec["controller_listener"]:
            fail("%s.%s" % (ROOT, key), "%s is the controller listener; clients connect to broker listeners" % sec[key])


# --------------------------------------------------------------------------------------
# Checks that span sections
# --------------------------------------------------------------------------------------

def _check_tls_material(sec: Canonical) -> None:
    """Each TLS listener has a keystore, and a truststore when it verifies client certificates."""
    for listener in sec["listeners"]:
        if listener["protocol"] not in TLS_PROTOCOLS:
            continue
        keystore, truststore = effective_tls(sec, listener)
        path = listener_path(sec, listener["name"])
        if keystore is None:
            fail(path, "protocol %s needs a keystore: set %s.tls.keystore or %s.tls.keystore" % (listener["protocol"], ROOT, path))
        if "mtls" in listener["authentication"] and truststore is None:
            fail(path, "mtls needs a truststore to verify client certificates: set %s.tls.truststore or %s.tls.truststore" % (ROOT, path))


def _check_sasl(sec: Canonical) -> None:
    """Kerberos and OAuth settings exist where listeners use them, and every process and the admin
    client has the credentials the SASL mechanisms of the listeners it connects to need."""
    all_mechanisms = set()
    for listener in sec["listeners"]:
        all_mechanisms.update(sasl_mechanisms(listener))
    if "GSSAPI" in all_mechanisms and sec["kerberos"] is None:
        fail(ROOT + ".kerberos", "is required because a listener uses gssapi (the brokers' service principal and keytab)")
    if "OAUTHBEARER" in all_mechanisms and (sec["oauthbearer"] is None or sec["oauthbearer"]["jwks_endpoint_url"] is None):
        fail(ROOT + ".oauthbearer.jwks_endpoint_url", "is required because a listener uses oauthbearer (brokers validate tokens against it)")
    _check_process_credentials(sec)
    _check_admin_credentials(sec)


def _check_process_credentials(sec: Canonical) -> None:
    """Brokers and controllers can log in to the inter-broker and controller listeners."""
    creds = sec["credentials"]
    roles = (("inter_broker_listener", "broker", "brokers replicate"),
             ("controller_listener", "controller", "brokers and controllers talk to the controller quorum"))
    for key, who, why in roles:
        name = sec[key]
        if name is None:
            continue
        mechanisms = sasl_mechanisms(listener_named(sec, name))
        if not mechanisms:
            continue
        mechanism = mechanisms[0]
        if key == "controller_listener" and mechanism in SCRAM_MECHANISMS:
            fail(listener_path(sec, name) + ".authentication",
                 "%s cannot be the first mechanism of the controller listener: KRaft controllers cannot "
                 "authenticate each other with SCRAM (the credentials live in the metadata log they serve, "
                 "KAFKA-15513); put plain, gssapi, oauthbearer first or use mtls" % mechanism.lower())
        if mechanism == "GSSAPI":
            continue  # the process authenticates with its own service principal (platform_security.kerberos)
        if not has_material(creds[who], mechanism):
            fail("%s.credentials.%s" % (ROOT, who),
                 "%s is required because %s over %s with SASL mechanism %s"
                 % (MECHANISM_NEEDS[mechanism], why, name, mechanism))
        if mechanism == "OAUTHBEARER" and sec["oauthbearer"]["token_endpoint_url"] is None:
            fail(ROOT + ".oauthbearer.token_endpoint_url", "is required because %s over %s with OAUTHBEARER" % (why, name))


def _check_admin_credentials(sec: Canonical) -> None:
    """This collection's admin client can log in to the admin listener."""
    admin = listener_named(sec, sec["admin_listener"])
    mechanisms = sasl_mechanisms(admin)
    identity = sec["credentials"]["admin"]
    if mechanisms and not any(has_material(identity, m) for m in mechanisms):
        fail(ROOT + ".credentials.admin", "%s is required because this collection's admin client connects to %s (SASL mechanism %s)"
             % (MECHANISM_NEEDS[mechanisms[0]], admin["name"], mechanisms[0]))
    if "mtls" in admin["authentication"] and (identity is None or identity["keystore"] is None):
        fail(ROOT + ".credentials.admin.keystore", "is required because this collection's admin client connects to %s, which uses mtls"
             % admin["name"])


def _check_authorizer(sec: Canonical) -> None:
    """An authorizer needs brokers and controllers that authenticate (not User:ANONYMOUS)."""
    if not sec["authorizer"]["enabled"]:
        return
    for key in ("inter_broker_listener", "controller_listener"):
        name = sec[key]
        if name is None:
            continue
        if listener_named(sec, name)["authentication"] == ["none"]:
            fail(ROOT + ".authorizer.enabled",
                 "the authorizer needs authenticated brokers, but %s %s has no authentication, so brokers "
                 "would connect as User:ANONYMOUS; use mtls or a SASL mechanism on %s"
                 % (key.replace("_", " "), name, name))
