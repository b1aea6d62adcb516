# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The security model of a Kafka platform: one description, every component's configuration.

A single dictionary (the Ansible variable ``platform_security``) describes the listeners,
TLS material, SASL mechanisms, identities, authorizer and ZooKeeper security of a cluster.
:func:`normalize` validates it and returns its canonical form; the other functions derive
the configuration of each process from it:

* :func:`server_properties` - ``server.properties`` security keys of one broker/controller;
* :func:`client_properties` - property sets of Kafka clients (admin tools, Connect,
  Schema Registry, ksqlDB, plain producers and consumers);
* :func:`kafka_python_client_config` - keyword arguments of the kafka-python client;
* :func:`zookeeper_properties` and :func:`jaas_file` - ZooKeeper server settings and the
  JAAS files that ZooKeeper SASL needs;
* :func:`scram_credentials` - SCRAM users created when KRaft storage is formatted;
* :func:`secret_values` - every secret of the description, to check logs against.

Pure standard library, no Ansible imports: the functions are tested with plain pytest.
Every function takes the raw description and normalizes it itself, so a caller never
has to remember to call :func:`normalize` first (normalizing twice gives the same result).
"""

from __future__ import annotations

import copy
import difflib
import re

__all__ = [
    "AUTHENTICATIONS",
    "CLIENT_KINDS",
    "DEFAULT_SECURITY",
    "PROTOCOLS",
    "SecurityConfigError",
    "client_properties",
    "is_secret_property",
    "jaas_file",
    "jvm_system_properties",
    "kafka_python_client_config",
    "normalize",
    "scram_credentials",
    "secret_values",
    "server_properties",
    "zookeeper_properties",
]

ROOT = "platform_security"

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
TLS_PROTOCOLS = ("SSL", "SASL_SSL")
SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")

# authentication value (as written in the description) -> Kafka SASL mechanism name
SASL_MECHANISMS = {
    "plain": "PLAIN",
    "scram-sha-256": "SCRAM-SHA-256",
    "scram-sha-512": "SCRAM-SHA-512",
    "oauthbearer": "OAUTHBEARER",
    "gssapi": "GSSAPI",
}
AUTHENTICATIONS = ("none", "mtls") + tuple(SASL_MECHANISMS)
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")

LOGIN_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "OAUTHBEARER": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule",
    "GSSAPI": "com.sun.security.auth.module.Krb5LoginModule",
}
OAUTH_LOGIN_HANDLER = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"
OAUTH_VALIDATOR_HANDLER = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler"
KRAFT_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
ZOOKEEPER_AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"
ZK_DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule"
ZK_NETTY_SERVER = "org.apache.zookeeper.server.NettyServerCnxnFactory"
ZK_NETTY_CLIENT = "org.apache.zookeeper.ClientCnxnSocketNetty"
ZK_X509_PROVIDER = "org.apache.zookeeper.server.auth.X509AuthenticationProvider"
ZK_SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
OAUTH_ALLOWED_URLS_PROPERTY = "org.apache.kafka.sasl.oauthbearer.allowed.urls"

STORE_TYPES = ("PKCS12", "JKS", "PEM")
CLIENT_KINDS = ("admin", "producer", "consumer", "connect", "schema_registry", "ksqldb")
ROLES = ("broker", "controller")
IDENTITY_NAMES = ("broker", "controller", "admin")
HOST_PLACEHOLDER = "{host}"

DEFAULT_SECURITY = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT", "authentication": "none"},
        {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT", "authentication": "none"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT", "authentication": "none"},
    ],
    "inter_broker_listener": "INTERNAL",
    "controller_listener": "CONTROLLER",
}

_LISTENER_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_PRINCIPAL = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*:[^;]+$")
_USERNAME = re.compile(r"^[^\s,;=\"\\]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SECRET_SUFFIXES = (
    ".password",
    "sasl.jaas.config",
    "ssl.keystore.key",
    "client.credentials.client.secret",
    "passphrase",
)


class SecurityConfigError(ValueError):
    """The security description is invalid; the message names the key and what to fix."""


def _fail(path, message):
    raise SecurityConfigError("%s: %s" % (path, message))


# --------------------------------------------------------------------------------------
# Generic validation helpers
# --------------------------------------------------------------------------------------

def _mapping(value, path, allowed):
    """Check that ``value`` is a mapping whose keys are all in ``allowed``; return a dict."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        _fail(path, "must be a mapping, got %s" % type(value).__name__)
    for key in value:
        if not isinstance(key, str):
            _fail(path, "keys must be strings, got %r" % (key,))
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.75)
            hint = " (did you mean %s?)" % close[0] if close else ""
            _fail("%s.%s" % (path, key), "unknown key%s; valid keys: %s" % (hint, ", ".join(sorted(allowed))))
    return dict(value)


def _string(value, path, required=False, allow_empty=False):
    if value is None:
        if required:
            _fail(path, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        _fail(path, "must be a string, got %s" % type(value).__name__)
    if not value and not allow_empty:
        _fail(path, "must not be empty")
    return value


def _secret(value, path, required=False):
    """A secret string: never echoed in messages."""
    if value is None:
        if required:
            _fail(path, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        _fail(path, "must be a string (quote numbers in YAML), got %s" % type(value).__name__)
    if not value:
        _fail(path, "must not be empty")
    if _CONTROL.search(value):
        _fail(path, "must not contain control characters such as newlines")
    return value


def _boolean(value, path, default):
    if value is None:
        return default
    if not isinstance(value, bool):
        _fail(path, "must be true or false, got %r" % (value,))
    return value


def _port(value, path, required=True):
    if value is None:
        if required:
            _fail(path, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        else:
            _fail(path, "must be a port number, got %r" % (value,))
    if not 1 <= value <= 65535:
        _fail(path, "must be between 1 and 65535, got %d" % value)
    return value


def _string_list(value, path, pattern=None, what="entry"):
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        _fail(path, "must be a list of strings")
    result = []
    for index, item in enumerate(value):
        item_path = "%s[%d]" % (path, index)
        _string(item, item_path, required=True)
        if pattern is not None and not pattern.match(item):
            _fail(item_path, "%r is not a valid %s" % (item, what))
        result.append(item)
    return result


def _no_placeholder(value, path):
    if value is not None and HOST_PLACEHOLDER in value:
        _fail(path, "%s is only replaced in file paths and Kerberos principals" % HOST_PLACEHOLDER)


# --------------------------------------------------------------------------------------
# Section validators
# --------------------------------------------------------------------------------------

_KEYSTORE_KEYS = ("path", "type", "password", "key_password", "certificate_chain", "key")
_TRUSTSTORE_KEYS = ("path", "type", "password", "certificates")


def _keystore(value, path, files_only=False):
    if value is None:
        return None
    raw = _mapping(value, path, _KEYSTORE_KEYS)
    store = {
        "path": _string(raw.get("path"), path + ".path"),
        "type": _string(raw.get("type"), path + ".type"),
        "password": _secret(raw.get("password"), path + ".password"),
        "key_password": _secret(raw.get("key_password"), path + ".key_password"),
        "certificate_chain": _string(raw.get("certificate_chain"), path + ".certificate_chain"),
        "key": _string(raw.get("key"), path + ".key"),
    }
    inline = store["certificate_chain"] is not None or store["key"] is not None
    if store["path"] is None and not inline:
        _fail(path, "set path (a keystore file on the host) or certificate_chain and key (PEM content)")
    if store["path"] is not None and inline:
        _fail(path, "set either path or certificate_chain/key, not both")
    if inline:
        if files_only:
            _fail(path, "ZooKeeper reads key material from files only: set path instead of certificate_chain/key")
        if store["certificate_chain"] is None or store["key"] is None:
            _fail(path, "certificate_chain and key must be given together")
        if "-----BEGIN" not in store["certificate_chain"]:
            _fail(path + ".certificate_chain", "must be PEM content (-----BEGIN CERTIFICATE-----...)")
        if "-----BEGIN" not in store["key"]:
            _fail(path + ".key", "must be a PEM private key (-----BEGIN ... PRIVATE KEY-----...)")
    store["type"] = _store_type(store["type"], path + ".type", "PEM" if inline else "PKCS12")
    if inline and store["type"] != "PEM":
        _fail(path + ".type", "inline certificate_chain/key are PEM; type must be PEM")
    if store["type"] == "PEM":
        if store["password"] is not None:
            _fail(path + ".password", "a PEM keystore has no store password; put the private key password in key_password")
    elif store["password"] is None:
        _fail(path + ".password", "is required for a %s keystore" % store["type"])
    return store


def _truststore(value, path, files_only=False):
    if value is None:
        return None
    raw = _mapping(value, path, _TRUSTSTORE_KEYS)
    store = {
        "path": _string(raw.get("path"), path + ".path"),
        "type": _string(raw.get("type"), path + ".type"),
        "password": _secret(raw.get("password"), path + ".password"),
        "certificates": _string(raw.get("certificates"), path + ".certificates"),
    }
    inline = store["certificates"] is not None
    if store["path"] is None and not inline:
        _fail(path, "set path (a truststore file on the host) or certificates (PEM content)")
    if store["path"] is not None and inline:
        _fail(path, "set either path or certificates, not both")
    if inline:
        if files_only:
            _fail(path, "ZooKeeper reads certificates from files only: set path instead of certificates")
        if "-----BEGIN CERTIFICATE-----" not in store["certificates"]:
            _fail(path + ".certificates", "must be PEM certificates (-----BEGIN CERTIFICATE-----...)")
    store["type"] = _store_type(store["type"], path + ".type", "PEM" if inline else "PKCS12")
    if inline and store["type"] != "PEM":
        _fail(path + ".type", "inline certificates are PEM; type must be PEM")
    if store["type"] == "PEM" and store["password"] is not None:
        _fail(path + ".password", "a PEM truststore has no password; remove it")
    return store


def _store_type(value, path, default):
    if value is None:
        return default
    upper = value.upper()
    if upper not in STORE_TYPES:
        _fail(path, "%r is not a store type; use one of %s" % (value, ", ".join(STORE_TYPES)))
    return upper


_TLS_KEYS = ("keystore", "truststore", "endpoint_identification", "protocols", "cipher_suites", "ca_file")
_LISTENER_TLS_KEYS = ("keystore", "truststore")


def _tls(value, path):
    raw = _mapping(value, path, _TLS_KEYS)
    tls = {
        "keystore": _keystore(raw.get("keystore"), path + ".keystore"),
        "truststore": _truststore(raw.get("truststore"), path + ".truststore"),
        "endpoint_identification": _boolean(raw.get("endpoint_identification"), path + ".endpoint_identification", True),
        "protocols": _string_list(raw.get("protocols"), path + ".protocols", re.compile(r"^[A-Za-z0-9.]+$"), "TLS protocol"),
        "cipher_suites": _string_list(raw.get("cipher_suites"), path + ".cipher_suites", re.compile(r"^[A-Za-z0-9_]+$"), "cipher suite"),
        "ca_file": _string(raw.get("ca_file"), path + ".ca_file"),
    }
    truststore = tls["truststore"]
    if tls["ca_file"] is None and truststore is not None and truststore["type"] == "PEM" and truststore["path"]:
        tls["ca_file"] = truststore["path"]
    return tls


_LISTENER_KEYS = ("name", "port", "protocol", "authentication", "advertised_host", "advertised_port", "bind_address", "tls")


def _authentication(value, path, protocol):
    if value is None:
        if protocol in SASL_PROTOCOLS:
            _fail(path, "is required for protocol %s: name the SASL mechanism(s), e.g. scram-sha-512" % protocol)
        return ["none"]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple)) or not values:
        _fail(path, "must be one of %s or a non-empty list of them" % ", ".join(AUTHENTICATIONS))
    result = []
    for index, item in enumerate(values):
        item_path = path if isinstance(value, str) else "%s[%d]" % (path, index)
        if not isinstance(item, str) or item.lower() not in AUTHENTICATIONS:
            _fail(item_path, "%r is not an authentication; use one of %s" % (item, ", ".join(AUTHENTICATIONS)))
        name = item.lower()
        if name in result:
            _fail(item_path, "%s is listed twice" % name)
        result.append(name)
    sasl = [a for a in result if a in SASL_MECHANISMS]
    if "none" in result and len(result) > 1:
        _fail(path, "none cannot be combined with other authentications")
    if sasl and protocol not in SASL_PROTOCOLS:
        _fail(path, "%s is a SASL mechanism and needs protocol SASL_PLAINTEXT or SASL_SSL, but the protocol is %s"
              % (sasl[0], protocol))
    if "mtls" in result and protocol not in TLS_PROTOCOLS:
        _fail(path, "mtls needs protocol SSL (or SASL_SSL together with a SASL mechanism), but the protocol is %s" % protocol)
    if protocol in SASL_PROTOCOLS and not sasl:
        _fail(path, "protocol %s needs at least one SASL mechanism (%s)" % (protocol, ", ".join(SASL_MECHANISMS)))
    return result


def _listener(value, path):
    raw = _mapping(value, path, _LISTENER_KEYS)
    name = _string(raw.get("name"), path + ".name", required=True)
    if not _LISTENER_NAME.match(name):
        _fail(path + ".name", "%r is not a valid listener name: use upper case letters, digits and _, starting with a letter" % name)
    protocol = _string(raw.get("protocol"), path + ".protocol", required=True)
    if protocol.upper() not in PROTOCOLS:
        _fail(path + ".protocol", "%r is not a security protocol; use one of %s" % (protocol, ", ".join(PROTOCOLS)))
    protocol = protocol.upper()
    port = _port(raw.get("port"), path + ".port")
    listener = {
        "name": name,
        "port": port,
        "protocol": protocol,
        "authentication": _authentication(raw.get("authentication"), path + ".authentication", protocol),
        "advertised_host": _string(raw.get("advertised_host"), path + ".advertised_host"),
        "advertised_port": _port(raw.get("advertised_port"), path + ".advertised_port", required=False) or port,
        "bind_address": _string(raw.get("bind_address"), path + ".bind_address", allow_empty=True) or "",
        "tls": None,
    }
    if raw.get("tls") is not None:
        if protocol not in TLS_PROTOCOLS:
            _fail(path + ".tls", "TLS material is only used by SSL and SASL_SSL listeners, but the protocol is %s" % protocol)
        tls = _mapping(raw["tls"], path + ".tls", _LISTENER_TLS_KEYS)
        listener["tls"] = {
            "keystore": _keystore(tls.get("keystore"), path + ".tls.keystore"),
            "truststore": _truststore(tls.get("truststore"), path + ".tls.truststore"),
        }
    return listener


_IDENTITY_KEYS = ("username", "password", "principal", "keytab", "client_id", "client_secret", "scope", "keystore")


def _identity(value, path):
    if value is None:
        return None
    raw = _mapping(value, path, _IDENTITY_KEYS)
    identity = {
        "username": _string(raw.get("username"), path + ".username"),
        "password": _secret(raw.get("password"), path + ".password"),
        "principal": _string(raw.get("principal"), path + ".principal"),
        "keytab": _string(raw.get("keytab"), path + ".keytab"),
        "client_id": _string(raw.get("client_id"), path + ".client_id"),
        "client_secret": _secret(raw.get("client_secret"), path + ".client_secret"),
        "scope": _string(raw.get("scope"), path + ".scope"),
        "keystore": _keystore(raw.get("keystore"), path + ".keystore"),
    }
    if identity["username"] is not None:
        if not _USERNAME.match(identity["username"]):
            _fail(path + ".username", "%r must not contain spaces, quotes, backslashes or any of , ; =" % identity["username"])
        if identity["password"] is None:
            _fail(path + ".password", "is required with username")
    elif identity["password"] is not None:
        _fail(path + ".username", "is required with password")
    if (identity["principal"] is None) != (identity["keytab"] is None):
        _fail(path, "principal and keytab (Kerberos) must be given together")
    if (identity["client_id"] is None) != (identity["client_secret"] is None):
        _fail(path, "client_id and client_secret (OAuth) must be given together")
    if identity["scope"] is not None and identity["client_id"] is None:
        _fail(path + ".scope", "is only used with client_id/client_secret")
    if not any(identity[k] is not None for k in ("username", "principal", "client_id", "keystore")):
        _fail(path, "give username/password, principal/keytab, client_id/client_secret or keystore")
    for key in ("username", "client_id", "scope"):
        _no_placeholder(identity[key], "%s.%s" % (path, key))
    return identity


def _credentials(value, path):
    raw = _mapping(value, path, IDENTITY_NAMES + ("users",))
    creds = {name: _identity(raw.get(name), "%s.%s" % (path, name)) for name in IDENTITY_NAMES}
    users = raw.get("users")
    if users is None:
        users = []
    if not isinstance(users, list):
        _fail(path + ".users", "must be a list of identities")
    creds["users"] = []
    for index, user in enumerate(users):
        user_path = "%s.users[%d]" % (path, index)
        identity = _identity(user, user_path)
        if identity["username"] is None:
            _fail(user_path + ".username", "is required for an entry of users")
        creds["users"].append(identity)
    seen = {}
    entries = [("%s.%s" % (path, n), creds[n]) for n in IDENTITY_NAMES]
    entries += [("%s.users[%d]" % (path, i), u) for i, u in enumerate(creds["users"])]
    for entry_path, identity in entries:
        if identity is None or identity["username"] is None:
            continue
        previous = seen.get(identity["username"])
        if previous is not None:
            if entry_path.startswith(path + ".users") and previous[0].startswith(path + ".users"):
                _fail(entry_path + ".username", "duplicate user %s (also %s)" % (identity["username"], previous[0]))
            if previous[1] != identity["password"]:
                _fail(entry_path + ".password", "user %s is also defined in %s with a different password"
                      % (identity["username"], previous[0]))
        else:
            seen[identity["username"]] = (entry_path, identity["password"])
    return creds


_AUTHORIZER_KEYS = ("enabled", "super_users", "allow_everyone_if_no_acl_found")


def _authorizer(value, path):
    raw = _mapping(value, path, _AUTHORIZER_KEYS)
    return {
        "enabled": _boolean(raw.get("enabled"), path + ".enabled", False),
        "super_users": _string_list(raw.get("super_users"), path + ".super_users", _PRINCIPAL, "principal (TYPE:name, e.g. User:admin)"),
        "allow_everyone_if_no_acl_found": _boolean(raw.get("allow_everyone_if_no_acl_found"),
                                                   path + ".allow_everyone_if_no_acl_found", False),
    }


def _principal_mapping(value, path):
    raw = _mapping(value, path, ("ssl", "kerberos"))
    ssl_rules = _string_list(raw.get("ssl"), path + ".ssl")
    kerberos_rules = _string_list(raw.get("kerberos"), path + ".kerberos")
    for index, rule in enumerate(ssl_rules):
        if rule != "DEFAULT" and not rule.startswith("RULE:"):
            _fail("%s.ssl[%d]" % (path, index), "%r must be DEFAULT or start with RULE:" % rule)
    for index, rule in enumerate(kerberos_rules):
        rule_path = "%s.kerberos[%d]" % (path, index)
        if rule != "DEFAULT" and not rule.startswith("RULE:"):
            _fail(rule_path, "%r must be DEFAULT or start with RULE:" % rule)
        if "," in rule:
            _fail(rule_path, "Kafka reads sasl.kerberos.principal.to.local.rules as a comma-separated list, so a rule cannot contain a comma")
    return {"ssl": ssl_rules, "kerberos": kerberos_rules}


def _kerberos(value, path):
    if value is None:
        return None
    raw = _mapping(value, path, ("service_name", "principal", "keytab"))
    kerberos = {
        "service_name": _string(raw.get("service_name"), path + ".service_name") or "kafka",
        "principal": _string(raw.get("principal"), path + ".principal", required=True),
        "keytab": _string(raw.get("keytab"), path + ".keytab", required=True),
    }
    for key in ("principal", "keytab"):
        if '"' in kerberos[key] or "\\" in kerberos[key]:
            _fail("%s.%s" % (path, key), "must not contain quotes or backslashes")
    return kerberos


_OAUTH_KEYS = ("token_endpoint_url", "jwks_endpoint_url", "expected_audience", "expected_issuer",
               "scope_claim_name", "sub_claim_name")


def _oauthbearer(value, path):
    if value is None:
        return None
    raw = _mapping(value, path, _OAUTH_KEYS)
    oauth = {
        "token_endpoint_url": _string(raw.get("token_endpoint_url"), path + ".token_endpoint_url"),
        "jwks_endpoint_url": _string(raw.get("jwks_endpoint_url"), path + ".jwks_endpoint_url"),
        "expected_audience": _string_list(raw.get("expected_audience"), path + ".expected_audience"),
        "expected_issuer": _string(raw.get("expected_issuer"), path + ".expected_issuer"),
        "scope_claim_name": _string(raw.get("scope_claim_name"), path + ".scope_claim_name"),
        "sub_claim_name": _string(raw.get("sub_claim_name"), path + ".sub_claim_name"),
    }
    for key in ("token_endpoint_url", "jwks_endpoint_url"):
        url = oauth[key]
        if url is not None and not re.match(r"^(https?|file)://", url):
            _fail("%s.%s" % (path, key), "%r must be an https://, http:// or file:// URL" % url)
    for index, audience in enumerate(oauth["expected_audience"]):
        if "," in audience:
            _fail("%s.expected_audience[%d]" % (path, index), "must not contain a comma (Kafka reads a comma-separated list)")
    return oauth


_ZK_KEYS = ("client_port", "secure_client_port", "tls", "authentication", "quorum_tls", "quorum_authentication",
            "set_acl", "keystore", "truststore", "credentials")


def _zookeeper(value, path, tls):
    raw = _mapping(value, path, _ZK_KEYS)
    zk = {
        "client_port": _port(raw.get("client_port"), path + ".client_port", required=False)
        if "client_port" in raw else 2181,
        "secure_client_port": _port(raw.get("secure_client_port"), path + ".secure_client_port", required=False),
        "tls": _boolean(raw.get("tls"), path + ".tls", False),
        "authentication": _string(raw.get("authentication"), path + ".authentication") or "none",
        "quorum_tls": _boolean(raw.get("quorum_tls"), path + ".quorum_tls", False),
        "quorum_authentication": _string(raw.get("quorum_authentication"), path + ".quorum_authentication") or "none",
        "set_acl": None,
        "keystore": _keystore(raw.get("keystore"), path + ".keystore", files_only=True),
        "truststore": _truststore(raw.get("truststore"), path + ".truststore", files_only=True),
        "credentials": None,
    }
    if zk["authentication"] not in ("none", "mtls", "digest"):
        _fail(path + ".authentication", "%r is not a ZooKeeper client authentication; use none, mtls or digest" % zk["authentication"])
    if zk["quorum_authentication"] not in ("none", "digest"):
        _fail(path + ".quorum_authentication", "%r is not a quorum authentication; use none or digest" % zk["quorum_authentication"])
    creds = _mapping(raw.get("credentials"), path + ".credentials", ("kafka", "quorum"))
    zk["credentials"] = {}
    for name in ("kafka", "quorum"):
        ident_path = "%s.credentials.%s" % (path, name)
        ident = _mapping(creds.get(name), ident_path, ("username", "password")) if creds.get(name) is not None else None
        if ident is not None:
            ident = {
                "username": _string(ident.get("username"), ident_path + ".username", required=True),
                "password": _secret(ident.get("password"), ident_path + ".password", required=True),
            }
            if not _USERNAME.match(ident["username"]):
                _fail(ident_path + ".username", "%r must not contain spaces, quotes, backslashes or any of , ; =" % ident["username"])
        zk["credentials"][name] = ident
    zk["set_acl"] = _boolean(raw.get("set_acl"), path + ".set_acl", zk["authentication"] != "none")
    if zk["client_port"] is None and not zk["tls"]:
        _fail(path + ".client_port", "cannot be null unless tls is true (clients would have no port)")
    if zk["tls"] and zk["secure_client_port"] is None:
        _fail(path + ".secure_client_port", "is required when tls is true")
    if not zk["tls"] and zk["secure_client_port"] is not None:
        _fail(path + ".secure_client_port", "is set but tls is false; set tls: true to use it")
    if zk["secure_client_port"] is not None and zk["secure_client_port"] == zk["client_port"]:
        _fail(path + ".secure_client_port", "duplicate port %d (also client_port)" % zk["client_port"])
    if zk["authentication"] == "mtls" and not zk["tls"]:
        _fail(path + ".authentication", "mtls needs tls: true")
    if zk["authentication"] == "digest" and zk["credentials"]["kafka"] is None:
        _fail(path + ".credentials.kafka", "is required because authentication is digest (the brokers' ZooKeeper user)")
    if zk["quorum_authentication"] == "digest" and zk["credentials"]["quorum"] is None:
        _fail(path + ".credentials.quorum", "is required because quorum_authentication is digest")
    if zk["set_acl"] and zk["authentication"] == "none":
        _fail(path + ".set_acl", "ZooKeeper ACLs need an authenticated client: set authentication to mtls or digest")
    if zk["tls"] or zk["quorum_tls"]:
        if zk["keystore"] is None:
            zk["keystore"] = _files_only(tls["keystore"], ROOT + ".tls.keystore", path + ".keystore")
        if zk["truststore"] is None:
            zk["truststore"] = _files_only(tls["truststore"], ROOT + ".tls.truststore", path + ".truststore")
        if zk["keystore"] is None:
            _fail(path + ".keystore", "is required for ZooKeeper TLS (no keystore here nor in %s.tls.keystore)" % ROOT)
        if zk["keystore"]["type"] == "PEM" and zk["keystore"]["key_password"] is not None:
            _fail(path + ".keystore.key_password", "ZooKeeper cannot read an encrypted PEM key; use an unencrypted key or PKCS12")
        if zk["truststore"] is None and (zk["authentication"] == "mtls" or zk["quorum_tls"]):
            _fail(path + ".truststore", "is required for ZooKeeper mTLS and quorum TLS (no truststore here nor in %s.tls.truststore)" % ROOT)
    return zk


def _files_only(store, source, path):
    if store is None:
        return None
    if store["path"] is None:
        _fail(path, "ZooKeeper reads key material from files only, and %s holds inline PEM; give %s with a path" % (source, path))
    return copy.deepcopy(store)


_TOP_KEYS = ("listeners", "inter_broker_listener", "controller_listener", "client_listener", "admin_listener",
             "tls", "authorizer", "principal_mapping", "kerberos", "oauthbearer", "credentials", "zookeeper")


def normalize(description):
    """Validate a security description and return its canonical form.

    ``None`` or ``{}`` mean :data:`DEFAULT_SECURITY`. Keys that are absent take their
    defaults; every key of the canonical form is present. Raises
    :class:`SecurityConfigError` naming the offending key.
    """
    raw = _mapping(description, ROOT, _TOP_KEYS)
    sec = {}

    listeners_raw = raw.get("listeners", DEFAULT_SECURITY["listeners"])
    if not isinstance(listeners_raw, list) or not listeners_raw:
        _fail(ROOT + ".listeners", "must be a non-empty list of listeners")
    listeners = []
    names = {}
    ports = {}
    for index, item in enumerate(listeners_raw):
        path = "%s.listeners[%d]" % (ROOT, index)
        listener = _listener(item, path)
        if listener["name"] in names:
            _fail(path + ".name", "duplicate listener name %s (also listeners[%d])" % (listener["name"], names[listener["name"]]))
        if listener["port"] in ports:
            _fail(path + ".port", "duplicate port %d (also used by %s)" % (listener["port"], ports[listener["port"]]))
        names[listener["name"]] = index
        ports[listener["port"]] = listener["name"]
        listeners.append(listener)
    sec["listeners"] = listeners
    by_name = {lsn["name"]: lsn for lsn in listeners}
    defined = ", ".join(lsn["name"] for lsn in listeners)

    def reference(key, default, allow_null=False):
        value = raw.get(key, default)
        if value is None and allow_null:
            return None
        value = _string(value, "%s.%s" % (ROOT, key), required=True)
        if value not in by_name:
            origin = " (the default)" if key not in raw else ""
            _fail("%s.%s" % (ROOT, key), "listener %s%s is not defined in %s.listeners (defined: %s)" % (value, origin, ROOT, defined))
        return value

    sec["controller_listener"] = reference("controller_listener", DEFAULT_SECURITY["controller_listener"], allow_null=True)
    sec["inter_broker_listener"] = reference("inter_broker_listener", DEFAULT_SECURITY["inter_broker_listener"])
    if sec["inter_broker_listener"] == sec["controller_listener"]:
        _fail(ROOT + ".inter_broker_listener", "%s is the controller listener; brokers must replicate over a different listener"
              % sec["inter_broker_listener"])
    default_client = next((lsn["name"] for lsn in listeners
                           if lsn["name"] not in (sec["controller_listener"], sec["inter_broker_listener"])),
                          sec["inter_broker_listener"])
    sec["client_listener"] = reference("client_listener", default_client)
    sec["admin_listener"] = reference("admin_listener", sec["client_listener"])
    for key in ("client_listener", "admin_listener"):
        if sec[key] == sec["controller_listener"]:
            _fail("%s.%s" % (ROOT, key), "%s is the controller listener; clients connect to broker listeners" % sec[key])

    sec["tls"] = _tls(raw.get("tls"), ROOT + ".tls")
    sec["authorizer"] = _authorizer(raw.get("authorizer"), ROOT + ".authorizer")
    sec["principal_mapping"] = _principal_mapping(raw.get("principal_mapping"), ROOT + ".principal_mapping")
    sec["kerberos"] = _kerberos(raw.get("kerberos"), ROOT + ".kerberos")
    sec["oauthbearer"] = _oauthbearer(raw.get("oauthbearer"), ROOT + ".oauthbearer")
    sec["credentials"] = _credentials(raw.get("credentials"), ROOT + ".credentials")
    sec["zookeeper"] = _zookeeper(raw.get("zookeeper"), ROOT + ".zookeeper", sec["tls"])

    _check_tls_material(sec)
    _check_sasl(sec)
    _check_authorizer(sec)
    return sec


def _effective_tls(sec, listener):
    """Keystore and truststore a listener uses: its own ``tls`` block, else the global one."""
    own = listener["tls"] or {}
    return (own.get("keystore") or sec["tls"]["keystore"], own.get("truststore") or sec["tls"]["truststore"])


def _listener_path(sec, name):
    index = next(i for i, lsn in enumerate(sec["listeners"]) if lsn["name"] == name)
    return "%s.listeners[%d]" % (ROOT, index)


def _check_tls_material(sec):
    for listener in sec["listeners"]:
        if listener["protocol"] not in TLS_PROTOCOLS:
            continue
        keystore, truststore = _effective_tls(sec, listener)
        path = _listener_path(sec, listener["name"])
        if keystore is None:
            _fail(path, "protocol %s needs a keystore: set %s.tls.keystore or %s.tls.keystore" % (listener["protocol"], ROOT, path))
        if "mtls" in listener["authentication"] and truststore is None:
            _fail(path, "mtls needs a truststore to verify client certificates: set %s.tls.truststore or %s.tls.truststore" % (ROOT, path))


def _sasl(listener):
    return [SASL_MECHANISMS[a] for a in listener["authentication"] if a in SASL_MECHANISMS]


def _needs(mechanism):
    return {
        "PLAIN": "username and password",
        "SCRAM-SHA-256": "username and password",
        "SCRAM-SHA-512": "username and password",
        "OAUTHBEARER": "client_id and client_secret",
        "GSSAPI": "principal and keytab",
    }[mechanism]


def _has_material(identity, mechanism):
    if identity is None:
        return False
    if mechanism in ("PLAIN",) + SCRAM_MECHANISMS:
        return identity["username"] is not None
    if mechanism == "OAUTHBEARER":
        return identity["client_id"] is not None
    if mechanism == "GSSAPI":
        return identity["principal"] is not None
    return False


def _check_sasl(sec):
    all_mechanisms = set()
    for listener in sec["listeners"]:
        all_mechanisms.update(_sasl(listener))
    if "GSSAPI" in all_mechanisms and sec["kerberos"] is None:
        _fail(ROOT + ".kerberos", "is required because a listener uses gssapi (the brokers' service principal and keytab)")
    if "OAUTHBEARER" in all_mechanisms and (sec["oauthbearer"] is None or sec["oauthbearer"]["jwks_endpoint_url"] is None):
        _fail(ROOT + ".oauthbearer.jwks_endpoint_url", "is required because a listener uses oauthbearer (brokers validate tokens against it)")

    creds = sec["credentials"]
    roles = (("inter_broker_listener", "broker", "brokers replicate"),
             ("controller_listener", "controller", "brokers and controllers talk to the controller quorum"))
    for key, who, why in roles:
        name = sec[key]
        if name is None:
            continue
        listener = next(lsn for lsn in sec["listeners"] if lsn["name"] == name)
        mechanisms = _sasl(listener)
        if not mechanisms:
            continue
        mechanism = mechanisms[0]
        if key == "controller_listener" and mechanism in SCRAM_MECHANISMS:
            _fail(_listener_path(sec, name) + ".authentication",
                  "%s cannot be the first mechanism of the controller listener: KRaft controllers cannot "
                  "authenticate each other with SCRAM (the credentials live in the metadata log they serve, "
                  "KAFKA-15513); put plain, gssapi, oauthbearer first or use mtls" % mechanism.lower())
        if mechanism == "GSSAPI":
            continue  # the process authenticates with its own service principal (platform_security.kerberos)
        if not _has_material(creds[who], mechanism):
            _fail("%s.credentials.%s" % (ROOT, who),
                  "%s is required because %s over %s with SASL mechanism %s"
                  % (_needs(mechanism), why, name, mechanism))
        if mechanism == "OAUTHBEARER" and sec["oauthbearer"]["token_endpoint_url"] is None:
            _fail(ROOT + ".oauthbearer.token_endpoint_url", "is required because %s over %s with OAUTHBEARER" % (why, name))

    admin = next(lsn for lsn in sec["listeners"] if lsn["name"] == sec["admin_listener"])
    mechanisms = _sasl(admin)
    identity = creds["admin"]
    if mechanisms and not any(_has_material(identity, m) for m in mechanisms):
        _fail(ROOT + ".credentials.admin", "%s is required because this collection's admin client connects to %s (SASL mechanism %s)"
              % (_needs(mechanisms[0]), admin["name"], mechanisms[0]))
    if "mtls" in admin["authentication"] and (identity is None or identity["keystore"] is None):
        _fail(ROOT + ".credentials.admin.keystore", "is required because this collection's admin client connects to %s, which uses mtls"
              % admin["name"])


def _check_authorizer(sec):
    if not sec["authorizer"]["enabled"]:
        return
    for key in ("inter_broker_listener", "controller_listener"):
        name = sec[key]
        if name is None:
            continue
        listener = next(lsn for lsn in sec["listeners"] if lsn["name"] == name)
        if listener["authentication"] == ["none"]:
            _fail(ROOT + ".authorizer.enabled",
                  "the authorizer needs authenticated brokers, but %s %s has no authentication, so brokers "
                  "would connect as User:ANONYMOUS; use mtls or a SASL mechanism on %s"
                  % (key.replace("_", " "), name, name))


# --------------------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------------------

def _quote(value, path):
    """A JAAS option value in double quotes, escaped for Kafka's JAAS parser."""
    if _CONTROL.search(value):
        _fail(path, "must not contain control characters")
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def _jaas(module, options):
    parts = [module, "required"]
    for key, value in options:
        parts.append("%s=%s" % (key, value if value in ("true", "false") else _quote(value, key)))
    return " ".join(parts) + ";"


def _substitute(value, host, path):
    if value is None or HOST_PLACEHOLDER not in value:
        return value
    if not host:
        _fail(path, "uses %s but no host was given" % HOST_PLACEHOLDER)
    return value.replace(HOST_PLACEHOLDER, host)


def _store_properties(prefix, keystore, truststore, host, path):
    props = {}
    if keystore is not None:
        if keystore["path"] is not None:
            props[prefix + "ssl.keystore.location"] = _substitute(keystore["path"], host, path + ".keystore.path")
        else:
            props[prefix + "ssl.keystore.certificate.chain"] = keystore["certificate_chain"]
            props[prefix + "ssl.keystore.key"] = keystore["key"]
        props[prefix + "ssl.keystore.type"] = keystore["type"]
        if keystore["password"] is not None:
            props[prefix + "ssl.keystore.password"] = keystore["password"]
        if keystore["key_password"] is not None:
            props[prefix + "ssl.key.password"] = keystore["key_password"]
    if truststore is not None:
        if truststore["path"] is not None:
            props[prefix + "ssl.truststore.location"] = _substitute(truststore["path"], host, path + ".truststore.path")
        else:
            props[prefix + "ssl.truststore.certificates"] = truststore["certificates"]
        props[prefix + "ssl.truststore.type"] = truststore["type"]
        if truststore["password"] is not None:
            props[prefix + "ssl.truststore.password"] = truststore["password"]
    return props


def _tls_common(tls):
    props = {"ssl.endpoint.identification.algorithm": "https" if tls["endpoint_identification"] else ""}
    if tls["protocols"]:
        props["ssl.enabled.protocols"] = ",".join(tls["protocols"])
    if tls["cipher_suites"]:
        props["ssl.cipher.suites"] = ",".join(tls["cipher_suites"])
    return props


def _format_host(host):
    if ":" in host and not host.startswith("["):
        return "[%s]" % host
    return host


def _password_users(sec, names, with_users):
    """(username, password) pairs of the cluster identities ``names`` (and the extra users)."""
    creds = sec["credentials"]
    users = []
    for identity in [creds[n] for n in names] + (creds["users"] if with_users else []):
        if identity is not None and identity["username"] is not None:
            pair = (identity["username"], identity["password"])
            if pair not in users:
                users.append(pair)
    return users


def _kerberos_options(principal, keytab):
    return [("useKeyTab", "true"), ("storeKey", "true"), ("keyTab", keytab), ("principal", principal)]


def _server_jaas(sec, listener, mechanism, client_identity, serve, host, path):
    """JAAS of one mechanism of a listener.

    ``serve``: the process accepts connections on the listener (PLAIN then lists its
    users); ``client_identity``: the identity it logs in with when it connects to the
    listener itself (inter-broker or controller traffic), else ``None``.
    """
    module = LOGIN_MODULES[mechanism]
    if mechanism == "GSSAPI":
        kerberos = sec["kerberos"]
        principal = _substitute(kerberos["principal"], host, ROOT + ".kerberos.principal")
        keytab = _substitute(kerberos["keytab"], host, ROOT + ".kerberos.keytab")
        return _jaas(module, _kerberos_options(principal, keytab))
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
            _fail(path + ".authentication", "plain needs at least one user to check passwords against: define %s.credentials" % ROOT)
        options += [("user_" + name, password) for name, password in users]
    return _jaas(module, options)


def _cluster_usernames(sec, names):
    creds = sec["credentials"]
    return [creds[n]["username"] for n in names if creds[n] is not None and creds[n]["username"] is not None]


# --------------------------------------------------------------------------------------
# Kafka server
# --------------------------------------------------------------------------------------

_NODE_KEYS = ("roles", "host", "advertised", "zookeeper_mode", "migration")


def _node(node):
    path = "node"
    raw = _mapping(node, path, _NODE_KEYS)
    roles = raw.get("roles")
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, (list, tuple)) or not roles:
        _fail(path + ".roles", "must be a non-empty list of broker and/or controller")
    for role in roles:
        if role not in ROLES:
            _fail(path + ".roles", "%r is not a role; use broker and/or controller" % (role,))
    advertised = raw.get("advertised") or {}
    if not isinstance(advertised, dict):
        _fail(path + ".advertised", "must be a mapping of listener name to host/port")
    checked = {}
    for name, value in advertised.items():
        entry = _mapping(value, "%s.advertised.%s" % (path, name), ("host", "port"))
        checked[name] = {
            "host": _string(entry.get("host"), "%s.advertised.%s.host" % (path, name)),
            "port": _port(entry.get("port"), "%s.advertised.%s.port" % (path, name), required=False),
        }
    zk_mode = _boolean(raw.get("zookeeper_mode"), path + ".zookeeper_mode", False)
    if zk_mode and "controller" in roles:
        _fail(path + ".roles", "a ZooKeeper-mode node is a broker only; controllers exist in KRaft mode")
    return {
        "roles": list(roles),
        "host": _string(raw.get("host"), path + ".host"),
        "advertised": checked,
        "zookeeper_mode": zk_mode,
        "migration": _boolean(raw.get("migration"), path + ".migration", False),
    }


def server_properties(description, node):
    """Security-related ``server.properties`` of one Kafka process, all values strings.

    ``node``: ``roles`` (broker and/or controller), ``host`` (advertised host name),
    optional ``advertised`` (per-listener ``host``/``port`` overrides) and optional
    ``zookeeper_mode`` (a 3.9 ZooKeeper-mode broker: no controller listener) and optional
    ``migration`` (ZooKeeper-to-KRaft migration: a ZooKeeper-mode broker also reaches the controller
    listener; a controller also reaches ZooKeeper and the brokers' inter-broker listener).
    """
    sec = normalize(description)
    node = _node(node)
    is_broker = "broker" in node["roles"]
    is_controller = "controller" in node["roles"]
    zk_mode = node["zookeeper_mode"]
    migration = node["migration"]
    controller = None if zk_mode and not migration else sec["controller_listener"]
    if not zk_mode and controller is None:
        _fail(ROOT + ".controller_listener", "is required for KRaft nodes (set node.zookeeper_mode for a ZooKeeper-mode broker)")
    if migration and controller is None:
        _fail(ROOT + ".controller_listener", "is required to migrate to KRaft (brokers reach the controllers on it)")
    by_name = {lsn["name"]: lsn for lsn in sec["listeners"]}
    for name in node["advertised"]:
        if name not in by_name:
            _fail("node.advertised." + name, "listener %s is not defined in %s.listeners" % (name, ROOT))

    served = [lsn for lsn in sec["listeners"]
              if (is_broker and lsn["name"] != sec["controller_listener"]) or (is_controller and lsn["name"] == controller)]
    known = list(served)
    if is_broker and controller is not None and by_name[controller] not in known:
        known.append(by_name[controller])
    inter_broker = sec["inter_broker_listener"]
    # a migrating controller sends requests to the ZooKeeper-mode brokers on their inter-broker listener
    migrating_controller = is_controller and migration
    if migrating_controller and by_name[inter_broker] not in known:
        known.append(by_name[inter_broker])

    props = {
        "listeners": ",".join("%s://%s:%d" % (lsn["name"], _format_host(lsn["bind_address"]), lsn["port"]) for lsn in served),
        "listener.security.protocol.map": ",".join("%s:%s" % (lsn["name"], lsn["protocol"]) for lsn in known),
    }
    if is_broker:
        advertised = []
        for listener in served:
            if listener["name"] == controller:
                continue  # clients never reach controllers through advertised.listeners
            override = node["advertised"].get(listener["name"], {})
            host = override.get("host") or listener["advertised_host"] or node["host"]
            if not host:
                _fail("node.host", "is required: listener %s has no advertised_host" % listener["name"])
            port = override.get("port") or listener["advertised_port"]
            advertised.append("%s://%s:%d" % (listener["name"], _format_host(host), port))
        props["advertised.listeners"] = ",".join(advertised)
        props["inter.broker.listener.name"] = inter_broker
    if migrating_controller:
        props["inter.broker.listener.name"] = inter_broker
    if controller is not None:
        props["controller.listener.names"] = controller

    creds = sec["credentials"]
    uses_tls = False
    gssapi = False
    oauth_server = False
    oauth_client = False
    for listener in known:
        lower = listener["name"].lower()
        prefix = "listener.name.%s." % lower
        path = _listener_path(sec, listener["name"])
        is_served = listener in served
        client_of = None  # (identity name, mechanism) when this process connects to the listener as a client
        mechanisms = _sasl(listener)
        if listener["name"] == inter_broker and (is_broker or migrating_controller):
            client_of = "broker"
        if listener["name"] == controller:
            client_of = "controller"
        if mechanisms and client_of is not None:
            key = "sasl.mechanism.inter.broker.protocol" if client_of == "broker" else "sasl.mechanism.controller.protocol"
            props[key] = mechanisms[0]
        if mechanisms and is_served:
            props[prefix + "sasl.enabled.mechanisms"] = ",".join(mechanisms)
        for index, mechanism in enumerate(mechanisms):
            as_client = client_of is not None and index == 0
            if not is_served and not as_client:
                continue
            identity = creds[client_of] if as_client and mechanism != "GSSAPI" else None
            mech_prefix = prefix + mechanism.lower() + "."
            props[mech_prefix + "sasl.jaas.config"] = _server_jaas(sec, listener, mechanism, identity, is_served,
                                                                   node["host"], path)
            if mechanism == "GSSAPI":
                gssapi = True
            if mechanism == "OAUTHBEARER":
                if is_served:
                    oauth_server = True
                    props[mech_prefix + "sasl.server.callback.handler.class"] = OAUTH_VALIDATOR_HANDLER
                if as_client:
                    oauth_client = True
                    props[mech_prefix + "sasl.login.callback.handler.class"] = OAUTH_LOGIN_HANDLER
        if listener["protocol"] in TLS_PROTOCOLS:
            uses_tls = True
            keystore, truststore = _effective_tls(sec, listener)
            props.update(_store_properties(prefix, keystore, truststore, node["host"], path + ".tls"))
            if "mtls" in listener["authentication"] and is_served:
                props[prefix + "ssl.client.auth"] = "required"
    if uses_tls:
        props.update(_tls_common(sec["tls"]))
    if gssapi:
        props["sasl.kerberos.service.name"] = sec["kerberos"]["service_name"]
    oauth = sec["oauthbearer"]
    if oauth_server:
        props["sasl.oauthbearer.jwks.endpoint.url"] = oauth["jwks_endpoint_url"]
        if oauth["expected_audience"]:
            props["sasl.oauthbearer.expected.audience"] = ",".join(oauth["expected_audience"])
        if oauth["expected_issuer"]:
            props["sasl.oauthbearer.expected.issuer"] = oauth["expected_issuer"]
        if oauth["scope_claim_name"]:
            props["sasl.oauthbearer.scope.claim.name"] = oauth["scope_claim_name"]
        if oauth["sub_claim_name"]:
            props["sasl.oauthbearer.sub.claim.name"] = oauth["sub_claim_name"]
    if oauth_client:
        props["sasl.oauthbearer.token.endpoint.url"] = oauth["token_endpoint_url"]
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
    if zk_mode or migration:
        props.update(_zookeeper_client_properties(sec, node["host"]))
    return props


def _zookeeper_client_properties(sec, host):
    zk = sec["zookeeper"]
    props = {"zookeeper.set.acl": "true" if zk["set_acl"] else "false"}
    if zk["tls"]:
        props["zookeeper.ssl.client.enable"] = "true"
        props["zookeeper.clientCnxnSocket"] = ZK_NETTY_CLIENT
        path = ROOT + ".zookeeper"
        if zk["authentication"] == "mtls":
            store = zk["keystore"]
            props["zookeeper.ssl.keystore.location"] = _substitute(store["path"], host, path + ".keystore.path")
            props["zookeeper.ssl.keystore.type"] = store["type"]
            if store["password"] is not None:
                props["zookeeper.ssl.keystore.password"] = store["password"]
        store = zk["truststore"]
        if store is not None:
            props["zookeeper.ssl.truststore.location"] = _substitute(store["path"], host, path + ".truststore.path")
            props["zookeeper.ssl.truststore.type"] = store["type"]
            if store["password"] is not None:
                props["zookeeper.ssl.truststore.password"] = store["password"]
        props["zookeeper.ssl.endpoint.identification.algorithm"] = "HTTPS" if sec["tls"]["endpoint_identification"] else ""
        if sec["tls"]["protocols"]:
            props["zookeeper.ssl.enabled.protocols"] = ",".join(sec["tls"]["protocols"])
        if sec["tls"]["cipher_suites"]:
            props["zookeeper.ssl.cipher.suites"] = ",".join(sec["tls"]["cipher_suites"])
    return props


# --------------------------------------------------------------------------------------
# Kafka clients
# --------------------------------------------------------------------------------------

def _resolve_identity(sec, identity, path="identity"):
    creds = sec["credentials"]
    if identity is None or isinstance(identity, dict):
        return _identity(identity, path) if isinstance(identity, dict) else None
    if not isinstance(identity, str):
        _fail(path, "must be a mapping or the name of an identity in %s.credentials" % ROOT)
    if identity in IDENTITY_NAMES:
        if creds[identity] is None:
            _fail(path, "%s.credentials.%s is not defined" % (ROOT, identity))
        return creds[identity]
    for user in creds["users"]:
        if user["username"] == identity:
            return user
    known = [n for n in IDENTITY_NAMES if creds[n] is not None] + [u["username"] for u in creds["users"]]
    _fail(path, "no identity %r in %s.credentials (known: %s)" % (identity, ROOT, ", ".join(known) or "none"))
    return None


def _client_context(description, client_listener, identity, default_identity, purpose):
    sec = normalize(description)
    name = client_listener
    if name is None:
        name = sec["admin_listener"] if default_identity == "admin" else sec["client_listener"]
    by_name = {lsn["name"]: lsn for lsn in sec["listeners"]}
    if name not in by_name:
        _fail("listener", "%r is not defined in %s.listeners (defined: %s)" % (name, ROOT, ", ".join(by_name)))
    listener = by_name[name]
    if identity is None and default_identity is not None and sec["credentials"][default_identity] is not None:
        identity = default_identity
    resolved = _resolve_identity(sec, identity)
    mechanism = None
    mechanisms = _sasl(listener)
    if mechanisms:
        usable = [m for m in mechanisms if _has_material(resolved, m)]
        if not usable:
            _fail("identity", "%s on listener %s needs an identity with %s (listener mechanisms: %s)"
                  % (purpose, name, " or ".join(sorted(set(_needs(m) for m in mechanisms))), ", ".join(mechanisms)))
        mechanism = usable[0]
    if "mtls" in listener["authentication"] and (resolved is None or resolved["keystore"] is None):
        _fail("identity", "%s on listener %s needs an identity with a keystore (the listener uses mtls)" % (purpose, name))
    return sec, listener, resolved, mechanism


def _client_base(sec, listener, identity, mechanism, host):
    props = {"security.protocol": listener["protocol"]}
    if mechanism is not None:
        props["sasl.mechanism"] = mechanism
        module = LOGIN_MODULES[mechanism]
        if mechanism == "GSSAPI":
            principal = _substitute(identity["principal"], host, "identity.principal")
            keytab = _substitute(identity["keytab"], host, "identity.keytab")
            props["sasl.jaas.config"] = _jaas(module, _kerberos_options(principal, keytab))
            service = sec["kerberos"]["service_name"] if sec["kerberos"] else "kafka"
            props["sasl.kerberos.service.name"] = service
        elif mechanism == "OAUTHBEARER":
            options = [("clientId", identity["client_id"]), ("clientSecret", identity["client_secret"])]
            if identity["scope"]:
                options.append(("scope", identity["scope"]))
            props["sasl.jaas.config"] = _jaas(module, options)
            props["sasl.login.callback.handler.class"] = OAUTH_LOGIN_HANDLER
            token_url = sec["oauthbearer"]["token_endpoint_url"] if sec["oauthbearer"] else None
            if token_url is None:
                _fail(ROOT + ".oauthbearer.token_endpoint_url", "is required for OAUTHBEARER clients")
            props["sasl.oauthbearer.token.endpoint.url"] = token_url
        else:
            props["sasl.jaas.config"] = _jaas(module, [("username", identity["username"]), ("password", identity["password"])])
    if listener["protocol"] in TLS_PROTOCOLS:
        _keystore, truststore = _effective_tls(sec, listener)
        keystore = identity["keystore"] if identity is not None and "mtls" in listener["authentication"] else None
        props.update(_store_properties("", keystore, truststore, host, "identity"))
        props.update(_tls_common(sec["tls"]))
    return props


def client_properties(description, client, listener=None, identity=None, host=None):
    """Kafka client properties (strings) for ``client``, one of :data:`CLIENT_KINDS`.

    ``listener`` defaults to ``admin_listener`` for ``admin`` and ``client_listener`` for
    the others. ``identity`` is a mapping (username/password, principal/keytab,
    client_id/client_secret, keystore) or the name of an identity in ``credentials``
    (``admin``, ``broker``, ``controller`` or a ``users`` username); ``admin`` defaults
    to ``credentials.admin``. ``host`` replaces ``{host}`` in paths and principals.
    """
    if client not in CLIENT_KINDS:
        _fail("client", "%r is not a client kind; use one of %s" % (client, ", ".join(CLIENT_KINDS)))
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


def kafka_python_client_config(description, listener=None, identity=None, host=None):
    """Keyword arguments for kafka-python (3.x) clients: security settings only.

    Defaults to ``admin_listener`` and ``credentials.admin``. kafka-python reads PEM
    files only: the CA comes from ``tls.ca_file`` (or a PEM truststore path) and an mTLS
    identity needs a PEM keystore file holding the certificate chain and private key.
    """
    sec, chosen, resolved, mechanism = _client_context(description, listener, identity, "admin", "kafka-python")
    config = {"security_protocol": chosen["protocol"]}
    if mechanism is not None:
        if mechanism == "OAUTHBEARER":
            _fail("listener", "%s offers only OAUTHBEARER for this identity; kafka-python needs a token provider "
                              "object for it: point %s.admin_listener at a listener with another mechanism"
                  % (chosen["name"], ROOT))
        config["sasl_mechanism"] = mechanism
        if mechanism == "GSSAPI":
            config["sasl_kerberos_service_name"] = sec["kerberos"]["service_name"] if sec["kerberos"] else "kafka"
        else:
            config["sasl_plain_username"] = resolved["username"]
            config["sasl_plain_password"] = resolved["password"]
    if chosen["protocol"] in TLS_PROTOCOLS:
        config["ssl_check_hostname"] = sec["tls"]["endpoint_identification"]
        _keystore, truststore = _effective_tls(sec, chosen)
        ca_file = sec["tls"]["ca_file"]
        if chosen["tls"] and chosen["tls"]["truststore"] is not None:
            own = chosen["tls"]["truststore"]
            ca_file = own["path"] if own["type"] == "PEM" and own["path"] else None
        if truststore is not None and ca_file is None:
            _fail(ROOT + ".tls.ca_file", "kafka-python reads a PEM CA file only, and the truststore of %s is %s; "
                                         "set tls.ca_file to a PEM bundle of the same CA" % (chosen["name"], _describe_store(truststore)))
        if ca_file is not None:
            config["ssl_cafile"] = _substitute(ca_file, host, ROOT + ".tls.ca_file")
        if "mtls" in chosen["authentication"]:
            keystore = resolved["keystore"]
            if keystore["type"] != "PEM" or keystore["path"] is None:
                _fail("identity.keystore", "kafka-python needs a PEM file holding the certificate chain and private key, got %s"
                      % _describe_store(keystore))
            config["ssl_certfile"] = _substitute(keystore["path"], host, "identity.keystore.path")
            if keystore["key_password"] is not None:
                config["ssl_password"] = keystore["key_password"]
    return config


def _describe_store(store):
    return "a %s file" % store["type"] if store["path"] else "inline PEM"


# --------------------------------------------------------------------------------------
# ZooKeeper
# --------------------------------------------------------------------------------------

def zookeeper_properties(description, node=None):
    """ZooKeeper server (``zoo.cfg``) security settings, all values strings.

    ``node`` may give ``host`` to replace ``{host}`` in store paths.
    """
    sec = normalize(description)
    host = None
    if node is not None:
        host = _mapping(node, "node", _NODE_KEYS).get("host")
    zk = sec["zookeeper"]
    path = ROOT + ".zookeeper"
    props = {}
    if zk["client_port"] is not None:
        props["clientPort"] = str(zk["client_port"])

    def stores(prefix):
        out = {}
        keystore = zk["keystore"]
        out[prefix + "keyStore.location"] = _substitute(keystore["path"], host, path + ".keystore.path")
        out[prefix + "keyStore.type"] = keystore["type"]
        if keystore["password"] is not None:
            out[prefix + "keyStore.password"] = keystore["password"]
        truststore = zk["truststore"]
        if truststore is not None:
            out[prefix + "trustStore.location"] = _substitute(truststore["path"], host, path + ".truststore.path")
            out[prefix + "trustStore.type"] = truststore["type"]
            if truststore["password"] is not None:
                out[prefix + "trustStore.password"] = truststore["password"]
        out[prefix + "hostnameVerification"] = "true" if sec["tls"]["endpoint_identification"] else "false"
        if sec["tls"]["protocols"]:
            out[prefix + "enabledProtocols"] = ",".join(sec["tls"]["protocols"])
        if sec["tls"]["cipher_suites"]:
            out[prefix + "ciphersuites"] = ",".join(sec["tls"]["cipher_suites"])
        return out

    if zk["tls"]:
        props["secureClientPort"] = str(zk["secure_client_port"])
        props["serverCnxnFactory"] = ZK_NETTY_SERVER
        props.update(stores("ssl."))
        props["ssl.clientAuth"] = "need" if zk["authentication"] == "mtls" else "none"
    if zk["authentication"] == "mtls":
        props["authProvider.x509"] = ZK_X509_PROVIDER
    if zk["authentication"] == "digest":
        props["authProvider.sasl"] = ZK_SASL_PROVIDER
    if zk["authentication"] != "none":
        props["enforce.auth.enabled"] = "true"
        props["enforce.auth.schemes"] = "x509" if zk["authentication"] == "mtls" else "sasl"
    if zk["quorum_tls"]:
        props["sslQuorum"] = "true"
        props.update(stores("ssl.quorum."))
    if zk["quorum_authentication"] == "digest":
        props["quorum.auth.enableSasl"] = "true"
        props["quorum.auth.learnerRequireSasl"] = "true"
        props["quorum.auth.serverRequireSasl"] = "true"
        props["quorum.auth.learner.saslLoginContext"] = "QuorumLearner"
        props["quorum.auth.server.saslLoginContext"] = "QuorumServer"
    return props


def jaas_file(description, process):
    """Content of the JAAS file a process needs, or ``""`` when it needs none.

    ``process`` is ``zookeeper`` (Server / QuorumServer / QuorumLearner sections for
    digest authentication) or ``kafka`` (the Client section a ZooKeeper-mode broker uses
    to log in to ZooKeeper). Pass the file with ``-Djava.security.auth.login.config``.
    """
    sec = normalize(description)
    zk = sec["zookeeper"]
    creds = zk["credentials"]
    sections = []

    def section(name, options):
        body = " ".join("%s=%s" % (key, _quote(value, ROOT + ".zookeeper.credentials")) for key, value in options)
        sections.append("%s {\n  %s required\n  %s;\n};\n" % (name, ZK_DIGEST_LOGIN_MODULE, body))

    if process == "zookeeper":
        if zk["authentication"] == "digest":
            section("Server", [("user_" + creds["kafka"]["username"], creds["kafka"]["password"])])
        if zk["quorum_authentication"] == "digest":
            quorum = creds["quorum"]
            section("QuorumServer", [("user_" + quorum["username"], quorum["password"])])
            section("QuorumLearner", [("username", quorum["username"]), ("password", quorum["password"])])
    elif process == "kafka":
        if zk["authentication"] == "digest":
            kafka = creds["kafka"]
            section("Client", [("username", kafka["username"]), ("password", kafka["password"])])
    else:
        _fail("process", "%r is not a process; use zookeeper or kafka" % (process,))
    return "".join(sections)


# --------------------------------------------------------------------------------------
# Secrets and bootstrap data
# --------------------------------------------------------------------------------------

def _scram_safe(value, path):
    if "," in value or value != value.strip() or (value.startswith('"') and value.endswith('"')):
        _fail(path, "kafka-storage --add-scram splits on commas and trims spaces and quotes: "
                    "a SCRAM name or password cannot contain a comma nor begin or end with a space or a double quote")


def scram_credentials(description):
    """SCRAM users to create when KRaft storage is formatted (``kafka-storage format --add-scram``).

    One entry per user and SCRAM mechanism used by any listener: ``{"mechanism",
    "username", "argument", "no_log": True}``; ``argument`` holds the password, so pass
    it with ``no_log``.
    """
    sec = normalize(description)
    mechanisms = []
    for listener in sec["listeners"]:
        for mechanism in _sasl(listener):
            if mechanism in SCRAM_MECHANISMS and mechanism not in mechanisms:
                mechanisms.append(mechanism)
    result = []
    creds = sec["credentials"]
    entries = [("%s.credentials.%s" % (ROOT, n), creds[n]) for n in IDENTITY_NAMES]
    entries += [("%s.credentials.users[%d]" % (ROOT, i), u) for i, u in enumerate(creds["users"])]
    seen = set()
    for path, identity in entries:
        if identity is None or identity["username"] is None or identity["username"] in seen:
            continue
        seen.add(identity["username"])
        _scram_safe(identity["username"], path + ".username")
        _scram_safe(identity["password"], path + ".password")
        for mechanism in mechanisms:
            result.append({
                "mechanism": mechanism,
                "username": identity["username"],
                "argument": "%s=[name=%s,password=%s]" % (mechanism, identity["username"], identity["password"]),
                "no_log": True,
            })
    return result


def secret_values(description):
    """Every secret string of the description (passwords, client secrets, private keys)."""
    sec = normalize(description)
    secrets = []

    def add(value):
        if value and value not in secrets:
            secrets.append(value)

    def store(value):
        if value is not None:
            for key in ("password", "key_password", "key"):
                add(value.get(key))

    store(sec["tls"]["keystore"])
    store(sec["tls"]["truststore"])
    for listener in sec["listeners"]:
        if listener["tls"]:
            store(listener["tls"]["keystore"])
            store(listener["tls"]["truststore"])
    creds = sec["credentials"]
    for identity in [creds[n] for n in IDENTITY_NAMES] + creds["users"]:
        if identity is not None:
            add(identity["password"])
            add(identity["client_secret"])
            store(identity["keystore"])
    zk = sec["zookeeper"]
    store(zk["keystore"])
    store(zk["truststore"])
    for identity in zk["credentials"].values():
        if identity is not None:
            add(identity["password"])
    return secrets


def is_secret_property(key):
    """True when a generated property key carries a secret (mark it no_log, hide it in diffs)."""
    return key.endswith(_SECRET_SUFFIXES)


def jvm_system_properties(description):
    """JVM system properties (``-Dkey=value``) the Kafka processes need for this description.

    Kafka 4.0 and later refuse OAuth endpoints that are not listed in
    ``org.apache.kafka.sasl.oauthbearer.allowed.urls``.
    """
    sec = normalize(description)
    props = {}
    oauth = sec["oauthbearer"]
    if oauth is not None:
        urls = [u for u in (oauth["jwks_endpoint_url"], oauth["token_endpoint_url"]) if u]
        if urls:
            props[OAUTH_ALLOWED_URLS_PROPERTY] = ",".join(urls)
    return props
