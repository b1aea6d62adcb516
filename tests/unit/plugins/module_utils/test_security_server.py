# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.server: the node description, and server.properties step by step
(listeners and addresses, per-listener SASL and TLS, cluster-wide settings, principals, ZooKeeper)."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._security import server
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError
from ansible_collections.kafkaops.platform.plugins.module_utils._security.normalize import normalize

CREDENTIALS = {"broker": {"username": "broker", "password": "b-pw"}, "controller": {"username": "controller", "password": "c-pw"},
               "admin": {"username": "admin", "password": "a-pw"}, "users": [{"username": "app", "password": "app-pw"}]}
SASL = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_SSL", "authentication": ["scram-sha-512", "plain"]},
        {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_PLAINTEXT", "authentication": "plain"},
    ],
    "tls": {"keystore": {"path": "/tls/{host}.p12", "password": "ks"}},
    "credentials": CREDENTIALS,
}


def refused(message):
    return pytest.raises(SecurityConfigError, match="^" + re.escape(message) + "$")


def test_nodes_in_canonical_form():
    assert server.parse_node({"roles": "broker"}) == {"roles": ["broker"], "host": None, "advertised": {},
                                                      "zookeeper_mode": False, "migration": False}
    assert server.parse_node({"roles": ["broker"], "advertised": {"CLIENT": {"port": "443"}}})["advertised"] == {
        "CLIENT": {"host": None, "port": 443}}


@pytest.mark.parametrize("node,message", [
    ({}, "node.roles: must be a non-empty list of broker and/or controller"),
    ({"roles": ["broker", "worker"]}, "node.roles: 'worker' is not a role; use broker and/or controller"),
    ({"roles": ["broker"], "advertised": ["CLIENT"]}, "node.advertised: must be a mapping of listener name to host/port"),
    ({"roles": ["controller"], "zookeeper_mode": True}, "node.roles: a ZooKeeper-mode node is a broker only; controllers exist in KRaft mode"),
    ({"roles": ["broker"], "hosts": "x"}, "node.hosts: unknown key (did you mean host?); valid keys: advertised, host, migration, "
                                          "roles, zookeeper_mode"),
])
def test_bad_nodes(node, message):
    with refused(message):
        server.parse_node(node)


def test_property_order_follows_the_steps():
    props = server.server_properties(SASL, {"roles": ["broker"], "host": "b1"})
    keys = list(props)
    assert keys[:5] == ["listeners", "listener.security.protocol.map", "advertised.listeners", "inter.broker.listener.name",
                        "controller.listener.names"]
    assert keys.index("listener.name.client.ssl.keystore.location") < keys.index("ssl.endpoint.identification.algorithm")


def test_a_broker_logs_in_to_the_controller_listener_as_the_controller_identity_without_serving_it():
    props = server.server_properties(SASL, {"roles": ["broker"], "host": "b1"})
    assert props["listeners"] == "CLIENT://:9092,INTERNAL://:9091"
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
    assert props["sasl.mechanism.controller.protocol"] == "PLAIN"
    assert "listener.name.controller.sasl.enabled.mechanisms" not in props
    assert props["listener.name.controller.plain.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="c-pw";')


def test_plain_on_the_controller_listener_lists_only_controller_and_admin():
    jaas = server.server_properties(SASL, {"roles": ["controller"], "host": "c1"})["listener.name.controller.plain.sasl.jaas.config"]
    assert 'user_controller="c-pw"' in jaas and 'user_admin="a-pw"' in jaas
    assert "user_broker" not in jaas and "user_app" not in jaas
    client = server.server_properties(SASL, {"roles": ["broker"], "host": "b1"})["listener.name.client.plain.sasl.jaas.config"]
    assert all('user_%s="' % name in client for name in ("broker", "controller", "admin", "app"))


def test_a_migrating_controller_knows_the_inter_broker_listener():
    props = server.server_properties(SASL, {"roles": ["controller"], "host": "c1", "migration": True})
    assert props["inter.broker.listener.name"] == "INTERNAL"
    assert props["listener.security.protocol.map"] == "CONTROLLER:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT"
    assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert props["zookeeper.set.acl"] == "false"


@pytest.mark.parametrize("node,message", [
    ({"roles": ["broker"], "advertised": {"EXTERNAL": {"host": "x"}}},
     "node.advertised.EXTERNAL: listener EXTERNAL is not defined in platform_security.listeners"),
    ({"roles": ["broker"]}, "node.host: is required: listener CLIENT has no advertised_host"),
])
def test_bad_nodes_for_the_description(node, message):
    with refused(message):
        server.server_properties(SASL, node)


def test_kraft_needs_a_controller_listener():
    zk_mode = {"listeners": [{"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT"},
                             {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"}], "controller_listener": None}
    with refused("platform_security.controller_listener: is required for KRaft nodes (set node.zookeeper_mode for a "
                 "ZooKeeper-mode broker)"):
        server.server_properties(zk_mode, {"roles": ["broker"], "host": "b1"})
    with refused("platform_security.controller_listener: is required to migrate to KRaft (brokers reach the controllers on it)"):
        server.server_properties(zk_mode, {"roles": ["broker"], "host": "b1", "zookeeper_mode": True, "migration": True})
    props = server.server_properties(zk_mode, {"roles": ["broker"], "host": "b1", "zookeeper_mode": True})
    assert "controller.listener.names" not in props


def test_server_jaas_of_gssapi_fills_in_the_host():
    sec = normalize({
        "listeners": [{"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "gssapi"},
                      {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
                      {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"}],
        "kerberos": {"principal": "kafka/{host}@R", "keytab": "/k/{host}.keytab"},
        "credentials": {"admin": {"principal": "admin@R", "keytab": "/a.keytab"}},
    })
    listener = sec["listeners"][0]
    assert server.server_jaas(sec, listener, "GSSAPI", None, True, "b1", "p") == (
        'com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="/k/b1.keytab" '
        'principal="kafka/b1@R";')


def test_plain_needs_users():
    sec = normalize(None)
    listener = {"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": ["plain"], "tls": None}
    with refused("p.authentication: plain needs at least one user to check passwords against: define platform_security.credentials"):
        server.server_jaas(sec, listener, "PLAIN", None, True, "b1", "p")
