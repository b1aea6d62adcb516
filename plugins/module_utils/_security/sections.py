# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Each section of the security description validated into its canonical form.

A ``parse_*`` function takes the raw value and its path, and returns the canonical form with
every key present (``None`` for what is absent), or raises :class:`SecurityConfigError`.
The checks that span sections live in ``normalize``.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Dict, List, Optional

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    AUTHENTICATIONS,
    IDENTITY_NAMES,
    LISTENER_NAME,
    PRINCIPAL,
    PROTOCOLS,
    ROOT,
    SASL_MECHANISMS,
    SASL_PROTOCOLS,
    SCRAM_MECHANISMS,
    STORE_TYPES,
    TLS_PROTOCOLS,
    USERNAME,
    Identity,
    Listener,
    Store,
    as_boolean,
    as_host,
    as_mapping,
    as_port,
    as_secret,
    as_string,
    as_string_list,
    check_no_placeholder,
    fail,
    required_string,
)

# --------------------------------------------------------------------------------------
# Key and trust stores, TLS settings
# --------------------------------------------------------------------------------------

KEYSTORE_KEYS = ("path", "type", "password", "key_password", "certificate_chain", "key")
TRUSTSTORE_KEYS = ("path", "type", "password", "certificates")
TLS_KEYS = ("keystore", "truststore", "endpoint_identification", "protocols", "cipher_suites", "ca_file")
LISTENER_TLS_KEYS = ("keystore", "truststore")


def parse_keystore(value: Any, path: str, files_only: bool = False) -> Optional[Store]:
    """A keystore: a file (``path``) or inline PEM (``certificate_chain`` and ``key``)."""
    if value is None:
        return None
    raw = as_mapping(value, path, KEYSTORE_KEYS)
    store: Dict[str, Any] = {
        "path": as_string(raw.get("path"), path + ".path"),
        "type": as_string(raw.get("type"), path + ".type"),
        "password": as_secret(raw.get("password"), path + ".password"),
        "key_password": as_secret(raw.get("key_password"), path + ".key_password"),
        "certificate_chain": as_string(raw.get("certificate_chain"), path + ".certificate_chain", multiline=True),
        "key": as_string(raw.get("key"), path + ".key", multiline=True),
    }
    inline = store["certificate_chain"] is not None or store["key"] is not None
    if store["path"] is None and not inline:
        fail(path, "set path (a keystore file on the host) or certificate_chain and key (PEM content)")
    if store["path"] is not None and inline:
        fail(path, "set either path or certificate_chain/key, not both")
    if inline:
        if files_only:
            fail(path, "ZooKeeper reads key material from files only: set path instead of certificate_chain/key")
        if store["certificate_chain"] is None or store["key"] is None:
            fail(path, "certificate_chain and key must be given together")
        if "-----BEGIN" not in store["certificate_chain"]:
            fail(path + ".certificate_chain", "must be PEM content (-----BEGIN CERTIFICATE-----...)")
        if "-----BEGIN" not in store["key"]:
            fail(path + ".key", "must be a PEM private key (-----BEGIN ... PRIVATE KEY-----...)")
    store["type"] = store_type(store["type"], path + ".type", "PEM" if inline else "PKCS12")
    if inline and store["type"] != "PEM":
        fail(path + ".type", "inline certificate_chain/key are PEM; type must be PEM")
    if store["type"] == "PEM":
        if store["password"] is not None:
            fail(path + ".password", "a PEM keystore has no store password; put the private key password in key_password")
    elif store["password"] is None:
        fail(path + ".password", "is required for a %s keystore" % store["type"])
    return store


def parse_truststore(value: Any, path: str, files_only: bool = False) -> Optional[Store]:
    """A truststore: a file (``path``) or inline PEM ``certificates``."""
    if value is None:
        return None
    raw = as_mapping(value, path, TRUSTSTORE_KEYS)
    store: Dict[str, Any] = {
        "path": as_string(raw.get("path"), path + ".path"),
        "type": as_string(raw.get("type"), path + ".type"),
        "password": as_secret(raw.get("password"), path + ".password"),
        "certificates": as_string(raw.get("certificates"), path + ".certificates", multiline=True),
    }
    inline = store["certificates"] is not None
    if store["path"] is None and not inline:
        fail(path, "set path (a truststore file on the host) or certificates (PEM content)")
    if store["path"] is not None and inline:
        fail(path, "set either path or certificates, not both")
    if inline:
        if files_only:
            fail(path, "ZooKeeper reads certificates from files only: set path instead of certificates")
        if "-----BEGIN CERTIFICATE-----" not in store["certificates"]:
            fail(path + ".certificates", "must be PEM certificates (-----BEGIN CERTIFICATE-----...)")
    store["type"] = store_type(store["type"], path + ".type", "PEM" if inline else "PKCS12")
    if inline and store["type"] != "PEM":
        fail(path + ".type", "inline certificates are PEM; type must be PEM")
    if store["type"] == "PEM" and store["password"] is not None:
        fail(path + ".password", "a PEM truststore has no password; remove it")
    return store


def store_type(value: Optional[str], path: str, default: str) -> str:
    """A store type in upper case (PKCS12, JKS, PEM), ``default`` when absent."""
    if value is None:
        return default
    upper = value.upper()
    if upper not in STORE_TYPES:
        fail(path, "%r is not a store type; use one of %s" % (value, ", ".join(STORE_TYPES)))
    return upper


def parse_tls(value: Any, path: str) -> Dict[str, Any]:
    """The global ``tls`` section; ``ca_file`` defaults to a PEM truststore's path."""
    raw = as_mapping(value, path, TLS_KEYS)
    tls: Dict[str, Any] = {
        "keystore": parse_keystore(raw.get("keystore"), path + ".keystore"),
        "truststore": parse_truststore(raw.get("truststore"), path + ".truststore"),
        "endpoint_identification": as_boolean(raw.get("endpoint_identification"), path + ".endpoint_identification", True),
        "protocols": as_string_list(raw.get("protocols"), path + ".protocols", re.compile(r"[A-Za-z0-9.]+"), "TLS protocol"),
        "cipher_suites": as_string_list(raw.get("cipher_suites"), path + ".cipher_suites", re.compile(r"[A-Za-z0-9_]+"),
                                        "cipher suite"),
        "ca_file": as_string(raw.get("ca_file"), path + ".ca_file"),
    }
    truststore = tls["truststore"]
    if tls["ca_file"] is None and truststore is not None and truststore["type"] == "PEM" and truststore["path"]:
        tls["ca_file"] = truststore["path"]
    return tls


def files_only(store: Optional[Store], source: str, path: str) -> Optional[Store]:
    """A copy of a store ZooKeeper can use (a file, not inline PEM), ``None`` for none."""
    if store is None:
        return None
    if store["path"] is None:
        fail(path, "ZooKeeper reads key material from files only, and %s holds inline PEM; give %s with a path" % (source, path))
    return copy.deepcopy(store)


# --------------------------------------------------------------------------------------
# Listeners
# --------------------------------------------------------------------------------------

LISTENER_KEYS = ("name", "port", "protocol", "authentication", "advertised_host", "advertised_port", "bind_address", "tls")


def parse_authentication(value: Any, path: str, protocol: str) -> List[str]:
    """A listener's authentications (lower case) checked against its protocol."""
    if value is None:
        if protocol in SASL_PROTOCOLS:
            fail(path, "is required for protocol %s: name the SASL mechanism(s), e.g. scram-sha-512" % protocol)
        return ["none"]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple)) or not values:
        fail(path, "must be one of %s or a non-empty list of them" % ", ".join(AUTHENTICATIONS))
    result: List[str] = []
    for index, item in enumerate(values):
        item_path = path if isinstance(value, str) else "%s[%d]" % (path, index)
        if not isinstance(item, str) or item.lower() not in AUTHENTICATIONS:
            fail(item_path, "%r is not an authentication; use one of %s" % (item, ", ".join(AUTHENTICATIONS)))
        name = item.lower()
        if name in result:
            fail(item_path, "%s is listed twice" % name)
        result.append(name)
    sasl = [a for a in result if a in SASL_MECHANISMS]
    if "none" in result and len(result) > 1:
        fail(path, "none cannot be combined with other authentications")
    if sasl and protocol not in SASL_PROTOCOLS:
        fail(path, "%s is a SASL mechanism and needs protocol SASL_PLAINTEXT or SASL_SSL, but the protocol is %s"
             % (sasl[0], protocol))
    if "mtls" in result and protocol not in TLS_PROTOCOLS:
        fail(path, "mtls needs protocol SSL (or SASL_SSL together with a SASL mechanism), but the protocol is %s" % protocol)
    if protocol in SASL_PROTOCOLS and not sasl:
        fail(path, "protocol %s needs at least one SASL mechanism (%s)" % (protocol, ", ".join(SASL_MECHANISMS)))
    return result


def parse_listener(value: Any, path: str) -> Listener:
    """One entry of ``listeners``; ``advertised_port`` defaults to ``port``."""
    raw = as_mapping(value, path, LISTENER_KEYS)
    name = required_string(raw.get("name"), path + ".name")
    if not LISTENER_NAME.fullmatch(name):
        fail(path + ".name", "%r is not a valid listener name: use upper case letters, digits and _, starting with a letter" % name)
    protocol = required_string(raw.get("protocol"), path + ".protocol")
    if protocol.upper() not in PROTOCOLS:
        fail(path + ".protocol", "%r is not a security protocol; use one of %s" % (protocol, ", ".join(PROTOCOLS)))
    protocol = protocol.upper()
    port = as_port(raw.get("port"), path + ".port")
    listener: Dict[str, Any] = {
        "name": name,
        "port": port,
        "protocol": protocol,
        "authentication": parse_authentication(raw.get("authentication"), path + ".authentication", protocol),
        "advertised_host": as_host(raw.get("advertised_host"), path + ".advertised_host"),
        "advertised_port": as_port(raw.get("advertised_port"), path + ".advertised_port", required=False) or port,
        "bind_address": as_host(raw.get("bind_address"), path + ".bind_address", allow_empty=True) or "",
        "tls": None,
    }
    if raw.get("tls") is not None:
        if protocol not in TLS_PROTOCOLS:
            fail(path + ".tls", "TLS material is only used by SSL and SASL_SSL listeners, but the protocol is %s" % protocol)
        tls = as_mapping(raw["tls"], path + ".tls", LISTENER_TLS_KEYS)
        listener["tls"] = {
            "keystore": parse_keystore(tls.get("keystore"), path + ".tls.keystore"),
            "truststore": parse_truststore(tls.get("truststore"), path + ".tls.truststore"),
        }
    return listener


# --------------------------------------------------------------------------------------
# Identities
# --------------------------------------------------------------------------------------

IDENTITY_KEYS = ("username", "password", "principal", "keytab", "client_id", "client_secret", "scope", "keystore")


def parse_identity(value: Any, path: str) -> Optional[Identity]:
    """Who connects: username/password, principal/keytab, client_id/client_secret and/or keystore."""
    if value is None:
        return None
    raw = as_mapping(value, path, IDENTITY_KEYS)
    identity: Dict[str, Any] = {
        "username": as_string(raw.get("username"), path + ".username"),
        "password": as_secret(raw.get("password"), path + ".password"),
        "principal": as_string(raw.get("principal"), path + ".principal"),
        "keytab": as_string(raw.get("keytab"), path + ".keytab"),
        "client_id": as_string(raw.get("client_id"), path + ".client_id"),
        "client_secret": as_secret(raw.get("client_secret"), path + ".client_secret"),
        "scope": as_string(raw.get("scope"), path + ".scope"),
        "keystore": parse_keystore(raw.get("keystore"), path + ".keystore"),
    }
    if identity["username"] is not None:
        if not USERNAME.fullmatch(identity["username"]):
            fail(path + ".username", "%r must not contain spaces, quotes, backslashes or any of , ; =" % identity["username"])
        if identity["password"] is None:
            fail(path + ".password", "is required with username")
    elif identity["password"] is not None:
        fail(path + ".username", "is required with password")
    if (identity["principal"] is None) != (identity["keytab"] is None):
        fail(path, "principal and keytab (Kerberos) must be given together")
    if (identity["client_id"] is None) != (identity["client_secret"] is None):
        fail(path, "client_id and client_secret (OAuth) must be given together")
    if identity["scope"] is not None and identity["client_id"] is None:
        fail(path + ".scope", "is only used with client_id/client_secret")
    if not any(identity[k] is not None for k in ("username", "principal", "client_id", "keystore")):
        fail(path, "give username/password, principal/keytab, client_id/client_secret or keystore")
    for key in ("username", "client_id", "scope"):
        check_no_placeholder(identity[key], "%s.%s" % (path, key))
    return identity


def parse_credentials(value: Any, path: str) -> Dict[str, Any]:
    """The cluster identities (broker, controller, admin) and the extra ``users``."""
    raw = as_mapping(value, path, IDENTITY_NAMES + ("users",))
    creds: Dict[str, Any] = {name: parse_identity(raw.get(name), "%s.%s" % (path, name)) for name in IDENTITY_NAMES}
    users = raw.get("users")
    if users is None:
        users = []
    if not isinstance(users, list):
        fail(path + ".users", "must be a list of identities")
    creds["users"] = []
    for index, user in enumerate(users):
        user_path = "%s.users[%d]" % (path, index)
        identity = parse_identity(user, user_path)
        if identity is None or identity["username"] is None:
            fail(user_path + ".username", "is required for an entry of users")
        creds["users"].append(identity)
    _check_unique_users(creds, path)
    return creds


def _check_unique_users(creds: Dict[str, Any], path: str) -> None:
    """A username names one user: a duplicate in ``users``, or another password, is refused."""
    seen: Dict[str, Any] = {}
    entries = [("%s.%s" % (path, n), creds[n]) for n in IDENTITY_NAMES]
    entries += [("%s.users[%d]" % (path, i), u) for i, u in enumerate(creds["users"])]
    for entry_path, identity in entries:
        if identity is None or identity["username"] is None:
            continue
        previous = seen.get(identity["username"])
        if previous is not None:
            if entry_path.startswith(path + ".users") and previous[0].startswith(path + ".users"):
                fail(entry_path + ".username", "duplicate user %s (also %s)" % (identity["username"], previous[0]))
            if previous[1] != identity["password"]:
                fail(entry_path + ".password", "user %s is also defined in %s with a different password"
                     % (identity["username"], previous[0]))
        else:
            seen[identity["username"]] = (entry_path, identity["password"])


# what each SASL mechanism needs from an identity
MECHANISM_NEEDS = {
    "PLAIN": "username and password",
    "SCRAM-SHA-256": "username and password",
    "SCRAM-SHA-512": "username and password",
    "OAUTHBEARER": "client_id and client_secret",
    "GSSAPI": "principal and keytab",
}


def has_material(identity: Optional[Identity], mechanism: str) -> bool:
    """Whether ``identity`` holds what SASL ``mechanism`` needs to log in."""
    if identity is None:
        return False
    if mechanism in ("PLAIN",) + SCRAM_MECHANISMS:
        return identity["username"] is not None
    if mechanism == "OAUTHBEARER":
        return identity["client_id"] is not None
    if mechanism == "GSSAPI":
        return identity["principal"] is not None
    return False


# --------------------------------------------------------------------------------------
# Authorizer, principal mapping, Kerberos, OAuth
# --------------------------------------------------------------------------------------

AUTHORIZER_KEYS = ("enabled", "super_users", "allow_everyone_if_no_acl_found")
OAUTH_KEYS = ("token_endpoint_url", "jwks_endpoint_url", "expected_audience", "expected_issuer",
              "scope_claim_name", "sub_claim_name")


def parse_authorizer(value: Any, path: str) -> Dict[str, Any]:
    """The ACL authorizer: off unless ``enabled``."""
    raw = as_mapping(value, path, AUTHORIZER_KEYS)
    return {
        "enabled": as_boolean(raw.get("enabled"), path + ".enabled", False),
        "super_users": as_string_list(raw.get("super_users"), path + ".super_users", PRINCIPAL,
                                      "principal (TYPE:name, e.g. User:admin)"),
        "allow_everyone_if_no_acl_found": as_boolean(raw.get("allow_everyone_if_no_acl_found"),
                                                     path + ".allow_everyone_if_no_acl_found", False),
    }


def parse_principal_mapping(value: Any, path: str) -> Dict[str, List[str]]:
    """The rules that map TLS and Kerberos names to principals."""
    raw = as_mapping(value, path, ("ssl", "kerberos"))
    ssl_rules = as_string_list(raw.get("ssl"), path + ".ssl")
    kerberos_rules = as_string_list(raw.get("kerberos"), path + ".kerberos")
    for index, rule in enumerate(ssl_rules):
        if rule != "DEFAULT" and not rule.startswith("RULE:"):
            fail("%s.ssl[%d]" % (path, index), "%r must be DEFAULT or start with RULE:" % rule)
    for index, rule in enumerate(kerberos_rules):
        rule_path = "%s.kerberos[%d]" % (path, index)
        if rule != "DEFAULT" and not rule.startswith("RULE:"):
            fail(rule_path, "%r must be DEFAULT or start with RULE:" % rule)
        if "," in rule:
            fail(rule_path, "Kafka reads sasl.kerberos.principal.to.local.rules as a comma-separated list, so a rule cannot contain a comma")
    return {"ssl": ssl_rules, "kerberos": kerberos_rules}


def parse_kerberos(value: Any, path: str) -> Optional[Dict[str, str]]:
    """The brokers' Kerberos service principal and keytab, ``None`` without Kerberos."""
    if value is None:
        return None
    raw = as_mapping(value, path, ("service_name", "principal", "keytab"))
    kerberos = {
        "service_name": as_string(raw.get("service_name"), path + ".service_name") or "kafka",
        "principal": required_string(raw.get("principal"), path + ".principal"),
        "keytab": required_string(raw.get("keytab"), path + ".keytab"),
    }
    for key in ("principal", "keytab"):
        if '"' in kerberos[key] or "\\" in kerberos[key]:
            fail("%s.%s" % (path, key), "must not contain quotes or backslashes")
    return kerberos


def parse_oauthbearer(value: Any, path: str) -> Optional[Dict[str, Any]]:
    """The OAuth endpoints and token checks, ``None`` without OAuth."""
    if value is None:
        return None
    raw = as_mapping(value, path, OAUTH_KEYS)
    oauth: Dict[str, Any] = {
        "token_endpoint_url": as_string(raw.get("token_endpoint_url"), path + ".token_endpoint_url"),
        "jwks_endpoint_url": as_string(raw.get("jwks_endpoint_url"), path + ".jwks_endpoint_url"),
        "expected_audience": as_string_list(raw.get("expected_audience"), path + ".expected_audience"),
        "expected_issuer": as_string(raw.get("expected_issuer"), path + ".expected_issuer"),
        "scope_claim_name": as_string(raw.get("scope_claim_name"), path + ".scope_claim_name"),
        "sub_claim_name": as_string(raw.get("sub_claim_name"), path + ".sub_claim_name"),
    }
    for key in ("token_endpoint_url", "jwks_endpoint_url"):
        url = oauth[key]
        if url is not None and not re.match(r"^(https?|file)://", url):
            fail("%s.%s" % (path, key), "%r must be an https://, http:// or file:// URL" % url)
    for index, audience in enumerate(oauth["expected_audience"]):
        if "," in audience:
            fail("%s.expected_audience[%d]" % (path, index), "must not contain a comma (Kafka reads a comma-separated list)")
    return oauth


# --------------------------------------------------------------------------------------
# ZooKeeper
# --------------------------------------------------------------------------------------

ZK_KEYS = ("client_port", "secure_client_port", "tls", "authentication", "quorum_tls", "quorum_authentication",
           "set_acl", "keystore", "truststore", "credentials")


def parse_zookeeper(value: Any, path: str, tls: Dict[str, Any]) -> Dict[str, Any]:
    """ZooKeeper's ports, TLS and authentication; its stores default to the global ``tls`` ones."""
    raw = as_mapping(value, path, ZK_KEYS)
    zk: Dict[str, Any] = {
        "client_port": as_port(raw.get("client_port"), path + ".client_port", required=False)
        if "client_port" in raw else 2181,
        "secure_client_port": as_port(raw.get("secure_client_port"), path + ".secure_client_port", required=False),
        "tls": as_boolean(raw.get("tls"), path + ".tls", False),
        "authentication": as_string(raw.get("authentication"), path + ".authentication") or "none",
        "quorum_tls": as_boolean(raw.get("quorum_tls"), path + ".quorum_tls", False),
        "quorum_authentication": as_string(raw.get("quorum_authentication"), path + ".quorum_authentication") or "none",
        "set_acl": None,
        "keystore": parse_keystore(raw.get("keystore"), path + ".keystore", files_only=True),
        "truststore": parse_truststore(raw.get("truststore"), path + ".truststore", files_only=True),
        "credentials": None,
    }
    if zk["authentication"] not in ("none", "mtls", "digest"):
        fail(path + ".authentication", "%r is not a ZooKeeper client authentication; use none, mtls or digest" % zk["authentication"])
    if zk["quorum_authentication"] not in ("none", "digest"):
        fail(path + ".quorum_authentication", "%r is not a quorum authentication; use none or digest" % zk["quorum_authentication"])
    zk["credentials"] = _zookeeper_credentials(raw.get("credentials"), path + ".credentials")
    zk["set_acl"] = as_boolean(raw.get("set_acl"), path + ".set_acl", zk["authentication"] != "none")
    _check_zookeeper(zk, path)
    if zk["tls"] or zk["quorum_tls"]:
        _zookeeper_stores(zk, path, tls)
    return zk


def _zookeeper_credentials(value: Any, path: str) -> Dict[str, Optional[Dict[str, Any]]]:
    """The digest users: ``kafka`` (the brokers' ZooKeeper user) and ``quorum`` (between servers)."""
    creds = as_mapping(value, path, ("kafka", "quorum"))
    result: Dict[str, Optional[Dict[str, Any]]] = {}
    for name in ("kafka", "quorum"):
        ident_path = "%s.%s" % (path, name)
        if creds.get(name) is None:
            result[name] = None
            continue
        raw = as_mapping(creds[name], ident_path, ("username", "password"))
        ident: Dict[str, Any] = {
            "username": required_string(raw.get("username"), ident_path + ".username"),
            "password": as_secret(raw.get("password"), ident_path + ".password", required=True),
        }
        if not USERNAME.fullmatch(ident["username"]):
            fail(ident_path + ".username", "%r must not contain spaces, quotes, backslashes or any of , ; =" % ident["username"])
        result[name] = ident
    return result


def _check_zookeeper(zk: Dict[str, Any], path: str) -> None:
    """Ports, TLS and authentication of ZooKeeper agree with each other."""
    if zk["client_port"] is None and not zk["tls"]:
        fail(path + ".client_port", "cannot be null unless tls is true (clients would have no port)")
    if zk["tls"] and zk["secure_client_port"] is None:
        fail(path + ".secure_client_port", "is required when tls is true")
    if not zk["tls"] and zk["secure_client_port"] is not None:
        fail(path + ".secure_client_port", "is set but tls is false; set tls: true to use it")
    if zk["secure_client_port"] is not None and zk["secure_client_port"] == zk["client_port"]:
        fail(path + ".secure_client_port", "duplicate port %d (also client_port)" % zk["client_port"])
    if zk["authentication"] == "mtls" and not zk["tls"]:
        fail(path + ".authentication", "mtls needs tls: true")
    if zk["authentication"] == "digest" and zk["credentials"]["kafka"] is None:
        fail(path + ".credentials.kafka", "is required because authentication is digest (the brokers' ZooKeeper user)")
    if zk["quorum_authentication"] == "digest" and zk["credentials"]["quorum"] is None:
        fail(path + ".credentials.quorum", "is required because quorum_authentication is digest")
    if zk["set_acl"] and zk["authentication"] == "none":
        fail(path + ".set_acl", "ZooKeeper ACLs need an authenticated client: set authentication to mtls or digest")


def _zookeeper_stores(zk: Dict[str, Any], path: str, tls: Dict[str, Any]) -> None:
    """Fill in ZooKeeper's stores from the global ones and check that TLS has what it needs."""
    if zk["keystore"] is None:
        zk["keystore"] = files_only(tls["keystore"], ROOT + ".tls.keystore", path + ".keystore")
    if zk["truststore"] is None:
        zk["truststore"] = files_only(tls["truststore"], ROOT + ".tls.truststore", path + ".truststore")
    if zk["keystore"] is None:
        fail(path + ".keystore", "is required for ZooKeeper TLS (no keystore here nor in %s.tls.keystore)" % ROOT)
    if zk["keystore"]["type"] == "PEM" and zk["keystore"]["key_password"] is not None:
        fail(path + ".keystore.key_password", "ZooKeeper cannot read an encrypted PEM key; use an unencrypted key or PKCS12")
    if zk["truststore"] is None and (zk["authentication"] == "mtls" or zk["quorum_tls"]):
        fail(path + ".truststore", "is required for ZooKeeper mTLS and quorum TLS (no truststore here nor in %s.tls.truststore)" % ROOT)
