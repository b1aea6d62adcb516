# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.endpoints: ports, TLS files and bootstrap servers as the playbooks ask for them."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._security import endpoints
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError

ADMIN = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT", "advertised_port": 19092},
        {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
        {"name": "ADMIN", "port": 9094, "protocol": "PLAINTEXT", "advertised_port": 29094},
    ],
    "admin_listener": "ADMIN",
}
TOPOLOGY = {"controllers": [], "processes": {},
            "brokers": [{"id": 1, "host": "k1", "address": "10.0.0.1"}, {"id": 2, "host": "k2", "address": "k2.example.com"}]}


def refused(message):
    return pytest.raises(SecurityConfigError, match="^" + re.escape(message) + "$")


@pytest.mark.parametrize("role,advertised,port", [
    ("controller", False, 9093), ("inter_broker", False, 9091), ("client", False, 9092), ("client", True, 19092),
    ("admin", False, 9094), ("admin", True, 29094),
])
def test_listener_port(role, advertised, port):
    assert endpoints.listener_port(ADMIN, role, advertised) == port


def test_listener_port_checks_the_role_before_the_description():
    with refused("role must be one of controller, inter_broker, client, admin, got 'admins'"):
        endpoints.listener_port({"listeners": "bad"}, "admins")


def test_process_ports_are_sorted():
    assert endpoints.process_ports(ADMIN, ["broker"]) == [9091, 9092, 9094]
    assert endpoints.process_ports(None, ["broker", "controller"]) == [9091, 9092, 9093]


def test_tls_files_skip_inline_pem_and_list_the_keytab():
    description = {
        "listeners": [
            {"name": "CLIENT", "port": 9092, "protocol": "SASL_SSL", "authentication": "gssapi",
             "tls": {"truststore": {"certificates": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"}}},
            {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
            {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
        ],
        "tls": {"keystore": {"path": "/tls/{host}.p12", "password": "pw"}, "truststore": {"path": "/tls/ca.p12", "password": "pw"}},
        "kerberos": {"principal": "kafka/{host}@R", "keytab": "/krb/{host}.keytab"},
        "credentials": {"admin": {"principal": "admin@R", "keytab": "/a.keytab"}},
    }
    assert endpoints.tls_files(description) == ["/krb/{host}.keytab", "/tls/{host}.p12"]
    assert endpoints.tls_files(description, host="k1") == ["/krb/k1.keytab", "/tls/k1.p12"]


# --------------------------------------------------------------------------------------------------
# bootstrap servers

def test_bootstrap_servers_are_the_brokers_on_the_advertised_admin_port():
    assert endpoints.bootstrap_servers(TOPOLOGY, ADMIN) == ["10.0.0.1:29094", "k2.example.com:29094"]
    assert endpoints.bootstrap_servers(TOPOLOGY, None) == ["10.0.0.1:9092", "k2.example.com:9092"]


def test_bootstrap_servers_of_some_brokers():
    assert endpoints.bootstrap_servers(TOPOLOGY["brokers"][1:], ADMIN) == ["k2.example.com:29094"]
    assert endpoints.bootstrap_servers((b for b in TOPOLOGY["brokers"] if b["id"] == 1), ADMIN) == ["10.0.0.1:29094"]
    assert endpoints.bootstrap_servers([], ADMIN) == []


@pytest.mark.parametrize("target", ["kubernetes", "openshift"])
def test_the_override_wins_off_vms(target):
    assert endpoints.bootstrap_servers(TOPOLOGY, ADMIN, target, ["lb.example.com:443"]) == ["lb.example.com:443"]
    assert endpoints.bootstrap_servers(TOPOLOGY, ADMIN, target, "a:1, b:2,") == ["a:1", "b:2"]
    assert endpoints.bootstrap_servers(TOPOLOGY, ADMIN, target, []) == ["10.0.0.1:29094", "k2.example.com:29094"]
    # with an override the description is not read, as the role's expression never read it
    assert endpoints.bootstrap_servers(TOPOLOGY, {"listeners": "bad"}, target, ["a:1"]) == ["a:1"]


def test_the_override_is_ignored_on_vms():
    assert endpoints.bootstrap_servers(TOPOLOGY, ADMIN, "vm", ["lb:443"]) == ["10.0.0.1:29094", "k2.example.com:29094"]
    assert endpoints.bootstrap_servers(TOPOLOGY, ADMIN, "vm", {"not": "checked"}) == ["10.0.0.1:29094", "k2.example.com:29094"]


@pytest.mark.parametrize("args,message", [
    ((TOPOLOGY, ADMIN, "k8s"), "target must be one of vm, kubernetes, openshift, got 'k8s'"),
    ((TOPOLOGY, ADMIN, "kubernetes", [1]), "override must be a list of host:port strings, got [1]"),
    (({"brokers": None}, ADMIN), "topology must be the cluster topology or a list of its brokers, got NoneType"),
    (("k1", ADMIN), "topology must be the cluster topology or a list of its brokers, got str"),
    (([{"id": 1}], ADMIN), "brokers[0] has no address"),
    (([{"address": "k1"}], {"listeners": "bad"}), "platform_security.listeners: must be a non-empty list of listeners"),
])
def test_bad_bootstrap_inputs(args, message):
    with refused(message):
        endpoints.bootstrap_servers(*args)
