# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.listeners: which listener is which, which ones a process serves, which stores they use."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils._security import listeners
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError
from ansible_collections.kafkaops.platform.plugins.module_utils._security.normalize import normalize

FOUR = normalize({
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SSL", "advertised_port": 19092,
         "tls": {"keystore": {"path": "/client.pem", "type": "PEM"}}},
        {"name": "INTERNAL", "port": 9091, "protocol": "SASL_SSL", "authentication": ["mtls", "scram-sha-512", "plain"]},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
        {"name": "ADMIN", "port": 9094, "protocol": "PLAINTEXT"},
    ],
    "admin_listener": "ADMIN",
    "tls": {"keystore": {"path": "/{host}.p12", "password": "pw"}, "truststore": {"path": "/ca.pem", "type": "PEM"}},
    "credentials": {"broker": {"username": "broker", "password": "pw"},
                    "admin": {"username": "admin", "password": "pw", "keystore": {"path": "/a.pem", "type": "PEM"}}},
})
ZK_MODE = normalize({"listeners": [{"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT"},
                                   {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"}],
                     "controller_listener": None})


def names(found):
    return [lsn["name"] for lsn in found]


def test_find_and_name_listeners():
    assert listeners.find_listener(FOUR, "ADMIN")["port"] == 9094
    assert listeners.find_listener(FOUR, "NOPE") is None
    assert listeners.find_listener(ZK_MODE, None) is None
    assert listeners.listener_named(FOUR, "CLIENT")["port"] == 9092
    with pytest.raises(SecurityConfigError, match="^listener NOPE is not defined in platform_security.listeners$"):
        listeners.listener_named(FOUR, "NOPE")


def test_listener_paths():
    assert listeners.listener_path(FOUR, "CLIENT") == "platform_security.listeners[0]"
    assert listeners.listener_path(FOUR, "ADMIN") == "platform_security.listeners[3]"


def test_sasl_mechanisms_keep_the_description_order():
    assert listeners.sasl_mechanisms(listeners.listener_named(FOUR, "INTERNAL")) == ["SCRAM-SHA-512", "PLAIN"]
    assert listeners.sasl_mechanisms(listeners.listener_named(FOUR, "CLIENT")) == []


@pytest.mark.parametrize("role,name", [("controller", "CONTROLLER"), ("inter_broker", "INTERNAL"), ("client", "CLIENT"),
                                       ("admin", "ADMIN")])
def test_role_listeners(role, name):
    assert listeners.role_listener(FOUR, role)["name"] == name


def test_unknown_roles_and_missing_controller_listener():
    with pytest.raises(SecurityConfigError, match="^role must be one of controller, inter_broker, client, admin, got 'broker'$"):
        listeners.role_listener(FOUR, "broker")
    with pytest.raises(SecurityConfigError, match="^listener None is not defined in platform_security.listeners$"):
        listeners.role_listener(ZK_MODE, "controller")


@pytest.mark.parametrize("roles,served", [
    (["broker"], ["CLIENT", "INTERNAL", "ADMIN"]),
    (["controller"], ["CONTROLLER"]),
    (["controller", "broker"], ["CLIENT", "INTERNAL", "CONTROLLER", "ADMIN"]),
    ([], []),
])
def test_served_listeners(roles, served):
    assert names(listeners.served_listeners(FOUR, roles)) == served


def test_without_a_controller_listener_brokers_serve_every_listener():
    assert names(listeners.served_listeners(ZK_MODE, ["broker"])) == ["CLIENT", "INTERNAL"]
    assert listeners.served_listeners(ZK_MODE, ["controller"]) == []


@given(st.lists(st.sampled_from(["broker", "controller"]), unique=True))
def test_brokers_and_controllers_split_the_listeners(roles):
    brokers = names(listeners.served_listeners(FOUR, ["broker"]))
    controllers = names(listeners.served_listeners(FOUR, ["controller"]))
    assert not set(brokers) & set(controllers)
    assert sorted(brokers + controllers) == sorted(lsn["name"] for lsn in FOUR["listeners"])
    served = names(listeners.served_listeners(FOUR, roles))
    assert set(served) == set(brokers if "broker" in roles else []) | set(controllers if "controller" in roles else [])


def test_a_listeners_own_stores_come_before_the_global_ones():
    keystore, truststore = listeners.effective_tls(FOUR, listeners.listener_named(FOUR, "CLIENT"))
    assert keystore["path"] == "/client.pem" and truststore["path"] == "/ca.pem"
    keystore, truststore = listeners.effective_tls(FOUR, listeners.listener_named(FOUR, "INTERNAL"))
    assert keystore["path"] == "/{host}.p12" and truststore["path"] == "/ca.pem"
