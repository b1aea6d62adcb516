# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.sections: each section of the description in its canonical form, or refused by path."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._security import sections
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError

PEM_CHAIN = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"


def refused(message):
    return pytest.raises(SecurityConfigError, match="^" + re.escape(message) + "$")


# --------------------------------------------------------------------------------------------------
# stores and TLS

def test_a_keystore_file_defaults_to_pkcs12():
    assert sections.parse_keystore({"path": "/k.p12", "password": "pw"}, "ks") == {
        "path": "/k.p12", "type": "PKCS12", "password": "pw", "key_password": None, "certificate_chain": None, "key": None}


def test_inline_keystores_are_pem():
    store = sections.parse_keystore({"certificate_chain": PEM_CHAIN, "key": PEM_KEY}, "ks")
    assert store["type"] == "PEM" and store["path"] is None


@pytest.mark.parametrize("value,message", [
    ({}, "ks: set path (a keystore file on the host) or certificate_chain and key (PEM content)"),
    ({"path": "/k", "key": PEM_KEY}, "ks: set either path or certificate_chain/key, not both"),
    ({"key": PEM_KEY}, "ks: certificate_chain and key must be given together"),
    ({"path": "/k.pem", "type": "pem", "password": "pw"},
     "ks.password: a PEM keystore has no store password; put the private key password in key_password"),
    ({"path": "/k.jks", "type": "JKS"}, "ks.password: is required for a JKS keystore"),
    ({"path": "/k", "type": "P12", "password": "pw"}, "ks.type: 'P12' is not a store type; use one of PKCS12, JKS, PEM"),
])
def test_bad_keystores(value, message):
    with refused(message):
        sections.parse_keystore(value, "ks")


def test_zookeeper_reads_files_only():
    with refused("zk.keystore: ZooKeeper reads key material from files only: set path instead of certificate_chain/key"):
        sections.parse_keystore({"certificate_chain": PEM_CHAIN, "key": PEM_KEY}, "zk.keystore", files_only=True)
    with refused("zk.truststore: ZooKeeper reads certificates from files only: set path instead of certificates"):
        sections.parse_truststore({"certificates": PEM_CHAIN}, "zk.truststore", files_only=True)
    with refused("zk: ZooKeeper reads key material from files only, and t.keystore holds inline PEM; give zk with a path"):
        sections.files_only({"path": None}, "t.keystore", "zk")


def test_files_only_copies_the_store():
    store = {"path": "/k.p12"}
    assert sections.files_only(store, "a", "b") == store
    assert sections.files_only(store, "a", "b") is not store
    assert sections.files_only(None, "a", "b") is None


def test_a_pem_truststore_is_the_ca_file():
    tls = sections.parse_tls({"truststore": {"path": "/ca.pem", "type": "PEM"}}, "tls")
    assert tls["ca_file"] == "/ca.pem"
    assert tls["endpoint_identification"] is True
    assert sections.parse_tls({"truststore": {"path": "/ca.pem", "type": "PEM"}, "ca_file": "/other.pem"}, "tls")["ca_file"] == "/other.pem"
    assert sections.parse_tls(None, "tls")["ca_file"] is None


def test_tls_protocols_and_ciphers_are_checked():
    with refused("tls.protocols[0]: 'TLS 1.3' is not a valid TLS protocol"):
        sections.parse_tls({"protocols": ["TLS 1.3"]}, "tls")


# --------------------------------------------------------------------------------------------------
# listeners

def test_a_listener_in_canonical_form():
    assert sections.parse_listener({"name": "CLIENT", "port": "9092", "protocol": "sasl_ssl",
                                    "authentication": ["SCRAM-SHA-512", "mtls"]}, "l") == {
        "name": "CLIENT", "port": 9092, "protocol": "SASL_SSL", "authentication": ["scram-sha-512", "mtls"],
        "advertised_host": None, "advertised_port": 9092, "bind_address": "", "tls": None}


@pytest.mark.parametrize("value,protocol,result", [
    (None, "PLAINTEXT", ["none"]),
    ("mtls", "SSL", ["mtls"]),
    (["plain", "gssapi"], "SASL_PLAINTEXT", ["plain", "gssapi"]),
])
def test_authentications(value, protocol, result):
    assert sections.parse_authentication(value, "a", protocol) == result


@pytest.mark.parametrize("value,protocol,message", [
    (None, "SASL_SSL", "a: is required for protocol SASL_SSL: name the SASL mechanism(s), e.g. scram-sha-512"),
    ("plain", "SSL", "a: plain is a SASL mechanism and needs protocol SASL_PLAINTEXT or SASL_SSL, but the protocol is SSL"),
    ("mtls", "PLAINTEXT", "a: mtls needs protocol SSL (or SASL_SSL together with a SASL mechanism), but the protocol is PLAINTEXT"),
    (["mtls"], "SASL_SSL", "a: protocol SASL_SSL needs at least one SASL mechanism (plain, scram-sha-256, scram-sha-512, "
                           "oauthbearer, gssapi)"),
    (["none", "mtls"], "SSL", "a: none cannot be combined with other authentications"),
    (["plain", "PLAIN"], "SASL_SSL", "a[1]: plain is listed twice"),
    ("kerberos", "SASL_SSL", "a: 'kerberos' is not an authentication; use one of none, mtls, plain, scram-sha-256, "
                             "scram-sha-512, oauthbearer, gssapi"),
    ([], "SSL", "a: must be one of none, mtls, plain, scram-sha-256, scram-sha-512, oauthbearer, gssapi or a non-empty list of them"),
])
def test_bad_authentications(value, protocol, message):
    with refused(message):
        sections.parse_authentication(value, "a", protocol)


def test_listener_tls_needs_a_tls_protocol():
    with refused("l.tls: TLS material is only used by SSL and SASL_SSL listeners, but the protocol is PLAINTEXT"):
        sections.parse_listener({"name": "A", "port": 1, "protocol": "PLAINTEXT", "tls": {}}, "l")


# --------------------------------------------------------------------------------------------------
# identities

def test_identities():
    identity = sections.parse_identity({"username": "app", "password": "pw"}, "i")
    assert identity["username"] == "app" and identity["keystore"] is None
    assert sections.parse_identity(None, "i") is None


@pytest.mark.parametrize("value,message", [
    ({"username": "a b", "password": "pw"}, "i.username: 'a b' must not contain spaces, quotes, backslashes or any of , ; ="),
    ({"username": "a"}, "i.password: is required with username"),
    ({"password": "pw"}, "i.username: is required with password"),
    ({"principal": "p"}, "i: principal and keytab (Kerberos) must be given together"),
    ({"client_id": "c"}, "i: client_id and client_secret (OAuth) must be given together"),
    ({"username": "a", "password": "p", "scope": "s"}, "i.scope: is only used with client_id/client_secret"),
    ({"keytab": None}, "i: give username/password, principal/keytab, client_id/client_secret or keystore"),
    ({"client_id": "app-{host}", "client_secret": "s"}, "i.client_id: {host} is only replaced in file paths and Kerberos principals"),
])
def test_bad_identities(value, message):
    with refused(message):
        sections.parse_identity(value, "i")


def test_credentials_keep_one_password_per_user():
    creds = sections.parse_credentials({"admin": {"username": "admin", "password": "pw"},
                                        "users": [{"username": "admin", "password": "pw"}]}, "c")
    assert creds["broker"] is None and [u["username"] for u in creds["users"]] == ["admin"]
    with refused("c.users[0].password: user admin is also defined in c.admin with a different password"):
        sections.parse_credentials({"admin": {"username": "admin", "password": "pw"},
                                    "users": [{"username": "admin", "password": "other"}]}, "c")
    with refused("c.users[1].username: duplicate user app (also c.users[0])"):
        sections.parse_credentials({"users": [{"username": "app", "password": "pw"}, {"username": "app", "password": "pw"}]}, "c")


@pytest.mark.parametrize("users,message", [
    ({"app": {}}, "c.users: must be a list of identities"),
    ([{"keystore": {"path": "/k.pem", "type": "PEM"}}], "c.users[0].username: is required for an entry of users"),
    ([None], "c.users[0].username: is required for an entry of users"),
])
def test_users_have_usernames(users, message):
    with refused(message):
        sections.parse_credentials({"users": users}, "c")


@pytest.mark.parametrize("identity,mechanism,has", [
    (None, "PLAIN", False),
    ({"username": "u", "client_id": None, "principal": None}, "SCRAM-SHA-256", True),
    ({"username": None, "client_id": "c", "principal": None}, "OAUTHBEARER", True),
    ({"username": "u", "client_id": None, "principal": None}, "GSSAPI", False),
    ({"username": None, "client_id": None, "principal": "p"}, "GSSAPI", True),
])
def test_material_per_mechanism(identity, mechanism, has):
    assert sections.has_material(identity, mechanism) is has
    assert sections.MECHANISM_NEEDS[mechanism]


# --------------------------------------------------------------------------------------------------
# authorizer, principal mapping, Kerberos, OAuth

def test_authorizer_defaults_off():
    assert sections.parse_authorizer(None, "a") == {"enabled": False, "super_users": [], "allow_everyone_if_no_acl_found": False}
    with refused("a.super_users[0]: 'admin' is not a valid principal (TYPE:name, e.g. User:admin)"):
        sections.parse_authorizer({"super_users": ["admin"]}, "a")


def test_principal_mapping_rules():
    assert sections.parse_principal_mapping({"ssl": "DEFAULT"}, "m") == {"ssl": ["DEFAULT"], "kerberos": []}
    with refused("m.ssl[0]: 'CN=x' must be DEFAULT or start with RULE:"):
        sections.parse_principal_mapping({"ssl": ["CN=x"]}, "m")
    with refused("m.kerberos[0]: Kafka reads sasl.kerberos.principal.to.local.rules as a comma-separated list, "
                 "so a rule cannot contain a comma"):
        sections.parse_principal_mapping({"kerberos": ["RULE:[1:$1],x"]}, "m")


def test_kerberos_service_name_defaults_to_kafka():
    assert sections.parse_kerberos({"principal": "kafka/{host}@R", "keytab": "/k"}, "k") == {
        "service_name": "kafka", "principal": "kafka/{host}@R", "keytab": "/k"}
    assert sections.parse_kerberos(None, "k") is None
    with refused('k.keytab: must not contain quotes or backslashes'):
        sections.parse_kerberos({"principal": "p", "keytab": '/k"'}, "k")


def test_oauth_urls_and_audiences():
    oauth = sections.parse_oauthbearer({"jwks_endpoint_url": "https://idp/jwks", "expected_audience": "kafka"}, "o")
    assert oauth["expected_audience"] == ["kafka"] and oauth["token_endpoint_url"] is None
    with refused("o.token_endpoint_url: 'ftp://idp' must be an https://, http:// or file:// URL"):
        sections.parse_oauthbearer({"token_endpoint_url": "ftp://idp"}, "o")
    with refused("o.expected_audience[0]: must not contain a comma (Kafka reads a comma-separated list)"):
        sections.parse_oauthbearer({"expected_audience": ["a,b"]}, "o")


# --------------------------------------------------------------------------------------------------
# ZooKeeper

NO_TLS = {"keystore": None, "truststore": None}


def test_zookeeper_defaults():
    zk = sections.parse_zookeeper(None, "zk", NO_TLS)
    assert zk == {"client_port": 2181, "secure_client_port": None, "tls": False, "authentication": "none",
                  "quorum_tls": False, "quorum_authentication": "none", "set_acl": False, "keystore": None,
                  "truststore": None, "credentials": {"kafka": None, "quorum": None}}


def test_zookeeper_tls_takes_the_global_stores_and_acls_follow_authentication():
    tls = {"keystore": {"path": "/k.p12", "type": "PKCS12", "password": "pw", "key_password": None},
           "truststore": {"path": "/t.p12", "type": "PKCS12", "password": "pw"}}
    zk = sections.parse_zookeeper({"tls": True, "secure_client_port": 2182, "authentication": "mtls"}, "zk", tls)
    assert zk["keystore"] == tls["keystore"] and zk["keystore"] is not tls["keystore"]
    assert zk["truststore"] == tls["truststore"]
    assert zk["set_acl"] is True


@pytest.mark.parametrize("value,message", [
    ({"authentication": "sasl"}, "zk.authentication: 'sasl' is not a ZooKeeper client authentication; use none, mtls or digest"),
    ({"quorum_authentication": "mtls"}, "zk.quorum_authentication: 'mtls' is not a quorum authentication; use none or digest"),
    ({"client_port": None}, "zk.client_port: cannot be null unless tls is true (clients would have no port)"),
    ({"tls": True}, "zk.secure_client_port: is required when tls is true"),
    ({"secure_client_port": 2182}, "zk.secure_client_port: is set but tls is false; set tls: true to use it"),
    ({"tls": True, "secure_client_port": 2181}, "zk.secure_client_port: duplicate port 2181 (also client_port)"),
    ({"authentication": "mtls"}, "zk.authentication: mtls needs tls: true"),
    ({"authentication": "digest"}, "zk.credentials.kafka: is required because authentication is digest (the brokers' ZooKeeper user)"),
    ({"quorum_authentication": "digest"}, "zk.credentials.quorum: is required because quorum_authentication is digest"),
    ({"set_acl": True}, "zk.set_acl: ZooKeeper ACLs need an authenticated client: set authentication to mtls or digest"),
    ({"tls": True, "secure_client_port": 2182}, "zk.keystore: is required for ZooKeeper TLS (no keystore here nor in "
                                                "platform_security.tls.keystore)"),
    ({"credentials": {"kafka": {"username": "k,1", "password": "pw"}}},
     "zk.credentials.kafka.username: 'k,1' must not contain spaces, quotes, backslashes or any of , ; ="),
])
def test_bad_zookeeper(value, message):
    with refused(message):
        sections.parse_zookeeper(value, "zk", NO_TLS)
