# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.clients: client property sets per component, and kafka-python's keyword arguments."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._security import clients
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError

DESCRIPTION = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_SSL", "authentication": "scram-sha-512"},
        {"name": "INTERNAL", "port": 9091, "protocol": "SSL", "authentication": "mtls"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
    ],
    "tls": {"keystore": {"path": "/tls/{host}.pem", "type": "PEM"}, "truststore": {"path": "/tls/ca.pem", "type": "PEM"}},
    "credentials": {"broker": {"username": "broker", "password": "b-pw", "keystore": {"path": "/tls/broker.pem", "type": "PEM"}},
                    "admin": {"username": "admin", "password": "a-pw"},
                    "users": [{"username": "connect", "password": "c-pw"}]},
}
SCRAM_JAAS = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="c-pw";'


def refused(message):
    return pytest.raises(SecurityConfigError, match="^" + re.escape(message) + "$")


def test_producer_properties_by_identity_name():
    assert clients.client_properties(DESCRIPTION, "producer", identity="connect") == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": SCRAM_JAAS,
        "ssl.truststore.location": "/tls/ca.pem",
        "ssl.truststore.type": "PEM",
        "ssl.endpoint.identification.algorithm": "https",
    }


@pytest.mark.parametrize("client,prefixes", [
    ("connect", ["", "producer.", "consumer.", "admin."]),
    ("schema_registry", ["kafkastore."]),
    ("ksqldb", ["ksql.streams."]),
])
def test_component_prefixes(client, prefixes):
    base = clients.client_properties(DESCRIPTION, "consumer", identity="connect")
    props = clients.client_properties(DESCRIPTION, client, identity="connect")
    assert props == {prefix + key: value for prefix in prefixes for key, value in base.items()}


def test_an_mtls_identity_brings_its_keystore():
    props = clients.client_properties(DESCRIPTION, "admin", listener="INTERNAL", identity="broker")
    assert props["ssl.keystore.location"] == "/tls/broker.pem"
    assert "sasl.mechanism" not in props


@pytest.mark.parametrize("kwargs,message", [
    ({"client": "streams"}, "client: 'streams' is not a client kind; use one of admin, producer, consumer, connect, schema_registry, ksqldb"),
    ({"client": "producer", "listener": "EXTERNAL"}, "listener: 'EXTERNAL' is not defined in platform_security.listeners "
                                                     "(defined: CLIENT, INTERNAL, CONTROLLER)"),
    ({"client": "producer", "identity": "nobody"}, "identity: no identity 'nobody' in platform_security.credentials "
                                                   "(known: broker, admin, connect)"),
    ({"client": "producer", "identity": "controller"}, "identity: platform_security.credentials.controller is not defined"),
    ({"client": "producer", "identity": 7}, "identity: must be a mapping or the name of an identity in platform_security.credentials"),
    ({"client": "producer"}, "identity: client producer on listener CLIENT needs an identity with username and password "
                             "(listener mechanisms: SCRAM-SHA-512)"),
    ({"client": "admin", "listener": "INTERNAL"}, "identity: client admin on listener INTERNAL needs an identity with a keystore "
                                                  "(the listener uses mtls)"),
])
def test_bad_client_requests(kwargs, message):
    with refused(message):
        clients.client_properties(DESCRIPTION, **kwargs)


def test_kafka_python_reads_pem_files():
    assert clients.kafka_python_client_config(DESCRIPTION) == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "admin",
        "sasl_plain_password": "a-pw", "ssl_check_hostname": True, "ssl_cafile": "/tls/ca.pem"}
    assert clients.kafka_python_client_config(DESCRIPTION, listener="INTERNAL", identity="broker") == {
        "security_protocol": "SSL", "ssl_check_hostname": True, "ssl_cafile": "/tls/ca.pem", "ssl_certfile": "/tls/broker.pem"}


def test_kafka_python_refuses_what_it_cannot_read():
    description = dict(DESCRIPTION, tls={"keystore": {"path": "/k.p12", "password": "pw"},
                                         "truststore": {"path": "/ca.p12", "password": "pw"}})
    with refused("platform_security.tls.ca_file: kafka-python reads a PEM CA file only, and the truststore of CLIENT is a PKCS12 "
                 "file; set tls.ca_file to a PEM bundle of the same CA"):
        clients.kafka_python_client_config(description)
    identity = {"keystore": {"path": "/me.p12", "password": "pw"}}
    with refused("identity.keystore: kafka-python needs a PEM file holding the certificate chain and private key, got a PKCS12 file"):
        clients.kafka_python_client_config(DESCRIPTION, listener="INTERNAL", identity=identity)
